"""Helpers for the gilwatch integration tests (standard library only).

Paths: BUILD is $GW_BUILD_DIR or <repo>/build.  Every wait has a
timeout; a hang fails the test, it never stalls the suite.  Nothing here
sleeps to synchronise: programs say "ready" on a pipe (GW_READY_FD) and
are parked on another one (GW_HOLD_FD) until the test closes it.

The samples print "gw-sample: pid P", "gw-sample: thread NAME TID" and
"gw-sample: lock NAME 0xADDR" on stderr; sample_info() reads those so a
test can check a report against the exact threads and locks.

JSON reports and dumps are read through a few accessors (threads(),
held(), waiting(), deadlocks()) so the tests depend on the meaning of the
fields, and the field layout is known in one place only.
"""

import glob
import json
import os
import re
import resource
import select
import shutil
import signal
import stat
import subprocess
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
BUILD = os.path.abspath(os.environ.get("GW_BUILD_DIR",
    os.path.join(ROOT, "build")))
GILWATCH = os.path.join(BUILD, "gilwatch")
SHIM = os.path.join(BUILD, "libgilwatch.so")
SAMPLES = os.path.join(BUILD, "samples")
PROGS = os.path.join(BUILD, "tests", "prog")

SCALE = float(os.environ.get("GW_TEST_TIMEOUT_SCALE", "1"))
TIMEOUT = 30 * SCALE            # any single wait
DEADLOCK_TIMEOUT = 15 * SCALE   # detection is immediate; this is startup
POLL = 0.02                     # interval when polling a file for content

DEADLOCK_STATUS = 86            # --on-deadlock=exit without a number
STALL_STATUS = 88               # --on-stall=exit without a number


def sample(name):
    return os.path.join(SAMPLES, name)


def prog(name):
    return os.path.join(PROGS, name)


def need(tc, *paths):
    """Fail (not skip) when a build product is missing."""
    for p in paths:
        if not os.path.isfile(p):
            tc.fail("%s is not built (run make)" % p)


def gilwatch_cmd(cmd, opts=()):
    return [GILWATCH, "run", *opts, "--", *cmd]


class Result:
    def __init__(self, args, returncode, stdout, stderr):
        self.args = args
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr

    def __repr__(self):
        return "<%s: status %s\nstdout: %s\nstderr: %s>" % (
            " ".join(self.args), self.returncode, tail(self.stdout),
            tail(self.stderr))


def tail(s, n=2000):
    return s if len(s) <= n else "..." + s[-n:]


def kill_group(p):
    """Kill p and everything it started (it leads its own session)."""
    try:
        os.killpg(p.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def no_core():
    """In the child before exec: an abort must not leave core files."""
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def with_core():
    """In the child before exec: core files allowed (the kernel's)."""
    resource.setrlimit(resource.RLIMIT_CORE,
        (resource.RLIM_INFINITY, resource.RLIM_INFINITY))


def run(args, timeout=TIMEOUT, env=None, cwd=None):
    """Run args to completion; AssertionError if it takes longer than
    timeout (the process group is killed first)."""
    p = subprocess.Popen(args, stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=cwd,
        start_new_session=True, preexec_fn=no_core, text=True,
        errors="replace")
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        kill_group(p)
        out, err = p.communicate()
        raise AssertionError("timed out after %gs: %r" % (timeout,
            Result(args, None, out, err)))
    return Result(args, p.returncode, out, err)


def run_leader(args, timeout=TIMEOUT, env=None, cwd=None):
    """Run args until it ends, not until everything it started has let
    go of its output: a program that ends (a test suite whose watchdog
    fired) may leave children holding the pipes, and waiting for those
    would wait out the timeout.  Output goes to files; when the program
    ends, or at the timeout, its whole process group is killed.  The
    Result's status is None when the timeout was reached."""
    with tempfile.TemporaryFile("w+", errors="replace") as out, \
        tempfile.TemporaryFile("w+", errors="replace") as err:
        p = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=out,
            stderr=err, env=env, cwd=cwd, start_new_session=True,
            preexec_fn=no_core, text=True, errors="replace")
        try:
            status = p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            status = None
        kill_group(p)
        p.wait()
        out.seek(0)
        err.seek(0)
        return Result(args, status, out.read(), err.read())


