"""gilwatch run --trace=FILE (issue 15): a Chrome trace-event file.

Every file is first held to the published format (the Trace Event
Format document, "JSON Object Format") by check_trace below, which
refuses anything it does not know, then its content is checked against
what the program did:
  - pyprog/gil_blame.py (thread "spinner" spins on one line, "waker"
    sleeps 1 ms at a time), on every installed interpreter: the
    spinner's GIL holds, blamed on the spin line, the waker's GIL
    waits, held by the spinner, adding up to the wait the GIL report
    gives; thread_name metadata names both; with --fifo and
    --rt-budget, one budget-miss instant on the waker per miss the
    report counts;
  - C samples: abba (a deadlock: the instant, and both threads'
    waits, unfinished, each held by the other), hold200 (a 200 ms
    mutex wait, and --trace-lock-wait above it leaves it out),
    order_inversion (the inversion instant), manythreads (thousands of
    threads named), and a full event array (dropped events counted).
Then a loader from the npm registry reads two of the files: Chrome
DevTools' trace engine (@paulirish/trace_engine, installed offline-ready
in tests/integration/npm by scripts/deps --test; skipped with a printed
line when it is not there).
"""

import collections
import decimal
import json
import os
import shutil
import unittest

try:
    from . import gwtest as gw
    from .test_python import PythonCase
except ImportError:
    import gwtest as gw
    from test_python import PythonCase

PROG = gw.pyprog("gil_blame")
SPIN_LINE = gw.source_marks(PROG)["spin"]
SPIN = "spin (%s:%d)" % (PROG, SPIN_LINE)
SHARE = 0.90            # of the waker's GIL wait, held by the spinner

# The Trace Event Format: keys an event may have, and the phases this
# checker knows (it refuses the others rather than guess at them).
EVENT_KEYS = {"name", "cat", "ph", "ts", "tts", "pid", "tid", "dur",
    "tdur", "args", "s", "id", "bp", "cname", "sf", "stack", "esf",
    "estack"}
TOP_KEYS = {"traceEvents", "displayTimeUnit", "otherData",
    "systemTraceEvents", "stackFrames", "samples",
    "controllerTraceDataKey", "powerTraceAsString", "metadata"}
METADATA = {"process_name", "process_labels", "process_sort_index",
    "thread_name", "thread_sort_index"}
REQUIRED = {"X": {"name", "ph", "ts", "dur", "pid", "tid"},
    "i": {"name", "ph", "ts", "pid", "tid", "s"},
    "M": {"name", "ph", "pid", "args"}}


def is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def is_time(v):
    """A JSON number (parsed exactly, as Decimal), finite, >= 0."""
    if is_int(v):
        return v >= 0
    return isinstance(v, decimal.Decimal) and v.is_finite() and v >= 0


def ns(v):
    """Microseconds as exact integer nanoseconds."""
    return int(decimal.Decimal(v) * 1000)


def refuse_constant(name):
    raise ValueError("not JSON: %s" % name)


def load_trace(path):
    """The file as JSON, strictly: numbers exact, no NaN/Infinity."""
    with open(path, encoding="utf-8") as f:
        return json.load(f, parse_float=decimal.Decimal,
            parse_constant=refuse_constant)


