"""Lock-order validation (issue 3): programs that take locks in orders
that could deadlock -- but never do in the run itself -- and programs
whose orders are safe.  Every test checks the exact lock-order reports:
how many, which view, the cycle's links in order (by the addresses the
program prints as "gw-sample: lock NAME 0xADDR"), who made each link,
and the gates.  A report that should not be there is as much a failure
as one that is missing.

Every program finishes in well under a second; a run that takes longer
than RUN_TIMEOUT is a hang in the validator, and fails its test."""

import os
import re
import signal
import unittest

try:
    from . import gwtest as gw
except ImportError:
    import gwtest as gw

RUN_TIMEOUT = 15 * gw.SCALE
ORDER_EXIT_STATUS = 87          # --lock-order=exit without a number

FRAME_KEYS = {"kind", "ip", "function", "offset", "module", "file", "line"}


class LockOrderCase(unittest.TestCase):
    def tmpdir(self):
        td = gw.tempdir()
        self.addCleanup(td.cleanup)
        return td.name

    def run_order(self, exe, args=(), opts=(), status=0, fmt="json",
        timeout=RUN_TIMEOUT):
        """Run exe ARGS under gilwatch with the report going to a file
        (%p = pid); check the exit status.  Returns (result, sample
        info, lock-order documents) -- for fmt="text", the report text
        instead of the documents."""
        gw.need(self, gw.GILWATCH, gw.SHIM, exe)
        tmp = self.tmpdir()
        ext = "json" if fmt == "json" else "txt"
        r = gw.run_under_gilwatch([exe, *args], ["--format=" + fmt,
            "--output=" + os.path.join(tmp, "report-%p." + ext), *opts],
            timeout=timeout)
        self.assertEqual(r.returncode, status, r)
        info = gw.sample_info(r.stderr)
        files = gw.report_files(tmp)
        self.assertLessEqual(len(files), 1, "one process, one file: %s"
            % files)
        if info.pid is not None and files:
            self.assertEqual(os.path.basename(files[0]),
                "report-%d.%s" % (info.pid, ext), "%p is the pid")
        text = ""
        if files:
            with open(files[0], errors="replace") as f:
                text = f.read()
        if fmt != "json":
            return r, info, text
        docs = gw.parse_json_docs(text)
        self.last_docs = docs
        orders = [d for d in docs if d.get("reason") == "lock-order"]
        for d in orders:
            self.check_shape(d)
            if info.pid is not None:
                self.assertEqual(d["pid"], info.pid)
        return r, info, orders

    # --- the document's layout -------------------------------------------

    def check_frame(self, f):
        self.assertIsInstance(f, dict)
        self.assertEqual(set(f), FRAME_KEYS, f)
        self.assertEqual(f["kind"], "native")
        self.assertRegex(f["ip"], r"^0x[0-9a-f]+$")

    def check_lock(self, lock):
        self.assertEqual(set(lock), {"addr", "kind", "class", "name"},
            lock)
        self.assertRegex(lock["addr"], r"^0x[0-9a-f]+$")
        self.assertIn(lock["kind"], ("mutex", "rwlock", "spinlock"))
        self.check_frame(lock["class"])

    def check_shape(self, d):
        self.assertEqual(d.get("gilwatch"), 1)
        self.assertEqual(set(d), {"gilwatch", "pid", "reason", "view",
            "thread", "site", "cycle", "gates"}, d)
        self.assertIn(d["view"], ("instance", "class"))
        self.assertEqual(set(d["thread"]), {"tid", "name"})
        self.check_frame(d["site"])
        self.assertGreaterEqual(len(d["cycle"]), 2)
        for link in d["cycle"]:
            self.assertEqual(set(link), {"from", "to", "tid", "thread",
                "frames", "python_frames"}, link)
            self.assertEqual(link["python_frames"], [], "a C program")
            self.check_lock(link["from"])
            self.check_lock(link["to"])
            self.assertIsInstance(link["frames"], list)
            self.assertGreater(len(link["frames"]), 0, "a link's stack")
            for f in link["frames"]:
                self.check_frame(f)
        for g in d["gates"]:
            self.assertRegex(g, r"^0x[0-9a-f]+$")

    # --- what a report says ------------------------------------------------

    @staticmethod
    def links(doc):
        return [(gw.addr(l["from"]["addr"]), gw.addr(l["to"]["addr"]))
            for l in doc["cycle"]]

    def assertOneReport(self, orders, r):
        self.assertEqual(len(orders), 1, "want exactly one lock-order "
            "report, have %d: %r\n%r" % (len(orders), orders, r))
        return orders[0]

    def assertNoReport(self, orders, r):
        self.assertEqual(orders, [], "no lock-order report wanted: %r"
            % (r,))

    def assertCycle(self, doc, info, names, view="instance", kinds=None,
        makers=None, closer=None, gates=()):
        """doc reports the cycle through the locks `names` (sample lock
        names), cycle[0] being names[0] -> names[1] (the acquisition
        that closed it), then on around.  kinds: name -> lock kind.
        makers: the thread name that made each link, in cycle order.
        closer: the thread that closed the cycle.  gates: lock names."""
        locks = [info.locks[n] for n in names]
        n = len(locks)
        self.assertEqual(len(set(locks)), n, "distinct locks")
        self.assertEqual(doc["view"], view)
        self.assertEqual(len(doc["cycle"]), n, "cycle length")
        want = [(locks[i], locks[(i + 1) % n]) for i in range(n)]
        self.assertEqual(self.links(doc), want, "links of the cycle, "
            "in order")
        self.assertEqual({a for a, _ in self.links(doc)}, set(locks))
        if kinds is not None:
            for i, link in enumerate(doc["cycle"]):
                self.assertEqual(link["from"]["kind"], kinds[names[i]])
                self.assertEqual(link["to"]["kind"],
                    kinds[names[(i + 1) % n]])
        if makers is not None:
            self.assertEqual([l["tid"] for l in doc["cycle"]],
                [info.threads[m] for m in makers], "who made each link")
            self.assertEqual([l["thread"] for l in doc["cycle"]],
                list(makers))
        if closer is not None:
            self.assertEqual(doc["thread"]["tid"], info.threads[closer])
            self.assertEqual(doc["thread"]["name"], closer)
        self.assertEqual(sorted(gw.addr(g) for g in doc["gates"]),
            sorted(info.locks[g] for g in gates), "gates")


