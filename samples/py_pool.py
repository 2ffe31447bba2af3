"""py_pool: a multiprocessing Pool of two workers mapping a function.

    python py_pool.py [TASKS]

A Pool(2) maps square_sum() over TASKS numbers (default 8).  Each task
returns the pid of the worker process that ran it; the parent prints
which worker did what and checks the results.  The workers are forked
from the parent (the default start method on Linux up to 3.13; it is
asked for explicitly), so under `gilwatch run` each of them carries the
shim, is tracked on its own and can be dumped by its own pid; with
--output=...%p each process writes its own reports.

With GW_HOLD_FD set, the first two tasks each park in a different worker
until that pipe is closed: the parent learns both workers' pids from
them (through a queue), prints "gw-sample: child PID" for each and
writes "ready\n" to GW_READY_FD, so that a test can dump the workers
while they run.  Without it nothing blocks.

On stderr it names itself ("gw-sample: pid P", "gw-sample: thread main
TID") and its workers ("gw-sample: child PID"); on stdout, the results.
Runs on CPython 3.8 and later.
"""

import multiprocessing
import os
import sys
import threading

from gwsample import say

queue = None        # set in the workers by init()


def init(q):
    global queue
    queue = q


def park(hold_fd):
    while os.read(hold_fd, 4096):   # until the test closes the pipe
        pass


def square_sum(n):
    hold = os.environ.get("GW_HOLD_FD")
    if hold and n < 2:
        # One of the first two tasks: tell the parent who we are, then
        # wait for the test.  The other first task is in the other
        # worker, since this one is busy with this one.
        queue.put(os.getpid())
        park(int(hold))
    return os.getpid(), sum(i * i for i in range(n * 10000))


def main():
    ntasks = int(sys.argv[1]) if len(sys.argv) > 1 else 8
    say("pid %d" % os.getpid())
    say("thread main %d" % threading.get_native_id())
    ctx = multiprocessing.get_context("fork")
    q = ctx.Queue()
    pool = ctx.Pool(2, initializer=init, initargs=(q,))
    res = pool.map_async(square_sum, range(ntasks), chunksize=1)
    if os.environ.get("GW_HOLD_FD"):
        children = {q.get(timeout=60), q.get(timeout=60)}
        for pid in sorted(children):
            say("child %d" % pid)
        fd = os.environ.get("GW_READY_FD")
        if fd:
            os.write(int(fd), b"ready\n")
    results = res.get(timeout=120)
    pool.close()
    pool.join()
    workers = sorted({pid for pid, _ in results})
    for n, (pid, s) in enumerate(results):
        print("task %d: worker %d, sum %d" % (n, pid, s))
    print("workers: %s" % " ".join(map(str, workers)))
    want = [sum(i * i for i in range(n * 10000)) for n in range(ntasks)]
    if [s for _, s in results] != want or os.getpid() in workers:
        print("wrong results", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
