"""gilwatch's CPython reader (src/reader/py-*.c) against the interpreters
installed here, and its offsets table against tools/gen-pyoffsets.

Each interpreter runs SCRIPT with build/tests/pyprobe.so preloaded.  The
script parks threads in known places (a lock, time.sleep, Event.wait in
a method, deep recursion, a generator, functions with latin-1, UCS-2 and
UCS-4 names, a busy loop), waits until sys._current_frames() shows each
one there, records that view, then asks pyprobe (through ctypes, so the
GIL is released) to dump every thread's frames from interpreter memory.
The blocked threads must match exactly: function, qualified name (3.11+),
file and line, innermost first.

Interpreters: pyenv's 3.8-3.15 ($PYENV_ROOT/versions/3.X.Y) and Debian's
static /usr/bin/python3.11; a missing one is a skip that says so.
"""

import errno
import json
import os
import re
import sys
import unittest

try:
    from . import gwtest as gw
except ImportError:
    import gwtest as gw

PYPROBE = os.path.join(gw.BUILD, "tests", "pyprobe.so")
GEN = os.path.join(gw.ROOT, "tools", "gen-pyoffsets")
MINORS = gw.PY_MINORS
INTERVAL_US = 12300         # sys.setswitchinterval(0.0123) in SCRIPT

