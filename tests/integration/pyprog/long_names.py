"""long_names: a thread idles in a function with a long name.

    python long_names.py

Thread "idler" runs the function named LONG below, which sleeps 10 ms
at a time (MARK:idle) until the main thread tells it to stop.  Once the
idler is in that loop the program writes "ready" on GW_READY_FD, then
waits for GW_HOLD_FD to close and ends.  gilwatch top's PYTHON column
must show the whole "LONG (long_names.py:LINE)" when the terminal is
wide enough.

On stderr: "gw-sample: pid P", "gw-sample: thread NAME TID".
"""

import os
import threading
import time

stop = False
idling = threading.Event()


def say(line):
    os.write(2, ("gw-sample: %s\n" % line).encode())


def idle_in_a_function_whose_name_is_far_longer_than_twenty():
    idling.set()
    while not stop:
        time.sleep(0.01)  # MARK:idle


def idler():
    say("thread idler %d" % threading.get_native_id())
    idle_in_a_function_whose_name_is_far_longer_than_twenty()


def main():
    global stop
    say("pid %d" % os.getpid())
    t = threading.Thread(target=idler, name="idler")
    t.start()
    idling.wait()
    os.write(int(os.environ["GW_READY_FD"]), b"ready\n")
    while os.read(int(os.environ["GW_HOLD_FD"]), 64):
        pass
    stop = True
    t.join()


if __name__ == "__main__":
    main()
