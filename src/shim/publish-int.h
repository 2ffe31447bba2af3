/*
 * Inside the publisher (publish*.c): the sections of a frame, filled by
 * the helper thread only, so nothing here locks.  See publish.h for the
 * schedule and include/gilwatch/shm.h for the format.
 */
#ifndef GW_PUBLISH_INT_H
#define GW_PUBLISH_INT_H

#include <stdint.h>

#include "gilwatch/shm.h"
#include "shm-write.h"
#include "thread.h"

struct lockrec;

#define SYMS_SLOTS	8192	/* addresses whose names are kept */
#define SYMS_BUDGET	64	/* new names looked up per publication */
#define SYMS_WATCH_BUDGET 4096	/* in the frame written when a viewer
				   comes, so its first screen has names */
#define NAMES_BUDGET	32	/* thread names read again per publication */
#define NAMES_REFRESH_MS 5000	/* a name not set through a hook is read
				   again from /proc after this long */
#define CYCLE_SEARCHES	256	/* deadlock searches per publication */

/* publish-syms.c: names of code, of data, and of threads. */

/*
 * A new publication starts: reset the budgets.  syms is how many new
 * code and data addresses may be named in this one (0: none).
 */
void	pubsym_round(uint64_t now_ns, int syms);

/* Is ip in the shim itself (a hook's frame)?  Cached. */
int	pubsym_is_self(uintptr_t ip);

/* The frame will mention addr (data: a lock's address, not code). */
void	pubsym_want(uintptr_t addr, int data);

/*
 * The names wanted this round and known, into the room at the writer's
 * cursor; claims them and sets the section in f.
 */
void	pubsym_emit(struct shm_writer *, struct gw_shm_frame *f);

/* The thread's name, from its record or a cache of /proc reads. */
void	pubsym_thread_name(struct thread *, pid_t tid,
	    char name[GW_SHM_NAME_LEN]);

/* Forget everything (fork child). */
void	pubsym_reset(void);

/* publish.c: is a viewer watching (names and Python lock types)? */
int	publish_watched(void);

/* publish-locks.c: the lock, deadlock and lock-order sections. */

/*
 * The GW_SHM_PYLOCK_* of the lock at addr of kind (rec: its record, or
 * NULL to look it up): NONE unless it is a semaphore record (which
 * Python's locks are, PyMutex ones included) and a viewer watches (it
 * reads the lock object's memory).
 */
uint8_t	publish_py_lock(uintptr_t addr, int kind, struct lockrec *rec);

/*
 * Walk the lock table once per frame, before the threads are written:
 * it finds the most waited-for locks, and the semaphores each thread
 * holds (the shim keeps those in the lock's record, not the thread's).
 */
void	publish_locks_scan(struct gw_shm_frame *);

/*
 * The semaphores tid holds but skip (0: none; Condition.wait's private
 * lock, which the wait stands for): the first max into out; returns
 * how many there are.
 */
uint32_t	publish_sems_held(pid_t tid, uintptr_t skip,
		    struct gw_shm_held *out, uint32_t max);

/* The most waited-for locks, found by the scan.  tpn: clock ticks per
 * nanosecond. */
void	publish_locks(struct shm_writer *, struct gw_shm_frame *, double tpn);

/* Deadlock cycles present now. */
void	publish_cycles(struct shm_writer *, struct gw_shm_frame *);

/* Lock-order inversion summaries. */
void	publish_orders(struct shm_writer *, struct gw_shm_frame *);

/* publish-blame.c: the GIL blame sections, after the threads. */
void	publish_blame(struct shm_writer *, struct gw_shm_frame *,
	    uint64_t now);

/*
 * publish-ft.c: a free-threaded CPython, while a viewer watches.
 * publish_cs: t's critical sections into its record r.  publish_ft,
 * once the n threads th are written: a thread parked on the object lock
 * of another's held critical section gets that thread as its owner (the
 * shim sees the park, not the lock taken inside libpython), and f the
 * stop-the-world pause under way.
 */
void	publish_cs(struct thread *t, struct gw_shm_thread *r);
void	publish_ft(struct gw_shm_frame *f, struct gw_shm_thread *th,
	    uint32_t n);

/* Ticks to nanoseconds. */
static inline uint64_t
publish_ns(uint64_t ticks, double tpn)
{
	return tpn > 0 ? (uint64_t)((double)ticks / tpn) : 0;
}

#endif /* GW_PUBLISH_INT_H */
