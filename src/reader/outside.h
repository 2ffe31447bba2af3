/*
 * A snapshot of a process that was not started under gilwatch, read
 * from outside, or of a core file: the same struct gw_snapshot the shim
 * builds inside, so the same writers (src/format/) print it.
 *
 * Threads and their system calls come from /proc, lock words from the
 * process's memory (process_vm_readv): nothing is stopped for those.
 * Native stacks stop one thread at a time while it is unwound
 * (unwind.h), unless OUTSIDE_NO_STACKS.  The wait-for graph over the
 * waits whose holder is known gives the deadlocks.  Needs the ptrace
 * permissions on the process (the caller checks and explains them).
 *
 * A core file is read the same way, its threads and system calls from
 * its notes and its stacks unwound from its memory (core.h): nothing
 * is stopped, and there are no kernel states or thread names but the
 * main thread's.
 */
#ifndef GW_OUTSIDE_H
#define GW_OUTSIDE_H

#include <stddef.h>
#include <sys/types.h>

#include "glibc.h"
#include "maps.h"
#include "py.h"
#include "task.h"
#include "unwind.h"

#define OUTSIDE_NO_STACKS	0x1	/* stop nothing: no native frames */

struct arena;
struct core;
struct gw_frame;
struct gw_snapshot;

/*
 * Read pid.  NULL with why filled when it cannot be read at all (no
 * such process, no permission, out of memory); what cannot be read in
 * part is said in the snapshot's notes.
 */
struct gw_snapshot	*outside_snapshot(pid_t pid, int flags, char *why,
			    size_t len);
/*
 * The same, with pid's mappings already read (maps_read_pid) by a
 * caller that looked at them first: m is freed.  A process of many
 * threads has long maps, costly to read twice.
 */
struct gw_snapshot	*outside_snapshot_maps(pid_t pid, struct maps *m,
			    int flags, char *why, size_t len);
/*
 * Read the core c, opened from path (core_open): the memory source while
 * it is read (mem_source_core), this process's again after; the
 * snapshot holds copies of all it needs.  NULL with why filled when it
 * cannot be read at all.
 */
struct gw_snapshot	*outside_core_snapshot(struct core *c,
			    const char *path, int flags, char *why,
			    size_t len);
void			 outside_free(struct gw_snapshot *);

/*
 * What is known of one thread while the snapshot is assembled, for the
 * CPython step below to add to.
 */
struct outside_thread {
	struct task	 task;
	struct unwind_stack *stack;	/* NULL without stacks (half a
					   kilobyte a thread) */
	const char	*stack_note;	/* why there is no stack, or NULL */
	struct glibc_wait wait;		/* kind -1: none; the CPython step
					   may put a GIL or Python lock
					   wait in its place */
	/* Filled by py_outside_fill, when it knows them: */
	char		 py_name[64];	/* threading's name, or "" */
	int		 gil;		/* enum gw_gil_state */
	int		 py_state;	/* enum gw_py_state (free-threaded) */
	struct py_cs	*cs;		/* its critical sections (in the
					   snapshot's arena), free-threaded */
	int		 ncs;
	int		 cs_more;	/* the chain went on */
	struct gw_frame	*py;		/* Python frames, innermost first,
					   as reports show them (in the
					   snapshot's arena) */
	unsigned char	*py_call_end;	/* frames_call_ends of them */
	int		 npy;
	struct py_wait	 pw;		/* a Condition or join wait, or
					   kind PY_WAIT_NONE */
	int		 owner_holds_nothing; /* the wait's owner is a thread to
					   end, not the holder of the lock
					   waited on (a 3.13+ join) */
	struct gw_loop	*loop;		/* the asyncio loop it runs (in the
					   snapshot's arena), or NULL */
};

struct outside {
	struct arena	*arena;		/* the snapshot's: what is kept of
					   the threads goes there */
	pid_t		 pid;
	const struct maps *maps;	/* its mapped files and executable */
	struct outside_thread *threads;	/* sorted by tid */
	size_t		 nthreads;
	struct unwind_stack *stacks;	/* theirs, when unwound */
	char		 py_note[256];	/* a note for the header, or "" */
	char		 py_version[24];	/* the CPython read, or "" */
	char		 py_pause[512];	/* a stop-the-world pause, or "" */
};

/*
 * The CPython step (outside-py.c): find an interpreter in o->maps and
 * fill what it knows of each thread, after the glibc waits are known.
 * Returns 0 (nothing to add is not an error); any limit is said in
 * o->py_note.
 */
int	py_outside_fill(struct outside *o);

/* Does it run CPython (a libpython, or an executable named python)? */
int	py_outside_present(const struct maps *m);

#endif /* GW_OUTSIDE_H */
