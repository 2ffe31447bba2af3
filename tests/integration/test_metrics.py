"""--metrics=FILE (issue 15): the GIL and lock statistics in the
Prometheus text exposition format 0.0.4, rewritten by a rename every
--metrics-interval seconds and at exit, for node_exporter's textfile
collector.

Every file the tests see is read by parse_exposition, a strict checker
of the format written here from its published grammar: every line is a
HELP, a TYPE or a sample; names and label names as the format allows
them; label values quoted with only \\\\, \\" and \\n escaped; a family's
TYPE before its samples and its lines in one group; no series twice;
counters named *_total; a histogram's buckets cumulative, ending at
le="+Inf" equal to its _count, with a _sum.

pyprog/gil_blame.py with --watch goes on until it has seen the file
replaced while it runs (a periodic rewrite), and keeps that version.
"""

import math
import os
import re
import shutil
import socket
import urllib.request

try:
    from . import gwtest as gw
    from .test_python import PythonCase
except ImportError:
    import gwtest as gw
    from test_python import PythonCase

PROG = gw.pyprog("gil_blame")

NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LABEL_NAME = r"[a-zA-Z_][a-zA-Z0-9_]*"
VALUE = r'"((?:[^"\\\n]|\\[\\"n])*)"'
FLOAT = (r"(?:[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?"
    r"|[+-]?Inf|NaN)")
HELP_RE = re.compile(r"# HELP (%s) (.*)" % NAME)
TYPE_RE = re.compile(r"# TYPE (%s) (counter|gauge|histogram|summary|"
    r"untyped)" % NAME)
SAMPLE_RE = re.compile(r"(%s)(?:\{(.*)\})? (%s)(?: (-?[0-9]+))?" %
    (NAME, FLOAT))
LABEL_RE = re.compile(r"(%s)=%s(,|$)" % (LABEL_NAME, VALUE))


def unescape(v):
    return re.sub(r'\\(.)', lambda m: "\n" if m.group(1) == "n" else
        m.group(1), v)


def parse_labels(text, line):
    labels = {}
    pos = 0
    while pos < len(text):
        m = LABEL_RE.match(text, pos)
        if m is None:
            raise AssertionError("bad labels at %r: %r" % (text[pos:], line))
        name = m.group(1)
        if name.startswith("__"):
            raise AssertionError("reserved label name: %r" % line)
        if name in labels:
            raise AssertionError("label twice: %r" % line)
        labels[name] = unescape(m.group(2))
        pos = m.end()
        if m.group(3) == "" and pos != len(text):
            raise AssertionError("text after labels: %r" % line)
    return labels


def family_of(name, types):
    """The family a sample name belongs to (a histogram's _bucket,
    _sum and _count are its own)."""
    for suffix in ("_bucket", "_sum", "_count"):
        base = name[:-len(suffix)]
        if name.endswith(suffix) and types.get(base) == "histogram":
            return base
    return name


