"""The newcomer's two commands: `make demo` and `make check` first check
for the Debian packages they need (scripts/deps), install them as root
and otherwise print the one apt-get line and stop, before anything is
compiled.  A fresh machine cannot be had inside `make check`, so
dpkg-query, id and apt-get are fakes on PATH that describe one."""

import contextlib
import os
import shutil
import subprocess
import unittest

try:
    from . import gwtest as gw
except ImportError:
    import gwtest as gw

DEPS = os.path.join(gw.ROOT, "scripts", "deps")

# dpkg-query -W -f='${Status}' PKG on a machine that lacks MISSING.
FAKE_DPKG_QUERY = r'''#!/bin/sh
for pkg; do :; done
case " %s " in
*" $pkg "*)
	echo "dpkg-query: no packages found matching $pkg" >&2
	exit 1;;
esac
printf 'install ok installed'
'''

# apt-get that only says how it was called, in apt-get.log beside it.
FAKE_APT_GET = r'''#!/bin/sh
echo "$@" >> "$(dirname "$0")/apt-get.log"
'''


def write_fakes(d, missing, uid=None):
    """Fake dpkg-query (and apt-get; id printing uid unless None) in d."""
    fakes = {"dpkg-query": FAKE_DPKG_QUERY % " ".join(missing),
        "apt-get": FAKE_APT_GET}
    if uid is not None:
        fakes["id"] = "#!/bin/sh\necho %d\n" % uid
    for name, text in fakes.items():
        path = os.path.join(d, name)
        with open(path, "w") as f:
            f.write(text)
        os.chmod(path, 0o755)


def fake_env(d):
    return dict(os.environ, PATH="%s:/usr/bin:/bin" % d, LC_ALL="C")


def apt_get_calls(d):
    try:
        with open(os.path.join(d, "apt-get.log")) as f:
            return f.read().splitlines()
    except FileNotFoundError:
        return []


class TestDeps(unittest.TestCase):
    """scripts/deps itself."""

    def run_deps(self, d, deps, args, preexec_fn=None):
        return subprocess.run([deps, *args], env=fake_env(d), cwd=d,
            stdin=subprocess.DEVNULL, capture_output=True, text=True,
            preexec_fn=preexec_fn, timeout=gw.TIMEOUT)

    @contextlib.contextmanager
    def as_user(self, missing, *args):
        """scripts/deps run by a user who is not root (NOBODY on a copy
        when we are root); yields the result and the fakes' directory."""
        if os.geteuid() != 0:
            with gw.tempdir() as d:
                write_fakes(d, missing)
                yield self.run_deps(d, DEPS, args), d
            return
        with gw.ReachableCopy(self, DEPS) as copy:
            d = os.path.dirname(copy["deps"])
            write_fakes(d, missing)
            yield self.run_deps(d, copy["deps"], args, gw.as_nobody), d

    def test_user_gets_the_install_line(self):
        with self.as_user(["libcriterion-dev"], "--test") as (r, d):
            self.assertEqual(r.returncode, 1, r)
            self.assertEqual(r.stdout, "", r)
            self.assertIn("install them with: sudo apt-get install -y "
                "libcriterion-dev\n", r.stderr)
            self.assertEqual(apt_get_calls(d), [])

    def test_build_alone_does_not_need_criterion(self):
        with self.as_user(["libcriterion-dev"]) as (r, _):
            self.assertEqual((r.returncode, r.stdout, r.stderr),
                (0, "", ""), r)

    def test_nothing_missing_is_silent(self):
        with self.as_user([], "--test") as (r, d):
            self.assertEqual((r.returncode, r.stdout, r.stderr),
                (0, "", ""), r)
            self.assertEqual(apt_get_calls(d), [])

    def test_root_installs(self):
        with gw.tempdir() as d:
            write_fakes(d, ["libcriterion-dev", "tmux"], uid=0)
            r = self.run_deps(d, DEPS, ["--test"])
            self.assertEqual(r.returncode, 0, r)
            self.assertEqual(apt_get_calls(d), ["update -q",
                "install -y -q libcriterion-dev tmux"])


class TestMakeChecksDeps(unittest.TestCase):
    """make demo and make check stop at the install line, having
    compiled nothing (CC=false into an empty build directory: a compile
    would fail without the line)."""

    def make(self, target, missing):
        make = shutil.which("make")
        if make is None:
            self.fail("make is not installed")
        with gw.tempdir() as d:
            build = os.path.join(d, "build")
            write_fakes(d, missing, uid=1000)
            # Not the flags of a make check that runs this test.
            env = {k: v for k, v in fake_env(d).items()
                if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
            r = subprocess.run([make, "-s", "-C", gw.ROOT, target,
                "B=" + build, "CC=false"], env=env,
                stdin=subprocess.DEVNULL, capture_output=True, text=True,
                timeout=gw.TIMEOUT)
            self.assertFalse(os.path.exists(build), r)
            self.assertEqual(apt_get_calls(d), [])
        return r

    def test_check(self):
        r = self.make("check", ["libcriterion-dev"])
        self.assertNotEqual(r.returncode, 0, r)
        self.assertIn("install them with: sudo apt-get install -y "
            "libcriterion-dev\n", r.stderr)

    def test_demo(self):
        r = self.make("demo", ["libdw-dev"])
        self.assertNotEqual(r.returncode, 0, r)
        self.assertIn("install them with: sudo apt-get install -y "
            "libdw-dev\n", r.stderr)


if __name__ == "__main__":
    unittest.main()
