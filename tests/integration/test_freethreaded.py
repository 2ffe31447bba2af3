"""Free-threaded CPython (3.13t and later, no GIL): every thread's Python
frames, threading names and thread state, read from outside (a bare
program) and from inside (under `gilwatch run`), and `gilwatch top`;
a critical section held and one being entered, and a stop-the-world
pause held up, from outside.

tests/integration/pyprog/freethreaded.py parks threads in known places
(two spinning truly in parallel, one waiting on an Event, one asleep),
records what sys._current_frames() shows and says "ready".  Its worker
threads run per-thread copies of their bytecode on 3.14t+, so the lines
agree only when the reader follows each frame into its thread's copy.

Interpreters: pyenv's free-threaded builds (3.X.Yt, python3.Xt); a
missing one is a skip that says so.  The CI machine has none: build
them with tools/build-cpython --disable-gil.
"""

import json
import os
import re
import unittest

try:
    from . import gwtest as gw
except ImportError:
    import gwtest as gw

SPINNERS = ("spin-a", "spin-b")
BLOCKED = ("parker", "sleeper")


def key(frames):
    return [(f["function"], f["file"], f["line"]) for f in frames]


def start(exe, tmp, under_gilwatch, *args):
    """The program, bare or under `gilwatch run`, once ready: (Proc,
    its record)."""
    return gw.scenes(exe, tmp, *args, prog="freethreaded",
        under=(gw.GILWATCH, "run", "--") if under_gilwatch else ())


class FreeThreaded:
    """What both ways of reading must show (a mixin)."""

    def dump_settled(self, pid, rec):
        """`gilwatch dump --format=json PID`, repeated until every
        blocked role shows the frames the program recorded (a thread
        may be a step from its wait when "ready" comes)."""
        last = [None]

        def settled():
            r = gw.run([gw.GILWATCH, "dump", "--format=json", str(pid)])
            self.assertEqual(r.returncode, 0, r)
            doc = last[0] = gw.parse_json_docs(r.stdout)[0]
            t = {x["name"]: x for x in doc["threads"]}
            return doc if all(n in t and key(self.py(t[n])) ==
                key(rec["view"][n]) for n in BLOCKED) else None
        try:
            return gw.poll_until(settled, what="every thread placed")
        except AssertionError as e:
            raise AssertionError("%s; want %s; last: %s" % (e,
                json.dumps(rec["view"]), json.dumps(last[0], indent=1)))

    def py(self, thread):
        return [f for f in thread.get("frames") or []
            if f.get("kind") == "python"]

    def check_doc(self, doc, rec, pid):
        tids = {n: w["native"] for n, w in rec["info"].items()}
        t = {x["name"]: x for x in doc["threads"]}
        # Every thread by threading's name, with its kernel TID.
        self.assertEqual(set(t), set(tids) | {"MainThread"})
        for name, tid in tids.items():
            self.assertEqual(t[name]["tid"], tid, name)
        self.assertEqual(t["MainThread"]["tid"], pid)
        # No GIL: no thread has a GIL state; each has its thread state.
        for name, x in t.items():
            self.assertIsNone(x["gil"], name)
        want = dict.fromkeys(BLOCKED + ("MainThread",), "detached")
        want.update(dict.fromkeys(SPINNERS, "attached"))
        self.assertEqual({n: x["python_state"] for n, x in t.items()},
            want)
        # Frames agree with the program's own sys._current_frames(),
        # line for line, in the threads' own bytecode copies.
        for name in BLOCKED:
            self.assertEqual(key(self.py(t[name])), key(rec["view"][name]),
                name)
        marks = rec["marks"]
        self.assertEqual(self.py(t["parker"])[2]["line"], marks["park"])
        self.assertEqual(self.py(t["sleeper"])[0]["line"], marks["nap"])
        for name in SPINNERS:
            got = self.py(t[name])
            # Running while read: the loop's line varies.
            self.assertEqual(key(got[1:]), key(rec["view"][name][1:]), name)
            self.assertEqual(got[0]["function"], "spin", name)
            self.assertIn(got[0]["line"], (marks["spin"], marks["spin2"]),
                name)

    def check_text(self, pid, rec):
        r = gw.run([gw.GILWATCH, "dump", str(pid)])
        self.assertEqual(r.returncode, 0, r)
        lines = r.stdout.splitlines()
        tids = {n: w["native"] for n, w in rec["info"].items()}
        for name in SPINNERS + BLOCKED:
            heads = [ln for ln in lines if ln.startswith(
                '"%s" tid=%d ' % (name, tids[name]))]
            self.assertEqual(len(heads), 1, r.stdout)
            self.assertTrue(heads[0].endswith(", Python %s" % ("attached"
                if name in SPINNERS else "detached")), heads)
        self.assertNotIn("the GIL", r.stdout)
        self.assertNotIn("GIL released", r.stdout)
        return r.stdout

    def check_top(self, pid, rec):
        """`gilwatch top --once PID`: the version, no GIL, and each
        worker's row with its thread state (the spinners may be read
        between two states only if a pause stopped the world: they
        spin, so attached is what they are)."""
        tids = {n: w["native"] for n, w in rec["info"].items()}

        def placed():
            r = gw.run([gw.GILWATCH, "top", "--once", str(pid)])
            self.assertEqual(r.returncode, 0, r)
            rows = {n: [ln for ln in r.stdout.splitlines() if re.match(
                r"\s*%d %s\s" % (tids[n], n), ln)] for n in tids}
            ok = all(len(v) == 1 for v in rows.values()) and all(
                re.search(r", Python %s(\s|$)" % ("attached" if n in
                SPINNERS else "detached"), rows[n][0]) for n in tids)
            return (r.stdout, rows) if ok else None
        out, rows = gw.poll_until(placed, what="every row's thread state")
        self.assertRegex(out, r"^gilwatch top: pid %d .* Python %s  up " %
            (pid, re.escape(rec["version"])))
        self.assertIn("\nGIL: none (CPython %s, free-threaded build: no "
            "GIL" % rec["version"], out)
        self.assertRegex(rows["parker"][0], r"WAITING notify Event\._cond")


