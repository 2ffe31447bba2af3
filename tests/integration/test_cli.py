"""The CLI's errors: a failed dump says why in one line; bad usage
exits 2.  Options where people type them: before or after the operands,
except after run's CMD, which owns what follows it."""

import os
import shutil
import unittest

try:
    from . import gwtest as gw
except ImportError:
    import gwtest as gw


def one_line(r):
    lines = r.stderr.strip().splitlines()
    return len(lines) == 1 and lines[0].strip() != ""


class TestCliErrors(unittest.TestCase):
    def setUp(self):
        gw.need(self, gw.GILWATCH)

    def test_dump_no_such_pid(self):
        # A pid that just existed and has been reaped.
        r = gw.run(["sh", "-c", "echo $$"])
        pid = int(r.stdout)
        self.assertFalse(os.path.exists("/proc/%d" % pid))
        for opts in ([], ["--format=json"]):
            with self.subTest(opts=opts):
                r = gw.run([gw.GILWATCH, "dump", *opts, str(pid)])
                self.assertNotEqual(r.returncode, 0, r)
                self.assertTrue(one_line(r), r)
                self.assertEqual(r.stdout, "", r)

    def test_dump_not_under_gilwatch(self):
        """Read from outside; what needs the shim says so in one line."""
        busy = gw.sample("busy")
        gw.need(self, busy)
        with gw.tempdir() as tmp, gw.Proc([busy], tmp) as p:
            p.wait_ready()
            r = gw.run([gw.GILWATCH, "dump", str(p.info().pid)])
            self.assertEqual(r.returncode, 0, r)
            self.assertIn("Read from outside", r.stdout)
            r = gw.run([gw.GILWATCH, "dump", "--locks", str(p.info().pid)])
            self.assertNotEqual(r.returncode, 0, r)
            self.assertTrue(one_line(r), r)
            self.assertIn("needs a process started under gilwatch run",
                r.stderr)
            p.release()
            self.assertEqual(p.wait(), 0, p.describe())

    def test_bad_usage(self):
        true = shutil.which("true") or "/bin/true"
        cases = [
            [],
            ["no-such-command"],
            ["--no-such-option"],
            ["run"],
            ["run", "--"],
            ["run", "--no-such-option", "--", true],
            ["run", "--on-deadlock=bogus", "--", true],
            ["run", "--on-deadlock=exit:x", "--", true],
            ["run", "--format=xml", "--", true],
            ["run", "--signal=NOSUCHSIG", "--", true],
            ["run", "--hold-sample=0", "--", true],
            ["run", "--hold-sample=x", "--", true],
            ["run", "--stall=0", "--", true],
            ["run", "--stall=soon", "--", true],
            ["run", "--on-stall=off", "--", true],
            ["dump"],
            ["dump", "--format=xml", "1"],
            ["dump", "--no-such-option", "1"],
            ["dump", "1", "--format"],
            ["dump", "1", "--locks=3"],
            ["dump", "1", "--", "--format=json"],
            ["top", "1", "--once", "-x"],
            ["help", "--no-such-option"],
        ]
        for args in cases:
            with self.subTest(args=args):
                r = gw.run([gw.GILWATCH, *args])
                self.assertEqual(r.returncode, 2, r)
                self.assertNotEqual(r.stderr.strip(), "", r)


class TestOptionPlaces(unittest.TestCase):
    def setUp(self):
        gw.need(self, gw.GILWATCH)

    def test_unknown_option_names_the_command_help(self):
        true = shutil.which("true") or "/bin/true"
        for args in (["dump", "1", "--frmat=json"],
            ["top", "--frmat=json", "1"],
            ["run", "--frmat=json", true],
            ["help", "dump", "--frmat=json"]):
            with self.subTest(args=args):
                r = gw.run([gw.GILWATCH, *args])
                self.assertEqual(r.returncode, 2, r)
                self.assertEqual(r.stderr, "gilwatch %s: unknown option "
                    "'--frmat=json' (see gilwatch %s --help)\n" %
                    (args[0], args[0]), r)

    def test_dump_and_top_after_the_pid(self):
        busy = gw.sample("busy")
        gw.need(self, busy)
        with gw.tempdir() as tmp, \
                gw.Proc(gw.gilwatch_cmd([busy]), tmp) as p:
            p.wait_ready()
            pid = str(p.info().pid)
            for args in ([pid, "--format=json"], ["--format", "json", pid],
                ["--locks", pid, "--format=json", "--top=3"]):
                with self.subTest(args=args):
                    r = gw.run([gw.GILWATCH, "dump", *args])
                    self.assertEqual(r.returncode, 0, r)
                    self.assertEqual(len(gw.parse_json_docs(r.stdout)), 1,
                        r)
            r = gw.run([gw.GILWATCH, "top", pid, "--once", "-d", "0.5"])
            self.assertEqual(r.returncode, 0, r)
            self.assertIn(pid, r.stdout)
            p.release()
            self.assertEqual(p.wait(), 0, p.describe())

    def test_run_leaves_the_command_its_options(self):
        # --no-report before CMD is gilwatch's (no report at exit), the
        # same word after CMD is CMD's own argument.
        r = gw.run([gw.GILWATCH, "run", "--no-report", "sh", "-c",
            'echo "$@"', "sh", "--no-report", "--format=json"])
        self.assertEqual(r.returncode, 0, r)
        self.assertEqual(r.stdout, "--no-report --format=json\n", r)
        self.assertNotIn("gilwatch", r.stderr, r)

    def test_help_operand_and_option(self):
        for args in (["dump"], ["--", "dump"]):
            r = gw.run([gw.GILWATCH, "help", *args])
            self.assertEqual(r.returncode, 0, r)
            self.assertIn("usage: gilwatch dump", r.stdout)
        r = gw.run([gw.GILWATCH, "help", "dump", "--help"])
        self.assertEqual(r.returncode, 0, r)
        self.assertIn("usage: gilwatch help", r.stdout)


if __name__ == "__main__":
    unittest.main()
