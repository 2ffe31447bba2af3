/* Actual deadlock detection: see deadlock.h. */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "config.h"
#include "deadlock.h"
#include "gil.h"
#include "lock.h"
#include "msg.h"
#include "pages.h"
#include "py.h"
#include "stall.h"
#include "ulock.h"
#include "share.h"

#define DEADLOCK_MAX_CYCLE	65536	/* threads in one cycle */
#define DEADLOCK_REMEMBER	256	/* cycles remembered as reported */
#define JOIN_FRAMES		4	/* Python frames read to see a join */

static GW_SHARED struct ulock reported_lock = ULOCK_INIT;
static GW_SHARED uint64_t reported[DEADLOCK_REMEMBER];
static GW_SHARED unsigned nreported;

/* A consistent copy of t's wait, or 0 when t is not in a lock wait. */
static int
read_wait(struct thread *t, struct waitinfo *w, unsigned *gen)
{
	struct wait_copy c;

	if (thread_copy_wait(t, &c) == -1)
		return 0;
	*w = c.wait;
	if (gen != NULL)
		*gen = c.gen;
	return (c.state == GW_STATE_BLOCKED ||
	    c.state == GW_STATE_JOINING) && !c.wait.timed;
}

/*
 * The idx-th thread other than u holding addr in a way that excludes
 * `mode`, found in the threads' held arrays.  Racy by design: the
 * caller verifies what it finds.
 */
static struct thread *
nth_holder(uintptr_t addr, int mode, int idx, uintptr_t *site)
{
	struct thread *u;
	uint32_t i, n;
	struct held *h;

	for (u = thread_first(); u != NULL; u = u->next) {
		if (!atomic_load(&u->in_use) || u->internal)
			continue;
		n = u->nheld;
		h = u->held;
		for (i = 0; i < n && i < u->cap; i++) {
			if (h[i].addr != addr)
				continue;
			if (mode == GW_MODE_SHARED &&
			    h[i].mode == GW_MODE_SHARED)
				continue;
			if (idx-- == 0) {
				*site = h[i].site;
				return u;
			}
			break;
		}
	}
	return NULL;
}

/* The thread t's Python code joins, read for this wait (gen), or NULL. */
static struct thread *
py_joined(struct thread *t, unsigned gen)
{
	unsigned long joined;

	if (atomic_load_explicit(&t->py_join_gen, memory_order_acquire) !=
	    gen + 1)
		return NULL;
	joined = atomic_load_explicit(&t->py_join, memory_order_relaxed);
	return joined != 0 ? thread_by_pthread((pthread_t)joined) : NULL;
}

int
deadlock_edge(void *ctx, void *node, int idx, struct wf_edge *e)
{
	struct thread *t = node, *u = NULL;
	struct waitinfo w;
	unsigned gen;
	int owner;

	if (!read_wait(t, &w, &gen))
		return 0;
	e->lock = w.addr;
	e->kind = w.kind;
	e->mode = w.mode;
	e->site = 0;
	/*
	 * A C semaphore has no owner.  A Python lock is one too, but is
	 * released by its taker in all but Condition.wait's use, which
	 * has no edge (below): it counts as owned, as a mutex.
	 */
	e->hint = w.kind == GW_LOCK_SEM && !gil_is_python_lock_call(w.site);
	if (w.kind == GW_LOCK_THREAD) {
		if (idx == 0)
			u = thread_by_pthread(w.target);
	} else if (w.kind == GW_LOCK_GIL) {
		if (idx == 0)
			u = gil_holder_thread();
	} else if (w.rec != NULL && w.kind != GW_LOCK_RWLOCK) {
		owner = atomic_load(&w.rec->owner);
		if (idx == 0 && owner != 0) {
			u = owner == atomic_load(&t->tid) ? t :
			    thread_by_tid_hint(owner,
			    atomic_load(&w.rec->owner_thread));
			e->site = atomic_load(&w.rec->owner_site);
		}
		/*
		 * A thread waiting on a semaphore it took itself waits for
		 * somebody else's post (Python's Condition.wait does just
		 * that with a lock): not a deadlock on its own.
		 */
		if (w.kind == GW_LOCK_SEM && u == t)
			u = NULL;
		if (w.kind == GW_LOCK_SEM && u == NULL && idx == 0 &&
		    (u = py_joined(t, gen)) != NULL) {
			e->lock = (uintptr_t)u->self;
			e->kind = GW_LOCK_THREAD;
			e->site = 0;
			e->hint = 0;
		}
	} else if (w.kind != GW_LOCK_SEM)
		u = nth_holder(w.addr, w.mode, idx, &e->site);
	if (u == NULL)
		return 0;
	e->to = u;
	return 1;
}

/*
 * t's room for a search, as long as a cycle through every thread.  It
 * grows by doubling from a page's worth: a page is the least the shared
 * arena gives, and each old one goes back with a hole punched in the
 * memory shared with the monitor, which cost 0.1 to 4 ms on the Intel
 * Xeon VM; grown one thread at a time, it took a 4-thread Python
 * program's first GIL waits 10 ms.
 */
#define SCRATCH_MIN	(4096 / sizeof(struct wf_frame))

