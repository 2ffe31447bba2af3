"""`gilwatch top --once` on a free-threaded CPython (3.13t and later, no
GIL), under `gilwatch run` (the shim's shared-memory publication) and
from outside (a bare program): what stands in for the GIL there.

  - a critical-section wait: two threads contending on one list through
    its C-level critical section (pyprog/freethreaded.py "cs"): the
    holder's section on the list, the waiter entering one; under
    `gilwatch run` also the PyMutex it is parked on and its holder, and
    once the wait is over the PyMutex contention count (one wait, on
    one mutex, and the mutex's row in the lock table);
  - a stop-the-world pause (gc.collect()) held up by a thread that
    blocks attached ("stw"): the pause in the words of dumps' note, the
    holder attached and the other thread suspended.

Interpreters: pyenv's free-threaded builds (3.X.Yt, python3.Xt); a
missing one is a skip that says so.
"""

import os
import re
import unittest

try:
    from . import gwtest as gw
except ImportError:
    import gwtest as gw

OB_MUTEX = 10   # the object header's ob_mutex (py-offsets.h)
CS_TITLE = ("Critical sections (object locks of a free-threaded CPython), "
    "innermost first:")


def top(pid):
    r = gw.run([gw.GILWATCH, "top", "--once", str(pid)])
    if r.returncode != 0:
        raise AssertionError("gilwatch top --once: %r" % (r,))
    return r.stdout


def block(out, title):
    """The lines after title up to the next empty line, or None."""
    lines = out.splitlines()
    if title not in lines:
        return None
    rest = lines[lines.index(title) + 1:]
    return rest[:rest.index("")] if "" in rest else rest


def row(out, tid, name):
    rows = [ln for ln in out.splitlines()
        if re.match(r"\s*%d %s\s" % (tid, re.escape(name)), ln)]
    if len(rows) != 1:
        raise AssertionError("no one row of %s (%d) in:\n%s" % (name, tid,
            out))
    return rows[0]


def top_until(pid, ok, what, want):
    """`gilwatch top --once PID` until ok(output) is true: the output;
    failing, the last output and what was wanted are told."""
    def check():
        out = top(pid)
        return out if ok(out) else None
    try:
        return gw.poll_until(check, what=what)
    except AssertionError as e:
        raise AssertionError("%s; want %s; last:\n%s" % (e, want,
            top(pid)))


class Scene:
    """A scene of pyprog/freethreaded.py (self.scene), bare or under
    `gilwatch run` (self.shim), checked by self.check(Proc, record)."""

    shim = False

    def run_one(self, exe):
        with gw.tempdir() as tmp:
            p, rec = gw.scenes(exe, tmp, self.scene, prog="freethreaded",
                under=(gw.GILWATCH, "run", "--") if self.shim else ())
            with p:
                self.check(p, rec)


class CriticalSection(Scene):
    """The "cs" scene."""

    scene = "cs"

    def want(self, rec):
        tid = {n: w["native"] for n, w in rec["info"].items()}
        holder = '"cs-holder" (%d)' % tid["cs-holder"]
        waiter = '"cs-waiter" (%d)' % tid["cs-waiter"]
        return ["  %s in critical section on list %s, waited for by %s" %
            (holder, hex(rec["list"]), waiter), "  %s entering a critical "
            "section: waits for pymutex %s held by %s" % (waiter,
            hex(rec["list"] + OB_MUTEX), holder)]

    def check(self, p, rec):
        pid = p.p.pid
        tid = {n: w["native"] for n, w in rec["info"].items()}
        want = self.want(rec)

        # The waiter may spin a moment before it parks.
        blocked = r" BLOCKED pymutex %s by %d " % (hex(rec["list"] +
            OB_MUTEX), tid["cs-holder"])

        out = top_until(pid, lambda out: block(out, CS_TITLE) == want and
            re.search(blocked, row(out, tid["cs-waiter"], "cs-waiter")),
            "the critical-section wait", want)
        self.assertRegex(row(out, tid["cs-holder"], "cs-holder"),
            r"py:attached cs:list\s*$")
        # Nothing counted yet: PyMutex waits count when they end.
        self.assertNotIn("PyMutex contention", out)
        if self.shim:
            self.after(p, rec)

    def after(self, p, rec):
        """The wait over (both threads done): one PyMutex wait counted,
        on the list's mutex, and no critical section left."""
        os.write(p.hold_w, b"go\n")
        p.wait_ready()
        mutex = hex(rec["list"] + OB_MUTEX)

        out = top_until(p.p.pid, lambda out: "PyMutex contention" in out,
            "the PyMutex count", "PyMutex contention")
        self.assertRegex(out, r"\nPyMutex contention: 1 wait on 1 mutex, "
            r"\S+ waited, the longest \S+\n")
        self.assertIsNone(block(out, CS_TITLE), out)
        rows = [ln for ln in out.splitlines()
            if ln.startswith("pymutex %s " % mutex)]
        self.assertEqual(len(rows), 1, out)
        # ACQUIRED and CONTENDED: the one wait, counted as it ended.
        self.assertRegex(rows[0], r"^pymutex %s\s+-\s+1\s+1\s" % mutex)


class TestTopCriticalSectionOutside(CriticalSection, unittest.TestCase):
    """Read from outside: the same, the PyMutex named by the parking
    lot's entry the waiter sleeps in; no statistics."""


class TestTopCriticalSectionShim(CriticalSection, unittest.TestCase):
    """Under `gilwatch run`: the PyMutex and its holder, then the count."""

    shim = True


class Pause(Scene):
    """The "stw" scene."""

    scene = "stw"

    def check(self, p, rec):
        pid = p.p.pid
        tid = {n: w["native"] for n, w in rec["info"].items()}
        note = ('A stop-the-world pause is under way, asked for by '
            '"MainThread" (tid %d): 1 thread yet to stop, held up by '
            '"stw-holder" (tid %d).' % (pid, tid["stw-holder"]))

        out = top_until(pid, lambda out: "\n%s\n" % note in out,
            "the pause", note)
        # In the header, before the thread table.
        self.assertLess(out.index(note), out.index("    TID NAME"))
        self.assertRegex(row(out, tid["stw-holder"], "stw-holder"),
            r", Python attached\s*$")
        self.assertRegex(row(out, tid["stw-spare"], "stw-spare"),
            r", Python suspended(\s|$)")


class TestTopPauseOutside(Pause, unittest.TestCase):
    """Read from outside."""


class TestTopPauseShim(Pause, unittest.TestCase):
    """Under `gilwatch run`."""

    shim = True


gw.add_free_threaded_tests(TestTopCriticalSectionOutside)
gw.add_free_threaded_tests(TestTopCriticalSectionShim)
gw.add_free_threaded_tests(TestTopPauseOutside)
gw.add_free_threaded_tests(TestTopPauseShim)


if __name__ == "__main__":
    unittest.main()
