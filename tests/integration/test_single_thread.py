"""A single-threaded program keeps one thread under gilwatch: the shim's
helper starts with the program's second thread.  Without it the dump
signal's handler writes the dump itself (async-signal-safe), and
`gilwatch dump PID` reads the program from outside, sending it no
signal: a sleep or an idle epoll loop runs its full time, with no
EINTR.  A program that starts a thread gets the helper, which is not
a thread of it: the monitor, a process of gilwatch's beside it."""

import os
import signal
import unittest

try:
    from . import gwtest as gw
    from .test_python import PythonCase, FORK_20_THEN_PARK
except ImportError:
    import gwtest as gw
    from test_python import PythonCase, FORK_20_THEN_PARK

SLEEP_MS = 1500         # what the sleeping programs sleep


def one_thread(tc, pid, what):
    tc.assertEqual(gw.tasks(pid), {pid}, "%s: threads %s, want the main "
        "thread alone" % (what, sorted(gw.tasks(pid))))


def no_libdw(tc, pid, what):
    """The shim loads libdw and libelf only to name code itself
    (lazylib.c): neither is mapped in a program that wrote no report."""
    with open("/proc/%d/maps" % pid) as f:
        libs = {l.split()[-1].rsplit("/", 1)[-1] for l in f
                if "/libdw" in l or "/libelf" in l}
    tc.assertEqual(libs, set(), "%s: mapped %s" % (what, sorted(libs)))


def asleep(pid):
    """Is pid's main thread asleep ('S' in /proc)?"""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "S"
    except (FileNotFoundError, IndexError):
        return False


def handler_dump(p):
    return "written by the handler of signal 3" in p.stderr()


