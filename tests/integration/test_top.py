"""gilwatch top: the real dashboard driven in tmux (send-keys, then the
captured screen polled for what must show, with a deadline), and
`top --once` read as text, against the samples and CPython.

Each dashboard runs in a tmux server of its own (-L, no config), killed
when the test ends.  Nothing sleeps to wait: programs say "ready" on a
pipe, screens are polled until the text is there or the deadline passes.
"""

import itertools
import os
import re
import shutil
import subprocess
import sys
import unittest

try:
    from . import gwtest as gw
except ImportError:
    import gwtest as gw

TMUX = shutil.which("tmux")
SCREEN_TIMEOUT = 20 * gw.SCALE     # for a screen to show something

_servers = itertools.count()


def drawn(screen):
    """Whether a whole frame is on screen: tmux can capture the first frame
    half drawn (header, no rows), and ncurses draws the footer, which every
    view has, last."""
    lines = screen.rstrip().splitlines()
    return bool(lines) and "q quit" in lines[-1]


class Tmux:
    """A dashboard in a detached tmux session of its own server."""

    def __init__(self, args, width=160, height=50, cwd=None):
        self.sock = "gwtest-top-%d-%d" % (os.getpid(), next(_servers))
        self.base = [TMUX, "-L", self.sock, "-f", os.devnull]
        cmd = " ".join("'%s'" % a.replace("'", "'\\''") for a in args)
        r = gw.run(self.base + ["new-session", "-d", "-x", str(width),
            "-y", str(height), "-c", cwd or os.getcwd(), cmd])
        if r.returncode != 0:
            raise AssertionError("tmux new-session: %r" % r)

    def screen(self, escapes=False):
        """The pane's text now; None once the session is gone."""
        r = gw.run(self.base + ["capture-pane", "-p", *(["-e"] if escapes
            else []), "-t", "0"])
        return r.stdout if r.returncode == 0 else None

    def keys(self, *keys):
        gw.run(self.base + ["send-keys", "-t", "0", *keys])

    def resize(self, width, height):
        r = gw.run(self.base + ["resize-window", "-t", "0", "-x",
            str(width), "-y", str(height)])
        if r.returncode != 0:
            raise AssertionError("tmux resize-window: %r" % r)

    def wait_for(self, test, what, escapes=False):
        """Poll the screen until test(screen) is true; return it."""
        last = [""]

        def check():
            s = self.screen(escapes)
            if s is None:
                raise AssertionError("the dashboard went away while "
                    "waiting for %s; last screen:\n%s" % (what, last[0]))
            last[0] = s
            return s if drawn(s) and test(s) else None
        try:
            return gw.poll_until(check, timeout=SCREEN_TIMEOUT, what=what)
        except AssertionError as e:
            raise AssertionError("%s; last screen:\n%s" % (e, last[0]))

    def wait_text(self, pattern, what=None):
        rx = re.compile(pattern, re.M)
        return self.wait_for(lambda s: rx.search(s), what or pattern)

    def wait_gone(self, what):
        gw.poll_until(lambda: self.screen() is None,
            timeout=SCREEN_TIMEOUT, what=what)

    def close(self):
        gw.run(self.base + ["kill-server"])


def hexaddr(a):
    return "0x%x" % a


class TopCase(unittest.TestCase):
    def setUp(self):
        gw.need(self, gw.GILWATCH, gw.SHIM)
        td = gw.tempdir()
        self.addCleanup(td.cleanup)
        self.tmp = td.name

    def once_python(self, pid, exe):
        """`top --once PID` of a Python program: the result, or the test
        skipped (aloud) when gilwatch found no Python in it."""
        r = self.once(pid)
        self.assertEqual(r.returncode, 0, r)
        if "GIL: none" in r.stdout:
            why = re.search(r"GIL: none \((.*)\)", r.stdout).group(1)
            print("skip: %s: no Python detected by gilwatch (%s)" % (exe,
                why))
            self.skipTest("%s: no Python detected (%s)" % (exe, why))
        return r

    def start(self, name, hold=True):
        """A sample under gilwatch, parked; its SampleInfo."""
        prog = gw.sample(name)
        gw.need(self, prog)
        p = gw.Proc(gw.gilwatch_cmd([prog]), self.tmp, hold=hold,
            name=name)
        self.addCleanup(p.__exit__, None, None, None)
        p.wait_ready()
        info = p.info()
        self.assertIsNotNone(info.pid, p.describe())
        self.proc = p
        return info

    def top(self, *args, **kw):
        if TMUX is None:
            self.fail("tmux is not installed")
        t = Tmux([gw.GILWATCH, "top", *args], cwd=self.tmp, **kw)
        self.addCleanup(t.close)
        return t

    def once(self, pid, *opts):
        return gw.run([gw.GILWATCH, "top", "--once", *opts, str(pid)])


