"""The CPython readers on a process read from outside (py_attach), on
every interpreter installed here.

tests/integration/pyprog/attach_scenes.py runs BARE (no gilwatch, no
preload): it parks threads in known places, writes what
sys._current_frames() shows and the ids of its locks to a record, and
says "ready".  build/tests/pyattach then reads it from outside with
nothing stopped and prints, as JSON, what the readers find: the GIL
holder, every thread's name and frames, the locks its `with` blocks
hold, and which lock (or the GIL) a blocked thread waits for and who
holds it.  Threads may still be on their way into a wait when "ready"
comes, so the reads are repeated until every wait shows, within the
timeout.

Interpreters: pyenv's 3.8-3.15 and Debian's static /usr/bin/python3.11;
a missing one is a skip that says so.  3.14+'s locks are PyMutexes and
their waiters park in the parking lot: the same facts, read otherwise
(src/reader/py-locks.c).
"""

import json
import os
import unittest

try:
    from . import gwtest as gw
except ImportError:
    import gwtest as gw

PYATTACH = os.path.join(gw.BUILD, "tests", "pyattach")


def hold_read_line():
    """The line of scenes.publish where the main thread blocks at last,
    reading its hold pipe without the GIL."""
    with open(gw.pyprog("scenes")) as f:
        for n, line in enumerate(f, 1):
            if "os.read(hold" in line:
                return n
    raise AssertionError("no os.read(hold in scenes.py")


def attach(pid, env=None):
    r = gw.run([PYATTACH, str(pid)], env=env)
    if r.returncode != 0:
        raise AssertionError("pyattach failed: %r" % r)
    return json.loads(r.stdout)


def by_name(doc):
    return {t["name"]: t for t in doc["threads"]}


def key(frames):
    return [(f["function"], f["file"], f["line"]) for f in frames]


class Scenes(unittest.TestCase):
    """Starting the scenes and reading them (no tests of its own)."""
    maxDiff = None

    def scene(self, exe, tmp, *args):
        """Start the scenes bare; (Proc, record)."""
        return gw.scenes(exe, tmp, *args)

    def read_until(self, pid, done, what, env=None):
        last = [None]

        def once():
            last[0] = attach(pid, env)
            return last[0] if done(last[0]) else None
        try:
            return gw.poll_until(once, what=what)
        except AssertionError as e:
            raise AssertionError("%s; last read: %s" % (e,
                json.dumps(last[0], indent=1)))