def check_trace(tc, doc):
    """Hold doc to the JSON Object Format; return its events."""
    tc.assertIsInstance(doc, dict)
    tc.assertLessEqual(set(doc), TOP_KEYS, "unknown top-level keys")
    tc.assertIn(doc.get("displayTimeUnit", "ms"), ("ms", "ns"))
    if "otherData" in doc:
        tc.assertIsInstance(doc["otherData"], dict)
    events = doc.get("traceEvents")
    tc.assertIsInstance(events, list)
    spans = {}
    for e in events:
        tc.assertIsInstance(e, dict, e)
        tc.assertLessEqual(set(e), EVENT_KEYS, e)
        ph = e.get("ph")
        tc.assertIn(ph, REQUIRED, e)
        tc.assertLessEqual(REQUIRED[ph], set(e), e)
        tc.assertIsInstance(e["name"], str, e)
        tc.assertNotEqual(e["name"], "", e)
        tc.assertTrue(is_int(e["pid"]) and e["pid"] > 0, e)
        if "tid" in e or ph != "M":
            tc.assertTrue(is_int(e["tid"]) and e["tid"] > 0, e)
        if "cat" in e:
            tc.assertIsInstance(e["cat"], str, e)
        if "args" in e:
            tc.assertIsInstance(e["args"], dict, e)
        if ph in ("X", "i"):
            tc.assertTrue(is_time(e["ts"]), e)
        if ph == "X":
            tc.assertTrue(is_time(e["dur"]), e)
            spans.setdefault((e["pid"], e["tid"]), []).append(
                (ns(e["ts"]), ns(e["ts"]) + ns(e["dur"]), e))
        elif ph == "i":
            tc.assertNotIn("dur", e, e)
            tc.assertIn(e["s"], ("g", "p", "t"), e)
        else:
            tc.assertIn(e["name"], METADATA, e)
            if e["name"].endswith("_name"):
                tc.assertIsInstance(e["args"].get("name"), str, e)
            if e["name"].startswith("thread_"):
                tc.assertIn("tid", e, e)
    # Complete events of one thread nest or follow each other.
    for key, lst in spans.items():
        lst.sort(key=lambda s: (s[0], -s[1]))
        stack = []
        for start, end, e in lst:
            while stack and stack[-1][1] <= start:
                stack.pop()
            if stack:
                tc.assertLessEqual(end, stack[-1][1],
                    "overlapping spans on %s: %s and %s" %
                    (key, stack[-1][2], e))
            stack.append((start, end, e))
    return events


def thread_names(events):
    return {e["tid"]: e["args"]["name"] for e in events
        if e["ph"] == "M" and e["name"] == "thread_name"}


def spans(events, name, tid=None):
    return [e for e in events if e["ph"] == "X" and e["name"] == name and
        (tid is None or e["tid"] == tid)]


def instants(events, name):
    return [e for e in events if e["ph"] == "i" and e["name"] == name]


LOADER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "npm")


def devtools_threads(tc, path):
    """{(pid, tid): (name, complete events)} as Chrome DevTools' trace
    engine reads the file, or None when the loader is not installed
    (said once per test)."""
    node = shutil.which("node")
    if node is None or not os.path.isdir(os.path.join(LOADER,
            "node_modules", "@paulirish", "trace_engine")):
        print("skip: the npm trace loader is not installed "
            "(scripts/deps --test)")
        return None
    r = gw.run([node, os.path.join(LOADER, "load-trace.mjs"), path])
    tc.assertEqual(r.returncode, 0, r)
    doc = json.loads(r.stdout.strip().splitlines()[-1])
    tc.assertIs(doc["generic"], True, doc)
    return {tuple(int(x) for x in k.split(":")): (v["name"], v["entries"])
        for k, v in doc["threads"].items()}


def own_threads(events):
    """The same, from the file's own events."""
    names = {(e["pid"], e["tid"]): e["args"]["name"] for e in events
        if e["ph"] == "M" and e["name"] == "thread_name"}
    count = collections.Counter((e["pid"], e["tid"]) for e in events
        if e["ph"] == "X")
    return {k: (names.get(k), n) for k, n in count.items()}


def trace_path(tmp, pid):
    path = os.path.join(tmp, "trace-%d.json" % pid)
    if not os.path.isfile(path):
        raise AssertionError("no %s (%%p = pid); have %s" %
            (path, os.listdir(tmp)))
    return path