class TestDashboard(TopCase):
    """busy parked: holder holds `hold`, waiter blocks on it."""

    def busy(self):
        info = self.start("busy")
        for name in ("holder", "waiter"):
            self.assertIn(name, info.threads, self.proc.describe())
        return info

    def blocked_line(self, info):
        return r"^\s*%d\s+waiter\b.*BLOCKED on mutex %s held by %d\b" % (
            info.threads["waiter"], hexaddr(info.locks["hold"]),
            info.threads["holder"])

    def test_blocked_thread_and_owner(self):
        info = self.busy()
        t = self.top(str(info.pid))
        t.wait_text(self.blocked_line(info), "waiter blocked on hold, "
            "held by holder")
        # The main thread joins holder once it has said "ready".
        s = t.wait_text(r"2 blocked on locks", "main joining too")
        self.assertIn("gilwatch top  pid %d" % info.pid, s)
        holder = re.search(r"^\s*%d\s+holder\s+(\d+)\s" %
            info.threads["holder"], s, re.M)
        self.assertIsNotNone(holder, s)
        self.assertEqual(holder.group(1), "1", "holder holds one lock")
        for name in ("worker-0", "producer", "consumer"):
            self.assertRegex(s, r"%d\s+%s\b.*WAITING on condvar" % (
                info.threads[name], name))
        self.assertRegex(s, r"(?m)^\s*%d\s+busy\b.*BLOCKED joining %d" % (
            info.pid, info.threads["holder"]))
        self.assertIn("q quit", s.rstrip().splitlines()[-1])

    def test_process_end_is_shown_until_q(self):
        info = self.busy()
        t = self.top("-d", "0.2", str(info.pid))
        t.wait_text(self.blocked_line(info))
        self.proc.release()
        self.assertEqual(self.proc.wait(), 0, self.proc.describe())
        s = t.wait_text(r"ENDED: process %d has exited" % info.pid,
            "the end of the process")
        # The last frame published stays on the screen.  Which workers
        # it still has depends on when the program last published after
        # the release (the waiter may be gone by then); its main thread,
        # which lives until the exit, is always there.
        self.assertRegex(s, r"(?m)^\s*%d busy\b" % info.pid,
            "the last frame stays")
        t.keys("q")
        t.wait_gone("the dashboard to quit on q")

    def test_locks_view(self):
        info = self.busy()
        t = self.top(str(info.pid))
        t.wait_text(self.blocked_line(info))
        t.keys("l")
        s = t.wait_text(r"^mutex %s \(hold\)\s+\"holder\" \(%d\)" % (
            hexaddr(info.locks["hold"]), info.threads["holder"]),
            "the hold mutex with its owner in the locks view")
        self.assertRegex(s, r"now: 1 thread waiting")
        self.assertRegex(s, r"(?m)^mutex %s \(gate\)" % hexaddr(
            info.locks["gate"]))
        self.assertIn("Lock-order inversions: 0", s)
        # r: the numbers start again (the hold mutex stays, owned).
        t.keys("r")
        t.wait_text(r"statistics reset in process %d" % info.pid)
        t.wait_text(r"^mutex %s \(hold\)\s+\"holder\" \(%d\)\s+0\s+0\s" % (
            hexaddr(info.locks["hold"]), info.threads["holder"]),
            "hold's acquisitions reset to 0")
        t.keys("l")
        t.wait_text(self.blocked_line(info), "back to the table")

    def test_stack_view(self):
        info = self.busy()
        t = self.top(str(info.pid))
        t.wait_text(self.blocked_line(info))
        t.keys("/")
        t.keys("waiter", "Enter")
        t.wait_text(r"1 threads match \"waiter\"")
        t.keys("Enter")
        s = t.wait_text(r"^Thread %d \"waiter\"" % info.threads["waiter"],
            "the waiter's detail")
        self.assertRegex(s, r"Waits for mutex %s \(hold\)" % hexaddr(
            info.locks["hold"]))
        self.assertRegex(s, r"held by \"holder\" \(%d\), taken at holder"
            % info.threads["holder"])
        s = t.wait_text(r"#\d+\s+waiter\+0x[0-9a-f]+ \(.*busy\.c:\d+\)",
            "the waiter's stack from a dump")
        self.assertIn("Stack from a thread dump", s)
        t.keys("Escape")
        t.wait_text(self.blocked_line(info), "Esc back to the table")

    def test_resize_to_80x24(self):
        info = self.busy()
        t = self.top(str(info.pid), width=160, height=50)
        t.wait_text(self.blocked_line(info))
        t.resize(80, 24)

        def small(s):
            lines = s.rstrip("\n").split("\n")
            return len(lines) == 24 and \
                lines[0].startswith("gilwatch top  pid %d" % info.pid) \
                and lines[-1].startswith("q quit") and \
                max(len(l) for l in lines) <= 80 and \
                re.search(self.blocked_line(info), s, re.M)
        t.wait_for(small, "header, table and footer at 80x24")
        t.resize(200, 40)
        s = t.wait_text(r"NATIVE", "the wide layout again")
        self.assertRegex(s, r"waiter\+0x[0-9a-f]+")

    def test_timeline_and_keys(self):
        info = self.busy()
        t = self.top("-d", "0.1", str(info.pid))
        t.wait_text(self.blocked_line(info))
        t.keys("g")
        t.wait_text(r"^\s*%d waiter\s+.*xxx" % info.threads["waiter"],
            "the waiter's lane, blocked")
        t.wait_text(r"now ->")
        t.keys("g", "s")
        t.wait_text(r"sorted by tid")
        t.keys("p")
        t.wait_text(r"PAUSED")
        t.keys("?")
        t.wait_text(r"^Keys$")
        t.keys("Escape", "d")
        s = t.wait_text(r"dump written to \./gilwatch-dump-%d-\S+\.txt" %
            info.pid)
        path = re.search(r"dump written to (\S+)", s).group(1)
        with open(os.path.join(self.tmp, path)) as f:
            dump = f.read()
        self.assertIn("waiter", dump)
        self.assertIn("tid=%d" % info.threads["holder"], dump)


