"""Core files read through the readers (src/reader/core.c, mem.h's core
source), by build/tests/coreprobe.

A deadlocked program started bare (prog/core_abba: worker-a holds A and
waits for B, worker-b the reverse) is dumped by gcore, or by the kernel
on SIGABRT, and killed; the probe then reads the core alone: threads and
the futex each waits in, the mutexes' owner words, a value only the
core's memory holds, a read-only string the core leaves out (read back
from the executable), and every thread's frames unwound by libdw.  A
truncated or garbage core gives one line and exit 1, never a crash.
"""

import json
import os
import random
import shutil
import signal
import struct
import unittest

import gwtest as gw

PROBE = os.path.join(gw.BUILD, "tests", "coreprobe")
PROG = gw.prog("core_abba")
MARKER = b"gilwatch core marker 7f3a\0"   # core_marker in core_abba.c
SYS_FUTEX = 202
FUTEX_WAIT_PRIVATE = 0x80


def said(text):
    """core_abba's lines before ready: marker ADDR, counter ADDR VALUE."""
    out = {}
    for line in text.splitlines():
        w = line.split()
        if w and w[0] == "marker":
            out["marker"] = int(w[1], 16)
        elif w and w[0] == "counter":
            out["counter"] = int(w[1], 16)
            out["counter_value"] = int(w[2])
    return out


