/*
 * asyncio's loops and tasks as a snapshot keeps them (gw_loop, gw_task
 * of snapshot.h), built from what py-asyncio.h reads, into the
 * snapshot's arena: the one conversion for a dump taken inside (the
 * shim), from outside and from a core.
 */
#ifndef GW_ASYNCIO_SNAP_H
#define GW_ASYNCIO_SNAP_H

#include <stddef.h>
#include <stdint.h>

#include "gilwatch/snapshot.h"
#include "py-asyncio.h"

struct arena;

/*
 * The loop thread state ts runs and all its tasks (3.14+, a->ok), with
 * its running task marked: NULL when it runs none or the thread state
 * is unreadable.  threads[0..nthreads-1] are the process's Python
 * threads, for the workers of executor futures.  No cap on tasks: a
 * list that had to be cut, or memory that ran out, says so in the
 * loop's note.
 */
struct gw_loop	*asyncio_loop_read(struct arena *, const struct py_runtime *,
		    const struct py_asyncio *, uintptr_t ts,
		    const struct py_athread *threads, size_t nthreads);

/*
 * Before 3.14 (minor, of CPython 3): the loop a thread runs as its
 * Python frames f[0..n-1] (innermost first) show it, with the coroutine
 * that runs as its one task (no name, state unknown), and a note saying
 * why no more is shown: NULL when the frames show no loop, and from
 * 3.14 on, where asyncio_loop_read reads the loop whole.
 */
struct gw_loop	*asyncio_loop_frames(struct arena *, int minor,
		    const struct py_frame *f, int n);

#endif /* GW_ASYNCIO_SNAP_H */