class TestDeadlock(TopCase):
    def test_banner(self):
        info = self.start("abba", hold=False)
        a, b = info.threads["worker-a"], info.threads["worker-b"]
        t = self.top(str(info.pid))
        s = t.wait_text(r"^DEADLOCK: ", "the deadlock banner")
        lines = s.splitlines()
        first = [i for i, l in enumerate(lines) if l.startswith("DEADLOCK")][0]
        end = [i for i, l in enumerate(lines) if re.match(r"\s+TID ", l)][0]
        banner = " ".join(lines[first:end])
        for tid, name in ((a, "worker-a"), (b, "worker-b")):
            self.assertIn("\"%s\" (%d)" % (name, tid), banner)
        for lock in ("A", "B"):
            self.assertIn(hexaddr(info.locks[lock]), banner)
        self.assertRegex(s, r"%d\s+worker-a\b.*DEADLOCKED on mutex %s held "
            r"by %d" % (a, hexaddr(info.locks["B"]), b))
        self.assertRegex(s, r"%d\s+worker-b\b.*DEADLOCKED on mutex %s held "
            r"by %d" % (b, hexaddr(info.locks["A"]), a))
        # In red: the banner's line starts with a red background.
        s = t.screen(escapes=True)
        line = [l for l in s.splitlines() if "DEADLOCK:" in l][0]
        self.assertRegex(line, r"\x1b\[[0-9;]*41m.*DEADLOCK:|"
            r"\x1b\[41m", "red background: %r" % line)

    def test_once(self):
        info = self.start("abba", hold=False)
        r = gw.poll_until(lambda: (lambda r: r if "DEADLOCK:" in r.stdout
            else None)(self.once(info.pid)), what="a deadlock in --once")
        self.assertEqual(r.returncode, 0, r)
        self.assertRegex(r.stdout, r"DEADLOCK: .*waits for mutex %s" %
            hexaddr(info.locks["A"]) + "|" + r"DEADLOCK: .*waits for "
            r"mutex %s" % hexaddr(info.locks["B"]))


class TestNaming(TopCase):
    """Code addresses are named (ELF and DWARF read) only once a viewer
    has come: a program nobody watches does not pay for it."""

    def shm_bytes(self, pid):
        xdg = os.environ.get("XDG_RUNTIME_DIR", "/nonexistent")
        dirs = [os.path.join(xdg, "gilwatch"),
            "/tmp/gilwatch-%d" % os.geteuid()]
        for d in dirs:
            path = os.path.join(d, "%d.shm" % pid)
            if os.path.isfile(path):
                with open(path, "rb") as f:
                    return f.read()
        return None

    def test_names_only_once_watched(self):
        info = self.start("busy")
        # Three publications, each seen as a change of the file (every
        # frame carries its time), with the sites all known by then.
        seen = [gw.poll_until(lambda: self.shm_bytes(info.pid),
            what="the published file")]
        for _ in range(3):
            seen.append(gw.poll_until(lambda: (lambda b: b if b and
                b != seen[-1] else None)(self.shm_bytes(info.pid)),
                what="a new publication"))
        self.assertFalse(b"busy.c" in seen[-1], "named before any viewer")
        r = self.once(info.pid)
        self.assertEqual(r.returncode, 0, r)
        self.assertTrue(b"busy.c" in self.shm_bytes(info.pid),
            "named once a viewer came")
        self.assertRegex(r.stdout, r"waiter\+0x[0-9a-f]+",
            "the first frame a viewer reads has names")


class TestOnce(TopCase):
    def test_thread_names_and_states(self):
        info = self.start("busy")
        joining = re.compile(r"(?m)^\s*%d\s+busy\s.*BLOCKED joining %d" % (
            info.pid, info.threads["holder"]))
        # The main thread joins holder right after it says "ready".
        r = gw.poll_until(lambda: (lambda r: r if joining.search(r.stdout)
            or r.returncode != 0 else None)(self.once(info.pid)),
            what="main joining holder in --once")
        self.assertEqual(r.returncode, 0, r)
        self.assertEqual(r.stderr, "", r)
        out = r.stdout
        self.assertRegex(out, r"^gilwatch top: pid %d " % info.pid)
        self.assertRegex(out, r"(?m)^Threads: %d: " % (len(info.threads)
            + 1))
        want = {
            "waiter": r"BLOCKED on mutex %s held by %d" % (hexaddr(
                info.locks["hold"]), info.threads["holder"]),
            "holder": r"RUNNING",
            "worker-0": r"WAITING on condvar",
            "worker-3": r"WAITING on condvar",
            "producer": r"WAITING on condvar",
            "consumer": r"WAITING on condvar",
        }
        for name, state in want.items():
            with self.subTest(thread=name):
                self.assertRegex(out, r"(?m)^\s*%d\s+%s\s.*%s" % (
                    info.threads[name], name, state))
        self.assertRegex(out, r"(?m)^mutex %s \(hold\)" % hexaddr(
            info.locks["hold"]))
        self.proc.release()
        self.assertEqual(self.proc.wait(), 0, self.proc.describe())

    def test_without_pid(self):
        """No PID: our process is the one taken, or among those listed."""
        info = self.start("busy")
        r = gw.run([gw.GILWATCH, "top", "--once"])
        if r.returncode == 0:
            self.assertIsNotNone(re.search(r"pid \d+", r.stdout), r)
            if "pid %d " % info.pid not in r.stdout:
                self.fail("--once took another process: %r" % r)
        else:
            self.assertEqual(r.returncode, 1, r)
            self.assertIn("%d (" % info.pid, r.stderr)
            self.assertEqual(len(r.stderr.strip().splitlines()), 1, r)


