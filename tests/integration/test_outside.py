"""gilwatch dump PID of a program NOT started under gilwatch: read from
outside (/proc, the lock words, native stacks by libdw), the same report
and JSON schema as a dump from inside, every cycle of the wait-for graph
as a deadlock (exit status 86).

The programs (tests/integration/prog/outside.c) run bare; each says ready
once its waiting threads sleep in futex(2) and stays until released."""

import os
import re
import shutil
import stat
import subprocess
import tempfile
import unittest

try:
    from . import gwtest as gw
except ImportError:
    import gwtest as gw

OUTSIDE = gw.prog("outside")
DEADLOCK = 86


def one_line(r):
    lines = r.stderr.strip().splitlines()
    return len(lines) == 1 and lines[0].strip() != ""


def dump(pid, *opts):
    return gw.run([gw.GILWATCH, "dump", *opts, str(pid)])


def dump_doc(tc, pid, *opts, status=0):
    r = dump(pid, "--format=json", *opts)
    tc.assertEqual(r.returncode, status, r)
    docs = gw.parse_json_docs(r.stdout)
    tc.assertEqual(len(docs), 1, r)
    doc = docs[0]
    tc.assertEqual(doc["source"], "outside", r)
    tc.assertEqual(doc["pid"], pid, r)
    return doc


def cycles(doc):
    """Every deadlock as a set of (tid, lock addr, kind, held_by)."""
    return [{(l["tid"], l["addr"], l["kind"], l["held_by"]) for l in c}
        for c in gw.deadlocks(doc)]


class OutsideCase(unittest.TestCase):
    def setUp(self):
        gw.need(self, gw.GILWATCH, OUTSIDE)
        self.tmp = tempfile.TemporaryDirectory(prefix="gwtest-")
        self.addCleanup(self.tmp.cleanup)

    def start(self, mode, *args):
        p = gw.Proc([OUTSIDE, mode, *args], self.tmp.name, name=mode)
        self.addCleanup(p.__exit__)
        p.wait_ready()
        info = p.info()
        self.assertIsNotNone(info.pid, p.describe())
        self.assertEqual(p.p.pid, info.pid)
        return p, info

    def thread(self, doc, info, name):
        t = gw.threads(doc).get(info.threads[name])
        self.assertIsNotNone(t, "no thread %s in %r" % (name, doc))
        self.assertEqual(t["name"], name)
        return t

    def assert_waits(self, doc, info, name, lock, kind, owners,
        mode="exclusive", state="blocked"):
        t = self.thread(doc, info, name)
        self.assertEqual(t["state"], state, t)
        w = gw.waiting(t)
        self.assertIsNotNone(w, t)
        self.assertEqual((w["addr"], w["kind"], w["mode"]),
            (info.locks[lock] if isinstance(lock, str) else lock, kind,
            mode), t)
        self.assertEqual(w["owners"], [info.threads[o] for o in owners], t)
        return t


