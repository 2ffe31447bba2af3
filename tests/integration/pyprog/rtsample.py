"""Shared by the real-time samples (rt_lock, rt_names, gil_blame): their
lines to the test, the turn to SCHED_FIFO, and the run of their
threads."""

import os


def say(line):
    os.write(2, ("gw-sample: %s\n" % line).encode())


def go_fifo(priority):
    """Make the calling thread SCHED_FIFO at priority, saying "fifo ok",
    or "fifo refused ERRNO" and going on as a normal thread."""
    try:
        os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(priority))
        say("fifo ok")
    except OSError as e:
        say("fifo refused %d" % e.errno)


def run_threads(threads):
    """Start them all, then wait for them all."""
    for t in threads:
        t.start()
    for t in threads:
        t.join()
