/* Per-thread lock bookkeeping: see track.h. */
#include <errno.h>
#include <stddef.h>

#include "clock.h"
#include "deadlock.h"
#include "gil.h"
#include "py.h"
#include "lock.h"
#include "order.h"
#include "rtbudget.h"
#include "rtcycle.h"
#include "trace.h"
#include "track.h"

uint64_t hold_warn_ticks;

int track_cache = 1;

/* addr's record: lock_get's, remembered, or (NULL) none. */
static inline __attribute__((always_inline)) struct lockrec *
lock_of(struct thread *t, uintptr_t addr, int kind, uintptr_t site)
{
	struct lockrec *rec = track_recalled(t, addr);

	if (rec != NULL && lock_current(rec, kind))
		return rec;
	if ((rec = lock_get(addr, kind, site)) != NULL) {
		atomic_store_explicit(track_recent(t, addr), rec,
		    memory_order_relaxed);
		atomic_store_explicit(&t->last, rec, memory_order_relaxed);
	}
	return rec;
}

int
track_acquired(struct thread *t, uintptr_t addr, int kind, int mode,
    int try, uintptr_t site, struct order_cycle *inversion)
{
	struct lockrec *rec;
	struct held *h;
	uint64_t chain = 0;
	int found = 0, slot = 1;

	h = thread_find_held(t, addr);
	if (h != NULL && h->mode == mode) {
		h->count++;
		t->waited = 0;
		return 0;
	}
	rec = lock_of(t, addr, kind, site);
	/* Holding nothing else, the acquisition orders nothing. */
	if (t->nheld != 0) {
		found = order_acquired(t, rec, addr, kind, mode, try,
		    inversion);
		chain = track_chain(t, track_chain_part(rec, addr), mode);
		slot = t->nheld < t->cap || thread_grow_held(t) ? 0 : -1;
	}
	track_taken(t, rec, addr, kind, mode, try, site, t->waited, slot,
	    chain);
	return found;
}

__attribute__((noinline)) void
track_taken_timed(struct thread *t, struct lockrec *rec, uintptr_t addr,
    unsigned how, uintptr_t site, uint64_t chain)
{
	int mode = how >> 8 & 0xff;
	int tid = atomic_load_explicit(&t->tid, memory_order_relaxed);

	stats_acquired(&rec->stat, mode, mode == GW_MODE_SHARED, tid, 0, 0,
	    site);
	track_push(t, rec, addr, how & 0xff, mode, how >> 16 & 0xff, site,
	    chain == 0, chain, clock_ticks(), (how & TRACK_DRAW) != 0, 1);
	track_own(t, rec, mode, site, tid);
	/* Last, the next countdown: nothing is kept across the call. */
	if (how & TRACK_DRAW)
		t->hold_skip = stats_hold_gap(&t->hold_rng);
}

void
track_rechain(struct thread *t, uint32_t from)
{
	struct held *h;
	uint32_t i;

	for (i = from > 0 ? from : 1; i < t->nheld; i++) {
		h = &t->held[i];
		h->chain = track_chain_over(t, h - 1,
		    track_chain_part(h->rec, h->addr), h->mode);
	}
}

/* Hold-time statistics; ticks when the hold is a long one, else 0. */
static uint64_t
held_for(struct held *h, uint64_t ticks)
{
	stats_released(&h->rec->stat, h->mode, h->mode == GW_MODE_SHARED,
	    ticks, h->flags & HELD_SAMPLED ? hold_sample : 1, h->site);
	return hold_warn_ticks != 0 && ticks >= hold_warn_ticks ? ticks : 0;
}

void
track_held_untimed(struct held *h)
{
	uint64_t since, now;

	since = atomic_load_explicit(&h->rec->blocked_since,
	    memory_order_relaxed);
	if (since == 0)
		return;
	now = clock_ticks();
	if (now > since)
		stats_hold_bound(&h->rec->stat, h->mode, now - since);
}

/*
 * Called before the real unlock, while t still holds the lock: nobody
 * else can be writing the owner field, so plain stores do.
 */
uint64_t
track_releasing(struct thread *t, uintptr_t addr, struct held *was)
{
	struct held *h;
	uint64_t long_hold = 0;

	h = thread_find_held(t, addr);
	if (h == NULL)
		return 0;
	if (h->count > 1) {
		h->count--;
		return 0;
	}
	if ((h->flags & HELD_TIMED) && h->rec != NULL) {
		if ((long_hold = held_for(h, clock_ticks() - h->t0)) != 0)
			*was = *h;
	} else if (stats_on && h->rec != NULL)
		track_held_untimed(h);
	track_dropped(t, h);
	return long_hold;
}

/* Only a lock wait makes the next acquisition a contended one. */
static int
counts_as_lock_wait(int kind)
{
	return kind != GW_LOCK_COND && kind != GW_LOCK_THREAD;
}

