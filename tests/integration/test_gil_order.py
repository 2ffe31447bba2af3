"""The GIL takes part in lock-order validation (--lock-order), on every
installed interpreter (one subTest each).

tests/integration/pyprog/gil_order.py takes a pthread mutex `m` through
ctypes in two orders, in two threads run one after the other, so that
the run itself never deadlocks: "gil-first" locks `m` through PyDLL,
holding the GIL (GIL -> m); "mutex-first" locks `m` through CDLL, which
drops the GIL for the call, and takes the GIL back on return while it
holds `m` (m -> GIL).  The shim counts GIL acquisitions as acquisitions
of a lock of kind "gil", so the second order closes a cycle: exactly one
lock-order report, whose two links are the mutex `m` (at the address the
program prints) and the GIL, made by those two threads.  With one order
only there must be no report.

What is checked is the JSON lock-order document (see gilwatch(1), "Lock-
order warnings"), the exit lock table (where the GIL's address is
checked against the one in the cycle), and the text report.
"""

import os
import unittest

try:
    from . import gwtest as gw
    from .test_python import PythonCase
except ImportError:
    import gwtest as gw
    from test_python import PythonCase

ORDER_EXIT_STATUS = 87          # --lock-order=exit without a number
RUN_TIMEOUT = 15 * gw.SCALE     # each run takes well under a second
TABLE_ROWS = 1000               # --top: the exit lock table in full

# The functions a thread takes the GIL back in when a call that dropped
# it returns: PyEval_RestoreThread, in 3.13 _PyThreadState_Attach.
GIL_RETAKE = {"PyEval_RestoreThread", "_PyThreadState_Attach"}