class TestFreeThreadedOutside(FreeThreaded, unittest.TestCase):
    """`gilwatch dump PID` of a bare free-threaded program."""

    def run_one(self, exe):
        with gw.tempdir() as tmp:
            p, rec = start(exe, tmp, False)
            with p:
                self.assertFalse(rec["gil_enabled"])
                doc = self.dump_settled(p.p.pid, rec)
                note = ("CPython %s, free-threaded build: no GIL (each "
                    "Python thread is attached, detached or suspended "
                    "instead)." % rec["version"])
                self.assertEqual(doc["notes"], [note])
                self.check_doc(doc, rec, p.p.pid)
                text = self.check_text(p.p.pid, rec)
                self.assertIn("\n%s\n" % note, text)
                self.check_top(p.p.pid, rec)


class TestFreeThreadedShim(FreeThreaded, unittest.TestCase):
    """`gilwatch dump PID` of a free-threaded program under `gilwatch
    run`, and its exit report."""

    def run_one(self, exe):
        with gw.tempdir() as tmp:
            p, rec = start(exe, tmp, True)
            with p:
                doc = self.dump_settled(p.p.pid, rec)
                self.check_doc(doc, rec, p.p.pid)
                self.check_text(p.p.pid, rec)
                self.check_top(p.p.pid, rec)
                os.close(p.hold_w)
                p.hold_w = None
                self.assertEqual(p.p.wait(gw.TIMEOUT), 0, p.describe())
            # Said once, at the exit report's GIL part, not at start.
            err = p.stderr()
            self.assertIn("gilwatch: no GIL statistics: CPython %s, "
                "free-threaded build: no GIL\n" % rec["version"], err)
            self.assertNotIn("not supported", err)


class Scene:
    """A scene of freethreaded.py (self.scene), run bare (or under
    `gilwatch run` with self.shim) and checked by self.check(pid,
    record) (a mixin)."""

    shim = False

    def run_one(self, exe):
        with gw.tempdir() as tmp:
            p, rec = start(exe, tmp, self.shim, self.scene)
            with p:
                self.check(p.p.pid, rec)


