"""Event loops for the --loop-stall tests (test_asyncio_stall.py).

(time.sleep in a coroutine is samples/async_sleep_in_loop.py.)

loop_stall.py lock: the task "locker" takes a threading.Lock that the
thread "holder" keeps (MARK:lock) until the test closes GW_HOLD_FD: the
loop stalls on a lock, and its owner is known.

loop_stall.py idle: the loop waits in its selector (an asyncio.sleep of
1.5 s, past the first look of the shim's helper) and ends:
no turn runs long, nothing to report.

Each says "ready" (GW_READY_FD) when the loop is about to stall (or, for
idle, to wait); the stall itself is what the test waits for.
"""

import asyncio
import os
import sys
import threading

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
    "..", "..", "..", "samples"))
import gwsample  # noqa: E402


def hold_fd():
    fd = os.environ.get("GW_HOLD_FD")
    return int(fd) if fd else None


async def ticker():
    while True:
        await asyncio.sleep(0.01)


async def locker(lock):
    gwsample.ready()
    with lock:  # MARK:lock
        pass


def holder(lock, taken):
    with lock:
        taken.set()
        fd = hold_fd()
        if fd is not None:
            os.read(fd, 1)


async def main(scene):
    gwsample.say("pid %d" % os.getpid())
    gwsample.say("thread MainThread %d" % threading.get_native_id())
    tick = asyncio.ensure_future(ticker())
    await asyncio.sleep(0)
    if scene == "lock":
        lock, taken = threading.Lock(), threading.Event()
        t = threading.Thread(target=holder, args=(lock, taken),
            name="holder")
        t.start()
        taken.wait()
        gwsample.say("thread holder %d" % t.native_id)
        await asyncio.ensure_future(locker(lock))
        t.join()
    else:
        gwsample.ready()
        await asyncio.sleep(1.5)
    tick.cancel()


asyncio.run(main(sys.argv[1]))