# The interpreter under test runs this.  "# MARK:name" lines are where
# threads stop; the test finds their numbers by the marks.
SCRIPT = r'''
import ctypes, json, linecache, os, platform, sys, threading, time

LOCK = threading.Lock()
EVENT = threading.Event()
STARTED = threading.Event()
RUNNING = True
out = open(sys.argv[1], "w")
info = {}       # role -> {"ident", "native"}


def note(role):
    info[role] = {"ident": threading.get_ident(),
        "native": getattr(threading, "get_native_id", lambda: 0)(),
        "name": threading.current_thread().name}


def blocked_in_lock():
    note("lock")
    LOCK.acquire()  # MARK:lock


def sleeper():
    note("sleep")
    time.sleep(3600)  # MARK:sleep


class Waiter:
    def wait_event(self):
        note("event")
        EVENT.wait()  # MARK:event


def recurse(n):
    if n == 0:
        note("deep")
        LOCK.acquire()  # MARK:deep
    else:
        recurse(n - 1)  # MARK:recurse


def gen():
    note("gen")
    LOCK.acquire()  # MARK:gen
    yield 1


def drive():
    next(gen())  # MARK:drive


def wäit_latin1():
    note("latin1")
    LOCK.acquire()  # MARK:latin1


def 待つ_ucs2():
    note("ucs2")
    LOCK.acquire()  # MARK:ucs2


def 𠀀_ucs4():
    note("ucs4")
    LOCK.acquire()  # MARK:ucs4


def far_multiline():
    # Line deltas too big for one lnotab pair or one short location entry,
    # then a call spread over lines.
    note("far")
    x = """
    line 0 of a long string: a big line jump after it
    line 1 of a long string: a big line jump after it
    line 2 of a long string: a big line jump after it
    line 3 of a long string: a big line jump after it
    line 4 of a long string: a big line jump after it
    line 5 of a long string: a big line jump after it
    line 6 of a long string: a big line jump after it
    line 7 of a long string: a big line jump after it
    line 8 of a long string: a big line jump after it
    line 9 of a long string: a big line jump after it
    line 10 of a long string: a big line jump after it
    line 11 of a long string: a big line jump after it
    line 12 of a long string: a big line jump after it
    line 13 of a long string: a big line jump after it
    line 14 of a long string: a big line jump after it
    line 15 of a long string: a big line jump after it
    line 16 of a long string: a big line jump after it
    line 17 of a long string: a big line jump after it
    line 18 of a long string: a big line jump after it
    line 19 of a long string: a big line jump after it
    line 20 of a long string: a big line jump after it
    line 21 of a long string: a big line jump after it
    line 22 of a long string: a big line jump after it
    line 23 of a long string: a big line jump after it
    line 24 of a long string: a big line jump after it
    line 25 of a long string: a big line jump after it
    line 26 of a long string: a big line jump after it
    line 27 of a long string: a big line jump after it
    line 28 of a long string: a big line jump after it
    line 29 of a long string: a big line jump after it
    line 30 of a long string: a big line jump after it
    line 31 of a long string: a big line jump after it
    line 32 of a long string: a big line jump after it
    line 33 of a long string: a big line jump after it
    line 34 of a long string: a big line jump after it
    line 35 of a long string: a big line jump after it
    line 36 of a long string: a big line jump after it
    line 37 of a long string: a big line jump after it
    line 38 of a long string: a big line jump after it
    line 39 of a long string: a big line jump after it
    line 40 of a long string: a big line jump after it
    line 41 of a long string: a big line jump after it
    line 42 of a long string: a big line jump after it
    line 43 of a long string: a big line jump after it
    line 44 of a long string: a big line jump after it
    line 45 of a long string: a big line jump after it
    line 46 of a long string: a big line jump after it
    line 47 of a long string: a big line jump after it
    line 48 of a long string: a big line jump after it
    line 49 of a long string: a big line jump after it
    line 50 of a long string: a big line jump after it
    line 51 of a long string: a big line jump after it
    line 52 of a long string: a big line jump after it
    line 53 of a long string: a big line jump after it
    line 54 of a long string: a big line jump after it
    line 55 of a long string: a big line jump after it
    line 56 of a long string: a big line jump after it
    line 57 of a long string: a big line jump after it
    line 58 of a long string: a big line jump after it
    line 59 of a long string: a big line jump after it
    line 60 of a long string: a big line jump after it
    line 61 of a long string: a big line jump after it
    line 62 of a long string: a big line jump after it
    line 63 of a long string: a big line jump after it
    line 64 of a long string: a big line jump after it
    line 65 of a long string: a big line jump after it
    line 66 of a long string: a big line jump after it
    line 67 of a long string: a big line jump after it
    line 68 of a long string: a big line jump after it
    line 69 of a long string: a big line jump after it
    line 70 of a long string: a big line jump after it
    line 71 of a long string: a big line jump after it
    line 72 of a long string: a big line jump after it
    line 73 of a long string: a big line jump after it
    line 74 of a long string: a big line jump after it
    line 75 of a long string: a big line jump after it
    line 76 of a long string: a big line jump after it
    line 77 of a long string: a big line jump after it
    line 78 of a long string: a big line jump after it
    line 79 of a long string: a big line jump after it
    line 80 of a long string: a big line jump after it
    line 81 of a long string: a big line jump after it
    line 82 of a long string: a big line jump after it
    line 83 of a long string: a big line jump after it
    line 84 of a long string: a big line jump after it
    line 85 of a long string: a big line jump after it
    line 86 of a long string: a big line jump after it
    line 87 of a long string: a big line jump after it
    line 88 of a long string: a big line jump after it
    line 89 of a long string: a big line jump after it
    line 90 of a long string: a big line jump after it
    line 91 of a long string: a big line jump after it
    line 92 of a long string: a big line jump after it
    line 93 of a long string: a big line jump after it
    line 94 of a long string: a big line jump after it
    line 95 of a long string: a big line jump after it
    line 96 of a long string: a big line jump after it
    line 97 of a long string: a big line jump after it
    line 98 of a long string: a big line jump after it
    line 99 of a long string: a big line jump after it
    line 100 of a long string: a big line jump after it
    line 101 of a long string: a big line jump after it
    line 102 of a long string: a big line jump after it
    line 103 of a long string: a big line jump after it
    line 104 of a long string: a big line jump after it
    line 105 of a long string: a big line jump after it
    line 106 of a long string: a big line jump after it
    line 107 of a long string: a big line jump after it
    line 108 of a long string: a big line jump after it
    line 109 of a long string: a big line jump after it
    line 110 of a long string: a big line jump after it
    line 111 of a long string: a big line jump after it
    line 112 of a long string: a big line jump after it
    line 113 of a long string: a big line jump after it
    line 114 of a long string: a big line jump after it
    line 115 of a long string: a big line jump after it
    line 116 of a long string: a big line jump after it
    line 117 of a long string: a big line jump after it
    line 118 of a long string: a big line jump after it
    line 119 of a long string: a big line jump after it
    line 120 of a long string: a big line jump after it
    line 121 of a long string: a big line jump after it
    line 122 of a long string: a big line jump after it
    line 123 of a long string: a big line jump after it
    line 124 of a long string: a big line jump after it
    line 125 of a long string: a big line jump after it
    line 126 of a long string: a big line jump after it
    line 127 of a long string: a big line jump after it
    line 128 of a long string: a big line jump after it
    line 129 of a long string: a big line jump after it
    line 130 of a long string: a big line jump after it
    line 131 of a long string: a big line jump after it
    line 132 of a long string: a big line jump after it
    line 133 of a long string: a big line jump after it
    line 134 of a long string: a big line jump after it
    line 135 of a long string: a big line jump after it
    line 136 of a long string: a big line jump after it
    line 137 of a long string: a big line jump after it
    line 138 of a long string: a big line jump after it
    line 139 of a long string: a big line jump after it
    """
    LOCK.acquire(  # MARK:far
        True,
        -1,
    )
    return x


def spin():
    note("busy")
    n = 0
    STARTED.set()
    while RUNNING:  # MARK:spin
        n += 1  # MARK:spin2


def view():
    """sys._current_frames() as role -> [frame], innermost first."""
    frames = sys._current_frames()
    out = {}
    for role, who in list(info.items()):
        f, fl = frames.get(who["ident"]), []
        while f is not None:
            co = f.f_code
            fl.append({"function": co.co_name,
                "qualname": getattr(co, "co_qualname", ""),
                "file": co.co_filename, "line": f.f_lineno})
            f = f.f_back
        out[role] = fl
    return out


def parked(v, role, want):
    """Is role's innermost frame at line want (or, for the Event,
    inside Condition.wait's waiter.acquire())?"""
    fl = v.get(role) or []
    if not fl:
        return False
    if role == "busy":
        return fl[0]["function"] == "spin"
    if role == "far":
        return fl[0]["function"] == "far_multiline" and \
            want <= fl[0]["line"] <= want + 3
    if role == "event":
        src = linecache.getline(fl[0]["file"], fl[0]["line"])
        return "waiter.acquire(" in src and len(fl) > 2 and \
            fl[2]["function"] == "wait_event"
    return fl[0]["line"] == want


def wait_parked(marks):
    deadline = time.monotonic() + float(os.environ["PYFRAMES_TIMEOUT"])
    while True:
        v = view()
        late = [r for r in ROLES if not parked(v, r, marks.get(r))]
        if not late:
            return
        if time.monotonic() > deadline:
            print("not parked: %s" % late, file=sys.stderr)
            os._exit(2)
        time.sleep(0.005)   # polling for a state, not waiting it out


def dump_now(fn):
    here = sys._getframe()
    expect = []
    f = here
    while f is not None:
        expect.append({"function": f.f_code.co_name,
            "qualname": getattr(f.f_code, "co_qualname", ""),
            "file": f.f_code.co_filename, "line": f.f_lineno})
        f = f.f_back
    out.write(json.dumps({"main": expect, "main_ident":
        threading.get_ident()}) + "\n")
    out.flush()
    fn(out.fileno())  # MARK:dump
    out.flush()


ROLES = ["lock", "sleep", "event", "deep", "gen", "latin1", "ucs2", "ucs4",
    "far", "busy"]
marks = json.loads(os.environ["PYFRAMES_MARKS"])
sys.setswitchinterval(0.0123)
LOCK.acquire()
targets = [blocked_in_lock, sleeper, Waiter().wait_event,
    lambda: recurse(30), drive, wäit_latin1, 待つ_ucs2, 𠀀_ucs4,
    far_multiline, spin]
for t in targets:
    threading.Thread(target=t, daemon=True).start()
STARTED.wait(float(os.environ["PYFRAMES_TIMEOUT"]))
wait_parked(marks)
out.write(json.dumps({"version": list(sys.version_info[:3]),
    "python_version": platform.python_version(),
    "info": info, "view": view()}) + "\n")
out.flush()
lib = ctypes.CDLL(None)
dump_now(lib.pyprobe_dump)
out.write(json.dumps({"phase": "maps"}) + "\n")
dump_now(lib.pyprobe_dump_maps)
out.write(json.dumps({"bad_reads": lib.pyprobe_bad_reads()}) + "\n")
calls = (ctypes.c_long * 2)()
rv = lib.pyprobe_name_calls(ctypes.c_ulong(threading.get_ident()), calls)
out.write(json.dumps({"name_calls": [rv, calls[0], calls[1]]}) + "\n")
if sys.version_info >= (3, 13):
    # As if this minor were new: no table, its _Py_DebugOffsets alone.
    lib.pyprobe_forget(sys.version_info[1])
    out.write(json.dumps({"phase": "no table"}) + "\n")
    dump_now(lib.pyprobe_dump)
    lib.pyprobe_forget(0)
dump_now(lib.pyprobe_dump_denied)   # last: denial cannot be undone
out.write(json.dumps({"done": True}) + "\n")
out.close()
os._exit(0)
'''


