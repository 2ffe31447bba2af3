"""gil_numpy: a thread crunching NumPy without the GIL while another
thread holds it.

    python gil_numpy.py [ROUNDS]

Thread "numpy" multiplies two 300x300 matrices and sorts 200000
floats, ROUNDS times (default 10); NumPy drops the GIL inside both, so
the work runs in parallel with thread "python", which runs a pure-Python
loop (and so holds the GIL) for as long as "numpy" works.  Under
`gilwatch run` the exit report shows "python" holding the GIL most of
the time and "numpy" hardly at all, though it was busy throughout; a
dump catches "numpy" in BLAS or NumPy's sort with the GIL released.

With GW_HOLD_FD set both loop until that pipe is closed; "ready\n" goes
to GW_READY_FD once both have done a round.  OpenBLAS is limited to one
thread (OPENBLAS_NUM_THREADS=1 unless set) so the process has exactly
these threads.

NumPy must be importable: on this machine that is Debian's python3-numpy
for /usr/bin/python3.11 only.  Without it the program prints
"skip: ..." and exits 0.

On stderr it names itself and its threads ("gw-sample: pid P",
"gw-sample: thread NAME TID"); on stdout, what each thread did.
Runs on CPython 3.8 and later.
"""

import os
import sys
import threading

from gwsample import say

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
try:
    import numpy
except ImportError as e:
    print("skip: numpy is not importable by %s %d.%d (%s)" % (
        sys.executable, sys.version_info[0], sys.version_info[1], e))
    sys.exit(0)


def numpy_work(rounds, stop, started, out):
    say("thread numpy %d" % threading.get_native_id())
    rng = numpy.random.default_rng(1)
    a = rng.random((300, 300))
    b = rng.random((300, 300))
    v = rng.random(200000)
    n, check = 0, 0.0
    while (n < rounds) if rounds is not None else not stop.is_set():
        c = a @ b                       # BLAS, without the GIL
        s = numpy.sort(v, kind="quicksort")   # also without the GIL
        check += float(c[0, 0]) + float(s[0])
        n += 1
        if n == 1:
            started.release()
    out["numpy"] = (n, check)
    stop.set()          # with ROUNDS: the python thread stops too


def python_work(stop, started, out):
    say("thread python %d" % threading.get_native_id())
    started.release()
    n = total = 0
    while not stop.is_set():
        for i in range(1000):
            total += i * i % 7
        n += 1
    out["python"] = (n, total)


def main():
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 10
    hold = os.environ.get("GW_HOLD_FD")
    say("pid %d" % os.getpid())
    say("thread main %d" % threading.get_native_id())
    stop, started, out = threading.Event(), threading.Semaphore(0), {}
    threads = [
        threading.Thread(target=numpy_work, name="numpy",
            args=(None if hold else rounds, stop, started, out)),
        threading.Thread(target=python_work, name="python",
            args=(stop, started, out)),
    ]
    for t in threads:
        t.start()
    started.acquire()
    started.acquire()
    fd = os.environ.get("GW_READY_FD")
    if fd:
        os.write(int(fd), b"ready\n")
    if hold:
        while os.read(int(hold), 4096):     # until the test closes it
            pass
        stop.set()
    for t in threads:
        t.join()
    print("numpy: %d rounds (check %.6f)" % out["numpy"])
    print("python: %d loops of 1000 (sum %d)" % out["python"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