def run_under_gilwatch(args, opts=(), timeout=TIMEOUT, env=None, cwd=None):
    """gilwatch run OPTS -- ARGS, with a timeout on the wait."""
    return run(gilwatch_cmd(args, opts), timeout=timeout, env=env, cwd=cwd)


def run_with_report(tc, tmp, args, opts=(), status=0, timeout=TIMEOUT,
    env=None):
    """gilwatch run --format=json --output=TMP/report-%p.json OPTS --
    ARGS: assert the exit status and that the program's own process
    wrote its report; return (Result, sample info, its documents)."""
    r = run_under_gilwatch(args, ["--format=json", "--output=" +
        os.path.join(tmp, "report-%p.json"), *opts], timeout=timeout,
        env=env)
    tc.assertEqual(r.returncode, status, r)
    info = sample_info(r.stderr)
    tc.assertIsNotNone(info.pid, r)
    path = os.path.join(tmp, "report-%d.json" % info.pid)
    tc.assertTrue(os.path.isfile(path),
        "no %s (%%p = pid); have %s" % (path, os.listdir(tmp)))
    return r, info, load_report(path)


class Proc:
    """A program running in the background, output going to files in
    tmpdir.  With ready=True it gets GW_READY_FD, with hold=True also
    GW_HOLD_FD; release() closes the hold pipe.  Use as a context
    manager: leaving kills whatever is still running."""

    def __init__(self, args, tmpdir, ready=True, hold=True, env=None,
        name="proc", cwd=None, preexec_fn=no_core):
        self.args = list(args)
        self.out_path = os.path.join(tmpdir, name + ".out")
        self.err_path = os.path.join(tmpdir, name + ".err")
        env = dict(os.environ if env is None else env)
        keep = []
        self.ready_r = self.hold_w = None
        child_fds = []
        if ready:
            self.ready_r, w = os.pipe()
            env["GW_READY_FD"] = str(w)
            keep.append(w)
            child_fds.append(w)
        if hold:
            r, self.hold_w = os.pipe()
            env["GW_HOLD_FD"] = str(r)
            keep.append(r)
            child_fds.append(r)
        with open(self.out_path, "wb") as out, \
            open(self.err_path, "wb") as err:
            self.p = subprocess.Popen(self.args,
                stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                env=env, pass_fds=keep, start_new_session=True,
                cwd=cwd, preexec_fn=preexec_fn)
        for fd in child_fds:
            os.close(fd)
        self.returncode = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.p.poll() is None:
            kill_group(self.p)
            self.p.wait()
        for fd in (self.ready_r, self.hold_w):
            if fd is not None:
                os.close(fd)
        self.ready_r = self.hold_w = None
        return False

    def stdout(self):
        with open(self.out_path, errors="replace") as f:
            return f.read()

    def stderr(self):
        with open(self.err_path, errors="replace") as f:
            return f.read()

    def describe(self):
        return "%s\nstdout: %s\nstderr: %s" % (" ".join(self.args),
            tail(self.stdout()), tail(self.stderr()))

    def wait_ready(self, timeout=TIMEOUT):
        """Wait for "ready" on the ready pipe; return what came before
        it (the lines a program may say first), as text."""
        buf = b""
        end = time.monotonic() + timeout
        while b"ready\n" not in buf:
            left = end - time.monotonic()
            if left <= 0:
                raise AssertionError("not ready after %gs: %s" %
                    (timeout, self.describe()))
            r, _, _ = select.select([self.ready_r], [], [], left)
            if not r:
                continue
            chunk = os.read(self.ready_r, 256)
            if not chunk:
                self.p.poll()
                raise AssertionError("exited (status %s) before "
                    "ready: %s" % (self.p.returncode,
                    self.describe()))
            buf += chunk
        return buf[:buf.index(b"ready\n")].decode(errors="replace")

    def release(self):
        if self.hold_w is not None:
            os.close(self.hold_w)
            self.hold_w = None

    def wait(self, timeout=TIMEOUT):
        """Wait for exit; kill and fail after timeout."""
        try:
            self.returncode = self.p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            kill_group(self.p)
            self.p.wait()
            raise AssertionError("still running after %gs: %s" %
                (timeout, self.describe()))
        return self.returncode

    def running(self):
        return self.p.poll() is None

    def info(self):
        return sample_info(self.stderr())


