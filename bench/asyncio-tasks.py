"""A program with N pending asyncio tasks (default 10,000), for
bench/asyncio-dump: each task awaits an Event that is never set, one
coroutine deep below a named task.  Says "ready" on GW_READY_FD once
every task has reached its await, then waits for GW_HOLD_FD to close
(or forever)."""

import asyncio
import os
import sys


async def waiter(ev):
    await ev.wait()


async def main(n):
    ev = asyncio.Event()
    tasks = [asyncio.create_task(waiter(ev), name="waiter-%d" % i)
        for i in range(n)]
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    fd = os.environ.get("GW_READY_FD")
    if fd:
        os.write(int(fd), b"ready\n")
    loop = asyncio.get_running_loop()
    hold = os.environ.get("GW_HOLD_FD")
    done = loop.create_future()
    if hold:
        loop.add_reader(int(hold), lambda: done.done() or
            done.set_result(None))
    await done
    ev.set()
    await asyncio.gather(*tasks)


asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 10000))