def one_line(r):
    lines = r.stderr.strip().splitlines()
    return len(lines) == 1 and lines[0].startswith("gilwatch: ")


class TestErrors(TopCase):
    def test_bad_arguments(self):
        for args in (["abc"], ["0"], ["-5"], ["-d", "0.01", "1"],
            ["-d", "x", "1"], ["-d"], ["1", "2"], ["--bogus"],
            ["--once", "--view=locks", "1"], ["--view=blame", "1"]):
            with self.subTest(args=args):
                r = gw.run([gw.GILWATCH, "top", *args])
                self.assertEqual(r.returncode, 2, r)
                self.assertRegex(r.stderr, r"usage: gilwatch top|"
                    r"\(see gilwatch top --help\)")

    def test_no_such_process(self):
        r = gw.run(["sh", "-c", "echo $$"])
        pid = int(r.stdout)
        for opts in ([], ["--once"]):
            with self.subTest(opts=opts):
                r = gw.run([gw.GILWATCH, "top", *opts, str(pid)])
                self.assertEqual(r.returncode, 1, r)
                self.assertTrue(one_line(r), r)
                self.assertIn("no such process", r.stderr)

    def test_not_under_gilwatch(self):
        """A program started bare is read from outside, not refused
        (TestOutside has the details)."""
        busy = gw.sample("busy")
        gw.need(self, busy)
        env = dict(os.environ)
        env.pop("LD_PRELOAD", None)
        with gw.Proc([busy], self.tmp, env=env) as p:
            p.wait_ready()
            r = self.once(p.info().pid)
            self.assertEqual(r.returncode, 0, r)
            self.assertIn("Read from outside (not started under gilwatch)",
                r.stdout)
            p.release()
            self.assertEqual(p.wait(), 0, p.describe())

    def test_publishing_off(self):
        info = None
        busy = gw.sample("busy")
        gw.need(self, busy)
        env = dict(os.environ, GILWATCH_PUBLISH_MS="0")
        with gw.Proc(gw.gilwatch_cmd([busy]), self.tmp, env=env) as p:
            p.wait_ready()
            info = p.info()
            r = self.once(info.pid)
            self.assertEqual(r.returncode, 1, r)
            self.assertTrue(one_line(r), r)
            self.assertIn("GILWATCH_PUBLISH_MS=0", r.stderr)
            p.release()
            self.assertEqual(p.wait(), 0, p.describe())

    def test_stale_file_of_reused_pid(self):
        """A publication file an earlier process with the same pid left
        behind (killed before it could remove it) is not read as the new
        process's: a copy of a live one's file put at the pid of one that
        publishes nothing, as a reused pid would find it."""
        busy = gw.sample("busy")
        gw.need(self, busy)
        quiet = dict(os.environ, GILWATCH_PUBLISH_MS="0")
        with gw.tempdir() as t1, gw.tempdir() as t2, \
            gw.Proc(gw.gilwatch_cmd([busy]), t1) as live, \
            gw.Proc(gw.gilwatch_cmd([busy]), t2, env=quiet) as p:
            live.wait_ready()
            p.wait_ready()
            # Its file is made once a viewer has come.
            r = self.once(live.info().pid)
            self.assertEqual(r.returncode, 0, r)
            src = gw.poll_until(lambda: self.shm_file(live.info().pid),
                what="the live process's file")
            stale = os.path.join(os.path.dirname(src),
                "%d.shm" % p.info().pid)
            shutil.copyfile(src, stale)
            try:
                r = self.once(p.info().pid)
            finally:
                os.unlink(stale)
            self.assertEqual(r.returncode, 1, r)
            self.assertIn("GILWATCH_PUBLISH_MS=0", r.stderr)
            live.release()
            p.release()
            self.assertEqual(live.wait(), 0, live.describe())
            self.assertEqual(p.wait(), 0, p.describe())

    @staticmethod
    def shm_file(pid):
        """pid's publication file in a runtime directory, or None."""
        dirs = ["/tmp/gilwatch-%d" % os.getuid()]
        if os.environ.get("XDG_RUNTIME_DIR"):
            dirs.insert(0, os.path.join(os.environ["XDG_RUNTIME_DIR"],
                "gilwatch"))
        for d in dirs:
            f = os.path.join(d, "%d.shm" % pid)
            if os.path.exists(f) and os.path.getsize(f) > 0:
                return f
        return None

    @unittest.skipUnless(os.geteuid() == 0, "needs root to switch user")
    def test_no_permission(self):
        info = self.start("busy")
        # Another user's own copy: build/ may be closed to that user.
        with gw.ReachableCopy(self, gw.GILWATCH) as copy:
            p = subprocess.run([copy["gilwatch"], "top", "--once",
                str(info.pid)], stdin=subprocess.DEVNULL,
                capture_output=True, text=True, preexec_fn=gw.as_nobody,
                timeout=gw.TIMEOUT)
        self.assertEqual(p.returncode, 1, p)
        lines = p.stderr.strip().splitlines()
        self.assertEqual(len(lines), 1, p.stderr)
        self.assertIn("no permission", lines[0])


