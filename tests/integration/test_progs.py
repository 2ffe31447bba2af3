"""The test programs of tests/integration/prog under gilwatch: return
values and errno unchanged, fork, load, many held locks, the snapshot
API."""

import os
import time
import unittest

try:
    from . import gwtest as gw
except ImportError:
    import gwtest as gw

# Any false deadlock report ends the program with status 86.
STRICT = ["--on-deadlock=exit"]


class TestProgs(unittest.TestCase):
    def need(self, name):
        gw.need(self, gw.GILWATCH, gw.SHIM, gw.prog(name))
        return gw.prog(name)

    def test_errno_check(self):
        exe = self.need("errno_check")
        bare = gw.run([exe])
        self.assertEqual(bare.returncode, 0, bare)
        self.assertNotIn("FAIL", bare.stdout)
        r = gw.run_under_gilwatch([exe], STRICT)
        self.assertEqual(r.returncode, 0, r)
        self.assertEqual(r.stdout, bare.stdout)

    def test_failed_waits_leave_no_wait_behind(self):
        """errno_check's waits that take nothing (timed out, a join, a
        failed relock) are followed by takes that do not wait: none of
        them is reported contended or with a wait longer than the run
        (a join's start and a timed-out wait's end made one of some
        10^10 seconds)."""
        exe = self.need("errno_check")
        with gw.tempdir() as d:
            out = os.path.join(d, "r.json")
            t0 = time.monotonic()
            r = gw.run_under_gilwatch([exe], ["--format=json",
                "--output=" + out])
            run_ms = (time.monotonic() - t0) * 1000
            self.assertEqual(r.returncode, 0, r)
            tables = [t for t in gw.load_report(out)
                      if t.get("reason") == "locks"]
        self.assertEqual(len(tables), 1)
        locks = {l["name"] or l["addr"]: l for l in tables[0]["locks"]}
        for name, l in locks.items():
            self.assertLessEqual(l["wait_ms"]["max"], run_ms, name)
        # The lock the cond_timedwait used, taken before it uncontended.
        for name in ("ec_other", "spin"):
            self.assertEqual(locks[name]["contended"], 0, locks[name])

    def test_fork_threads(self):
        exe = self.need("fork_threads")
        r = gw.run_under_gilwatch([exe], STRICT, timeout=2 * gw.TIMEOUT)
        self.assertEqual(r.returncode, 0, r)

    def exit_reports(self, mode, status):
        """Run exit_paths MODE with a JSON report file per process:
        {pid: {lock name: acquisitions}} from each file's lock table."""
        exe = self.need("exit_paths")
        with gw.tempdir() as d:
            r = gw.run_under_gilwatch([exe, mode], ["--format=json",
                "--output=" + os.path.join(d, "r-%p.json")])
            self.assertEqual(r.returncode, status, r)
            got = {}
            for path in gw.report_files(d, "r-*"):
                pid = int(os.path.basename(path)[2:-5])
                tables = [t for t in gw.load_report(path)
                          if t.get("reason") == "locks"]
                self.assertEqual(len(tables), 1, path)
                self.assertEqual(tables[0]["pid"], pid)
                got[pid] = {l["name"]: l["acquired"]
                            for l in tables[0]["locks"]}
            return r, gw.sample_info(r.stderr).pid, got

    def test_exit_report_fork_child(self):
        """A fork child ending with _exit writes its own report."""
        r, pid, got = self.exit_reports("fork", 0)
        child = int(r.stdout.split()[1])
        self.assertEqual(got, {pid: {}, child: {"exit_lock": 100}})

    def test_exit_report_not_vfork_child(self):
        """A vfork child's _exit writes nothing: it shares the parent's
        memory, and the parent's report is still whole."""
        r, pid, got = self.exit_reports("vfork", 0)
        self.assertEqual(got, {pid: {"exit_lock": 7}})

    def test_exit_report_from_signal_handler(self):
        """_exit called by a signal handler: the report, then the
        program's own status."""
        r, pid, got = self.exit_reports("signal", 3)
        self.assertEqual(got, {pid: {"exit_lock": 5}})

    def test_exit_report_underscore_Exit(self):
        r, pid, got = self.exit_reports("_Exit", 4)
        self.assertEqual(got, {pid: {"exit_lock": 9}})

    def test_stress64(self):
        exe = self.need("stress64")
        r = gw.run_under_gilwatch([exe], STRICT, timeout=4 * gw.TIMEOUT)
        self.assertEqual(r.returncode, 0, r)
        self.assertIn("count 6400000,", r.stdout)

    def test_manylocks(self):
        exe = self.need("manylocks")
        with gw.tempdir() as tmp, \
            gw.Proc(gw.gilwatch_cmd([exe], STRICT), tmp) as p:
            p.wait_ready()
            info = p.info()
            r = gw.run([gw.GILWATCH, "dump", "--format=json",
                str(info.pid)])
            self.assertEqual(r.returncode, 0, r)
            docs = gw.parse_json_docs(r.stdout)
            self.assertEqual(len(docs), 1)
            hoarder = gw.threads(docs[0]).get(info.threads["hoarder"])
            self.assertIsNotNone(hoarder, "hoarder in dump")
            held = gw.held(hoarder)
            self.assertEqual(len(held), 1500)
            self.assertEqual({h["kind"] for h in held}, {"mutex"})
            first, last = info.locks["first"], info.locks["last"]
            stride = (last - first) // 1499
            self.assertEqual({h["addr"] for h in held},
                {first + i * stride for i in range(1500)})
            p.release()
            self.assertEqual(p.wait(), 0, p.describe())

    def test_snapshot_api_bare(self):
        exe = self.need("snapshot_api")
        r = gw.run([exe])
        self.assertEqual(r.returncode, 3, r)
        self.assertIn("not loaded", r.stderr)

    def test_snapshot_api(self):
        exe = self.need("snapshot_api")
        r = gw.run_under_gilwatch([exe], STRICT)
        self.assertEqual(r.returncode, 0, r)
        self.assertNotIn("FAIL", r.stderr)
        info = gw.sample_info(r.stderr)
        docs = gw.parse_json_docs(r.stdout)
        self.assertEqual(len(docs), 1, r)
        doc = docs[0]
        self.assertEqual(doc.get("pid"), info.pid)
        thr = gw.threads(doc)
        holder = info.threads["holder"]
        blocker = thr[info.threads["blocker"]]
        self.assertEqual(blocker.get("state"), "blocked")
        w = gw.waiting(blocker)
        self.assertEqual((w["addr"], w["kind"]), (info.locks["M"], "mutex"))
        self.assertEqual(w["owners"], [holder])
        self.assertIn(info.locks["M"], gw.held_addrs(thr[holder]))


if __name__ == "__main__":
    unittest.main()
