"""asyncio in the dumps (issue 16): each thread's event loop, its tasks,
their coroutine stacks and what they await, and await cycles reported
as deadlocks in the same graph as the threads.

The four samples (samples/async_*.py) run bare and are dumped from
outside (`gilwatch dump --format=json PID`), run under `gilwatch run`
and dumped on request (the shim's snapshot), and (the three cycles)
gcore'd and dumped from the core; the cycle through a task
(async_threadsafe_cycle) also under `gilwatch run --on-deadlock=exit`.
Every read is repeated until the program has settled into the state its
"ready" announces (a worker may still be on its way into its wait),
within the timeout.

Interpreters: tasks are read on CPython 3.14 and later (the _asyncio
module's debug offsets): pyenv's 3.14 and 3.15 builds, free-threaded
ones included.  On 3.8-3.13 the dump shows only that a thread runs a
loop, and the coroutine that runs with its frames: tested on every
pyenv 3.8-3.13 build and Debian's 3.11.  A missing interpreter is a
skip that says so.
"""

import os
import shutil
import unittest

try:
    from . import gwtest as gw
except ImportError:
    import gwtest as gw

DEADLOCK = 86
SLEEP = gw.py_sample("async_sleep_in_loop")
CYCLE = gw.py_sample("async_await_cycle")
EXECUTOR = gw.py_sample("async_executor_cycle")
THREADSAFE = gw.py_sample("async_threadsafe_cycle")


def bare_env():
    env = dict(os.environ)
    env.pop("LD_PRELOAD", None)
    env.pop("PYTHONPATH", None)
    env["GW_SLEEP"] = str(gw.TIMEOUT * 2)
    return env


def loop_of(doc, tid):
    for t in doc["threads"]:
        if t["tid"] == tid:
            return t.get("asyncio")
    return None


def tasks_by_name(loop):
    return {t["name"]: t for t in loop["tasks"]}


def coro(task):
    """A task's coroutine stack as (function, file base, line)."""
    return [(f["function"], os.path.basename(f["file"] or ""), f["line"])
        for f in task["frames"]]


def unread(doc):
    """The note of a dump that could not read the interpreter (a build
    gilwatch has no table for), or None."""
    for n in doc.get("notes") or []:
        if "is not supported" in n:
            return n
    # The shim says nothing of it in its dumps: it has no Python frames.
    if not any(gw.python_frames(t) for t in doc["threads"]):
        return "no Python frames read: a CPython build gilwatch has no " \
            "table for"
    return None


def task_cycles(doc):
    """The deadlocks with task links: [{task name: awaits}]."""
    return [{l["task"]["name"]: l["task"]["awaits"] for l in d["links"]
        if l.get("task")} for d in doc["deadlocks"]
        if any(l.get("task") for l in d["links"])]


def members(d):
    """A deadlock's links in order: ("task", name, awaits) or ("thread",
    tid, what it waits for: "lock", "join" or the task's address whose
    result it waits for)."""
    out = []
    for l in d["links"]:
        if l.get("task"):
            out.append(("task", l["task"]["name"], l["task"]["awaits"]))
        elif l.get("result_of"):
            out.append(("thread", l["tid"], l["result_of"]["task"]))
        else:
            out.append(("thread", l["tid"], "join" if
                l["waits_for"]["kind"] == "thread" else "lock"))
    return out


def report_of(text):
    """The first deadlock of a text dump, up to its blank line."""
    report = text[text.index("Found one deadlock"):]
    return report.split("\n\n")[0]


def in_order(test, text, parts):
    """Each of parts in text, each after the one before."""
    at = 0
    for p in parts:
        k = text.find(p, at)
        test.assertNotEqual(k, -1, "%r not after offset %d of:\n%s" %
            (p, at, text))
        at = k + len(p)


def worker_waits(p):
    """Is the executor sample p settled in a dump: its worker (as p's
    stderr names it by now) in it, and a deadlock found?"""
    def done(doc):
        tid = gw.sample_info(p.stderr()).threads.get("gw-worker_0")
        return tid in {t["tid"] for t in doc["threads"]} and \
            doc["deadlocks"]
    return done