# The GIL holder, named in the header, on every CPython installed.
CRUNCHER = r'''
import ctypes, os, sys, threading, time
libc = ctypes.CDLL(None)
started = threading.Event()

def crunch():
    libc.prctl(15, b"cruncher", 0, 0, 0)   # PR_SET_NAME: the OS name
    started.set()
    n = 0
    while True:
        n += 1

threading.Thread(target=crunch, name="cruncher", daemon=True).start()
started.wait()
os.write(int(os.environ["GW_READY_FD"]), b"ready\n")
time.sleep(600)
'''


class TestGilHolder(TopCase):
    def run_one(self, exe):
        script = os.path.join(self.tmp, "cruncher.py")
        with open(script, "w") as f:
            f.write(CRUNCHER)
        p = gw.Proc(gw.gilwatch_cmd([exe, script]), self.tmp, hold=False,
            name=os.path.basename(exe))
        self.addCleanup(p.__exit__, None, None, None)
        p.wait_ready()
        pid = p.p.pid
        self.once_python(pid, exe)
        holder = r"GIL holder: \"cruncher\" \(\d+\) for "
        gw.poll_until(lambda: re.search(holder, self.once(pid).stdout),
            what="cruncher as the GIL holder in --once")
        t = self.top("-d", "0.2", str(pid))
        # tmux may capture a screen half drawn (header, no rows yet), so
        # wait for the whole picture rather than assert on the first match.
        want = [holder, r"(?m)^\s*\d+\s+cruncher\s.*HOLDS GIL",
            r"GIL load\s+\[\|+"]
        t.wait_for(lambda s: all(re.search(w, s) for w in want),
            "cruncher holding the GIL in header, row and meter")
        p.__exit__(None, None, None)


gw.add_interpreter_tests(TestGilHolder)


class TestPyWaits(TopCase):
    """pywaits.py: threads blocked in threading's waits built on
    Condition.wait (the Condition's private lock, which the waiter holds
    itself, is what the shim sees) and "joiner" in sleeper.join().  The
    table shows what their Python code waits on, as dumps do: a notify
    named by what the Condition belongs to, counted with condition
    variable waits (sleeping); the join naming the thread joined, also
    on 3.13, whose join waits on a semaphore with no owner."""

    # Of the 9 threads: MainThread reads a pipe, 7 wait for a notify
    # (cond-waiter, sem-waiter, event-waiter, getter, putter,
    # barrier-waiter, sleeper), joiner joins.
    COUNTS = r"(?m)^Threads: 9: 1 running, 0 waiting for GIL, " \
        r"1 blocked on locks, 7 sleeping$"

    def start_pywaits(self, exe):
        p = gw.Proc(gw.gilwatch_cmd([exe, gw.pyprog("pywaits")]), self.tmp,
            name=os.path.basename(exe))
        self.addCleanup(p.__exit__, None, None, None)
        p.wait_ready()
        return p, p.info()

    def rows(self, exe, info):
        """What the rows must show: the state, and the locks held, which
        leave the private lock out (up to 3.12 a thread also holds its
        tstate lock)."""
        tid = info.threads
        own = 1 if gw.py_minor(exe) <= 12 else 0
        return {
            "getter": (own, r"WAITING notify Queue\.not_empty \S+"),
            "sem-waiter": (own, r"WAITING notify Semaphore\._cond \S+"),
            "cond-waiter": (own, r"WAITING notify Condition %s \S+" %
                hexaddr(info.locks["cond"])),
            "joiner": (None, r"BLOCKED joining %d \S+" % tid["sleeper"]),
        }

    def run_one(self, exe):
        p, info = self.start_pywaits(exe)
        r = self.once_python(info.pid, exe)
        want = [re.compile(self.COUNTS)]
        for name, (locks, state) in self.rows(exe, info).items():
            want.append(re.compile(r"(?m)^\s*%d\s+%s\s+\S+\s+\S+\s+%s\s+"
                r"%s(\s|$)" % (info.threads[name], re.escape(name), r"\d+"
                if locks is None else locks, state)))
        last = [r.stdout]

        def shown():
            r = self.once(info.pid)
            self.assertEqual(r.returncode, 0, r)
            last[0] = r.stdout
            return all(w.search(r.stdout) for w in want)
        try:
            gw.poll_until(shown, what="the Python waits in --once")
        except AssertionError as e:
            missing = [w.pattern for w in want if not w.search(last[0])]
            raise AssertionError("%s: %s not in:\n%s" % (e, missing,
                last[0]))
        p.release()
        self.assertEqual(p.wait(), 0, p.describe())

    def test_detail_view(self):
        """Enter on getter: the Condition in full, what it belongs to,
        the Python line that waits and the private lock it blocks on."""
        found, _ = gw.pythons()
        if not found:
            self.skipTest("no python3.8-3.15 installed")
        exe = found[-1][1]
        p, info = self.start_pywaits(exe)
        t = self.top("-d", "0.2", str(info.pid))
        t.wait_text(r"^\s*%d\s+getter\s.*WAITING notify Queue\.not_empty"
            % info.threads["getter"], "getter waiting for a notify")
        t.keys("/")
        t.keys("getter", "Enter")
        t.wait_text(r"1 threads match \"getter\"")
        t.keys("Enter")
        s = t.wait_text(r"^Waits for a notify on Condition %s "
            r"\(Queue\.not_empty\)$" % hexaddr(info.locks["getq_not_empty"]),
            "getter's wait in full in the detail view")
        self.assertRegex(s, r"(?m)^State: WAITING notify Queue\.not_empty ")
        self.assertRegex(s, r"(?m)^  at Queue\.get \(queue\.py:\d+\)$")
        # The private lock is a _thread.lock, named as top names those.
        kind = "threading.Lock" if "Lock" in gw.py_mutex_lock_types(exe) \
            else "Python lock"
        self.assertRegex(s, r"(?m)^  blocked on %s 0x[0-9a-f]+: "
            r"Condition\.wait's private lock$" % re.escape(kind))
        p.release()
        self.assertEqual(p.wait(), 0, p.describe())