def poll_until(fn, timeout=TIMEOUT, what="condition"):
    """Call fn every POLL seconds until it returns something true;
    return that, or fail after timeout."""
    end = time.monotonic() + timeout
    while True:
        v = fn()
        if v:
            return v
        if time.monotonic() >= end:
            raise AssertionError("no %s after %gs" % (what, timeout))
        time.sleep(POLL)


# --- what the samples say about themselves --------------------------------

class SampleInfo:
    def __init__(self):
        self.pid = None
        self.threads = {}   # name -> tid
        self.locks = {}     # name -> address

    def name_of(self, tid):
        for n, t in self.threads.items():
            if t == tid:
                return n
        return None


_INFO = re.compile(r"^gw-sample: (pid (\d+)|thread (\S+) (\d+)|"
    r"lock (\S+) (0x[0-9a-fA-F]+))$")


def sample_info(stderr):
    info = SampleInfo()
    for line in stderr.splitlines():
        m = _INFO.match(line.strip())
        if not m:
            continue
        if m.group(2):
            info.pid = int(m.group(2))
        elif m.group(3):
            info.threads[m.group(3)] = int(m.group(4))
        else:
            info.locks[m.group(5)] = int(m.group(6), 16)
    return info


# --- JSON reports and dumps -----------------------------------------------

def parse_json_docs(text):
    """Every JSON value in text: one document, several concatenated, or
    one per line.  ValueError if text holds anything else."""
    dec = json.JSONDecoder()
    docs = []
    i, n = 0, len(text)
    while True:
        while i < n and text[i].isspace():
            i += 1
        if i == n:
            return docs
        doc, i = dec.raw_decode(text, i)
        docs.append(doc)


def load_report(path):
    with open(path, errors="replace") as f:
        return parse_json_docs(f.read())


def report_files(tmpdir, pattern="report-*"):
    return sorted(glob.glob(os.path.join(tmpdir, pattern)))


def load_reports(tmpdir, pattern="report-*.json"):
    """All documents from all report files in tmpdir."""
    docs = []
    for p in report_files(tmpdir, pattern):
        docs.extend(load_report(p))
    return docs


def addr(v):
    """An address as an int, whether JSON gave a number or "0x..."."""
    if isinstance(v, int):
        return v
    if isinstance(v, str):
        return int(v, 16)   # "0x7f..." or bare hex digits
    raise ValueError("not an address: %r" % (v,))


def lock_of(obj):
    """{addr, kind, mode, name, py_type, py_object} from a lock object,
    or from an object that has it under "lock" (py_object an int or
    None)."""
    o = obj.get("lock", obj)
    return {"addr": addr(o["addr"]), "kind": o.get("kind"),
        "mode": o.get("mode"), "name": o.get("name"),
        "py_type": o.get("py_type"), "py_object": addr(o["py_object"])
        if o.get("py_object") else None}


def threads(doc):
    """tid -> thread object."""
    return {t["tid"]: t for t in doc.get("threads", [])}


def thread_named(doc, name):
    found = [t for t in doc.get("threads", []) if t.get("name") == name]
    return found[0] if len(found) == 1 else None


def held(thread):
    """The thread's held locks: [{addr, kind, mode, count,
    acquired_at}]."""
    out = []
    for h in thread.get("held") or []:
        d = lock_of(h)
        d["count"] = h.get("count")
        d["acquired_at"] = h.get("acquired_at")
        out.append(d)
    return out


def held_addrs(thread):
    return [h["addr"] for h in held(thread)]


def _tid(o):
    return o["tid"] if isinstance(o, dict) else o


def python_sites(o):
    """Every Python frame anywhere in o (a report's dict or list), as
    [(function, line)]."""
    out = []
    if isinstance(o, dict):
        if o.get("kind") == "python":
            out.append((o.get("function"), o.get("line")))
        for v in o.values():
            out.extend(python_sites(v))
    elif isinstance(o, list):
        for v in o:
            out.extend(python_sites(v))
    return out


def waiting(thread):
    """What the thread waits for, {addr, kind, mode, timed, owners:
    [tid]}, or None."""
    w = thread.get("waiting_for", thread.get("waiting"))
    if not w:
        return None
    d = lock_of(w)
    d["timed"] = w.get("timed")
    d["owners"] = [_tid(o) for o in w.get("owners") or []]
    return d


def py_wait(thread):
    """What the thread's Python code waits on (waiting_for.python:
    {waits_for, type, object, via, at}), or None."""
    w = thread.get("waiting_for")
    return w.get("python") if w else None


