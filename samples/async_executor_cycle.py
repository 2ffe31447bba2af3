"""async_executor_cycle: a deadlock across a task, a worker thread and
the loop's thread.

    python async_executor_cycle.py

The main thread runs an event loop.  Task "holder" takes threading.Lock
L on the loop's thread in a `with` block (the line marked
holder_takes) and keeps it.  Task "fetcher" then awaits loop.run_in_executor (the
line marked fetcher_awaits): its function runs on the executor's one
worker thread, "gw-worker_0", and blocks taking L (worker_wants_l),
which the loop's thread holds.  Then "holder" runs again and, still on
the loop's thread and still holding L, waits synchronously for the
executor to finish its work (pool.shutdown(wait=True), a join of the
worker: the line marked holder_joins).  Nothing can move:

    fetcher  awaits the executor future  gw-worker_0 completes
    gw-worker_0  waits for L,  held by the loop's thread MainThread
    MainThread  joins gw-worker_0, and while it does its loop runs no
             task, fetcher included

"ready\n" goes to GW_READY_FD from holder just before it joins (the
worker is then on its way into L's acquire: a test dumps until it is
in).  Without gilwatch the program would hang for good, so a watchdog
thread ends it after GW_DEADLOCK_WAIT seconds (default 60) with status
3, or when GW_HOLD_FD is closed when that is set.

On stderr: "gw-sample: pid P", "gw-sample: thread NAME TID" (main and
gw-worker_0) and "gw-sample: lock L 0xADDR" (as gwsample.lock_address).
"""

import asyncio
import concurrent.futures
import os
import threading

from gwsample import say, ready, lock_address, watchdog

L = threading.Lock()
pool = concurrent.futures.ThreadPoolExecutor(max_workers=1,
    thread_name_prefix="gw-worker")
submitted = None


def work():
    say("thread %s %d" % (threading.current_thread().name,
        threading.get_native_id()))
    with L:  # MARK:worker_wants_l
        return 1


async def fetcher():
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(pool, work)  # MARK:fetcher_awaits


async def holder():
    with L:  # MARK:holder_takes
        # Let fetcher run up to its await (it was created after this
        # task).
        await submitted.wait()
        ready()
        pool.shutdown(wait=True)  # MARK:holder_joins


async def main():
    global submitted
    asyncio.current_task().set_name("main")
    submitted = asyncio.Event()
    h = asyncio.create_task(holder(), name="holder")
    f = asyncio.create_task(fetcher(), name="fetcher")
    # holder takes L and waits; fetcher submits its work and awaits it.
    await asyncio.sleep(0)
    submitted.set()
    await asyncio.gather(h, f)


if __name__ == "__main__":
    say("pid %d" % os.getpid())
    say("thread main %d" % threading.get_native_id())
    say("lock L %#x" % lock_address(L))
    watchdog("fetcher, gw-worker_0 and the loop's thread")
    asyncio.run(main())
