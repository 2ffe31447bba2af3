"""freethreaded: threads of a free-threaded CPython (no GIL) in known
places, for tests/integration/test_freethreaded.py.

    python3.Xt freethreaded.py RECORD [cs|stw]

Threads, by threading name:
  spin-a, spin-b  spin in pure Python, truly in parallel (attached)
  parker          waits on an Event never set (detached)
  sleeper         time.sleep in a method (detached)
Every thread but main runs its functions from its own copy of their
bytecode (3.14t+: per-thread bytecode), which a reader must follow to
name the lines.

With "cs", two threads contend on one list through its C-level critical
section instead:
  cs-holder       L.sort(key=hold): list.sort holds L's critical section
                  while hold() spins (attached: the section stays held)
  cs-waiter       L.append(4) once hold() runs: waits to enter it
                  (until GW_HOLD_FD closes: then hold() returns, the
                  append goes through and the program ends; when
                  bytes come on GW_HOLD_FD instead, "ready" again once
                  both threads are done (they stay, parked, so that no
                  thread's exit contends for the interpreter's
                  PyMutexes), and the end when it closes)
Main then neither reads sys._current_frames() (that stops the world,
which suspends cs-holder's section and lets cs-waiter through) nor
waits for more than cs-waiter's last step before the append; the test
reads until the wait shows.

With "stw", a stop-the-world pause held up instead:
  stw-holder      read(2) on a pipe nobody writes, through ctypes.PyDLL,
                  which keeps the thread attached while it blocks
  stw-spare       waits on an Event never set (detached: suspended by
                  the pause)
  MainThread      says ready, then gc.collect(), which stops the world
                  and waits for stw-holder

When every thread is where it should be (seen in sys._current_frames()),
one JSON line goes to RECORD: the version (3.15.0rc1), whether the GIL is enabled,
each role's ident and native id, the frames sys._current_frames() shows
for every role (innermost first) and the MARK lines; then "ready" to
GW_READY_FD.  Main then reads GW_HOLD_FD until it closes and leaves with
os._exit.
"""

import ctypes
import gc
import inspect
import json
import os
import platform
import sys
import threading
import time

import scenes

info = {}


def note():
    scenes.note(info)


def view():
    return scenes.view(info)


TIMEOUT = float(os.environ.get("ATTACH_TIMEOUT", "30"))
NEVER = threading.Event()


def spin():
    note()
    n = 0
    while True:  # MARK:spin
        n += 1  # MARK:spin2


def park():
    note()
    NEVER.wait()  # MARK:park


class Sleeper:
    def nap(self):
        note()
        time.sleep(3600)  # MARK:nap


L = [3, 1, 2]
HOLDING = threading.Event()
APPENDING = threading.Event()
SORTED = threading.Event()
APPENDED = threading.Event()
RELEASE = []
READING = threading.Event()
SPARE = threading.Event()


def hold(x):
    if not HOLDING.is_set():
        note()
        HOLDING.set()
        while not RELEASE:  # MARK:hold
            pass
    return x


def cs_holder():
    L.sort(key=hold)  # MARK:sort
    SORTED.set()
    NEVER.wait()


def cs_waiter():
    note()
    HOLDING.wait()
    APPENDING.set()
    L.append(4)  # MARK:append
    APPENDED.set()
    NEVER.wait()


def contend():
    """The "cs" scene: ready once cs-waiter is a step from append()."""
    threading.Thread(target=cs_holder, name="cs-holder", daemon=True).start()
    threading.Thread(target=cs_waiter, name="cs-waiter", daemon=True).start()
    if not APPENDING.wait(TIMEOUT):
        os._exit(2)
    with open(sys.argv[1], "w") as f:
        f.write(json.dumps({"version": platform.python_version(),
            "info": info, "list": id(L), "marks": scenes.marks(__file__)}) + "\n")


def read_attached(fd):
    note()
    libc = ctypes.PyDLL(None)
    READING.set()
    libc.read(fd, ctypes.create_string_buffer(1), 1)  # MARK:read


def spare():
    note()
    SPARE.set()
    NEVER.wait()  # MARK:spare


