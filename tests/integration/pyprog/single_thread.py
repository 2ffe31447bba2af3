"""A Python program with one thread, to show that the shim adds none of
its own (its helper starts with the program's second thread).

    single_thread.py sleep SECONDS    says ready, sleeps in time.sleep
    single_thread.py asyncio SECONDS  says ready from an asyncio loop,
                                      which then sits idle in epoll_wait
                                      for SECONDS
    single_thread.py hold             says ready, parks reading GW_HOLD_FD

The first two print "slept N ms": a dump read from outside must not
cut the wait short.  The wait is in parked_here(), which a dump names.
"""

import asyncio
import os
import sys
import time


def ready():
    fd = os.environ.get("GW_READY_FD")
    if fd is not None:
        os.write(int(fd), b"ready\n")


def parked_here(how, seconds):
    t0 = time.monotonic()
    if how == "sleep":
        ready()
        time.sleep(seconds)
    elif how == "asyncio":
        async def idle():
            ready()
            await asyncio.sleep(seconds)
        asyncio.run(idle())
    else:
        ready()
        fd = int(os.environ["GW_HOLD_FD"])
        while os.read(fd, 64):
            pass
    print("slept %d ms" % ((time.monotonic() - t0) * 1000), flush=True)


parked_here(sys.argv[1], float(sys.argv[2]) if len(sys.argv) > 2 else 0)
