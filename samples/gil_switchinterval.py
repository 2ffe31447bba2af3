"""gil_switchinterval: the effect of sys.setswitchinterval on the GIL.

    python gil_switchinterval.py [--only SECONDS] [ITERATIONS]

Two CPU-bound threads (cruncher-0, cruncher-1) each run a pure-Python
loop of ITERATIONS steps (default 2000000), in two phases: first with
sys.setswitchinterval(0.0005), then with sys.setswitchinterval(0.05).
A thread that waits for the GIL asks the holder to drop it after one
interval, so the short interval means about a hundred times more
forced switches, each wait shorter; the long one means few switches and
waits of up to 50 ms.  The program prints, per phase, the interval, the
wall time and how often the crunchers saw the other one run in between
two of their steps (its own rough count of switches).

With --only SECONDS it runs a single phase with that interval, so that
two runs under `gilwatch run` can be compared on the exit report's
switch counts (the report gives the interval that was in force at
exit).

With GW_READY_FD set it writes "ready\n" there before the first phase.
On stderr it names itself and its threads ("gw-sample: pid P",
"gw-sample: thread NAME TID").  Runs on CPython 3.8 and later.
"""

import os
import sys
import threading
import time

from gwsample import say


def crunch(name, iterations, trace, out, gate):
    say("thread %s %d" % (name, threading.get_native_id()))
    gate.wait()         # both start together
    total = switches = 0
    for i in range(iterations):
        total += i * i % 7
        if i & 1023 == 0:
            # The other thread ran since we last looked: a switch.
            if trace[0] != name:
                switches += 1
                trace[0] = name
    out[name] = (total, switches)


def phase(interval, iterations):
    sys.setswitchinterval(interval)
    trace, out = [None], {}
    gate = threading.Barrier(2)
    threads = [threading.Thread(target=crunch, name="cruncher-%d" % i,
        args=("cruncher-%d" % i, iterations, trace, out, gate))
        for i in range(2)]
    start = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.monotonic() - start
    seen = sum(s for _, s in out.values())
    print("switch interval %g s: 2 threads x %d steps in %.3f s, "
        "about %d switches seen from Python" % (sys.getswitchinterval(),
        iterations, wall, seen), flush=True)


def main():
    args = sys.argv[1:]
    intervals = [0.0005, 0.05]
    if args[:1] == ["--only"]:
        intervals = [float(args[1])]
        args = args[2:]
    iterations = int(args[0]) if args else 2000000
    say("pid %d" % os.getpid())
    say("thread main %d" % threading.get_native_id())
    fd = os.environ.get("GW_READY_FD")
    if fd:
        os.write(int(fd), b"ready\n")
    for interval in intervals:
        phase(interval, iterations)
    return 0


if __name__ == "__main__":
    sys.exit(main())