def marks():
    """MARK name -> line number in SCRIPT as written to its file."""
    out = {}
    for i, line in enumerate(SCRIPT.split("\n"), 1):
        m = re.search(r"# MARK:(\w+)", line)
        if m:
            out[m.group(1)] = i
    return out


def parse_dumps(text):
    """The script's record and its dumps (normal, maps, denied)."""
    rec = {"dumps": []}
    cur = None
    for doc in gw.parse_json_docs(text):
        if "version" in doc:
            rec.update(doc)
        elif "main" in doc:
            cur = {"main": doc["main"], "main_ident": doc["main_ident"],
                "threads": {}, "by_id": {}, "by_tid": {}, "short": {}}
            rec["dumps"].append(cur)
        elif "runtime" in doc or "early" in doc or "gil" in doc:
            cur.update(doc)
        elif "thread" in doc:
            cur["threads"][doc["thread"]["thread_id"]] = doc["thread"]
        elif "by_id" in doc:
            cur["by_id"][doc["by_id"]["thread_id"]] = doc["by_id"]
        elif "by_tid" in doc:
            cur["by_tid"][doc["by_tid"]["tid"]] = doc["by_tid"]
        elif "short" in doc:
            cur["short"][doc["short"]["thread_id"]] = doc["short"]
        elif "end" in doc:
            cur["end"] = doc["end"]
        else:
            rec.update(doc)
    return rec