class TestOutsideDeadlocks(OutsideCase):
    def check_ring(self, mode, names, locks):
        p, info = self.start(mode)
        n = len(names)
        want = {(info.threads[names[i]], info.locks[locks[(i + 1) % n]],
            "mutex", info.threads[names[(i + 1) % n]]) for i in range(n)}
        for opts in ([], ["--no-stacks"]):
            with self.subTest(opts=opts):
                doc = dump_doc(self, info.pid, *opts, status=DEADLOCK)
                self.assertEqual(cycles(doc), [want], doc)
                for i in range(n):
                    t = self.assert_waits(doc, info, names[i],
                        locks[(i + 1) % n], "mutex", [names[(i + 1) % n]])
                    self.assertEqual(gw.held_addrs(t),
                        [info.locks[locks[i]]], t)
                    self.assertEqual(t["waiting_for"]["inferred"],
                        opts != [], t)
                    self.assertEqual(t["os"], {"state": "S",
                        "syscall": "futex"}, t)
                    self.assertIsNone(t["state_seconds"], t)
                main = self.thread(doc, info, "main")
                self.assertEqual(main["state"], "running", main)
                self.assertIsNone(main["waiting_for"], main)
                self.assertEqual(main["os"]["syscall"], "read", main)
                self.assertEqual(len(doc["threads"]), n + 1, doc)
                self.assertEqual(sorted(gw.threads(doc)),
                    sorted(gw.tasks(info.pid)), doc)
        r = dump(info.pid)
        self.assertEqual(r.returncode, DEADLOCK, r)
        self.assertIn("Read from outside", r.stdout)
        self.assertIn("Found one deadlock (%d threads):" % n, r.stdout)
        for i in range(n):
            a, b = names[i], names[(i + 1) % n]
            self.assertIn('"%s" tid=%d:\n  waiting to lock mutex <0x%x>,\n'
                '  which is held by "%s" tid=%d\n' % (a, info.threads[a],
                info.locks[locks[(i + 1) % n]], b, info.threads[b]),
                r.stdout)
            self.assertIn('"%s" tid=%d blocked (kernel state S, in futex)\n'
                '   - waiting to lock mutex <0x%x> held by "%s" tid=%d\n'
                '   - locked mutex <0x%x>\n' % (a, info.threads[a],
                info.locks[locks[(i + 1) % n]], b, info.threads[b],
                info.locks[locks[i]]), r.stdout)
        p.release()
        self.assertEqual(p.wait(), 0, p.describe())

    def test_abba(self):
        self.check_ring("abba", ["A", "B"], ["m1", "m2"])

    def test_main_thread_ended(self):
        """ABBA formed after the main thread ended (pthread_exit in
        main): the kernel gives the memory, the mappings and the command
        line only through a thread that runs, yet the dump is the same,
        the main thread shown as exited and not stopped."""
        p, info = self.start("mainexit")
        want = {(info.threads["A"], info.locks["m2"], "mutex",
            info.threads["B"]), (info.threads["B"], info.locks["m1"],
            "mutex", info.threads["A"])}
        doc = dump_doc(self, info.pid, status=DEADLOCK)
        self.assertEqual(cycles(doc), [want], doc)
        self.assertTrue((doc["command"] or "").endswith("outside mainexit"),
            doc["command"])
        main = gw.threads(doc)[info.pid]
        self.assertEqual((main["state"], main["os"]["state"]),
            ("exited", "Z"), main)
        self.assertEqual(main["stack_note"], "the thread has ended", main)
        self.assertLessEqual(doc["stopped"]["threads"],
            len(doc["threads"]) - 1, "the ended thread was stopped")
        for name in ("A", "B"):
            t = self.thread(doc, info, name)
            self.assertIn("ring_thread",
                [f["function"] for f in t["frames"]], t)
        r = gw.run([gw.GILWATCH, "top", "--once", str(info.pid)])
        self.assertEqual(r.returncode, 0, r)
        self.assertNotIn("has ended", r.stdout + r.stderr)
        self.assertIn("DEADLOCK", r.stdout)
        p.release()
        self.assertEqual(p.wait(), 0, p.describe())

    def test_ring_of_three(self):
        self.check_ring("ring", ["ring0", "ring1", "ring2"],
            ["m0", "m1", "m2"])

    def test_join_cycle(self):
        p, info = self.start("join")
        j1, j2 = info.threads["J1"], info.threads["J2"]
        for opts in ([], ["--no-stacks"]):
            with self.subTest(opts=opts):
                doc = dump_doc(self, info.pid, *opts, status=DEADLOCK)
                self.assertEqual(len(cycles(doc)), 1, doc)
                got = {(t, k, h) for t, a, k, h in cycles(doc)[0]}
                self.assertEqual(got, {(j1, "thread", j2),
                    (j2, "mutex", j1)}, doc)
                t = self.thread(doc, info, "J1")
                self.assertEqual(t["state"], "joining", t)
                self.assertEqual(gw.waiting(t)["owners"], [j2], t)
                self.assertEqual(gw.held_addrs(t), [info.locks["m"]], t)
                self.assert_waits(doc, info, "J2", "m", "mutex", ["J1"])
        r = dump(info.pid)
        self.assertEqual(r.returncode, DEADLOCK, r)
        self.assertIn('"J1" tid=%d:\n  waiting for "J2" tid=%d to end '
            '(a join)\n' % (j1, j2), r.stdout)
        p.release()
        self.assertEqual(p.wait(), 0, p.describe())


