"""attach_scenes: threads stuck in known places, for a reader that looks
at this process from outside (tests/integration/test_pyattach.py).

    python attach_scenes.py RECORD [gil2]

Threads, by threading name:
  holder        spins in pure Python (the only one that wants the GIL)
  sleeper       time.sleep in a method
  abba-1        `with A:` then `with B:`  } a Lock ABBA through `with`
  abba-2        `with B:` then `with A:`  } blocks: both stay blocked
  rowner        holds RLock R in `with R:`, waits on an Event never set
  rwaiter       `with R:`: waits for rowner
  qwaiter       get() on an empty queue.Queue
  joinee        waits on an Event never set
  joiner        joinee.join()
With "gil2", only two spinners instead: spin-a and spin-b.

When every thread is where it should be (seen in sys._current_frames()
and the locks' own state), one JSON line goes to RECORD: the version,
each role's ident and native id, the frames sys._current_frames() shows
for every blocked role (innermost first) and id() of A, B, R; then
"ready" to GW_READY_FD.  Main then reads GW_HOLD_FD until it closes and
leaves with os._exit (the ABBA threads never end).
"""

import json
import os
import queue
import sys
import threading
import time

import scenes

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
    "..", "..", "..", "samples"))
from gwsample import lock_address  # noqa: E402

TIMEOUT = float(os.environ.get("ATTACH_TIMEOUT", "30"))
A = threading.Lock()
B = threading.Lock()
R = threading.RLock()
Q = queue.Queue()
NEVER = threading.Event()
A_HELD = threading.Event()
B_HELD = threading.Event()
info = {}


def note():
    scenes.note(info)


def view():
    return scenes.view(info)


def spin():
    note()
    n = 0
    while True:  # MARK:spin
        n += 1  # MARK:spin2


class Sleeper:
    def nap(self):
        note()
        time.sleep(3600)  # MARK:sleep


def abba(mine, theirs, mine_held, theirs_held):
    note()
    with mine:
        mine_held.set()
        theirs_held.wait(TIMEOUT)
        with theirs:  # MARK:abba
            pass


def rowner():
    note()
    with R:  # MARK:rowner
        NEVER.wait()  # MARK:rowner_wait


def rwaiter():
    note()
    with R:  # MARK:rwaiter
        pass


def qwaiter():
    note()
    Q.get()  # MARK:qwaiter


def joinee():
    note()
    NEVER.wait()  # MARK:joinee


def joiner(t):
    note()
    t.join()  # MARK:joiner


def at(v, name, function):
    return bool(v.get(name)) and v[name][0]["function"] == function


def placed(v, gil2):
    """Is every thread in its place?  Frames alone do not show a thread
    blocked rather than about to block: the locks' state is checked
    too, and the test reads until it sees the waits."""
    if gil2:
        return at(v, "spin-a", "spin") and at(v, "spin-b", "spin")
    cond_wait = "Condition.wait" if sys.version_info >= (3, 11) \
        else "wait"
    return at(v, "holder", "spin") and \
        at(v, "sleeper", "Sleeper.nap" if sys.version_info >= (3, 11)
            else "nap") and \
        at(v, "abba-1", "abba") and at(v, "abba-2", "abba") and \
        v["abba-1"][0]["line"] == MARKS["abba"] and \
        v["abba-2"][0]["line"] == MARKS["abba"] and \
        at(v, "rowner", cond_wait) and at(v, "rwaiter", "rwaiter") and \
        at(v, "qwaiter", cond_wait) and at(v, "joinee", cond_wait) and \
        len(v.get("joiner") or []) > 1 and A.locked() and B.locked()


MARKS = scenes.marks(__file__)


def main():
    gil2 = sys.argv[2:] == ["gil2"]
    if gil2:
        roles = [("spin-a", spin), ("spin-b", spin)]
    else:
        j = threading.Thread(target=joinee, name="joinee", daemon=True)
        roles = [("holder", spin), ("sleeper", Sleeper().nap),
            ("abba-1", lambda: abba(A, B, A_HELD, B_HELD)),
            ("abba-2", lambda: abba(B, A, B_HELD, A_HELD)), ("rowner", rowner),
            ("rwaiter", rwaiter), ("qwaiter", qwaiter)]
    for name, fn in roles:
        threading.Thread(target=fn, name=name, daemon=True).start()
        if name == "rowner":
            # rwaiter must find R taken.
            end = time.monotonic() + TIMEOUT
            while "<locked" not in repr(R):
                if time.monotonic() > end:
                    os._exit(3)
                time.sleep(0.001)   # polling a state, not waiting it out
    if not gil2:
        j.start()
        threading.Thread(target=joiner, args=(j,), name="joiner",
            daemon=True).start()
    end = time.monotonic() + TIMEOUT
    while True:
        v = view()
        if placed(v, gil2):
            break
        if time.monotonic() > end:
            print("not placed: %s" % json.dumps(v), file=sys.stderr)
            os._exit(2)
        time.sleep(0.005)   # polling a state, not waiting it out
    scenes.publish(sys.argv[1], {"version": list(sys.version_info[:3]),
        "info": info, "view": v, "marks": MARKS, "A": id(A), "B": id(B),
        "R": id(R),
        "addr": {"A": lock_address(A), "B": lock_address(B)}})


main()
