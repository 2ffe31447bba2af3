"""pylocks: a thread blocked on a threading.RLock another thread holds
(taken twice), and a thread joining the holder.

    python pylocks.py

"holder" takes the RLock twice, then parks on GW_HOLD_FD; "waiter"
blocks in rl.acquire(); "joiner" blocks in holder.join().  Once all
three have started, "ready" goes to GW_READY_FD (a test then dumps until
both are blocked).  On stderr: "gw-sample: pid P", and "gw-sample:
thread NAME TID" for each.
"""

import os
import threading

rl = threading.RLock()
started = threading.Semaphore(0)


def say(line):
    os.write(2, ("gw-sample: %s\n" % line).encode())


def hold():
    say("thread holder %d" % threading.get_native_id())
    rl.acquire()  # MARK:take
    rl.acquire()
    started.release()
    while os.read(int(os.environ["GW_HOLD_FD"]), 64):
        pass
    rl.release()
    rl.release()


def wait():
    say("thread waiter %d" % threading.get_native_id())
    started.release()
    with rl:  # MARK:wait
        pass


def join(t):
    say("thread joiner %d" % threading.get_native_id())
    started.release()
    t.join()  # MARK:join


def main():
    say("pid %d" % os.getpid())
    holder = threading.Thread(target=hold, name="holder")
    holder.start()
    started.acquire()
    others = [threading.Thread(target=wait, name="waiter"),
        threading.Thread(target=join, args=(holder,), name="joiner")]
    for t in others:
        t.start()
    for _ in others:
        started.acquire()
    os.write(int(os.environ["GW_READY_FD"]), b"ready\n")
    for t in others:
        t.join()


main()