class TestOutsideLocks(OutsideCase):
    def test_rwlock(self):
        p, info = self.start("rwlock")
        doc = dump_doc(self, info.pid)
        self.assertEqual(doc["deadlocks"], [], doc)
        self.assert_waits(doc, info, "W2", "rw1", "rwlock", ["W1"])
        self.assert_waits(doc, info, "R3", "rw1", "rwlock", ["W1"],
            mode="shared")
        t = self.assert_waits(doc, info, "W3", "rw2", "rwlock", [])
        self.assertIn("held for reading by 2 thread(s)",
            t["waiting_for"]["note"], t)
        self.assertIn("cannot be named", t["waiting_for"]["note"], t)
        w1 = self.thread(doc, info, "W1")
        self.assertEqual([(h["addr"], h["kind"]) for h in gw.held(w1)],
            [(info.locks["rw1"], "rwlock")], w1)
        for name in ("R1", "R2"):
            # Readers are a count in the lock: nothing names them.
            self.assertEqual(gw.held(self.thread(doc, info, name)), [])
        # Without stacks, only the writer that waits for a writer is
        # told from the words; the others are not guessed at.
        doc = dump_doc(self, info.pid, "--no-stacks")
        t = self.assert_waits(doc, info, "W2", "rw1", "rwlock", ["W1"])
        self.assertTrue(t["waiting_for"]["inferred"], t)
        for name in ("R3", "W3"):
            w = gw.waiting(self.thread(doc, info, name))
            self.assertEqual((w["kind"], w["owners"]), ("futex", []), w)
        p.release()
        self.assertEqual(p.wait(), 0, p.describe())

    def test_pi_mutex(self):
        p, info = self.start("pi")
        for opts in ([], ["--no-stacks"]):
            with self.subTest(opts=opts):
                doc = dump_doc(self, info.pid, *opts)
                t = self.assert_waits(doc, info, "P2", "pi", "mutex",
                    ["P1"])
                # LOCK_PI is used by PI mutexes alone: no inference.
                self.assertFalse(t["waiting_for"]["inferred"], t)
                self.assertEqual(gw.held_addrs(self.thread(doc, info,
                    "P1")), [info.locks["pi"]])
        p.release()
        self.assertEqual(p.wait(), 0, p.describe())

    def test_recursive_mutex(self):
        p, info = self.start("recursive")
        doc = dump_doc(self, info.pid)
        self.assert_waits(doc, info, "R2", "rec", "mutex", ["R1"])
        h = gw.held(self.thread(doc, info, "R1"))
        self.assertEqual([(x["addr"], x["count"]) for x in h],
            [(info.locks["rec"], 2)], h)
        r = dump(info.pid)
        self.assertEqual(r.returncode, 0, r)
        self.assertIn("   - locked mutex <0x%x> x2\n" % info.locks["rec"],
            r.stdout)
        p.release()
        self.assertEqual(p.wait(), 0, p.describe())

    def test_semaphore_has_no_owner(self):
        p, info = self.start("sem")
        doc = dump_doc(self, info.pid)
        t = self.assert_waits(doc, info, "S1", "sem", "semaphore", [])
        self.assertIn("no owner", t["waiting_for"]["note"], t)
        self.assertTrue(any(gw.frame_function(f) and "sem_wait" in
            gw.frame_function(f) for f in t["frames"]), t)
        doc = dump_doc(self, info.pid, "--no-stacks")
        w = gw.waiting(self.thread(doc, info, "S1"))
        self.assertEqual((w["kind"], w["owners"]), ("futex", []), w)
        r = dump(info.pid)
        self.assertIn("a semaphore has no owner", r.stdout)
        p.release()
        self.assertEqual(p.wait(), 0, p.describe())


