"""Priority inversions (issue 15): a real-time (SCHED_FIFO) thread
blocked on a lock that a normal-priority thread holds is reported in
the lock table at exit (text and JSON) with the holder, the lock and
the holder's Python line or native call site, and counted, also in
--metrics.

pyprog/rt_lock.py (a threading.Lock, on every interpreter whose Python
locks gilwatch sees) and prog/rt_mutex (a pthread mutex): "rt-waiter"
makes itself SCHED_FIFO and waits some 20 ms for the lock "holder"
keeps.  Where SCHED_FIFO is refused (no CAP_SYS_NICE) a test says
"skip: ..." and checks nothing; CI runs as root.
"""

import os
import re

try:
    from . import gwtest as gw
    from .test_metrics import one, read_metrics
    from .test_python import PythonCase
except ImportError:
    import gwtest as gw
    from test_metrics import one, read_metrics
    from test_python import PythonCase

WAIT_US = 5000          # of the 20 ms the holder keeps the lock, at least


class TestInversion(PythonCase):

    def run_inversion(self, args, label):
        """Run args under gilwatch with a JSON report and metrics; None
        (said) when SCHED_FIFO is refused, else (sample info, the lock
        table's inversions, the metrics)."""
        tmp = self.tmpdir()
        metrics = os.path.join(tmp, "m-%p.prom")
        r, info, docs = gw.run_with_report(self, tmp, args,
            ["--metrics=" + metrics])
        if "fifo refused" in r.stderr:
            print("skip: %s: SCHED_FIFO refused" % label)
            return None
        self.assertIn("gw-sample: fifo ok", r.stderr)
        doc = gw.doc_with_reason(docs, "locks")
        self.assertIsNotNone(doc, docs)
        fams = read_metrics(metrics.replace("%p", str(info.pid)))
        return info, doc["priority_inversions"], fams

    def check_one(self, info, inv, fams):
        """Exactly one inversion: rt-waiter (SCHED_FIFO 5) waited for
        the lock held by holder (SCHED_OTHER); the same count in the
        metrics.  Returns it."""
        self.assertEqual(inv["count"], 1, inv)
        self.assertEqual(len(inv["kept"]), 1, inv)
        k = inv["kept"][0]
        self.assertEqual(k["tid"], info.threads["rt-waiter"], k)
        self.assertEqual(k["name"], "rt-waiter", k)
        self.assertEqual((k["policy"], k["priority"]), ("SCHED_FIFO", 5), k)
        self.assertEqual(k["holder"], info.threads["holder"], k)
        self.assertEqual(k["holder_name"], "holder", k)
        self.assertEqual(k["holder_policy"], "SCHED_OTHER", k)
        self.assertGreater(k["us"], WAIT_US, k)
        self.assertEqual(one(self, fams, "gilwatch_priority_inversions_"
            "total"), 1)
        return k

    def test_python_lock(self):
        """threading.Lock: the holder's Python line that took it."""
        prog = gw.pyprog("rt_lock")
        take = gw.source_marks(prog)["take"]
        for label, exe in self.each_python():
            with self.subTest(python=label):
                if self.locks_unseen(label, exe, "priority inversions"):
                    continue
                got = self.run_inversion([exe, prog], label)
                if got is None:
                    continue
                k = self.check_one(*got)
                self.assertRegex(k["what"], r"^semaphore <0x[0-9a-f]+>$", k)
                self.assertEqual(k["where"], "holder (%s:%d)" %
                    (prog, take), k)

    def test_native_mutex(self):
        """A pthread mutex: the lock by its variable, the holder's call
        site; the text report says the same in one line."""
        prog = gw.prog("rt_mutex")
        gw.need(self, gw.GILWATCH, gw.SHIM, prog)
        got = self.run_inversion([prog], "rt_mutex")
        if got is None:
            return
        info = got[0]
        k = self.check_one(*got)
        self.assertEqual(k["what"], "mutex <0x%x>" % info.locks["gate"], k)
        self.assertEqual(k["lock_name"], "gate", k)
        self.assertEqual(k["where"], "", k)
        self.assertEqual((k["holder_site"]["function"],
            k["holder_site"]["file"]), ("holder",
            "tests/integration/prog/rt_mutex.c"), k)
        r = gw.run_under_gilwatch([prog])
        self.assertEqual(r.returncode, 0, r)
        self.assertRegex(r.stderr, r'(?m)^priority inversions: 1 \(.*\n'
            r'    "rt-waiter" %d \(SCHED_FIFO 5\) waited [0-9.]+ ms for '
            r'mutex <0x%x> \(gate\) held by "holder" %d \(SCHED_OTHER\), '
            r'acquired at holder\+0x[0-9a-f]+ \(tests/integration/prog/'
            r'rt_mutex\.c:\d+\)' % (gw.sample_info(r.stderr).threads[
            "rt-waiter"], gw.sample_info(r.stderr).locks["gate"],
            gw.sample_info(r.stderr).threads["holder"]))

    def test_realtime_holder_no_inversion(self):
        """A real-time holder (rt_mutex holder-fifo) makes no inversion:
        the same wait is contended, and not counted."""
        prog = gw.prog("rt_mutex")
        gw.need(self, gw.GILWATCH, gw.SHIM, prog)
        tmp = self.tmpdir()
        r, info, docs = gw.run_with_report(self, tmp, [prog, "holder-fifo"])
        if "fifo refused" in r.stderr:
            print("skip: rt_mutex holder-fifo: SCHED_FIFO refused")
            return
        self.assertEqual(r.stderr.count("gw-sample: fifo ok"), 2, r)
        doc = gw.doc_with_reason(docs, "locks")
        self.assertEqual(doc["priority_inversions"], {"count": 0,
            "kept": []}, doc)
        gate = [l for l in doc["locks"] if l["name"] == "gate"]
        self.assertEqual(len(gate), 1, doc["locks"])
        self.assertEqual(gate[0]["contended"], 1, gate)
        self.assertGreater(gate[0]["wait_ms"]["max"], WAIT_US / 1e3, gate)


