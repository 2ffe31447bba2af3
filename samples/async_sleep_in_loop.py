"""async_sleep_in_loop: a coroutine that blocks its event loop.

    python async_sleep_in_loop.py

The main thread runs an event loop (asyncio.run) with four tasks:
"starved-0", "starved-1" and "starved-2" each wake every 10 ms from
asyncio.sleep (the line marked starved), and "blocker" calls
time.sleep, a blocking call, on the loop's own thread (the line marked
blocking_sleep): while it sleeps no other task runs.  The main task
is named "main" and awaits blocker (the line marked main_awaits).

"ready\n" goes to GW_READY_FD from blocker, just before time.sleep,
once every starved task has reached its asyncio.sleep.  blocker sleeps
GW_SLEEP seconds (default 60), then the program ends with status 0.

On stderr: "gw-sample: pid P" and "gw-sample: thread main TID".
"""

import asyncio
import os
import threading
import time

from gwsample import say, ready

NSTARVED = 3


async def starved():
    while True:
        await asyncio.sleep(0.01)  # MARK:starved


async def blocker():
    # Every starved task has run up to its first sleep by now: they were
    # created before this one and the loop runs ready tasks in order.
    ready()
    time.sleep(float(os.environ.get("GW_SLEEP", "60")))  # MARK:blocking_sleep


async def main():
    asyncio.current_task().set_name("main")
    tasks = [asyncio.create_task(starved(), name="starved-%d" % i)
        for i in range(NSTARVED)]
    await asyncio.create_task(blocker(), name="blocker")  # MARK:main_awaits
    for t in tasks:
        t.cancel()


if __name__ == "__main__":
    say("pid %d" % os.getpid())
    say("thread main %d" % threading.get_native_id())
    asyncio.run(main())
