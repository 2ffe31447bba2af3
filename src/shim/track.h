/*
 * Bookkeeping shared by every hook: what the calling thread now holds,
 * what it waits for.  The hooks decide when to call these; these keep
 * the thread's record and the lock table consistent.
 *
 * All of them take the caller's own record (from thread_self()) and
 * touch no other thread's record, so they never contend with each other
 * across threads.  track_acquired and track_released are the fast path:
 * no allocation (beyond a rare held-array growth), no lock, no syscall.
 */
#ifndef GW_TRACK_H
#define GW_TRACK_H

#include <stdint.h>

#include "gilwatch/snapshot.h"
#include "order.h"
#include "thread.h"
#include "waitfor.h"

/* The long-hold threshold in clock ticks; 0: off (holdwarn_init). */
extern uint64_t hold_warn_ticks;

/*
 * t now holds addr (again, if it already did: the count goes up).  try:
 * it came from a trylock, which could not have waited, so it adds no
 * lock-order edge into addr.  Returns 1 when the acquisition inverted
 * an order seen before, the cycle in *inversion (order_acquired), for
 * the caller to report; else 0.
 */
int	track_acquired(struct thread *t, uintptr_t addr, int kind, int mode,
	    int try, uintptr_t site, struct order_cycle *inversion);

/*
 * t is about to release addr (call it before the real unlock, which
 * then cannot fail for a lock t holds).  A lock t does not hold is
 * ignored.  Returns the hold's length in ticks when it reached
 * hold_warn_ticks, with the hold copied to *was, for the caller to
 * report (holdwarn_report); else 0.
 */
uint64_t	track_releasing(struct thread *t, uintptr_t addr,
		    struct held *was);

/*
 * t is about to block on addr.  Captures t's stack, publishes the wait,
 * and, for a wait that does not time out, looks for a deadlock it closes
 * (deadlock_check).  Returns the length of such a cycle, in *cycle, for
 * the caller to report at once (report_deadlock); else 0.
 */
int	track_wait_begin(struct thread *t, enum gw_thread_state state,
	    uintptr_t addr, int kind, int mode, int timed, uintptr_t site,
	    struct wf_frame **cycle);

/* The wait is over, whatever its outcome. */
void	track_wait_end(struct thread *t);

/* Semaphores: held by the thread that took the count to zero. */
void	track_sem_taken(struct thread *t, uintptr_t addr, int now_zero,
	    uintptr_t site);
void	track_sem_posted(uintptr_t addr);

/*
 * A Python lock (CPython 3.14+: hook-pylock.c) taken by t in call c,
 * held as a semaphore is: by its last taker.  Contended when c parked,
 * timed by c's parks: the GIL wait that followed them is not the lock's.
 */
void	track_py_lock_taken(struct thread *t, const struct py_lock_call *c);

/*
 * t waited for the PyMutex at addr (gil_parked_mutex), wanted at site:
 * its contention statistics.  Its acquisitions and holds happen in
 * atomic instructions inside libpython, unseen: it has no holder.
 */
void	track_pymutex_waited(struct thread *t, uintptr_t addr,
	    uintptr_t site);

/* addr was (re)initialised at site: a new lock starts there. */
void	track_initialised(uintptr_t addr, int kind, uintptr_t site);

/* addr was destroyed: forget its record. */
void	track_destroyed(uintptr_t addr);

#endif /* GW_TRACK_H */
