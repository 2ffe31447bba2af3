"""What the scene programs (attach_scenes.py, freethreaded.py) share:
each thread notes its ids as it starts, the program records what
sys._current_frames() shows and the MARK lines of its source.  (Their
thread functions stay in each program: the frames name its file.)
"""

import sys
import threading

info = {}


def note():
    """Record the calling thread's ident and native id by its name."""
    t = threading.current_thread()
    info[t.name] = {"ident": threading.get_ident(),
        "native": threading.get_native_id()}


def view():
    """sys._current_frames() as name -> [frame], innermost first, for
    the threads noted."""
    frames = sys._current_frames()
    out = {}
    for name, who in list(info.items()):
        f, fl = frames.get(who["ident"]), []
        while f is not None:
            co = f.f_code
            fl.append({"function": getattr(co, "co_qualname", co.co_name),
                "file": co.co_filename, "line": f.f_lineno})
            f = f.f_back
        out[name] = fl
    return out


def marks(path):
    """"# MARK:name" comments of the source at path: name -> line."""
    out = {}
    with open(path, encoding="utf-8") as f:
        for i, line in enumerate(f, 1):
            if "# MARK:" in line:
                out[line.split("# MARK:")[1].strip()] = i
    return out
