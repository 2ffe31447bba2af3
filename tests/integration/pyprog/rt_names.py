"""rt_names: a thread on a deadline keeps the name gilwatch read first.

    python rt_names.py

Two threads, "normal-before" and "fifo-before", each take the GIL a few
times (os.stat: gilwatch reads their threading names then), rename
themselves "...-after", and keep taking the GIL for 1.5 s, longer than
the second after which gilwatch reads a known name again.  "fifo-before" makes
itself SCHED_FIFO, priority 5, before it renames itself: a real-time
thread's name is not read again (each read is tens of system calls
inside its deadline), so the exit report keeps "fifo-before" where it
follows the normal thread to "normal-after".  Says "gw-sample: fifo ok"
or "gw-sample: fifo refused ERRNO".  Ends by itself.

On stderr: "gw-sample: pid P", "gw-sample: thread normal|fifo TID".
"""

import os
import threading
import time

from rtsample import go_fifo, run_threads, say

FOLLOW_S = 1.5


def body(key, fifo):
    say("thread %s %d" % (key, threading.get_native_id()))
    for _ in range(5):
        os.stat(".")    # GIL takes, the name read at the first
    if fifo:
        go_fifo(5)
    me = threading.current_thread()
    me.name = me.name.replace("-before", "-after")
    # Takes of the GIL for FOLLOW_S, paced (not waiting for anything):
    # a real-time thread that spun would starve the other of its CPU.
    end = time.monotonic() + FOLLOW_S
    while time.monotonic() < end:
        time.sleep(0.005)


def main():
    say("pid %d" % os.getpid())
    run_threads([threading.Thread(target=body, args=("normal", False),
        name="normal-before"), threading.Thread(target=body,
        args=("fifo", True), name="fifo-before")])


if __name__ == "__main__":
    main()
