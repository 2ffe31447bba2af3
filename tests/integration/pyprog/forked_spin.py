"""forked_spin: a Python program whose one thread of its own has ended,
that forks and then computes without a blocking call (so without
dropping the GIL).  Under CPython 3.12+ gilwatch's helper left for the
fork (the fork must count one thread) and starts again only at the
parent's next mutex lock, which does not come: the parent has one
thread until it ends.  The child says "ready" on GW_READY_FD and exits;
the parent spins for at most 120 s.  Before the fork it waits until
/proc counts two threads (main and gilwatch's helper): the kernel may
count the joined thread a little longer, and gilwatch leaves for a fork
only when it and main are all there is."""

import os
import threading
import time

t = threading.Thread(target=lambda: None)
t.start()
t.join()
# The kernel may count the joined thread a little longer: gilwatch
# leaves for a fork only when it and main are all there is.
deadline = time.monotonic() + 30
while (len(os.listdir("/proc/self/task")) > 2 and
        time.monotonic() < deadline):
    time.sleep(0.001)
pid = os.fork()
if pid == 0:
    os.write(int(os.environ["GW_READY_FD"]), b"ready\n")
    os._exit(0)
end = time.monotonic() + 120
n = 0
while time.monotonic() < end:
    n += 1