def key(frames, qualname):
    return [(f["function"], f["qualname"] if qualname else "", f["file"],
        f["line"]) for f in frames]


class TestPyFrames(unittest.TestCase):
    maxDiff = None

    def run_one(self, exe):
        gw.need(self, PYPROBE)
        m = marks()
        with gw.tempdir() as tmp:
            # A latin-1 and UCS-2 directory: co_filename is not ASCII.
            d = os.path.join(tmp, "scrïpt-目录")
            os.mkdir(d)
            script = os.path.join(d, "pyframes_script.py")
            with open(script, "w", encoding="utf-8") as f:
                f.write(SCRIPT)
            result = os.path.join(tmp, "result.json")
            env = dict(os.environ)
            env["LD_PRELOAD"] = " ".join(filter(None, [PYPROBE,
                env.get("LD_PRELOAD")]))
            env["PYFRAMES_MARKS"] = json.dumps(m)
            env["PYFRAMES_TIMEOUT"] = str(gw.TIMEOUT / 2)
            env.pop("PYTHONPATH", None)
            r = gw.run([exe, "-X", "utf8", script, result], env=env)
            self.assertEqual(r.returncode, 0, r)
            with open(result, encoding="utf-8") as f:
                rec = parse_dumps(f.read())
        self.assertTrue(rec.get("done"), rec)
        self.check(rec, m, script)

    def check(self, rec, m, script):
        ver = rec["version"]
        qual = ver[1] >= 11
        info, view = rec["info"], rec["view"]
        self.assertEqual(rec["bad_reads"], 0, "bad reads: check %s failed"
            % rec["bad_reads"])
        # threading._active, once found, is kept: the main thread's name
        # read again skips the way there (sys.modules, threading's dict).
        rv, first, again = rec["name_calls"]
        self.assertEqual(rv, 0, rec["name_calls"])
        self.assertLessEqual(again + 5, first, rec["name_calls"])
        # process_vm_readv refused by seccomp: the reader falls back.
        denied = rec["denied"]
        modes = ["process_vm_readv", "maps"]
        if ver[1] >= 13:
            modes.append("no table")
        if denied["installed"]:
            self.assertEqual((denied["readv"], denied["errno"]),
                (-1, errno.EPERM))
            modes.append("denied")
        else:
            print("note: no seccomp here (errno %d): fallback on EPERM "
                "not tested" % denied["errno"])
        self.assertEqual(len(rec["dumps"]), 4 if ver[1] >= 13 else 3)
        for mode, dump in zip(modes, rec["dumps"]):
            with self.subTest(mode=mode):
                self.check_runtime(dump, ver, mode == "no table",
                    rec["python_version"])
                self.check_threads(dump, ver, info, view, m, script, qual,
                    mode == "no table")

    def check_runtime(self, dump, ver, untabled=False, version=None):
        rt, early = dump["runtime"], dump["early"]
        self.assertEqual(rt["rv"], 0, rt)
        self.assertEqual(rt["version"], "%d.%d.%d" % tuple(ver))
        self.assertTrue(rt["gil_confirmed"], rt)
        self.assertEqual(rt["gil"], rt["gil_predicted"], rt)
        self.assertEqual(rt["free_threaded"], 0)
        # 3.13+: _Py_DebugOffsets are read (each minor in its layout)
        # and must agree with the table; without one they stand alone,
        # and one message says what is off.
        self.assertEqual(rt["debug_offsets"], 3 if untabled else
            1 if ver[1] >= 13 else 0, "3.13+ must use _Py_DebugOffsets, "
            "and agree with the table")
        if untabled:
            self.assertEqual(rt["partial"], "CPython %s has no table "
                "here: frames, thread names and the GIL from its "
                "_Py_DebugOffsets (the rest as in 3.%d); off: Lock and "
                "RLock holders, with-block holds, attached state" %
                (version, ver[1] - 1))
        else:
            self.assertEqual(rt["partial"], "")
        g = rt["gil"]
        self.assertEqual((rt["gil_cond"] - g, rt["gil_mutex"] - g,
            rt["gil_switch_cond"] - g, rt["gil_switch_mutex"] - g),
            (32, 80, 120, 168))
        # Detected at load time, before Py_Initialize: same answers.
        self.assertEqual(early["rv"], 0, early)
        self.assertEqual(early["version"], rt["version"])
        self.assertEqual(early["gil"], rt["gil"],
            "the GIL predicted before initialisation is where it is")
        self.assertEqual(early["gil_confirmed"], 0, early)
        gil = dump["gil"]
        self.assertEqual(gil["interval"], INTERVAL_US,
            "gil->interval is sys.getswitchinterval(): right address")
        self.assertIn(gil["locked"], (0, 1))
        self.assertGreater(gil["switch_number"], 0)

    def check_threads(self, dump, ver, info, view, m, script, qual,
        untabled=False):
        threads = dump["threads"]
        idents = {w["ident"] for w in info.values()} | {dump["main_ident"]}
        self.assertEqual(set(threads), idents, "every thread, no more")
        self.assertEqual(dump["end"]["threads"], len(idents))
        if ver[1] >= 11:
            for role, who in info.items():
                self.assertEqual(threads[who["ident"]]["tid"],
                    who["native"], role)
        # The busy thread is the only one that can hold the GIL: main is
        # in ctypes, the others wait outside it.
        gil = dump["gil"]
        if gil["locked"] == 1:
            self.assertEqual(gil["holder_thread_id"], info["busy"]["ident"])
        # Without a table, tstate->state is not read, and holds_gil only
        # where the debug offsets say where it is (3.15+).
        seen = (-1 if untabled else 1,
            -1 if untabled and ver[1] < 15 else 1)
        if gil["locked"] == 1 and ver[1] >= 13:
            # Nobody asks it to drop the GIL while we read.
            busy = threads[info["busy"]["ident"]]
            self.assertEqual((busy["attached"], busy["holds_gil"]), seen)
        for ident, t in threads.items():
            if ver[1] < 13:
                self.assertEqual((t["attached"], t["holds_gil"]), (-1, -1))
            elif ident != info["busy"]["ident"]:
                self.assertEqual((t["attached"], t["holds_gil"]),
                    tuple(0 if v == 1 else v for v in seen))
        # threading's names of the threads, table or not; but 3.13
        # without a table reads dicts as 3.12 laid them out, which 3.13
        # changed (inline values).
        if untabled and ver[1] == 13:
            print("skip: names of 3.13 without a table: the 3.12 dict "
                "layout it falls back on is not 3.13's")
        else:
            for role, who in info.items():
                self.assertEqual(threads[who["ident"]]["name"],
                    who["name"], role)

        for role, who in info.items():
            got = threads[who["ident"]]["frames"]
            want = view[role]
            with self.subTest(role=role):
                # No frame failed a check; PY_FRAME_CALL_END (8) marks
                # the outermost frame of each eval-loop call: the
                # thread's last, and before 3.11 every frame.
                self.assertTrue(all(f["flags"] & ~8 == 0 for f in got),
                    got)
                self.assertTrue(got[-1]["flags"] & 8, got)
                if ver[1] <= 10:
                    self.assertTrue(all(f["flags"] & 8 for f in got), got)
                if role == "busy":
                    # Running while we read: the loop line varies.
                    self.assertEqual(key(got[1:], qual),
                        key(want[1:], qual))
                    self.assertEqual((got[0]["function"], got[0]["file"]),
                        ("spin", script))
                    self.assertIn(got[0]["line"], (m["spin"], m["spin2"]))
                    continue
                self.assertEqual(key(got, qual), key(want, qual))
                self.assertIn(script, [f["file"] for f in got])
                self.assertEqual(dump["by_id"][who["ident"]]["frames"], got)
                short = dump["short"][who["ident"]]["frames"]
                self.assertEqual(key(short, qual), key(got[:3], qual))
                self.assertEqual([f["flags"] & ~8 for f in short],
                    [0, 0, 4 if len(got) > 3 else 0][:len(short)],
                    "PY_FRAME_MORE on the last frame of a cut stack")
                if ver[1] >= 11:
                    self.assertEqual(dump["by_tid"][who["native"]]["frames"],
                        got)
        # A few facts the Python view itself must show, so the
        # comparison above compares something.
        self.assertEqual(view["deep"][0]["line"], m["deep"])
        self.assertEqual([f["line"] for f in view["deep"][1:31]],
            [m["recurse"]] * 30)
        self.assertEqual([f["function"] for f in view["gen"][:2]],
            ["gen", "drive"])
        self.assertEqual([f["function"] for f in view["latin1"][:1]] +
            [f["function"] for f in view["ucs2"][:1]] +
            [f["function"] for f in view["ucs4"][:1]],
            ["wäit_latin1", "待つ_ucs2", "𠀀_ucs4"])
        if qual:
            self.assertEqual(view["event"][2]["qualname"],
                "Waiter.wait_event")
        # The thread that called pyprobe through ctypes: its own frames.
        main = threads[dump["main_ident"]]["frames"]
        want = dump["main"]
        want[0]["line"] = m["dump"]
        self.assertEqual(key(main, qual), key(want, qual))


