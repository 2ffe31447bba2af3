"""async_threadsafe_cycle: a deadlock through a task that a thread
waits for and whose loop's thread waits for that thread.

    python async_threadsafe_cycle.py

The main thread runs an event loop.  Thread "gw-worker" takes
threading.Lock L (the line marked worker_holds) and, holding it, hands
the coroutine fetch() to the loop with asyncio.run_coroutine_threadsafe
and waits for its result (worker_waits): it blocks in
concurrent.futures.Future.result until the task running fetch() ends.
fetch() names its task "fetch", tells task "blocker" it has started and
yields once (fetch_yields), ready to go on.  "blocker" runs first and,
on the loop's thread, takes L in a `with` block (loop_wants_l): L is
the worker's, so the loop's thread blocks there and its loop runs no
task any more, "fetch" included.  Nothing can move:

    gw-worker  waits for the result of task "fetch"
    fetch      cannot run: its loop's thread MainThread is blocked
    MainThread waits for L, held by gw-worker

"ready\n" goes to GW_READY_FD from "blocker" just before it takes L.
Without gilwatch the program would hang for good, so a watchdog thread
ends it after GW_DEADLOCK_WAIT seconds (default 60) with status 3, or
when GW_HOLD_FD is closed when that is set.

On stderr: "gw-sample: pid P", "gw-sample: thread NAME TID" (main and
gw-worker) and "gw-sample: lock L 0xADDR" (as gwsample.lock_address).
"""

import asyncio
import os
import threading

from gwsample import say, ready, lock_address, watchdog

L = threading.Lock()
started = None


async def fetch():
    asyncio.current_task().set_name("fetch")
    started.set()
    await asyncio.sleep(0)  # MARK:fetch_yields
    return 1


def worker(loop):
    say("thread %s %d" % (threading.current_thread().name,
        threading.get_native_id()))
    with L:  # MARK:worker_holds
        fut = asyncio.run_coroutine_threadsafe(fetch(), loop)
        fut.result()  # MARK:worker_waits


async def blocker():
    await started.wait()
    ready()
    with L:  # MARK:loop_wants_l
        pass


async def main():
    global started
    asyncio.current_task().set_name("main")
    started = asyncio.Event()
    b = asyncio.create_task(blocker(), name="blocker")
    threading.Thread(target=worker, args=(asyncio.get_running_loop(),),
        name="gw-worker", daemon=True).start()
    await b  # MARK:main_awaits


if __name__ == "__main__":
    say("pid %d" % os.getpid())
    say("thread main %d" % threading.get_native_id())
    say("lock L %#x" % lock_address(L))
    watchdog("gw-worker, fetch and the loop's thread")
    asyncio.run(main())
