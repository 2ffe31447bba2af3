"""What epoll_wait and epoll_pwait return, and errno after them, as the
program sees them: through ctypes (libc's symbols, which the shim's
dlsym hook hands out as its own) and through select.epoll.  Prints one
line per check; the test runs it bare and under gilwatch run and wants
the same lines."""

import ctypes
import errno
import os
import select

libc = ctypes.CDLL("libc.so.6", use_errno=True)
ev = ctypes.create_string_buffer(64)

ep = select.epoll()
r, w = os.pipe()
ep.register(r, select.EPOLLIN)
os.write(w, b"x")

for name in ("epoll_wait", "epoll_pwait"):
    fn = getattr(libc, name)
    extra = (None,) if name == "epoll_pwait" else ()
    # Success leaves errno as it was.
    ctypes.set_errno(1234)
    rc = fn(ep.fileno(), ev, 4, 0, *extra)
    print(name, "ready", rc, ctypes.get_errno())
    # A bad descriptor: -1 and EBADF.
    ctypes.set_errno(0)
    rc = fn(-1, ev, 4, 0, *extra)
    print(name, "bad fd", rc, errno.errorcode.get(ctypes.get_errno()))
    # A timeout with nothing ready: 0.
    ep2 = select.epoll()
    ctypes.set_errno(77)
    rc = fn(ep2.fileno(), ev, 4, 1, *extra)
    print(name, "timeout", rc, ctypes.get_errno())
    ep2.close()
print("select.epoll", [e for _, e in ep.poll(0)])