gw.add_interpreter_tests(TestPyWaits)


class TestPyLockNames(TopCase):
    """abba_with.py: two threading.Locks deadlocked.  top names them as
    dumps do: "threading.Lock" where the lock is a PyMutex and its
    object is known (3.13.1+, 3.14+), "Python lock" where it is a
    semaphore that Python took (up to 3.13.0), never "semaphore"."""

    def run_one(self, exe):
        p = gw.Proc(gw.gilwatch_cmd([exe, gw.pyprog("abba_with")]),
            self.tmp, name=os.path.basename(exe))
        self.addCleanup(p.__exit__, None, None, None)
        p.wait_ready()
        info = p.info()
        self.once_python(info.pid, exe)
        kind = "threading.Lock" if "Lock" in gw.py_mutex_lock_types(exe) \
            else "Python lock"
        a, b = info.threads["locker-a"], info.threads["locker-b"]
        la, lb = hexaddr(info.locks["A"]), hexaddr(info.locks["B"])
        want = [r"(?m)^DEADLOCK: \"locker-a\" \(%d\) waits for %s %s held "
            r"by \"locker-b\" \(%d\), which waits for %s %s held by "
            r"\"locker-a\" \(%d\)$" % (a, re.escape(kind), lb, b,
            re.escape(kind), la, a),
            # "on" and "held" where the table is wide enough
            r"(?m)^\s*%d\s+locker-a\s.*DEADLOCKED (on )?%s %s (held )?by "
            r"%d " % (a, re.escape(kind), lb, b),
            r"(?m)^\s*%d\s+locker-b\s.*DEADLOCKED (on )?%s %s (held )?by "
            r"%d " % (b, re.escape(kind), la, a)]
        last = [""]

        def shown():
            r = self.once(info.pid)
            self.assertEqual(r.returncode, 0, r)
            last[0] = r.stdout
            return all(re.search(w, r.stdout) for w in want)
        try:
            gw.poll_until(shown, gw.DEADLOCK_TIMEOUT,
                "the Lock deadlock named in --once")
        except AssertionError as e:
            raise AssertionError("%s: %s not in:\n%s" % (e, [w for w in
                want if not re.search(w, last[0])], last[0]))
        self.assertNotRegex(last[0], r"DEADLOCKED semaphore")
        # From outside the lock objects are found on every version.
        self.check_outside(exe)

    def check_outside(self, exe):
        p = gw.Proc([exe, gw.pyprog("abba_with")], self.tmp, env=bare_env(),
            name=os.path.basename(exe) + "-bare")
        self.addCleanup(p.__exit__, None, None, None)
        p.wait_ready()
        info = p.info()
        a, b = info.threads["locker-a"], info.threads["locker-b"]
        want = r"(?m)^DEADLOCK: \"locker-a\" \(%d\) waits for " \
            r"threading\.Lock %s held by \"locker-b\" \(%d\), which " \
            r"waits for threading\.Lock %s held by \"locker-a\"" % (a,
            hexaddr(info.locks["B"]), b, hexaddr(info.locks["A"]))
        last = [""]

        def shown():
            r = self.once(info.pid)
            self.assertEqual(r.returncode, 0, r)
            last[0] = r.stdout
            return re.search(want, r.stdout)
        try:
            gw.poll_until(shown, gw.DEADLOCK_TIMEOUT,
                "the Lock deadlock named from outside")
        except AssertionError as e:
            raise AssertionError("%s: %s not in:\n%s" % (e, want, last[0]))


gw.add_interpreter_tests(TestPyLockNames, free_threaded=True)

class TestAllWaiting(TopCase):
    """The banner for a hang with no lock cycle (the stall rule): every
    thread waits, with no timeout, for another one."""
    BANNER = "ALL THREADS WAITING"

    def running(self, args):
        p = gw.Proc(gw.gilwatch_cmd(args, ["--no-report"]), self.tmp,
            ready=False, hold=False)
        self.addCleanup(p.__exit__, None, None, None)
        pid = gw.poll_until(lambda: p.info().pid, what="its pid")
        return p, pid

    def test_lost_wakeup(self):
        prog = gw.sample("lost_wakeup")
        gw.need(self, prog)
        _, pid = self.running([prog])
        r = gw.poll_until(lambda: (lambda r: r if self.BANNER in r.stdout
            else None)(self.once(pid)), gw.DEADLOCK_TIMEOUT,
            "the banner in top --once")
        self.assertEqual(r.returncode, 0, r)
        self.assertRegex(r.stdout, r"ALL THREADS WAITING [0-9.]+s: each "
            r"waits, with no timeout, for another")

    def test_not_while_one_computes(self):
        """no_stall busy: main joins, the waiter waits, a third thread
        computes for 3 s, then lets them go: never the banner."""
        prog = gw.prog("no_stall")
        gw.need(self, prog)
        p, pid = self.running([prog, "busy"])
        seen = 0
        while p.running():
            r = self.once(pid)
            if r.returncode == 0:
                seen += 1
                self.assertNotIn(self.BANNER, r.stdout)
        self.assertEqual(p.wait(), 0, p.describe())
        self.assertGreater(seen, 0, "top --once never answered")