def pause():
    """The "stw" scene: ready before gc.collect() stops the world."""
    r, _ = os.pipe()
    threading.Thread(target=read_attached, args=(r,), name="stw-holder",
        daemon=True).start()
    threading.Thread(target=spare, name="stw-spare", daemon=True).start()
    # Not sys._current_frames(): it stops the world, which stw-holder
    # holds up from the moment it reads.
    if not (READING.wait(TIMEOUT) and SPARE.wait(TIMEOUT)):
        os._exit(2)
    with open(sys.argv[1], "w") as f:
        f.write(json.dumps({"version": platform.python_version(),
            "info": info, "marks": scenes.marks(__file__)}) + "\n")
    os.write(int(os.environ["GW_READY_FD"]), b"ready\n")
    gc.collect()  # MARK:collect
    os._exit(0)


def blocking_wait_line():
    """The line of Condition.wait where a wait without a timeout blocks
    (its waiter lock's second acquire(); the first, on the fresh lock,
    does not block)."""
    lines, first = inspect.getsourcelines(threading.Condition.wait)
    found = [first + i for i in range(1, len(lines)) if lines[i].strip() ==
        "waiter.acquire()" and lines[i - 1].strip() == "if timeout is None:"]
    return found[0] if len(found) == 1 else None


MARKS = scenes.marks(__file__)
WAIT_LINE = blocking_wait_line()


def at(v, name, function, depth=0, line=None):
    fl = v.get(name) or []
    return len(fl) > depth and fl[depth]["function"] == function and \
        line in (None, fl[depth]["line"])


def placed(v):
    """Every thread where it stays: a blocked thread at its blocking
    line, not a step before it (in Condition.wait before the wait, in
    nap() back from note()), which a reader would then never match."""
    return at(v, "spin-a", "spin") and at(v, "spin-b", "spin") and \
        at(v, "parker", "Condition.wait", 0, WAIT_LINE) and \
        at(v, "parker", "park", 2, MARKS["park"]) and \
        at(v, "sleeper", "Sleeper.nap", 0, MARKS["nap"])


def main():
    if sys.argv[2:] == ["stw"]:
        pause()
    if sys.argv[2:] == ["cs"]:
        contend()
        os.write(int(os.environ["GW_READY_FD"]), b"ready\n")
        hold_fd = int(os.environ["GW_HOLD_FD"])
        more = os.read(hold_fd, 64)
        # cs-waiter's wait ends (and is counted) before the exit.  Both
        # threads stay (a thread's exit takes the interpreter's PyMutexes).
        RELEASE.append(1)
        if not (SORTED.wait(TIMEOUT) and APPENDED.wait(TIMEOUT)):
            os._exit(2)
        if more:
            # Bytes, not the pipe's end: "ready" again once both
            # threads are done, and hold until the pipe closes.
            os.write(int(os.environ["GW_READY_FD"]), b"ready\n")
            while os.read(hold_fd, 64):
                pass
        os._exit(0)
    if WAIT_LINE is None:
        print("no blocking waiter.acquire() line in Condition.wait",
            file=sys.stderr)
        os._exit(2)
    for name, fn in (("spin-a", spin), ("spin-b", spin), ("parker", park),
        ("sleeper", Sleeper().nap)):
        threading.Thread(target=fn, name=name, daemon=True).start()
    end = time.monotonic() + TIMEOUT
    while True:
        v = view()
        if placed(v):
            break
        if time.monotonic() > end:
            print("not placed: %s" % json.dumps(v), file=sys.stderr)
            os._exit(2)
        time.sleep(0.005)   # polling a state, not waiting it out
    with open(sys.argv[1], "w") as f:
        f.write(json.dumps({"version": platform.python_version(),
            "gil_enabled": sys._is_gil_enabled(), "info": info, "view": v,
            "marks": scenes.marks(__file__)}) + "\n")
    os.write(int(os.environ["GW_READY_FD"]), b"ready\n")
    hold = int(os.environ["GW_HOLD_FD"])
    while os.read(hold, 64):
        pass
    os._exit(0)


main()
