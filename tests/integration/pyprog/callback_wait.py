"""callback_wait: the main thread blocks inside a sort's key function,
Python called back from C, for the merged stack's order.

    python callback_wait.py

main() sorts a one-item list with key=key; key says "ready" on
GW_READY_FD and reads GW_HOLD_FD until it closes (the line marked
key_waits).  A dump in between shows, innermost first: the read, key's
frame, the sort's C frames (list_sort, builtin_sorted), then main's and
the module's frames.  On stderr: "gw-sample: pid P".
"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
    "..", "..", "..", "samples"))
from gwsample import ready, say  # noqa: E402


def key(x):
    ready()
    while os.read(int(os.environ["GW_HOLD_FD"]), 64):  # MARK:key_waits
        pass
    return x


def main():
    say("pid %d" % os.getpid())
    return sorted([1], key=key)  # MARK:main_sorts


if __name__ == "__main__":
    main()
