"""GIL blame and real-time budgets (issue 15), on every installed
interpreter (one subTest each; a missing version prints "skip: ...").

pyprog/gil_blame.py: thread "spinner" spins on one line (MARK:spin)
while thread "waker" sleeps 1 ms at a time.  Each wake-up waits for
the GIL until the spinner is made to drop it, so gilwatch must blame
nearly all of the waker's GIL wait on the spinner and on that line.
With --fifo the waker is SCHED_FIFO: marked real-time in dumps and in
the GIL report, and with --rt-budget its waits over the budget are
listed with the spinner and its line.
"""

import os
import re

try:
    from . import gwtest as gw
    from .test_python import PythonCase
    from .test_trace import check_trace, load_trace, spans, trace_path
except ImportError:
    import gwtest as gw
    from test_python import PythonCase
    from test_trace import check_trace, load_trace, spans, trace_path

PROG = gw.pyprog("gil_blame")
SPIN_LINE = gw.source_marks(PROG)["spin"]
WAKES = "100"
SHARE = 0.90            # of the waker's wait, blamed on the spin line


def is_spin_line(entry):
    return (entry.get("function") == "spin" and
        entry.get("file") == PROG and entry.get("line") == SPIN_LINE)


def poll_spinning(tc, exe, probe, what):
    """Run PROG, waking for good, under gilwatch on exe, and call
    probe(pid, info) once the waker and the spinner have said their
    TIDs, until it returns something true: return that."""
    with gw.Proc(gw.gilwatch_cmd([exe, PROG, "1000000"]), tc.tmpdir(),
        ready=False, hold=False) as p:
        def seen():
            info = p.info()
            if "waker" not in info.threads or \
                "spinner" not in info.threads:
                return None
            return probe(p.p.pid, info)
        return gw.poll_until(seen, what=what)


