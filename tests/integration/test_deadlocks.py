"""Deadlock reports: the samples run under `gilwatch run` and the JSON
report must name exactly the threads and locks of the cycle."""

import os
import signal
import subprocess
import unittest

try:
    from . import gwtest as gw
except ImportError:
    import gwtest as gw


class DeadlockCase(unittest.TestCase):
    def tmpdir(self):
        td = gw.tempdir()
        self.addCleanup(td.cleanup)
        return td.name

    def run_deadlock(self, name, opts=(), status=gw.DEADLOCK_STATUS,
        cmd=None, env=None):
        """Run sample `name` (or cmd, a program and its arguments) with
        --on-deadlock=exit and a JSON report; return (report document
        with the deadlock, sample info)."""
        cmd = cmd or [gw.sample(name)]
        gw.need(self, gw.GILWATCH, gw.SHIM, cmd[0])
        _, info, docs = gw.run_with_report(self, self.tmpdir(),
            cmd, ["--on-deadlock=exit", *opts],
            status=status, timeout=gw.DEADLOCK_TIMEOUT, env=env)
        docs = [d for d in docs if gw.deadlocks(d)]
        self.assertEqual(len(docs), 1, "want one report with a deadlock")
        doc = docs[0]
        self.assertEqual(doc.get("pid"), info.pid)
        if "reason" in doc:
            self.assertEqual(doc["reason"], "deadlock")
        for cycle in gw.deadlocks(doc):
            self.assertIsCycle(cycle)
        return doc, info

    def assertIsCycle(self, links):
        """Each link's lock is held by the next link's thread."""
        n = len(links)
        for i, l in enumerate(links):
            self.assertEqual(l["held_by"], links[(i + 1) % n]["tid"],
                "link %d of %s" % (i, links))

    def check_cycle(self, doc, info, edges, funcs=None, state="blocked"):
        """The report has one deadlock, exactly `edges`: waiter name ->
        (lock name or None, holder name, kind).  funcs: holder name ->
        the function that took the lock, checked where symbolised."""
        cycles = gw.deadlocks(doc)
        self.assertEqual(len(cycles), 1, cycles)
        links = cycles[0]
        self.assertEqual(len(links), len(edges), links)
        by_tid = {l["tid"]: l for l in links}
        want = {info.threads[n]: n for n in edges}
        self.assertEqual(set(by_tid), set(want), "threads in the cycle")
        thr = gw.threads(doc)
        for tid, name in want.items():
            lock, holder, kind = edges[name]
            htid = info.threads[holder]
            link = by_tid[tid]
            with self.subTest(thread=name):
                self.assertIn(tid, thr, "thread missing from report")
                self.assertEqual(thr[tid].get("name"), name)
                self.assertEqual(thr[tid].get("state"), state)
                self.assertEqual(link["kind"], kind)
                self.assertEqual(link["held_by"], htid)
                w = gw.waiting(thr[tid])
                self.assertIsNotNone(w, "waiting_for of %s" % name)
                self.assertEqual(w["kind"], kind)
                if kind != "thread":
                    self.assertIn(htid, w["owners"])
                if lock is not None:
                    a = info.locks[lock]
                    self.assertEqual(link["addr"], a, "waits for " + lock)
                    self.assertEqual(w["addr"], a)
                    self.assertIn(a, gw.held_addrs(thr[htid]),
                        "%s holds %s" % (holder, lock))
                if kind == "mutex":
                    self.assertEqual(w["owners"], [htid])
                fn = gw.frame_function(link["acquired_at"])
                if funcs is not None and fn is not None:
                    self.assertEqual(fn, funcs[holder], "acquired_at")


