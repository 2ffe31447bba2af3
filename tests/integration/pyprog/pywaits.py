"""pywaits: one thread blocked in each of threading's primitives that are
built on Condition.wait, and one joining a thread that does not end.

    python pywaits.py

Threads (all daemons, so that the program ends when main does):
"cond-waiter" waits on a Condition, "sem-waiter" on a Semaphore(0),
"event-waiter" on an Event, "getter" on an empty queue.Queue, "putter"
on a full Queue(1), "barrier-waiter" on a Barrier(2) as its only party,
"sleeper" on an Event nobody sets and "joiner" in sleeper.join().  Once
every thread has started, "ready" goes to GW_READY_FD; the threads may
still be on their way into their waits (a test dumps until they are
in).  Main then reads GW_HOLD_FD until it closes, and returns.

On stderr: "gw-sample: pid P", "gw-sample: thread NAME TID" for each
thread, and "gw-sample: lock NAME 0xADDR" for each object waited on
(id(), the object's address in CPython): cond; sem, sem_cond; event,
event_cond; getq, getq_not_empty; putq, putq_not_full; barrier,
barrier_cond; sleeper (the Thread object).
"""

import os
import queue
import threading

cond = threading.Condition()
sem = threading.Semaphore(0)
event = threading.Event()
getq = queue.Queue()
putq = queue.Queue(1)
putq.put(None)
barrier = threading.Barrier(2)
never = threading.Event()
started = threading.Semaphore(0)


def say(line):
    os.write(2, ("gw-sample: %s\n" % line).encode())


def begin():
    say("thread %s %d" % (threading.current_thread().name,
        threading.get_native_id()))
    started.release()


def cond_wait():
    begin()
    with cond:
        cond.wait()  # MARK:cond


def sem_wait():
    begin()
    sem.acquire()  # MARK:sem


def event_wait():
    begin()
    event.wait()  # MARK:event


def get():
    begin()
    getq.get()  # MARK:get


def put():
    begin()
    putq.put(None)  # MARK:put


def barrier_wait():
    begin()
    barrier.wait()  # MARK:barrier


def sleep():
    begin()
    never.wait()


def join(t):
    begin()
    t.join()  # MARK:join


def main():
    say("pid %d" % os.getpid())
    objects = {"cond": cond, "sem": sem, "sem_cond": sem._cond,
        "event": event, "event_cond": event._cond, "getq": getq,
        "getq_not_empty": getq.not_empty, "putq": putq,
        "putq_not_full": putq.not_full, "barrier": barrier,
        "barrier_cond": barrier._cond}
    sleeper = threading.Thread(target=sleep, name="sleeper", daemon=True)
    objects["sleeper"] = sleeper
    for name, obj in objects.items():
        say("lock %s %#x" % (name, id(obj)))
    threads = [threading.Thread(target=f, name=n, daemon=True) for f, n in
        [(cond_wait, "cond-waiter"), (sem_wait, "sem-waiter"),
         (event_wait, "event-waiter"), (get, "getter"), (put, "putter"),
         (barrier_wait, "barrier-waiter")]]
    threads += [sleeper, threading.Thread(target=join, args=(sleeper,),
        name="joiner", daemon=True)]
    for t in threads:
        t.start()
    for _ in threads:
        started.acquire()
    os.write(int(os.environ["GW_READY_FD"]), b"ready\n")
    while os.read(int(os.environ["GW_HOLD_FD"]), 64):
        pass


main()
