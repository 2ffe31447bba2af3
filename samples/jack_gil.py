"""jack_gil: a JACK client whose real-time callback waits for the GIL.

    python3 jack_gil.py [--work=python|numpy|process|none] [--seconds=S]
                        [--server=NAME] [--switch-interval=MS]

A JACK client (python3-jack-client, Debian's /usr/bin/python3) with two
inputs and two outputs; its process callback copies each input to its
output, every period, in JACK's real-time process thread.  Meanwhile
thread "cpu-worker" sums squares in pure Python (--work=python, the
default): it holds the GIL for up to the switch interval (5 ms) at a
time, and the callback, which needs the GIL for every period, waits for
it past the period's deadline (256 frames at 48000 Hz: 5.33 ms): xruns.
The fix: the same sums in NumPy (--work=numpy; the matrix product drops
the GIL) or in another process (--work=process; its own GIL).
--work=none runs the client alone (bench/jack-client).
--switch-interval sets sys.setswitchinterval (default: Python's 5 ms,
hardly under the period, so whether a period is missed then depends on
the machine's speed; the tests take 10 ms, well over it).

It connects to the server NAME (default: $JACK_DEFAULT_SERVER, else
"default"; it never starts one: scripts/jackd-dummy does), runs S
seconds (default 3) after activation, then prints on stdout, one per
line: "xruns N", "callbacks N", "callback p99 us X" (the body's time,
measured inside the callback), "worker rounds N", "work MODE".
"ready\n" goes to GW_READY_FD once the client is active and connected.
On stderr it names itself and its threads ("gw-sample: ..."), the
process callback's as "jack-process" at its first period.

Without the jack module the program prints "skip: ..." and exits 0;
without a server it says so on stderr and exits 3.
"""

import argparse
import multiprocessing
import os
import sys
import threading
import time

from gwsample import say, ready

try:
    import jack
except ImportError as e:
    print("skip: jack (python3-jack-client) is not importable by %s (%s)"
        % (sys.executable, e))
    sys.exit(0)


def crunch(n):
    return sum([i * i for i in range(n)])   # MARK:work, the worker's line


def python_work(stop, counts):
    say("thread cpu-worker %d" % threading.get_native_id())
    while not stop.is_set():
        crunch(20000)
        counts["worker"] += 1


def numpy_work(stop, counts):
    import numpy
    say("thread cpu-worker %d" % threading.get_native_id())
    a = numpy.arange(40000, dtype=numpy.float64).reshape(200, 200)
    while not stop.is_set():
        (a @ a).sum()                   # BLAS, without the GIL
        counts["worker"] += 1


def process_loop(stop, rounds):
    while not stop.is_set():
        crunch(20000)
        with rounds.get_lock():
            rounds.value += 1


def process_work(stop, counts):
    say("thread cpu-worker %d" % threading.get_native_id())
    pstop, rounds = multiprocessing.Event(), multiprocessing.Value("q", 0)
    p = multiprocessing.Process(target=process_loop, args=(pstop, rounds))
    p.start()
    stop.wait()
    pstop.set()
    p.join()
    counts["worker"] = rounds.value


def no_work(stop, counts):
    say("thread cpu-worker %d" % threading.get_native_id())
    stop.wait()


WORK = {"python": python_work, "numpy": numpy_work,
    "process": process_work, "none": no_work}


def p99(samples):
    if not samples:
        return 0.0
    s = sorted(samples)
    return s[min(len(s) - 1, int(len(s) * 0.99))] / 1e3


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--work", choices=sorted(WORK), default="python")
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--server", default=None)
    ap.add_argument("--switch-interval", type=float, default=None,
        metavar="MS")
    args = ap.parse_args()
    if args.switch_interval is not None:
        sys.setswitchinterval(args.switch_interval / 1000)
    if args.work == "numpy":
        os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
        import numpy                    # before activate(): no start-up hold
    say("pid %d" % os.getpid())
    say("thread main %d" % threading.get_native_id())
    try:
        client = jack.Client("jack_gil", servername=args.server,
            no_start_server=True)
    except jack.JackOpenError as e:
        print("jack_gil: no JACK server %s: %s" % (args.server or
            "(default)", e), file=sys.stderr)
        return 3
    ins = [client.inports.register("in_%d" % i) for i in (1, 2)]
    outs = [client.outports.register("out_%d" % i) for i in (1, 2)]
    counts = {"xruns": 0, "callbacks": 0, "worker": 0}
    body_ns = []

    @client.set_process_callback
    def process(frames):
        t0 = time.perf_counter_ns()
        if counts["callbacks"] == 0:
            say("thread jack-process %d" % threading.get_native_id())
        for i, o in zip(ins, outs):
            o.get_buffer()[:] = i.get_buffer()
        counts["callbacks"] += 1
        body_ns.append(time.perf_counter_ns() - t0)

    @client.set_xrun_callback
    def xrun(delay):
        counts["xruns"] += 1

    stop = threading.Event()
    worker = threading.Thread(target=WORK[args.work], name="cpu-worker",
        args=(stop, counts))
    with client:
        for i, port in enumerate(client.get_ports(is_audio=True,
                is_output=True, is_physical=True)[:2]):
            client.connect(port, ins[i])
        for i, port in enumerate(client.get_ports(is_audio=True,
                is_input=True, is_physical=True)[:2]):
            client.connect(outs[i], port)
        worker.start()
        ready()
        stop.wait(args.seconds)         # the run's length, not a sync
        stop.set()
        worker.join()
    print("xruns %d" % counts["xruns"])
    print("callbacks %d" % counts["callbacks"])
    print("callback p99 us %.1f" % p99(body_ns))
    print("worker rounds %d" % counts["worker"])
    print("work %s" % args.work)
    return 0


if __name__ == "__main__":
    sys.exit(main())