def parse_exposition(text):
    """Check text strictly; return {family: {"type", "help",
    "samples": [(name, labels, value)]}}."""
    if not text.endswith("\n"):
        raise AssertionError("no final line break")
    fams, types, series, done = {}, {}, set(), set()
    current = None
    for line in text[:-1].split("\n"):
        if line.startswith("#"):
            m = HELP_RE.fullmatch(line) or TYPE_RE.fullmatch(line)
            if m is None:
                raise AssertionError("bad comment line: %r" % line)
            name = m.group(1)
            f = fams.setdefault(name, {"type": None, "help": None,
                "samples": []})
            key = "help" if line.startswith("# HELP") else "type"
            if f[key] is not None:
                raise AssertionError("%s twice for %s" % (key, name))
            if f["samples"]:
                raise AssertionError("%s of %s after its samples" %
                    (key, name))
            if name in done:
                raise AssertionError("%s out of its group" % name)
            if key == "type":
                types[name] = m.group(2)
            if current is not None and current != name:
                done.add(current)
            current = name
            f[key] = m.group(2)
            continue
        m = SAMPLE_RE.fullmatch(line)
        if m is None:
            raise AssertionError("bad sample line: %r" % line)
        name, value = m.group(1), float(m.group(3))
        fam = family_of(name, types)
        if fam not in types:
            raise AssertionError("sample before its TYPE: %r" % line)
        if fam != current or fam in done:
            raise AssertionError("%s out of its group: %r" % (fam, line))
        labels = parse_labels(m.group(2) or "", line)
        key = (name, tuple(sorted(labels.items())))
        if key in series:
            raise AssertionError("series twice: %r" % line)
        series.add(key)
        fams[fam]["samples"].append((name, labels, value))
    for name, f in fams.items():
        if f["type"] is None:
            raise AssertionError("no TYPE for %s" % name)
        if f["type"] == "counter":
            if not name.endswith("_total"):
                raise AssertionError("counter %s is not *_total" % name)
            for s in f["samples"]:
                if s[0] != name or s[2] < 0 or math.isnan(s[2]):
                    raise AssertionError("bad counter sample %s" % (s,))
        elif f["type"] == "histogram":
            check_histogram(name, f["samples"])
        else:
            for s in f["samples"]:
                if s[0] != name:
                    raise AssertionError("%s in family %s" % (s[0], name))
    return fams


def check_histogram(name, samples):
    """Per label set: buckets in rising le, cumulative, the last
    +Inf and equal to _count; one _sum."""
    groups = {}
    for s_name, labels, value in samples:
        rest = tuple(sorted((k, v) for k, v in labels.items() if k != "le"))
        g = groups.setdefault(rest, {"buckets": [], "sum": None,
            "count": None})
        if s_name == name + "_bucket":
            if "le" not in labels:
                raise AssertionError("bucket without le in %s" % name)
            g["buckets"].append((float(labels["le"]), value))
        elif "le" in labels:
            raise AssertionError("le on %s" % s_name)
        elif s_name == name + "_sum":
            g["sum"] = value
        else:
            g["count"] = value
    if not groups:
        raise AssertionError("histogram %s has no samples" % name)
    for rest, g in groups.items():
        b = g["buckets"]
        if not b or b[-1][0] != math.inf:
            raise AssertionError("%s%s: no +Inf bucket last" % (name, rest))
        for (le0, n0), (le1, n1) in zip(b, b[1:]):
            if not le1 > le0 or n1 < n0:
                raise AssertionError("%s%s: buckets not cumulative at "
                    "le=%g" % (name, rest, le1))
        if g["count"] is None or g["sum"] is None:
            raise AssertionError("%s%s: no _count or _sum" % (name, rest))
        if b[-1][1] != g["count"]:
            raise AssertionError("%s%s: +Inf %g != _count %g" % (name,
                rest, b[-1][1], g["count"]))


def read_metrics(path):
    with open(path, "rb") as f:
        return parse_exposition(f.read().decode("utf-8"))


def samples(fams, metric, **want):
    """The values of the samples of metric whose labels include want."""
    return [v for f in fams.values() for n, labels, v in f["samples"]
        if n == metric and all(labels.get(k) == w for k, w in want.items())]


def one(tc, fams, metric, **want):
    got = samples(fams, metric, **want)
    tc.assertEqual(len(got), 1, (metric, want, fams.get(metric)))
    return got[0]


