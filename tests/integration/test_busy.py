"""busy, the sample that never deadlocks: same output under gilwatch,
no report; and `gilwatch dump` / SIGQUIT while its threads are parked in
known states."""

import os
import signal
import unittest

try:
    from . import gwtest as gw
except ImportError:
    import gwtest as gw

CHECKSUM = r"\Achecksum [0-9a-f]{16}\n\Z"
WAITING = ["worker-0", "worker-1", "worker-2", "worker-3", "producer",
    "consumer"]     # parked in pthread_cond_wait on `go`


class TestBusy(unittest.TestCase):
    def test_same_output_no_report(self):
        busy = gw.sample("busy")
        gw.need(self, gw.GILWATCH, gw.SHIM, busy)
        bare = gw.run([busy])
        self.assertEqual(bare.returncode, 0, bare)
        self.assertRegex(bare.stdout, CHECKSUM)

        with gw.tempdir() as tmp:
            r = gw.run_under_gilwatch([busy], ["--on-deadlock=exit",
                "--format=json",
                "--output=" + os.path.join(tmp, "report-%p.json")])
            self.assertEqual(r.returncode, 0, r)
            self.assertEqual(r.stdout, bare.stdout)
            for doc in gw.load_reports(tmp):
                self.assertEqual(gw.deadlocks(doc), [], doc)


class TestDump(unittest.TestCase):
    """busy under gilwatch, parked: holder holds `hold`, waiter blocks
    on it, the workers wait on a condvar."""

    def setUp(self):
        self.busy = gw.sample("busy")
        gw.need(self, gw.GILWATCH, gw.SHIM, self.busy)
        td = gw.tempdir()
        self.addCleanup(td.cleanup)
        self.proc = gw.Proc(gw.gilwatch_cmd([self.busy]), td.name)
        self.addCleanup(self.proc.__exit__, None, None, None)
        self.proc.wait_ready()
        self.info = self.proc.info()
        self.pid = self.info.pid
        self.assertIsNotNone(self.pid, self.proc.describe())
        for name in ["holder", "waiter", *WAITING]:
            self.assertIn(name, self.info.threads, self.proc.describe())

    def dump(self, *opts):
        return gw.run([gw.GILWATCH, "dump", *opts, str(self.pid)])

    def finish(self):
        """Release busy: it must run to the end and exit 0."""
        self.proc.release()
        self.assertEqual(self.proc.wait(), 0, self.proc.describe())
        self.assertRegex(self.proc.stdout(), CHECKSUM)

    def test_json(self):
        r = self.dump("--format=json")
        self.assertEqual(r.returncode, 0, r)
        docs = gw.parse_json_docs(r.stdout)
        self.assertEqual(len(docs), 1, r)
        doc = docs[0]
        self.assertEqual(doc.get("pid"), self.pid)
        self.assertEqual(gw.deadlocks(doc), [])
        thr = gw.threads(doc)

        # Every thread of busy is there, and nothing that is not a thread.
        self.assertIn(self.pid, thr, "main thread")
        for name, tid in self.info.threads.items():
            self.assertIn(tid, thr, name)
            self.assertEqual(thr[tid].get("name"), name)
        self.assertLessEqual(set(thr), gw.tasks(self.pid))

        hold = self.info.locks["hold"]
        holder = self.info.threads["holder"]
        waiter = thr[self.info.threads["waiter"]]
        self.assertEqual(waiter.get("state"), "blocked")
        w = gw.waiting(waiter)
        self.assertIsNotNone(w, "waiter's waiting_for")
        self.assertEqual((w["addr"], w["kind"]), (hold, "mutex"))
        self.assertEqual(w["owners"], [holder])
        self.assertEqual(gw.held(waiter), [])

        h = [x for x in gw.held(thr[holder]) if x["addr"] == hold]
        self.assertEqual(len(h), 1, "holder holds hold")
        self.assertEqual(h[0]["kind"], "mutex")
        if h[0]["count"] is not None:
            self.assertEqual(h[0]["count"], 1)

        for name in WAITING:
            t = thr[self.info.threads[name]]
            self.assertEqual(t.get("state"), "waiting", name)
            self.assertEqual(gw.held(t), [], name)
        self.finish()

    def test_text(self):
        for opts in ([], ["--format=text"]):
            with self.subTest(opts=opts):
                r = self.dump(*opts)
                self.assertEqual(r.returncode, 0, r)
                for name, tid in self.info.threads.items():
                    self.assertIn(name, r.stdout)
                    self.assertIn(str(tid), r.stdout)
                self.assertTrue(gw.hex_in(r.stdout, self.info.locks["hold"]),
                    r)
        self.finish()

    def test_sigquit(self):
        """SIGQUIT: a text dump on stderr, and busy keeps running."""
        hold = self.info.locks["hold"]
        before = len(self.proc.stderr())

        def dumped():
            if not self.proc.running():
                self.fail("died on SIGQUIT: " + self.proc.describe())
            new = self.proc.stderr()[before:]
            return "holder" in new and "waiter" in new and \
                gw.hex_in(new, hold)

        os.kill(self.pid, signal.SIGQUIT)
        gw.poll_until(dumped, what="dump on stderr after SIGQUIT")
        self.assertTrue(self.proc.running(), self.proc.describe())
        # Twice: the handler stays installed.
        before = len(self.proc.stderr())
        os.kill(self.pid, signal.SIGQUIT)
        gw.poll_until(dumped, what="second dump after SIGQUIT")
        self.finish()


if __name__ == "__main__":
    unittest.main()
