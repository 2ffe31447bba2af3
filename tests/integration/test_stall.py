"""Stalls (`gilwatch run --stall`): every thread waits, with no timeout,
for another thread of the process, and no lock cycle explains it.  The
lost_wakeup sample must be reported, with the exact threads and what
each waits on; programs that only look stalled (timed waits, a thread
computing, a thread gilwatch never saw) must run to their end with no
report.  The Python sample is in test_python.py (TestPyStall)."""

import os
import unittest

try:
    from . import gwtest as gw
except ImportError:
    import gwtest as gw


class TestStall(unittest.TestCase):
    def tmpdir(self):
        td = gw.tempdir()
        self.addCleanup(td.cleanup)
        return td.name

    def test_lost_wakeup(self):
        gw.need(self, gw.GILWATCH, gw.SHIM, gw.sample("lost_wakeup"))
        _, info, docs = gw.run_with_report(self, self.tmpdir(),
            [gw.sample("lost_wakeup")], ["--stall=1", "--on-stall=exit"],
            status=gw.STALL_STATUS, timeout=gw.DEADLOCK_TIMEOUT)
        stalls = [d for d in docs if d.get("reason") == "stall"]
        self.assertEqual(len(stalls), 1, docs)
        doc = stalls[0]
        self.assertEqual(doc.get("pid"), info.pid)
        self.assertEqual(gw.deadlocks(doc), [], "no cycle in a stall")
        thr = gw.threads(doc)
        main, consumer = info.threads["main"], info.threads["consumer"]
        self.assertEqual(set(thr), {main, consumer})
        self.assertEqual(thr[main]["state"], "joining")
        self.assertEqual(gw.waiting(thr[main])["owners"], [consumer])
        self.assertEqual(thr[consumer]["state"], "waiting")
        w = gw.waiting(thr[consumer])
        self.assertEqual((w["addr"], w["kind"], w["timed"]),
            (info.locks["ready"], "condvar", False))
        for t in thr.values():
            self.assertGreaterEqual(t["state_seconds"], 1.0, t)

    def test_text_report_and_default_action(self):
        """--stall alone reports and lets the program be: it is killed
        here once the report is out."""
        gw.need(self, gw.GILWATCH, gw.SHIM, gw.sample("lost_wakeup"))
        out = os.path.join(self.tmpdir(), "report.txt")
        with gw.Proc([gw.GILWATCH, "run", "--stall=1", "--output=" + out,
            "--", gw.sample("lost_wakeup")], self.tmpdir(), ready=False,
            hold=False) as p:
            gw.poll_until(lambda: os.path.isfile(out) and
                "Every thread waits" in open(out).read(),
                gw.DEADLOCK_TIMEOUT, "a stall report in %s" % out)
            self.assertTrue(p.running(), "--stall alone ends nothing")
        text = open(out).read()
        self.assertIn("gilwatch stall report: pid", text)
        self.assertIn("waiting on condvar", text)
        self.assertIn("waiting for a thread to end", text)

    def test_not_stalled(self):
        gw.need(self, gw.GILWATCH, gw.SHIM, gw.prog("no_stall"))
        for mode in ("timed", "busy", "hidden"):
            with self.subTest(mode=mode):
                tmp = self.tmpdir()
                r = gw.run_under_gilwatch([gw.prog("no_stall"), mode],
                    ["--stall=1", "--on-stall=exit", "--no-report",
                     "--format=json",
                     "--output=" + os.path.join(tmp, "r-%p.json")])
                self.assertEqual(r.returncode, 0, r)
                self.assertEqual(os.listdir(tmp), [], "no report")


if __name__ == "__main__":
    unittest.main()