class TestOutsideDump(OutsideCase):
    def test_stacks_and_stop_times(self):
        p, info = self.start("abba")
        doc = dump_doc(self, info.pid, status=DEADLOCK)
        st = doc["stopped"]
        self.assertEqual(st["threads"], 3, st)
        self.assertGreater(st["max_seconds"], 0, st)
        self.assertGreaterEqual(st["total_seconds"], st["max_seconds"], st)
        a = self.thread(doc, info, "A")
        self.assertEqual(a["stack"], "ok", a)
        fns = [gw.frame_function(f) for f in a["frames"]]
        self.assertIn("ring_thread", fns, a)
        f = a["frames"][fns.index("ring_thread")]
        self.assertTrue(f["file"].endswith("outside.c"), f)
        self.assertGreater(f["line"], 0, f)
        r = dump(info.pid)
        self.assertRegex(r.stdout, r"Stopped 3 threads to unwind native "
            r"stacks: \d+\.\d{3} ms at most, \d+\.\d{3} ms in all\.\n")
        self.assertRegex(r.stdout, r"#\d+ +ring_thread\+0x[0-9a-f]+ "
            r"\(tests/integration/prog/outside\.c:\d+\) in outside\n")
        doc = dump_doc(self, info.pid, "--no-stacks", status=DEADLOCK)
        self.assertEqual(doc["stopped"]["threads"], 0, doc)
        for t in doc["threads"]:
            self.assertEqual((t["stack"], t["frames"]),
                ("unavailable", []), t)
        r = dump(info.pid, "--no-stacks")
        self.assertIn("Nothing was stopped.\n", r.stdout)
        p.release()
        self.assertEqual(p.wait(), 0, p.describe())

    def test_statistics_need_gilwatch_run(self):
        p, info = self.start("sem")
        for opt in ("--locks", "--gil"):
            r = dump(info.pid, opt)
            self.assertEqual(r.returncode, 1, r)
            self.assertTrue(one_line(r), r)
            self.assertIn("needs a process started under gilwatch run",
                r.stderr)
            self.assertEqual(r.stdout, "", r)
        p.release()
        self.assertEqual(p.wait(), 0, p.describe())

    def test_checksum_unchanged_by_dumps(self):
        """A program computing while it is dumped again and again, with
        and without stacks, prints what it prints undisturbed."""
        args = [OUTSIDE, "checksum", "4", "20000000"]
        ref = gw.run(args, timeout=gw.TIMEOUT * 4)
        self.assertEqual(ref.returncode, 0, ref)
        self.assertRegex(ref.stdout, r"^checksum \d+ \d+\n$")
        p = gw.Proc(args, self.tmp.name, hold=False, name="checksum")
        self.addCleanup(p.__exit__)
        p.wait_ready()
        dumps = 0
        while p.running() and dumps < 40:
            r = dump(p.p.pid, "--format=json", *(["--no-stacks"] if
                dumps % 2 else []))
            if r.returncode != 0 and not p.running():
                break
            self.assertEqual(r.returncode, 0, r)
            dumps += 1
        self.assertEqual(p.wait(timeout=gw.TIMEOUT * 4), 0, p.describe())
        self.assertGreaterEqual(dumps, 4, "too few dumps while it ran")
        self.assertEqual(p.stdout(), ref.stdout)

    def nobody(self):
        """setpriv's command line to run as nobody, and a directory of
        copies of gilwatch and the test program that nobody can reach
        (the clone may sit in a mode-700 directory)."""
        setpriv = shutil.which("setpriv")
        if os.geteuid() != 0 or setpriv is None:
            print("skip: needs root and setpriv")
            self.skipTest("needs root and setpriv")
        d = tempfile.mkdtemp(prefix="gwtest-nobody-")
        self.addCleanup(shutil.rmtree, d)
        os.chmod(d, 0o755)
        for f in (gw.GILWATCH, OUTSIDE):
            shutil.copy(f, d)
            os.chmod(os.path.join(d, os.path.basename(f)), 0o755)
        return [setpriv, "--reuid=65534", "--regid=65534",
            "--clear-groups"], d

    def test_not_dumpable_is_refused(self):
        """A process of the same user that made itself not dumpable:
        one line naming that rule."""
        as_nobody, d = self.nobody()
        p = gw.Proc([*as_nobody, os.path.join(d, "outside"), "nodump"],
            self.tmp.name, name="nodump")
        self.addCleanup(p.__exit__)
        p.wait_ready()
        pid = p.info().pid
        r = gw.run([*as_nobody, os.path.join(d, "gilwatch"), "dump",
            str(pid)])
        self.assertNotEqual(r.returncode, 0, r)
        self.assertEqual(r.stdout, "", r)
        self.assertTrue(one_line(r), r)
        self.assertIn("is not dumpable", r.stderr)
        # Root may read it (CAP_SYS_PTRACE).
        doc = dump_doc(self, pid)
        self.assertEqual([t["name"] for t in doc["threads"]],
            ["main", "S1"], doc)
        p.release()
        self.assertEqual(p.wait(), 0, p.describe())

    def test_unprivileged_user_is_refused(self):
        """A user reading root's process: one line naming the rule."""
        as_nobody, d = self.nobody()
        exe = os.path.join(d, "gilwatch")
        p, info = self.start("sem")
        r = gw.run([*as_nobody, exe, "dump", str(info.pid)])
        self.assertNotEqual(r.returncode, 0, r)
        self.assertEqual(r.stdout, "", r)
        self.assertTrue(one_line(r), r)
        self.assertIn("no permission", r.stderr)
        self.assertIn("run gilwatch as that user or as root", r.stderr)
        p.release()
        self.assertEqual(p.wait(), 0, p.describe())

    def test_root_without_ptrace_capability_is_refused(self):
        """root lacking CAP_SYS_PTRACE, reading a process that holds
        capabilities it lacks: the kernel refuses at the first read, not
        at the open, and the check up front names the capability."""
        setpriv = shutil.which("setpriv")
        if os.geteuid() != 0 or setpriv is None:
            print("skip: needs root and setpriv")
            self.skipTest("needs root and setpriv")
        p, info = self.start("sem")
        drop = [setpriv, "--bounding-set=-sys_ptrace",
            "--inh-caps=-sys_ptrace"]
        for cmd in (["dump", str(info.pid)],
                ["top", "--once", str(info.pid)]):
            r = gw.run([*drop, gw.GILWATCH, *cmd])
            self.assertNotEqual(r.returncode, 0, r)
            self.assertEqual(r.stdout, "", r)
            self.assertTrue(one_line(r), r)
            self.assertIn("no permission to read process %d" % info.pid,
                r.stderr)
            self.assertIn("CAP_SYS_PTRACE", r.stderr)
        p.release()
        self.assertEqual(p.wait(), 0, p.describe())