class TestSingleThreadC(unittest.TestCase):
    def setUp(self):
        gw.need(self, gw.prog("single_thread"))

    def start(self, d, *args, hold=True):
        return gw.Proc(gw.gilwatch_cmd([gw.prog("single_thread"), *args],
            ["--no-report"]), d, hold=hold)

    def test_sigquit_dump_one_thread(self):
        """One thread; SIGQUIT dumps it from the handler: the main thread
        by name and TID, the mutex it holds; the program goes on."""
        with gw.tempdir() as d, self.start(d, "hold") as p:
            p.wait_ready()
            pid = p.p.pid
            one_thread(self, pid, "ready")
            m = gw.sample_info(p.stderr()).locks["m"]
            os.kill(pid, signal.SIGQUIT)
            gw.poll_until(lambda: handler_dump(p),
                what="dump after SIGQUIT: " + p.describe())
            err = p.stderr()
            self.assertIn('"single_thread" tid=%d running' % pid, err)
            self.assertIn("locked mutex <0x%x>" % m, err)
            self.assertIn("#0  0x", err, "no native frame: " + err)
            one_thread(self, pid, "after the dump")
            no_libdw(self, pid, "after the handler's dump")
            p.release()
            self.assertEqual(p.wait(), 0, p.describe())

    def test_dump_from_outside_no_eintr(self):
        """gilwatch dump of a sleeping single-threaded program reads it
        from outside; the sleep is not cut short."""
        with gw.tempdir() as d, self.start(d, "sleep", str(SLEEP_MS),
                hold=False) as p:
            p.wait_ready()
            pid = p.p.pid
            gw.poll_until(lambda: asleep(pid), what="asleep")
            one_thread(self, pid, "asleep")
            r = gw.run([gw.GILWATCH, "dump", str(pid)])
            self.assertEqual(r.returncode, 0, r)
            self.assertIn("no helper thread to ask", r.stdout)
            self.assertIn("tid=%d" % pid, r.stdout)
            self.assertIn("nanosleep", r.stdout)
            r, docs = gw.dump_json(pid)
            self.assertEqual(r.returncode, 0, r)
            self.assertEqual(list(gw.threads(docs[0])), [pid], docs)
            r = gw.run([gw.GILWATCH, "dump", "--locks", str(pid)])
            self.assertNotEqual(r.returncode, 0, r)
            self.assertIn("no gilwatch helper thread", r.stderr)
            self.assertEqual(p.wait(), 0, p.describe())
            slept = p.stdout().split()
            self.assertEqual(slept[0], "slept", p.describe())
            self.assertGreaterEqual(int(slept[1]), SLEEP_MS, p.describe())
            self.assertEqual(slept[2:], ["ms", "rc", "0", "errno", "0"],
                p.describe())

    def test_top_says_why_outside(self):
        """gilwatch top reads a single-threaded program from outside
        and says why: gilwatch is in it, its helper not yet."""
        with gw.tempdir() as d, self.start(d, "hold") as p:
            p.wait_ready()
            pid = p.p.pid
            r = gw.run([gw.GILWATCH, "top", "--once", str(pid)],
                env=dict(os.environ, COLUMNS="300"))
            self.assertEqual(r.returncode, 0, r)
            self.assertIn("gilwatch is in it, but its helper, which "
                "publishes", r.stdout)
            self.assertNotIn("not started under gilwatch", r.stdout)
            one_thread(self, pid, "after top")
            p.release()
            self.assertEqual(p.wait(), 0, p.describe())

    def test_lock_kinds_one_thread(self):
        """With one thread the shim takes a free mutex with glibc's lock,
        not its trylock: the same results as bare (EDEADLK, EBUSY,
        recursion), and every acquisition counted."""
        exe = gw.prog("single_thread")
        bare = gw.run([exe, "kinds"])
        self.assertEqual(bare.returncode, 0, bare)
        with gw.tempdir() as d:
            out = os.path.join(d, "r.json")
            r = gw.run_under_gilwatch([exe, "kinds"], ["--format=json",
                "--output=" + out])
            self.assertEqual(r.returncode, 0, r)
            self.assertEqual(r.stdout, bare.stdout)
            self.assertNotIn("FAIL", r.stdout)
            m = gw.sample_info(r.stderr).locks["m"]
            docs = gw.load_report(out)
            rows = [l for doc in docs if doc.get("reason") == "locks"
                for l in doc["locks"] if gw.addr(l["addr"]) == m]
            # KINDS_N, and the held-lock check's one.
            self.assertEqual([l["acquired"] for l in rows], [1001], docs)

    def test_later_thread_gets_helper(self):
        """One thread until the program starts one; then the helper is
        there, as the monitor process: the program has its own two
        threads and no third, a full dump on SIGQUIT, gilwatch dump
        asks it.  The monitor was forked at start-up and waited idle
        until then: gilwatch dump read the program from outside."""
        with gw.tempdir() as d, self.start(d, "thread") as p:
            p.wait_ready()
            pid = p.p.pid
            one_thread(self, pid, "before its thread")
            idle = gw.await_monitor(pid, "the idle monitor")
            r = gw.run([gw.GILWATCH, "dump", str(pid)])
            self.assertEqual(r.returncode, 0, r)
            self.assertIn("Read from outside", r.stdout)
            p.release()
            p.wait_ready()
            self.assertEqual(gw.monitor_of(pid), idle,
                "the monitor forked at start-up is the one that runs")
            self.assertEqual(len(gw.tasks(pid)), 2, "want the program's "
                "two threads alone: %s" % sorted(gw.tasks(pid)))
            r = gw.run([gw.GILWATCH, "dump", str(pid)])
            self.assertEqual(r.returncode, 0, r)
            self.assertIn("gilwatch thread dump", r.stdout)
            self.assertNotIn("Read from outside", r.stdout)
            os.kill(pid, signal.SIGQUIT)
            gw.poll_until(lambda: "gilwatch thread dump" in p.stderr(),
                what="dump after SIGQUIT: " + p.describe())
            self.assertFalse(handler_dump(p), p.describe())
            self.assertIn("2 threads", p.stderr())
            no_libdw(self, pid, "after the monitor's dumps")

    def test_clock_work_starts_helper(self):
        """--metrics and --stall ask for work on a clock, which is the
        helper's: a single-threaded program has it from the start (a
        process beside it, not a thread), and
        the metrics file is written while the program runs."""
        for opt in ("--metrics=%s", "--stall=5"):
            with self.subTest(opt=opt), gw.tempdir() as d:
                path = os.path.join(d, "m-%p.prom")
                p = gw.Proc(gw.gilwatch_cmd([gw.prog("single_thread"),
                    "hold"], ["--no-report", opt.replace("%s", path)]), d,
                    hold=True)
                with p:
                    p.wait_ready()
                    pid = p.p.pid
                    gw.await_monitor(pid)
                    one_thread(self, pid, "with the monitor")
                    if opt.startswith("--metrics"):
                        gw.poll_until(lambda: os.path.exists(
                            path.replace("%p", str(pid))),
                            what="the metrics file while it runs")
                    p.release()
                    self.assertEqual(p.wait(), 0, p.describe())