class TestOrderInversion(LockOrderCase):
    """samples/order_inversion: one thread, a then b, later b then a."""

    def exe(self):
        return gw.sample("order_inversion")

    def check(self, doc, info):
        self.assertCycle(doc, info, ["B", "A"], kinds={"A": "mutex",
            "B": "mutex"}, gates=())
        # One thread made both links and closed the cycle.
        self.assertEqual({l["tid"] for l in doc["cycle"]},
            {doc["thread"]["tid"]})
        self.assertEqual(doc["thread"]["name"], "order_inversion")
        self.assertEqual(gw.frame_function(doc["site"]), "transfer_ba")
        self.assertEqual(gw.frame_function(doc["cycle"][0]["frames"][0]),
            "transfer_ba")
        self.assertEqual(gw.frame_function(doc["cycle"][1]["frames"][0]),
            "transfer_ab")

    def test_report(self):
        r, info, orders = self.run_order(self.exe())
        self.assertEqual(r.stdout, "done\n")
        self.check(self.assertOneReport(orders, r), info)

    def test_exit(self):
        r, info, orders = self.run_order(self.exe(),
            opts=["--lock-order=exit"], status=ORDER_EXIT_STATUS)
        self.assertNotIn("done", r.stdout, "ended at the report")
        self.check(self.assertOneReport(orders, r), info)

    def test_exit_status(self):
        r, info, orders = self.run_order(self.exe(),
            opts=["--lock-order=exit:5"], status=5)
        self.assertNotIn("done", r.stdout)
        self.check(self.assertOneReport(orders, r), info)

    def test_abort(self):
        r, info, orders = self.run_order(self.exe(),
            opts=["--lock-order=abort"], status=-signal.SIGABRT)
        self.check(self.assertOneReport(orders, r), info)

    def test_off(self):
        r, info, orders = self.run_order(self.exe(),
            opts=["--lock-order=off"])
        self.assertEqual(r.stdout, "done\n")
        self.assertNoReport(orders, r)

    def test_env(self):
        """The shim alone, configured by GILWATCH_LOCK_ORDER."""
        gw.need(self, gw.SHIM, self.exe())
        env = dict(os.environ, LD_PRELOAD=gw.SHIM,
            GILWATCH_LOCK_ORDER="exit:7")
        r = gw.run([self.exe()], timeout=RUN_TIMEOUT, env=env)
        self.assertEqual(r.returncode, 7, r)

    def test_text(self):
        r, info, text = self.run_order(self.exe(), fmt="text")
        self.assertEqual(r.stdout, "done\n")
        self.assertEqual(text.count("possible circular locking "
            "dependency"), 1, text)
        self.assertIn("Possible unsafe locking scenario", text)
        # The locks are globals: named by their symbols, with addresses.
        self.assertIn("(a)", text)
        self.assertIn("(b)", text)
        self.assertIn("lock(a);", text)
        self.assertIn("lock(b);", text)
        self.assertTrue(gw.hex_in(text, info.locks["A"]), text)
        self.assertTrue(gw.hex_in(text, info.locks["B"]), text)
        self.assertIn("DEADLOCK", text)
        self.assertNotIn("gate", text, "no gate in this cycle")

    def test_text_to_stderr(self):
        """Without --output the text report goes to stderr."""
        gw.need(self, gw.GILWATCH, gw.SHIM, self.exe())
        r = gw.run_under_gilwatch([self.exe()], timeout=RUN_TIMEOUT)
        self.assertEqual(r.returncode, 0, r)
        self.assertEqual(r.stdout, "done\n")
        self.assertEqual(r.stderr.count("possible circular locking "
            "dependency"), 1, r)


