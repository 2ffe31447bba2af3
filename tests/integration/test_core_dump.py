"""gilwatch dump --core CORE [EXE]: the report of a core file, built as
an outside dump is (src/reader/outside.c over the core's threads, memory
and stacks), so a core of a stuck program shows the same threads, locks,
owners, cycles and Python frames as a live outside dump of it taken
just before.

Programs run bare (prog/outside.c's ABBA, pyprog/attach_scenes.py),
are dumped live, then gcore'd (skipped aloud without gdb's gcore) and
killed; the core is dumped alone.  Bad cores and executables give one
line and a non-zero exit."""

import os
import random
import shutil
import signal
import unittest

try:
    from . import gwtest as gw
except ImportError:
    import gwtest as gw

OUTSIDE = gw.prog("outside")
DEADLOCK = 86


def dump(*args):
    return gw.run([gw.GILWATCH, "dump", *args])


def dump_doc(tc, args, source, status):
    r = dump("--format=json", *args)
    tc.assertEqual(r.returncode, status, r)
    docs = gw.parse_json_docs(r.stdout)
    tc.assertEqual(len(docs), 1, r)
    tc.assertEqual(docs[0]["source"], source, r)
    return docs[0]


def cycles(doc):
    """Every deadlock as a set of (tid, lock addr, kind, held_by)."""
    return [{(l["tid"], l["addr"], l["kind"], l["held_by"]) for l in c}
        for c in gw.deadlocks(doc)]


def wait_of(t):
    """What a thread waits for, as comparable values, or None."""
    w = gw.waiting(t)
    if w is None:
        return None
    return (w["addr"], w["kind"], w["mode"], tuple(w["owners"]),
        t["waiting_for"]["inferred"])


def one_line(tc, r, status):
    tc.assertEqual(r.returncode, status, r)
    lines = r.stderr.strip().splitlines()
    tc.assertEqual(len(lines), 1, r)
    tc.assertEqual(r.stdout, "", r)
    return lines[0]


def gcore(tc, pid, tmp):
    """A core of pid taken by gdb's gcore (skipped aloud without it)."""
    if shutil.which("gcore") is None:
        print("skip: gcore not installed (gdb)")
        tc.skipTest("gcore not installed")
    base = os.path.join(tmp, "core")
    r = gw.run(["gcore", "-o", base, str(pid)], timeout=gw.TIMEOUT * 2)
    core = "%s.%d" % (base, pid)
    tc.assertTrue(os.path.isfile(core), r)
    return core


