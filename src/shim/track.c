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

/*
 * When this hold starts, or 0 to leave it untimed (stats.h): after a
 * wait, at the wait's end; else, for the lock's first hold_sample
 * acquisitions, now (a lock taken a few times gets exact figures);
 * after those, 1 time in hold_sample, now.
 */
static uint64_t
hold_start(struct thread *t, struct lockrec *rec, int mode, int waited,
    uint8_t *sampled)
{
	*sampled = 0;
	if (waited)
		return t->wait_end;
	if (hold_sample == 1 || rec == NULL ||
	    atomic_load_explicit(&rec->stat.m[mode].acquired,
	    memory_order_relaxed) <= hold_sample)
		return clock_ticks();
	if (!stats_hold_sampled(&t->hold_rng))
		return 0;
	*sampled = 1;
	return clock_ticks();
}

int
track_acquired(struct thread *t, uintptr_t addr, int kind, int mode,
    int try, uintptr_t site, struct order_cycle *inversion)
{
	struct lockrec *rec;
	struct held *h;
	int waited = t->waited, found;

	h = thread_find_held(t, addr);
	if (h != NULL && h->mode == mode) {
		h->count++;
		t->waited = 0;
		return 0;
	}
	rec = lock_get(addr, kind, site);
	found = order_acquired(t, rec, addr, kind, mode, try, inversion);
	if (stats_on && rec != NULL)
		stats_acquired(&rec->stat, mode, mode == GW_MODE_SHARED,
		    atomic_load_explicit(&t->tid, memory_order_relaxed),
		    t->waited, t->wait_end - t->wait_t0, site);
	t->waited = 0;
	thread_write_begin(t);
	h = thread_push_held(t);
	if (h != NULL) {
		h->addr = addr;
		h->rec = rec;
		h->site = site;
		h->kind = (uint8_t)kind;
		h->mode = (uint8_t)mode;
		h->try = (uint8_t)try;
		h->count = 1;
		h->t0 = stats_on ? hold_start(t, rec, mode, waited,
		    &h->sampled) : 0;
	}
	thread_write_end(t);
	if (rec != NULL && mode == GW_MODE_EXCLUSIVE) {
		atomic_store_explicit(&rec->owner_site, site,
		    memory_order_relaxed);
		atomic_store_explicit(&rec->owner_thread, (uintptr_t)t,
		    memory_order_relaxed);
		atomic_store_explicit(&rec->owner, atomic_load_explicit(&t->tid,
		    memory_order_relaxed), memory_order_release);
	}
	return found;
}

/* Hold-time statistics; ticks when the hold is a long one, else 0. */
static uint64_t
held_for(struct held *h, uint64_t ticks)
{
	stats_released(&h->rec->stat, h->mode, h->mode == GW_MODE_SHARED,
	    ticks, h->sampled ? hold_sample : 1, h->site);
	return hold_warn_ticks != 0 && ticks >= hold_warn_ticks ? ticks : 0;
}

/*
 * An untimed hold: if a thread waits for the lock now, the hold lasted
 * at least as long as that wait, which the maximum must show (a lock
 * held 200 ms while another thread waits is what the table is for).
 */
static void
held_untimed(struct held *h)
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
	if (h->t0 != 0 && h->rec != NULL) {
		if ((long_hold = held_for(h, clock_ticks() - h->t0)) != 0)
			*was = *h;
	} else if (stats_on && h->rec != NULL)
		held_untimed(h);
	if (h->rec != NULL && h->mode == GW_MODE_EXCLUSIVE &&
	    atomic_load_explicit(&h->rec->owner, memory_order_relaxed) ==
	    atomic_load_explicit(&t->tid, memory_order_relaxed))
		atomic_store_explicit(&h->rec->owner, 0, memory_order_relaxed);
	thread_write_begin(t);
	thread_remove_held(t, h);
	thread_write_end(t);
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
	int saved = errno, n = 0;

	if (stats_on)
		t->wait_t0 = clock_ticks();
	/*
	 * The stack first: a reader that sees the wait sees its stack.
	 * Only where a sampling signal would disturb the wait (a C
	 * program's sem_wait fails with EINTR): every other wait restarts
	 * after a signal, so a dump asks the thread then, and the common
	 * contended acquisition does not pay for an unwind.
	 */
	if (kind == GW_LOCK_SEM && !gil_is_python_lock_call(site))
		stack_capture(&t->block_stack, 0);
	else
		t->block_stack.depth = 0;
	thread_write_begin(t);
	t->wait.addr = addr;
	t->wait.rec = kind == GW_LOCK_THREAD ? NULL :
	    lock_get(addr, kind, site);
	t->wait.kind = (uint8_t)kind;
	t->wait.mode = (uint8_t)mode;
	t->wait.timed = (uint8_t)timed;
	t->wait.site = site;
	thread_write_end(t);
	if (stats_on && t->wait.rec != NULL && counts_as_lock_wait(kind)) {
		uint64_t none = 0;

		atomic_compare_exchange_strong(&t->wait.rec->blocked_since,
		    &none, t->wait_t0);
	}
	atomic_fetch_add(&t->wait_gen, 1);
	thread_set_state(t, state);
	/* Pairs with the same fence in other waiters: one of two threads
	 * closing a cycle at once is sure to see the other's wait. */
	atomic_thread_fence(memory_order_seq_cst);
	if (!timed && state != GW_STATE_WAITING)
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
		if (t->wait.rec != NULL)
			atomic_compare_exchange_strong(
			    &t->wait.rec->blocked_since, &mine, 0);
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
 * A semaphore taken while holding the GIL (a Python lock on its fast
 * path, or one an extension takes for Python code): remember the Python
 * line too, so dumps can say where the holder took it.
 */
static void
python_site(struct thread *t, struct lockrec *rec)
{
	struct py_site ps;

	if (gil_own_site(t, &ps) == 0) {
		atomic_store_explicit(&rec->py_addr, ps.addr,
		    memory_order_relaxed);
		atomic_store_explicit(&rec->py_code, ps.code,
		    memory_order_relaxed);
	} else
		atomic_store_explicit(&rec->py_code, 0, memory_order_relaxed);
}

void
track_sem_taken(struct thread *t, uintptr_t addr, int now_zero,
    uintptr_t site)
{
	struct lockrec *rec = lock_get(addr, GW_LOCK_SEM, site);

	if (rec == NULL)
		return;
	if (stats_on)
		stats_acquired(&rec->stat, GW_MODE_EXCLUSIVE, 1,
		    atomic_load(&t->tid), t->waited, t->wait_end - t->wait_t0,
		    site);
	t->waited = 0;
	if (!now_zero)
		return;
	/* The owner last, with release: who sees it sees where. */
	atomic_store_explicit(&rec->owner_site, site, memory_order_relaxed);
	atomic_store_explicit(&rec->owner_thread, (uintptr_t)t,
	    memory_order_relaxed);
	python_site(t, rec);
	atomic_store_explicit(&rec->owner, atomic_load_explicit(&t->tid,
	    memory_order_relaxed), memory_order_release);
}

void
track_pymutex_waited(struct thread *t, uintptr_t addr, uintptr_t site)
{
	struct lockrec *rec;

	if (stats_on && t->waited && (rec = lock_get(addr, GW_LOCK_PYMUTEX,
	    site)) != NULL)
		stats_acquired(&rec->stat, GW_MODE_EXCLUSIVE, 0,
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
	track_sem_taken(t, c->addr, 1, c->site);
}

void
track_sem_posted(uintptr_t addr)
{
	struct lockrec *rec = lock_find(addr);

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
