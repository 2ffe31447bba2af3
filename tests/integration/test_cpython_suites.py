"""CPython's own thread tests under the shim: nothing changes for the
program.

Each interpreter runs `python -m test MODULES` under `gilwatch run
--no-report --`.  When everything passes, that is all.  When something
fails, the same modules run bare, and the shim may not make anything
fail that passed bare: the failing test modules (regrtest's summary) and
the failing test cases (its --junit-xml file) under the shim must be
among those failing bare.  A module that fails only under the shim is
run once more under the shim, and passes as flaky (said aloud) if it
then passes.

By default the full set runs: test_threading test_thread test_queue
test_concurrent_futures on every installed interpreter, free-threaded
builds (pyenv's 3.X.Yt) included, some 10-15 minutes on a 2-core
machine without those (test_concurrent_futures alone is about 3 minutes
a run).  GW_QUICK_TESTS=1 runs a fast subset instead, for a
quick look while working: test_thread and test_threading on 3.8 and
3.13.  The test says which, and how long each run took.

A test module an interpreter lacks is skipped aloud: Debian's
python3.11 ships its tests in a separate package (libpython3.11-testsuite,
not installed here), and the pyenv builds of 3.11.7 and 3.12.1 here have
no test_concurrent_futures.
"""

import os
import re
import time
import unittest
import xml.etree.ElementTree as ET

try:
    from . import gwtest as gw
except ImportError:
    import gwtest as gw

FULL = ["test_threading", "test_thread", "test_queue",
    "test_concurrent_futures"]
FAST = ["test_thread", "test_threading"]
FAST_MINORS = (8, 13)
RUN_TIMEOUT = 15 * 60 * gw.SCALE    # one regrtest run
# regrtest --timeout: one test file may take this long before regrtest
# dumps its threads and fails it.  Bare, test_threading takes 10-20 s
# here and test_concurrent_futures (one file up to 3.12) under 3 min.
# A hang costs this much: CPython 3.13.0's ProcessPoolExecutor can
# deadlock at shutdown (gh-125451), seen once in test_shutdown.
FAST_TEST_TIMEOUT = 120 * gw.SCALE
FULL_TEST_TIMEOUT = 5 * 60 * gw.SCALE


def quick():
    return os.environ.get("GW_QUICK_TESTS", "") not in ("", "0")


def present_modules(exe, modules):
    """Those of modules that the interpreter's test package has."""
    r = gw.run([exe, "-c", "import importlib.util, sys; print(' '.join("
        "m for m in sys.argv[1:] if importlib.util.find_spec('test.' + m) "
        "is not None))", *modules])
    return r.stdout.split() if r.returncode == 0 else []


def failed_modules(out):
    """The modules regrtest's summary lists as failed (also those that
    crashed or timed out, which it counts as failed)."""
    failed, take = set(), False
    for line in out.splitlines():
        if re.match(r"^\d+ tests? failed:$", line.strip()) or \
            re.match(r"^\d+ tests? failed again:$", line.strip()):
            take = True
            continue
        if take and line.startswith("    "):
            failed.update(line.split())
            continue
        take = False
    return failed


def failed_cases(path):
    """Test cases with a failure or an error in a --junit-xml file."""
    if not os.path.isfile(path):
        return set()
    out = set()
    for case in ET.parse(path).getroot().iter("testcase"):
        if case.find("failure") is not None or \
            case.find("error") is not None:
            out.add(case.get("name"))
    return out


def free_threaded_builds():
    """pyenv's free-threaded builds gilwatch reads, [(label, exe)]; a
    minor (3.13t-3.15t) missing or not read is said."""
    out = []
    for minor in range(13, max(gw.PY_MINORS) + 1):
        exes = gw.free_threaded_builds(minor)
        if not exes and minor not in gw.FREE_THREADED_UNSUPPORTED:
            print("skip: python3.%dt not installed (pyenv, free-threaded)"
                % minor)
        out += [("pyenv-" + os.path.basename(os.path.dirname(
            os.path.dirname(e))), e) for e in exes]
    return out