def assert_executor(test, doc, r, info):
    """The executor/lock cycle (samples/async_executor_cycle.py) and the
    tasks held up by it, as a dump gives them: doc its JSON, r (a
    gw.run Result, or None) its text, info the sample's."""
    marks = gw.source_marks(EXECUTOR)
    main = info.threads["main"]
    worker = info.threads["gw-worker_0"]
    t = tasks_by_name(loop_of(doc, main))
    test.assertEqual(t["fetcher"]["awaits"]["kind"], "executor")
    test.assertEqual(t["fetcher"]["awaits"]["tid"], worker)
    test.assertEqual(coro(t["fetcher"]), [("fetcher",
        "async_executor_cycle.py", marks["fetcher_awaits"])])
    test.assertTrue(t["holder"]["running"])
    test.assertEqual(t["main"]["awaits"]["kind"], "gather")
    # One report: the loop's thread and the worker in the cycle,
    # the tasks that await into it held up by it.
    test.assertEqual(len(doc["deadlocks"]), 1, doc["deadlocks"])
    d = doc["deadlocks"][0]
    test.assertEqual({l["tid"] for l in d["links"]}, {main, worker})
    # Nearest the cycle first: fetcher enters it at the worker,
    # main awaits fetcher (through gather).
    test.assertEqual([h["name"] for h in d["held_up"]],
        ["fetcher", "main"], d)
    held = {h["name"]: h for h in d["held_up"]}
    test.assertEqual(held["fetcher"]["awaits"], "executor")
    test.assertEqual(held["fetcher"]["awaits_tid"], worker)
    test.assertEqual(held["main"]["awaits"], "gather")
    test.assertEqual(held["main"]["awaits_task"], t["fetcher"]["addr"])
    if r is None:
        return
    # The text: the loop's thread in the step of holder, fetcher's
    # chain into the cycle at the worker.
    test.assertEqual(r.returncode, DEADLOCK, r)
    report = report_of(r.stdout)
    test.assertIn("in the step of its loop's running task \"holder\"",
        report)
    test.assertIn("holder (%s:%d) [py]" % (EXECUTOR,
        marks["holder_joins"]), report)
    in_order(test, report, [
        "asyncio tasks held up by it",
        "task \"fetcher\" <%s>" % t["fetcher"]["addr"],
        "awaits an executor future run by \"gw-worker_0\" tid=%d "
        "(in the cycle)" % worker,
        "fetcher (%s:%d) [py]" % (EXECUTOR, marks["fetcher_awaits"]),
        "task \"main\"",
        "awaits (through gather() or a TaskGroup) task \"fetcher\" "
        "<%s> (held up)" % t["fetcher"]["addr"]])


def assert_threadsafe(test, doc, text, info, status):
    """The cycle through task fetch (samples/async_threadsafe_cycle.py)
    as a dump gives it, members in order: doc its JSON, text (a gw.run
    Result, ending with status) its text, info the sample's."""
    marks = gw.source_marks(THREADSAFE)
    main = info.threads["main"]
    worker = info.threads["gw-worker"]
    t = tasks_by_name(loop_of(doc, main))
    test.assertEqual(sorted(t), ["blocker", "fetch", "main"], t)
    fetch = t["fetch"]
    test.assertEqual(fetch["state"], "pending")
    test.assertIsNone(fetch["awaits"])
    test.assertEqual(fetch["result"]["tid"], worker)
    test.assertEqual(coro(fetch)[0][:2], ("sleep", "tasks.py"))
    test.assertEqual(coro(fetch)[1:], [("fetch",
        "async_threadsafe_cycle.py", marks["fetch_yields"])])
    test.assertTrue(t["blocker"]["running"])
    test.assertEqual(coro(t["blocker"]), [("blocker",
        "async_threadsafe_cycle.py", marks["loop_wants_l"])])
    test.assertIsNone(t["blocker"]["result"])
    test.assertEqual(t["main"]["awaits"]["task"], t["blocker"]["addr"])
    # One deadlock, its members in order: fetch cannot be stepped
    # while MainThread waits for L, held by gw-worker, which waits
    # for the result of fetch.
    test.assertEqual(len(doc["deadlocks"]), 1, doc["deadlocks"])
    d = doc["deadlocks"][0]
    test.assertEqual(members(d), [("task", "fetch", "loop"),
        ("thread", main, "lock"), ("thread", worker, fetch["addr"])],
        d)
    test.assertEqual([l["tid"] for l in d["links"]], [main, main,
        worker])
    test.assertEqual([l["held_by"] for l in d["links"]], [main, worker,
        main])
    test.assertEqual(gw.addr(d["links"][1]["waits_for"]["addr"]),
        info.locks["L"])
    test.assertEqual(d["links"][2]["result_of"]["future"],
        fetch["result"]["future"])
    # main awaits blocker, the running task: held up through the
    # loop's thread.
    test.assertEqual([(h["name"], h["awaits"], h.get("awaits_tid"))
        for h in d["held_up"]], [("main", "loop", main)], d)
    # The text: each member with what it waits for and its stack.
    test.assertEqual(text.returncode, status, text)
    test.assertIn("Found one deadlock (3 asyncio tasks and threads)",
        text.stdout)
    in_order(test, report_of(text.stdout), [
        "task \"fetch\" <%s> of the loop of \"MainThread\" tid=%d:" %
        (fetch["addr"], main),
        "ready to run, and cannot be stepped: its loop's thread "
        "\"MainThread\" tid=%d is blocked outside the loop" % main,
        "fetch (%s:%d) [py]" % (THREADSAFE, marks["fetch_yields"]),
        "\"MainThread\" tid=%d:\n  waiting to lock " % main,
        "\"gw-worker\" tid=%d" % worker,
        "in the step of its loop's running task \"blocker\"",
        "blocker (%s:%d) [py]" % (THREADSAFE, marks["loop_wants_l"]),
        "\"gw-worker\" tid=%d:\n  waits for the result of task "
        "\"fetch\" <%s> of the loop of \"MainThread\" tid=%d" %
        (worker, fetch["addr"], main),
        "Future.result (",
        "worker (%s:%d) [py]" % (THREADSAFE, marks["worker_waits"]),
        "asyncio tasks held up by it",
        "task \"main\""])