class TestOutsidePython(unittest.TestCase):
    """A CPython program started bare, dumped from outside: the GIL
    holder, names, Python frames merged into the native stack, a Lock
    ABBA through with blocks (holders inferred: a deadlock), an RLock's
    recorded owner, a Queue wait and a join named as the shim names
    them (on a free-threaded build: the spinner attached, the others
    detached, in place of the GIL).
    tests/integration/pyprog/attach_scenes.py parks the threads
    and says ready; threads may still be entering their waits, so the
    dump is repeated until every wait shows, within the timeout."""

    def run_one(self, exe):
        with gw.tempdir() as tmp:
            p, rec = gw.scenes(exe, tmp)
            with p:
                self.check(p.p.pid, rec,
                    os.path.basename(exe).endswith("t"))
                p.release()
                self.assertEqual(p.wait(), 0, p.describe())

    def check(self, pid, rec, free_threaded):
        tid = {name: v["native"] for name, v in rec["info"].items()}
        doc = gw.dump_scenes_settled(pid, tid)
        th = gw.threads(doc)
        for name, t in tid.items():
            self.assertEqual(th[t]["name"], name, th[t])
        # The GIL: the spinner holds it, nobody waits for it.  On a
        # free-threaded build: the spinner is attached, the others not.
        for name, t in tid.items():
            if free_threaded:
                self.assertEqual(th[t]["python_state"], "attached"
                    if name == "holder" else "detached", name)
            else:
                self.assertEqual(gw.gil_state(th[t]), "holds"
                    if name == "holder" else "released", name)
        # The Lock ABBA: each waits for the other's lock, inferred.
        a1, a2 = th[tid["abba-1"]], th[tid["abba-2"]]
        w1, w2 = gw.waiting(a1), gw.waiting(a2)
        self.assertEqual((w1["kind"], w1["owners"]), ("semaphore",
            [tid["abba-2"]]), a1)
        self.assertEqual((w2["kind"], w2["owners"]), ("semaphore",
            [tid["abba-1"]]), a2)
        self.assertTrue(a1["waiting_for"]["inferred"], a1)
        self.assertEqual(gw.held_addrs(a2), [w1["addr"]], a2)
        # Named by the address the shim names them by (gwsample).
        self.assertEqual((w1["addr"], w2["addr"]), (rec["addr"]["B"],
            rec["addr"]["A"]), doc)
        self.assertEqual(cycles(doc), [{(tid["abba-1"], w1["addr"],
            "semaphore", tid["abba-2"]), (tid["abba-2"], w2["addr"],
            "semaphore", tid["abba-1"])}], doc)
        self.assertIn(("abba", rec["marks"]["abba"]),
            gw.python_sites(a1["frames"]), a1)
        # The RLock: its owner is recorded, not inferred.
        rw = th[tid["rwaiter"]]
        self.assertEqual(gw.waiting(rw)["owners"], [tid["rowner"]], rw)
        self.assertFalse(rw["waiting_for"]["inferred"], rw)
        # A Queue's get: a notify wait on its Condition, no owner.
        q = gw.py_wait(th[tid["qwaiter"]])
        self.assertEqual((q["waits_for"], q["type"], q["via"]["type"],
            q["via"]["attribute"]), ("notify", "Condition", "Queue",
            "not_empty"), q)
        self.assertEqual(gw.waiting(th[tid["qwaiter"]])["owners"], [])
        # A join: the thread joined is the owner.
        j = th[tid["joiner"]]
        self.assertEqual(gw.py_wait(j)["waits_for"], "join", j)
        self.assertEqual(gw.waiting(j)["owners"], [tid["joinee"]], j)
        # Not the note of the wait underneath ("a semaphore has no
        # owner" on 3.13+, whose join parks on a semaphore).
        self.assertIsNone(j["waiting_for"]["note"], j)
        # From 3.13 a join waits for an event of its own, which the
        # thread joined does not hold (up to 3.12 it holds _tstate_lock).
        if rec["version"][:2] >= [3, 13]:
            self.assertNotIn(gw.waiting(j)["addr"],
                gw.held_addrs(th[tid["joinee"]]), th[tid["joinee"]])
        # Python frames stand in for the eval loop in the native stack.
        fns = [f["function"] for f in a1["frames"]]
        self.assertFalse(any(f and f.startswith("_PyEval_EvalFrame")
            for f in fns), fns)
        self.assertTrue(any(f["kind"] == "native" for f in a1["frames"]),
            a1)
        r = dump(pid)
        self.assertIn('"abba-1" tid=%d blocked' % tid["abba-1"], r.stdout)
        self.assertIn(", Python attached" if free_threaded else
            "holds the GIL", r.stdout)
        self.assertIn("Found one deadlock (2 threads):", r.stdout)


gw.add_interpreter_tests(TestOutsidePython, free_threaded=True)