def deadlocks(doc):
    """[[link]] where link is {tid, addr, kind, mode, held_by,
    acquired_at}."""
    out = []
    for d in doc.get("deadlocks") or []:
        links = d["links"] if isinstance(d, dict) else d
        cycle = []
        for l in links:
            c = lock_of(l["waits_for"])
            c["tid"] = l["tid"]
            c["held_by"] = _tid(l["held_by"])
            c["acquired_at"] = l.get("acquired_at")
            cycle.append(c)
        out.append(cycle)
    return out


def frame_function(frame):
    """The function a frame names, or None when not symbolised."""
    if not isinstance(frame, dict):
        return None
    return frame.get("function") or None


def hex_in(text, a):
    """Does text show address a (0x..., any case, maybe zero-padded)?"""
    return re.search(r"0x0*%x\b" % a, text, re.IGNORECASE) is not None


def tasks(pid):
    """The TIDs of pid, from /proc."""
    try:
        return {int(t) for t in os.listdir("/proc/%d/task" % pid)}
    except FileNotFoundError:
        return set()


def _memfd_inode(pid):
    """The inode of the memfd gilwatch shares in pid, from its maps
    (those of each thread in turn: an ended main thread's read empty)."""
    try:
        tids = sorted(int(t) for t in os.listdir("/proc/%d/task" % pid))
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    for tid in tids:
        try:
            with open("/proc/%d/task/%d/maps" % (pid, tid)) as f:
                for line in f:
                    if "/memfd:gilwatch" in line:
                        return int(line.split()[4])
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            pass
    return None


def monitor_of(pid):
    """The pid of the gilwatch monitor process watching pid (the one that
    maps the same memfd), or None."""
    ino = _memfd_inode(pid)
    if ino is None:
        return None
    for name in os.listdir("/proc"):
        if not name.isdigit() or int(name) == pid:
            continue
        try:
            with open("/proc/%s/comm" % name) as f:
                if f.read().strip() != "gilwatch-mon":
                    continue
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
        if _memfd_inode(int(name)) == ino:
            return int(name)
    return None


def await_monitor(pid, what="the monitor process"):
    """The pid of pid's monitor process once there is one, waiting at
    most TIMEOUT for it."""
    seen = []

    def found():
        seen[:] = [monitor_of(pid)]
        return seen[0] is not None
    poll_until(found, what=what)
    return seen[0]

def tempdir():
    return tempfile.TemporaryDirectory(prefix="gwtest-")


NOBODY = 65534                  # the user a test acts as when it needs another


def as_nobody():
    """In the child before exec: become user and group NOBODY (as
    no_core, no core files)."""
    no_core()
    os.setgroups([])
    os.setgid(NOBODY)
    os.setuid(NOBODY)


class ReachableCopy(tempfile.TemporaryDirectory):
    """Copies of files, mode 755, in a fresh directory every user can
    enter, for a test that runs them as NOBODY: the clone (and its build)
    may live where no other user may go, a root's home (mode 700) or a
    mktemp -d.  Skips tc, saying why, when the temporary directory is
    under one that NOBODY cannot enter.  Use as a context manager; the
    value is {basename: path of the copy}."""

    def __init__(self, tc, *files):
        super().__init__(prefix="gwtest-shared-")
        self.files = files
        d = self.name
        while True:
            d = os.path.dirname(d)
            if not os.stat(d).st_mode & stat.S_IXOTH:
                self.cleanup()
                tc.skipTest("%s is closed to other users: no directory "
                    "user %d can reach" % (d, NOBODY))
            if d == "/":
                break

    def __enter__(self):
        os.chmod(self.name, 0o755)
        copies = {}
        for f in self.files:
            dst = os.path.join(self.name, os.path.basename(f))
            shutil.copy(f, dst)
            os.chmod(dst, 0o755)
            copies[os.path.basename(f)] = dst
        return copies


# --- Python interpreters and Python samples -------------------------------

PYENV = os.environ.get("PYENV_ROOT", os.path.expanduser("~/.pyenv"))
PY_MINORS = range(8, 16)        # the CPython versions gilwatch knows
PY_SAMPLES = os.path.join(ROOT, "samples")
PYPROGS = os.path.join(ROOT, "tests", "integration", "pyprog")


