"""A program that never starts a thread stays single-threaded under the
shim (no thread of gilwatch's own in it: glibc keeps its single-thread
fast paths, and CPython 3.12+ has no thread to warn about at a fork),
and the dump signal still dumps it."""

import os
import signal
import unittest

from tests.integration import gwtest as gw


class TestLonely(unittest.TestCase):
    def check(self, p, pid, expect):
        """pid has one thread; gilwatch dump PID (and --locks) answers
        with a dump naming what expect lists, from the process itself
        (not read from outside), and top --once shows it; so does
        SIGQUIT, and the program goes on with still one thread."""
        p.wait_ready()
        self.assertEqual(gw.tasks(pid), {pid}, p.describe())
        gw.poll_until(lambda: gw.procstat_syscall(pid) == 0,
            what="parked in read(2): " + p.describe())
        dump = gw.run([gw.GILWATCH, "dump", str(pid)])
        self.assertEqual(dump.returncode, 0, dump)
        for e in expect:
            self.assertIn(e, dump.stdout, dump)
        self.assertNotIn("Read from outside", dump.stdout)
        locks = gw.run([gw.GILWATCH, "dump", "--locks", str(pid)])
        self.assertEqual(locks.returncode, 0, locks)
        self.assertIn("gilwatch lock statistics: pid %d" % pid,
            locks.stdout)
        top = gw.run([gw.GILWATCH, "top", "--once", str(pid)])
        self.assertEqual(top.returncode, 0, top)
        self.assertIn("Threads: 1:", top.stdout)
        self.assertIn(" %d " % pid, top.stdout)
        self.assertEqual(gw.tasks(pid), {pid}, p.describe())
        os.kill(pid, signal.SIGQUIT)
        gw.poll_until(lambda: "gilwatch thread dump" in p.stderr(),
            what="dump after SIGQUIT: " + p.describe())
        gw.poll_until(lambda: all(e in p.stderr() for e in expect),
            what="%s in the dump: %s" % (expect, p.describe()))
        self.assertEqual(gw.tasks(pid), {pid}, p.describe())
        p.release()
        self.assertEqual(p.wait(), 0, p.describe())
        return p.stderr()

    def test_c(self):
        """Under gilwatch run and with a bare LD_PRELOAD."""
        gw.need(self, gw.prog("lonely"), gw.SHIM)
        for how in ("run", "preload"):
            with self.subTest(how=how), gw.tempdir() as d:
                if how == "run":
                    args = gw.gilwatch_cmd([gw.prog("lonely")],
                        ["--no-report"])
                    env = None
                else:
                    args = [gw.prog("lonely")]
                    env = dict(os.environ, LD_PRELOAD=gw.SHIM)
                with gw.Proc(args, d, env=env) as p:
                    err = self.check(p, p.p.pid, ["lonely_lock",
                        "tid=%d" % p.p.pid, "main+"])
                    self.assertIn("locked mutex", err)

    def run_one(self, exe):
        """One CPython: one thread, and the dump has the Python frame
        that parks."""
        with gw.tempdir() as d, gw.Proc(gw.gilwatch_cmd([exe,
                gw.pyprog("lonely")], ["--no-report"]), d) as p:
            self.check(p, p.p.pid, ["MainThread", "parked (",
                "lonely.py:"])

    def test_python(self):
        """Each CPython with a GIL (free-threaded ones below)."""
        found, skips = gw.pythons()
        for line in skips:
            print(line)
        for label, exe in found:
            with self.subTest(python=label):
                self.run_one(exe)


    def test_not_poked_in_sleep(self):
        """gilwatch dump does not poke a single-threaded program whose
        thread is in a system call a signal would interrupt (sleep): it
        says why and what still works, and the program sleeps on."""
        gw.need(self, gw.SHIM)
        with gw.tempdir() as d, gw.Proc(["sleep", "60"], d, ready=False,
                hold=False, env=dict(os.environ,
                LD_PRELOAD=gw.SHIM)) as p:
            pid = p.p.pid
            gw.poll_until(lambda: gw.procstat_syscall(pid) == 230,
                what="in clock_nanosleep: " + p.describe())
            self.assertEqual(gw.tasks(pid), {pid}, p.describe())
            r = gw.run([gw.GILWATCH, "dump", str(pid)])
            self.assertEqual(r.returncode, 1, r)
            self.assertIn("system call 230", r.stderr)
            self.assertIn("kill -QUIT", r.stderr)
            self.assertTrue(p.running(), p.describe())
            self.assertEqual(gw.procstat_syscall(pid), 230)
            self.assertEqual(gw.tasks(pid), {pid}, p.describe())
            self.assertEqual(p.stderr(), "")


    def test_python_after_fork(self):
        """CPython 3.12+ whose threads have ended forks: gilwatch's
        helper leaves for the fork and stays away while the parent
        computes.  gilwatch dump and SIGQUIT are answered all the same
        (by a copy of the process), not after its next blocking call.
        Older versions keep the helper: skipped aloud."""
        found, skips = gw.pythons()
        for line in skips:
            print(line)
        for label, exe in found:
            if gw.py_minor(exe) < 12:
                print("skip: %s keeps gilwatch's helper at a fork "
                    "(before 3.12)" % label)
                continue
            with self.subTest(python=label), gw.tempdir() as d, \
                    gw.Proc(gw.gilwatch_cmd([exe, "-W", "always",
                    gw.pyprog("forked_spin")], ["--no-report"]), d,
                    hold=False) as p:
                p.wait_ready()
                pid = p.p.pid
                gw.poll_until(lambda: gw.tasks(pid) == {pid},
                    what="one thread after the fork: " + p.describe())
                dump = gw.run([gw.GILWATCH, "dump", str(pid)])
                self.assertEqual(dump.returncode, 0, dump)
                self.assertIn("forked_spin.py:", dump.stdout)
                os.kill(pid, signal.SIGQUIT)
                gw.poll_until(lambda: "gilwatch thread dump" in
                    p.stderr(), what="dump after SIGQUIT: " +
                    p.describe())
                self.assertNotIn("stepped out", p.stderr())
                self.assertNotIn("Warning", p.stderr())

# 3.14t and 3.15t: the shim does not read 3.13t's frames (3.13.15t here,
# built today; the other free-threaded tests fail on it alike).
gw.add_free_threaded_tests(TestLonely, range(14, 16))


if __name__ == "__main__":
    unittest.main()