gw.add_interpreter_tests(TestPyFrames)


# A subinterpreter is created before the dump.  From 3.12 it has its own
# GIL and is interpreters.head: the main GIL is interpreters.main's.
SUBINTERP = r'''
import ctypes, os, sys
try:
    import _xxsubinterpreters as si
except ImportError:
    import _interpreters as si
sid = si.create()
sys.setswitchinterval(0.0123)
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
ctypes.CDLL(None).pyprobe_dump(fd)
os.close(fd)
'''


class TestPySubinterpreter(unittest.TestCase):
    def test_main_gil_with_subinterpreter(self):
        """The GIL found is the main interpreter's (its switch interval),
        the thread list spans every interpreter."""
        gw.need(self, PYPROBE)
        builds = [b for m in MINORS for b in gw.pyenv_builds(m)]
        builds += [e for e in ("/usr/bin/python3.%d" % m for m in MINORS)
            if os.access(e, os.X_OK)]
        if not builds:
            print("skip: no python3.8-3.15 installed")
            self.skipTest("no python3.8-3.15 installed")
        for exe in builds:
            with self.subTest(python=exe), gw.tempdir() as tmp:
                script = os.path.join(tmp, "sub.py")
                with open(script, "w") as f:
                    f.write(SUBINTERP)
                out = os.path.join(tmp, "out.json")
                env = dict(os.environ, LD_PRELOAD=PYPROBE)
                r = gw.run([exe, script, out], env=env)
                self.assertEqual(r.returncode, 0, r)
                with open(out) as f:
                    docs = gw.parse_json_docs(f.read())
                rt = [d["runtime"] for d in docs if "runtime" in d][0]
                gil = [d["gil"] for d in docs if "gil" in d][0]
                self.assertEqual((rt["rv"], rt["gil_confirmed"]), (0, 1))
                self.assertEqual(gil["interval"], INTERVAL_US)
                threads = [d["thread"] for d in docs if "thread" in d]
                # The main thread has its frames wherever its states are.
                me = [t for t in threads if t["n"] > 0]
                self.assertEqual(len(me), 1, threads)
                self.assertEqual(me[0]["frames"][0]["file"], script)
                by_id = [d["by_id"] for d in docs if "by_id" in d]
                self.assertTrue(all(b["frames"] == me[0]["frames"]
                    for b in by_id), by_id)