int
track_wait_begin(struct thread *t, enum gw_thread_state state,
    uintptr_t addr, int kind, int mode, int timed, uintptr_t site,
    struct wf_frame **cycle)
{
	int saved = errno, n = 0, restarts;

	/*
	 * A wait before this one that took nothing (timed out, or a join)
	 * leaves no contended acquisition behind: its start is about to be
	 * overwritten, and the next acquisition reported it as a wait from
	 * this start to that end, some 10^10 seconds.
	 */
	t->waited = 0;
	if (stats_on)
		t->wait_t0 = clock_ticks();
	/*
	 * The stack first: a reader that sees the wait sees its stack.
	 * Only where a sampling signal would disturb the wait (a C
	 * program's sem_wait fails with EINTR): every other wait restarts
	 * after a signal (a futex wait, or a Python lock's, which retries),
	 * so a dump asks the thread then, and the common contended
	 * acquisition does not pay for an unwind.
	 */
	restarts = kind != GW_LOCK_SEM || gil_is_python_lock_call(site);
	if (!restarts)
		stack_capture(&t->block_stack, 0);
	else
		t->block_stack.depth = 0;
	thread_write_begin(t);
	t->wait.addr = addr;
	t->wait.rec = kind == GW_LOCK_THREAD ? NULL :
	    lock_of(t, addr, kind, site);
	t->wait.kind = (uint8_t)kind;
	t->wait.mode = (uint8_t)mode;
	t->wait.timed = (uint8_t)timed;
	t->wait.restarts = (uint8_t)restarts;
	t->wait.site = site;
	thread_write_end(t);
	/* The first waiter's: a plain load first spares the others a
	 * locked compare-exchange that would fail. */
	if (stats_on && t->wait.rec != NULL && counts_as_lock_wait(kind) &&
	    atomic_load_explicit(&t->wait.rec->blocked_since,
	    memory_order_relaxed) == 0) {
		uint64_t none = 0;

		atomic_compare_exchange_strong(&t->wait.rec->blocked_since,
		    &none, t->wait_t0);
	}
	/* t's own counter: no other thread writes it. */
	atomic_store_explicit(&t->wait_gen, atomic_load_explicit(&t->wait_gen,
	    memory_order_relaxed) + 1, memory_order_release);
	thread_set_state(t, state);
	/* Pairs with the same fence in other waiters: one of two threads
	 * closing a cycle at once is sure to see the other's wait. */
	atomic_thread_fence(memory_order_seq_cst);
	/*
	 * A wait for a GIL nobody holds (every take after a blocking call
	 * in a single-threaded program: 700 in python3.11's start-up) has
	 * no edge, so no cycle: the search is skipped.  A thread that
	 * takes the GIL later and then waits for us searches itself, and
	 * sees our wait (the fence above).
	 */
	if (!timed && state != GW_STATE_WAITING &&
	    (kind != GW_LOCK_GIL || gil_holder_thread() != NULL))
		n = deadlock_check(t, cycle);
	errno = saved;
	return n;
}

void
track_wait_end(struct thread *t)
{
	uint64_t mine = t->wait_t0;

	if (stats_on && counts_as_lock_wait(t->wait.kind)) {
		t->wait_end = clock_ticks();
		t->waited = 1;
		/*
		 * Ours when it is mine: others only set it from 0, so
		 * nobody else writes it until this store.
		 */
		if (t->wait.rec != NULL && atomic_load_explicit(
		    &t->wait.rec->blocked_since, memory_order_relaxed) == mine)
			atomic_store_explicit(&t->wait.rec->blocked_since, 0,
			    memory_order_relaxed);
		/* The GIL's waits are judged by gil.c, with their holder. */
		if (t->wait.kind != GW_LOCK_GIL &&
		    t->wait_end - mine > rt_lock_wait_ticks)
			rt_lock_wait(t, t->wait_end - mine,
			    gil_runtime());
		if (t->rt_cycle != NULL && t->wait.kind != GW_LOCK_GIL)
			rt_cycle_lock_wait(t, t->wait_end - mine);
	}
	if (trace_on)
		trace_lock_wait(t);
	thread_set_state(t, GW_STATE_RUNNING);
}

/*
 * A semaphore's new holder, t, which took it at site; ps: the Python
 * line it took it on (a Python lock, or one an extension takes for
 * Python code), so that dumps can say where, or NULL.  The owner last,
 * with release: who sees it sees where.
 */
static inline __attribute__((always_inline)) void
sem_owner(struct thread *t, struct lockrec *rec, uintptr_t site,
    const struct py_site *ps)
{
	atomic_store_explicit(&rec->owner_site, site, memory_order_relaxed);
	atomic_store_explicit(&rec->owner_thread, (uintptr_t)t,
	    memory_order_relaxed);
	if (ps != NULL) {
		atomic_store_explicit(&rec->py_addr, ps->addr,
		    memory_order_relaxed);
		atomic_store_explicit(&rec->py_code, ps->code,
		    memory_order_relaxed);
	} else
		atomic_store_explicit(&rec->py_code, 0, memory_order_relaxed);
	atomic_store_explicit(&rec->owner, atomic_load_explicit(&t->tid,
	    memory_order_relaxed), memory_order_release);
}