class TestChecker(PythonCase):
    """The checker refuses what the format does not allow."""

    GOOD = ('# HELP a_total A.\n# TYPE a_total counter\n'
        'a_total{x="q\\"\\\\\\n"} 1\n'
        '# TYPE h histogram\nh_bucket{le="1"} 1\nh_bucket{le="+Inf"} 2\n'
        'h_sum 3.5\nh_count 2\n')

    def test_good(self):
        fams = parse_exposition(self.GOOD)
        self.assertEqual(fams["a_total"]["samples"],
            [("a_total", {"x": 'q"\\\n'}, 1.0)])

    def test_bad(self):
        bad = [
            self.GOOD[:-1],                                 # no final \n
            self.GOOD.replace("a_total{", "a-total{"),      # name
            self.GOOD.replace('\\"', '"'),                  # quote
            self.GOOD.replace('\\\\', '\\t'),               # escape
            self.GOOD.replace("# TYPE a_total counter\n", ""),
            self.GOOD.replace("counter", "counter\n# TYPE a_total gauge"),
            self.GOOD + 'a_total{x="y"} 2\n',               # out of group
            self.GOOD.replace("a_total{", "a_total 1\na_total 2\na_total{"),
            self.GOOD.replace("a_total", "a"),              # counter name
            self.GOOD.replace('h_bucket{le="+Inf"} 2', 'h_bucket{le="2"} 2'),
            self.GOOD.replace('h_bucket{le="1"} 1', 'h_bucket{le="1"} 3'),
            self.GOOD.replace("h_count 2", "h_count 3"),
            self.GOOD.replace("h_sum 3.5\n", ""),
            self.GOOD.replace("} 1\n", "} one\n", 1),
            self.GOOD + "\n",                               # empty line
        ]
        for text in bad:
            with self.subTest(text=text):
                with self.assertRaises(AssertionError):
                    parse_exposition(text)