class TestGilBlame(PythonCase):

    def test_wait_blamed_on_spinning_line(self):
        """At least 90% of the waker's GIL wait is blamed on the
        spinner and on its spinning line; that line's blocking time
        and forced switches lead the table."""
        for label, exe in self.each_python():
            with self.subTest(python=label):
                r, info, docs = self.run_report(exe, PROG, [WAKES])
                doc = self.gil_doc(docs, exe)
                waker = info.threads["waker"]
                spinner = info.threads["spinner"]
                row = gw.gil_rows(doc)[waker]
                wait_us = row["wait_share"] * doc["seconds"] * 1e6
                self.assertGreater(wait_us, 100e3, row)
                blame = row["blame"]
                lines = [e for e in blame["lines"] if is_spin_line(e)]
                self.assertEqual(len(lines), 1, blame)
                self.assertGreaterEqual(lines[0]["us"], SHARE * wait_us,
                    (wait_us, blame))
                # Overlaps never count a moment twice: the parts add
                # up to the wait (finished waits: at most the total).
                for key in ("holders", "lines"):
                    parts = sum(e["us"] for e in blame[key]) + \
                        blame["handoff_us"] + blame["unknown_us"]
                    self.assertLessEqual(parts, wait_us * 1.001 + 10,
                        (key, wait_us, blame))
                    self.assertGreaterEqual(parts, wait_us * 0.95,
                        (key, wait_us, blame))
                by = {h["tid"]: h["us"] for h in blame["holders"]}
                self.assertGreaterEqual(by.get(spinner, 0),
                    SHARE * wait_us, (wait_us, blame))
                top = doc["blocking"]["lines"][0]
                self.assertTrue(is_spin_line(top), doc["blocking"])
                self.assertGreaterEqual(top["blocking_us"],
                    lines[0]["us"] * 0.99, doc["blocking"])
                self.assertGreater(top["forced"], 0, top)
                funcs = [f for f in doc["blocking"]["functions"]
                    if f["function"] == "spin"]
                self.assertEqual(len(funcs), 1, doc["blocking"])
                self.assertGreaterEqual(funcs[0]["blocking_us"],
                    top["blocking_us"])

    def test_text_names_holder_and_line(self):
        """The text report says who held the GIL, at which line."""
        exe = self.each_python()[0][1]
        r = gw.run_under_gilwatch([exe, PROG, "20"])
        self.assertEqual(r.returncode, 0, r)
        self.assertRegex(r.stderr, r'held by "spinner" \d+')
        self.assertIn("at spin (%s:%d)" % (PROG, SPIN_LINE), r.stderr)

    def test_realtime_thread_and_budget(self):
        """A SCHED_FIFO waker is marked real-time (policy, priority) in
        a thread dump and in `dump --gil`, live, and its GIL waits over
        --rt-budget are counted and listed with the spinner and its
        line in the exit report."""
        for label, exe in self.each_python():
            with self.subTest(python=label):
                tmp = self.tmpdir()
                cmd = gw.gilwatch_cmd([exe, PROG, "40", "--fifo"],
                    ["--format=json", "--rt-budget=2",
                     "--output=" + os.path.join(tmp, "report-%p.json")])
                with gw.Proc(cmd, tmp) as p:
                    p.wait_ready()
                    if "fifo refused" in p.stderr():
                        print("skip: %s: SCHED_FIFO refused (%s)" % (label,
                            p.stderr().split("fifo refused")[1].split()[0]))
                        p.release()
                        p.wait()
                        continue
                    info = p.info()
                    waker = info.threads["waker"]
                    r, docs = gw.dump_json(p.p.pid)
                    self.assertEqual(r.returncode, 0, r)
                    th = gw.threads(docs[0])[waker]
                    self.assertEqual(th.get("realtime"),
                        {"policy": "SCHED_FIFO", "priority": 10}, th)
                    others = [t for tid, t in gw.threads(docs[0]).items()
                        if tid != waker and t.get("realtime")]
                    self.assertEqual(others, [])
                    r, docs = gw.dump_json(p.p.pid, ["--gil"])
                    self.assertEqual(r.returncode, 0, r)
                    live = gw.gil_rows(docs[0])
                    self.assertIn("blocking", docs[0])
                    if waker in live:
                        self.assertEqual(live[waker]["realtime"]["policy"],
                            "SCHED_FIFO")
                    p.release()
                    self.assertEqual(p.wait(), 0, p.describe())
                    # The spinner may name itself after "ready".
                    info = p.info()
                doc = self.gil_doc(gw.load_report(os.path.join(tmp,
                    "report-%d.json" % info.pid)), exe)
                rt = doc["rt_budget"]
                self.assertEqual(rt["budget_us"], 2000, rt)
                # How many wake-ups find the spinner holding the GIL
                # depends on the scheduler (a loaded machine hands the
                # GIL back late): a few at least.
                self.assertGreaterEqual(rt["gil"], 5, rt)
                self.assertEqual(rt["misses"], rt["gil"] + rt["lock"], rt)
                self.assertGreater(rt["max_us"], 2000, rt)
                row = gw.gil_rows(doc)[waker]
                self.assertLessEqual(rt["max_us"], row["wait_us"]["max"],
                    (rt, row))
                spinner = info.threads["spinner"]
                kept = [k for k in rt["kept"] if k["tid"] == waker]
                self.assertEqual(len(kept), len(rt["kept"]), rt)
                self.assertGreater(len(kept), 0, rt)
                for k in kept:
                    self.assertEqual(k["policy"], "SCHED_FIFO", k)
                    self.assertGreater(k["us"], 2000, k)
                good = [k for k in kept if k["holder"] == spinner and
                    k["where"] == "spin (%s:%d)" % (PROG, SPIN_LINE)]
                self.assertGreaterEqual(len(good), SHARE * len(kept), rt)
                self.assertEqual(row["realtime"],
                    {"policy": "SCHED_FIFO", "priority": 10})

    def test_no_budget_no_section(self):
        """Without --rt-budget there is no budget section; real-time
        marks stay off threads that are not."""
        exe = self.each_python()[0][1]
        r, info, docs = self.run_report(exe, PROG, ["10"])
        doc = self.gil_doc(docs, exe)
        self.assertNotIn("rt_budget", doc)
        self.assertFalse(any("realtime" in t for t in doc["threads"]), doc)

    def test_gil_profile(self):
        """--gil-profile writes folded stacks (outermost first, ';'
        between frames, a space, microseconds): the spinner's stack,
        ending at the spin line, carries >= 90% of the weight, and the
        same time as that line's blocking time in the report."""
        folded = re.compile(r"^(\S.*) (\d+)$")
        for label, exe in self.each_python():
            with self.subTest(python=label):
                tmp = self.tmpdir()
                r, info, docs = gw.run_with_report(self, tmp,
                    [exe, PROG, "50"], ["--gil-profile=" +
                    os.path.join(tmp, "prof-%p.folded")])
                doc = self.gil_doc(docs, exe)
                with open(os.path.join(tmp, "prof-%d.folded" %
                    info.pid)) as f:
                    text = f.read()
                self.assertTrue(text.endswith("\n"), text)
                stacks = []
                for line in text.splitlines():
                    m = folded.match(line)
                    self.assertIsNotNone(m, line)
                    frames = m.group(1).split(";")
                    self.assertTrue(all(frames), line)
                    stacks.append((frames, int(m.group(2))))
                spin = "spin (%s:%d)" % (PROG, SPIN_LINE)
                mine = [(f, w) for f, w in stacks if f[-1] == spin]
                self.assertEqual(len(mine), 1, text)
                frames, weight = mine[0]
                self.assertTrue(frames[-2].startswith("spinner (%s:" %
                    PROG), frames)
                total = sum(w for _, w in stacks)
                self.assertGreaterEqual(weight, SHARE * total, text)
                line = [e for e in doc["blocking"]["lines"]
                    if is_spin_line(e)][0]
                self.assertAlmostEqual(weight, line["blocking_us"],
                    delta=1.5, msg=(text, line))

    def test_no_blame(self):
        """--no-blame: the report has no blame (JSON "blocking": null,
        no thread's "blame"; the text says it is off) and GIL waits
        name no holder, but --gil-profile and --trace still name the
        spin line."""
        spin = "spin (%s:%d)" % (PROG, SPIN_LINE)
        for label, exe in self.each_python():
            with self.subTest(python=label):
                tmp = self.tmpdir()
                r, info, docs = gw.run_with_report(self, tmp,
                    [exe, PROG, "50"], ["--no-blame", "--gil-profile=" +
                    os.path.join(tmp, "prof-%p.folded"), "--trace=" +
                    os.path.join(tmp, "trace-%p.json")])
                doc = self.gil_doc(docs, exe)
                self.assertIn("blocking", doc)
                self.assertIsNone(doc["blocking"])
                self.assertFalse(any("blame" in t for t in
                    doc["threads"]), doc["threads"])
                with open(os.path.join(tmp, "prof-%d.folded" %
                    info.pid)) as f:
                    stacks = [l.rsplit(" ", 1) for l in f]
                weight = sum(int(w) for s, w in stacks if
                    s.split(";")[-1] == spin)
                self.assertGreaterEqual(weight, SHARE * sum(int(w) for
                    _, w in stacks), stacks)
                ev = check_trace(self, load_trace(trace_path(tmp,
                    info.pid)))
                holds = [e for e in spans(ev, "GIL held",
                    info.threads["spinner"]) if e["args"]["contended"]]
                self.assertGreater(len(holds), 10, holds[:5])
                at_spin = sum(float(e["dur"]) for e in holds if
                    e["args"].get("blocking_line") == spin)
                total = sum(float(e["dur"]) for e in holds)
                self.assertGreaterEqual(at_spin, SHARE * total, holds[:5])
                waits = spans(ev, "GIL wait", info.threads["waker"])
                self.assertGreater(len(waits), 10, waits[:5])
                self.assertFalse(any("holder" in e["args"] for e in
                    waits), waits[:5])
        r = gw.run_under_gilwatch([exe, PROG, "10"], ["--no-blame"])
        self.assertEqual(r.returncode, 0, r)
        self.assertIn("blame: off (GILWATCH_BLAME=0)", r.stderr)
        self.assertNotIn("blocking:", r.stderr)
        self.assertNotIn("held by", r.stderr)

    def test_realtime_lock_wait(self):
        """A SCHED_FIFO thread's wait for a lock held 20 ms by a normal
        thread, over --rt-budget=5, is listed with the holder and the
        line that took the lock; its wait for the Event (a notify, on
        Condition.wait's private lock) is not."""
        prog = gw.pyprog("rt_lock")
        take = gw.source_marks(prog)["take"]
        for label, exe in self.each_python():
            with self.subTest(python=label):
                if self.locks_unseen(label, exe, "real-time lock waits"):
                    continue
                r, info, docs = self.run_report(exe, prog,
                    opts=["--rt-budget=5"])
                if "fifo refused" in r.stderr:
                    print("skip: %s: SCHED_FIFO refused" % label)
                    continue
                rt = self.gil_doc(docs, exe)["rt_budget"]
                self.assertEqual(rt["lock"], 1, rt)
                k = [k for k in rt["kept"] if k["what"] != "the GIL"]
                self.assertEqual(len(k), 1, rt)
                self.assertEqual(k[0]["tid"], info.threads["rt-waiter"])
                self.assertEqual(k[0]["holder"], info.threads["holder"])
                self.assertEqual(k[0]["holder_name"], "holder")
                self.assertEqual(k[0]["where"], "holder (%s:%d)" %
                    (prog, take), k[0])
                self.assertTrue(k[0]["what"].startswith("semaphore <0x"))
                self.assertGreater(k[0]["us"], 5000, k[0])

    def test_dump_gil_text(self):
        """`gilwatch dump --gil` (text), live: the spin line heads the
        blocking lines, and the waker's wait is split with the spinner
        and the spin line first."""
        gw.need(self, gw.GILWATCH, gw.SHIM)
        exe = self.each_python()[0][1]
        spin = "spin (%s:%d)" % (PROG, SPIN_LINE)

        def probe(pid, info):
            r = gw.run([gw.GILWATCH, "dump", "--gil", str(pid)])
            self.assertEqual(r.returncode, 0, r)
            m = re.search(r"(?m)^  %d waker waited [\d.]+ ms:\n"
                r"((?:    .*\n)+)" % info.threads["waker"], r.stdout)
            return m and (info, r.stdout, m.group(1).splitlines())
        info, out, parts = poll_spinning(self, exe, probe,
            "the waker's wait split in dump --gil")
        self.assertRegex(out, r"(?m)^     blocking ms +forced +holds "
            r"+line\n +[\d.]+ +[1-9]\d* +[1-9]\d* +%s$" % re.escape(spin))
        self.assertRegex(parts[0], r"%%  held by \"spinner\" %d$" %
            info.threads["spinner"])
        self.assertRegex([l for l in parts if "%  at " in l][0],
            r"%%  at %s$" % re.escape(spin))

    def test_top_names_the_holder(self):
        """`gilwatch top --once`: the waker's row, waiting for the GIL,
        names the spinner as the holder."""
        gw.need(self, gw.GILWATCH, gw.SHIM)
        exe = self.each_python()[0][1]

        def probe(pid, info):
            r = gw.run([gw.GILWATCH, "top", "--once", str(pid)])
            return re.search(r"(?m)^\s*%d\s+waker\s.*WAITS GIL \S+ "
                r"held by %d\b" % (info.threads["waker"],
                info.threads["spinner"]), r.stdout)
        poll_spinning(self, exe, probe, "the waker's row naming the spinner")