class TestCheckerRefuses(unittest.TestCase):
    """The checker itself: each file here breaks one rule of the format
    (or the nesting rule), and must be refused."""

    GOOD = {"traceEvents": [
        {"name": "thread_name", "ph": "M", "pid": 1, "tid": 2,
         "args": {"name": "t"}},
        {"name": "a", "ph": "X", "ts": 1, "dur": 10, "pid": 1, "tid": 2},
        {"name": "b", "ph": "X", "ts": 2, "dur": 3, "pid": 1, "tid": 2},
        {"name": "c", "ph": "X", "ts": 11, "dur": 1, "pid": 1, "tid": 2},
        {"name": "m", "ph": "i", "ts": 4, "s": "t", "pid": 1, "tid": 2}]}

    def check_text(self, text):
        return check_trace(self, json.loads(text,
            parse_float=decimal.Decimal, parse_constant=refuse_constant))

    def test_good_passes(self):
        self.check_text(json.dumps(self.GOOD))

    def test_each_break_is_refused(self):
        breaks = {
            "no traceEvents": lambda d: d.pop("traceEvents"),
            "negative ts": lambda d: d["traceEvents"][1].update(ts=-1),
            "string dur": lambda d: d["traceEvents"][1].update(dur="1"),
            "no dur": lambda d: d["traceEvents"][1].pop("dur"),
            "float tid": lambda d: d["traceEvents"][1].update(tid=2.5),
            "no pid": lambda d: d["traceEvents"][4].pop("pid"),
            "bad scope": lambda d: d["traceEvents"][4].update(s="x"),
            "unknown phase": lambda d: d["traceEvents"][4].update(ph="Q"),
            "name not str": lambda d: d["traceEvents"][0].update(
                args={"name": 3}),
            "overlap": lambda d: d["traceEvents"][3].update(ts=10, dur=5),
            "unknown key": lambda d: d["traceEvents"][1].update(when=1),
        }
        for what, brk in breaks.items():
            with self.subTest(what):
                d = json.loads(json.dumps(self.GOOD))
                brk(d)
                with self.assertRaises(AssertionError):
                    self.check_text(json.dumps(d))
        with self.assertRaises(ValueError):
            self.check_text('{"traceEvents":[{"name":"a","ph":"X",'
                '"ts":NaN,"dur":1,"pid":1,"tid":1}]}')