class TestMetrics(PythonCase):

    def test_spinner_and_waker(self):
        """While gil_blame.py runs, the file is rewritten (the program
        sees it replaced); that version and the one written at exit are
        well-formed, name both threads with their GIL times, the GIL's
        histograms and the GIL in the lock table, all under the
        program's pid."""
        for label, exe in self.each_python():
            with self.subTest(python=label):
                tmp = self.tmpdir()
                path = os.path.join(tmp, "gil-%p.prom")
                r = gw.run_under_gilwatch([exe, PROG, "50",
                    "--watch=" + path], ["--metrics=" + path,
                    "--metrics-interval=1", "--no-report"])
                self.assertEqual(r.returncode, 0, r)
                self.assertIn("gw-sample: metrics rewritten", r.stderr)
                info = gw.sample_info(r.stderr)
                final = path.replace("%p", str(info.pid))
                self.assertEqual(sorted(os.listdir(tmp)), sorted([
                    os.path.basename(final),
                    os.path.basename(final) + ".seen"]))
                for f in (final + ".seen", final):
                    self.check_content(read_metrics(f), info)
                fams = read_metrics(final)
                waker = str(info.threads["waker"])
                spinner = str(info.threads["spinner"])
                # At exit the waker has waited for the GIL most of the
                # run: at least its 50 wake-ups' worth of switch
                # intervals.
                wait = one(self, fams, "gilwatch_thread_gil_wait_seconds_"
                    "total", tid=waker, name="waker")
                self.assertGreater(wait, 0.05, fams)
                hold = one(self, fams, "gilwatch_thread_gil_hold_seconds_"
                    "total", tid=spinner, name="spinner")
                self.assertGreater(hold, wait * 0.5, fams)

    def check_content(self, fams, info):
        pid = str(info.pid)
        for name, f in fams.items():
            self.assertTrue(name.startswith("gilwatch_"), name)
            self.assertIsNotNone(f["help"], name)
            for s in f["samples"]:
                self.assertEqual(s[1].get("pid"), pid, s)
        for name in ("waker", "spinner"):
            tid = str(info.threads[name])
            self.assertGreater(one(self, fams, "gilwatch_thread_gil_"
                "acquisitions_total", tid=tid, name=name), 0)
        self.assertGreater(one(self, fams, "gilwatch_thread_gil_wait_"
            "seconds_total", tid=str(info.threads["waker"]),
            name="waker"), 0)
        count = one(self, fams, "gilwatch_gil_wait_seconds_count")
        self.assertGreater(count, 0)
        self.assertGreater(one(self, fams, "gilwatch_gil_switches_total"), 0)
        self.assertGreater(one(self, fams, "gilwatch_gil_wait_seconds_sum"),
            0)
        self.assertGreater(one(self, fams, "gilwatch_gil_hold_seconds_"
            "count"), 0)
        self.assertEqual(len(samples(fams, "gilwatch_lock_wait_seconds_total",
            kind="gil")), 1, fams.get("gilwatch_lock_wait_seconds_total"))
        for name in ("gilwatch_deadlocks_total", "gilwatch_stalls_total",
            "gilwatch_priority_inversions_total"):
            self.assertEqual(one(self, fams, name), 0, name)
        self.assertEqual(fams["gilwatch_gil_wait_seconds"]["type"],
            "histogram")

    # A thread whose name needs every escape of a label value, and a
    # character beyond ASCII; it takes the GIL a hundred times, so that
    # gilwatch reads its threading name.
    ODD_NAME = 'q"b\\s\nn\u20ac'
    ODD = ("import threading, time\n"
        "def f():\n"
        "    for _ in range(100):\n"
        "        time.sleep(0.002)\n"
        "t = threading.Thread(target=f, name=%r)\n"
        "t.start()\n"
        "t.join()\n" % ODD_NAME)

    def test_label_escaping(self):
        """A thread name with a quote, a backslash, a line break and a
        euro sign comes back whole from its escaped label."""
        exe = self.each_python()[0][1]
        tmp = self.tmpdir()
        path = os.path.join(tmp, "odd-%p.prom")
        r = gw.run_under_gilwatch([exe, "-c", self.ODD], ["--metrics=" +
            path, "--no-report"])
        self.assertEqual(r.returncode, 0, r)
        files = os.listdir(tmp)
        self.assertEqual(len(files), 1, files)
        fams = read_metrics(os.path.join(tmp, files[0]))
        self.assertEqual(len(samples(fams, "gilwatch_thread_gil_acquisitions_"
            "total", name=self.ODD_NAME)), 1,
            fams["gilwatch_thread_gil_acquisitions_total"])

    def test_deadlock_counted_and_locks_named(self):
        """abba under --on-deadlock=exit: the file written at exit
        counts the deadlock, and names the two mutexes by their
        variables, as the exit report does."""
        gw.need(self, gw.GILWATCH, gw.SHIM, gw.sample("abba"))
        tmp = self.tmpdir()
        path = os.path.join(tmp, "abba-%p.prom")
        r = gw.run_under_gilwatch([gw.sample("abba")], ["--metrics=" + path,
            "--on-deadlock=exit", "--no-report"],
            timeout=gw.DEADLOCK_TIMEOUT)
        self.assertEqual(r.returncode, gw.DEADLOCK_STATUS, r)
        files = os.listdir(tmp)
        self.assertEqual(len(files), 1, files)
        fams = read_metrics(os.path.join(tmp, files[0]))
        self.assertEqual(one(self, fams, "gilwatch_deadlocks_total"), 1)
        for lock in ("lock_a", "lock_b"):
            self.assertEqual(len(samples(fams, "gilwatch_lock_acquisitions_"
                "total", kind="mutex", name=lock)), 1,
                fams["gilwatch_lock_acquisitions_total"])
        self.assertNotIn("gilwatch_gil_switches_total", fams)

    def test_fork_child_counts_its_own(self):
        """deadlock_fork forks once its two threads deadlock: the
        parent's file counts the deadlock, the child's (which has
        neither thread) none."""
        exe = gw.prog("deadlock_fork")
        gw.need(self, gw.GILWATCH, gw.SHIM, exe)
        tmp = self.tmpdir()
        r = gw.run_under_gilwatch([exe], ["--metrics=" +
            os.path.join(tmp, "m-%p.prom"), "--no-report"],
            timeout=gw.DEADLOCK_TIMEOUT)
        self.assertEqual(r.returncode, 0, r)
        m = re.match(r"parent (\d+) child (\d+)\n$", r.stdout)
        self.assertIsNotNone(m, r)
        for pid, want in ((m.group(1), 1), (m.group(2), 0)):
            fams = read_metrics(os.path.join(tmp, "m-%s.prom" % pid))
            self.assertEqual(one(self, fams, "gilwatch_deadlocks_total"),
                want, pid)

    def test_stall_counted(self):
        """lost_wakeup under --stall=1 --on-stall=exit: the file written
        as the stall ends the process counts it, and no deadlock."""
        gw.need(self, gw.GILWATCH, gw.SHIM, gw.sample("lost_wakeup"))
        tmp = self.tmpdir()
        r = gw.run_under_gilwatch([gw.sample("lost_wakeup")],
            ["--metrics=" + os.path.join(tmp, "m-%p.prom"), "--stall=1",
            "--on-stall=exit", "--no-report"], timeout=gw.DEADLOCK_TIMEOUT)
        self.assertEqual(r.returncode, gw.STALL_STATUS, r)
        files = os.listdir(tmp)
        self.assertEqual(len(files), 1, files)
        fams = read_metrics(os.path.join(tmp, files[0]))
        self.assertEqual(one(self, fams, "gilwatch_stalls_total"), 1)
        self.assertEqual(one(self, fams, "gilwatch_deadlocks_total"), 0)

    def test_node_exporter_scrapes(self):
        """node_exporter's textfile collector, where installed (Debian's
        prometheus-node-exporter), reads the files of two processes in
        one directory without an error and serves their series."""
        exporter = shutil.which("prometheus-node-exporter") or \
            shutil.which("node_exporter")
        if exporter is None:
            print("skip: node_exporter not installed (Debian: "
                "prometheus-node-exporter)")
            self.skipTest("node_exporter not installed")
        gw.need(self, gw.GILWATCH, gw.SHIM, gw.sample("abba"))
        exe = self.each_python()[0][1]
        tmp = self.tmpdir()
        path = os.path.join(tmp, "gw-%p.prom")
        r = gw.run_under_gilwatch([exe, PROG, "20"], ["--metrics=" + path,
            "--no-report"])
        self.assertEqual(r.returncode, 0, r)
        py_pid = gw.sample_info(r.stderr).pid
        r = gw.run_under_gilwatch([gw.sample("abba")], ["--metrics=" + path,
            "--on-deadlock=exit", "--no-report"],
            timeout=gw.DEADLOCK_TIMEOUT)
        self.assertEqual(r.returncode, gw.DEADLOCK_STATUS, r)
        self.assertEqual(len(os.listdir(tmp)), 2, os.listdir(tmp))
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        url = "http://127.0.0.1:%d/metrics" % port
        with gw.Proc([exporter, "--web.listen-address=127.0.0.1:%d" % port,
            "--collector.disable-defaults", "--collector.textfile",
            "--collector.textfile.directory=" + tmp], self.tmpdir(),
            ready=False, hold=False, name="exporter") as p:
            def scraped():
                self.assertTrue(p.running(), p.describe())
                try:
                    with urllib.request.urlopen(url, timeout=5) as f:
                        return f.read().decode()
                except OSError:
                    return None
            text = gw.poll_until(scraped, what="an answer from " + url)
        self.assertRegex(text, r"(?m)^node_textfile_scrape_error 0$")
        for pid, deadlocks in ((py_pid, 0), (gw.sample_info(r.stderr).pid,
            1)):
            self.assertRegex(text, r'(?m)^gilwatch_deadlocks_total'
                r'\{pid="%d"\} %d$' % (pid, deadlocks))
        self.assertRegex(text, r'(?m)^gilwatch_thread_gil_wait_seconds_total'
            r'\{name="waker",pid="%d",tid="\d+"\} [0-9.e+-]+$' % py_pid)

    def test_bad_interval(self):
        """--metrics-interval takes whole seconds from 1 to 3600."""
        gw.need(self, gw.GILWATCH)
        for bad in ("0", "3601", "1.5", "x"):
            r = gw.run([gw.GILWATCH, "run", "--metrics=m.prom",
                "--metrics-interval=" + bad, "--", "true"])
            self.assertEqual(r.returncode, 2, r)
            self.assertIn("--metrics-interval=" + bad, r.stderr)
        r = gw.run([gw.GILWATCH, "run", "--metrics=", "--", "true"])
        self.assertEqual(r.returncode, 2, r)


if __name__ == "__main__":
    import unittest
    unittest.main()