class TestDeadlocks(DeadlockCase):
    def test_abba(self):
        doc, info = self.run_deadlock("abba")
        self.check_cycle(doc, info, {
            "worker-a": ("B", "worker-b", "mutex"),
            "worker-b": ("A", "worker-a", "mutex"),
        }, funcs={"worker-a": "worker_a", "worker-b": "worker_b"})

    def test_main_thread_ended(self):
        """ABBA formed after the main thread ended (pthread_exit in
        main): the report still names functions, lines and the command,
        which the kernel gives only through a thread that runs."""
        doc, info = self.run_deadlock("outside",
            cmd=[gw.prog("outside"), "mainexit"])
        self.check_cycle(doc, info, {
            "A": ("m2", "B", "mutex"),
            "B": ("m1", "A", "mutex"),
        })
        self.assertTrue((doc.get("command") or "").endswith(
            "outside mainexit"), doc.get("command"))
        for l in gw.deadlocks(doc)[0]:
            self.assertEqual(gw.frame_function(l["acquired_at"]),
                "ring_thread", l)
        self.assertNotIn(info.pid, gw.threads(doc), "the main thread ended")

    def test_abba_looked_up(self):
        """An ABBA deadlock through pthread_mutex_lock found by dlsym on
        the handle of dlopen("libc.so.6") or "libpthread.so.0" (which
        searches that library, not the global scope where the shim
        comes first), by dlvsym on libc's handle, by dlsym(RTLD_NEXT)
        from the program and from a library preloaded after the shim
        (which also wraps getpid through RTLD_NEXT: that lookup must
        stay relative to it, or the wrapper would call itself)."""
        probe = os.path.join(gw.BUILD, "tests", "next_probe.so")
        gw.need(self, probe)
        env = dict(os.environ, LD_PRELOAD=probe)
        for how in ("libc", "pthread", "vsym", "next", "preload"):
            with self.subTest(how=how):
                doc, info = self.run_deadlock(None, cmd=[
                    gw.prog("dlsym_locks"), "deadlock", how],
                    env=env if how == "preload" else None)
                self.check_cycle(doc, info, {
                    "worker-a": ("B", "worker-b", "mutex"),
                    "worker-b": ("A", "worker-a", "mutex"),
                }, funcs={"worker-a": "worker", "worker-b": "worker"})

    def test_philosophers(self):
        doc, info = self.run_deadlock("philosophers")
        edges = {}
        for i in range(5):
            j = (i + 1) % 5
            edges["phil-%d" % i] = ("fork-%d" % j, "phil-%d" % j, "mutex")
        self.check_cycle(doc, info, edges,
            funcs={"phil-%d" % i: "philosopher" for i in range(5)})

    def test_selflock(self):
        doc, info = self.run_deadlock("selflock")
        link = gw.deadlocks(doc)[0][0]
        self.assertEqual(link["held_by"], link["tid"])
        self.check_cycle(doc, info, {
            "relocker": ("m", "relocker", "mutex"),
        }, funcs={"relocker": "relocker"})

    def test_sem_cycle(self):
        doc, info = self.run_deadlock("sem_cycle")
        self.check_cycle(doc, info, {
            "sem-a": ("S2", "sem-b", "semaphore"),
            "sem-b": ("S1", "sem-a", "semaphore"),
        }, funcs={"sem-a": "sem_a", "sem-b": "sem_b"})

    def test_sem_cycle_owner_is_a_hint(self):
        # Who took a semaphore last is no owner: the report says so.
        doc, _ = self.run_deadlock("sem_cycle")
        for link in doc["deadlocks"][0]["links"]:
            self.assertIs(link["held_by_hint"], True, link)
        for t in gw.threads(doc).values():
            w = t.get("waiting_for")
            if w is not None and w["lock"]["kind"] == "semaphore":
                self.assertIs(w["owners_hint"], True, w)

    def test_sem_signal(self):
        # A "cycle" through a semaphore that a thread outside it posts
        # later is no deadlock: the program must end as it does bare,
        # every time, whoever took the semaphore last.
        gw.need(self, gw.GILWATCH, gw.SHIM, gw.sample("sem_signal"))
        for i in range(5):
            with self.subTest(run=i):
                r, _, docs = gw.run_with_report(self, self.tmpdir(),
                    [gw.sample("sem_signal")], ["--on-deadlock=exit"])
                self.assertEqual(r.stdout, "done\n", r)
                for doc in docs:
                    self.assertEqual(gw.deadlocks(doc), [], r)

    def test_cxx_names(self):
        # C++ functions by their names, not their symbols
        # (_ZN8LockTest8Acquire1Ev), also where the program is linked
        # without libstdc++.
        exe = gw.prog("cxx_abba")
        gw.need(self, gw.GILWATCH, gw.SHIM, exe)
        _, info, docs = gw.run_with_report(self, self.tmpdir(), [exe],
            ["--on-deadlock=exit"], status=gw.DEADLOCK_STATUS,
            timeout=gw.DEADLOCK_TIMEOUT)
        cycles = [c for d in docs for c in gw.deadlocks(d)]
        self.assertEqual(len(cycles), 1, docs)
        by_holder = {info.name_of(l["held_by"]):
            gw.frame_function(l["acquired_at"]) for l in cycles[0]}
        self.assertEqual(by_holder, {
            "acquire-1": "LockTest::Acquire1()",
            "acquire-2": "LockTest::Acquire2()"})

    def test_join_cycle(self):
        # Status 2 would mean the C library refused the second join
        # (EDEADLK) before gilwatch saw the cycle.
        doc, info = self.run_deadlock("join_cycle")
        self.check_cycle(doc, info, {
            "joiner-a": (None, "joiner-b", "thread"),
            "joiner-b": (None, "joiner-a", "thread"),
        }, state="joining")

    def test_rwlock_readers(self):
        doc, info = self.run_deadlock("rwlock_readers")
        rw, m = info.locks["rw"], info.locks["m"]
        writer = info.threads["writer"]
        readers = {info.threads["reader-0"], info.threads["reader-1"]}
        thr = gw.threads(doc)

        # Some cycle: writer -> rw (held by reader R) -> R -> m -> writer.
        found = None
        for cycle in gw.deadlocks(doc):
            by_tid = {l["tid"]: l for l in cycle}
            w = by_tid.get(writer)
            if w is None or w["kind"] != "rwlock" or w["addr"] != rw:
                continue
            r = by_tid.get(w["held_by"])
            if w["held_by"] in readers and r is not None and \
                r["kind"] == "mutex" and r["addr"] == m and \
                r["held_by"] == writer:
                found = (cycle, w["held_by"])
        self.assertIsNotNone(found, gw.deadlocks(doc))
        cycle, reader = found
        self.assertEqual(len(cycle), 2, cycle)

        shared = [h for h in gw.held(thr[reader]) if h["addr"] == rw]
        self.assertEqual(len(shared), 1, "reader holds rw")
        self.assertEqual(shared[0]["kind"], "rwlock")
        self.assertEqual(shared[0]["mode"], "shared")
        self.assertIn(m, gw.held_addrs(thr[writer]))

        self.assertEqual(thr[writer].get("state"), "blocked")
        w = gw.waiting(thr[writer])
        self.assertEqual((w["addr"], w["kind"]), (rw, "rwlock"))
        self.assertEqual(set(w["owners"]), readers, "both readers hold rw")
        w = gw.waiting(thr[reader])
        self.assertEqual((w["addr"], w["kind"]), (m, "mutex"))
        self.assertEqual(w["owners"], [writer])


