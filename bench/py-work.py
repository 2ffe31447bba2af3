"""Workloads for bench/py-overhead: cpu4, queue, single, locks or start."""
import queue
import sys
import threading


def spin(n):
    x = 0
    for i in range(n):
        x += i
    return x


def cpu4():
    threads = [threading.Thread(target=spin, args=(3_000_000,))
               for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def queue_1m():
    q = queue.Queue(maxsize=1000)
    n = 1_000_000

    def producer():
        for i in range(n):
            q.put(i)
        q.put(None)

    def consumer():
        while q.get() is not None:
            pass

    threads = [threading.Thread(target=producer),
               threading.Thread(target=consumer)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def single():
    spin(20_000_000)


def locks():
    """3M uncontended acquire+release pairs of one threading.Lock: the
    shim's Python lock path with little else around it (a queue item
    takes two such pairs among much other work)."""
    lock = threading.Lock()
    acquire, release = lock.acquire, lock.release
    for _ in range(3_000_000):
        acquire()
        release()


def start():
    """Nothing: the interpreter's start and exit with this script's
    imports, the cost paid once a process."""


{"cpu4": cpu4, "queue": queue_1m, "single": single,
 "locks": locks, "start": start}[sys.argv[1]]()
