"""Stalled event loops (`gilwatch run --loop-stall=MS`): a coroutine
that blocks the loop's thread is reported, with its line and what the
thread is doing (a system call, a lock and its owner); an idle loop is
not.  The programs are samples/async_sleep_in_loop.py (time.sleep in a
coroutine) and pyprog/loop_stall.py; every installed CPython,
free-threaded builds too (the loop's turn is timed at epoll_wait and
the loop found by its Python frames, which every version has)."""

import json
import os
import re
import sys
import unittest

try:
    from . import gwtest as gw
except ImportError:
    import gwtest as gw

PROG = gw.pyprog("loop_stall")
MARKS = gw.source_marks(PROG)
SAMPLE = gw.py_sample("async_sleep_in_loop")
SAMPLE_MARKS = gw.source_marks(SAMPLE)
LIMIT_MS = 200


def loop_stalls(path):
    """The loop_stall objects of a JSON report file."""
    if not os.path.isfile(path):
        return []
    with open(path) as f:
        text = f.read()
    return [d["loop_stall"] for d in gw.parse_json_docs(text)
        if "loop_stall" in d]


def written(path, done):
    """Is a report in path written to its end (done(text)), not only
    begun?  The test reads while the shim writes."""
    if not os.path.isfile(path):
        return False
    with open(path) as f:
        text = f.read()
    try:
        return done(text)
    except ValueError:
        return False


def json_done(text):
    return any("loop_stall" in d for d in gw.parse_json_docs(text))


class TestLoopStall(unittest.TestCase):
    def tmpdir(self):
        td = gw.tempdir()
        self.addCleanup(td.cleanup)
        return td.name

    def stalled(self, exe, args, opts=("--format=json",), done=json_done):
        """Run ARGS under gilwatch run until its first loop stall is
        out (done(text) of the report file); return (the file's path,
        the program's sample info, its text).  The program is killed (or
        let go) after."""
        tmp = self.tmpdir()
        out = os.path.join(tmp, "report")
        env = dict(os.environ, GW_SLEEP="3600")
        with gw.Proc([gw.GILWATCH, "run", "--loop-stall=%d" % LIMIT_MS,
            "--output=" + out, *opts, "--", exe, *args], tmp,
            env=env) as p:
            p.wait_ready()
            gw.poll_until(lambda: written(out, done), gw.DEADLOCK_TIMEOUT,
                "loop stall report from %s" % p.describe())
            info = p.info()
            p.release()
        with open(out) as f:
            return out, info, f.read()

    def check_sleep(self, exe):
        path, info, _ = self.stalled(exe, [SAMPLE])
        stalls = loop_stalls(path)
        self.assertEqual(len(stalls), 1, stalls)
        s = stalls[0]
        main = info.threads["main"]
        self.assertEqual((s["pid"], s["tid"], s["name"]),
            (info.pid, main, "MainThread"))
        self.assertGreaterEqual(s["seconds"], LIMIT_MS / 1000)
        self.assertEqual(s["limit_ms"], LIMIT_MS)
        # time.sleep: clock_nanosleep from 3.11, select before.
        self.assertEqual(s["syscall"], "clock_nanosleep" if
            gw.py_minor(exe) >= 11 else "pselect6")
        top = s["python"][0]
        self.assertEqual((top["function"], os.path.basename(top["file"]),
            top["line"]), ("blocker", "async_sleep_in_loop.py",
            SAMPLE_MARKS["blocking_sleep"]))
        self.assertIn("_run_once", [f["function"].split(".")[-1]
            for f in s["python"]])
        self.assertEqual(s["thread"]["tid"], main)
        self.assertEqual(s["thread"]["state"], "running")
        self.assertEqual(gw.python_frames(s["thread"])[0][::2],
            ("blocker", SAMPLE_MARKS["blocking_sleep"]))
        # 3.14+: the loop's running task, by name, from its tasks.
        if gw.py_minor(exe) >= 14:
            loop = s["thread"]["asyncio"]
            running = [t["name"] for t in loop["tasks"]
                if t["addr"] == loop["running_task"]]
            self.assertEqual(running, ["blocker"], loop)

    def check_lock(self, exe):
        path, info, _ = self.stalled(exe, [PROG, "lock"])
        stalls = loop_stalls(path)
        self.assertEqual(len(stalls), 1, stalls)
        s = stalls[0]
        main, holder = info.threads["MainThread"], info.threads["holder"]
        self.assertEqual(s["tid"], main)
        self.assertIsNone(s["syscall"], "a wait the shim sees")
        top = s["python"][0]
        self.assertEqual((top["function"], top["line"]),
            ("locker", MARKS["lock"]))
        self.assertEqual(s["thread"]["state"], "blocked")
        if gw.shim_sees_py_locks(exe):
            self.assertEqual(gw.waiting(s["thread"])["owners"], [holder])

    def check_idle(self, exe):
        tmp = self.tmpdir()
        out = os.path.join(tmp, "report")
        r = gw.run_under_gilwatch([exe, PROG, "idle"],
            ["--loop-stall=%d" % LIMIT_MS, "--format=json",
             "--output=" + out])
        self.assertEqual(r.returncode, 0, r)
        self.assertEqual(loop_stalls(out), [], "an idle loop is no stall")

    def run_one(self, exe):
        gw.need(self, gw.GILWATCH, gw.SHIM)
        with self.subTest(scene="sleep"):
            self.check_sleep(exe)
        with self.subTest(scene="lock"):
            self.check_lock(exe)
        with self.subTest(scene="idle"):
            self.check_idle(exe)

    def test_text_report(self):
        found, _ = gw.pythons(range(12, 13))
        if not found:
            print("skip: python3.12 not installed")
            self.skipTest("python3.12 not installed")
        _, info, text = self.stalled(found[0][1], [SAMPLE], opts=(),
            done=lambda text: "<module> (%s:" % SAMPLE in text and
            text.endswith("\n\n"))
        main = info.threads["main"]
        self.assertIn("gilwatch loop stall: pid %d" % info.pid, text)
        self.assertIn("The event loop of \"MainThread\" tid=%d has not "
            "come back to its selector for " % main, text)
        self.assertIn("(--loop-stall=%d ms)" % LIMIT_MS, text)
        self.assertIn("   - the thread is in the system call "
            "clock_nanosleep\n", text)
        self.assertIn("#0  blocker (%s:%d) [py]" % (SAMPLE,
            SAMPLE_MARKS["blocking_sleep"]), text)

    def test_off(self):
        """--loop-stall=off: nothing, however long the turn."""
        found, _ = gw.pythons(range(12, 13))
        if not found:
            print("skip: python3.12 not installed")
            self.skipTest("python3.12 not installed")
        tmp = self.tmpdir()
        out = os.path.join(tmp, "report")
        r = gw.run_under_gilwatch([found[0][1], "-c",
            "import asyncio, time\n"
            "async def f(): time.sleep(1.5)\n"
            "asyncio.run(f())"], ["--loop-stall=off", "--format=json",
            "--output=" + out])
        self.assertEqual(r.returncode, 0, r)
        self.assertEqual(loop_stalls(out), [])

    def test_bad_value(self):
        gw.need(self, gw.GILWATCH)
        r = gw.run([gw.GILWATCH, "run", "--loop-stall=0", "--", "true"])
        self.assertEqual(r.returncode, 2, r)
        self.assertIn("--loop-stall=0: not off or a number of "
            "milliseconds from 1 to 86400000", r.stderr)