# A program that looks like CPython to py_detect (the symbols it asks
# dlsym for) with a runtime laid out by the test, then loads pyprobe.so
# and dumps.  -D options pick the case.
FAKE = r'''
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

#ifdef RUNTIME
__attribute__((aligned(64))) char _PyRuntime[1 << 17];
static __attribute__((aligned(64))) char interp[1 << 14], tstate[1 << 12];
#define AT(base, off, type)	(*(type *)((base) + (off)))
#endif
#ifdef VERSION
const unsigned long Py_Version = VERSION;
#endif
#ifdef GETVERSION
const char *Py_GetVersion(void) { return GETVERSION " (fake)"; }
#endif
#ifdef DEBUG_BUILD
long _Py_RefTotal;
#endif

int
main(int argc, char **argv)
{
	int (*dump)(int);
	void (*forget)(int);
	void *h;

#ifdef SETUP
	SETUP;
#endif
	if ((h = dlopen(argv[1], RTLD_NOW)) == NULL ||
	    (*(void **)&dump = dlsym(h, "pyprobe_dump")) == NULL ||
	    (*(void **)&forget = dlsym(h, "pyprobe_forget")) == NULL) {
		fprintf(stderr, "%s\n", dlerror());
		return 2;
	}
#ifdef FORGET
	forget(FORGET);
#endif
	return dump(1) == 0 ? 0 : 3;
}
'''


def table_entry(minor, t=""):
    """{field: value} of the committed py-offsets.h entry for 3.minor
    (with t="t" its free-threaded build's)."""
    with open(os.path.join(gw.ROOT, "src", "reader", "py-offsets.h")) as f:
        text = f.read()
    m = re.search(r"/\* 3\.%d%s: measured on [^\n]*\n(?:\t \*[^\n]*\n)*"
        r"\t\{ \.major = 3, \.minor = %d, \.micro = 0,(.*?)\n\t\},"
        % (minor, t, minor), text, re.S)
    return {k: int(v) for k, v in re.findall(r"\.(\w+) = (-?\d+)",
        m.group(1))}


