"""py_blocker: the PyMOTW `blocker` example, diagnosed.

    python py_blocker.py [--view FILE]

After Doug Hellmann's "Python Module of the Week" (sys, threads:
sys_current_frames.py): one thread acquires the lock `blocker` and never
releases it, the others block on it, and the program asks
sys._current_frames() where every thread stopped.  Here thread "holder"
takes `blocker` in hold_blocker() and parks; threads "block-1" and
"block-2" wait for it in block().  Under gilwatch one dump tells the
whole story: who holds `blocker` (a POSIX semaphore under the
threading.Lock up to CPython 3.13.0, a PyMutex from 3.13.1), where it took
it, and who waits for it.

The main thread waits until sys._current_frames() shows each thread at
its marked line, prints that view the PyMOTW way, and with --view FILE
also writes it to FILE as JSON ({"tids": {name: native id}, "frames":
{name: [{function, qualname, file, line}, ...innermost first]}}), for a
test to compare with gilwatch's Python frames.  Then it writes
"ready\n" to GW_READY_FD and, with GW_HOLD_FD set, waits for that pipe
to be closed (else it goes on at once); it exits 0, leaving `blocker`
held and its waiters blocked (they are daemon threads).

On stderr it names itself, its threads and `blocker` ("gw-sample: pid
P", "gw-sample: thread NAME TID", "gw-sample: lock blocker 0xADDR", the
semaphore under the Lock up to 3.13.0, the Lock itself from 3.13.1).
"""

import json
import os
import sys
import threading
import time

from gwsample import say, lock_address

io_lock = threading.Lock()
blocker = threading.Lock()
taken = threading.Event()
done = threading.Event()


def park():
    hold = os.environ.get("GW_HOLD_FD")
    if hold:
        while os.read(int(hold), 4096):  # MARK:park
            pass
    else:
        done.wait()  # MARK:park_event


def hold_blocker():
    t = threading.current_thread()
    say("thread %s %d" % (t.name, threading.get_native_id()))
    blocker.acquire()  # MARK:take  (acquired but never released)
    taken.set()
    park()  # MARK:holder_parks


def block():
    t = threading.current_thread()
    say("thread %s %d" % (t.name, threading.get_native_id()))
    with io_lock:
        print("%s with ident %d going to sleep" % (t.name, t.ident),
            flush=True)
    blocker.acquire()  # MARK:blocked
    with io_lock:
        print(t.name, "finishing", flush=True)


def marks():
    """MARK name -> line number in this file."""
    out = {}
    with open(__file__) as f:
        for i, line in enumerate(f, 1):
            if "# MARK:" in line:
                out[line.split("# MARK:")[1].split()[0]] = i
    return out


def view(threads):
    """name -> the thread's frames from sys._current_frames(),
    innermost first."""
    frames = sys._current_frames()
    out = {}
    for name, t in threads.items():
        f, fl = frames.get(t.ident), []
        while f is not None:
            co = f.f_code
            fl.append({"function": co.co_name,
                "qualname": getattr(co, "co_qualname", co.co_name),
                "file": co.co_filename, "line": f.f_lineno})
            f = f.f_back
        out[name] = fl
    return out


def parked(v, where):
    """Is every thread at its marked line?  The waiters are in block()
    at `blocked`; the holder is in park(), reading GW_HOLD_FD or (under
    Event.wait) waiting for `done`."""
    park = where["park" if os.environ.get("GW_HOLD_FD") else "park_event"]
    for name, fl in v.items():
        if name == "holder":
            ok = any(f["function"] == "park" and f["line"] == park
                for f in fl)
        else:
            ok = bool(fl) and fl[0]["function"] == "block" and \
                fl[0]["line"] == where["blocked"]
        if not ok:
            return False
    return True


def main():
    say("pid %d" % os.getpid())
    say("thread main %d" % threading.get_native_id())
    say("lock blocker %#x" % lock_address(blocker))
    threads = {"holder": threading.Thread(target=hold_blocker,
        name="holder", daemon=True)}
    threads["holder"].start()
    taken.wait()
    for i in (1, 2):
        name = "block-%d" % i
        threads[name] = threading.Thread(target=block, name=name,
            daemon=True)
        threads[name].start()

    # Wait until every thread shows at its line: a state, with no event
    # to wait on, so poll it (bounded).
    where = marks()
    deadline = time.monotonic() + 30
    v = view(threads)
    while not parked(v, where):
        if time.monotonic() > deadline:
            print("threads not where expected: %s" % v, file=sys.stderr)
            return 2
        time.sleep(0.002)
        v = view(threads)
    with io_lock:
        for name in sorted(v):
            f = v[name][0]
            print("%s stopped in %s at line %d of %s" % (name,
                f["function"], f["line"], f["file"]), flush=True)
    if len(sys.argv) == 3 and sys.argv[1] == "--view":
        with open(sys.argv[2], "w") as f:
            json.dump({"tids": {n: t.native_id for n, t in threads.items()},
                "frames": v}, f)
    fd = os.environ.get("GW_READY_FD")
    if fd:
        os.write(int(fd), b"ready\n")
    done.set()      # without GW_HOLD_FD: the holder ends, still holding
    threads["holder"].join()
    return 0


if __name__ == "__main__":
    sys.exit(main())
