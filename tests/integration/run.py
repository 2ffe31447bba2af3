#!/usr/bin/env python3
"""Run the integration tests and count them.

    tests/integration/run.py [-k PATTERN ...]

Verbose unittest output, then as the last line
"integration: N passed, N failed, N skipped" (a test counts once, failed
if it or any of its subtests failed).  Exit 1 if anything failed.
GW_BUILD_DIR names the build directory (default: build).
"""

import argparse
import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


class CountingResult(unittest.TextTestResult):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.started, self.failed, self.skipped_ids = [], set(), set()
        self.known_gaps = []

    def startTest(self, test):
        super().startTest(test)
        self.started.append(test.id())

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self.failed.add(test.id())

    def addError(self, test, err):
        super().addError(test, err)
        self.failed.add(test.id())    # also setUpClass & co.

    def addSubTest(self, test, subtest, err):
        super().addSubTest(test, subtest, err)
        if err is not None:
            self.failed.add(test.id())

    def addUnexpectedSuccess(self, test):
        super().addUnexpectedSuccess(test)
        self.failed.add(test.id())

    def addSkip(self, test, reason):
        super().addSkip(test, reason)
        self.skipped_ids.add(test.id())

    def addExpectedFailure(self, test, err):
        # A known gap, marked in the test: not a pass; counted with the
        # skipped and named at the end.
        super().addExpectedFailure(test, err)
        self.skipped_ids.add(test.id())
        self.known_gaps.append(test.id())


def main():
    ap = argparse.ArgumentParser(description="gilwatch integration tests")
    ap.add_argument("-k", dest="patterns", action="append",
        help="only tests whose name matches (unittest -k)")
    args = ap.parse_args()

    sys.path.insert(0, ROOT)
    loader = unittest.TestLoader()
    if args.patterns:
        loader.testNamePatterns = [p if "*" in p else "*%s*" % p
            for p in args.patterns]
    suite = loader.discover(HERE, pattern="test_*.py", top_level_dir=ROOT)
    runner = unittest.TextTestRunner(stream=sys.stdout, verbosity=2,
        resultclass=CountingResult)
    result = runner.run(suite)

    skipped = result.skipped_ids - result.failed
    passed = [t for t in result.started
        if t not in result.failed and t not in skipped]
    failed = len(result.failed)
    for t in result.known_gaps:
        print("known gap (expected failure): %s" % t)
    print("integration: %d passed, %d failed, %d skipped" %
        (len(passed), failed, len(skipped)))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