class TestCallbackStack(unittest.TestCase):
    """Python called back from C (a sort calling its key): the merged
    stack keeps the C between the two eval-loop calls, innermost first:
    key's frame, the sort's C frames, then main's and the module's (it
    put every Python frame at the innermost call, so the sort showed
    below <module>).  Read from outside and by the shim (gilwatch run,
    then gilwatch dump), each on pyprog/callback_wait.py."""

    def run_one(self, exe):
        marks = gw.source_marks(gw.pyprog("callback_wait"))
        minor = int(gw.run([exe, "-c", "import sys; "
            "print(sys.version_info[1])"]).stdout)
        for under in ((), (gw.GILWATCH, "run", "--")):
            with self.subTest(shim=bool(under)), gw.tempdir() as tmp:
                env = dict(os.environ)
                env.pop("LD_PRELOAD", None)
                env.pop("PYTHONPATH", None)
                with gw.Proc([*under, exe, gw.pyprog("callback_wait")],
                        tmp, env=env) as p:
                    p.wait_ready()
                    doc = gw.dump_settled(p.p.pid, lambda st, d:
                        st == 0 and ("key", marks["key_waits"]) in
                        gw.python_sites(d), "key's read")
                    self.check(doc, marks, minor)
                    p.release()
                    self.assertEqual(p.wait(), 0, p.describe())

    def check(self, doc, marks, minor):
        main = [t for t in gw.threads(doc).values()
            if ("main", marks["main_sorts"]) in gw.python_sites(t)]
        self.assertEqual(len(main), 1, doc)
        frames = main[0]["frames"]
        seq = [(f["kind"], f["function"]) for f in frames]
        py = [i for i, f in enumerate(frames) if f["kind"] == "python"]
        names = [frames[i]["function"] for i in py]
        self.assertEqual(names[:3], ["key", "main", "<module>"], seq)
        # C between key and main (the sort).  From 3.11 one eval-loop
        # call ran both main and <module>: nothing between them; before,
        # each frame had a call of its own, with C frames between.
        self.assertTrue(any(f["kind"] == "native"
            for f in frames[py[0] + 1:py[1]]), seq)
        self.assertEqual(py[2] == py[1] + 1, minor >= 11, seq)
        self.assertFalse(any((f["function"] or "").startswith(
            "_PyEval_EvalFrame") for f in frames), seq)


gw.add_interpreter_tests(TestCallbackStack, free_threaded=True)


class TestOutsidePythonLocks(unittest.TestCase):
    """Python lock waits read from outside, and what must not be
    guessed (tests/integration/pyprog/outside_locks.py, started bare):
    a Lock held in a with block names its holder (inferred) to the
    thread blocked on it; a Lock taken by a bare acquire() names nobody;
    a thread in Condition.wait that was notified and is taking the
    Condition's own RLock back waits for that lock's owner, not for a
    notify, while the other waiter still waits for one.  On 3.14+ the
    locks are PyMutexes and their waiters park in the parking lot: the
    same answers, read from other words (free-threaded builds too)."""

    def run_one(self, exe):
        gw.need(self, gw.GILWATCH)
        with gw.tempdir() as tmp:
            p, rec = gw.scenes(exe, tmp, prog="outside_locks")
            with p:
                tid = {n: v["native"] for n, v in rec["info"].items()}
                doc = gw.dump_locks_settled(p.p.pid, tid)
                text = dump(p.p.pid)
                p.release()
                self.assertEqual(p.wait(), 0, p.describe())
        self.check(doc, text, tid)

    def check(self, doc, text, tid):
        th = gw.threads(doc)
        self.assertEqual(gw.deadlocks(doc), [], doc)
        # The with block's Lock: its holder, inferred.
        wt, ht = th[tid["waiter"]], th[tid["holder"]]
        w = gw.waiting(wt)
        self.assertEqual((w["kind"], w["owners"]), ("semaphore",
            [tid["holder"]]), wt)
        self.assertEqual(w["py_type"], "threading.Lock", wt)
        self.assertIsNotNone(w["py_object"], wt)
        self.assertTrue(wt["waiting_for"]["inferred"], wt)
        self.assertIsNone(gw.py_wait(wt), wt)
        self.assertIn(w["addr"], gw.held_addrs(ht), ht)
        # A bare acquire(): nobody is named.
        bt = th[tid["bare-waiter"]]
        b = gw.waiting(bt)
        self.assertEqual((b["kind"], b["owners"]), ("semaphore", []), bt)
        self.assertFalse(bt["waiting_for"]["inferred"], bt)
        self.assertNotEqual(b["addr"], w["addr"])
        # Taking the Condition's RLock back: its recorded owner.
        ct, ot = th[tid["c-back"]], th[tid["c-owner"]]
        c = gw.waiting(ct)
        self.assertEqual((c["kind"], c["owners"], c["py_type"]),
            ("semaphore", [tid["c-owner"]], "threading.RLock"), ct)
        self.assertFalse(ct["waiting_for"]["inferred"], ct)
        self.assertIn(c["addr"], gw.held_addrs(ot), ot)
        # The waiter left unnotified waits for a notify on the same
        # Condition, from nobody.
        nt = th[tid["c-notify"]]
        n = gw.py_wait(nt)
        self.assertEqual((n["waits_for"], n["type"]), ("notify",
            "Condition"), nt)
        self.assertEqual(gw.waiting(nt)["owners"], [], nt)
        self.assertNotEqual(gw.waiting(nt)["addr"], c["addr"])
        # The text report says the same.
        self.assertEqual(text.returncode, 0, text)
        self.assertRegex(text.stdout, r'"waiter" tid=%d blocked[^\n]*\n'
            r'[^\n]*last taken by "holder" tid=%d[^\n]*\n[^\n]*inferred'
            % (tid["waiter"], tid["holder"]))
        self.assertRegex(text.stdout, r'"c-back" tid=%d blocked[^\n]*\n'
            r'[^\n]*held by "c-owner" tid=%d[^\n]*\n[^\n]*an '
            r'RLock: its owner is recorded' % (tid["c-back"],
            tid["c-owner"]))
        self.assertRegex(text.stdout, r'"bare-waiter" tid=%d blocked'
            r'[^\n]*\n[^\n]*waiting to lock threading.Lock <0x[0-9a-f]+>'
            r'( \(object 0x[0-9a-f]+\))?\n[^\n]*no with block was seen'
            % tid["bare-waiter"])


