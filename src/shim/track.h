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
 * The common acquisition of addr, as a lock of this kind, done at a
 * lower cost (track_acquired_fast), needs the record t took lately,
 * still current: 1 with it in *rec; else 0: take the full path.  Asked
 * before the lock is taken, so that a hook's rarer checks can wait for
 * a lock it did not take lately (the GIL's own mutexes, which the hooks
 * never track, have no current record in any thread's table).
 */
static inline int	track_fast_rec(struct thread *t, uintptr_t addr,
			    int kind, struct lockrec **rec);

/*
 * The common acquisition, done at a lower cost, once the lock is taken,
 * rec from track_fast_rec: uncontended (t is not back from a wait still
 * to count), and either t holds no other lock (no order to check, no
 * recursion) or, exclusive, it is no recursion and its chain of locks
 * was validated before (order.h).
 * Returns 1 when done, exactly as track_acquired would have; 0, having
 * done nothing, for any other: call track_acquired.
 */
static inline int	track_acquired_fast(struct thread *t,
			    struct lockrec *rec, uintptr_t addr, int kind,
			    int mode, int try, uintptr_t site);

/*
 * The common release, done at a lower cost: of the lock t took last of
 * those it holds, held once, its hold untimed and nobody waiting for it.
 * kind: what the lock is, held exclusively (a mutex's unlock knows
 * both), or -1: any kind and mode.  Returns 1 when done, exactly as
 * track_releasing would have; 0, having done nothing, for any other:
 * call track_releasing.
 */
static inline int	track_releasing_fast(struct thread *t, uintptr_t addr,
			    int kind);

/*
 * The order key of the chain t's held locks then a lock (its part of the
 * key, track_chain_part) make, one step from the key kept with the top
 * held entry (order.h).  t holds at least one lock.
 */
static inline uint64_t	track_chain(struct thread *t, uint64_t part,
			    int mode);

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

/* Semaphores: held by the thread that took the count to zero.  errno
 * stays as it was. */
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
 * records, so that taking one again skips the lock table's probe; and,
 * ahead of the table, the last one it looked up.  A slot of the lock
 * table stays its address's for good, so a remembered record whose key
 * is addr is addr's, and lock_current says whether lock_get would begin
 * a new generation there (the lock was destroyed, or another kind of
 * lock now lives at that address), in which case the probe runs.  An
 * entry is one word, checked by the record's own key: a signal handler
 * that takes locks in the middle of a hook may change entries, but
 * never make one pair an address with another's record.  An empty
 * entry is lock_none, whose key no lock has (thread_recent_clear).
 */
static inline _Atomic(struct lockrec *) *
track_recent(struct thread *t, uintptr_t addr)
{
	/* The address's low 32 bits, hashed: one multiply, no constant
	 * to load. */
	return &t->recent[((uint32_t)addr * 0x9e3779b1u) >>
	    (32 - THREAD_RECENT_BITS)];
}

/* The record remembered for addr: 1 with it in *rec, else 0. */
static inline __attribute__((always_inline)) int
track_recall(struct thread *t, uintptr_t addr, struct lockrec **rec)
{
	struct lockrec *r;

	r = atomic_load_explicit(&t->last, memory_order_relaxed);
	if (__builtin_expect(atomic_load_explicit(&r->addr,
	    memory_order_relaxed) != addr, 0)) {
		r = atomic_load_explicit(track_recent(t, addr),
		    memory_order_relaxed);
		if (atomic_load_explicit(&r->addr, memory_order_relaxed) !=
		    addr)
			return 0;
		/*
		 * Last from now on: the release that most often follows
		 * finds it first, rather than load the key of a record
		 * left behind, whose line another thread may have written
		 * since (a lock it destroyed: a miss on every release).
		 */
		atomic_store_explicit(&t->last, r, memory_order_relaxed);
	}
	*rec = r;
	return track_cache;
}

/* The record remembered for addr, or NULL. */
static inline __attribute__((always_inline)) struct lockrec *
track_recalled(struct thread *t, uintptr_t addr)
{
	struct lockrec *rec;

	return track_recall(t, addr, &rec) ? rec : NULL;
}

static inline __attribute__((always_inline)) int
track_fast_rec(struct thread *t, uintptr_t addr, int kind,
    struct lockrec **rec)
{
	return track_recall(t, addr, rec) && lock_current(*rec, kind);
}

/* track_sem_posted for t (not NULL), inline where t remembers addr's
 * record: the common post, whose hook then makes no call of its own. */
static inline __attribute__((always_inline)) void
track_sem_posted_fast(struct thread *t, uintptr_t addr)
{
	struct lockrec *rec;

	if (track_recall(t, addr, &rec))
		atomic_store_explicit(&rec->owner, 0, memory_order_release);
	else
		track_sem_posted(t, addr);
}

/* addr's part of a chain step (lock.h), rec its record or NULL (the
 * generation 0). */
static inline uint64_t
track_chain_part(struct lockrec *rec, uintptr_t addr)
{
	return rec != NULL ? atomic_load_explicit(&rec->chain_part,
	    memory_order_relaxed) : lock_chain_part(addr, 0);
}

/* The key of the chain up to h, a held entry of t's, then the lock of
 * this part (track_chain_part), in mode. */
static inline __attribute__((always_inline)) uint64_t
track_chain_over(struct thread *t, struct held *h, uint64_t part, int mode)
{
	uint64_t key;

	/* held[0] keeps no key: the first acquisition makes none. */
	if (h == t->held)
		key = order_chain_step(ORDER_CHAIN_SEED,
		    track_chain_part(h->rec, h->addr),
		    h->mode == GW_MODE_SHARED);
	else
		key = h->chain;
	return order_chain_step(key, part, mode == GW_MODE_SHARED);
}

static inline __attribute__((always_inline)) uint64_t
track_chain(struct thread *t, uint64_t part, int mode)
{
	return track_chain_over(t, &t->held[t->nheld - 1], part, mode);
}

/*
 * The held entry of an acquisition into held[n] (h), n: the entries
 * below it, as the caller read them already (first: n is 0, the
 * array's first slot, which every array has; else there is room for
 * it, and chain is its key, track_chain), pushed as thread.h says.
 * known: rec is known not to be NULL.
 */
static inline __attribute__((always_inline)) void
track_push_at(struct thread *t, struct held *h, uint32_t n,
    struct lockrec *rec, uintptr_t addr, int kind, int mode, int try,
    uintptr_t site, int first, uint64_t chain, uint64_t t0, int sampled,
    int known)
{
	thread_push_begin(t);
	h->addr = addr;
	h->rec = rec;
	h->site = site;
	h->shape = HELD_SHAPE(kind, mode) | (uint64_t)(try != 0) << 48 |
	    (uint64_t)((t0 != 0 ? HELD_TIMED : 0) | (sampled ? HELD_SAMPLED :
	    0) | (!known && rec == NULL ? HELD_NOREC : 0)) << 56;
	/* An untimed hold's t0 is never read: no store. */
	if (t0 != 0)
		h->t0 = t0;
	if (!first)
		h->chain = chain;
	thread_push_end(t, n + 1);
}

/* The same, on top of t's array. */
static inline __attribute__((always_inline)) void
track_push(struct thread *t, struct lockrec *rec, uintptr_t addr, int kind,
    int mode, int try, uintptr_t site, int first, uint64_t chain,
    uint64_t t0, int sampled, int known)
{
	uint32_t n = first ? 0 : t->nheld;

	track_push_at(t, &t->held[n], n, rec, addr, kind, mode, try, site,
	    first, chain, t0, sampled, known);
}

/* The owner (tid: t's) last, with release: who sees it sees where. */
static inline __attribute__((always_inline)) void
track_own(struct thread *t, struct lockrec *rec, int mode, uintptr_t site,
    int tid)
{
	if (mode != GW_MODE_EXCLUSIVE)
		return;
	atomic_store_explicit(&rec->owner_site, site, memory_order_relaxed);
	atomic_store_explicit(&rec->owner_thread, (uintptr_t)t,
	    memory_order_relaxed);
	atomic_store_explicit(&rec->owner, tid, memory_order_release);
}

/*
 * The part of an acquisition every path shares, once rec is found and
 * the order checked: statistics, the held entry, the owner.  slot: as
 * for track_push (1: first; 0: on top; -1: none, no memory for a larger
 * array); waited: t->waited.
 */
static inline __attribute__((always_inline)) void
track_taken(struct thread *t, struct lockrec *rec, uintptr_t addr, int kind,
    int mode, int try, uintptr_t site, int waited, int slot, uint64_t chain)
{
	uint64_t n = 0, t0 = 0;
	uint8_t sampled = 0;
	int stats = stats_on;

	if (stats && rec != NULL)
		n = stats_acquired(&rec->stat, mode, mode == GW_MODE_SHARED,
		    atomic_load_explicit(&t->tid, memory_order_relaxed),
		    waited, waited ? t->wait_end - t->wait_t0 : 0, site);
	if (stats)
		t0 = track_hold_start(t, n, waited, &sampled);
	if (waited)
		t->waited = 0;
	if (slot >= 0)
		track_push(t, rec, addr, kind, mode, try, site, slot, chain,
		    t0, sampled, 0);
	if (rec != NULL)
		track_own(t, rec, mode, site,
		    atomic_load_explicit(&t->tid, memory_order_relaxed));
}

/*
 * track_taken from the fast path, for a hold that is timed, out of its
 * line: one of the lock's first (TRACK_EXACT), or the one t's countdown
 * reached (TRACK_DRAW: the countdown is drawn again; track_hold_start).
 * how: kind | mode << 8 | try << 16 | one of those; chain 0: the first
 * slot (keys are odd).
 */
#define TRACK_EXACT	(1u << 24)
#define TRACK_DRAW	(1u << 25)
void	track_taken_timed(struct thread *t, struct lockrec *rec,
	    uintptr_t addr, unsigned how, uintptr_t site, uint64_t chain);

/*
 * track_acquired_fast's statistics, held entry and owner, as track_taken
 * (h, n, first, chain: as for track_push_at; tid: t's, as read already).
 * Returns 1; or, defer set, 0 for a
 * hold to time, having done nothing but run t's countdown out if that
 * is what made it one (track_acquired_more times it).
 */
static inline __attribute__((always_inline)) int
track_fast_taken(struct thread *t, struct lockrec *rec, uintptr_t addr,
    int kind, int mode, int try, uintptr_t site, struct held *h, uint32_t n,
    int first, uint64_t chain, int tid, int defer)
{
	unsigned how = (unsigned)kind | (unsigned)mode << 8 |
	    (unsigned)try << 16;
	uint64_t before;

	if (stats_on) {
		/*
		 * A timed hold (track_hold_start): one of the lock's first,
		 * or the one t's countdown reaches (stats_hold_gap keeps it
		 * under 2^31: the sign says it ran out).
		 */
		before = atomic_load_explicit(&rec->stat.m[mode].acquired,
		    memory_order_relaxed);
		if (__builtin_expect(before < hold_exact, 0)) {
			if (defer)
				return 0;
			track_taken_timed(t, rec, addr, how | TRACK_EXACT,
			    site, chain);
			return 1;
		}
		if (__builtin_expect((int32_t)--t->hold_skip < 0, 0)) {
			if (defer)
				return 0;
			track_taken_timed(t, rec, addr, how | TRACK_DRAW,
			    site, chain);
			return 1;
		}
		stats_acquired_free(&rec->stat, mode, mode == GW_MODE_SHARED,
		    tid, before);
	}
	track_push_at(t, h, n, rec, addr, kind, mode, try, site, first, chain,
	    0, 0, 1);
	track_own(t, rec, mode, site, tid);
	return 1;
}

/*
 * track_acquired_fast in two steps, the first inline in the hooks, the
 * second kept out of line (event.c), so that the hooks keep fewer
 * registers.  track_acquired_first: t holding nothing, not back from a
 * wait (one load says so), the hold untimed; else 0, having done
 * nothing but run t's countdown out if that made the hold a timed one.
 */
static inline __attribute__((always_inline)) int
track_acquired_first(struct thread *t, struct lockrec *rec, uintptr_t addr,
    int kind, int mode, int try, uintptr_t site)
{
	if (__builtin_expect(t->held_or_waited != 0, 0))
		return 0;
	return track_fast_taken(t, rec, addr, kind, mode, try, site, t->held, 0,
	    1, 0, atomic_load_explicit(&t->tid, memory_order_relaxed), 1);
}

/*
 * After track_acquired_first answered 0 (how: kind | mode << 8 | try
 * << 16): the timed hold it left, or t holding other locks, where the
 * chain they make with rec must be one validated before.  1 when done;
 * else 0, having done nothing: call track_acquired.
 */
static inline __attribute__((always_inline)) int
track_acquired_more(struct thread *t, struct lockrec *rec, uintptr_t addr,
    unsigned how, uintptr_t site)
{
	int kind = how & 0xff, mode = how >> 8 & 0xff, try = how >> 16 & 0xff;
	int tid = atomic_load_explicit(&t->tid, memory_order_relaxed);
	uint32_t n = t->nheld;
	struct held *top = t->held + n - 1;
	uint64_t chain;

	if (t->held_or_waited == 0) {
		track_taken_timed(t, rec, addr, how |
		    (atomic_load_explicit(&rec->stat.m[mode].acquired,
		    memory_order_relaxed) < hold_exact ? TRACK_EXACT :
		    TRACK_DRAW), site, 0);
		return 1;
	}
	/* A recursion adds no entry: the full path counts it. */
	if (t->waited != 0 || mode != GW_MODE_EXCLUSIVE || n == t->cap ||
	    atomic_load_explicit(&rec->owner, memory_order_relaxed) == tid)
		return 0;
	chain = track_chain_over(t, top, atomic_load_explicit(&rec->chain_part,
	    memory_order_relaxed), mode);
	/*
	 * A trylock orders nothing (order_acquired).  The cache first: with
	 * the validator on (the default), a chain found there needs no
	 * look at order_on.
	 */
	if (!try && !order_chain_cached(chain) &&
	    atomic_load_explicit(&order_on, memory_order_relaxed))
		return 0;
	return track_fast_taken(t, rec, addr, kind, mode, try, site, top + 1,
	    n, 0, chain, tid, 0);
}

static inline __attribute__((always_inline)) int
track_acquired_fast(struct thread *t, struct lockrec *rec, uintptr_t addr,
    int kind, int mode, int try, uintptr_t site)
{
	return track_acquired_first(t, rec, addr, kind, mode, try, site) ||
	    track_acquired_more(t, rec, addr, (unsigned)kind |
	    (unsigned)mode << 8 | (unsigned)try << 16, site);
}

/*
 * The hold h of t is over: the owner goes, and the entry.  The top
 * entry goes in one store, outside the sequence bracket: a reader that
 * copied the array with the old count has the state just before, which
 * was true, and the next push (bracketed) moves the sequence before it
 * writes over that slot.  Removing from the middle moves entries, which
 * a copy could tear: bracketed, and the keys of those moved are made
 * again (track_rechain).
 */
static inline __attribute__((always_inline)) void
track_owner_gone(struct thread *t, struct held *h)
{
	if (h->rec != NULL && h->mode == GW_MODE_EXCLUSIVE &&
	    atomic_load_explicit(&h->rec->owner, memory_order_relaxed) ==
	    atomic_load_explicit(&t->tid, memory_order_relaxed))
		atomic_store_explicit(&h->rec->owner, 0, memory_order_relaxed);
}

void	track_rechain(struct thread *t, uint32_t from);

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
	track_rechain(t, (uint32_t)(h - t->held));
	thread_write_end(t);
}