def py_sample(name):
    """samples/NAME.py (run from the source tree, not built)."""
    return os.path.join(PY_SAMPLES, name + ".py")


def pyprog(name):
    return os.path.join(PYPROGS, name + ".py")


def scenes(exe, tmp, *args, prog="attach_scenes", under=()):
    """Start pyprog/PROG.py (attach_scenes.py, or another that writes a
    record and says ready as it does) bare on exe, or under the command
    `under` (gilwatch run --), and wait until it is ready: (Proc, its
    record).  The caller leaves the Proc (a context manager)."""
    record = os.path.join(tmp, "record.json")
    env = dict(os.environ)
    env.pop("LD_PRELOAD", None)
    env.pop("PYTHONPATH", None)
    env["ATTACH_TIMEOUT"] = str(TIMEOUT / 2)
    p = Proc([*under, exe, pyprog(prog), record, *args], tmp, env=env)
    try:
        p.wait_ready()
        with open(record) as f:
            rec = json.load(f)
    except BaseException:
        p.__exit__(None, None, None)
        raise
    return p, rec


SCENE_WAITS = ("abba-1", "abba-2", "rwaiter", "qwaiter", "joiner")


def dump_settled(pid, done, what):
    """`gilwatch dump --format=json PID` read from outside, repeated until
    done(status, doc) (threads may still be entering their waits when
    the program says ready): the document."""
    last = [None]

    def settled():
        r = run([GILWATCH, "dump", "--format=json", str(pid)])
        if r.returncode not in (0, 86):
            raise AssertionError(r)
        doc = last[0] = parse_json_docs(r.stdout)[0]
        return doc if done(r.returncode, doc) else None
    try:
        return poll_until(settled, what=what)
    except AssertionError as e:
        raise AssertionError("%s; last: %s" % (e, json.dumps(last[0],
            indent=1)))


def dump_scenes_settled(pid, tid):
    """dump_settled for attach_scenes: every waiting role shows its wait
    and the Lock ABBA its deadlock."""
    def done(status, doc):
        th = {t["tid"]: t for t in doc["threads"]}
        return status == 86 and all(
            th.get(tid[n], {}).get("waiting_for") for n in SCENE_WAITS)
    return dump_settled(pid, done, "every wait seen")


LOCK_WAITS = ("waiter", "bare-waiter", "c-back", "c-notify")


def dump_locks_settled(pid, tid):
    """dump_settled for outside_locks: every waiter shows a wait and
    c-back, woken by the notify, has left its notify wait."""
    def done(status, doc):
        th = {t["tid"]: t for t in doc["threads"]}
        return all(th.get(tid[n], {}).get("waiting_for")
            for n in LOCK_WAITS) and py_wait(th[tid["c-back"]]) is None
    return dump_settled(pid, done, "every lock wait seen")

# A pyenv build directory: 3.X.Y, a pre-release 3.X.YaN/bN/rcN, and a
# free-threaded build with a "t" after it (3.14.7t, 3.15.0rc1t).
PYENV_DIR = r"3\.%d\.\d+((?:a|b|rc)\d+)?(t?)"
PRERELEASE = {"a": "alpha", "b": "beta", "rc": "release candidate"}


def pyenv_dirs(minor, free_threaded=False):
    """pyenv's builds of 3.MINOR, [(label, exe)] in name order: default
    builds, or with free_threaded the "t" ones only (python3.Xt).  A
    pre-release says so in its label ("pyenv-3.15.0rc1 (release
    candidate)")."""
    out = []
    for d in sorted(glob.glob(os.path.join(PYENV, "versions",
        "3.%d.*" % minor))):
        name = os.path.basename(d)
        m = re.fullmatch(PYENV_DIR % minor, name)
        if m is None or bool(m.group(2)) != free_threaded:
            continue
        exe = os.path.join(d, "bin", "python3.%d%s" % (minor, m.group(2)))
        if not os.access(exe, os.X_OK):
            continue
        label = "pyenv-" + name
        if m.group(1):
            label += " (%s)" % PRERELEASE[re.match(r"[a-z]+",
                m.group(1)).group(0)]
        out.append((label, exe))
    return out