gw.add_interpreter_tests(TestOutsidePythonLocks, free_threaded=True)


class TestOutsideTopPython(unittest.TestCase):
    """`gilwatch top --once PID` of attach_scenes.py started bare: the
    dashboard read from outside shows the Lock ABBA as a deadlock with
    inferred holders and the RLock waiter blocked on its owner, on every
    interpreter (3.14+: PyMutexes, read from the parking lot), each lock
    named by its Python type, as dumps name it."""

    def run_one(self, exe):
        gw.need(self, gw.GILWATCH)
        with gw.tempdir() as tmp:
            p, rec = gw.scenes(exe, tmp)
            with p:
                tid = {n: v["native"] for n, v in rec["info"].items()}
                want = [r"(?m)^DEADLOCK: ",
                    r"(?m)^\s*%d\s+abba-1\s.*DEADLOCKED on threading\.Lock "
                    r"0x[0-9a-f]+ held by %d \(inferred\)" % (tid["abba-1"],
                    tid["abba-2"]),
                    r"(?m)^\s*%d\s+abba-2\s.*DEADLOCKED on threading\.Lock "
                    r"0x[0-9a-f]+ held by %d \(inferred\)" % (tid["abba-2"],
                    tid["abba-1"]),
                    r"(?m)^\s*%d\s+rwaiter\s.*BLOCKED on threading\.RLock "
                    r"0x[0-9a-f]+ held by %d\s" % (tid["rwaiter"],
                    tid["rowner"])]
                last = [None]

                def once():
                    r = last[0] = gw.run([gw.GILWATCH, "top", "--once",
                        str(p.p.pid)])
                    return r.returncode == 0 and all(re.search(w, r.stdout)
                        for w in want)
                try:
                    gw.poll_until(once, what="the ABBA and the RLock wait "
                        "in top")
                except AssertionError as e:
                    raise AssertionError("%s; last: %s" % (e, last[0]))
                p.release()
                self.assertEqual(p.wait(), 0, p.describe())


gw.add_interpreter_tests(TestOutsideTopPython)



PARKED = gw.pyprog("parked")
READS_PER_THREAD = 24   # 21-23 on 3.8-3.13.0: see TestOutsideReadCounts
# Where threading.Lock is a PyMutex (3.13.1 and later, whose waiters are
# found through the parking lot's entry on their stacks): 26-27.1
# measured on 3.14.7 and 3.15.0rc1 (30-32.2 before a Condition's _lock
# was kept once a dump), 26.1 on 3.13.15, and it moves from run to run
# there (the caches serve these layouts less well; not yet looked into).
READS_PER_THREAD_MUTEX = 36
# Their process_vm_readv calls: reads of one page share one call, and
# the first frames and the waited-on words of 64 threads at a time are
# read together (mem_cache_prefetch).  Measured 2026-12-06 a thread,
# with the page copies in sets of four: 0.4-0.9 on 3.11-3.15, 1.4 on
# 3.13.0, 2.0-2.1 on 3.8-3.10 (frame objects, each on its own), the
# same within 0.1 from process to process.  With one slot a page they
# moved with where the pages fell: 2.5-2.9 on 3.8 here, 4.6 once in
# CI.  One read a call, as before, is 20 or more.
CALLS_PER_THREAD = 4


def futex_waiters(pid):
    """How many threads of pid sleep in futex(2), from /proc."""
    n = 0
    for tid in gw.tasks(pid):
        try:
            with open("/proc/%d/task/%d/syscall" % (pid, tid)) as f:
                n += f.read().split(" ", 1)[0] == "202"
        except OSError:
            pass
    return n