gw.add_interpreter_tests(TestLoopStall, free_threaded=True)


class TestEpollHooks(unittest.TestCase):
    """The epoll hooks change nothing the program sees: return values
    and errno (kept on success, the call's on failure), through ctypes
    (the dlsym hook hands out the hooks) and select.epoll."""

    def test_same_as_bare(self):
        gw.need(self, gw.GILWATCH, gw.SHIM)
        args = [sys.executable, gw.pyprog("epoll_errno")]
        bare = gw.run(args)
        self.assertEqual(bare.returncode, 0, bare)
        under = gw.run_under_gilwatch(args, ["--no-report"])
        self.assertEqual(under.returncode, 0, under)
        self.assertEqual(under.stdout, bare.stdout)
        self.assertIn("epoll_wait ready 1 1234\n", bare.stdout)
        self.assertIn("epoll_pwait bad fd -1 EBADF\n", bare.stdout)


class TestAwaitCycleLook(unittest.TestCase):
    """Two tasks awaiting each other (samples/async_await_cycle.py)
    under `gilwatch run`: no thread blocks, the loop idles, and the
    helper's periodic look finds the cycle in the tasks (3.14+, which
    describe their tasks) and reports it once, as a deadlock.  The
    sample lives GW_DEADLOCK_WAIT=3 seconds after the cycle forms, so
    that two looks or more follow the one that reported it."""

    def run_one(self, exe):
        gw.need(self, gw.GILWATCH, gw.SHIM)
        with gw.tempdir() as tmp:
            _, info, docs = gw.run_with_report(self, tmp,
                [exe, gw.py_sample("async_await_cycle")], status=3,
                env=dict(os.environ, GW_DEADLOCK_WAIT="3"))
        found = [d for d in docs if d.get("reason") == "deadlock"]
        self.assertEqual(len(found), 1, "one report per cycle: %s" %
            json.dumps(found)[:2000])
        doc = found[0]
        self.assertEqual(len(doc["deadlocks"]), 1, doc["deadlocks"])
        links = doc["deadlocks"][0]["links"]
        main = info.threads["main"]
        self.assertEqual(sorted((l["task"]["name"], l["task"]["awaits"],
            l["tid"]) for l in links), [("cycle-a", "task", main),
            ("cycle-b", "task", main)])


