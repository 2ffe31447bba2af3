"""gil_io: I/O-bound threads that release the GIL while they wait.

    python gil_io.py [READERS [TICKS]]

READERS threads named reader-0, reader-1, ... (default 4) each wait in
select() on their own pipe, read what arrives and echo it back on a
second pipe.  A ticker thread writes one message to every reader each
5 ms for TICKS ticks (default 200, about one second), waiting for the
echoes in between, and the main thread joins them.  Every thread spends
nearly all its time blocked in select() or read(), which CPython runs
without the GIL: under `gilwatch run` the GIL load stays low and hardly
anyone waits for it.

With GW_HOLD_FD set the ticker goes on until that pipe is closed
instead of counting to TICKS (the closing ends its select() at once);
"ready\n" goes to GW_READY_FD once every reader has echoed a message.

On stderr it names itself and its threads ("gw-sample: pid P",
"gw-sample: thread NAME TID"); on stdout, the messages each reader
echoed.  Runs on CPython 3.8 and later.
"""

import os
import select
import sys
import threading

from gwsample import say, ready

PERIOD = 0.005      # seconds between ticks: the pace of the "I/O"


def reader(name, rfd, wfd, counts):
    say("thread %s %d" % (name, threading.get_native_id()))
    n = 0
    while True:
        select.select([rfd], [], [])
        data = os.read(rfd, 4096)
        if not data:        # the ticker closed its end: done
            break
        n += data.count(b"\n")
        os.write(wfd, data)
    counts[name] = n


def ticker(pipes, ticks, hold_fd):
    say("thread ticker %d" % threading.get_native_id())
    back = [b for _, b in pipes]
    tick = 0
    while ticks is None or tick < ticks:
        for w, _ in pipes:
            os.write(w, b"tick %d\n" % tick)
        for b in back:      # every echo, so no pipe ever fills up
            got = b""
            while not got.endswith(b"\n"):
                got += os.read(b, 4096)
        if tick == 0:
            ready()
        tick += 1
        # The pause between ticks; with GW_HOLD_FD, closing it ends the
        # run (select says readable at EOF).
        r, _, _ = select.select([hold_fd] if hold_fd is not None else [],
            [], [], PERIOD)
        if r:
            break
    for w, _ in pipes:
        os.close(w)
    return tick


def main():
    nreaders = int(sys.argv[1]) if len(sys.argv) > 1 else 4
    ticks = int(sys.argv[2]) if len(sys.argv) > 2 else 200
    hold_fd = os.environ.get("GW_HOLD_FD")
    hold_fd = int(hold_fd) if hold_fd else None
    say("pid %d" % os.getpid())
    say("thread main %d" % threading.get_native_id())
    counts, pipes, threads = {}, [], []
    for i in range(nreaders):
        to_r, to_w = os.pipe()      # ticker -> reader
        back_r, back_w = os.pipe()  # reader -> ticker
        pipes.append((to_w, back_r))
        name = "reader-%d" % i
        threads.append(threading.Thread(target=reader, name=name,
            args=(name, to_r, back_w, counts)))
    for t in threads:
        t.start()
    done = []
    tk = threading.Thread(target=lambda: done.append(ticker(pipes,
        None if hold_fd is not None else ticks, hold_fd)), name="ticker")
    tk.start()
    tk.join()
    for t in threads:
        t.join()
    for name in sorted(counts):
        print("%s: %d messages" % (name, counts[name]))
    return 0 if all(c == done[0] for c in counts.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
