/* Per-thread lock bookkeeping: see track.h. */
#include <errno.h>
#include <stddef.h>

#include "deadlock.h"
#include "lock.h"
#include "order.h"
#include "track.h"

void
track_acquired(struct thread *t, uintptr_t addr, int kind, int mode,
    int try, uintptr_t site)
{
	struct lockrec *rec;
	struct held *h;

	h = thread_find_held(t, addr);
	if (h != NULL && h->mode == mode) {
		h->count++;
		return;
	}
	rec = lock_get(addr, kind, site);
	order_acquired(t, rec, addr, kind, mode, try, site);
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
	}
	thread_write_end(t);
	if (rec != NULL && mode == GW_MODE_EXCLUSIVE) {
		atomic_store_explicit(&rec->owner_site, site,
		    memory_order_relaxed);
		atomic_store_explicit(&rec->owner, atomic_load_explicit(&t->tid,
		    memory_order_relaxed), memory_order_release);
	}
}

/*
 * Called before the real unlock, while t still holds the lock: nobody
 * else can be writing the owner field, so plain stores do.
 */
void
track_releasing(struct thread *t, uintptr_t addr)
{
	struct held *h;

	h = thread_find_held(t, addr);
	if (h == NULL)
		return;
	if (h->count > 1) {
		h->count--;
		return;
	}
	if (h->rec != NULL && h->mode == GW_MODE_EXCLUSIVE &&
	    atomic_load_explicit(&h->rec->owner, memory_order_relaxed) ==
	    atomic_load_explicit(&t->tid, memory_order_relaxed))
		atomic_store_explicit(&h->rec->owner, 0, memory_order_relaxed);
	thread_write_begin(t);
	thread_remove_held(t, h);
	thread_write_end(t);
}

void
track_wait_begin(struct thread *t, enum gw_thread_state state,
    uintptr_t addr, int kind, int mode, int timed, uintptr_t site)
{
	int saved = errno;

	/* The stack first: a reader that sees the wait sees its stack. */
	stack_capture(&t->block_stack, 0);
	thread_write_begin(t);
	t->wait.addr = addr;
	t->wait.rec = kind == GW_LOCK_THREAD ? NULL :
	    lock_get(addr, kind, site);
	t->wait.kind = (uint8_t)kind;
	t->wait.mode = (uint8_t)mode;
	t->wait.timed = (uint8_t)timed;
	t->wait.site = site;
	thread_write_end(t);
	atomic_fetch_add(&t->wait_gen, 1);
	thread_set_state(t, state);
	/* Pairs with the same fence in other waiters: one of two threads
	 * closing a cycle at once is sure to see the other's wait. */
	atomic_thread_fence(memory_order_seq_cst);
	if (!timed && state != GW_STATE_WAITING)
		deadlock_check(t);
	errno = saved;
}

void
track_wait_end(struct thread *t)
{
	thread_set_state(t, GW_STATE_RUNNING);
}

void
track_sem_taken(struct thread *t, uintptr_t addr, int now_zero,
    uintptr_t site)
{
	struct lockrec *rec = lock_get(addr, GW_LOCK_SEM, site);

	if (rec == NULL || !now_zero)
		return;
	atomic_store(&rec->owner_site, site);
	atomic_store(&rec->owner, atomic_load(&t->tid));
}

void
track_sem_posted(uintptr_t addr)
{
	struct lockrec *rec = lock_find(addr);

	if (rec != NULL)
		atomic_store(&rec->owner, 0);
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
