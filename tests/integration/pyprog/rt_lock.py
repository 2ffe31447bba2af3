"""rt_lock: a real-time thread waits for a lock a normal one holds.

    python rt_lock.py

Thread "holder" takes threading.Lock `lk` (MARK:take), says so through
an Event, and keeps it until the waiter says it goes for the lock, then
for 20 ms of sleep (so the wait does not hang on how fast the waiter
woke).  Thread "rt-waiter" makes
itself SCHED_FIFO, priority 5, and waits for `lk`: some 20 ms, while
holder holds it, then for the Event alone never more than a moment.
Says "gw-sample: fifo ok" or "gw-sample: fifo refused ERRNO" (then it
waits as a normal thread).  Ends by itself.

On stderr: "gw-sample: pid P", "gw-sample: thread NAME TID".
"""

import os
import threading
import time

from rtsample import go_fifo, run_threads, say

lk = threading.Lock()
held = threading.Event()
going = threading.Event()


def holder():
    say("thread holder %d" % threading.get_native_id())
    lk.acquire()  # MARK:take
    held.set()
    going.wait(30)
    time.sleep(0.02)
    lk.release()


def rt_waiter():
    say("thread rt-waiter %d" % threading.get_native_id())
    go_fifo(5)
    held.wait()
    going.set()
    with lk:
        pass


def main():
    say("pid %d" % os.getpid())
    run_threads([threading.Thread(target=rt_waiter, name="rt-waiter"),
        threading.Thread(target=holder, name="holder")])


if __name__ == "__main__":
    main()
