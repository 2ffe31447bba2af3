"""duty: one thread that holds the GIL for a known share of the time.

    python duty.py OUT BUSY_MS IDLE_MS CYCLES

Thread "duty" runs CYCLES cycles of a pure-Python busy loop of BUSY_MS
(it holds the GIL throughout: nothing in it releases it, and no other
thread wants it) followed by time.sleep(IDLE_MS) (without the GIL).  The
main thread only starts it and joins it, waiting without the GIL.

The program measures itself with time.perf_counter() (CLOCK_MONOTONIC):
the time actually spent in the busy parts, and the thread's window from
the start of its first busy part to the end of its last sleep, and
writes them to OUT as JSON with the thread's native id:
{"tid", "busy", "window", "t0", "first", "end", "cycles"}, the times in
seconds ("t0" is taken at import, before anything else).  On stderr:
"gw-sample: pid P".
"""

import time

T0 = time.perf_counter()

import json         # noqa: E402  (after T0 on purpose)
import os           # noqa: E402
import sys          # noqa: E402
import threading    # noqa: E402


def duty(busy_s, idle_s, cycles, rec):
    rec["tid"] = threading.get_native_id()
    clock = time.perf_counter
    busy = 0.0
    first = None
    n = 0
    for _ in range(cycles):
        start = clock()
        if first is None:
            first = start
        end = start + busy_s
        now = start
        while now < end:        # holds the GIL all along
            n += 1
            now = clock()
        busy += now - start
        time.sleep(idle_s)      # releases it
    rec.update(busy=busy, first=first, end=clock(), spins=n)


def main():
    out, busy_ms, idle_ms, cycles = sys.argv[1], float(sys.argv[2]), \
        float(sys.argv[3]), int(sys.argv[4])
    os.write(2, b"gw-sample: pid %d\n" % os.getpid())
    rec = {"t0": T0, "cycles": cycles}
    t = threading.Thread(target=duty, name="duty",
        args=(busy_ms / 1000, idle_ms / 1000, cycles, rec))
    t.start()
    t.join()
    rec["window"] = rec["end"] - rec["first"]
    with open(out, "w") as f:
        json.dump(rec, f)
    return 0


if __name__ == "__main__":
    sys.exit(main())