class TestCycles(LockOrderCase):
    def test_philosophers(self):
        """Five philosophers run one after another: the order cycle of
        five forks, closed by the last one."""
        r, info, orders = self.run_order(gw.prog("order_philosophers"))
        self.assertEqual(r.stdout, "done meals 5\n")
        doc = self.assertOneReport(orders, r)
        forks = ["fork-%d" % i for i in range(5)]
        self.assertCycle(doc, info, ["fork-4"] + forks[:4],
            kinds={f: "mutex" for f in forks},
            makers=["phil-%d" % i for i in (4, 0, 1, 2, 3)],
            closer="phil-4")

    def test_chain30(self):
        """l0->l1, ..., l28->l29, then l29->l0: all thirty in the
        cycle."""
        r, info, orders = self.run_order(gw.prog("order_chain"))
        self.assertEqual(r.stdout, "done\n")
        doc = self.assertOneReport(orders, r)
        names = ["l29"] + ["l%d" % i for i in range(29)]
        self.assertCycle(doc, info, names)
        self.assertEqual(len({l["tid"] for l in doc["cycle"]}), 1)

    def test_chain30_text(self):
        """More than four locks: the scenario is a list."""
        r, info, text = self.run_order(gw.prog("order_chain"),
            fmt="text")
        self.assertEqual(text.count("possible circular locking "
            "dependency"), 1, text)
        self.assertEqual(len(re.findall(r"thread \d+: holds .*, waits "
            "for ", text)), 30, text)


    def test_chain30_heap_labels(self):
        """Thirty locks no symbol names: thirty distinct labels, A..Z
        then AA.. (they wrapped after Z)."""
        r, info, text = self.run_order(gw.prog("order_chain"), ["heap"],
            fmt="text")
        links = re.findall(r"thread \d+: holds (\S+), waits for (\S+)\n",
            text)
        self.assertEqual(len(links), 30, text)
        held = [h for h, _ in links]
        self.assertEqual(len(set(held)), 30, held)
        self.assertEqual(set(held), {w for _, w in links})
        self.assertIn("AD", held)