class TestOutsideReadCounts(unittest.TestCase):
    """What a dump of many Python threads reads grows by a small
    constant per thread: the memory reads of a dump of 100 threads
    parked in Queue.get and Event.wait (tests/integration/pyprog/
    parked.py) less those of 10 threads stay within 90 *
    READS_PER_THREAD, and the system calls they take within 90 *
    CALLS_PER_THREAD, the least of three dumps each.  Counts, not
    times (bench/outside-dump has the times): they move with the
    machine's load only while a thread settles.  A reader that
    looks a thread up by a scan of a dict, or reads each code object
    again for each frame, fails this.  gilwatch says its counts on
    stderr when GW_COUNT_READS is set."""

    def reads(self, exe, n):
        with gw.tempdir() as tmp:
            env = dict(os.environ)
            env.pop("LD_PRELOAD", None)
            with gw.Proc([exe, PARKED, str(n)], tmp, env=env) as p:
                p.wait_ready()
                gw.poll_until(lambda: futex_waiters(p.p.pid) >= n,
                    what="%d threads parked in futex waits" % n)
                # The least of three dumps: a thread still settling
                # into its wait as one is read costs that dump a few
                # reads more (seen at load: 4.0 calls a thread once,
                # 2.5 to 3.0 otherwise); the reader's own cost is what
                # every dump pays.
                counts = []
                for _ in range(3):
                    r = gw.run([gw.GILWATCH, "dump", "--no-stacks",
                        str(p.p.pid)], env=dict(env, GW_COUNT_READS="1"))
                    self.assertEqual(r.returncode, 0, r)
                    self.assertEqual(r.stdout.count('"parked-'), n, r)
                    m = re.search(r"(\d+) memory reads in (\d+) system "
                        "calls", r.stderr)
                    self.assertIsNotNone(m, r)
                    counts.append((int(m.group(1)), int(m.group(2))))
                p.release()
                self.assertEqual(p.wait(), 0, p.describe())
                return min(c[0] for c in counts), min(c[1] for c in counts)

    def run_one(self, exe):
        gw.need(self, gw.GILWATCH)
        (few, fewcalls), (many, manycalls) = self.reads(exe, 10), \
            self.reads(exe, 100)
        print("%s: %d memory reads in %d system calls for 10 threads, "
            "%d in %d for 100: %.1f reads and %.2f calls a thread" % (exe,
            few, fewcalls, many, manycalls, (many - few) / 90,
            (manycalls - fewcalls) / 90))
        per = READS_PER_THREAD_MUTEX if gw.py_mutex_locks(exe) else \
            READS_PER_THREAD
        self.assertLessEqual(many - few, 90 * per,
            "%s: %d reads for 10 threads, %d for 100" % (exe, few, many))
        self.assertLessEqual(manycalls - fewcalls, 90 * CALLS_PER_THREAD,
            "%s: %d system calls for 10 threads, %d for 100 (%d and %d "
            "reads)" % (exe, fewcalls, manycalls, few, many))


gw.add_interpreter_tests(TestOutsideReadCounts)


MANYTHREADS = gw.prog("manythreads")


def frames_of(doc):
    """Every thread's frames as (function, module, file, line)."""
    return {t["tid"]: [(f.get("function"), f.get("module"), f.get("file"),
        f.get("line")) for f in t["frames"]] for t in doc["threads"]}


class TestOutsideQuietStacks(unittest.TestCase):
    """A thread asleep in a system call is unwound without being
    stopped (from the stack pointer and program counter /proc shows)
    when it stays asleep throughout and no register but those two is
    needed; any other is stopped.  The stacks are the same frames as
    when every thread is stopped (GW_UNWIND_STOP=1), on the same
    process: C threads in a condition wait (tests/integration/prog/
    manythreads), and Python threads in Queue.get and Event.wait
    (parked.py) on every interpreter."""

    def compare(self, args, n, quiet_at_least):
        with gw.tempdir() as tmp:
            env = dict(os.environ)
            env.pop("LD_PRELOAD", None)
            with gw.Proc(args + [str(n)], tmp, env=env) as p:
                p.wait_ready()
                gw.poll_until(lambda: futex_waiters(p.p.pid) >= n,
                    what="%d threads parked in futex waits" % n)
                quiet = dump_doc(self, p.p.pid)
                r = gw.run([gw.GILWATCH, "dump", "--format=json",
                    str(p.p.pid)], env=dict(os.environ,
                    GW_UNWIND_STOP="1"))
                self.assertEqual(r.returncode, 0, r)
                stopped = gw.parse_json_docs(r.stdout)[0]
                p.release()
                self.assertEqual(p.wait(), 0, p.describe())
        self.assertEqual(stopped["stopped"]["threads"], n + 1, stopped)
        self.assertLessEqual(quiet["stopped"]["threads"],
            n + 1 - quiet_at_least, quiet["stopped"])
        self.assertEqual(frames_of(quiet), frames_of(stopped))
        for t in quiet["threads"]:
            self.assertEqual(t["stack"], "ok", t)
        print("%s: %d of %d threads stopped" % (os.path.basename(args[0]),
            quiet["stopped"]["threads"], n + 1))

    def test_c(self):
        gw.need(self, gw.GILWATCH, MANYTHREADS)
        # The main thread reads in -O0 code: its frame pointer is not
        # among the registers /proc shows, so it is stopped.
        self.compare([MANYTHREADS], 10, 10)

    def run_one(self, exe):
        gw.need(self, gw.GILWATCH)
        # Some builds unwind through frame pointers: only say how many.
        self.compare([exe, PARKED], 10, 0)


gw.add_interpreter_tests(TestOutsideQuietStacks)


if __name__ == "__main__":
    unittest.main()
