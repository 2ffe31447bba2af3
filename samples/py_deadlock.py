"""py_deadlock: a lock-order deadlock between two threading.Locks.

    python py_deadlock.py

Thread "locker-a" takes lock A and then wants B; thread "locker-b" takes
B and then wants A.  A Barrier makes sure both hold their first lock
before either asks for its second, so the deadlock happens on every run.
CPython builds threading.Lock on a POSIX semaphore up to 3.13.0 (a
PyMutex from 3.13.1), and each thread waits in sem_wait() (the parking
lot's, from 3.13.1) without the GIL: under `gilwatch run` the cycle is
reported when the second thread blocks, with both threads' Python
frames (take_a_then_b and take_b_then_a, at the lines marked below).

Without gilwatch the program would hang for good, so the main thread
gives up after GW_DEADLOCK_WAIT seconds (default 60) and exits with
status 3 and a message; with GW_HOLD_FD set it waits for that pipe to
be closed instead.  "ready\n" goes to GW_READY_FD just before the
threads block.

On stderr it names itself, its threads and its locks ("gw-sample: pid
P", "gw-sample: thread NAME TID", "gw-sample: lock NAME 0xADDR", the
address being the semaphore under the Lock up to 3.13.0, the Lock
itself from 3.13.1).
"""

import os
import sys
import threading

from gwsample import say, lock_address

A = threading.Lock()
B = threading.Lock()
both_hold_one = threading.Barrier(2)


def take_a_then_b():
    say("thread locker-a %d" % threading.get_native_id())
    with A:
        both_hold_one.wait()
        B.acquire()  # MARK:a_wants_b


def take_b_then_a():
    say("thread locker-b %d" % threading.get_native_id())
    with B:
        both_hold_one.wait()
        fd = os.environ.get("GW_READY_FD")
        if fd:
            os.write(int(fd), b"ready\n")
        A.acquire()  # MARK:b_wants_a


def main():
    say("pid %d" % os.getpid())
    say("thread main %d" % threading.get_native_id())
    say("lock A %#x" % lock_address(A))
    say("lock B %#x" % lock_address(B))
    threads = [threading.Thread(target=take_a_then_b, name="locker-a",
            daemon=True),
        threading.Thread(target=take_b_then_a, name="locker-b",
            daemon=True)]
    for t in threads:
        t.start()
    hold = os.environ.get("GW_HOLD_FD")
    if hold:
        while os.read(int(hold), 4096):
            pass
    else:
        threads[0].join(float(os.environ.get("GW_DEADLOCK_WAIT", "60")))
    print("locker-a and locker-b are deadlocked (as designed); giving up",
        file=sys.stderr, flush=True)
    os._exit(3)


if __name__ == "__main__":
    main()
