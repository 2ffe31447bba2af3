/*
 * Contention statistics, per lock, in the manner of the kernel's
 * lock_stat: acquisitions, contended acquisitions, owner changes, wait
 * and hold time (total and max; mean at report time), read and write
 * apart for rwlocks, condition variable traffic, and the call sites that
 * wait and hold most.
 *
 * The numbers live in the lock's record.  For an exclusive acquisition
 * the lock itself serialises the updates (counts, totals and maxima,
 * written while the lock is held), so plain stores are exact and cost
 * no locked instruction; shared holders (readers, semaphores) update
 * with atomic adds and compare-exchanges.  Readers take each number as
 * it is: one a holder is writing may be a step behind.
 */
#ifndef GW_STATS_H
#define GW_STATS_H

#include <stdatomic.h>
#include <stdint.h>

#define STATS_SITES	4	/* call sites kept per lock, waiters and holders */

struct site_stat {
	atomic_uintptr_t site;
	_Atomic uint64_t count;
	_Atomic uint64_t ticks;		/* wait or hold time spent there */
};

struct mode_stat {
	_Atomic uint64_t acquired;
	_Atomic uint64_t contended;
	_Atomic uint64_t wait_total, wait_max;		/* ticks */
	_Atomic uint64_t hold_total, hold_max;		/* ticks */
};

/* What an acquisition writes comes first (lock.h: one cache line). */
struct lockstat {
	atomic_int	last_owner;
	_Atomic uint64_t owner_changes;
	struct mode_stat m[2];		/* by enum gw_lock_mode */
	_Atomic uint64_t cond_waits;
	_Atomic uint64_t cond_signals;
	_Atomic uint64_t cond_lost;	/* signals with nobody waiting */
	atomic_int	cond_waiters;
	struct site_stat waiters[STATS_SITES];
	struct site_stat holders[STATS_SITES];
};

/* Are statistics being kept (GILWATCH_REPORT)? */
extern int stats_on;

/*
 * Hold times.  A hold that began with a wait is always timed (the
 * wait's end is its start), and so are a lock's first hold_sample
 * holds; of the others, 1 in hold_sample is, drawn at random
 * (stats_hold_sampled), and counts for hold_sample holds, so that
 * the hold totals are estimates without bias and the uncontended path
 * reads the clock 1 time in hold_sample.  A hold that makes another
 * thread wait raises the maximum by what it lasted at least
 * (stats_hold_bound).  hold_sample 1: every hold is timed.
 *
 * The draw costs a hold a countdown, not a random number: each thread
 * keeps how many holds it leaves untimed before its next timed one,
 * drawn from the geometric distribution (stats_hold_gap).  That times
 * every hold with probability 1/hold_sample independently of the
 * others, exactly as a coin tossed at each hold would.
 */
extern unsigned hold_sample;

/* A lock's holds up to this acquisition are timed: hold_sample, or all
 * of them when hold_sample is 1. */
extern uint64_t hold_exact;

/* Set hold_sample (GILWATCH_HOLD_SAMPLE; 1 with --hold-warn). */
void	stats_set_hold_sample(unsigned n);

/*
 * Holds to leave untimed before the next timed one: the failures
 * before the first success of probability 1/hold_sample (0 when
 * hold_sample is 1), at most INT32_MAX (a countdown may test its sign;
 * more has a chance under e^-32768 at the largest hold_sample).
 * *state: the thread's random state, not 0.
 */
uint32_t	stats_hold_gap(uint32_t *state);

/*
 * Is the next hold (one past the exactly timed ones) timed?  *skip: the
 * thread's holds left untimed before its next timed one; *state: its
 * random state.
 */
static inline int
stats_hold_sampled(uint32_t *state, uint32_t *skip)
{
	if (__builtin_expect(*skip != 0, 1)) {
		(*skip)--;
		return 0;
	}
	*skip = stats_hold_gap(state);
	return 1;
}

/*
 * Add v to *p; returns the sum.  shared: other holders may update at
 * the same time (readers, semaphores), so the add is atomic; an
 * exclusive holder's stores are ordered by the lock itself, and a plain
 * load and store cost no locked instruction.
 */
static inline uint64_t
stats_add(_Atomic uint64_t *p, uint64_t v, int shared)
{
	uint64_t sum;

	if (shared)
		return atomic_fetch_add_explicit(p, v,
		    memory_order_relaxed) + v;
	sum = atomic_load_explicit(p, memory_order_relaxed) + v;
	atomic_store_explicit(p, sum, memory_order_relaxed);
	return sum;
}

/* stats_acquired's rarer part: a wait. */
void	stats_contended(struct lockstat *, int mode, int shared,
	    uint64_t wait, uintptr_t site);

/*
 * A new owner: inline, as a call would make the fast paths keep their
 * values across it, and a lock that threads take in turn changes owner
 * at every acquisition.
 */
static inline void
stats_owner_changed(struct lockstat *s, int shared, int tid)
{
	atomic_store_explicit(&s->last_owner, tid, memory_order_relaxed);
	stats_add(&s->owner_changes, 1, shared);
}

/*
 * stats_acquired for a lock taken without a wait, its count in mode
 * read as `before` just now: an exclusive holder, whose writes the lock
 * orders, adds to that.
 */
static inline void
stats_acquired_free(struct lockstat *s, int mode, int shared, int tid,
    uint64_t before)
{
	if (shared)
		atomic_fetch_add_explicit(&s->m[mode].acquired, 1,
		    memory_order_relaxed);
	else
		atomic_store_explicit(&s->m[mode].acquired, before + 1,
		    memory_order_relaxed);
	if (atomic_load_explicit(&s->last_owner, memory_order_relaxed) != tid)
		stats_owner_changed(s, shared, tid);
}

/*
 * A lock was taken (after waiting wait ticks, if contended).  shared:
 * as for stats_add.  Returns the acquisitions in mode counted so far,
 * this one included.  Inline: every acquisition counts.
 */
static inline uint64_t
stats_acquired(struct lockstat *s, int mode, int shared, int tid,
    int contended, uint64_t wait, uintptr_t site)
{
	uint64_t n = stats_add(&s->m[mode].acquired, 1, shared);

	if (atomic_load_explicit(&s->last_owner, memory_order_relaxed) != tid)
		stats_owner_changed(s, shared, tid);
	if (contended)
		stats_contended(s, mode, shared, wait, site);
	return n;
}

/*
 * A lock held for hold ticks, taken at site, is being released; the
 * hold stands for weight holds (1, or hold_sample for a sampled one).
 */
void	stats_released(struct lockstat *, int mode, int shared, uint64_t hold,
	    unsigned weight, uintptr_t site);

/* An untimed hold in mode that made another thread wait lasted at least
 * lb (called by its holder, before the release). */
void	stats_hold_bound(struct lockstat *, int mode, uint64_t lb);

/* Condition variables: a wait starts or ends; a signal or broadcast. */
void	stats_cond_wait(struct lockstat *, int begin);
void	stats_cond_signal(struct lockstat *);

/* Zero every number (gilwatch top's reset). */
void	stats_reset(struct lockstat *);

#endif /* GW_STATS_H */
