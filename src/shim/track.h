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
#include "clock.h"
#include "lock.h"
#include "order.h"
#include "stats.h"
#include "thread.h"
#include "waitfor.h"

/* The long-hold threshold in clock ticks; 0: off (holdwarn_init). */
extern uint64_t hold_warn_ticks;

/*
 * 1 (the default): an acquisition of a lock its thread took lately
 * reuses that record rather than look it up (track_recent).  0 for the
 * unit test that compares the two ways.
 */
extern int track_cache;

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
 * The common acquisition, done at a lower cost: exclusive or shared,
 * uncontended, of a lock t took lately, while t holds no other
 * (so no order to check, no recursion).  Returns 1 when done, exactly
 * as track_acquired would have; 0, having done nothing, for any other:
 * call track_acquired.
 */
static inline int	track_acquired_fast(struct thread *t, uintptr_t addr,
			    int kind, int mode, int try, uintptr_t site);

/*
 * The common release, done at a lower cost: of the lock t took last of
 * those it holds, held once, its hold untimed and nobody waiting for it.
 * Returns 1 when done, exactly as track_releasing would have; 0, having
 * done nothing, for any other: call track_releasing.
 */
static inline int	track_releasing_fast(struct thread *t, uintptr_t addr);

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
/* t: the poster's record, or NULL (a thread without one). */
void	track_sem_posted(struct thread *t, uintptr_t addr);

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

/*
 * The fast paths' bodies, inline: every lock and unlock a hook sees
 * runs them, and calls would cost more than the work.  track.c builds
 * the full paths from the same pieces (track_taken, track_dropped).
 */

/*
 * When this hold starts, or 0 to leave it untimed (stats.h): after a
 * wait, at the wait's end; else, for the lock's first hold_sample
 * acquisitions, now (a lock taken a few times gets exact figures);
 * after those, 1 time in hold_sample, now.  n: the lock's acquisitions
 * in this mode, this one included (0: the lock has no record).  Sets
 * *sampled (0 before) for a hold timed as 1 of hold_sample.
 */
static inline __attribute__((always_inline)) uint64_t
track_hold_start(struct thread *t, uint64_t n, int waited, uint8_t *sampled)
{
	if (waited)
		return t->wait_end;
	if (n <= hold_exact)
		return clock_ticks();
	if (!stats_hold_sampled(&t->hold_rng, &t->hold_skip))
		return 0;
	*sampled = 1;
	return clock_ticks();
}

/*
 * The locks a thread took lately, in a small table of its own: their
 * records, so that taking one again skips the lock table's probe.  A
 * slot of the lock table stays its address's for good, so a remembered
 * record whose key is addr is addr's, and lock_current says whether
 * lock_get would begin a new generation there (the lock was destroyed,
 * or another kind of lock now lives at that address), in which case the
 * probe runs.  An entry is one word, checked by the record's own key: a
 * signal handler that takes locks in the middle of a hook may change
 * entries, but never make one pair an address with another's record.
 */
static inline _Atomic(struct lockrec *) *
track_recent(struct thread *t, uintptr_t addr)
{
	return &t->recent[((uint64_t)addr * 0x9e3779b97f4a7c15ull) >>
	    (64 - THREAD_RECENT_BITS)];
}

/* The record remembered for addr, or NULL. */
static inline struct lockrec *
track_recalled(struct thread *t, uintptr_t addr)
{
	struct lockrec *rec = atomic_load_explicit(track_recent(t, addr),
	    memory_order_relaxed);

	return rec != NULL && track_cache && atomic_load_explicit(&rec->addr,
	    memory_order_relaxed) == addr ? rec : NULL;
}

/*
 * The part of an acquisition every path shares, once rec is found and
 * the order checked: statistics, the held entry, the owner.  waited:
 * t->waited (0 known at compile time on the fast path); first: t holds
 * nothing (known there too), so the entry is the array's first slot,
 * which every array has.
 */