class TestGilLockOrder(PythonCase):
    def run_order(self, exe, mode, opts=(), status=0, fmt="json"):
        """gil_order.py MODE under gilwatch, reports to a file; returns
        (Result, sample info, all documents, the lock-order documents);
        for fmt="text", the report text in place of both lists."""
        prog = gw.pyprog("gil_order")
        if fmt == "json":
            r, info, docs = self.run_report(exe, prog, [mode], opts=opts,
                status=status, timeout=RUN_TIMEOUT)
            self.assertIn("m", info.locks, r)
            orders = [d for d in docs if d.get("reason") == "lock-order"]
            return r, info, docs, orders
        tmp = self.tmpdir()
        r = gw.run_under_gilwatch([exe, prog, mode], ["--format=text",
            "--output=" + os.path.join(tmp, "report-%p.txt"), *opts],
            timeout=RUN_TIMEOUT)
        self.assertEqual(r.returncode, status, r)
        info = gw.sample_info(r.stderr)
        path = os.path.join(tmp, "report-%d.txt" % info.pid)
        self.assertTrue(os.path.isfile(path), "no %s: have %s" % (path,
            os.listdir(tmp)))
        with open(path, errors="replace") as f:
            return r, info, f.read(), None

    @staticmethod
    def functions(frames):
        return [gw.frame_function(f) for f in frames]

    def lock_table(self, docs, m):
        """The entries of the GIL and of m in the exit lock table (all of
        it: the runs ask for --top=TABLE_ROWS): one each."""
        table = gw.doc_with_reason(docs, "locks")
        self.assertIsNotNone(table, [d.get("reason") for d in docs])
        rows = [(l.get("kind"), gw.addr(l["addr"])) for l in table["locks"]]
        self.assertLess(len(rows), TABLE_ROWS, "the table is whole")
        gils = [l for l in table["locks"] if l.get("kind") == "gil"]
        self.assertEqual(len(gils), 1, "one GIL in %s" % rows)
        mine = [l for l in table["locks"] if gw.addr(l["addr"]) == m]
        self.assertEqual(len(mine), 1, "m %#x once in %s" % (m, rows))
        return gils[0], mine[0]

    def check_inversion(self, doc, info):
        """doc is the one report: mutex-first, holding m, takes the GIL
        back (m -> GIL) after gil-first took m holding the GIL (GIL ->
        m).  Returns the GIL's address."""
        m = info.locks["m"]
        gf, mf = info.threads["gil-first"], info.threads["mutex-first"]
        self.assertEqual(doc["pid"], info.pid)
        self.assertEqual(doc["view"], "instance")
        self.assertEqual(doc["gates"], [], "no lock keeps the cycle safe")
        # The acquisition that closed the cycle: mutex-first takes the
        # GIL back, at the top of the stack of the link it makes.
        self.assertEqual(doc["thread"], {"tid": mf, "name": "mutex-first"})
        self.assertEqual(len(doc["cycle"]), 2, doc["cycle"])
        closing, earlier = doc["cycle"]
        self.assertEqual(doc["site"]["kind"], "native")
        self.assertEqual(doc["site"]["ip"], closing["frames"][0]["ip"],
            "the site is where the closing link was made")
        # The two links: m -> GIL by mutex-first, GIL -> m by gil-first.
        self.assertEqual((closing["tid"], closing["thread"]),
            (mf, "mutex-first"))
        self.assertEqual((earlier["tid"], earlier["thread"]),
            (gf, "gil-first"))
        self.assertEqual((closing["from"]["kind"], closing["to"]["kind"]),
            ("mutex", "gil"))
        self.assertEqual((earlier["from"]["kind"], earlier["to"]["kind"]),
            ("gil", "mutex"))
        self.assertEqual(gw.addr(closing["from"]["addr"]), m)
        self.assertEqual(gw.addr(earlier["to"]["addr"]), m)
        gil = gw.addr(closing["to"]["addr"])
        self.assertEqual(gw.addr(earlier["from"]["addr"]), gil)
        self.assertNotEqual(gil, m)
        # Each lock has one class, the same in both links.
        self.assertEqual(closing["to"]["class"], earlier["from"]["class"])
        self.assertEqual(closing["from"]["class"], earlier["to"]["class"])
        # Where each link was made: mutex-first taking the GIL back as
        # the CDLL call returns, gil-first inside the PyDLL call (libffi).
        cf = self.functions(closing["frames"])
        ef = self.functions(earlier["frames"])
        self.assertTrue(GIL_RETAKE & set(cf), "GIL taken back: %s" % cf)
        self.assertNotIn("ffi_call", cf, "not inside the call: %s" % cf)
        self.assertIn("ffi_call", ef, "m locked inside the call: %s" % ef)
        self.assertFalse(GIL_RETAKE & set(ef), ef)
        # And in Python: the line of each thread's lock call.
        marks = gw.source_marks(gw.pyprog("gil_order"))
        self.assertEqual(gw.python_sites(closing["python_frames"])[:1],
            [("mutex_first", marks["mutex_first"])], closing)
        self.assertEqual(gw.python_sites(earlier["python_frames"])[:1],
            [("gil_first", marks["gil_first"])], earlier)
        return gil

    def test_inversion_reported(self):
        """--lock-order=report: the program runs to its end, with one
        report of the GIL <-> m inversion; the GIL's address is that of
        the GIL in the exit lock table, m's is the one printed."""
        for label, exe in self.each_python():
            with self.subTest(python=label):
                r, info, docs, orders = self.run_order(exe, "both",
                    opts=["--lock-order=report", "--top=%d" % TABLE_ROWS])
                self.assertEqual(r.stdout, "done both\n", "no deadlock")
                self.assertEqual(len(orders), 1, "one lock-order report: "
                    "%r\n%r" % (orders, r))
                gil = self.check_inversion(orders[0], info)
                entry, mine = self.lock_table(docs, info.locks["m"])
                self.assertEqual(gw.addr(entry["addr"]), gil,
                    "the GIL of the cycle is the GIL of the lock table")
                # The GIL lives in the runtime state (3.12 and later:
                # the main interpreter's, inside it).
                self.assertRegex(entry.get("name") or "",
                    r"^_PyRuntime\+\d+$")
                self.assertEqual((mine["kind"], mine["acquired"]),
                    ("mutex", 2), "m locked once by each thread")

    def test_inversion_exit(self):
        """--lock-order=exit: the program ends with status 87 at the
        report, when mutex-first takes the GIL back holding m (before
        it prints "done")."""
        for label, exe in self.each_python():
            with self.subTest(python=label):
                r, info, docs, orders = self.run_order(exe, "both",
                    opts=["--lock-order=exit"], status=ORDER_EXIT_STATUS)
                self.assertNotIn("done", r.stdout, "ended at the report")
                self.assertEqual(len(orders), 1, "one lock-order report: "
                    "%r\n%r" % (orders, r))
                self.check_inversion(orders[0], info)

    def test_one_order_no_report(self):
        """Either order alone -- GIL -> m, or m -> GIL -- is no cycle:
        under --lock-order=exit the program ends normally, with no
        report, having locked m (it is in the lock table) and taken the
        GIL."""
        for label, exe in self.each_python():
            for mode in ("gil-first", "mutex-first"):
                with self.subTest(python=label, mode=mode):
                    r, info, docs, orders = self.run_order(exe, mode,
                        opts=["--lock-order=exit", "--top=%d" %
                        TABLE_ROWS])
                    self.assertEqual(r.stdout, "done %s\n" % mode)
                    self.assertEqual(orders, [], "no lock-order report "
                        "wanted: %r" % (r,))
                    self.assertIn(mode, info.threads)
                    entry, mine = self.lock_table(docs, info.locks["m"])
                    self.assertGreater(entry["acquired"], 0)
                    self.assertEqual((mine["kind"], mine["acquired"]),
                        ("mutex", 1))

    def test_text(self):
        """The text report: mutex-first, holding mutex m, is trying to
        acquire the gil; the chain names gil-first and mutex-first."""
        for label, exe in self.each_python():
            with self.subTest(python=label):
                r, info, text, _ = self.run_order(exe, "both",
                    opts=["--lock-order=report"], fmt="text")
                self.assertEqual(r.stdout, "done both\n")
                self.assertEqual(text.count("possible circular locking "
                    "dependency"), 1, text)
                mf = info.threads["mutex-first"]
                gf = info.threads["gil-first"]
                m = "mutex <0x0*%x>" % info.locks["m"]
                gil = r"gil <0x[0-9a-f]+> \(_PyRuntime\+\d+\)"
                self.assertRegex(text, r'"mutex-first" tid=%d is trying '
                    r"to acquire:\n  %s" % (mf, gil))
                self.assertRegex(text, r"but already holds:\n  %s" % m)
                self.assertRegex(text, r'made by "gil-first" tid=%d:\n'
                    r"      holding %s.*\n      took %s" % (gf, gil, m))
                self.assertRegex(text, r'made by "mutex-first" tid=%d:\n'
                    r"      holding %s.*\n      took %s" % (mf, m, gil))
                self.assertIn("DEADLOCK", text)


if __name__ == "__main__":
    unittest.main()
