"""async_await_cycle: two tasks that await each other, for good.

    python async_await_cycle.py

Task "cycle-a" awaits task "cycle-b" (the line marked a_awaits_b) and
"cycle-b" awaits "cycle-a" (b_awaits_a): neither can finish, and the
loop goes on running, idle.  asyncio does not notice (it refuses only a
task awaiting itself).  The main task, "main", then waits: for
GW_HOLD_FD to be closed when it is set (a reader on the loop, which
stays free), else GW_DEADLOCK_WAIT seconds (default 60); then it says
so and exits with status 3.

"ready\n" goes to GW_READY_FD once both tasks are suspended on each
other.  On stderr: "gw-sample: pid P", "gw-sample: thread main TID".
"""

import asyncio
import os
import sys
import threading

from gwsample import say, ready

tasks = {}


async def a_body():
    await tasks["b"]  # MARK:a_awaits_b


async def b_body():
    await tasks["a"]  # MARK:b_awaits_a


async def hold():
    fd = os.environ.get("GW_HOLD_FD")
    if not fd:
        await asyncio.sleep(float(os.environ.get("GW_DEADLOCK_WAIT", "60")))
        return
    loop = asyncio.get_running_loop()
    closed = loop.create_future()

    def readable():
        if not os.read(int(fd), 4096) and not closed.done():
            closed.set_result(None)
    loop.add_reader(int(fd), readable)
    await closed  # MARK:main_holds
    loop.remove_reader(int(fd))


async def main():
    asyncio.current_task().set_name("main")
    tasks["a"] = asyncio.create_task(a_body(), name="cycle-a")
    tasks["b"] = asyncio.create_task(b_body(), name="cycle-b")
    # Both run to their await before main runs again.
    await asyncio.sleep(0)
    ready()
    await hold()
    print("cycle-a and cycle-b await each other (as designed); giving up",
        file=sys.stderr, flush=True)
    os._exit(3)


if __name__ == "__main__":
    say("pid %d" % os.getpid())
    say("thread main %d" % threading.get_native_id())
    asyncio.run(main())
