"""join_deadlock: a thread joins a thread that waits for a lock the
joiner holds.

    python join_deadlock.py

MainThread takes threading.Lock `lock`, lets "worker" go and joins it;
worker blocks on `lock`.  Up to CPython 3.12 the join waits for the
worker's tstate lock, a lock like any other; from 3.13 it waits on the
thread handle, which no native lock stands for.  Either way, a deadlock
between two threads.

Without gilwatch it would hang for good: faulthandler ends it after
GW_DEADLOCK_WAIT seconds (default 60).  On stderr: "gw-sample: pid P",
"gw-sample: thread NAME TID" for both threads, "gw-sample: lock lock
0xADDR" (gwsample.lock_address) and "gw-sample: lock worker
0xADDR" (id() of the Thread object).
"""

import faulthandler
import os
import sys
import threading

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
    "..", "..", "..", "samples"))
from gwsample import lock_address, say  # noqa: E402

faulthandler.dump_traceback_later(float(os.environ.get("GW_DEADLOCK_WAIT",
    "60")), exit=True)

lock = threading.Lock()
go = threading.Event()


def work():
    say("thread worker %d" % threading.get_native_id())
    go.wait()
    with lock:  # MARK:wants_lock
        pass


def main():
    say("pid %d" % os.getpid())
    say("thread MainThread %d" % threading.get_native_id())
    say("lock lock %#x" % lock_address(lock))
    worker = threading.Thread(target=work, name="worker")
    say("lock worker %#x" % id(worker))
    worker.start()
    with lock:  # MARK:took_lock
        go.set()
        worker.join()  # MARK:joins


main()