class TestSingleThreadPython(PythonCase):
    def start(self, exe, d, *args, hold=False, opts=()):
        return gw.Proc(gw.gilwatch_cmd([exe, gw.pyprog("single_thread"),
            *args], ["--no-report", *opts]), d, hold=hold)

    def test_sigquit_dump_one_thread(self):
        """One thread; SIGQUIT dumps it from the handler, with the Python
        frame it is parked in."""
        for label, exe in self.each_python():
            with self.subTest(python=label), gw.tempdir() as d, \
                    self.start(exe, d, "hold", hold=True) as p:
                p.wait_ready()
                pid = p.p.pid
                one_thread(self, pid, label)
                os.kill(pid, signal.SIGQUIT)
                gw.poll_until(lambda: handler_dump(p),
                    what="dump after SIGQUIT: " + p.describe())
                err = p.stderr()
                self.assertIn("tid=%d running" % pid, err)
                self.assertRegex(err, r"#\d+ +parked_here \(\S*"
                    r"single_thread\.py:\d+\) \[py\]")
                one_thread(self, pid, label + ", after the dump")
                p.release()
                self.assertEqual(p.wait(), 0, p.describe())

    def check_outside(self, how, opts=()):
        for label, exe in self.each_python():
            with self.subTest(python=label), gw.tempdir() as d, \
                    self.start(exe, d, how, str(SLEEP_MS / 1000),
                        opts=opts) as p:
                p.wait_ready()
                pid = p.p.pid
                gw.poll_until(lambda: asleep(pid), what="asleep")
                one_thread(self, pid, label)
                r = gw.run([gw.GILWATCH, "dump", str(pid)])
                self.assertEqual(r.returncode, 0, r)
                self.assertIn("no helper thread to ask", r.stdout)
                self.assertIn("tid=%d" % pid, r.stdout)
                self.assertRegex(r.stdout, r"parked_here \(\S*"
                    r"single_thread\.py:\d+\) \[py\]")
                self.assertEqual(p.wait(), 0, p.describe())
                ms = p.stdout().split()
                self.assertEqual(ms[0], "slept", p.describe())
                self.assertGreaterEqual(int(ms[1]), SLEEP_MS, p.describe())

    def test_dump_outside_time_sleep(self):
        """gilwatch dump of a program in time.sleep: read from outside,
        the sleep runs its full time."""
        self.check_outside("sleep")

    def test_dump_outside_asyncio_idle(self):
        """The same for an idle asyncio loop (epoll_wait), with the
        loop-stall look off: it is the helper's periodic scan, which
        a loop's first epoll_wait starts (test_asyncio_loop_helper)."""
        self.check_outside("asyncio", opts=["--loop-stall=off"])

    def test_asyncio_loop_helper(self):
        """With the loop-stall look on (the default), an asyncio loop
        starts the helper (the monitor process, no thread of the
        program's), which looks at it once a second."""
        for label, exe in self.each_python():
            with self.subTest(python=label), gw.tempdir() as d, \
                    self.start(exe, d, "asyncio", str(SLEEP_MS / 1000)) as p:
                p.wait_ready()
                pid = p.p.pid
                gw.await_monitor(pid)
                one_thread(self, pid, label + ", with the monitor")
                r = gw.run([gw.GILWATCH, "dump", str(pid)])
                self.assertEqual(r.returncode, 0, r)
                self.assertNotIn("Read from outside", r.stdout)
                self.assertEqual(p.wait(), 0, p.describe())

    # Starts four threads and joins them (the helper is there from the
    # first), then forks 20 times with every warning an error: 3.12+
    # raises on a fork that counts two threads.
    AFTER_THREADS = ("import os, threading\n"
        "os.write(2, b'gw-sample: pid %d\\n' % os.getpid())\n"
        "ts = [threading.Thread(target=len, args=((),)) for _ in range(4)]\n"
        "for t in ts: t.start()\n"
        "for t in ts: t.join()\n" + FORK_20_THEN_PARK)

    def test_fork_after_threads_no_pause(self):
        """A program back to one thread forks as one, with nothing
        paused: its helper is the monitor, a process.  It is watched
        all along: gilwatch dump is answered by the monitor."""
        for label, exe in self.each_python():
            with self.subTest(python=label), gw.tempdir() as d, \
                    gw.Proc(gw.gilwatch_cmd([exe, "-W", "error", "-c",
                        self.AFTER_THREADS], ["--no-report"]), d,
                        hold=True) as p:
                p.wait_ready()
                pid = p.info().pid
                one_thread(self, pid, label)
                self.assertIsNotNone(gw.monitor_of(pid), "no monitor")
                r = gw.run([gw.GILWATCH, "dump", str(pid)])
                self.assertEqual(r.returncode, 0, r)
                self.assertIn("gilwatch thread dump", r.stdout)
                self.assertNotIn("Read from outside", r.stdout)
                p.release()
                self.assertEqual(p.wait(), 0, p.describe())
                self.assertNotIn("Warning", p.stderr())


if __name__ == "__main__":
    unittest.main()
