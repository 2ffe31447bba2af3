"""lock_with: a threading.Lock and an RLock held in `with` blocks, a
thread blocked on each.

    python lock_with.py

"holder" first waits on a Condition until the main thread notifies it
(Condition.wait leaves its private lock taken, and drops it), then
enters `with guard:` (a Lock) and within it `with rl:` (an RLock), and
parks on GW_HOLD_FD; "waiter" blocks entering `with
guard:`, "rwaiter" entering `with rl:`.  Once all three have started,
"ready" goes to GW_READY_FD (a test then dumps until both are blocked).
On stderr: "gw-sample: pid P", "gw-sample: thread NAME TID" for each,
and "gw-sample: lock guard|rl 0xADDR" (gwsample.lock_address).
"""

import os
import sys
import threading

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
    "..", "..", "..", "samples"))
from gwsample import lock_address, ready, say  # noqa: E402

guard = threading.Lock()
rl = threading.RLock()
started = threading.Semaphore(0)
woken = threading.Condition()


def hold():
    say("thread holder %d" % threading.get_native_id())
    with woken:
        started.release()
        woken.wait()
    with guard:  # MARK:hold
        with rl:  # MARK:rhold
            started.release()
            while os.read(int(os.environ["GW_HOLD_FD"]), 64):
                pass


def wait():
    say("thread waiter %d" % threading.get_native_id())
    started.release()
    with guard:  # MARK:wait
        pass


def rwait():
    say("thread rwaiter %d" % threading.get_native_id())
    started.release()
    with rl:  # MARK:rwait
        pass


def main():
    say("pid %d" % os.getpid())
    say("lock guard %#x" % lock_address(guard))
    say("lock rl %#x" % lock_address(rl))
    holder = threading.Thread(target=hold, name="holder")
    holder.start()
    started.acquire()
    with woken:     # only once holder waits: it holds woken until then
        woken.notify()
    started.acquire()
    others = [threading.Thread(target=wait, name="waiter"),
        threading.Thread(target=rwait, name="rwaiter")]
    for t in others:
        t.start()
    for _ in others:
        started.acquire()
    ready()
    for t in [holder] + others:
        t.join()


main()