/*
 * No flag: untimed, with a record.  blocked_since is set only while
 * statistics are kept (track_wait_begin): no need to ask stats_on first.
 * With nothing held, the top entry is the floor below held[0]
 * (thread.h), whose count of 0 no hold has.
 */
static inline __attribute__((always_inline)) int
track_releasing_fast(struct thread *t, uintptr_t addr, int kind)
{
	struct lockrec *rec;
	uint32_t n = t->nheld;
	struct held *h = t->held + n - 1;

	if (h->addr != addr || (kind >= 0 ? h->shape != HELD_SHAPE(kind,
	    GW_MODE_EXCLUSIVE) : h->count != 1 || h->flags != 0) ||
	    atomic_load_explicit(&(rec = h->rec)->blocked_since,
	    memory_order_relaxed) != 0)
		return 0;
	/* track_owner_gone, the mode known when the kind is. */
	if (__builtin_expect((kind >= 0 || h->mode == GW_MODE_EXCLUSIVE) &&
	    atomic_load_explicit(&rec->owner, memory_order_relaxed) ==
	    atomic_load_explicit(&t->tid, memory_order_relaxed), 1))
		atomic_store_explicit(&rec->owner, 0, memory_order_relaxed);
	t->nheld = n - 1;	/* the top entry: see track_dropped */
	return 1;
}