class Asyncio(unittest.TestCase):
    maxDiff = None
    under = ()

    def under_args(self, tmp):
        return ()

    def start(self, exe, tmp, sample):
        """Start a sample (under self.under); (Proc, SampleInfo)."""
        p = gw.Proc([*self.under_args(tmp), exe, sample], tmp,
            env=bare_env())
        try:
            p.wait_ready()
            info = gw.poll_until(lambda: (lambda i: i if i.pid else
                None)(gw.sample_info(p.stderr())), what="its pid")
        except BaseException:
            p.__exit__(None, None, None)
            raise
        return p, info

    def settle(self, pid, done, what):
        return gw.dump_settled(pid, lambda status, doc: done(doc), what)

    def source(self):
        return "inside" if self.under else "outside"

    def reread(self, p):
        """The sample's info as its stderr has it now: a worker says who
        it is when it starts, which may be after "ready", but always
        before it waits in a deadlock."""
        return gw.sample_info(p.stderr())

    def shim_deadlock(self, tmp):
        """The last deadlock report the shim wrote (under gilwatch run):
        one the thread detector makes when its cycle forms, or the
        periodic look's for a cycle through tasks."""
        def report():
            try:
                return gw.doc_with_reason(gw.load_reports(tmp), "deadlock")
            except ValueError:
                return None     # still being written
        return gw.poll_until(report, what="the deadlock report")

    # --- the samples, 3.14+ ------------------------------------------

    def check_sleep(self, exe):
        marks = gw.source_marks(SLEEP)
        with gw.tempdir() as tmp:
            p, info = self.start(exe, tmp, SLEEP)
            with p:
                main = info.threads["main"]

                def done(doc):
                    l = loop_of(doc, main)
                    return l is not None and len(l["tasks"]) == 5
                doc = self.settle(info.pid, done, "five tasks")
        self.assertEqual(doc["source"], self.source())
        loop = loop_of(doc, main)
        t = tasks_by_name(loop)
        self.assertEqual(sorted(t), ["blocker", "main", "starved-0",
            "starved-1", "starved-2"], loop)
        self.assertEqual(loop["running_task"], t["blocker"]["addr"])
        self.assertTrue(t["blocker"]["running"])
        self.assertIsNone(t["blocker"]["awaits"])
        self.assertEqual(coro(t["blocker"]), [("blocker",
            "async_sleep_in_loop.py", marks["blocking_sleep"])])
        for i in range(3):
            s = t["starved-%d" % i]
            self.assertEqual(s["state"], "pending")
            self.assertEqual(s["awaits"]["kind"], "sleep", s)
            self.assertEqual(coro(s)[0][:2], ("sleep", "tasks.py"))
            self.assertEqual(coro(s)[1:], [("starved",
                "async_sleep_in_loop.py", marks["starved"])])
        self.assertEqual(t["main"]["awaits"]["kind"], "task")
        self.assertEqual(t["main"]["awaits"]["task"], t["blocker"]["addr"])
        self.assertEqual(coro(t["main"]), [("main",
            "async_sleep_in_loop.py", marks["main_awaits"])])
        self.assertEqual(t["blocker"]["awaited_by"], [t["main"]["addr"]])
        self.assertEqual(task_cycles(doc), [])

    def check_cycle(self, exe):
        marks = gw.source_marks(CYCLE)
        with gw.tempdir() as tmp:
            p, info = self.start(exe, tmp, CYCLE)
            with p:
                doc = self.settle(info.pid, lambda d: task_cycles(d),
                    "the await cycle")
                text = gw.run([gw.GILWATCH, "dump", str(info.pid)])
        self.assertEqual(task_cycles(doc), [{"cycle-a": "task",
            "cycle-b": "task"}], doc["deadlocks"])
        t = tasks_by_name(loop_of(doc, info.threads["main"]))
        self.assertEqual(t["cycle-a"]["awaits"]["task"], t["cycle-b"]["addr"])
        self.assertEqual(t["cycle-b"]["awaits"]["task"], t["cycle-a"]["addr"])
        self.assertEqual(coro(t["cycle-a"]), [("a_body",
            "async_await_cycle.py", marks["a_awaits_b"])])
        self.assertEqual(coro(t["cycle-b"]), [("b_body",
            "async_await_cycle.py", marks["b_awaits_a"])])
        # Both coroutine stacks in the deadlock's text.
        # The shim's dump is relayed as written: status 0 (not 86) there.
        self.assertEqual(text.returncode, 0 if self.under else DEADLOCK,
            text)
        self.assertIn("Found one deadlock (2 asyncio tasks and threads)",
            text.stdout)
        report = text.stdout[text.stdout.index("Found one deadlock"):]
        report = report.split("\n\n")[0]
        self.assertIn("awaits task \"cycle-b\"", report)
        self.assertIn("a_body (%s:%d) [py]" % (CYCLE, marks["a_awaits_b"]),
            report)
        self.assertIn("b_body (%s:%d) [py]" % (CYCLE, marks["b_awaits_a"]),
            report)

    def check_executor(self, exe):
        with gw.tempdir() as tmp:
            p, info = self.start(exe, tmp, EXECUTOR)
            with p:
                if self.under:
                    # The shim reports a deadlock when it forms (its
                    # dumps on request search none).
                    doc = self.shim_deadlock(tmp)
                    r = None
                else:
                    doc = self.settle(info.pid, worker_waits(p),
                        "the worker's wait")
                    r = gw.run([gw.GILWATCH, "dump", str(info.pid)])
                info = self.reread(p)
        assert_executor(self, doc, r, info)

    def check_threadsafe(self, exe):
        with gw.tempdir() as tmp:
            p, info = self.start(exe, tmp, THREADSAFE)
            with p:
                if self.under:
                    doc = self.shim_deadlock(tmp)
                else:
                    doc = self.settle(info.pid, lambda d: task_cycles(d),
                        "the cycle through fetch")
                # The text: from outside, or the shim's own dump.
                text = gw.run([gw.GILWATCH, "dump", str(info.pid)])
                info = self.reread(p)
        assert_threadsafe(self, doc, text, info, 0 if self.under else
            DEADLOCK)

    def run_one(self, exe):
        if gw.py_minor(exe) < 14:
            self.check_before_314(exe)
            print("skip: %s: the cycle samples (tasks in the graph) need "
                "the asyncio debug offsets of 3.14+" % exe)
            return
        gw.need(self, gw.GILWATCH)
        with self.subTest(sample="async_sleep_in_loop"):
            self.check_sleep(exe)
        with self.subTest(sample="async_await_cycle"):
            self.check_cycle(exe)
        with self.subTest(sample="async_executor_cycle"):
            self.check_executor(exe)
        with self.subTest(sample="async_threadsafe_cycle"):
            self.check_threadsafe(exe)

    # --- 3.8-3.13: the loop and its running coroutine, from frames ----

    def check_before_314(self, exe):
        marks = gw.source_marks(SLEEP)
        with gw.tempdir() as tmp:
            p, info = self.start(exe, tmp, SLEEP)
            with p:
                main = info.threads["main"]

                # Only a free-threaded build gwtest lists as not read
                # (none now) may be one gilwatch cannot read: elsewhere
                # that is a failure.
                ft = exe.endswith("t") and gw.py_minor(exe) in \
                    gw.FREE_THREADED_UNSUPPORTED

                def done(doc):
                    l = loop_of(doc, main)
                    return (l is not None and l["tasks"]) or (ft and
                        unread(doc))
                doc = self.settle(info.pid, done, "the loop")
        if ft and unread(doc):
            print("skip: %s: %s" % (exe, unread(doc)))
            self.skipTest(unread(doc))
        loop = loop_of(doc, main)
        self.assertIsNone(loop["loop"])
        self.assertIn("before 3.14", loop["note"])
        self.assertEqual(len(loop["tasks"]), 1, loop)
        self.assertTrue(loop["tasks"][0]["running"])
        self.assertEqual(coro(loop["tasks"][0]), [("blocker",
            "async_sleep_in_loop.py", marks["blocking_sleep"])])


