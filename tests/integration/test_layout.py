"""The sources form layers: no include circle, and the shared code below
never reaches up.

A module is a .c and its .h (src/shim/track.c + src/shim/track.h); A
depends on B when A.c or A.h includes B.h with quotes.  A quoted header
is looked up next to the including file first, then among every header
of src/*/ and tui/ (the compiler's -I list); anything else (system or
include/gilwatch/ headers) is outside the graph.  Plain Python: no build.
"""

import glob
import os
import re
import unittest

try:
    from . import gwtest as gw
    ROOT = gw.ROOT
except ImportError:
    ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
        os.path.abspath(__file__))))

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)

# Shared code that the shim, the command and the dashboard all build on.
BELOW = ("src/reader", "src/format", "src/common")


def module(path):
    """src/shim/track.c -> src/shim/track"""
    return os.path.splitext(os.path.relpath(path, ROOT))[0]


def include_graph():
    files = sorted(glob.glob(os.path.join(ROOT, "src", "*", "*.[ch]")) +
                   glob.glob(os.path.join(ROOT, "tui", "*.[ch]")))
    headers = {}
    for f in files:
        if f.endswith(".h"):
            headers.setdefault(os.path.basename(f), []).append(f)
    graph = {}
    for f in files:
        a = module(f)
        graph.setdefault(a, set())
        with open(f, encoding="utf-8", errors="replace") as fh:
            names = INCLUDE.findall(fh.read())
        for name in names:
            near = os.path.join(os.path.dirname(f), name)
            if os.path.exists(near):
                target = near
            elif len(headers.get(name, [])) == 1:
                target = headers[name][0]
            else:
                continue    # system, include/gilwatch/, or ambiguous
            b = module(target)
            if b != a:
                graph[a].add(b)
    for deps in list(graph.values()):
        for b in deps:
            graph.setdefault(b, set())
    return graph


def components(graph):
    """Tarjan's strongly connected components, iteratively."""
    index, low, onstack, stack, out = {}, {}, set(), [], []
    counter = 0
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        onstack.add(root)
        while work:
            v, it = work[-1]
            for w in it:
                if w not in index:
                    index[w] = low[w] = counter
                    counter += 1
                    stack.append(w)
                    onstack.add(w)
                    work.append((w, iter(sorted(graph[w]))))
                    break
                if w in onstack:
                    low[v] = min(low[v], index[w])
            else:
                work.pop()
                if work:
                    u = work[-1][0]
                    low[u] = min(low[u], low[v])
                if low[v] == index[v]:
                    comp = []
                    while True:
                        w = stack.pop()
                        onstack.discard(w)
                        comp.append(w)
                        if w == v:
                            break
                    out.append(sorted(comp))
    return out


class LayoutTest(unittest.TestCase):
    def setUp(self):
        self.graph = include_graph()

    def test_graph_is_read(self):
        # A guard that read nothing would pass for ever.
        self.assertIn("src/shim/track", self.graph)
        self.assertIn("src/shim/thread", self.graph["src/shim/track"])

    def test_no_include_circle(self):
        circles = [c for c in components(self.graph) if len(c) > 1]
        self.assertEqual(circles, [], "include circles (each a strongly "
                         "connected component of modules): " +
                         "; ".join(" ".join(c) for c in circles))

    def test_shared_code_stays_below(self):
        bad = []
        for a, deps in sorted(self.graph.items()):
            for b in sorted(deps):
                if a.startswith(BELOW) and not b.startswith(BELOW):
                    bad.append(a + " -> " + b)
                elif (a.startswith(("src/cli/", "tui/")) and
                      b.startswith("src/shim/")):
                    bad.append(a + " -> " + b)
        self.assertEqual(bad, [], "includes that reach up a layer")


if __name__ == "__main__":
    unittest.main()