class TestLockNames(LockOrderCase):
    """tests/integration/prog/stack_locks: an inversion between two
    locals of main, a then b, later b then a.  The cycle is closed by
    b -> a, so by their place in it, b is first and a second: a letter
    by place would call a "(B)"."""

    EXE = "stack_locks"

    def names(self, doc):
        return [(l["from"]["name"], l["to"]["name"]) for l in doc["cycle"]]

    def scenario_locks(self, text):
        """The labels of the two-column scenario, in order."""
        return re.findall(r"lock\(([^)]+)\);", text)

    def test_stack_locals(self):
        r, info, orders = self.run_order(gw.prog(self.EXE), ["order"],
            opts=["--lock-order=exit"], status=ORDER_EXIT_STATUS)
        doc = self.assertOneReport(orders, r)
        self.assertCycle(doc, info, ["b", "a"], makers=["second", "first"])
        self.assertEqual(self.names(doc), [("b", "a"), ("a", "b")])

    def check_labels(self, mode, cycle, labels, names, makers=None):
        """Run `mode`: its cycle is the sample locks `cycle` in order;
        the text report labels them `labels`, the JSON names them
        `names` (None: no name), both in that order."""
        r, info, text = self.run_order(gw.prog(self.EXE), [mode],
            fmt="text")
        self.assertEqual(r.stdout, "done\n")
        for lock, label in zip(cycle, labels):
            self.assertRegex(text, r"mutex <0x0*%x> \(%s\)"
                % (info.locks[lock], re.escape(label)))
        self.assertEqual(self.scenario_locks(text), [labels[0], labels[1],
            labels[1], labels[0]])
        r, info, orders = self.run_order(gw.prog(self.EXE), [mode])
        doc = self.assertOneReport(orders, r)
        self.assertCycle(doc, info, cycle, makers=makers)
        self.assertEqual(self.names(doc), [(names[0], names[1]),
            (names[1], names[0])])
        return text

    def test_stack_locals_labels(self):
        text = self.check_labels("order", ["b", "a"], ["b", "a"],
            ["b", "a"])
        self.assertNotRegex(text, r"\([AB]\)", "no letters: " + text)

    def test_struct_and_array(self):
        both = ["locks[1]", "s.m"]
        self.check_labels("struct", both, both, both)

    def test_same_name(self):
        """Two locals called m, of two threads: two labels, the name
        in JSON for both."""
        self.check_labels("twins", ["m2", "m1"], ["m", "m#2"], ["m", "m"],
            makers=["twin-2", "twin-1"])

    def test_heap_letters(self):
        """Heap locks have no variable: distinct letters in the text,
        no name in JSON."""
        self.check_labels("heap", ["h1", "h0"], ["A", "B"], [None, None])


class TestTrylock(LockOrderCase):
    def trylock(self, mode, status=0):
        r, info, orders = self.run_order(gw.prog("order_trylock"),
            [mode], status=status)
        self.assertEqual(r.stdout, "done %s\n" % mode)
        return r, info, orders

    def test_forward(self):
        """Holding A, trylock(B); later holding B, lock(A): the trylock
        made no A->B, so B->A alone is no cycle."""
        r, info, orders = self.trylock("forward")
        self.assertNoReport(orders, r)

    def test_reverse(self):
        """Holding A, lock(B); later holding B, trylock(A): a trylock
        backs off instead of waiting: no cycle."""
        r, info, orders = self.trylock("reverse")
        self.assertNoReport(orders, r)

    def test_taken_by_trylock(self):
        """T taken by trylock, then lock(B) while holding it: T->B
        counts (B can be waited for); B then T closes the cycle."""
        r, info, orders = self.trylock("taken")
        doc = self.assertOneReport(orders, r)
        self.assertCycle(doc, info, ["B", "T"])


class TestRwlock(LockOrderCase):
    KINDS = {"R": "rwlock", "M": "mutex"}

    def rw(self, mode):
        r, info, orders = self.run_order(gw.prog("order_rwlock"), [mode])
        self.assertEqual(r.stdout, "done %s\n" % mode)
        return r, info, orders

    def test_read_read(self):
        """R read then M; M then R read: readers share, no report."""
        r, info, orders = self.rw("readread")
        self.assertNoReport(orders, r)

    def test_read_write(self):
        """R read then M; M then R write: the writer waits for the
        reader: one report."""
        r, info, orders = self.rw("readwrite")
        doc = self.assertOneReport(orders, r)
        self.assertCycle(doc, info, ["M", "R"], kinds=self.KINDS)

    def test_write_read(self):
        """R write then M; M then R read: one report."""
        r, info, orders = self.rw("writeread")
        doc = self.assertOneReport(orders, r)
        self.assertCycle(doc, info, ["M", "R"], kinds=self.KINDS)


