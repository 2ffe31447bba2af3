"""lonely: a Python program that never starts a thread.  It takes a
threading.Lock in a `with` block, says ready and parks on GW_HOLD_FD
inside it (the function `parked`), then exits 0.  gilwatch must leave
it single-threaded and still dump it on the dump signal."""

import os
import sys
import threading

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
    "..", "..", "..", "samples"))
from gwsample import ready, say  # noqa: E402


def parked():
    fd = int(os.environ["GW_HOLD_FD"])
    ready()
    while os.read(fd, 64):
        pass


say("pid %d" % os.getpid())
with threading.Lock():
    parked()