class TestPyAttach(Scenes):
    """Every scene but the GIL waiter."""

    def run_one(self, exe):
        gw.need(self, PYATTACH)
        with gw.tempdir() as tmp:
            p, rec = self.scene(exe, tmp)
            with p:
                tids = {n: w["native"] for n, w in rec["info"].items()}

                # The main thread too: between its "ready" and the
                # read it takes the GIL back, which a quick read can
                # catch it waiting for.
                read_line = hold_read_line()

                def settled(doc):
                    t = by_name(doc)
                    main = (t.get("MainThread", {}).get("frames") or
                        [{}])[0]
                    return all(t.get(n, {}).get("waits") for n in
                        ("abba-1", "abba-2", "rwaiter", "qwaiter")) and \
                        doc["gil"]["holder_tid"] == tids["holder"] and \
                        (main.get("function"), main.get("line")) == \
                        ("publish", read_line)
                doc = self.read_until(p.p.pid, settled, "every wait seen")
            self.check(doc, rec, p.p.pid)

    def check(self, doc, rec, pid):
        ver = rec["version"]
        self.assertEqual(doc["version"], "%d.%d.%d" % tuple(ver))
        tids = {n: w["native"] for n, w in rec["info"].items()}
        t = by_name(doc)

        # Every thread, by threading's name, with its kernel TID.
        self.assertEqual(set(t), set(tids) | {"MainThread"})
        for name, tid in tids.items():
            self.assertEqual(t[name]["tid"], tid, name)
        self.assertEqual(t["MainThread"]["tid"], pid)

        # The GIL: held by the spinner, nobody waits for it.
        self.assertEqual(doc["gil"]["locked"], 1)
        self.assertEqual(doc["gil"]["holder_tid"], tids["holder"])
        self.assertEqual([n for n, x in t.items() if x["gil_wait"]], [])

        # Frames agree with the program's own sys._current_frames().
        for name, want in rec["view"].items():
            got = t[name]["frames"]
            with self.subTest(frames=name):
                # No frame failed a check (PY_FRAME_INVALID, BADSTR,
                # MORE); PY_FRAME_CALL_END (8) marks the outermost frame
                # of each eval-loop call: the thread's last, and before
                # 3.11 every frame (a native call each).
                self.assertTrue(all(f["flags"] & ~8 == 0 for f in got),
                    got)
                self.assertTrue(got[-1]["flags"] & 8, got)
                if ver[1] <= 10:
                    self.assertTrue(all(f["flags"] & 8 for f in got), got)
                if name == "holder":
                    # Running while we read: the loop line varies.
                    self.assertEqual(key(got[1:]), key(want[1:]))
                    self.assertEqual(got[0]["function"], "spin")
                    self.assertIn(got[0]["line"], (rec["marks"]["spin"],
                        rec["marks"]["spin2"]))
                else:
                    self.assertEqual(key(got), key(want))
        for name in ("abba-1", "abba-2"):
            self.assertEqual(t[name]["frames"][0]["line"],
                rec["marks"]["abba"])

        # A join names the thread joined.
        j = t["joiner"]["py_wait"]
        self.assertEqual((j["kind"], j["joined_tid"]), ("join",
            tids["joinee"]))
        q = t["qwaiter"]
        self.assertEqual((q["py_wait"]["kind"], q["py_wait"]["type"],
            q["py_wait"]["via_type"], q["py_wait"]["via_attr"]),
            ("notify", "Condition", "Queue", "not_empty"))

        # The Lock ABBA: each holds one through `with` (inferred) and
        # waits for the other's: a cycle.
        a, b = rec["A"], rec["B"]
        for me, mine, other, theirs in (("abba-1", a, "abba-2", b),
                ("abba-2", b, "abba-1", a)):
            with self.subTest(abba=me):
                x = t[me]
                self.assertEqual([(int(h["lock"], 16), h["kind"],
                    h["inferred"]) for h in x["held"]],
                    [(mine, "Lock", True)])
                w = x["waits"]
                self.assertEqual((int(w["lock"], 16), w["kind"],
                    w["locked"]), (theirs, "Lock", 1))
                self.assertEqual((w["holder_tid"], w["holder_inferred"]),
                    (tids[other], True))

        # The RLock: its owner is recorded, not inferred.
        w = t["rwaiter"]["waits"]
        self.assertEqual((int(w["lock"], 16), w["kind"]), (rec["R"],
            "RLock"))
        self.assertEqual((w["holder_tid"], w["holder_inferred"]),
            (tids["rowner"], False))
        self.assertEqual([(int(h["lock"], 16), h["kind"])
            for h in t["rowner"]["held"]], [(rec["R"], "RLock")])

        # A Queue: the waiter lock it blocks on has no owner anyone
        # could name.
        self.assertEqual((q["waits"]["kind"], q["waits"]["holder_tid"]),
            ("Lock", 0))

        # Nobody else holds or waits for a Python lock.
        for name in ("holder", "sleeper", "qwaiter", "joinee", "joiner",
                "MainThread"):
            self.assertEqual(t[name]["held"], [], name)
        for name in ("holder", "sleeper", "MainThread"):
            self.assertIsNone(t[name]["waits"], name)



def gil_two(doc, tids):
    """One of the two spinners (tids: name -> TID) holds the GIL, the
    other waits for it.  The GIL locked too: a read in the middle of a
    switch sees it let go (locked 0) with the last holder and the
    waiter still in place, and another read follows."""
    t = by_name(doc)
    waiting = [n for n, x in t.items() if x["gil_wait"]]
    holder = [n for n in tids if tids[n] == doc["gil"]["holder_tid"]]
    return len(waiting) == 1 and holder and waiting != holder and \
        waiting[0] in tids and doc["gil"]["locked"] == 1


class TestPyAttachGil(Scenes):
    """Two spinners: one holds the GIL, the other waits for it."""

    def run_one(self, exe):
        gw.need(self, PYATTACH)
        with gw.tempdir() as tmp:
            p, rec = self.scene(exe, tmp, "gil2")
            with p:
                tids = {n: w["native"] for n, w in rec["info"].items()}

                doc = self.read_until(p.p.pid,
                    lambda doc: gil_two(doc, tids),
                    "one spinner holding the GIL, the other waiting")
        t = by_name(doc)
        self.assertEqual(doc["gil"]["locked"], 1)
        self.assertEqual(sorted(n for n, x in t.items()
            if x["gil_wait"] or tids.get(n) == doc["gil"]["holder_tid"]),
            ["spin-a", "spin-b"])