gw.add_interpreter_tests(TestAwaitCycleLook, minors=range(14, 16),
    system=(), free_threaded=True)



try:
    from . import test_top as top
except ImportError:
    import test_top as top


class TestTopTasks(unittest.TestCase):
    """`gilwatch top`: a (tasks) on the selected thread shows its loop's
    tasks, under gilwatch run and read from outside; the detail view
    shows a loop's turn live, a stall marked (3.14+, whose tasks are
    read; the turn on every version, checked on the same ones)."""

    def tmpdir(self):
        td = gw.tempdir()
        self.addCleanup(td.cleanup)
        return td.name

    def dashboard_on(self, p):
        """top on sample p once ready, its loop thread (the only one,
        selected) in the table."""
        p.wait_ready()
        return self.top_on(p)

    def top_on(self, p, *opts):
        """top OPTS on sample p (ready), its loop thread in the table."""
        if top.TMUX is None:
            self.fail("tmux is not installed")
        info = p.info()
        t = top.Tmux([gw.GILWATCH, "top", "-d", "0.2", *opts,
            str(info.pid)], cwd=self.tmpdir())
        self.addCleanup(t.close)
        t.wait_text(r"^\s*%d\s" % info.threads["main"],
            "the loop's thread in the table")
        return t

    def tasks_shown(self, exe, under):
        """The await cycle's tasks in top's tasks view."""
        tmp = self.tmpdir()
        args = [exe, gw.py_sample("async_await_cycle")]
        with gw.Proc(gw.gilwatch_cmd(args) if under else args, tmp) as p:
            t = self.dashboard_on(p)
            t.keys("a")
            s = t.wait_text(r"^\s+task \"cycle-b\" <0x[0-9a-f]+> pending, "
                r"awaits task \"cycle-a\"", "cycle-b in the tasks view")
            self.assertRegex(s, r"(?m)^\s+task \"cycle-a\" <0x[0-9a-f]+> "
                r"pending, awaits task \"cycle-b\"")
            self.assertRegex(s, r"(?m)^\s+#0\s+b_body \(.*async_await_cycle"
                r"\.py:%d\) \[py\]" % gw.source_marks(gw.py_sample(
                "async_await_cycle"))["b_awaits_a"])
            self.assertRegex(s, r"(?m)^Tasks of its asyncio loop, %s" % (
                "from a thread dump" if under else "read from outside"))
            t.keys("a")
            t.wait_text(r"^Stack", "a again: the stack")

    def turn_shown(self, exe):
        """The blocked loop's turn, live, in the detail view, marked
        against the program's --loop-stall, then against top's."""
        tmp = self.tmpdir()
        with gw.Proc(gw.gilwatch_cmd([exe, SAMPLE], ["--loop-stall=%d" %
            TOP_PROGRAM_MS]), tmp, env=dict(os.environ,
            GW_SLEEP="3600")) as p:
            t = self.dashboard_on(p)
            t.keys("Enter")
            t.wait_text(r"^Event loop: in a turn for [0-9.]+ ?m?s without "
                r"coming back to epoll \(a loop stall: over %d ms, the "
                r"program's --loop-stall\)$" % TOP_PROGRAM_MS,
                "the turn, a stall past the program's threshold")
            t = self.top_on(p, "--loop-stall=off")
            t.keys("Enter")
            t.wait_text(r"^Event loop: in a turn for [0-9.]+ ?m?s without "
                r"coming back to epoll \(no stall marked: top's "
                r"--loop-stall is off\)$", "the turn, stalls off")

    def run_one(self, exe):
        gw.need(self, gw.GILWATCH, gw.SHIM)
        with self.subTest(view="tasks, under gilwatch run"):
            self.tasks_shown(exe, True)
        with self.subTest(view="tasks, from outside"):
            self.tasks_shown(exe, False)
        with self.subTest(view="the loop's turn"):
            self.turn_shown(exe)


gw.add_interpreter_tests(TestTopTasks, minors=range(14, 16), system=(),
    free_threaded=True)