class TestOnDeadlock(DeadlockCase):
    def test_exit_status(self):
        doc, info = self.run_deadlock("abba", ["--on-deadlock=exit:7"],
            status=7)
        self.assertEqual(len(gw.deadlocks(doc)[0]), 2)

    def test_abort(self):
        gw.need(self, gw.GILWATCH, gw.SHIM, gw.sample("abba"))
        tmp = self.tmpdir()
        r = gw.run_under_gilwatch([gw.sample("abba")],
            ["--on-deadlock=abort", "--format=json",
            "--output=" + os.path.join(tmp, "report-%p.json")],
            timeout=gw.DEADLOCK_TIMEOUT, cwd=tmp)
        # Killed by SIGABRT, or a parent reporting it shell-style.
        self.assertIn(r.returncode, (-signal.SIGABRT, 128 + signal.SIGABRT),
            r)
        docs = [d for d in gw.load_reports(tmp) if gw.deadlocks(d)]
        self.assertEqual(len(docs), 1)

    def test_report_keeps_running(self):
        gw.need(self, gw.GILWATCH, gw.SHIM, gw.sample("abba"))
        for opts in ([], ["--on-deadlock=report"]):
            with self.subTest(opts=opts):
                tmp = self.tmpdir()
                out = os.path.join(tmp, "report-%p.json")
                cmd = gw.gilwatch_cmd([gw.sample("abba")],
                    [*opts, "--format=json", "--output=" + out])
                with gw.Proc(cmd, tmp, ready=False, hold=False) as p:
                    doc = gw.poll_until(lambda: self.reported(tmp),
                        timeout=gw.DEADLOCK_TIMEOUT,
                        what="deadlock report")
                    self.assertEqual(len(gw.deadlocks(doc)), 1)
                    self.assertEqual(len(gw.deadlocks(doc)[0]), 2)
                    # Still deadlocked: it must not exit by itself.
                    with self.assertRaises(subprocess.TimeoutExpired,
                        msg=p.describe()):
                        p.p.wait(timeout=0.5)

    @staticmethod
    def reported(tmp):
        """The report with a deadlock, once it is complete."""
        try:
            docs = gw.load_reports(tmp)
        except ValueError:
            return None     # still being written
        docs = [d for d in docs if gw.deadlocks(d)]
        return docs[0] if docs else None

    def test_text_report(self):
        gw.need(self, gw.GILWATCH, gw.SHIM, gw.sample("abba"))
        tmp = self.tmpdir()
        r = gw.run_under_gilwatch([gw.sample("abba")],
            ["--on-deadlock=exit", "--format=text",
            "--output=" + os.path.join(tmp, "report-%p.txt")],
            timeout=gw.DEADLOCK_TIMEOUT)
        self.assertEqual(r.returncode, gw.DEADLOCK_STATUS, r)
        info = gw.sample_info(r.stderr)
        path = os.path.join(tmp, "report-%d.txt" % info.pid)
        self.assertTrue(os.path.isfile(path), os.listdir(tmp))
        with open(path, errors="replace") as f:
            text = f.read()
        self.assertIn("deadlock", text.lower())
        for name in ("worker-a", "worker-b"):
            self.assertIn(name, text)
        for lock in ("A", "B"):
            self.assertTrue(gw.hex_in(text, info.locks[lock]),
                "lock %s %#x not in report:\n%s" % (lock, info.locks[lock],
                gw.tail(text)))