class TestFreeThreadedCriticalSection(Scene, unittest.TestCase):
    """Two threads contending on one list through its C-level critical
    section, read from outside: the holder's section names the list,
    the waiter's says it is being entered, and the waiter waits for the
    list's PyMutex, held by the holder."""

    scene = "cs"

    def check(self, pid, rec):
        tids = {n: w["native"] for n, w in rec["info"].items()}
        held = {"state": "held", "object": hex(rec["list"]),
            "type": "list", "object2": None, "type2": None}
        entering = {"state": "entering", "object": None, "type": None,
            "object2": None, "type2": None}

        def waiting():
            r = gw.run([gw.GILWATCH, "dump", "--format=json", str(pid)])
            self.assertEqual(r.returncode, 0, r)
            t = {x["tid"]: x for x in gw.parse_json_docs(r.stdout)[0][
                "threads"]}
            w = t.get(tids["cs-waiter"], {})
            parked = gw.waiting(w) or {}
            return t if w.get("critical_sections") == [entering] and \
                parked.get("kind") == "pymutex" else None
        t = gw.poll_until(waiting, what="cs-waiter parked entering the "
            "section")
        # Parked on the list's PyMutex (the parking lot's entry names
        # it), held by the thread whose section holds the list.
        w = gw.waiting(t[tids["cs-waiter"]])
        self.assertEqual((w["addr"], w["owners"]), (rec["list"] +
            TestFreeThreadedCriticalSectionShim.OB_MUTEX,
            [tids["cs-holder"]]), w)
        self.assertEqual(t[tids["cs-holder"]]["critical_sections"], [held])
        self.assertEqual(t[tids["cs-holder"]]["python_state"], "attached")
        self.assertEqual(t[tids["cs-waiter"]]["python_state"], "detached")
        self.assertEqual(t[pid]["critical_sections"], [])
        for x in t.values():
            self.assertFalse(x["critical_sections_truncated"])
        py = [f for f in t[tids["cs-holder"]]["frames"]
            if f["kind"] == "python"]
        self.assertEqual([(f["function"], f["line"]) for f in py[1:2]],
            [("cs_holder", rec["marks"]["sort"])])
        self.assertIn(py[0]["line"], (rec["marks"]["hold"],
            rec["marks"]["hold"] + 1))

        r = gw.run([gw.GILWATCH, "dump", str(pid)])
        self.assertEqual(r.returncode, 0, r)
        blocks = {b.split(" ", 1)[0]: b for b in r.stdout.split("\n\n")}
        self.assertIn("\n   - in a critical section on list <%s> (its lock "
            "held)\n" % hex(rec["list"]), blocks['"cs-holder"'])
        self.assertIn("\n   - entering a critical section: waits for its "
            "object's lock (the object is recorded once taken)\n",
            blocks['"cs-waiter"'])
        self.assertNotIn("critical section", blocks['"MainThread"'])


class TestFreeThreadedCriticalSectionShim(unittest.TestCase):
    """The "cs" scene under `gilwatch run`: cs-holder's critical section
    on the list and cs-waiter's being entered, as from outside; cs-waiter,
    parked on the list's object lock (a PyMutex, 10 bytes into the
    object on these builds), shows waiting for that PyMutex, held by
    cs-holder (taken by atomic instructions inside libpython, unseen by
    the hooks: the holder is the thread whose held section has it);
    once released, the exit lock report has
    the PyMutex's contention statistics: one contended wait, at the
    critical section's entry."""

    OB_MUTEX = 10   # the object header's ob_mutex (py-offsets.h)

    def run_one(self, exe):
        with gw.tempdir() as tmp:
            report = os.path.join(tmp, "report.json")
            p, rec = gw.scenes(exe, tmp, "cs", prog="freethreaded",
                under=(gw.GILWATCH, "run", "--format=json",
                "--output=" + report, "--"))
            tids = {n: w["native"] for n, w in rec["info"].items()}
            mutex = hex(rec["list"] + self.OB_MUTEX)
            with p:
                def parked():
                    r = gw.run([gw.GILWATCH, "dump", "--format=json",
                        str(p.p.pid)])
                    self.assertEqual(r.returncode, 0, r)
                    t = gw.threads(gw.parse_json_docs(r.stdout)[0])
                    w = gw.waiting(t.get(tids["cs-waiter"], {}))
                    return (w, t) if w and w["kind"] == "pymutex" else None
                w, t = gw.poll_until(parked, what="cs-waiter parked on "
                    "the list's PyMutex")
                # Held by cs-holder, whose critical section has it.
                self.assertEqual((w["addr"], w["owners"]), (int(mutex, 16),
                    [tids["cs-holder"]]), w)
                # The sections themselves, read as outside dumps read
                # them: the holder's names the list, the waiter's is
                # being entered.
                self.assertEqual(t[tids["cs-holder"]]["critical_sections"],
                    [{"state": "held", "object": hex(rec["list"]),
                    "type": "list", "object2": None, "type2": None}])
                self.assertEqual(t[tids["cs-waiter"]]["critical_sections"],
                    [{"state": "entering", "object": None, "type": None,
                    "object2": None, "type2": None}])
                self.assertEqual(t[p.p.pid]["critical_sections"], [])
                os.close(p.hold_w)
                p.hold_w = None
                self.assertEqual(p.p.wait(gw.TIMEOUT), 0, p.describe())
            docs = gw.load_report(report)
            locks = [l for d in docs if d.get("reason") == "locks"
                for l in d["locks"] if l["kind"] == "pymutex" and
                l["addr"] == mutex]
            self.assertEqual(len(locks), 1, docs)
            l = locks[0]
            self.assertEqual((l["acquired"], l["contended"]), (1, 1), l)
            self.assertGreater(l["wait_ms"]["total"], 0, l)
            self.assertEqual([(x["count"], x["site"]["function"])
                for x in l["waiters"]], [(1, "_PyCriticalSection_BeginSlow")],
                l)