class TestRealtimeMetrics(PythonCase):

    def test_budget_and_priority(self):
        """gil_blame.py --fifo under --rt-budget=2 --metrics: the waker's
        real-time priority, the budget, and as many GIL misses as the
        exit report counts."""
        prog = gw.pyprog("gil_blame")
        label, exe = self.each_python()[0]
        tmp = self.tmpdir()
        metrics = os.path.join(tmp, "m-%p.prom")
        r, info, docs = gw.run_with_report(self, tmp, [exe, prog, "40",
            "--fifo"], ["--rt-budget=2", "--metrics=" + metrics])
        if "fifo refused" in r.stderr:
            self.skipTest("%s: SCHED_FIFO refused" % label)
        fams = read_metrics(metrics.replace("%p", str(info.pid)))
        rt = self.gil_doc(docs, exe)["rt_budget"]
        self.assertGreater(rt["gil"], 0, rt)
        self.assertEqual(one(self, fams, "gilwatch_rt_budget_misses_total",
            what="gil"), rt["gil"])
        self.assertEqual(one(self, fams, "gilwatch_rt_budget_misses_total",
            what="lock"), rt["lock"])
        self.assertEqual(one(self, fams, "gilwatch_rt_budget_seconds"),
            0.002)
        self.assertEqual(one(self, fams, "gilwatch_thread_realtime_priority",
            tid=str(info.threads["waker"]), name="waker",
            policy="SCHED_FIFO"), 10)
        self.assertEqual(len(fams["gilwatch_thread_realtime_priority"]
            ["samples"]), 1, fams["gilwatch_thread_realtime_priority"])


if __name__ == "__main__":
    import unittest
    unittest.main()
