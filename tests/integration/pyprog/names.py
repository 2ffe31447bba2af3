"""names: threads with threading's names for a dump to show.

    python names.py

Starts, besides MainThread:
  - "worker" (a plain threading.Thread);
  - one ThreadPoolExecutor worker ("ThreadPoolExecutor-0_0", longer
    than the 15 characters the kernel keeps of a thread name);
  - a thread started as "before-rename" and renamed "renamed" (t.name)
    once it runs;
  - a thread started by _thread.start_new_thread, which threading only
    knows once it asks for current_thread(): "Dummy-N".
Each says "gw-sample: thread NAME TID" on stderr (NAME as threading
names it once everything started, "main" for the main thread), then
"ready\n" goes to GW_READY_FD, and every thread waits until GW_HOLD_FD
is closed.  Runs on CPython 3.8 and later.
"""

import _thread
import concurrent.futures
import os
import threading


def say(line):
    os.write(2, ("gw-sample: %s\n" % line).encode())


def main():
    say("pid %d" % os.getpid())
    say("thread main %d" % threading.get_native_id())
    stop = threading.Event()
    tids = {}
    started = threading.Semaphore(0)

    def park():
        tids[threading.current_thread()] = threading.get_native_id()
        started.release()
        stop.wait()

    def dummy():
        threading.current_thread()      # registers a _DummyThread
        park()

    worker = threading.Thread(target=park, name="worker")
    later = threading.Thread(target=park, name="before-rename")
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=1)
    worker.start()
    later.start()
    job = pool.submit(park)
    _thread.start_new_thread(dummy, ())
    for _ in range(4):
        started.acquire()
    later.name = "renamed"
    for t, tid in tids.items():
        say("thread %s %d" % (t.name, tid))
    fd = os.environ.get("GW_READY_FD")
    if fd:
        os.write(int(fd), b"ready\n")
    hold = os.environ.get("GW_HOLD_FD")
    if hold:
        while os.read(int(hold), 4096):
            pass
    stop.set()
    job.result()
    pool.shutdown()
    worker.join()
    later.join()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