class TestReinit(LockOrderCase):
    """A and B in one heap object, destroyed and initialised again at
    the same addresses: new locks, whose history starts over."""

    def reinit(self, mode):
        r, info, orders = self.run_order(gw.prog("order_reinit"), [mode])
        self.assertEqual(r.stdout, "done %s\n" % mode)
        return r, info, orders

    def test_control(self):
        """Not destroyed: A->B then B->A is reported."""
        r, info, orders = self.reinit("control")
        self.assertCycle(self.assertOneReport(orders, r), info,
            ["B", "A"])

    def test_reinit(self):
        """A->B; both destroyed and initialised again; B->A: the new
        locks never formed a cycle."""
        r, info, orders = self.reinit("reinit")
        self.assertNoReport(orders, r)

    def test_reuse_both(self):
        """Both renewed, then the new locks are inverted: reported."""
        r, info, orders = self.reinit("reuse_both")
        self.assertCycle(self.assertOneReport(orders, r), info,
            ["B", "A"])

    def test_reuse_first(self):
        """Only A renewed; the new A then taken before B, and later B
        before the new A: an inversion of live locks, reported."""
        r, info, orders = self.reinit("reuse_first")
        self.assertCycle(self.assertOneReport(orders, r), info,
            ["B", "A"])

    def test_reuse_second(self):
        """Only B renewed; A before the new B, later the new B before A:
        reported."""
        r, info, orders = self.reinit("reuse_second")
        self.assertCycle(self.assertOneReport(orders, r), info,
            ["B", "A"])


class TestRecursive(LockOrderCase):
    def rec(self, mode):
        r, info, orders = self.run_order(gw.prog("order_recursive"),
            [mode])
        self.assertEqual(r.stdout, "done %s\n" % mode)
        return r, info, orders

    def test_relock(self):
        """A recursive mutex relocked by its owner: no order, no
        report."""
        r, info, orders = self.rec("relock")
        self.assertNoReport(orders, r)

    def test_relock_inside(self):
        """R, M, then R again (already held: cannot wait): no M->R."""
        r, info, orders = self.rec("inside")
        self.assertNoReport(orders, r)

    def test_inversion(self):
        """R, R, M; later M, R: R->M and M->R, one report."""
        r, info, orders = self.rec("inversion")
        self.assertCycle(self.assertOneReport(orders, r), info,
            ["M", "R"], kinds={"R": "mutex", "M": "mutex"})


class TestGate(LockOrderCase):
    def gate(self, mode, fmt="json"):
        r, info, out = self.run_order(gw.prog("order_gate"), [mode],
            fmt=fmt)
        self.assertEqual(r.stdout, "done %s\n" % mode)
        return r, info, out

    def safe_orders(self):
        """The exit report's count of known-safe orders, and gates."""
        tables = [d for d in self.last_docs if d.get("reason") == "locks"]
        self.assertEqual(len(tables), 1, self.last_docs)
        safe = tables[0]["safe_orders"]
        return safe["count"], [gw.addr(g) for g in safe["gates"]]

    def test_gated(self):
        """A->B and B->A, always under G: a known-safe order, counted
        with G its gate, not reported."""
        r, info, orders = self.gate("gated")
        self.assertNoReport(orders, r)
        self.assertEqual(self.safe_orders(), (1, [info.locks["G"]]))

    def test_gated_text(self):
        """Not headed *** DEADLOCK ***: one line names the gate."""
        r, info, text = self.gate("gated", fmt="text")
        self.assertNotIn("possible circular locking dependency", text)
        self.assertNotIn("DEADLOCK", text)
        lines = [l for l in text.splitlines() if "known safe" in l]
        self.assertEqual(len(lines), 1, text)
        self.assertIn("1 possible cycle,", lines[0])
        self.assertTrue(gw.hex_in(lines[0], info.locks["G"]), lines)

    def test_ungated_last(self):
        """Counted safe under G, then A->B once without G: reported
        then, by the thread that lost the gate."""
        r, info, orders = self.gate("ungated_last")
        doc = self.assertOneReport(orders, r)
        self.assertCycle(doc, info, ["A", "B"], makers=["ab", "ba"],
            closer="bare", gates=())
        self.assertEqual(self.safe_orders(), (1, [info.locks["G"]]))

    def test_ungated_text(self):
        """Without a gate the text report still ends in DEADLOCK, and
        nothing is counted safe."""
        r, info, text = self.gate("ungated_after", fmt="text")
        self.assertEqual(text.count("possible circular locking "
            "dependency"), 1, text)
        self.assertIn("*** DEADLOCK ***", text)
        self.assertNotIn("known safe", text)

    def test_ungated_after(self):
        """A->B once under G, then once without: G is no gate."""
        r, info, orders = self.gate("ungated_after")
        doc = self.assertOneReport(orders, r)
        self.assertCycle(doc, info, ["B", "A"], makers=["ba", "ab"],
            closer="ba", gates=())
        self.assertEqual(self.safe_orders(), (0, []))

    def test_ungated_before(self):
        """A->B once without G, then under G: G is no gate."""
        r, info, orders = self.gate("ungated_before")
        doc = self.assertOneReport(orders, r)
        self.assertCycle(doc, info, ["B", "A"], makers=["ba", "bare"],
            closer="ba", gates=())