/* sem_owner, the Python line found the long way (gil_own_site). */
static __attribute__((noinline)) void
sem_owner_asked(struct thread *t, struct lockrec *rec, uintptr_t site)
{
	struct py_site ps;

	sem_owner(t, rec, site, gil_own_site(t, &ps) == 0 ? &ps : NULL);
}

/*
 * shared: other takers may count at the same time (a semaphore's), so
 * the counts are added atomically; a Python lock is its taker's alone
 * until released, which orders the updates (stats.h), and costs no
 * locked instruction on a line that moves with the lock.
 */
static __attribute__((noinline)) void
sem_taken_full(struct thread *t, uintptr_t addr, int now_zero,
    uintptr_t site, int shared)
{
	struct lockrec *rec = lock_of(t, addr, GW_LOCK_SEM, site);

	if (rec == NULL)
		return;
	/* A thread's first take of a lock comes here: the first of a
	 * Python lock finds Python's sites for the common path. */
	if (shared && now_zero && gil_is_python_sem_take(site))
		shared = 0;
	if (stats_on)
		stats_acquired(&rec->stat, GW_MODE_EXCLUSIVE, shared,
		    atomic_load(&t->tid), t->waited, t->wait_end - t->wait_t0,
		    site);
	t->waited = 0;
	if (now_zero)
		sem_owner_asked(t, rec, site);
}

/*
 * sem_taken_full's common case, which a Python lock takes at every
 * acquisition, with no call, so that it saves no registers: a record t
 * remembers, taken without a wait, the Python line read inline.
 */
static inline __attribute__((always_inline)) void
sem_taken(struct thread *t, uintptr_t addr, int now_zero, uintptr_t site,
    int shared)
{
	struct lockrec *rec;
	struct py_site ps;
	int found;

	if (__builtin_expect(!track_fast_rec(t, addr, GW_LOCK_SEM, &rec) ||
	    t->waited, 0)) {
		sem_taken_full(t, addr, now_zero, site, shared);
		return;
	}
	/*
	 * The hints here and in what it inlines lay a Python lock's take
	 * out straight: it runs among the interpreter's own code, which
	 * fills the instruction cache, so each line it spans costs misses
	 * there (README: where the queue's overhead goes).
	 */
	if (__builtin_expect(stats_on, 1))
		stats_acquired(&rec->stat, GW_MODE_EXCLUSIVE, shared,
		    atomic_load_explicit(&t->tid, memory_order_relaxed), 0, 0,
		    site);
	if (__builtin_expect(!now_zero, 0))
		return;
	if (__builtin_expect((found = gil_own_site_quick(t, &ps)) == -1, 0))
		sem_owner_asked(t, rec, site);
	else
		sem_owner(t, rec, site, found ? &ps : NULL);
}

/* Ends in a jump to a call it makes, if any: none is to dlsym. */
__attribute__((optimize("optimize-sibling-calls"))) void
track_sem_taken(struct thread *t, uintptr_t addr, int now_zero,
    uintptr_t site)
{
	sem_taken(t, addr, now_zero, site, __builtin_expect(!now_zero, 0) ||
	    !__builtin_expect(gil_python_sem_take_known(site), 1));
}

void
track_pymutex_waited(struct thread *t, uintptr_t addr, uintptr_t site)
{
	struct lockrec *rec;

	/*
	 * Shared: the end of a park is not a hold (the thread woken tries
	 * the mutex again, beside others), so nothing orders the updates.
	 */
	if (stats_on && t->waited && (rec = lock_get(addr, GW_LOCK_PYMUTEX,
	    site)) != NULL)
		stats_acquired(&rec->stat, GW_MODE_EXCLUSIVE, 1,
		    atomic_load(&t->tid), 1, t->wait_end - t->wait_t0, site);
	t->waited = 0;
}

void
track_py_lock_taken(struct thread *t, const struct py_lock_call *c)
{
	t->waited = c->waited;
	if (c->waited) {
		t->wait_t0 = c->wait_t0;
		t->wait_end = c->wait_end;
	}
	sem_taken(t, c->addr, 1, c->site, 0);
}

void
track_sem_posted(struct thread *t, uintptr_t addr)
{
	struct lockrec *rec = NULL;

	/* A remembered record is lock_find's: its slot is addr's for good. */
	if (t == NULL || (rec = track_recalled(t, addr)) == NULL)
		rec = lock_find(addr);

	if (rec != NULL)
		atomic_store_explicit(&rec->owner, 0, memory_order_release);
}

void
track_initialised(uintptr_t addr, int kind, uintptr_t site)
{
	lock_forget(addr);
	lock_get(addr, kind, site);
}

void
track_destroyed(uintptr_t addr)
{
	lock_forget(addr);
}
