"""gilwatch integration tests; run.py runs them, gwtest.py helps."""