class TestCoreDumpC(unittest.TestCase):
    def setUp(self):
        gw.need(self, gw.GILWATCH, OUTSIDE)
        self.tmp = gw.tempdir()
        self.addCleanup(self.tmp.cleanup)

    def abba_core(self, exe=OUTSIDE):
        """The ABBA of prog/outside.c (as exe): its live outside dump,
        then its core: (live doc, core path, sample info)."""
        p = gw.Proc([exe, "abba"], self.tmp.name, name="abba")
        with p:
            p.wait_ready()
            info = p.info()
            live = dump_doc(self, [str(info.pid)], "outside", DEADLOCK)
            core = gcore(self, info.pid, self.tmp.name)
        return live, core, info

    def test_abba_same_cycle_as_live(self):
        live, core, info = self.abba_core()
        a, b = info.threads["A"], info.threads["B"]
        m1, m2 = info.locks["m1"], info.locks["m2"]
        want = [{(a, m2, "mutex", b), (b, m1, "mutex", a)}]
        self.assertEqual(cycles(live), want, live)

        doc = dump_doc(self, ["--core", core], "core", DEADLOCK)
        self.assertEqual(cycles(doc), want, doc)
        self.assertEqual(doc["pid"], info.pid)
        self.assertEqual(doc["command"], "outside")
        self.assertEqual(doc["core"], {"file": core, "signal": 0}, doc)
        self.assertEqual(doc["stopped"]["threads"], 0, doc)
        lt, ct = gw.threads(live), gw.threads(doc)
        self.assertEqual(sorted(ct), sorted(lt), doc)
        for tid, t in ct.items():
            with self.subTest(tid=tid):
                self.assertEqual(t["state"], lt[tid]["state"], t)
                self.assertEqual(wait_of(t), wait_of(lt[tid]), t)
                self.assertEqual(gw.held_addrs(t),
                    gw.held_addrs(lt[tid]), t)
                # The system call, but no kernel state.
                self.assertEqual(t["os"], {"state": None,
                    "syscall": lt[tid]["os"]["syscall"]}, t)
                # Names: the process name for main, none recorded else.
                self.assertEqual(t["name"], "outside" if tid == info.pid
                    else None, t)
                fns = [gw.frame_function(f) for f in t["frames"]]
                self.assertEqual(fns, [gw.frame_function(f)
                    for f in lt[tid]["frames"]], t)
        for tid in (a, b):
            self.assertFalse(ct[tid]["waiting_for"]["inferred"], ct[tid])
            self.assertTrue(any(f and "pthread_mutex_lock" in f
                for f in (gw.frame_function(x) for x in
                ct[tid]["frames"])), ct[tid])

        r = dump("--core", core)
        self.assertEqual(r.returncode, DEADLOCK, r)
        self.assertIn("Read from the core file %s, taken while the "
            "process ran (gcore)" % core, r.stdout)
        self.assertIn("no kernel thread states", r.stdout)
        self.assertIn("Found one deadlock (2 threads):", r.stdout)
        self.assertIn('"?" tid=%d blocked (in futex)\n'
            '   - waiting to lock mutex <0x%x> held by "?" tid=%d\n'
            '   - locked mutex <0x%x>\n' % (a, m2, b, m1), r.stdout)

        # Options anywhere; --no-stacks: kinds inferred, same cycle.
        doc = dump_doc(self, ["--core", core, "--no-stacks"], "core",
            DEADLOCK)
        self.assertEqual(cycles(doc), want, doc)
        self.assertTrue(gw.threads(doc)[a]["waiting_for"]["inferred"])

    def test_kernel_core(self):
        """A core the kernel wrote on SIGABRT: the signal in the header
        and the same cycle."""
        with open("/proc/sys/kernel/core_pattern") as f:
            pattern = f.read().strip()
        if pattern != "core":
            print("skip: kernel core_pattern is %r, not 'core'" % pattern)
            self.skipTest("core_pattern")
        d = self.tmp.name
        with gw.Proc([OUTSIDE, "abba"], d, name="abba", cwd=d,
            preexec_fn=gw.with_core) as p:
            p.wait_ready()
            info = p.info()
            live = dump_doc(self, [str(info.pid)], "outside", DEADLOCK)
            os.kill(info.pid, signal.SIGABRT)
            self.assertEqual(p.wait(), -signal.SIGABRT, p.describe())
        core = os.path.join(d, "core")
        if not os.path.isfile(core):
            core += ".%d" % info.pid
        doc = dump_doc(self, ["--core", core], "core", DEADLOCK)
        self.assertEqual(cycles(doc), cycles(live), doc)
        self.assertEqual(len(cycles(doc)), 1, doc)
        self.assertEqual(doc["core"]["signal"], signal.SIGABRT, doc)
        r = dump("--core", core)
        self.assertIn("Read from the core file %s, dumped on signal %d "
            "(Aborted)" % (core, signal.SIGABRT), r.stdout)

    def test_exe(self):
        """EXE: a moved executable is found when named; another program
        or none is refused in one line saying what to give."""
        moved = os.path.join(self.tmp.name, "outside-moved")
        shutil.copy(OUTSIDE, moved)
        live, core, info = self.abba_core(moved)
        os.rename(moved, moved + ".away")
        line = one_line(self, dump("--core", core), 1)
        self.assertIn("is not there", line)
        self.assertIn("give its path as EXE", line)
        doc = dump_doc(self, ["--core", core, moved + ".away"], "core",
            DEADLOCK)
        self.assertEqual(cycles(doc), cycles(live), doc)
        other = gw.prog("holds")
        gw.need(self, other)
        line = one_line(self, dump("--core", core, other), 2)
        self.assertIn("is not the program that dumped", line)
        line = one_line(self, dump("--core", core,
            os.path.join(self.tmp.name, "absent")), 2)
        self.assertIn("No such file", line)

    def test_bad_cores(self):
        d = self.tmp.name
        rnd = random.Random(12)
        noise = os.path.join(d, "noise")
        with open(noise, "wb") as f:
            f.write(bytes(rnd.randrange(256) for _ in range(65536)))
        empty = os.path.join(d, "empty")
        open(empty, "wb").close()
        for path, what in ((os.path.join(d, "absent"), "No such file"),
            (empty, "not an ELF file"), (noise, "not an ELF file"),
            (OUTSIDE, "not an x86-64 core")):
            with self.subTest(core=path):
                line = one_line(self, dump("--core", path), 1)
                self.assertIn(what, line)
                self.assertIn("give a core dumped by the kernel or by "
                    "gcore", line)
        r = dump("--core", noise, "--locks")
        self.assertEqual(r.returncode, 2, r)
        self.assertIn("--locks needs a process started under gilwatch",
            r.stderr)
        r = dump("--core", noise, "a", "b")
        self.assertEqual(r.returncode, 2, r)
        self.assertIn("unexpected argument 'b'", r.stderr)
        r = dump("--core")
        self.assertEqual(r.returncode, 2, r)