class TestCPythonSuites(unittest.TestCase):
    def regrtest(self, exe, modules, shim, tmp, tag):
        """One run; returns (failed modules, failed cases, seconds,
        Result)."""
        xml = os.path.join(tmp, tag + ".xml")
        per_file = FAST_TEST_TIMEOUT if quick() else FULL_TEST_TIMEOUT
        args = [exe, "-m", "test", "--timeout=%d" % per_file,
            "--junit-xml", xml, *modules]
        env = {k: v for k, v in os.environ.items()
            if k != "LD_PRELOAD" and not k.startswith("GILWATCH_")}
        if shim:
            args = gw.gilwatch_cmd(args, ["--no-report"])
        start = time.monotonic()
        # Until regrtest ends: a pool's worker it leaves behind (a
        # hang its --timeout cut short) must not keep the run going.
        r = gw.run_leader(args, timeout=RUN_TIMEOUT, env=env, cwd=tmp)
        took = time.monotonic() - start
        if re.search(r"Tests? result: (SUCCESS|FAILURE)", r.stdout):
            mods = failed_modules(r.stdout)
            if r.returncode != 0 and not mods:
                mods = {"(exit status %d)" % r.returncode}
        else:
            # regrtest itself ended early: its --timeout fired (it dumps
            # the threads on stderr and exits) or it crashed.  The file
            # it was running fails, with the test it was in.
            started = re.findall(r"\[\s*\d+/\d+\] (\S+)", r.stdout)
            # faulthandler's dump, innermost call first: the first test
            # method in a test file is where it was.
            where = re.findall(r'/test_\w+\.py", line \d+ in (test_\w+)',
                r.stderr)
            mods = {"%s (regrtest ended early, status %s%s)" % (
                started[-1] if started else "?", r.returncode,
                ", in " + where[0] if where else "")}
        return mods, failed_cases(xml), took, r

    def compare(self, label, exe, modules, tmp):
        """Run modules under the shim; on failures, bare too, and assert
        nothing fails only under the shim.  Returns the seconds spent."""
        smods, scases, stime, sr = self.regrtest(exe, modules, True, tmp,
            "shim")
        total = stime
        if not smods and not scases:
            print("cpython-suites: %s: all passed under the shim, %.0f s" %
                (label, stime))
            return total
        bmods, bcases, btime, br = self.regrtest(exe, modules, False, tmp,
            "bare")
        total += btime
        print("cpython-suites: %s: under the shim %.0f s (failed: %s), "
            "bare %.0f s (%s)" % (label, stime, " ".join(sorted(smods)),
            btime, "failed: " + " ".join(sorted(bmods)) if bmods else
            "all passed"))
        # Compared by file name, whatever the way it failed.
        new = {m.split()[0] for m in smods} - {m.split()[0] for m in bmods}
        if new:
            again, _, atime, ar = self.regrtest(exe, sorted(new), True, tmp,
                "again")
            total += atime
            print("cpython-suites: %s: %s again under the shim: %.0f s "
                "(%s)" % (label, " ".join(sorted(new)), atime, "failed: " +
                " ".join(sorted(again)) if again else "passed"))
            if not {m.split()[0] for m in again} & new:
                print("note: %s: %s failed under the shim, then passed: "
                    "flaky" % (label, " ".join(sorted(new))))
                # Cases are named test.MODULE.Class.method.
                scases = {c for c in scases if not any(
                    c.startswith("test.%s." % m) for m in new)}
                new = set()
        self.assertEqual(new, set(), "fail only under the shim: %s\n"
            "stdout: %s\nstderr: %s" % (sorted(smods),
            gw.tail(sr.stdout, 3000), gw.tail(sr.stderr, 3000)))
        self.assertLessEqual(scases - bcases, set(),
            "test cases failing only under the shim")
        return total

    def test_suites(self):
        gw.need(self, gw.GILWATCH, gw.SHIM)
        found, skips = gw.pythons()
        for s in skips:
            print(s)
        if not quick():
            modules, todo = FULL, found + free_threaded_builds()
            print("cpython-suites: %s on every interpreter (GW_QUICK_TESTS"
                "=1 for a fast subset)" % " ".join(modules))
        else:
            modules = FAST
            todo = [(l, e) for l, e in found
                if l.startswith("pyenv-") and gw.py_minor(e) in FAST_MINORS]
            print("cpython-suites: fast subset (GW_QUICK_TESTS): %s on 3.8 "
                "and 3.13, not %s on every interpreter" %
                (" ".join(modules), " ".join(FULL)))
            for m in FAST_MINORS:
                if not any(gw.py_minor(e) == m for _, e in todo):
                    print("skip: pyenv python3.%d not installed" % m)
        if not todo:
            self.skipTest("no interpreter to run CPython's tests on")
        total = 0.0
        for label, exe in todo:
            with self.subTest(python=label):
                here = present_modules(exe, modules)
                missing = [m for m in modules if m not in here]
                if missing:
                    # Debian's python3.11 ships its tests in another
                    # package; some pyenv builds lack a few.
                    print("skip: %s has no test.%s" % (exe,
                        ", test.".join(missing)))
                if not here:
                    continue
                with gw.tempdir() as tmp:
                    total += self.compare(label, exe, here, tmp)
        print("cpython-suites: %.0f s in all" % total)


if __name__ == "__main__":
    unittest.main()