class CoreCase(unittest.TestCase):
    def setUp(self):
        gw.need(self, PROBE, PROG)
        self.tmp = gw.tempdir()
        self.dir = self.tmp.name

    def tearDown(self):
        self.tmp.cleanup()

    def probe(self, core, *args):
        return gw.run([PROBE, core, *args])

    def probe_json(self, core, *args):
        r = self.probe(core, *args)
        self.assertEqual(r.returncode, 0, r)
        return json.loads(r.stdout)

    def start(self, **kw):
        p = gw.Proc([PROG], self.dir, hold=False, **kw)
        try:
            lines = said(p.wait_ready())
            info = p.info()
            self.assertIsNotNone(info.pid, p.describe())
            self.assertEqual(set(info.threads), {"worker-a", "worker-b"})
            self.assertEqual(set(info.locks), {"A", "B"})
        except BaseException:
            p.__exit__(None, None, None)
            raise
        return p, info, lines

    def check(self, core, info, lines, signo):
        a, b = info.locks["A"], info.locks["B"]
        ta, tb = info.threads["worker-a"], info.threads["worker-b"]
        reads = ["%x:%d" % (lines["marker"], len(MARKER)),
            "%x:8" % lines["counter"], "%x:4" % (a + 8), "%x:4" % (b + 8)]
        doc = self.probe_json(core, *reads)
        self.assertEqual(doc["pid"], info.pid)
        self.assertEqual(doc["command"], "core_abba")
        self.assertEqual(doc["exe"], PROG)
        self.assertEqual(doc["signal"], signo)
        by_tid = {t["tid"]: t for t in doc["threads"]}
        self.assertEqual(set(by_tid), {info.pid, ta, tb}, doc["threads"])

        # Each worker sleeps in futex(WAIT_PRIVATE) on its second lock.
        for tid, lock in ((ta, b), (tb, a)):
            t = by_tid[tid]
            self.assertEqual(t["syscall"], SYS_FUTEX, t)
            self.assertEqual(int(t["args"][0], 16), lock, t)
            self.assertEqual(int(t["args"][1], 16), FUTEX_WAIT_PRIVATE, t)

        # The owners cross: A is held by the thread waiting for B.
        got = [r["hex"] for r in doc["reads"]]
        self.assertNotIn(None, got, doc["reads"])
        marker, counter, owner_a, owner_b = (bytes.fromhex(h) for h in got)
        self.assertEqual(marker, MARKER)
        self.assertEqual(struct.unpack("<Q", counter)[0],
            lines["counter_value"])
        self.assertEqual(struct.unpack("<i", owner_a)[0], ta)
        self.assertEqual(struct.unpack("<i", owner_b)[0], tb)

        # Frames, innermost first, name the program's functions.
        def names(tid):
            t = by_tid[tid]
            self.assertIsNone(t["stack_error"], t)
            return [f["function"] for f in t["frames"]]
        for tid, worker in ((ta, "worker_a"), (tb, "worker_b")):
            fs = names(tid)
            self.assertIn("take_second", fs, fs)
            self.assertIn(worker, fs, fs)
            self.assertLess(fs.index("take_second"), fs.index(worker), fs)
            self.assertTrue(any("pthread_mutex_lock" in f for f in fs), fs)
            line = by_tid[tid]["frames"][fs.index("take_second")]
            self.assertTrue(line["file"].endswith("core_abba.c"), line)
        self.assertIn("main", names(info.pid))
        return doc

    def gcore(self):
        """Start core_abba, take its core with gcore (skipped aloud
        without gdb), kill it: (core path, sample info, what it said)."""
        if shutil.which("gcore") is None:
            print("skip: gcore not installed (gdb)")
            self.skipTest("gcore not installed")
        p, info, lines = self.start()
        with p:
            base = os.path.join(self.dir, "core")
            r = gw.run(["gcore", "-o", base, str(info.pid)])
            core = "%s.%d" % (base, info.pid)
            self.assertTrue(os.path.isfile(core), r)
        return core, info, lines

    def test_gcore(self):
        core, info, lines = self.gcore()
        self.check(core, info, lines, 0)

        # EXE given: the executable moved since is read from its new
        # place; another program in its place is refused (its first
        # page differs from the core's copy), never read as if it were.
        marker = "%x:%d" % (lines["marker"], len(MARKER))
        moved = os.path.join(self.dir, "moved")
        shutil.copy(PROG, moved)
        doc = self.probe_json(core, moved, marker)
        self.assertEqual(doc["exe"], moved)
        self.assertEqual(bytes.fromhex(doc["reads"][0]["hex"]), MARKER)
        other = gw.prog("holds")
        gw.need(self, other)
        doc = self.probe_json(core, other, marker)
        self.assertEqual(doc["exe"], other)
        self.assertIsNone(doc["reads"][0]["hex"])

    def test_kernel_core(self):
        with open("/proc/sys/kernel/core_pattern") as f:
            pattern = f.read().strip()
        if pattern != "core":
            print("skip: kernel core_pattern is %r, not 'core'" % pattern)
            self.skipTest("core_pattern")
        p, info, lines = self.start(cwd=self.dir, preexec_fn=gw.with_core)
        with p:
            os.kill(info.pid, signal.SIGABRT)
            self.assertEqual(p.wait(), -signal.SIGABRT, p.describe())
        core = os.path.join(self.dir, "core")
        if not os.path.isfile(core):
            core += ".%d" % info.pid
        self.assertTrue(os.path.isfile(core), os.listdir(self.dir))
        self.check(core, info, lines, signal.SIGABRT)

    def refused(self, path, what):
        r = self.probe(path)
        self.assertEqual(r.returncode, 1, "%s: %r" % (what, r))
        self.assertEqual(r.stdout, "", what)
        lines = r.stderr.splitlines()
        self.assertEqual(len(lines), 1, "%s: %r" % (what, r))
        self.assertTrue(lines[0].startswith("coreprobe: "), r)
        return lines[0]

    def write(self, name, data):
        path = os.path.join(self.dir, name)
        with open(path, "wb") as f:
            f.write(data)
        return path

    def test_garbage(self):
        rnd = random.Random(12)
        self.refused(os.path.join(self.dir, "absent"), "no file")
        self.refused(self.write("empty", b""), "empty")
        self.refused(self.write("noise", bytes(rnd.randrange(256)
            for _ in range(65536))), "noise")
        self.assertIn("not an x86-64 core", self.refused(PROG, "exe"))

    def test_truncated_and_garbled(self):
        """Cut a real core short at every interesting place, and garble
        its notes: one line and exit 1 when nothing can be read, exit 0
        with failed reads when only memory is missing; never a crash."""
        core, info, lines = self.gcore()
        with open(core, "rb") as f:
            data = f.read()
        phoff, phnum = struct.unpack_from("<Q", data, 32)[0], \
            struct.unpack_from("<H", data, 56)[0]
        notes = None
        for i in range(phnum):
            ptype, _, off, _, _, size = struct.unpack_from("<IIQQQQ",
                data, phoff + i * 56)
            if ptype == 4:
                notes = (off, size)
        self.assertIsNotNone(notes)
        # Headers cut, then notes cut: refused.
        for cut in (10, 63, 64 + 56 * 2, notes[0] + notes[1] // 2):
            self.refused(self.write("cut", data[:cut]), "cut at %d" % cut)
        # Memory past the end of the file (a core cut short where the
        # kernel puts memory after the notes): it opens, reads fail.
        b = bytearray(data)
        for i in range(phnum):
            if struct.unpack_from("<I", b, phoff + i * 56)[0] == 1:
                struct.pack_into("<Q", b, phoff + i * 56 + 8,
                    len(data) + 0x1000)
        r = self.probe(self.write("nomem", bytes(b)),
            "%x:8" % lines["counter"])
        self.assertEqual(r.returncode, 0, r)
        self.assertEqual(json.loads(r.stdout)["reads"][0]["hex"], None)
        # Garbled notes: refused or read, never a signal.
        rnd = random.Random(7)
        for n in range(24):
            b = bytearray(data[notes[0]:notes[0] + notes[1]])
            for _ in range(8):
                b[rnd.randrange(len(b))] = rnd.randrange(256)
            path = self.write("garbled", data[:notes[0]] + bytes(b) +
                data[notes[0] + notes[1]:])
            r = self.probe(path, "%x:8" % lines["counter"])
            self.assertIn(r.returncode, (0, 1), "garble %d: %r" % (n, r))
            if r.returncode == 1:
                self.assertEqual(len(r.stderr.splitlines()), 1, r)


if __name__ == "__main__":
    unittest.main()
