"""gil_blame: one thread spins in one line while another wakes every
millisecond.

    python gil_blame.py WAKES [--fifo] [--watch=PATH]

Thread "spinner" runs spin(), a pure-Python loop on one line (MARK:spin)
that holds the GIL until the interpreter takes it away.  Thread "waker"
runs WAKES iterations of time.sleep(0.001): each sleep gives the GIL up,
and each wake-up waits for it until the spinner is asked to drop it (a
switch interval).  Nearly all of the waker's GIL wait is the spinner
holding the GIL at that line.  The waker then stops the spinner and the
program ends by itself.

With --fifo the waker first makes itself SCHED_FIFO, priority 10
(os.sched_setscheduler on its own thread), and says "gw-sample: fifo
ok" or, when refused, "gw-sample: fifo refused ERRNO".  With
GW_HOLD_FD set it then writes "ready" and parks on that pipe, so that a
test can take a thread dump, before it starts waking.

With --watch=PATH the waker goes on waking after its WAKES until the
file at PATH (%p: the pid), once it exists, is replaced by another
(gilwatch's --metrics rewrites it by a rename: another inode or
time); it keeps the version it saw second in PATH.seen and says
"gw-sample: metrics rewritten", or after WATCH_S seconds without it
says "gw-sample: metrics not rewritten" and the program ends with
status 1.

On stderr: "gw-sample: pid P", "gw-sample: thread NAME TID".
"""

import os
import sys
import threading
import time

from rtsample import go_fifo, run_threads, say

WATCH_S = 20
done = False
failed = False
spinning = threading.Event()


def spin():
    spinning.set()
    while not done: pass  # MARK:spin


def spinner():
    say("thread spinner %d" % threading.get_native_id())
    spin()


def park():
    fd = os.environ.get("GW_HOLD_FD")
    ready = os.environ.get("GW_READY_FD")
    if not fd or not ready:
        return
    os.write(int(ready), b"ready\n")
    while os.read(int(fd), 64):
        pass


def version(f):
    st = os.fstat(f.fileno())
    return st.st_ino, st.st_mtime_ns, st.st_size


def watch(path):
    """Wake every millisecond until the file at path is replaced."""
    end = time.monotonic() + WATCH_S
    first = None
    while time.monotonic() < end:
        time.sleep(0.001)
        try:
            f = open(path, "rb")
        except FileNotFoundError:
            continue
        with f:
            if first is None:
                first = version(f)
            elif version(f) != first:
                with open(path + ".seen", "wb") as out:
                    out.write(f.read())
                say("metrics rewritten")
                return True
    say("metrics not rewritten")
    return False


def waker(wakes, fifo, path):
    global done, failed
    say("thread waker %d" % threading.get_native_id())
    if fifo:
        go_fifo(10)
        park()
    spinning.wait()
    for _ in range(wakes):
        time.sleep(0.001)
    if path is not None and not watch(path):
        failed = True
    done = True


def main():
    say("pid %d" % os.getpid())
    wakes = int(sys.argv[1])
    fifo = "--fifo" in sys.argv[2:]
    path = None
    for a in sys.argv[2:]:
        if a.startswith("--watch="):
            path = a[len("--watch="):].replace("%p", str(os.getpid()))
    run_threads([threading.Thread(target=spinner, name="spinner"),
        threading.Thread(target=waker, name="waker",
            args=(wakes, fifo, path))])
    if failed:
        sys.exit(1)


if __name__ == "__main__":
    main()