static inline __attribute__((always_inline)) void
track_taken(struct thread *t, struct lockrec *rec, uintptr_t addr, int kind,
    int mode, int try, uintptr_t site, int waited, int first)
{
	struct held *h;
	uint64_t n = 0, t0 = 0;
	uint8_t sampled = 0;
	int stats = stats_on;

	if (stats && rec != NULL)
		n = stats_acquired(&rec->stat, mode, mode == GW_MODE_SHARED,
		    atomic_load_explicit(&t->tid, memory_order_relaxed),
		    waited, waited ? t->wait_end - t->wait_t0 : 0, site);
	/* Before the entry's bracket: its rare draw (a call) then keeps
	 * fewer values alive across it. */
	if (stats)
		t0 = track_hold_start(t, n, waited, &sampled);
	if (waited)
		t->waited = 0;
	thread_write_begin(t);
	if (first) {
		/* The first slot: every array has it, no test. */
		t->nheld = 1;
		h = t->held;
	} else if ((h = thread_push_held(t)) == NULL)
		goto pushed;
	*h = (struct held){ .addr = addr, .rec = rec, .site = site,
	    .kind = (uint8_t)kind, .mode = (uint8_t)mode, .try = (uint8_t)try,
	    .sampled = sampled, .count = 1, .t0 = t0 };
pushed:
	thread_write_end(t);
	if (rec != NULL && mode == GW_MODE_EXCLUSIVE) {
		atomic_store_explicit(&rec->owner_site, site,
		    memory_order_relaxed);
		atomic_store_explicit(&rec->owner_thread, (uintptr_t)t,
		    memory_order_relaxed);
		atomic_store_explicit(&rec->owner, atomic_load_explicit(&t->tid,
		    memory_order_relaxed), memory_order_release);
	}
}

static inline __attribute__((always_inline)) int
track_acquired_fast(struct thread *t, uintptr_t addr, int kind, int mode,
    int try, uintptr_t site)
{
	struct lockrec *rec;

	if (t->held_or_waited != 0 ||
	    (rec = track_recalled(t, addr)) == NULL || !lock_current(rec, kind))
		return 0;
	track_taken(t, rec, addr, kind, mode, try, site, 0, 1);
	return 1;
}

/*
 * The hold h of t is over: the owner goes, and the entry.  The top
 * entry goes in one store, outside the sequence bracket: a reader that
 * copied the array with the old count has the state just before, which
 * was true, and the next push (bracketed) moves the sequence before it
 * writes over that slot.  Removing from the middle moves entries, which
 * a copy could tear: bracketed.
 */
static inline __attribute__((always_inline)) void
track_owner_gone(struct thread *t, struct held *h)
{
	if (h->rec != NULL && h->mode == GW_MODE_EXCLUSIVE &&
	    atomic_load_explicit(&h->rec->owner, memory_order_relaxed) ==
	    atomic_load_explicit(&t->tid, memory_order_relaxed))
		atomic_store_explicit(&h->rec->owner, 0, memory_order_relaxed);
}

static inline __attribute__((always_inline)) void
track_dropped(struct thread *t, struct held *h)
{
	uint32_t n = t->nheld;

	track_owner_gone(t, h);
	if (h == &t->held[n - 1]) {
		t->nheld = n - 1;
		return;
	}
	thread_write_begin(t);
	thread_remove_held(t, h);
	thread_write_end(t);
}

static inline __attribute__((always_inline)) int
track_releasing_fast(struct thread *t, uintptr_t addr)
{
	struct held *h;
	uint32_t n = t->nheld;

	if (n == 0)
		return 0;
	h = &t->held[n - 1];
	if (h->addr != addr || h->count > 1 || h->t0 != 0 ||
	    h->rec == NULL || (stats_on && atomic_load_explicit(
	    &h->rec->blocked_since, memory_order_relaxed) != 0))
		return 0;
	track_owner_gone(t, h);
	t->nheld = n - 1;	/* the top entry: see track_dropped */
	return 1;
}

#endif /* GW_TRACK_H */