def pythons(minors=PY_MINORS):
    """The installed interpreters, [(label, exe)]: pyenv's 3.X.Y builds
    ($PYENV_ROOT/versions; free-threaded "t" builds left out) and the
    system's /usr/bin/python3.X; and, for a version with neither, a line
    "skip: python3.X not installed".  Returns (interpreters, skip
    lines)."""
    found, skips = [], []
    for minor in minors:
        builds = pyenv_dirs(minor)
        found += builds
        exe = "/usr/bin/python3.%d" % minor
        if os.access(exe, os.X_OK):
            found.append(("system-3.%d" % minor, exe))
        elif not builds:
            skips.append("skip: python3.%d not installed" % minor)
    return found, skips


_py_versions = {}


def python_version(exe):
    """"3.X.Y" of an interpreter (asked once)."""
    if exe not in _py_versions:
        r = run([exe, "-c", "import platform; "
            "print(platform.python_version())"])
        if r.returncode != 0:
            raise AssertionError("cannot run %s: %r" % (exe, r))
        _py_versions[exe] = r.stdout.strip()
    return _py_versions[exe]


def py_minor(exe):
    return int(python_version(exe).split(".")[1])


def py_locks_seen(exe):
    """Does gilwatch see Python's own locks taken and waited for?  Up to
    3.13 threading.Lock and RLock are semaphores; 3.14 made them
    PyMutexes, taken with atomics that no hook sees and that record no
    owner (a blocked acquire parks on a semaphore of its own)."""
    return py_minor(exe) <= 13


_py_lock_tables = {}


_py_mutex_locks = {}


def py_mutex_lock_types(exe):
    """Which of exe's threading.Lock and RLock ("Lock", "RLock") are
    PyMutexes (3.14+, and 3.13.1+'s and 3.13t's Lock), not semaphores?
    Asked once, of a fresh lock of each type, as gwsample.lock_address
    tells them apart."""
    if exe not in _py_mutex_locks:
        r = run([exe, "-c", "import ctypes, _thread; print(' '.join(n "
            "for n, l in (('Lock', _thread.allocate_lock()), ('RLock', "
            "_thread.RLock())) if (ctypes.c_void_p.from_address(id(l) + "
            "object.__basicsize__).value or 0) < 4096))"])
        if r.returncode != 0:
            raise AssertionError("cannot run %s: %r" % (exe, r))
        _py_mutex_locks[exe] = set(r.stdout.split())
    return _py_mutex_locks[exe]


def py_mutex_locks(exe):
    """Is any of exe's threading.Lock and RLock a PyMutex?"""
    return bool(py_mutex_lock_types(exe))


def shim_sees_py_locks(exe):
    """Does the shim (gilwatch run) see Python's own locks taken and
    waited for?  Semaphore locks (up to 3.13.0, 3.13's RLock) by its
    semaphore hooks; PyMutex locks (3.14+, 3.13.1+'s and 3.13t's Lock)
    through hooks swapped into _thread's method tables, which it finds
    by their symbols (lock_methods...) in libpython or the executable:
    not in one without a symbol table."""
    if not py_mutex_locks(exe):
        return True
    if exe not in _py_lock_tables:
        r = run([exe, "-c", "import sys, sysconfig as s; v = "
            "s.get_config_var; print(v('LIBDIR') + '/' + v('INSTSONAME') "
            "if v('Py_ENABLE_SHARED') else sys.executable)"])
        if r.returncode != 0:
            raise AssertionError("cannot run %s: %r" % (exe, r))
        nm = run(["nm", r.stdout.strip()])
        _py_lock_tables[exe] = re.search(r" [dD] lock_methods$", nm.stdout,
            re.M) is not None
    return _py_lock_tables[exe]


def source_marks(path):
    """"# MARK:name" comments in a source file: name -> line number."""
    out = {}
    with open(path, encoding="utf-8") as f:
        for i, line in enumerate(f, 1):
            m = re.search(r"# MARK:(\w+)", line)
            if m:
                out[m.group(1)] = i
    return out


def doc_with_reason(docs, reason):
    """The last document whose "reason" is reason, or None."""
    found = [d for d in docs if d.get("reason") == reason]
    return found[-1] if found else None


def gil_state(thread):
    """"holds", "waits", "released", or None (no Python thread)."""
    g = thread.get("gil")
    return g.get("state") if isinstance(g, dict) else None


def python_frames(thread):
    """The thread's Python frames, innermost first, as (function, file,
    line); function is the qualified name where the version has it."""
    return [(f.get("function"), f.get("file"), f.get("line"))
        for f in thread.get("frames") or []
        if isinstance(f, dict) and f.get("kind") == "python"]