TOP_PROGRAM_MS = 250    # the program's --loop-stall in the top tests
TOP_OWN_MS = 600        # top's, past the program's


def stall_mark(ms):
    """A thread-list STATE marked as a loop stall past ms: in full, or
    as the column's compact form when the full one does not fit."""
    return (r"LOOP STALL over %d ms \(--loop-stall\)|STALL>%dms(\s|$)" %
        (ms, ms))


class TestTopLoopStall(unittest.TestCase):
    """`gilwatch top --once` marks a loop stall in the thread list against
    the program's own threshold (its `gilwatch run --loop-stall=MS`,
    published in its shared-memory file), or top's --loop-stall=MS|off
    when given; every CPython (the turn is timed at epoll_wait on all).
    Each wait for the turn to grow past a threshold is bounded."""

    def tmpdir(self):
        td = gw.tempdir()
        self.addCleanup(td.cleanup)
        return td.name

    def blocked_loop(self, exe, opts):
        """samples/async_sleep_in_loop.py under gilwatch run OPTS, its
        loop blocked in time.sleep: (the Proc, a function giving the
        loop thread's row of `top --once [args]`)."""
        gw.need(self, gw.GILWATCH, gw.SHIM)
        p = gw.Proc(gw.gilwatch_cmd([exe, SAMPLE], ["--no-report",
            *opts]), self.tmpdir(), env=dict(os.environ, GW_SLEEP="3600"))
        self.addCleanup(p.__exit__, None, None, None)
        p.wait_ready()
        info = p.info()
        tid = info.threads["main"]

        def row(*args):
            r = gw.run([gw.GILWATCH, "top", "--once", *args,
                str(info.pid)], env=dict(os.environ, COLUMNS="160"))
            self.assertEqual(r.returncode, 0, r)
            m = re.search(r"(?m)^\s*%d\s.*$" % tid, r.stdout)
            self.assertIsNotNone(m, r.stdout)
            return m.group(0)
        return p, row

    def run_one(self, exe):
        _, row = self.blocked_loop(exe, ["--loop-stall=%d" %
            TOP_PROGRAM_MS])
        gw.poll_until(lambda: re.search(stall_mark(TOP_PROGRAM_MS), row()),
            what="the loop thread marked past the program's %d ms" %
            TOP_PROGRAM_MS)
        own = "--loop-stall=%d" % TOP_OWN_MS
        gw.poll_until(lambda: re.search(stall_mark(TOP_OWN_MS), row(own)),
            what="the loop thread marked past top's %d ms" % TOP_OWN_MS)
        # The turn has run past both by now.
        self.assertRegex(row(), stall_mark(TOP_PROGRAM_MS))
        self.assertNotRegex(row(), stall_mark(100))
        self.assertNotIn("STALL", row("--loop-stall=off"))
        self.assertNotIn("STALL", row("--loop-stall=86400000"))

    def test_program_default(self):
        """A program run without --loop-stall publishes the default."""
        _, row = self.blocked_loop(sys.executable, [])
        gw.poll_until(lambda: re.search(stall_mark(100), row()),
            what="the loop thread marked past the default 100 ms")

    def test_program_off(self):
        """A program run with --loop-stall=off publishes off: no mark,
        however long the turn (past top's 100 ms by then).  The sample
        has one thread, and with the look off nothing starts the helper
        that publishes (top would read it from outside, where no turn is
        timed): --metrics, work on a clock, starts it."""
        _, row = self.blocked_loop(sys.executable, ["--loop-stall=off",
            "--metrics=" + os.path.join(self.tmpdir(), "m-%p.prom")])
        gw.poll_until(lambda: re.search(stall_mark(100),
            row("--loop-stall=100")), what="a turn past 100 ms")
        self.assertNotIn("STALL", row())

    def test_bad_values(self):
        """Refused before anything is read: one error line naming the
        rule, then the usage, status 2."""
        for v in ("0", "-5", "abc", "", "86400001", "1.5", "offf"):
            with self.subTest(value=v):
                r = gw.run([gw.GILWATCH, "top", "--once", "--loop-stall=" +
                    v, "1"])
                self.assertEqual(r.returncode, 2, r)
                lines = r.stderr.splitlines()
                self.assertEqual(lines[0], "gilwatch: --loop-stall=%s: not "
                    "off or a number of milliseconds from 1 to 86400000" % v,
                    r)
                self.assertTrue(all(l.startswith(("usage: ", " "))
                    for l in lines[1:]), r)


gw.add_interpreter_tests(TestTopLoopStall, free_threaded=True)


if __name__ == "__main__":
    unittest.main()