/*
 * An untimed hold h: if a thread waits for the lock now, the hold lasted
 * at least as long as that wait, which the maximum must show (a lock
 * held 200 ms while another thread waits is what the table is for).
 */
void	track_held_untimed(struct held *h);

/*
 * The release of the top entry, a hold of a lock of this kind (held
 * once, exclusively, by no trylock, with a record) that
 * track_releasing_fast left: one timed as 1 of hold_sample
 * (HELD_SAMPLED), or an untimed one with a thread waiting, at a lower
 * cost than track_releasing's, and as it would have done (a sampled
 * hold is never a long one to report: --hold-warn times every hold,
 * and samples none).  1 when done; else 0, having done nothing.  Out of
 * line where it is called: after track_releasing_fast answered 0.
 */
#define TRACK_SAMPLED_SHAPE(kind) (HELD_SHAPE(kind, GW_MODE_EXCLUSIVE) | \
	(uint64_t)(HELD_TIMED | HELD_SAMPLED) << 56)

static inline __attribute__((always_inline)) int
track_releasing_top(struct thread *t, uintptr_t addr, int kind)
{
	uint32_t n = t->nheld;
	struct held *h = t->held + n - 1;

	if (h->addr != addr)
		return 0;
	if (h->shape == TRACK_SAMPLED_SHAPE(kind) && hold_warn_ticks == 0)
		stats_released(&h->rec->stat, GW_MODE_EXCLUSIVE, 0,
		    clock_ticks() - h->t0, hold_sample, h->site);
	else if (h->shape == HELD_SHAPE(kind, GW_MODE_EXCLUSIVE))
		track_held_untimed(h);
	else
		return 0;
	track_owner_gone(t, h);
	t->nheld = n - 1;	/* the top entry: see track_dropped */
	return 1;
}

#endif /* GW_TRACK_H */
