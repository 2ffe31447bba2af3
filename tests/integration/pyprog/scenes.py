"""What the programs that park threads for a reader from outside share
(attach_scenes.py, outside_locks.py, freethreaded.py): each thread notes
its ids, lines are found by their "# MARK:name" comments, what
sys._current_frames() shows can be recorded, and once every thread is
in place the record goes to a file and "ready" to GW_READY_FD."""

import json
import os
import sys
import threading


def note(info):
    """Record the calling thread's ident and native id under its name."""
    t = threading.current_thread()
    info[t.name] = {"ident": threading.get_ident(),
        "native": threading.get_native_id()}


def view(info):
    """sys._current_frames() as name -> [frame], innermost first, for
    the threads noted in info."""
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
    """"# MARK:name" comments in the file at path: name -> line."""
    out = {}
    with open(path, encoding="utf-8") as f:
        for i, line in enumerate(f, 1):
            if "# MARK:" in line:
                out[line.split("# MARK:")[1].strip()] = i
    return out


def publish(record, doc):
    """Write doc to the file record as one JSON line, say ready, read
    GW_HOLD_FD until it closes and leave with os._exit (threads blocked
    for good never end)."""
    with open(record, "w") as f:
        f.write(json.dumps(doc) + "\n")
    os.write(int(os.environ["GW_READY_FD"]), b"ready\n")
    hold = int(os.environ["GW_HOLD_FD"])
    while os.read(hold, 64):
        pass
    os._exit(0)
