"""parked: N threads (argv[1], 10 by default) parked in waits nobody
ends, for the dumps of many threads (bench/outside-dump, the read
counts of test_outside): the even ones in Queue.get on one empty
queue.Queue, the odd ones in Event.wait on one Event nobody sets.

    python parked.py N

Threads are daemons named "parked-I".  Once each has said it is about
to wait, "ready" goes to GW_READY_FD (the last ones may still be on
their way into the wait: a caller that needs them parked looks at
/proc).  Main then reads GW_HOLD_FD until it closes, and returns.
"""

import os
import queue
import sys
import threading

q = queue.Queue()
never = threading.Event()
started = threading.Semaphore(0)


def parked(i):
    started.release()
    if i % 2 == 0:
        q.get()
    else:
        never.wait()


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10
    threading.stack_size(256 * 1024)
    for i in range(n):
        threading.Thread(target=parked, args=(i,), name="parked-%d" % i,
            daemon=True).start()
    for i in range(n):
        started.acquire()
    fd = os.environ.get("GW_READY_FD")
    if fd:
        os.write(int(fd), b"ready\n")
    hold = os.environ.get("GW_HOLD_FD")
    if hold:
        while os.read(int(hold), 1):
            pass


main()