def top_once(pid, *opts, columns=None):
    env = dict(os.environ)
    env.pop("COLUMNS", None)
    if columns is not None:
        env["COLUMNS"] = str(columns)
    return gw.run([gw.GILWATCH, "top", "--once", *opts, str(pid)], env=env)


class TestTopBlame(PythonCase):
    """gilwatch top's blame view, real-time marks and PYTHON column,
    through --once (the same text the screen shows)."""

    def test_blame_view(self):
        """--view=blame: the spin line heads the lines by blocking time
        with its function, and the waker's wait is split with the
        spinner as its first holder and the spin line as its first
        line, each most of the wait (the 90% of the accuracy is
        test_wait_blamed_on_spinning_line's)."""
        for label, exe in self.each_python():
            with self.subTest(python=label):
                self.check_blame_view(label, exe)

    def test_blame_view_off(self):
        """Under --no-blame the blame view says that blame is off,
        rather than "none yet"."""
        exe = self.each_python()[0][1]
        with gw.Proc(gw.gilwatch_cmd([exe, PROG, "1000000"],
            ["--no-blame"]), self.tmpdir(), ready=False,
            hold=False) as p:
            def seen():
                if "waker" not in p.info().threads:
                    return None
                r = top_once(p.p.pid, "--view=blame")
                self.assertEqual(r.returncode, 0, r)
                return r.stdout if "GIL blame is off" in r.stdout \
                    else None
            out = gw.poll_until(seen, what="blame off in the view")
        self.assertNotIn("none yet", out)
        self.assertNotIn("BLOCKING", out)

    def check_blame_view(self, label, exe):
        spin = "spin (%s:%d)" % (os.path.basename(PROG), SPIN_LINE)

        def probe(pid, info):
            r = top_once(pid, "--view=blame")
            self.assertEqual(r.returncode, 0, r)
            m = re.search(r"(?m)^ +\"waker\" \(%d\) waited [\d.]+ms "
                r"for the GIL:\n((?:    .*\n)+)" % info.threads["waker"],
                r.stdout)
            if m is None or "(%d)" % info.threads["spinner"] \
                not in m.group(1):
                return None
            return info, r.stdout, m.group(1).splitlines()
        info, out, parts = poll_spinning(self, exe, probe,
            "the waker's wait split in the blame view")
        lines = out.split("LINE\n", 1)[1].splitlines()
        self.assertRegex(lines[0], r"^ +[\d.]+ms +[\d.]+ms +[1-9]\d* "
            r"+[1-9]\d* +%s$" % re.escape(spin), out)
        funcs = out.split("FUNCTION\n", 1)[1].splitlines()
        self.assertRegex(funcs[0], r"ms +[1-9]\d* +spin \(%s\)$" %
            re.escape(os.path.basename(PROG)), out)
        holder = re.match(r"^ +[\d.]+ms +([\d.]+)%  held by "
            r"\"spinner\" \((\d+)\)$", parts[0])
        self.assertIsNotNone(holder, out)
        self.assertEqual(int(holder.group(2)), info.threads["spinner"])
        self.assertGreater(float(holder.group(1)), 50, out)
        at = [l for l in parts if " at " in l][0]
        m = re.match(r"^ +[\d.]+ms +([\d.]+)%  at (.*)$", at)
        self.assertEqual(m.group(2), spin, out)
        self.assertGreater(float(m.group(1)), 50, out)

    def test_realtime_row_and_budget(self):
        """A SCHED_FIFO waker's row says FIFO 10 (nobody else's says
        FIFO), and with --rt-budget the header counts its waits over
        the budget: at most its way to parking while parked, more once
        it runs."""
        for label, exe in self.each_python():
            with self.subTest(python=label):
                self.check_realtime_row_and_budget(label, exe)

    def check_realtime_row_and_budget(self, label, exe):
        cmd = gw.gilwatch_cmd([exe, PROG, "1000000", "--fifo"],
            ["--rt-budget=2"])
        with gw.Proc(cmd, self.tmpdir()) as p:
            p.wait_ready()
            if "fifo refused" in p.stderr():
                print("skip: %s: SCHED_FIFO refused (%s)" % (label,
                    p.stderr().split("fifo refused")[1].split()[0]))
                return
            info = p.info()
            r = top_once(p.p.pid)
            self.assertEqual(r.returncode, 0, r)
            self.assertRegex(r.stdout, r"(?m)^ +TID +NAME +SCHED +GIL%")
            self.assertRegex(r.stdout, r"(?m)^ +%d +waker +FIFO 10 " %
                info.threads["waker"])
            self.assertEqual(len(re.findall(r"FIFO", r.stdout)), 1,
                r.stdout)
            # Parked, it has waited only on its way there: its GIL
            # retakes after saying "fifo ok" and "ready" may already
            # have waited past the budget behind the spinner.
            budget = re.compile(r"real-time budget 2\.000ms: (\d+) waits "
                r"over it")
            m = budget.search(r.stdout)
            self.assertIsNotNone(m, r.stdout)
            parked = int(m.group(1))
            self.assertLessEqual(parked, 2, r.stdout)
            p.release()

            def more():
                m = budget.search(top_once(p.p.pid).stdout)
                return m is not None and int(m.group(1)) > parked
            gw.poll_until(more,
                what="waits over the budget counted in the header")

    def test_python_column_uses_the_width(self):
        """In a 250-column terminal the PYTHON column shows a 56-letter
        function name and its line whole; in 100 columns it is cut."""
        for label, exe in self.each_python():
            with self.subTest(python=label):
                self.check_python_column_uses_the_width(label, exe)

    def check_python_column_uses_the_width(self, label, exe):
        prog = gw.pyprog("long_names")
        whole = "idle_in_a_function_whose_name_is_far_longer_than_twenty " \
            "(long_names.py:%d)" % gw.source_marks(prog)["idle"]
        with gw.Proc(gw.gilwatch_cmd([exe, prog]), self.tmpdir()) as p:
            p.wait_ready()
            tid = p.info().threads["idler"]
            row = re.compile(r"(?m)^ +%d +idler .*$" % tid)
            r = gw.poll_until(lambda: (lambda r: r if whole in r.stdout
                else None)(top_once(p.p.pid, columns=250)),
                what="the whole function name in 250 columns")
            self.assertTrue(row.search(r.stdout).group(0).endswith(whole),
                r.stdout)
            self.assertLessEqual(max(len(l) for l in
                r.stdout.split("\n    TID", 1)[1].split("\n\n")[0]
                .splitlines()), 250, r.stdout)
            r = top_once(p.p.pid, columns=100)
            self.assertNotIn(whole, r.stdout)
            self.assertRegex(row.search(r.stdout).group(0),
                r"idle_in_a_function")
            p.release()
            self.assertEqual(p.wait(), 0, p.describe())

    def test_realtime_row_from_outside(self):
        """Read from outside (not under gilwatch), the SCHED_FIFO
        waker's row says FIFO 10 too."""
        for label, exe in self.each_python():
            with self.subTest(python=label):
                env = dict(os.environ)
                env.pop("LD_PRELOAD", None)
                with gw.Proc([exe, PROG, "10", "--fifo"], self.tmpdir(),
                    env=env) as p:
                    p.wait_ready()
                    if "fifo refused" in p.stderr():
                        print("skip: %s: SCHED_FIFO refused" % label)
                        continue
                    info = p.info()
                    r = top_once(p.p.pid)
                    self.assertEqual(r.returncode, 0, r)
                    self.assertIn("Read from outside", r.stdout)
                    self.assertRegex(r.stdout, r"(?m)^ +%d +waker +FIFO 10 "
                        % info.threads["waker"])
                    self.assertEqual(len(re.findall(r"FIFO", r.stdout)), 1,
                        r.stdout)
                    p.release()
                    self.assertEqual(p.wait(), 0, p.describe())
