"""gil_cpu: CPU-bound threads fighting for the GIL.

    python gil_cpu.py [THREADS [ITERATIONS]]

THREADS threads named cruncher-0, cruncher-1, ... (default 2) each run a
pure-Python loop of ITERATIONS steps (default 3000000) and can only
take turns: the GIL lets one of them run at a time, and every switch
interval (sys.getswitchinterval(), 5 ms by default) the waiting one asks
the running one to drop it.  Under `gilwatch run` the exit report shows
a load near 100%, the crunchers sharing it, and many forced switches.

With GW_HOLD_FD set the crunchers loop until that pipe is closed instead
of counting to ITERATIONS, so that a test can dump them while they
fight; "ready\n" goes to GW_READY_FD once every cruncher is looping.
The main thread waits outside the GIL meanwhile (a blocking read).

On stderr it names itself and its threads ("gw-sample: pid P",
"gw-sample: thread NAME TID"); on stdout, what it computed.
Runs on CPython 3.8 and later.
"""

import os
import sys
import threading

from gwsample import say, ready


def wait_release():
    """Block, without the GIL, until the test closes GW_HOLD_FD."""
    fd = int(os.environ["GW_HOLD_FD"])
    while os.read(fd, 4096):
        pass


def crunch(name, iterations, results, started, stop):
    say("thread %s %d" % (name, threading.get_native_id()))
    started.release()
    n = total = 0
    if iterations is None:
        while not stop.is_set():
            for i in range(10000):      # check the flag now and then
                total += i * i % 7
            n += 10000
    else:
        for i in range(iterations):
            total += i * i % 7
        n = iterations
    results[name] = (n, total)


def main():
    nthreads = int(sys.argv[1]) if len(sys.argv) > 1 else 2
    iterations = int(sys.argv[2]) if len(sys.argv) > 2 else 3000000
    hold = "GW_HOLD_FD" in os.environ
    say("pid %d" % os.getpid())
    say("thread main %d" % threading.get_native_id())
    results, stop = {}, threading.Event()
    started = threading.Semaphore(0)
    threads = [threading.Thread(target=crunch, name="cruncher-%d" % i,
        args=("cruncher-%d" % i, None if hold else iterations, results,
        started, stop)) for i in range(nthreads)]
    for t in threads:
        t.start()
    for t in threads:
        started.acquire()
    ready()
    if hold:
        wait_release()
        stop.set()
    for t in threads:
        t.join()
    for name in sorted(results):
        n, total = results[name]
        print("%s: %d steps, sum %d" % (name, n, total))
    if not hold:
        want = sum(i * i % 7 for i in range(iterations))
        bad = [n for n, (_, t) in results.items() if t != want]
        if bad:
            print("wrong sums: %s" % bad, file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