class TestLockNames(DeadlockCase):
    """A lock is called by the variable it is -- a global, or a local
    on a thread's stack -- in every place a report shows it."""

    def check_names(self, doc, info, names):
        """Every lock of the cycle, and every lock a thread holds or
        waits for, carries the name of its variable.  names: sample
        lock name -> the name the report must give."""
        by_addr = {info.locks[n]: names[n] for n in names}
        seen = []
        for link in gw.deadlocks(doc)[0]:
            self.assertEqual(link["name"], by_addr[link["addr"]], link)
            seen.append(link["addr"])
        for t in gw.threads(doc).values():
            for h in gw.held(t):
                if h["addr"] in by_addr:
                    self.assertEqual(h["name"], by_addr[h["addr"]], h)
            w = gw.waiting(t)
            if w is not None and w["addr"] in by_addr:
                self.assertEqual(w["name"], by_addr[w["addr"]], w)
        self.assertEqual(sorted(seen), sorted(by_addr))

    def test_stack_locals(self):
        """a and b are locals of main, taken by two threads."""
        doc, info = self.run_deadlock(None,
            cmd=[gw.prog("stack_locks"), "abba"])
        self.check_cycle(doc, info, {
            "first": ("b", "second", "mutex"),
            "second": ("a", "first", "mutex"),
        })
        self.check_names(doc, info, {"a": "a", "b": "b"})

    def test_globals(self):
        doc, info = self.run_deadlock("abba")
        self.check_names(doc, info, {"A": "lock_a", "B": "lock_b"})

    def test_cxx_members(self):
        """Members of a local C++ object: test.a_ and test.b_."""
        doc, info = self.run_deadlock(None, cmd=[gw.prog("cxx_abba")])
        self.check_names(doc, info, {"a": "test.a_", "b": "test.b_"})

    def test_stack_locals_text(self):
        exe = gw.prog("stack_locks")
        gw.need(self, gw.GILWATCH, gw.SHIM, exe)
        tmp = self.tmpdir()
        r = gw.run_under_gilwatch([exe, "abba"], ["--on-deadlock=exit",
            "--format=text", "--output=" + os.path.join(tmp, "r-%p.txt")],
            timeout=gw.DEADLOCK_TIMEOUT)
        self.assertEqual(r.returncode, gw.DEADLOCK_STATUS, r)
        info = gw.sample_info(r.stderr)
        with open(os.path.join(tmp, "r-%d.txt" % info.pid),
            errors="replace") as f:
            text = f.read()
        for lock in ("a", "b"):
            self.assertRegex(text, r"waiting to lock mutex <0x0*%x> "
                r"\(%s\)" % (info.locks[lock], lock), text)


if __name__ == "__main__":
    unittest.main()