class TestClasses(LockOrderCase):
    def test_class_inversion(self):
        """a1 then l1, later l2 then a2: no instance cycle, but the
        account and ledger classes are taken in both orders."""
        r, info, orders = self.run_order(gw.prog("order_classes"),
            ["inverted"])
        self.assertEqual(r.stdout, "done inverted\n")
        doc = self.assertOneReport(orders, r)
        self.assertEqual(doc["view"], "class")
        self.assertEqual(self.links(doc), [
            (info.locks["l2"], info.locks["a2"]),
            (info.locks["a1"], info.locks["l1"])], "the links as made")
        self.assertEqual([l["thread"] for l in doc["cycle"]],
            ["auditor", "teller"])
        self.assertEqual([l["tid"] for l in doc["cycle"]],
            [info.threads["auditor"], info.threads["teller"]])
        self.assertEqual(doc["thread"]["tid"], info.threads["auditor"])
        # The classes are the init sites, and close the cycle.
        cls = [(gw.frame_function(l["from"]["class"]),
            gw.frame_function(l["to"]["class"])) for l in doc["cycle"]]
        self.assertEqual(cls, [("ledger_init", "account_init"),
            ("account_init", "ledger_init")])
        for i, l in enumerate(doc["cycle"]):
            nxt = doc["cycle"][(i + 1) % 2]
            self.assertEqual(l["to"]["class"]["ip"],
                nxt["from"]["class"]["ip"])
        self.assertEqual(doc["gates"], [])

    def test_class_consistent(self):
        """a1 then l1, a2 then l2: one order, no report."""
        r, info, orders = self.run_order(gw.prog("order_classes"),
            ["consistent"])
        self.assertEqual(r.stdout, "done consistent\n")
        self.assertNoReport(orders, r)


class TestStress(LockOrderCase):
    SUBSETS = [m for m in range(16) if bin(m).count("1") >= 2]
    NTHREADS, NLOOPS = 4, 100000

    def test_consistent_order_stress(self):
        """4 threads x 100000 iterations of 2-4 nested mutexes, always in
        ascending order: silent, and the counts exact.  --lock-order=exit
        makes any report end the run with status 87."""
        r, info, orders = self.run_order(gw.prog("order_stress"),
            opts=["--lock-order=exit"], timeout=2 * gw.TIMEOUT)
        self.assertNoReport(orders, r)
        want = [0] * 4
        n = len(self.SUBSETS)
        for t in range(self.NTHREADS):
            for s in range(n):
                # iterations i with (i + t) % n == s
                first = (s - t) % n
                times = len(range(first, self.NLOOPS, n))
                for k in range(4):
                    if self.SUBSETS[s] & (1 << k):
                        want[k] += times
        self.assertEqual(r.stdout, "".join("counter %d %d\n" % (k, want[k])
            for k in range(4)) + "total %d\n" %
            (self.NTHREADS * self.NLOOPS))


if __name__ == "__main__":
    unittest.main()