class TestTracePython(PythonCase):

    def test_gil_spans(self):
        """The spinner's GIL holds (those that made the waker wait
        blamed on the spin line) and the waker's GIL waits (held by the
        spinner at that line) are there, named, and add up to the wait
        the GIL report gives."""
        for label, exe in self.each_python():
            with self.subTest(python=label):
                tmp = self.tmpdir()
                r, info, docs = gw.run_with_report(self, tmp,
                    [exe, PROG, "50"],
                    ["--trace=" + os.path.join(tmp, "trace-%p.json")])
                doc = self.gil_doc(docs, exe)
                ev = check_trace(self, load_trace(trace_path(tmp,
                    info.pid)))
                spinner = info.threads["spinner"]
                waker = info.threads["waker"]
                names = thread_names(ev)
                self.assertEqual(names.get(spinner), "spinner", names)
                self.assertEqual(names.get(waker), "waker", names)
                self.assertTrue(all(e["pid"] == info.pid for e in ev))

                holds = spans(ev, "GIL held", spinner)
                blocking = [e for e in holds if e["args"]["contended"]]
                self.assertGreater(len(blocking), 10, len(holds))
                at_spin = sum(ns(e["dur"]) for e in blocking if
                    e["args"].get("blocking_line") == SPIN)
                self.assertGreaterEqual(at_spin, SHARE * sum(
                    ns(e["dur"]) for e in blocking), blocking[:5])

                waits = spans(ev, "GIL wait", waker)
                self.assertGreater(len(waits), 10, len(waits))
                total = sum(ns(e["dur"]) for e in waits)
                by_spinner = sum(ns(e["dur"]) for e in waits if
                    e["args"].get("holder") == spinner and
                    e["args"].get("holder_line") == SPIN)
                self.assertGreaterEqual(by_spinner, SHARE * total,
                    waits[:5])
                # The same waits as the report's, less the one it may
                # count unfinished: within 1%.
                row = gw.gil_rows(doc)[waker]
                wait_ns = row["wait_share"] * doc["seconds"] * 1e9
                self.assertAlmostEqual(total, wait_ns,
                    delta=0.01 * wait_ns + 1e5, msg=(total, row))
                self.assertEqual(instants(ev,
                    "real-time budget miss"), [])

    def test_budget_misses(self):
        """With a SCHED_FIFO waker and --rt-budget=2, every miss the
        report counts is an instant on the waker, naming the spinner."""
        for label, exe in self.each_python():
            with self.subTest(python=label):
                tmp = self.tmpdir()
                r, info, docs = gw.run_with_report(self, tmp,
                    [exe, PROG, "40", "--fifo"], ["--rt-budget=2",
                    "--trace=" + os.path.join(tmp, "trace-%p.json")])
                if "fifo refused" in r.stderr:
                    print("skip: %s: SCHED_FIFO refused" % label)
                    continue
                rt = self.gil_doc(docs, exe)["rt_budget"]
                ev = check_trace(self, load_trace(trace_path(tmp,
                    info.pid)))
                waker = info.threads["waker"]
                misses = instants(ev, "real-time budget miss")
                self.assertGreaterEqual(rt["misses"], 5, rt)
                self.assertEqual(len(misses), rt["misses"], rt)
                good = 0
                for m in misses:
                    self.assertEqual(m["tid"], waker, m)
                    self.assertEqual(m["s"], "t", m)
                    self.assertEqual(m["args"]["for"], "the GIL", m)
                    self.assertGreater(m["args"]["waited_ms"], 2, m)
                    good += m["args"].get("holder") == \
                        info.threads["spinner"]
                self.assertGreaterEqual(good, SHARE * len(misses), misses)

    def test_devtools_loader(self):
        """Chrome DevTools' trace engine loads the file as a generic
        trace and puts every complete event on its thread, under the
        thread's name."""
        exe = self.each_python()[0][1]
        tmp = self.tmpdir()
        r, info, docs = gw.run_with_report(self, tmp, [exe, PROG, "20"],
            ["--trace=" + os.path.join(tmp, "trace-%p.json")])
        path = trace_path(tmp, info.pid)
        seen = devtools_threads(self, path)
        if seen is None:
            return
        mine = own_threads(check_trace(self, load_trace(path)))
        self.assertEqual(seen, mine)
        self.assertEqual(seen[(info.pid, info.threads["waker"])][0],
            "waker", seen)

    def test_full(self):
        """With room for 16 events (GILWATCH_TRACE_EVENTS), the rest
        are counted, in the file and in one message."""
        exe = self.each_python()[0][1]
        tmp = self.tmpdir()
        r, info, docs = gw.run_with_report(self, tmp, [exe, PROG, "20"],
            ["--trace=" + os.path.join(tmp, "trace-%p.json")],
            env=dict(os.environ, GILWATCH_TRACE_EVENTS="16"))
        doc = load_trace(trace_path(tmp, info.pid))
        ev = check_trace(self, doc)
        kept = [e for e in ev if e["ph"] != "M" and
            not e.get("args", {}).get("unfinished")]
        self.assertEqual(len(kept), 16, kept)
        self.assertEqual(doc["otherData"]["events"], 16, doc["otherData"])
        dropped = doc["otherData"]["dropped"]
        self.assertGreater(dropped, 20, doc["otherData"])
        self.assertIn("trace: %d events after the first 16 were not "
            "kept" % dropped, r.stderr)