class TestOutside(Asyncio):
    """Bare programs, dumped from outside."""


class TestUnderRun(Asyncio):
    """Under `gilwatch run`, dumped on request by the shim, and the
    executor deadlock as the shim reports it."""
    under = True

    def under_args(self, tmp):
        return (gw.GILWATCH, "run", "--format=json", "--output=" +
            os.path.join(tmp, "report-%p.json"), "--")


class TestOnDeadlock(unittest.TestCase):
    """The cycle through a task under `gilwatch run --on-deadlock=exit`:
    the periodic look reports it, then the program ends with 86."""

    def run_one(self, exe):
        gw.need(self, gw.GILWATCH, gw.SHIM)
        env = bare_env()
        env["GW_DEADLOCK_WAIT"] = str(gw.DEADLOCK_TIMEOUT * 2)
        with gw.tempdir() as tmp:
            _, info, docs = gw.run_with_report(self, tmp, [exe, THREADSAFE],
                ["--on-deadlock=exit"], status=gw.DEADLOCK_STATUS,
                timeout=gw.DEADLOCK_TIMEOUT, env=env)
        doc = gw.doc_with_reason(docs, "deadlock")
        self.assertIsNotNone(doc, docs)
        main, worker = info.threads["main"], info.threads["gw-worker"]
        fetch = tasks_by_name(loop_of(doc, main))["fetch"]
        self.assertEqual([members(d) for d in doc["deadlocks"]],
            [[("task", "fetch", "loop"), ("thread", main, "lock"),
            ("thread", worker, fetch["addr"])]], doc["deadlocks"])