class TestPyDetect(unittest.TestCase):
    """py_detect refuses what it does not know, with a reason."""

    def detect(self, tmp, name, defines):
        gw.need(self, PYPROBE)
        src = os.path.join(tmp, "fake.c")
        with open(src, "w") as f:
            f.write(FAKE)
        exe = os.path.join(tmp, name)
        cc = os.environ.get("CC", "cc")
        r = gw.run([cc, "-std=gnu11", "-rdynamic", "-o", exe, src, "-ldl"] +
            ["-D%s" % d for d in defines])
        self.assertEqual(r.returncode, 0, r)
        r = gw.run([exe, PYPROBE])
        docs = gw.parse_json_docs(r.stdout)
        rt = [d["runtime"] for d in docs if "runtime" in d]
        self.assertEqual(len(rt), 1, r)
        return r, rt[0]

    def refused(self, defines, why):
        with gw.tempdir() as tmp:
            r, rt = self.detect(tmp, "fake", defines)
        self.assertEqual(r.returncode, 3, r)
        self.assertEqual((rt["rv"], rt["supported"]), (-1, False), rt)
        self.assertIn(why, rt["why_not"])
        self.assertEqual(rt["gil"], 0, "no GIL address when refused")
        return rt

    def test_no_python(self):
        self.refused([], "no CPython in this process")

    def test_unknown_version(self):
        self.refused(["RUNTIME", "VERSION=0x031000f0UL"],
            "CPython 3.16.0 is not supported (3.8-3.15 are)")
        # A new minor with _Py_DebugOffsets whose layout does not check
        # out (here every size reads 0): refused, saying so.
        rt = self.refused(["RUNTIME", "VERSION=0x031000f0UL",
            "SETUP=memcpy(_PyRuntime, \"xdebugpy\", 8);"
            "AT(_PyRuntime, 8, unsigned long) = VERSION"],
            "CPython 3.16.0 is not supported (3.8-3.15 are): its "
            "_Py_DebugOffsets have a layout not known here (known: "
            "3.13-3.15)")
        self.assertEqual(rt["debug_offsets"], 0)
        self.refused(["RUNTIME", "VERSION=0x020700f0UL"],
            "CPython 2.7.0 is not supported")

    def test_version_without_py_version(self):
        # Before 3.11 the version comes from Py_GetVersion(); a 3.11+
        # that lacks Py_Version is not what it claims.
        self.refused(["RUNTIME", 'GETVERSION="3.11.4"'],
            "CPython of unknown version")
        with gw.tempdir() as tmp:
            r, rt = self.detect(tmp, "fake310", ["RUNTIME",
                'GETVERSION="3.10.99"'])
        self.assertEqual(r.returncode, 0, r)
        self.assertEqual((rt["rv"], rt["version"]), (0, "3.10.99"))
        # An uninitialised runtime: the GIL is predicted, not confirmed.
        self.assertEqual(rt["gil_confirmed"], 0)
        self.assertEqual(rt["gil"] - rt["runtime"], table_entry(10)["rt_gil"])

    def test_debug_build(self):
        for v in ("0x030b07f0UL", "0x030e07f0UL"):
            self.refused(["RUNTIME", "VERSION=" + v, "DEBUG_BUILD"],
                "is a debug build")

    def test_free_threaded(self):
        # A free-threaded build (the flag is the third word of its
        # _Py_DebugOffsets) takes a free-threaded table entry, not the
        # default build's: the GIL it predicts is where 3.13t's entry
        # puts it (its objects' bigger header moves it).  Without one
        # (the minor's entries forgotten) it is refused, saying which
        # free-threaded builds are read.
        v = "0x030d00f0UL"
        ft = ["RUNTIME", "VERSION=" + v,
            'SETUP=memcpy(_PyRuntime, "xdebugpy", 8); '
            "AT(_PyRuntime, 8, unsigned long) = %s; "
            "AT(_PyRuntime, 16, unsigned long) = 1" % v]
        with gw.tempdir() as tmp:
            r, rt = self.detect(tmp, "fake313t", ft)
        self.assertEqual(r.returncode, 0, r)
        self.assertEqual((rt["rv"], rt["free_threaded"]), (0, 1), rt)
        o = table_entry(13, "t")
        self.assertNotEqual(o["is_gil"], table_entry(13)["is_gil"])
        self.assertEqual(rt["gil_predicted"] - rt["runtime"],
            o["rt_main_interp"] + o["is_gil"], rt)
        self.refused(ft + ["FORGET=13"],
            "CPython 3.13.0 (free-threaded) is not supported (3.8-3.15 are; "
            "free-threaded: those measured, 3.13t, 3.14t and 3.15t)")

    def layout(self, o, tstate_interp, locked):
        """SETUP for a 3.11 runtime with one interpreter, one thread."""
        return ("SETUP="
            "AT(_PyRuntime, %d, char *) = interp; "
            "AT(_PyRuntime, %d, char *) = interp; "
            "AT(interp, %d, char *) = tstate; "
            "AT(tstate, %d, char *) = %s; "
            "AT(tstate, %d, unsigned long) = 4242; "
            "AT(_PyRuntime, %d, int) = %d" % (o["rt_interp_head"],
            o["rt_interp_main"], o["is_threads_head"], o["ts_interp"],
            tstate_interp, o["ts_thread_id"], o["rt_gil"] + o["gil_locked"],
            locked))

    def test_layout_checks(self):
        o = table_entry(11)
        v = "VERSION=0x030b07f0UL"
        self.refused(["RUNTIME", v, self.layout(o, "tstate", 0)],
            "thread lists fail the check")
        self.refused(["RUNTIME", v, self.layout(o, "interp", 7)],
            "GIL fails the check")
        with gw.tempdir() as tmp:
            r, rt = self.detect(tmp, "fake311", ["RUNTIME", v,
                self.layout(o, "interp", 0)])
            docs = gw.parse_json_docs(r.stdout)
        self.assertEqual(r.returncode, 0, r)
        self.assertEqual((rt["rv"], rt["gil_confirmed"]), (0, 1), rt)
        threads = [d["thread"] for d in docs if "thread" in d]
        self.assertEqual([(t["thread_id"], t["n"]) for t in threads],
            [(4242, 0)])