static struct wf_frame *
scratch(struct thread *t, int *max)
{
	size_t need = (size_t)thread_count() + 2;

	if (need > DEADLOCK_MAX_CYCLE)
		need = DEADLOCK_MAX_CYCLE;
	if (t->scratch_len < need) {
		void *p;

		if (need < SCRATCH_MIN)
			need = SCRATCH_MIN;
		if (need < 2 * t->scratch_len)
			need = 2 * t->scratch_len;
		if (need > DEADLOCK_MAX_CYCLE)
			need = DEADLOCK_MAX_CYCLE;
		if ((p = pages_map(need * sizeof(struct wf_frame))) == NULL)
			return NULL;
		if (t->scratch != NULL)
			pages_unmap(t->scratch,
			    t->scratch_len * sizeof(struct wf_frame));
		t->scratch = p;
		t->scratch_len = need;
	}
	*max = (int)t->scratch_len;
	return t->scratch;
}

/* Each edge of the cycle still there, a second look later. */
static int
still_there(struct wf_frame *f, int n)
{
	struct wf_edge e;
	int i, k, found;

	for (i = 0; i < n; i++) {
		found = 0;
		for (k = 0; deadlock_edge(NULL, f[i].node, k, &e); k++)
			if (e.to == f[i].edge.to && e.lock == f[i].edge.lock) {
				found = 1;
				break;
			}
		if (!found)
			return 0;
	}
	return 1;
}

/*
 * A semaphore has no owner: its edge leads to the thread that took it
 * last, a hint, and any other thread may post it.
 */
static int
through_semaphore(const struct wf_frame *f, int n)
{
	int i;

	for (i = 0; i < n; i++)
		if (f[i].edge.hint)
			return 1;
	return 0;
}

int
deadlock_actual(struct wf_frame *f, int n)
{
	if (!still_there(f, n))
		return 0;
	return !through_semaphore(f, n) || stall_now();
}

static int
first_report(uint64_t sig)
{
	unsigned i;
	int first = 1;

	ulock_lock(&reported_lock);
	for (i = 0; i < nreported && i < DEADLOCK_REMEMBER; i++)
		if (reported[i] == sig)
			first = 0;
	if (first)
		reported[nreported++ % DEADLOCK_REMEMBER] = sig;
	ulock_unlock(&reported_lock);
	return first;
}

/*
 * From a hook (helper 0), only a cycle of owned locks is judged: one
 * through a semaphore waits for the helper's scan and the stall rule.
 */
static int
search_from(struct thread *start, struct thread *scratch_owner, int helper,
    struct wf_frame **cycle)
{
	struct wf_frame *f;
	int n, max;

	f = scratch(scratch_owner, &max);
	if (f == NULL)
		return 0;
	n = wf_find_cycle(deadlock_edge, NULL, start, f, max);
	if (n <= 0)
		return 0;
	if (helper ? !deadlock_actual(f, n) :
	    through_semaphore(f, n) || !still_there(f, n))
		return 0;
	if (!first_report(wf_cycle_signature(f, n)))
		return 0;
	*cycle = f;
	return n;
}

int
deadlock_check(struct thread *t, struct wf_frame **cycle)
{
	int n;

	thread_enter_shim();
	n = search_from(t, t, 0, cycle);
	thread_leave_shim();
	return n;
}

/*
 * A thread waiting on a semaphore nobody else holds may be in a CPython
 * 3.13 Thread.join: read its Python frames, once per wait, and note the
 * thread it joins for deadlock_edge.
 */
static void
see_py_join(struct thread *t, const struct waitinfo *w, unsigned gen)
{
	struct py_frame f[JOIN_FRAMES];
	struct py_wait pw;
	unsigned long joined = 0;
	int n, owner;

	if (gil_runtime() == NULL || w->kind != GW_LOCK_SEM ||
	    w->rec == NULL || atomic_load(&t->py_join_gen) == gen + 1)
		return;
	owner = atomic_load(&w->rec->owner);
	if (owner != 0 && owner != atomic_load(&t->tid))
		return;
	/* A Python lock (Condition.wait's, most often) is no join. */
	if (gil_is_python_lock_call(w->site))
		return;
	n = gil_thread_frames(t, f, JOIN_FRAMES);
	if (n > 0 && gil_thread_wait(t, w, f, n, &pw) == 0 &&
	    pw.kind == PY_WAIT_JOIN)
		joined = pw.joined;
	atomic_store_explicit(&t->py_join, joined, memory_order_relaxed);
	atomic_store_explicit(&t->py_join_gen, gen + 1, memory_order_release);
}

int
deadlock_scan(struct thread **from, struct wf_frame **cycle)
{
	static struct thread self;	/* the helper's scratch holder */
	struct thread *t;
	struct waitinfo w;
	unsigned gen;
	int n;

	/*
	 * One pass: a cycle through a join seen only now is found from its
	 * last thread in the list, by when every join in it is noted.
	 */
	for (t = *from == NULL ? thread_first() : (*from)->next; t != NULL;
	    t = t->next) {
		if (!atomic_load(&t->in_use) || t->internal ||
		    !read_wait(t, &w, &gen))
			continue;
		see_py_join(t, &w, gen);
		if ((n = search_from(t, &self, 1, cycle)) > 0) {
			*from = t;
			return n;
		}
	}
	return 0;
}

void
deadlock_reset(void)
{
	ulock_init(&reported_lock);
	nreported = 0;
}
