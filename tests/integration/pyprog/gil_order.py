"""gil_order: the GIL and a native mutex taken in both orders, never
deadlocking.

    python gil_order.py [both|gil-first|mutex-first]

Through ctypes: a CDLL call drops the GIL for its duration, a PyDLL call
keeps it.  A pthread mutex `m` is taken in two orders, by two threads
that run one after the other (the second starts once the first has been
joined), so the run itself can never deadlock:

  - thread "gil-first" locks `m` through PyDLL: it holds the GIL while it
    takes `m` (the order GIL -> m); it unlocks `m` the same way;
  - thread "mutex-first" locks `m` through CDLL, without the GIL, and on
    its return from the call takes the GIL back while it holds `m` (the
    order m -> GIL); it unlocks `m` through CDLL.

The switch interval is set far longer than the run, so that no thread
is ever made to drop the GIL between two bytecodes: gil-first holds the
GIL from before it locks `m` until after it unlocks it.  (With the
default 5 ms, the main thread, asking for the GIL back as gil-first
starts, could force gil-first to drop the GIL while it holds `m` and
take it again: an order m -> GIL of its own, and a cycle even with
"gil-first" alone.)  No thread ever waits that long: each one lets the
GIL go when it blocks or ends.

Had they run at once, gil-first could wait for `m` holding the GIL while
mutex-first waits for the GIL holding `m` (see gil_inversion.py): a
lock-order validator that counts the GIL as a lock reports the second
order as closing a cycle.

The argument picks the orders: "both" (the default), or only one of them,
"gil-first" or "mutex-first" (no inversion).  The program prints
"done MODE" on stdout and exits 0.  On stderr it names itself, its
threads and `m` ("gw-sample: ...").
"""

import ctypes
import os
import sys
import threading

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
    "..", "..", "..", "samples"))
from gwsample import check, say  # noqa: E402

libc = ctypes.CDLL(None)        # calls drop the GIL
libc_gil = ctypes.PyDLL(None)   # calls keep it
m = ctypes.create_string_buffer(64)   # pthread_mutex_t, zeroed: default


def gil_first():
    """GIL -> m: m locked and unlocked with the GIL held throughout."""
    say("thread gil-first %d" % threading.get_native_id())
    check(libc_gil.pthread_mutex_lock(m), "lock")  # MARK:gil_first
    check(libc_gil.pthread_mutex_unlock(m), "unlock")


def mutex_first():
    """m -> GIL: m locked without the GIL, which this thread takes back
    on the call's return while it holds m."""
    say("thread mutex-first %d" % threading.get_native_id())
    check(libc.pthread_mutex_lock(m), "lock")  # MARK:mutex_first
    check(libc.pthread_mutex_unlock(m), "unlock")


ORDERS = {"gil-first": [gil_first], "mutex-first": [mutex_first],
    "both": [gil_first, mutex_first]}


def main():
    mode = sys.argv[1] if len(sys.argv) > 1 else "both"
    if mode not in ORDERS:
        sys.stderr.write("usage: gil_order.py [%s]\n" % "|".join(ORDERS))
        return 2
    # Longer than the run: no forced GIL switch (see above).
    sys.setswitchinterval(1000.0)
    say("pid %d" % os.getpid())
    say("thread main %d" % threading.get_native_id())
    say("lock m %#x" % ctypes.addressof(m))
    for fn in ORDERS[mode]:
        # One at a time: each thread is joined before the next starts.
        t = threading.Thread(target=fn, name=fn.__name__.replace("_", "-"))
        t.start()
        t.join()
    print("done %s" % mode, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