class TestBlameScreen(TopCase):
    """The dashboard in a wide terminal: b shows the blame view and b
    again the table; the PYTHON column shows a long name whole."""

    def python(self):
        found, _ = gw.pythons()
        if not found:
            self.skipTest("no python3.8-3.15 installed")
        return found[-1][1]

    def test_blame_key(self):
        prog = gw.pyprog("gil_blame")
        spin = gw.source_marks(prog)["spin"]
        p = gw.Proc(gw.gilwatch_cmd([self.python(), prog, "1000000"]),
            self.tmp, ready=False, hold=False)
        self.addCleanup(p.__exit__, None, None, None)
        info = gw.poll_until(lambda: (lambda i: i if "spinner" in i.threads
            and "waker" in i.threads else None)(p.info()),
            what="the spinner and the waker named")
        t = self.top("-d", "0.2", str(p.p.pid), width=220)
        t.wait_text(r"^\s*%d\s+waker\s" % info.threads["waker"])
        t.keys("b")
        t.wait_text(r"^ +[\d.]+ms +[\d.]+ms +\d+ +\d+  spin \(gil_blame\.py:"
            r"%d\)$" % spin, "the spin line in the blame view")
        t.wait_text(r"^ +[\d.]+ms +[\d.]+%%  held by \"spinner\" \(%d\)$" %
            info.threads["spinner"], "the waker's wait split by holder")
        self.assertIn("b table", t.screen())
        t.keys("b")
        t.wait_text(r"^\s*%d\s+spinner\s" % info.threads["spinner"],
            "the table back")

    def test_detail_says_realtime(self):
        """Enter on a SCHED_FIFO thread: its policy and priority."""
        p = gw.Proc(gw.gilwatch_cmd([self.python(), gw.pyprog("gil_blame"),
            "10", "--fifo"]), self.tmp)
        self.addCleanup(p.__exit__, None, None, None)
        p.wait_ready()
        if "fifo refused" in p.stderr():
            print("skip: SCHED_FIFO refused")
            self.skipTest("SCHED_FIFO refused")
        t = self.top("-d", "0.2", str(p.p.pid), width=220)
        t.wait_text(r"^\s*%d\s+waker\s+FIFO 10\s" %
            p.info().threads["waker"], "the waker's row marked FIFO 10")
        t.keys("/")
        t.keys("waker", "Enter")
        t.wait_text(r"1 threads match \"waker\"")
        t.keys("Enter")
        t.wait_text(r"^Real-time: FIFO 10 ", "the detail's real-time line")

    def test_python_column_in_220_columns(self):
        prog = gw.pyprog("long_names")
        whole = "idle_in_a_function_whose_name_is_far_longer_than_twenty " \
            "(long_names.py:%d)" % gw.source_marks(prog)["idle"]
        p = gw.Proc(gw.gilwatch_cmd([self.python(), prog]), self.tmp)
        self.addCleanup(p.__exit__, None, None, None)
        p.wait_ready()
        t = self.top("-d", "0.2", str(p.p.pid), width=220)
        t.wait_text(r"^\s*%d\s+idler\s.*%s$" % (p.info().threads["idler"],
            re.escape(whole)), "the whole function name")


if __name__ == "__main__":
    unittest.main()


OUTSIDE = gw.prog("outside")


def bare_env():
    """The environment of a program started without gilwatch."""
    env = dict(os.environ)
    env.pop("LD_PRELOAD", None)
    return env


def flat(screen):
    """The screen's text with every run of blanks and line ends as one
    space: a header line may wrap at any width."""
    return " ".join(screen.split())


OUTSIDE_HEADER = (r"Read from outside \(not started under gilwatch\) in "
    r"\S+, nothing stopped\. Need gilwatch run: hold/wait times, GIL load "
    r"and switches, lock statistics and history")