class TestTraceC(unittest.TestCase):

    def setUp(self):
        gw.need(self, gw.GILWATCH, gw.SHIM)
        td = gw.tempdir()
        self.addCleanup(td.cleanup)
        self.tmp = td.name

    def run_traced(self, prog, opts=(), status=0, args=(), env=None):
        path = gw.sample(prog) if os.path.exists(gw.sample(prog)) else \
            gw.prog(prog)
        gw.need(self, path)
        r = gw.run_under_gilwatch([path, *args], ["--trace=" +
            os.path.join(self.tmp, "trace-%p.json"), *opts], env=env)
        self.assertEqual(r.returncode, status, r)
        return r

    def only_trace(self):
        files = os.listdir(self.tmp)
        self.assertEqual(len(files), 1, files)
        self.path = os.path.join(self.tmp, files[0])
        return check_trace(self, load_trace(self.path))

    def test_deadlock(self):
        """abba, ended by --on-deadlock=exit: the deadlock instant (on
        the process), and both workers' mutex waits, unfinished, each
        held by the other, under their names."""
        r = self.run_traced("abba", ["--on-deadlock=exit"], status=86)
        info = gw.sample_info(r.stderr)
        ev = self.only_trace()
        marks = instants(ev, "deadlock")
        self.assertEqual(len(marks), 1, marks)
        self.assertEqual(marks[0]["s"], "p")
        self.assertEqual(marks[0]["args"]["threads"], 2)
        a, b = info.threads["worker-a"], info.threads["worker-b"]
        names = thread_names(ev)
        self.assertEqual((names.get(a), names.get(b)),
            ("worker-a", "worker-b"), names)
        for tid, other in ((a, b), (b, a)):
            w = spans(ev, "mutex wait", tid)
            self.assertEqual(len(w), 1, ev)
            self.assertEqual(w[0]["args"]["holder"], other, w)
            self.assertTrue(w[0]["args"]["unfinished"], w)
            self.assertLessEqual(ns(w[0]["ts"]), ns(marks[0]["ts"]), w)
        seen = devtools_threads(self, self.path)
        if seen is not None:
            self.assertEqual(seen, own_threads(ev))

    def test_lock_wait_threshold(self):
        """hold200: the waiter's 200 ms mutex wait is a span held by
        the other thread; with --trace-lock-wait=500 it is left out,
        and with nothing else to show no file is written."""
        self.run_traced("hold200")
        ev = self.only_trace()
        w = spans(ev, "mutex wait")
        self.assertEqual(len(w), 1, ev)
        self.assertGreaterEqual(ns(w[0]["dur"]), 150e6, w)
        self.assertNotEqual(w[0]["args"]["holder"], w[0]["tid"], w)
        self.assertIn(w[0]["args"]["holder"], thread_names(ev), ev)
        for f in os.listdir(self.tmp):
            os.unlink(os.path.join(self.tmp, f))
        r = self.run_traced("hold200", ["--trace-lock-wait=500"])
        self.assertEqual(os.listdir(self.tmp), [])
        self.assertIn("trace: nothing to show", r.stderr)

    def test_inversion(self):
        """order_inversion: a lock-order inversion instant on the
        thread that closed it."""
        self.run_traced("order_inversion")
        ev = self.only_trace()
        marks = instants(ev, "lock-order inversion")
        self.assertEqual(len(marks), 1, ev)
        self.assertEqual(marks[0]["s"], "t")
        self.assertIn(marks[0]["tid"], thread_names(ev))

    def test_priority_inversion(self):
        """rt_mutex: the SCHED_FIFO waiter's wait behind the normal
        holder is a priority inversion instant on the waiter, naming
        the holder and the wait (the holder keeps the mutex 20 ms)."""
        r = self.run_traced("rt_mutex")
        if "fifo refused" in r.stderr:
            print("skip: rt_mutex: SCHED_FIFO refused")
            self.skipTest("SCHED_FIFO refused")
        info = gw.sample_info(r.stderr)
        ev = self.only_trace()
        marks = instants(ev, "priority inversion")
        self.assertEqual(len(marks), 1, ev)
        self.assertEqual(marks[0]["s"], "t")
        self.assertEqual(marks[0]["tid"], info.threads["rt-waiter"])
        self.assertEqual(marks[0]["args"]["holder"], info.threads["holder"])
        self.assertGreater(marks[0]["args"]["waited_ms"], 5, marks)

    def test_many_threads(self):
        """3000 threads, each named: every one in the metadata, the
        file still well formed."""
        prog = gw.prog("manythreads")
        gw.need(self, prog)
        with gw.Proc(gw.gilwatch_cmd([prog, "3000"], ["--trace=" +
                os.path.join(self.tmp, "trace-%p.json"),
                "--trace-lock-wait=0.001"]), self.tmp) as p:
            p.wait_ready()
            p.release()
            self.assertEqual(p.wait(), 0, p.describe())
        ev = check_trace(self, load_trace(trace_path(self.tmp, p.p.pid)))
        names = set(thread_names(ev).values())
        self.assertLessEqual({"t-%d" % i for i in range(3000)}, names)

    def test_bad_options(self):
        """A bad value is refused with status 2, in a line that names
        the option (the usage follows)."""
        for opt in ("--trace=", "--trace-lock-wait=0",
                "--trace-lock-wait=x", "--trace-lock-wait=1.0001"):
            with self.subTest(opt):
                r = gw.run([gw.GILWATCH, "run", opt, "--", "true"])
                self.assertEqual(r.returncode, 2, r)
                self.assertTrue(r.stderr.startswith("gilwatch: %s: " %
                    opt), r)


if __name__ == "__main__":
    unittest.main()
