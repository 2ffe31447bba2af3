"""What the Python samples share: how they tell a test who they are and
when they are where the test wants them (the Python side of sample.h).

On stderr, one line each, which tests/integration/gwtest.py
sample_info() parses: "gw-sample: pid P", "gw-sample: thread NAME TID",
"gw-sample: lock NAME 0xADDR".  A test passes GW_READY_FD to be told
"ready"; without it nothing is written.
"""

import ctypes
import os
import sys


def say(line):
    # One write(2) per line, so that threads and processes never
    # interleave theirs.
    os.write(2, ("gw-sample: %s\n" % line).encode())


def check(rc, what):
    """A pthread function's return value, called through ctypes: an
    error number raises OSError."""
    if rc != 0:
        raise OSError(rc, "%s: %s" % (what, os.strerror(rc)))


def ready():
    fd = os.environ.get("GW_READY_FD")
    if fd:
        os.write(int(fd), b"ready\n")


def lock_address(lock):
    """The address gilwatch names a threading.Lock or RLock by.  A lock
    made of a semaphore (CPython 3.8-3.13.0, and 3.13's RLock) by the
    semaphore under it: the object header (16 bytes, 32 in a
    free-threaded build) is followed by the PyThread_type_lock, a sem_t
    pointer on Linux.  A lock that is a PyMutex inside the object (3.14+,
    and 3.13.1+'s and 3.13t's Lock) by the object itself (its id(), as
    repr shows).  The two are told apart by that first word: a pointer,
    or the mutex's bits (at most 3)."""
    first = ctypes.c_void_p.from_address(id(lock) +
        object.__basicsize__).value or 0
    return id(lock) if first < 4096 else first


def watchdog(what):
    """Start thread "watchdog", which ends a program that would hang
    for good (a deadlock by design): when GW_HOLD_FD is closed if that
    is set, else after GW_DEADLOCK_WAIT seconds (default 60), it says
    "WHAT are deadlocked (as designed); giving up" and exits with
    status 3."""
    import threading    # here: the other samples' startup stays as it was

    def run():
        hold = os.environ.get("GW_HOLD_FD")
        if hold:
            while os.read(int(hold), 4096):
                pass
        else:
            threading.Event().wait(float(os.environ.get(
                "GW_DEADLOCK_WAIT", "60")))
        print("%s are deadlocked (as designed); giving up" % what,
            file=sys.stderr, flush=True)
        os._exit(3)
    threading.Thread(target=run, name="watchdog", daemon=True).start()
