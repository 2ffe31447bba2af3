"""gil_blame: one thread spins in one line while another wakes every
millisecond.

    python gil_blame.py WAKES [--fifo]

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

On stderr: "gw-sample: pid P", "gw-sample: thread NAME TID".
"""

import os
import sys
import threading
import time

done = False
spinning = threading.Event()


def say(line):
    os.write(2, ("gw-sample: %s\n" % line).encode())


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


def waker(wakes, fifo):
    global done
    say("thread waker %d" % threading.get_native_id())
    if fifo:
        try:
            os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(10))
            say("fifo ok")
        except OSError as e:
            say("fifo refused %d" % e.errno)
        park()
    spinning.wait()
    for _ in range(wakes):
        time.sleep(0.001)
    done = True


def main():
    say("pid %d" % os.getpid())
    wakes = int(sys.argv[1])
    fifo = "--fifo" in sys.argv[2:]
    threads = [threading.Thread(target=spinner, name="spinner"),
        threading.Thread(target=waker, name="waker", args=(wakes, fifo))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


if __name__ == "__main__":
    main()
