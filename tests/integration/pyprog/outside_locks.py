"""outside_locks: Python lock waits whose holder a reader from outside
must name, or must not guess (tests/integration/test_outside.py).

    python outside_locks.py RECORD

Threads, by threading name:
  holder        `with L:` then waits on an Event never set
  waiter        `with L:`: blocked, L's holder is holder (inferred)
  bare-waiter   `with M:`: blocked, M was taken by main's bare acquire()
                (nobody can be named)
  c-back        `with C:` C.wait(): notified, blocked taking C's own lock
                (an RLock) back from c-owner
  c-notify      `with C:` C.wait(): waits for a notify that never comes
  c-owner       `with C:` notifies one waiter, then waits on the Event
                with C held

When every thread is where it should be (sys._current_frames() and the
locks' own state), one JSON line goes to RECORD: the version, each
role's ident and native id, id() of L, M and C's lock, the marked lines;
then "ready" to GW_READY_FD.  Main then reads GW_HOLD_FD until it closes
and leaves with os._exit (the blocked threads never end).
"""

import os
import sys
import threading
import time

import scenes

TIMEOUT = float(os.environ.get("ATTACH_TIMEOUT", "30"))
L = threading.Lock()
M = threading.Lock()
C = threading.Condition()
NEVER = threading.Event()
info = {}


def note():
    scenes.note(info)


def holder():
    note()
    with L:
        NEVER.wait()  # MARK:holder


def waiter():
    note()
    with L:  # MARK:waiter
        pass


def bare_waiter():
    note()
    with M:  # MARK:bare
        pass


def cond_waiter():
    note()
    with C:
        C.wait()  # MARK:cwait


def cond_owner():
    note()
    with C:
        C.notify(1)
        NEVER.wait()  # MARK:cowner


def until(what, fn):
    """Poll fn (a state of this process) until true, or leave."""
    end = time.monotonic() + TIMEOUT
    while not fn():
        if time.monotonic() > end:
            print("not placed: %s" % what, file=sys.stderr)
            os._exit(2)
        time.sleep(0.002)   # polling a state, not waiting it out


def top(name):
    """The innermost frame of a role's thread: (function, line)."""
    who = info.get(name)
    f = sys._current_frames().get(who["ident"]) if who else None
    if f is None:
        return None
    co = f.f_code
    return (getattr(co, "co_qualname", co.co_name), f.f_lineno)


def start(name, fn):
    threading.Thread(target=fn, name=name, daemon=True).start()


def main():
    mk = scenes.marks(__file__)
    M.acquire()
    start("holder", holder)
    until("holder", lambda: L.locked() and top("holder") is not None and
        top("holder")[0].endswith("wait"))
    start("waiter", waiter)
    start("bare-waiter", bare_waiter)
    # c-back waits first, so that c-owner's notify(1) wakes it.
    start("c-back", cond_waiter)
    until("c-back", lambda: len(C._waiters) == 1)
    start("c-notify", cond_waiter)
    until("c-notify", lambda: len(C._waiters) == 2)
    start("c-owner", cond_owner)
    until("c-owner", lambda: len(C._waiters) == 1 and
        top("c-owner") is not None and top("c-owner")[0].endswith("wait"))
    until("waiters", lambda: top("waiter") == ("waiter", mk["waiter"]) and
        top("bare-waiter") == ("bare_waiter", mk["bare"]))
    scenes.publish(sys.argv[1], {"version": list(sys.version_info[:3]),
        "info": info, "marks": mk, "L": id(L), "M": id(M),
        "C_lock": id(C._lock)})


main()