class TestCore(unittest.TestCase):
    """From a core file (gdb's gcore) of each bare sample, once a dump
    from outside has seen it settle: the await cycle, the cycle through
    a task and the executor cycle with the tasks it holds up, with the
    assertions of the dumps from outside (the JSON's members in order,
    the text's report)."""

    def from_core(self, exe, sample, settled, what):
        """sample run bare until a dump from outside shows settled(doc,
        its Proc), then gcore'd: (the JSON dump of the core, the text
        dump, the sample's info)."""
        if shutil.which("gcore") is None:
            print("skip: gcore not installed (gdb)")
            self.skipTest("gcore not installed")
        t = Asyncio()
        with gw.tempdir() as tmp:
            p, info = t.start(exe, tmp, sample)
            with p:
                gw.dump_settled(info.pid, lambda s, d: settled(d, p), what)
                base = os.path.join(tmp, "core")
                gw.run(["gcore", "-o", base, str(info.pid)],
                    timeout=gw.TIMEOUT * 2)
                info = t.reread(p)
            core = "%s.%d" % (base, info.pid)
            self.assertTrue(os.path.isfile(core))
            r = gw.run([gw.GILWATCH, "dump", "--format=json", "--core",
                core])
            text = gw.run([gw.GILWATCH, "dump", "--core", core])
        self.assertEqual(r.returncode, DEADLOCK, r)
        doc = gw.parse_json_docs(r.stdout)[0]
        self.assertEqual(doc["source"], "core")
        return doc, text, info

    def run_one(self, exe):
        gw.need(self, gw.GILWATCH)
        with self.subTest(sample="async_await_cycle"):
            doc, _, _ = self.from_core(exe, CYCLE,
                lambda d, p: task_cycles(d), "the await cycle")
            self.assertEqual(task_cycles(doc), [{"cycle-a": "task",
                "cycle-b": "task"}], doc["deadlocks"])
        with self.subTest(sample="async_threadsafe_cycle"):
            doc, text, info = self.from_core(exe, THREADSAFE,
                lambda d, p: task_cycles(d), "the cycle through fetch")
            assert_threadsafe(self, doc, text, info, DEADLOCK)
        with self.subTest(sample="async_executor_cycle"):
            doc, text, info = self.from_core(exe, EXECUTOR,
                lambda d, p: worker_waits(p)(d), "the worker's wait")
            assert_executor(self, doc, text, info)


for cls in (TestOutside, TestUnderRun):
    gw.add_interpreter_tests(cls, free_threaded=True)
gw.add_interpreter_tests(TestCore, minors=(14, 15), system=(),
    free_threaded=True)
gw.add_interpreter_tests(TestOnDeadlock, minors=(14, 15), system=(),
    free_threaded=True)

if __name__ == "__main__":
    unittest.main()