def scene_core(tc, exe, prog, settled):
    """Start pyprog/prog.py bare on exe, dump it live until settled(pid,
    tid) gives the document, gcore it, and call tc.check(core, live,
    tid) while the core exists."""
    with gw.tempdir() as tmp:
        p, rec = gw.scenes(exe, tmp, prog=prog)
        with p:
            tid = {n: v["native"] for n, v in rec["info"].items()}
            live = settled(p.p.pid, tid)
            core = gcore(tc, p.p.pid, tmp)
        tc.check(core, live, tid)


class TestCoreDumpPython(unittest.TestCase):
    """attach_scenes.py (names, the GIL holder, a Lock ABBA through with
    blocks, an RLock, a Queue and a join wait) dumped live from outside
    until every wait shows, then gcore'd: the core's dump gives the same
    names, GIL states, waits, cycle and Python frames."""

    def run_one(self, exe):
        scene_core(self, exe, "attach_scenes", gw.dump_scenes_settled)

    def check(self, core, live, tid):
        doc = dump_doc(self, ["--core", core], "core", DEADLOCK)
        lt, ct = gw.threads(live), gw.threads(doc)
        self.assertEqual(sorted(ct), sorted(lt), doc)
        self.assertEqual(cycles(doc), cycles(live), doc)
        self.assertEqual(len(cycles(doc)), 1, doc)
        for name, t in tid.items():
            with self.subTest(thread=name):
                c, l = ct[t], lt[t]
                self.assertEqual(c["name"], name, c)
                self.assertEqual(gw.gil_state(c), gw.gil_state(l), c)
                pf = gw.python_frames(c)
                self.assertTrue(pf, c)
                if name == "holder":
                    # It spins on: the same function, any line.
                    self.assertEqual([f[:2] for f in pf],
                        [f[:2] for f in gw.python_frames(l)], c)
                    continue
                self.assertEqual(pf, gw.python_frames(l), c)
                self.assertEqual(wait_of(c), wait_of(l), c)
                self.assertEqual(gw.py_wait(c), gw.py_wait(l), c)
        self.assertEqual(gw.gil_state(ct[tid["holder"]]), "holds")
        r = dump("--core", core)
        self.assertEqual(r.returncode, DEADLOCK, r)
        self.assertIn('"abba-1" tid=%d blocked (in futex)' %
            tid["abba-1"], r.stdout)
        self.assertIn("Found one deadlock (2 threads):", r.stdout)


gw.add_interpreter_tests(TestCoreDumpPython)


class TestCoreDumpPythonLocks(unittest.TestCase):
    """outside_locks.py (a with block's Lock and its waiter, a bare
    acquire()'s, a notified waiter taking a Condition's RLock back and
    one still waiting for a notify) dumped live until every wait shows,
    then gcore'd: the core gives the same waits, owners and Python
    waits (3.14+: the parking lot's entries are in the core too)."""

    def run_one(self, exe):
        scene_core(self, exe, "outside_locks", gw.dump_locks_settled)

    def check(self, core, live, tid):
        doc = dump_doc(self, ["--core", core], "core", 0)
        ct, lt = gw.threads(doc), gw.threads(live)
        for name in gw.LOCK_WAITS:
            with self.subTest(thread=name):
                c, t = ct[tid[name]], lt[tid[name]]
                self.assertEqual(wait_of(c), wait_of(t), c)
                self.assertEqual(gw.py_wait(c), gw.py_wait(t), c)
        self.assertEqual(gw.waiting(ct[tid["waiter"]])["owners"],
            [tid["holder"]])
        self.assertEqual(gw.waiting(ct[tid["c-back"]])["owners"],
            [tid["c-owner"]])


gw.add_interpreter_tests(TestCoreDumpPythonLocks)


if __name__ == "__main__":
    unittest.main()
