/*
 * --trace=FILE (GILWATCH_TRACE): a timeline of the process, written at
 * exit as a Chrome trace-event file (the JSON Object Format: an object
 * with a "traceEvents" array), which Perfetto and chrome://tracing
 * open.  Per thread: its GIL holds and GIL waits, and its lock waits
 * of at least --trace-lock-wait=MS (GILWATCH_TRACE_LOCK_WAIT, default
 * 1 ms, config.h), as complete events ("ph":"X", ts and dur in microseconds);
 * real-time budget misses, priority and lock-order inversions as
 * instant events on the thread, deadlocks and stalls as instant events on the process
 * ("ph":"i"); threads' names as metadata ("ph":"M", "thread_name").
 *
 * Hooks record into one array reserved at start-up, each event taking
 * its slot with one atomic add: no lock, no allocation, no system call
 * beyond the clock read a lock wait's end costs.  Once those are taken
 * (GILWATCH_TRACE_EVENTS, by default 1M of 40 bytes, reserved and
 * touched as used) the rest are counted, not kept, and the file and
 * one message say how many.  The names of threads that end are kept (TRACE_NAMES)
 * for the metadata.  Without --trace every hook pays one test of
 * trace_on.
 */
#ifndef GW_TRACE_H
#define GW_TRACE_H

#include <stdint.h>
#include <sys/types.h>

#define TRACE_NAMES	8192		/* threads that ended, named */

enum trace_kind {
	TRACE_NONE,		/* a slot not written yet */
	TRACE_GIL_HOLD,		/* X: other: 1 when others waited, site:
				   the line they waited behind
				   (gil-blame.h), -1 */
	TRACE_GIL_WAIT,		/* X: other: the main holder, site: its
				   line */
	TRACE_LOCK_WAIT,	/* X: other: the last holder, site: kind */
	TRACE_RT_MISS,		/* i: other: holder, site: 1 for the GIL,
				   dur: the wait */
	TRACE_INVERSION,	/* i: site: the cycle's length */
	TRACE_PRIORITY,		/* i: a priority inversion, other: the
				   holder, dur: the wait */
	TRACE_DEADLOCK,		/* i: site: threads in the cycle */
	TRACE_STALL,		/* i: site: seconds */
};

struct thread;

/* Is a trace being kept? */
extern int	trace_on;

/*
 * Keep one, to be written to path (%p: the pid) at exit; "" for none.
 * Lock waits shorter than lock_wait_ms are left out; events past the
 * first max are counted only.
 */
void	trace_init(const char *path, double lock_wait_ms, unsigned max);

/* t waited for the GIL or held it from..to (now_ns), see trace_kind. */
void	trace_gil(struct thread *t, enum trace_kind kind, uint64_t from,
	    uint64_t to, pid_t other, int site);

/* t's lock wait ends now (before its state goes back to running). */
void	trace_lock_wait(struct thread *t);

/* Something happened now, on thread tid (0: the process), see
 * trace_kind; dur: what it measured (ns) or 0. */
void	trace_mark(enum trace_kind kind, pid_t tid, uint64_t dur,
	    pid_t other, int site);

/* t is ending: keep its name for the file. */
void	trace_thread_exit(struct thread *t);

/* Write the file (at exit, or before an exit --on-deadlock asks for);
 * once.  Says in one line when it cannot, or what it left out. */
void	trace_write(void);

/* Fork child: a new process, a new trace. */
void	trace_after_fork_child(void);

#endif /* GW_TRACE_H */