def gil_rows(doc):
    """tid -> per-thread row of a GIL statistics document."""
    return {t["tid"]: t for t in doc.get("threads") or []}


def dump_json(pid, opts=(), timeout=TIMEOUT):
    """`gilwatch dump --format=json [OPTS] PID`: (Result, [documents])."""
    r = run([GILWATCH, "dump", "--format=json", *opts, str(pid)],
        timeout=timeout)
    docs = parse_json_docs(r.stdout) if r.returncode == 0 else []
    return r, docs


def pyenv_builds(minor):
    """pyenv's python3.MINOR executables, one per default 3.MINOR.N build
    (pyenv_dirs)."""
    return [exe for _, exe in pyenv_dirs(minor)]


# Free-threaded minors gilwatch does not read, with the reason: their
# tests skip aloud.  Only these minors: a refusal of any other fails its
# tests.  None now (3.13t, whose Lock is a PyMutex and RLock a
# semaphore, has had a table since tools/gen-pyoffsets measures each
# type on its own).
FREE_THREADED_UNSUPPORTED = {}


def free_threaded_builds(minor):
    """pyenv's python3.MINORt executables (free-threaded builds); [] with
    a printed "skip: ..." line when installed but not supported."""
    found = [exe for _, exe in pyenv_dirs(minor, free_threaded=True)]
    if found and minor in FREE_THREADED_UNSUPPORTED:
        print(unsupported_skip(minor, found))
        return []
    return found


def unsupported_skip(minor, exes):
    return "skip: python3.%dt installed (%s) but not supported: %s" % (
        minor, ", ".join(exes), FREE_THREADED_UNSUPPORTED[minor])


def add_free_threaded_tests(cls, minors=range(13, 16)):
    """Give cls a test per free-threaded minor, test_pyenv_3_Nt (each
    pyenv build 3.N.Mt as a subtest) calling cls.run_one(exe); a
    missing one is skipped with a printed "skip: ..." line."""
    def free_threaded_test(minor):
        def test(self):
            builds = free_threaded_builds(minor)
            if not builds and minor in FREE_THREADED_UNSUPPORTED:
                self.skipTest("python3.%dt not supported" % minor)
            if not builds:
                print("skip: python3.%dt not installed (pyenv, "
                    "free-threaded)" % minor)
                self.skipTest("python3.%dt not installed" % minor)
            for exe in builds:
                with self.subTest(python=exe):
                    self.run_one(exe)
        test.__doc__ = "pyenv's python3.%dt (free-threaded)" % minor
        return test

    for minor in minors:
        setattr(cls, "test_pyenv_3_%dt" % minor, free_threaded_test(minor))


def add_interpreter_tests(cls, minors=PY_MINORS, system=(11,),
        free_threaded=False):
    """Give cls a test per interpreter, test_pyenv_3_N (each pyenv build
    of 3.N as a subtest) and test_system_3_N (/usr/bin/python3.N; for
    the minors in `system`, and any other that is installed), each
    calling cls.run_one(exe); with free_threaded, test_pyenv_3_Nt too
    (each free-threaded build of 3.N, 3.13 and later).  A missing
    interpreter is skipped with a printed "skip: ..." line."""
    def pyenv_test(minor):
        def test(self):
            builds = pyenv_builds(minor)
            if not builds:
                print("skip: python3.%d not installed (pyenv)" % minor)
                self.skipTest("python3.%d not installed" % minor)
            for exe in builds:
                with self.subTest(python=exe):
                    self.run_one(exe)
        test.__doc__ = "pyenv's python3.%d" % minor
        return test

    def system_test(exe):
        def test(self):
            if not os.access(exe, os.X_OK):
                print("skip: %s not installed" % exe)
                self.skipTest("%s not installed" % exe)
            self.run_one(exe)
        test.__doc__ = exe
        return test

    for minor in minors:
        setattr(cls, "test_pyenv_3_%d" % minor, pyenv_test(minor))
        exe = "/usr/bin/python3.%d" % minor
        if minor in system or os.access(exe, os.X_OK):
            setattr(cls, "test_system_3_%d" % minor, system_test(exe))
    if free_threaded:
        add_free_threaded_tests(cls, [m for m in minors if m >= 13])