class TestFreeThreadedPause(Scene, unittest.TestCase):
    """A stop-the-world pause (gc.collect()) held up by a thread that
    blocks attached (a read through ctypes.PyDLL), read from outside:
    who asked, who holds it up, the detached thread suspended."""

    scene = "stw"

    def check(self, pid, rec):
        tids = {n: w["native"] for n, w in rec["info"].items()}
        note = ('A stop-the-world pause is under way, asked for by '
            '"MainThread" (tid %d): 1 thread yet to stop, held up by '
            '"stw-holder" (tid %d).' % (pid, tids["stw-holder"]))

        def paused():
            r = gw.run([gw.GILWATCH, "dump", "--format=json", str(pid)])
            self.assertEqual(r.returncode, 0, r)
            doc = gw.parse_json_docs(r.stdout)[0]
            return doc if note in doc["notes"] else None
        doc = gw.poll_until(paused, what="the pause note")
        t = {x["tid"]: x for x in doc["threads"]}
        self.assertEqual({tid: t[tid]["python_state"] for tid in t}, {
            pid: "attached", tids["stw-holder"]: "attached",
            tids["stw-spare"]: "suspended"})
        marks = rec["marks"]

        def top(tid, depth=0):
            py = [f for f in t[tid]["frames"] if f["kind"] == "python"]
            return (py[depth]["function"], py[depth]["line"])
        self.assertEqual(top(pid), ("pause", marks["collect"]))
        self.assertEqual(top(tids["stw-holder"]), ("read_attached",
            marks["read"]))
        self.assertEqual(top(tids["stw-spare"], 2), ("spare",
            marks["spare"]))
        r = gw.run([gw.GILWATCH, "dump", str(pid)])
        self.assertIn("\n%s\n" % note, r.stdout)
        if not self.shim:
            self.assertIn('\n"stw-spare" tid=%d blocked (kernel state S, '
                'in futex), Python suspended\n' % tids["stw-spare"],
                r.stdout)
            return
        # From inside, the heading tells the wait as the shim saw it.
        heads = [ln for ln in r.stdout.splitlines() if ln.startswith(
            '"stw-spare" tid=%d ' % tids["stw-spare"])]
        self.assertEqual(len(heads), 1, r.stdout)
        self.assertTrue(heads[0].endswith(", Python suspended"), heads)


class TestFreeThreadedPauseShim(TestFreeThreadedPause):
    """The same pause under `gilwatch run`: the same note in its dump,
    read by the same reader code from inside."""

    shim = True


gw.add_free_threaded_tests(TestFreeThreadedOutside)
gw.add_free_threaded_tests(TestFreeThreadedPauseShim)
gw.add_free_threaded_tests(TestFreeThreadedPause)
gw.add_free_threaded_tests(TestFreeThreadedCriticalSection)
gw.add_free_threaded_tests(TestFreeThreadedShim)
gw.add_free_threaded_tests(TestFreeThreadedCriticalSectionShim)


if __name__ == "__main__":
    unittest.main()
