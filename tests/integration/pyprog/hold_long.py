"""hold_long: a native mutex held long by Python code, for --hold-warn.

    python hold_long.py

Thread "holder" runs hold(), which locks a pthread mutex `m` through
ctypes (a CDLL call: the GIL is let go for it), keeps it HOLD_S seconds
(the hold being long is the point: nothing waits for it) and unlocks it
in release(), at the line marked MARK:release.  A warning for that hold
names release(), called from hold() (MARK:hold), called from holder().

On stderr: "gw-sample: pid P", "gw-sample: thread holder TID",
"gw-sample: lock m ADDR"; on stdout "done", and the status is 0.
"""

import ctypes
import os
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
    "..", "..", "..", "samples"))
from gwsample import check, say  # noqa: E402

HOLD_S = 0.15

libc = ctypes.CDLL(None)
m = ctypes.create_string_buffer(64)     # pthread_mutex_t, zeroed: default


def release():
    check(libc.pthread_mutex_unlock(m), "unlock")  # MARK:release


def hold():
    check(libc.pthread_mutex_lock(m), "lock")
    time.sleep(HOLD_S)
    release()  # MARK:hold


def holder():
    say("thread holder %d" % threading.get_native_id())
    hold()


def main():
    say("pid %d" % os.getpid())
    say("lock m 0x%x" % ctypes.addressof(m))
    t = threading.Thread(target=holder, name="holder")
    t.start()
    t.join()
    print("done")


if __name__ == "__main__":
    main()