class TestOutside(TopCase):
    """gilwatch top PID of a program NOT started under gilwatch: the
    dashboard fed by reading the process from outside at each refresh
    (no native stacks: nothing is stopped)."""

    def bare(self, args, name):
        p = gw.Proc(args, self.tmp, env=bare_env(), name=name)
        self.addCleanup(p.__exit__, None, None, None)
        p.wait_ready()
        return p

    def test_abba(self):
        gw.need(self, OUTSIDE)
        p = self.bare([OUTSIDE, "abba"], "abba")
        info = p.info()
        a, b = info.threads["A"], info.threads["B"]
        m1, m2 = hexaddr(info.locks["m1"]), hexaddr(info.locks["m2"])
        t = self.top(str(info.pid))
        want = [r"^DEADLOCK: ",
            r"(?m)^\s*%d\s+A\s.*DEADLOCKED on mutex %s held by %d\b" %
            (a, m2, b),
            r"(?m)^\s*%d\s+B\s.*DEADLOCKED on mutex %s held by %d\b" %
            (b, m1, a)]
        s = t.wait_for(lambda s: all(re.search(w, s, re.M) for w in want)
            and re.search(OUTSIDE_HEADER, flat(s)),
            "both threads deadlocked on each other's lock, read from "
            "outside")
        lines = s.splitlines()
        first = [i for i, l in enumerate(lines) if l.startswith("DEADLOCK")][0]
        end = [i for i, l in enumerate(lines) if re.match(r"\s+TID ", l)][0]
        banner = " ".join(lines[first:end])
        for text in ('"A" (%d)' % a, '"B" (%d)' % b, m1, m2):
            self.assertIn(text, banner)
        # main reads its hold pipe: the kernel's word on it.
        self.assertRegex(s, r"(?m)^\s*%d\s+main\s.*RUNNING \(kernel: S "
            r"in read\)" % info.pid)
        # Times that only the shim measures are not shown as zeros.
        self.assertNotIn("GIL%", s)
        self.assertNotRegex(s, r"held by %d \d" % b)
        # The locks view says what it lacks, and lists the waits.
        t.keys("l")
        s = t.wait_text(r"^Waiting now:", "the locks view from outside")
        self.assertIn("Lock statistics, call sites and lock-order history "
            "need gilwatch run", flat(s))
        self.assertRegex(s, r'"A" \(%d\): DEADLOCKED on mutex %s held by %d'
            % (a, m2, b))
        # A stack only when asked for: the detail view unwinds it on f.
        t.keys("Escape")
        t.wait_text(r"^\s+TID NAME", "back to the table")
        # The selection starts on the first row: a deadlocked thread.
        t.keys("Enter")
        s = t.wait_text(r"^Stack: none \(not unwound from outside unless "
            r"asked", "the detail view, no stack yet")
        self.assertRegex(s, r'Thread (%d "A"|%d "B")' % (a, b))
        t.keys("f")
        s = t.wait_text(r"^\s+#\d+\s+ring_thread\+", "A's stack, unwound")
        self.assertRegex(s, r"\(\d+ threads stopped one at a time to unwind, "
            r"the longest for [\d.]+ ms\)")
        # Being watched stopped nothing: it still finishes as it should.
        t.keys("q")
        t.wait_gone("the dashboard to quit")
        p.release()
        self.assertEqual(p.wait(), 0, p.describe())

    def test_once_abba(self):
        gw.need(self, OUTSIDE)
        p = self.bare([OUTSIDE, "abba"], "abba")
        info = p.info()
        r = self.once(info.pid)
        self.assertEqual(r.returncode, 0, r)
        self.assertRegex(flat(r.stdout), OUTSIDE_HEADER)
        self.assertRegex(r.stdout, r"(?m)^DEADLOCK: ")
        self.assertRegex(r.stdout, r"(?m)^\s*%d\s+A\s.*DEADLOCKED on mutex "
            r"%s held by %d \(inferred\)$" % (info.threads["A"],
            hexaddr(info.locks["m2"]), info.threads["B"]))

    @unittest.skipUnless(os.geteuid() == 0, "needs root to switch user")
    def test_no_permission(self):
        """Reading from outside takes ptrace's permission: another user
        gets one line naming the rule, before any screen."""
        gw.need(self, OUTSIDE)
        p = self.bare([OUTSIDE, "abba"], "abba")
        with gw.ReachableCopy(self, gw.GILWATCH) as copy:
            for opts in ([], ["--once"]):
                with self.subTest(opts=opts):
                    r = subprocess.run([copy["gilwatch"], "top", *opts,
                        str(p.p.pid)], stdin=subprocess.DEVNULL,
                        capture_output=True, text=True,
                        preexec_fn=gw.as_nobody, timeout=gw.TIMEOUT)
                    self.assertEqual(r.returncode, 1, r)
                    self.assertTrue(one_line(r), r)
                    self.assertIn("no permission", r.stderr)

    def run_one(self, exe):
        script = os.path.join(self.tmp, "cruncher.py")
        with open(script, "w") as f:
            f.write(CRUNCHER)
        lines = CRUNCHER.split("\n")
        spin = [i + 1 for i, l in enumerate(lines)
            if l.strip() in ("while True:", "n += 1")]
        p = self.bare([exe, script], os.path.basename(exe))
        pid = p.p.pid
        r = self.once(pid)
        self.assertEqual(r.returncode, 0, r)
        if "GIL: none" in r.stdout:
            why = re.search(r"GIL: none \((.*)\)", r.stdout).group(1)
            print("skip: %s: no Python read from outside (%s)" % (exe, why))
            self.skipTest("%s: no Python read from outside (%s)" % (exe,
                why))
        # The header names the version, as it does under the shim.
        version = subprocess.run([exe, "-c", "import platform; "
            "print(platform.python_version())"], capture_output=True,
            text=True, timeout=gw.TIMEOUT).stdout.strip()
        self.assertIn("  Python %s  " % version, r.stdout.split("\n")[0],
            r.stdout)
        t = self.top("-d", "0.2", str(pid))
        frame = r"crunch \(cruncher\.py:(%s)\)" % "|".join(map(str, spin))
        want = [r'GIL holder: "cruncher" \(\d+\), 0 waiting',
            r"(?m)^\s*\d+\s+cruncher\s.*HOLDS GIL\s.*\s" + frame,
            r"(?m)^\s*%d\s+MainThread\s.*<module> \(cruncher\.py:\d+\)" %
            pid]
        t.wait_for(lambda s: all(re.search(w, s) for w in want) and
            re.search(OUTSIDE_HEADER, flat(s)),
            "cruncher holding the GIL, its Python frame, read from outside")
        p.__exit__(None, None, None)


gw.add_interpreter_tests(TestOutside)