def offsets_fields():
    """The fields of struct py_offsets (src/reader/py.h), in order."""
    with open(os.path.join(gw.ROOT, "src", "reader", "py.h")) as f:
        text = f.read()
    body = re.search(r"struct py_offsets \{(.*?)\n\};", text, re.S).group(1)
    body = re.sub(r"/\*.*?\*/", "", body, flags=re.S)
    out = []
    for decl in re.findall(r"\bint\s+([^;]+);", body):
        out += [n.strip() for n in decl.split(",")]
    return out


NOT_GIVEN = -16843010       # pyprobe_debug_offsets: every byte 0xfe


class TestDebugOffsets(unittest.TestCase):
    """What the running interpreter's _Py_DebugOffsets give, read in
    its minor's layout (py-debug.c), is what the generated table says,
    field by field; and they give what frames, names and the GIL
    need."""

    def run_one(self, exe):
        gw.need(self, PYPROBE)
        fields = offsets_fields()
        env = dict(os.environ, LD_PRELOAD=PYPROBE)
        r = gw.run([exe, "-c", "import ctypes, sys; "
            "sys.exit(ctypes.CDLL(None).pyprobe_debug_offsets(1) != 1)"],
            env=env)
        self.assertEqual(r.returncode, 0, r)
        d = json.loads(r.stdout)
        self.assertEqual(len(d["table"]), len(fields), "py.h parsed")
        given = {f: (t, v) for f, t, v in zip(fields, d["table"],
            d["debug"]) if v != NOT_GIVEN}
        self.assertEqual({f: t for f, (t, v) in given.items()},
            {f: v for f, (t, v) in given.items()})
        for f in ("rt_interp_head", "rt_interp_main", "rt_main_interp",
            "is_threads_head", "is_ceval_gil", "is_gil", "gil_locked",
            "gil_last_holder", "ts_next", "ts_interp", "ts_current_frame",
            "ts_thread_id", "ts_native_thread_id", "fr_back", "fr_code",
            "fr_instr", "fr_owner", "fr_localsplus", "co_filename",
            "co_name", "co_qualname", "co_lines", "co_firstlineno",
            "co_code_adaptive", "is_modules", "tp_name", "dict_keys",
            "dict_values", "u_state", "u_length", "u_ascii_size"):
            self.assertIn(f, given)
        # A free-threaded 3.14+ says where each thread's copy of the
        # bytecode is; a default build gives them as absent.
        ft = gw.py_minor(exe) >= 14 and exe.endswith("t")
        for f in ("fr_tlbc_index", "co_tlbc"):
            self.assertIn(f, given)
            self.assertEqual(given[f][1] >= 0, ft, f)


gw.add_interpreter_tests(TestDebugOffsets, minors=range(13, 16),
    free_threaded=True)


class TestPyOffsets(unittest.TestCase):
    def test_gen_pyoffsets_check(self):
        """The committed table matches every interpreter installed."""
        r = gw.run([sys.executable, GEN, "--check"], timeout=4 * gw.TIMEOUT)
        self.assertEqual(r.returncode, 0, r)
        self.assertIn("matches the installed interpreters", r.stdout)
        for minor in MINORS:
            said = re.search(r"^(probe: 3\.%d\.\d+(?:(?:a|b|rc)\d+)? |"
                r"skip: python3\.%d not "
                r"installed$)" % (minor, minor), r.stdout, re.M)
            self.assertIsNotNone(said, "3.%d neither probed nor skipped "
                "aloud: %r" % (minor, r))
            if said.group(1).startswith("skip"):
                print(said.group(1))


if __name__ == "__main__":
    unittest.main()