class TestPyAttachNoTable(Scenes):
    """A minor the table does not know (pyattach told to forget this
    one's entry): its _Py_DebugOffsets alone, over the table of the
    minor before, still give the GIL holder and waiter, names and
    frames, and one message says what is off.  3.14+: 3.13 falls back
    on 3.12's dict layout, which it changed."""

    def run_one(self, exe):
        gw.need(self, PYATTACH)
        minor = gw.py_minor(exe)
        env = dict(os.environ, PYATTACH_FORGET=str(minor))
        with gw.tempdir() as tmp:
            p, rec = self.scene(exe, tmp, "gil2")
            with p:
                tids = {n: w["native"] for n, w in rec["info"].items()}

                doc = self.read_until(p.p.pid,
                    lambda doc: gil_two(doc, tids), "one spinner holding "
                    "the GIL, the other waiting, without a table", env)
        self.assertEqual(doc["partial"], "CPython %s has no table here: "
            "frames, thread names and the GIL from its _Py_DebugOffsets "
            "(the rest as in 3.%d); off: Lock and RLock holders, "
            "with-block holds, attached state" % (gw.python_version(exe),
            minor - 1))
        for name in ("spin-a", "spin-b"):
            f = by_name(doc)[name]["frames"]
            self.assertEqual((f[0]["function"], f[0]["file"]),
                ("spin", gw.pyprog("attach_scenes")), name)


class TestDumpPython(Scenes):
    """`gilwatch dump --no-stacks PID` on the scenes: the same facts in
    the shared report (names, the GIL holder, Python lock owners) and
    the Lock ABBA as a deadlock (exit 86)."""

    def run_one(self, exe):
        gw.need(self, gw.GILWATCH)
        with gw.tempdir() as tmp:
            p, rec = self.scene(exe, tmp)
            tids = {n: w["native"] for n, w in rec["info"].items()}
            with p:
                def settled():
                    r = gw.run([gw.GILWATCH, "dump", "--format=json",
                        "--no-stacks", str(p.p.pid)])
                    docs = gw.parse_json_docs(r.stdout)
                    if r.returncode != gw.DEADLOCK_STATUS or not docs:
                        return None
                    t = {x["name"]: x for x in docs[-1]["threads"]}
                    w = gw.waiting(t.get("rwaiter", {}))
                    return docs[-1] if w and w["owners"] and \
                        gw.gil_state(t["holder"]) == "holds" else None
                doc = gw.poll_until(settled, what="the ABBA and the RLock "
                    "wait in a dump")
        t = {x["name"]: x for x in doc["threads"]}
        self.assertEqual({n: t[n]["tid"] for n in tids}, tids)
        self.assertEqual(gw.gil_state(t["holder"]), "holds")
        self.assertEqual(gw.waiting(t["rwaiter"])["owners"],
            [tids["rowner"]])
        cycles = gw.deadlocks(doc)
        self.assertEqual(len(cycles), 1, cycles)
        self.assertEqual(sorted((l["tid"], l["held_by"])
            for l in cycles[0]), sorted([(tids["abba-1"], tids["abba-2"]),
            (tids["abba-2"], tids["abba-1"])]))
        for name in ("abba-1", "abba-2"):
            self.assertTrue(t[name]["waiting_for"]["inferred"], name)


gw.add_interpreter_tests(TestPyAttach)
gw.add_interpreter_tests(TestPyAttachGil)
gw.add_interpreter_tests(TestDumpPython)
gw.add_interpreter_tests(TestPyAttachNoTable, minors=range(14, 16))


class TestPyAttachRefusals(unittest.TestCase):
    def test_not_python(self):
        """A process with no CPython in it: the reason, exit 1."""
        gw.need(self, PYATTACH)
        with gw.tempdir() as tmp, gw.Proc(["sleep", "600"], tmp,
                ready=False, hold=False) as p:
            r = gw.run([PYATTACH, str(p.p.pid)])
        self.assertEqual(r.returncode, 1, r)
        self.assertTrue(json.loads(r.stdout)["error"].startswith(
            "not CPython"), r)

    def test_no_process(self):
        gw.need(self, PYATTACH)
        r = gw.run([PYATTACH, "999999999"])
        self.assertEqual(r.returncode, 1, r)
        self.assertIn("/proc/999999999/maps", json.loads(r.stdout)["error"])


if __name__ == "__main__":
    unittest.main()
