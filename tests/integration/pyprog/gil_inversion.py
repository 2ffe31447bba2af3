"""gil_inversion: a deadlock between the GIL and a native mutex.

    python gil_inversion.py [LIBRARY]

Through ctypes: a CDLL call drops the GIL for its duration, a PyDLL call
keeps it.  Thread "mutex-holder" locks a pthread mutex `m` through CDLL
(so it waits, if at all, without the GIL), then keeps making CDLL calls
to sched_yield(), each of which drops the GIL and takes it back.  Thread
"gil-holder" waits until `m` is locked, then locks `m` through PyDLL:
it blocks on `m` holding the GIL.  The next time mutex-holder comes back
from sched_yield() it waits for the GIL, which gil-holder holds while it
waits for `m`, which mutex-holder holds: a GIL <-> native lock deadlock,
certain to happen once gil-holder gets the GIL (a switch interval at
most after it asks).

The mutex functions come from LIBRARY when given ("libc.so.6",
"libpthread.so.0": dlopen then dlsym on its handle), else from the
program's global scope (CDLL(None)).

Without gilwatch it would hang for good: faulthandler ends it after
GW_DEADLOCK_WAIT seconds (default 60; it runs without the GIL).  On
stderr it names itself, its threads and `m` ("gw-sample: ...").
"""

import ctypes
import faulthandler
import os
import sys
import threading

faulthandler.dump_traceback_later(float(os.environ.get("GW_DEADLOCK_WAIT",
    "60")), exit=True)

LIBRARY = sys.argv[1] if len(sys.argv) > 1 else None
libc = ctypes.CDLL(LIBRARY)        # calls drop the GIL
libc_gil = ctypes.PyDLL(LIBRARY)   # calls keep it
m = ctypes.create_string_buffer(64)   # pthread_mutex_t, zeroed: default
locked = threading.Event()


def say(line):
    os.write(2, ("gw-sample: %s\n" % line).encode())


def mutex_holder():
    say("thread mutex-holder %d" % threading.get_native_id())
    libc.pthread_mutex_lock(m)  # MARK:lock_m
    locked.set()
    while True:
        libc.sched_yield()  # MARK:wants_gil


def gil_holder():
    say("thread gil-holder %d" % threading.get_native_id())
    locked.wait()
    libc_gil.pthread_mutex_lock(m)  # MARK:wants_m


def main():
    say("pid %d" % os.getpid())
    say("thread main %d" % threading.get_native_id())
    say("lock m %#x" % ctypes.addressof(m))
    threads = [threading.Thread(target=mutex_holder, name="mutex-holder",
            daemon=True),
        threading.Thread(target=gil_holder, name="gil-holder", daemon=True)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return 0


if __name__ == "__main__":
    sys.exit(main())
