"""py_lost_item: a hang with no deadlock in it.

    python py_lost_item.py

Thread "producer" feeds a queue.Queue and would end with a None that
tells the consumer to stop, but it fails on a bad item first, so the
None never comes.  Thread "consumer" waits in Queue.get() for good, and
the main thread waits in Thread.join() for the consumer.  No thread
holds a lock another one waits for, so there is no deadlock to report;
`gilwatch run --stall=1` reports the stall, with each thread's Python
frames (the lines marked below).  Without gilwatch it hangs for good.

On stderr it names itself and its threads ("gw-sample: pid P",
"gw-sample: thread NAME TID").  Runs on CPython 3.8 and later.
"""

import os
import queue
import threading

from gwsample import say

items = queue.Queue()


def produce():
    say("thread producer %d" % threading.get_native_id())
    for n in (3, 2, 1, 0):
        items.put(6 // n)       # 0 fails: the None below is never sent
    items.put(None)


def consume():
    say("thread consumer %d" % threading.get_native_id())
    while items.get() is not None:  # MARK:get
        pass


if __name__ == "__main__":
    say("pid %d" % os.getpid())
    say("thread main %d" % threading.get_native_id())
    consumer = threading.Thread(target=consume, name="consumer")
    producer = threading.Thread(target=produce, name="producer")
    consumer.start()
    producer.start()
    producer.join()
    consumer.join()  # MARK:join
