"""abba_with: two threading.Locks taken in opposite orders, every one
in a `with` block.

    python abba_with.py

"locker-a" enters `with A:` and then `with B:`, "locker-b" `with B:`
and then `with A:`; a Barrier makes sure both hold their first before
either asks for its second, so they deadlock on every run, as soon as
the second blocks.  "ready" goes to GW_READY_FD just before locker-b
asks for A.  Without gilwatch it would hang for good: faulthandler ends
it after GW_DEADLOCK_WAIT seconds (default 60).  On stderr:
"gw-sample: pid P", "gw-sample: thread NAME TID" for both threads,
"gw-sample: lock A|B 0xADDR" (gwsample.lock_address).
"""

import faulthandler
import os
import sys
import threading

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
    "..", "..", "..", "samples"))
from gwsample import lock_address, ready, say  # noqa: E402

faulthandler.dump_traceback_later(float(os.environ.get("GW_DEADLOCK_WAIT",
    "60")), exit=True)

A = threading.Lock()
B = threading.Lock()
both_hold_one = threading.Barrier(2)


def a_then_b():
    say("thread locker-a %d" % threading.get_native_id())
    with A:  # MARK:a_holds
        both_hold_one.wait()
        with B:  # MARK:a_wants_b
            pass


def b_then_a():
    say("thread locker-b %d" % threading.get_native_id())
    with B:  # MARK:b_holds
        both_hold_one.wait()
        ready()
        with A:  # MARK:b_wants_a
            pass


def main():
    say("pid %d" % os.getpid())
    say("lock A %#x" % lock_address(A))
    say("lock B %#x" % lock_address(B))
    threads = [threading.Thread(target=a_then_b, name="locker-a"),
        threading.Thread(target=b_then_a, name="locker-b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


main()
