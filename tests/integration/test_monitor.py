"""The helper is the monitor, a process of gilwatch's beside the program
(src/shim/monitor.c), not a thread of it: a program under gilwatch has
exactly its own threads.  The monitor answers gilwatch dump, is nobody's
child the program could wait for, takes none of the terminal's signals
(a session of its own) and ends with the program: at its exit, its
death by a signal, its exec.  GILWATCH_MONITOR=thread keeps the helper a
thread of the program, as releases before it did."""

import os
import select
import signal
import subprocess
import sys
import unittest

try:
    from . import gwtest as gw
    from .test_python import PythonCase
except ImportError:
    import gwtest as gw
    from test_python import PythonCase


def stat_fields(pid):
    """/proc/PID/stat from the state on: [state, ppid, pgrp, session, ...]."""
    with open("/proc/%d/stat" % pid) as f:
        return f.read().rsplit(")", 1)[1].split()


def gone(pid):
    """pid has ended (reaped, or a zombie nobody has reaped yet)."""
    try:
        return stat_fields(pid)[0] in ("Z", "X")
    except (FileNotFoundError, ProcessLookupError):
        return True


class TestMonitorC(unittest.TestCase):
    def setUp(self):
        gw.need(self, gw.GILWATCH, gw.SHIM, gw.prog("single_thread"))

    def start(self, d, env=None):
        """single_thread, past the start of its second thread; its pid."""
        p = gw.Proc(gw.gilwatch_cmd([gw.prog("single_thread"), "thread"],
            ["--no-report"]), d, hold=True, env=env)
        return p

    def idle_monitor(self, p):
        """The program ready with its one thread, and the monitor
        forked at its start-up: (pid, the monitor's pid)."""
        p.wait_ready()
        pid = p.p.pid
        return pid, gw.await_monitor(pid, "the idle monitor")

    def second_thread(self, p):
        p.wait_ready()
        pid = p.p.pid
        p.release()
        p.wait_ready()
        return pid

    def test_beside_not_inside(self):
        """The program keeps its own two threads; the monitor is not its
        child nor in its process group, and leads a session of its own;
        gilwatch dump is answered by it, with the program's threads."""
        with gw.tempdir() as d, self.start(d) as p:
            pid = self.second_thread(p)
            mon = gw.await_monitor(pid)
            self.assertEqual(len(gw.tasks(pid)), 2, sorted(gw.tasks(pid)))
            ms, ps = stat_fields(mon), stat_fields(pid)
            self.assertNotEqual(int(ms[1]), pid, "the program's child")
            self.assertNotEqual(ms[2], ps[2], "in the program's group")
            self.assertEqual(int(ms[3]), mon, "not a session of its own")
            with open("/proc/%d/comm" % mon) as f:
                self.assertEqual(f.read().strip(), "gilwatch-mon")
            r = gw.run([gw.GILWATCH, "dump", str(pid)])
            self.assertEqual(r.returncode, 0, r)
            self.assertIn("pid %d" % pid, r.stdout)
            self.assertIn("2 threads", r.stdout)
            self.assertNotIn("Read from outside", r.stdout)
            self.assertNotIn("gilwatch-mon", r.stdout)
            os.kill(pid, signal.SIGTERM)
            p.wait()

    def test_ends_with_the_program(self):
        """Killed (SIGTERM, SIGKILL), the program takes its monitor
        with it: the monitor leaves at once, and its socket goes with a
        program that ends."""
        for sig in (signal.SIGTERM, signal.SIGKILL):
            with self.subTest(signal=sig), gw.tempdir() as d, \
                    self.start(d) as p:
                pid = self.second_thread(p)
                mon = gw.await_monitor(pid)
                os.kill(pid, sig)
                p.wait()
                gw.poll_until(lambda: gone(mon),
                    what="the monitor %d gone after the program" % mon)

    def test_outlives_the_main_thread(self):
        """The main thread ends (pthread_exit) before the threads it
        started have made a call gilwatch sees: the monitor stays, and
        answers gilwatch dump, its lock statistics included, while the
        others run on (outside's mainexit: an ABBA formed after), and top
        does not take the ended main thread for the process's end.  The
        monitor used to be told to leave at the main thread's end, as if
        that were the program's last thread."""
        prog = gw.prog("outside")
        gw.need(self, prog)
        fifo = subprocess.run([sys.executable, "-c", "import os; "
            "os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(1))"],
            capture_output=True)
        if fifo.returncode != 0:
            print("skip: SCHED_FIFO refused here (the main thread must end "
                "before its threads begin)")
            self.skipTest("SCHED_FIFO refused")
        with gw.tempdir() as d, gw.Proc(gw.gilwatch_cmd([prog, "mainexit",
                "first"], ["--no-report", "--on-deadlock=report"]),
                d) as p:
            p.wait_ready()
            pid = p.p.pid
            mon = gw.await_monitor(pid)
            r = gw.run([gw.GILWATCH, "dump", str(pid)])
            self.assertEqual(r.returncode, 0, r)
            self.assertNotIn("Read from outside", r.stdout)
            self.assertRegex(r.stdout, r'"A" tid=\d+ blocked for ')
            r = gw.run([gw.GILWATCH, "dump", "--locks", str(pid)])
            self.assertEqual(r.returncode, 0, r)
            self.assertIn("gilwatch lock statistics: pid %d" % pid, r.stdout)
            # top reads the publication: a zombie main thread is not the
            # process's end.
            r = gw.run([gw.GILWATCH, "top", "--once", str(pid)])
            self.assertEqual(r.returncode, 0, r)
            self.assertNotIn("has ended", r.stdout)
            self.assertIn("DEADLOCK:", r.stdout)
            self.assertFalse(gone(mon), "the monitor left")
            p.release()
            self.assertEqual(p.wait(), 0, p.describe())
            gw.poll_until(lambda: gone(mon),
                what="the monitor %d gone after the program" % mon)

    def test_idle_monitor_ends_with_the_program(self):
        """The monitor forked at start-up waits idle while the program
        has one thread, and leaves with a program that never starts
        another."""
        with gw.tempdir() as d, self.start(d) as p:
            pid, mon = self.idle_monitor(p)
            self.assertEqual(gw.tasks(pid), {pid})
            os.kill(pid, signal.SIGTERM)
            p.wait()
            gw.poll_until(lambda: gone(mon),
                what="the idle monitor %d gone after the program" % mon)

    def test_idle_monitor_killed(self):
        """The idle monitor killed: the program's second thread starts
        all the same (the start's byte to a dead monitor raises no
        SIGPIPE in the program), and the helper is a thread, which says
        why and answers gilwatch dump."""
        with gw.tempdir() as d, self.start(d) as p:
            pid, mon = self.idle_monitor(p)
            os.kill(mon, signal.SIGKILL)
            gw.poll_until(lambda: gone(mon), what="the monitor %d gone" % mon)
            p.release()
            p.wait_ready()
            gw.poll_until(lambda: len(gw.tasks(pid)) == 3,
                what="the program's two threads and the helper: %s" %
                sorted(gw.tasks(pid)))
            self.assertIn("no monitor process", p.stderr())
            r = gw.run([gw.GILWATCH, "dump", str(pid)])
            self.assertEqual(r.returncode, 0, r)
            self.assertIn("2 threads", r.stdout)
            os.kill(pid, signal.SIGTERM)
            p.wait()

    def test_idle_monitor_holds_no_stderr(self):
        """A program that closes its standard error closes the pipe its
        caller reads, though its monitor waits idle beside it: the
        monitor takes the program's standard error only when it starts
        its work."""
        env = dict(os.environ, LD_PRELOAD=gw.SHIM)
        p = subprocess.Popen(["sh", "-c", "exec 2>&-; echo closed; read x"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, env=env)
        try:
            gw.await_monitor(p.pid, "the idle monitor")
            ready, _, _ = select.select([p.stderr], [], [], gw.TIMEOUT)
            self.assertEqual(ready, [p.stderr], "no end of file on the "
                "program's standard error")
            self.assertEqual(p.stderr.read(), b"")
            self.assertIsNone(p.poll(), "the program ended")
        finally:
            p.kill()
            p.communicate(timeout=gw.TIMEOUT)

    def test_thread_mode(self):
        """GILWATCH_MONITOR=thread: the helper is a thread of the
        program, and answers gilwatch dump; no monitor process."""
        env = dict(os.environ, GILWATCH_MONITOR="thread")
        with gw.tempdir() as d, self.start(d, env=env) as p:
            pid = self.second_thread(p)
            gw.poll_until(lambda: len(gw.tasks(pid)) == 3,
                what="the program's two threads and the helper: %s" %
                sorted(gw.tasks(pid)))
            self.assertIsNone(gw.monitor_of(pid))
            r = gw.run([gw.GILWATCH, "dump", str(pid)])
            self.assertEqual(r.returncode, 0, r)
            self.assertIn("2 threads", r.stdout)
            self.assertNotIn("Read from outside", r.stdout)
            os.kill(pid, signal.SIGTERM)
            p.wait()

    def test_bad_setting(self):
        """A GILWATCH_MONITOR that means nothing is said, and the
        default kept."""
        env = dict(os.environ, GILWATCH_MONITOR="both")
        with gw.tempdir() as d, self.start(d, env=env) as p:
            pid = self.second_thread(p)
            gw.await_monitor(pid)
            self.assertIn("GILWATCH_MONITOR=both is not process or thread",
                p.stderr())
            os.kill(pid, signal.SIGTERM)
            p.wait()


class TestMonitorPython(PythonCase):
    # Starts a thread (the monitor with it), then, released, execs a
    # Python that says ready and pauses: the old image's monitor leaves.
    EXECS = ("import os, sys, threading\n"
        "t = threading.Thread(target=len, args=((),))\n"
        "t.start(); t.join()\n"
        "os.write(int(os.environ['GW_READY_FD']), b'ready\\n')\n"
        "os.read(int(os.environ['GW_HOLD_FD']), 1)\n"
        "os.execv(sys.executable, [sys.executable, '-c', "
        "\"import os, signal\\n"
        "os.write(int(os.environ['GW_READY_FD']), b'ready\\\\n')\\n"
        "signal.pause()\\n\"])\n")

    # Gives up root for nobody while it has one thread, then starts one
    # that parks on the hold pipe.
    DROPS = ("import os, threading\n"
        "os.setgroups([]); os.setgid(65534); os.setuid(65534)\n"
        "t = threading.Thread(target=os.read, "
        "args=(int(os.environ['GW_HOLD_FD']), 1))\n"
        "t.start()\n"
        "os.write(int(os.environ['GW_READY_FD']), b'ready\\n')\n"
        "t.join()\n")

    # Forks a child that runs Python (writing the interpreter's data)
    # and exits 7, then starts a thread (the monitor with it) that
    # parks on the hold pipe.
    FORKS = ("import os, threading\n"
        "c = os.fork()\n"
        "if c == 0:\n"
        "    os._exit(7 if sum(x * 2 for x in range(1000)) else 0)\n"
        "assert os.waitpid(c, 0)[1] == 7 << 8\n"
        "t = threading.Thread(target=os.read, "
        "args=(int(os.environ['GW_HOLD_FD']), 1))\n"
        "t.start()\n"
        "os.write(int(os.environ['GW_READY_FD']), b'ready\\n')\n"
        "t.join()\n")

    @staticmethod
    def writable(pid):
        """{path: [ranges]} of pid's private writable file mappings."""
        found = {}
        with open("/proc/%d/maps" % pid) as f:
            for line in f:
                parts = line.split()
                if len(parts) >= 6 and parts[1] == "rw-p" and \
                        parts[5].startswith("/"):
                    found.setdefault(parts[5], []).append(parts[0])
        return found

    def test_interpreter_data_left_out(self):
        """The monitor has no copy of libpython's data, which it reads
        through the kernel: the program's writes to it after start-up
        need no copy-on-write fault.  It keeps the executable's, which
        holds copy-relocated variables of libc (stderr), and a fork of
        the program's own copies everything: its child runs Python."""
        for label, exe in self.each_python():
            with self.subTest(python=label), gw.tempdir() as d, \
                    gw.Proc(gw.gilwatch_cmd([exe, "-c", self.FORKS],
                        ["--no-report"]), d, hold=True) as p:
                p.wait_ready()
                pid = p.p.pid
                mon = gw.await_monitor(pid)
                mine, its = self.writable(pid), self.writable(mon)
                libpython = [k for k in mine
                    if os.path.basename(k).startswith("libpython")]
                for lib in libpython:
                    self.assertNotIn(lib, its, "libpython's data copied")
                real = os.path.realpath(exe)
                if real in mine:
                    self.assertIn(real, its, "the executable's data left "
                        "out: %s" % sorted(its))
                self.assertIn(os.path.realpath(gw.SHIM), its, sorted(its))
                r = gw.run([gw.GILWATCH, "dump", str(pid)])
                self.assertEqual(r.returncode, 0, r)
                self.assertIn("2 threads", r.stdout)
                self.assertIn("threading.py", r.stdout)
                p.release()
                self.assertEqual(p.wait(), 0, p.describe())

    @unittest.skipUnless(os.geteuid() == 0, "needs root to switch user")
    def test_credentials_changed(self):
        """A program that gives up root after its start-up is not
        watched by the monitor forked while it was root: that monitor
        declines to start and leaves, and the helper is a thread of the
        program, which says why."""
        for label, exe in self.each_python():
            with self.subTest(python=label), gw.tempdir() as d, \
                    gw.Proc(gw.gilwatch_cmd([exe, "-c", self.DROPS],
                        ["--no-report"]), d, hold=True) as p:
                p.wait_ready()
                pid = p.p.pid
                gw.poll_until(lambda: len(gw.tasks(pid)) == 3,
                    what="the program's two threads and the helper: %s" %
                    sorted(gw.tasks(pid)))
                gw.poll_until(lambda: gw.monitor_of(pid) is None,
                    what="the monitor gone")
                self.assertIn("the program changed its user", p.stderr())
                p.release()
                self.assertEqual(p.wait(), 0, p.describe())

    def test_exec_ends_the_old_monitor(self):
        """At an exec the monitor of the old image leaves; the new one
        is dumped (from outside: it has one thread) under the same pid."""
        for label, exe in self.each_python():
            with self.subTest(python=label), gw.tempdir() as d, \
                    gw.Proc(gw.gilwatch_cmd([exe, "-c", self.EXECS],
                        ["--no-report"]), d, hold=True) as p:
                p.wait_ready()
                pid = p.p.pid
                mon = gw.await_monitor(pid)
                p.release()
                p.wait_ready()
                gw.poll_until(lambda: gone(mon),
                    what="the old image's monitor %d gone" % mon)
                r = gw.run([gw.GILWATCH, "dump", str(pid)])
                self.assertEqual(r.returncode, 0, r)
                self.assertIn("tid=%d" % pid, r.stdout)
                self.assertIn("-c", r.stdout)


if __name__ == "__main__":
    unittest.main()
