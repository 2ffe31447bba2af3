/*
 * Python's own locks seen from memory (py.h: py_lock_read and after):
 * who holds a threading.Lock or RLock, and which one a blocked thread
 * waits for, read without stopping anything.
 *
 * 3.8-3.13 only: there a _thread.lock is a sem_t * (+16) and a locked
 * byte, an RLock a sem_t *, its owner's pthread_t and a count, and a
 * blocked acquire waits on that semaphore's futex word.  3.14's locks
 * are PyMutexes whose waiters park on semaphores of their own.
 *
 * An RLock names its owner.  A Lock records none; what shows its
 * holder is the `with lock:` block: entering it leaves the lock's bound
 * __exit__ on the frame's value stack until the block ends.  Only the
 * slots known to be live are believed (py_tstate_stacks), and the lock
 * must be locked; even so the holder is inferred, not recorded.
 */
#include <string.h>

#include "py.h"

#define WAIT_FRAMES	4	/* innermost frames searched for the lock
				   a thread waits for */

/* A bound builtin method: its self when it is named name (NULL: any
 * name), else 0. */
static uintptr_t
bound_self(const struct py_runtime *rt, uintptr_t obj, const char *name)
{
	const struct py_offsets *o = rt->off;
	unsigned char b[64];
	uintptr_t ml, nm;
	char buf[16];
	size_t len = (size_t)(o->cf_self > o->cf_ml ? o->cf_self : o->cf_ml) +
	    sizeof(uintptr_t);

	if (rt->type_cfunction == 0 || obj == 0 || len > sizeof(b) ||
	    py_read(obj, b, len) == -1 ||
	    py_ptr_at(b, o->ob_type) != rt->type_cfunction)
		return 0;
	ml = py_ptr_at(b, o->cf_ml);
	if (name == NULL)
		return py_ptr_at(b, o->cf_self);
	if (ml == 0 || py_read_ptr(ml + (uintptr_t)o->ml_name, &nm) == -1 ||
	    py_read_cstr(nm, buf, sizeof(buf)) == -1 || strcmp(buf, name) != 0)
		return 0;
	return py_ptr_at(b, o->cf_self);
}

int
py_lock_read(const struct py_runtime *rt, uintptr_t obj, struct py_lock *l)
{
	const struct py_offsets *o = rt->off;
	char type[PY_NAME_MAX];
	unsigned char locked;

	memset(l, 0, sizeof(*l));
	if (o == NULL || o->lock_sem < 0 || o->rlock_sem < 0 || obj == 0 ||
	    py_type_name(rt, obj, type, sizeof(type)) == -1)
		return -1;
	l->object = obj;
	if (strcmp(type, "_thread.lock") == 0) {
		l->kind = PY_LOCK_LOCK;
		if (py_read_ptr(obj + (uintptr_t)o->lock_sem, &l->sem) == -1 ||
		    py_read(obj + (uintptr_t)o->lock_locked, &locked, 1) == -1)
			goto bad;
		l->locked = locked != 0;
		return 0;
	}
	if (strcmp(type, "_thread.RLock") == 0) {
		l->kind = PY_LOCK_RLOCK;
		if (py_read_ptr(obj + (uintptr_t)o->rlock_sem, &l->sem) == -1 ||
		    py_read_ulong(obj + (uintptr_t)o->rlock_owner,
		    &l->owner) == -1 ||
		    py_read_ulong(obj + (uintptr_t)o->rlock_count,
		    &l->count) == -1)
			goto bad;
		l->locked = l->count > 0;
		if (!l->locked)
			l->owner = 0;
		return 0;
	}
bad:
	memset(l, 0, sizeof(*l));
	return -1;
}

struct held {
	struct py_lock	*out;
	int		 max, n;
};

static int
held_in(const struct py_runtime *rt, const struct py_stack *st, void *arg)
{
	struct held *h = arg;
	uintptr_t v, self;
	struct py_lock l;
	int dup;

	for (int i = 0; i < st->live && h->n < h->max; i++) {
		if (py_read_ptr(st->base + (uintptr_t)i * sizeof(uintptr_t),
		    &v) == -1)
			return 1;
		if ((self = bound_self(rt, py_ref(rt->off, v),
		    "__exit__")) == 0 || py_lock_read(rt, self, &l) == -1 ||
		    !l.locked)
			continue;
		dup = 0;
		for (int j = 0; j < h->n; j++)
			dup |= h->out[j].object == l.object;
		if (!dup) {
			l.frame = st->index;
			h->out[h->n++] = l;
		}
	}
	return h->n == h->max;
}

int
py_tstate_held(const struct py_runtime *rt, uintptr_t ts,
    struct py_lock *out, int max)
{
	struct held h = { out, max, 0 };

	if (max <= 0 || py_tstate_stacks(rt, ts, held_in, &h) == -1)
		return -1;
	return h.n;
}

struct waited {
	uintptr_t	 futex;
	struct py_lock	*out;
	int		 found;
};

/*
 * A thread in acquire() has the lock on its caller's stack: as self
 * under the method (lock.acquire()), or inside the bound __enter__ or
 * __exit__ that a `with` put there.  Stale slots count too: the
 * semaphore's address must equal the one the thread waits on.
 */
static int
waited_in(const struct py_runtime *rt, const struct py_stack *st, void *arg)
{
	struct waited *w = arg;
	uintptr_t v, obj;
	struct py_lock l;

	for (int i = 0; i < st->size; i++) {
		if (py_read_ptr(st->base + (uintptr_t)i * sizeof(uintptr_t),
		    &v) == -1)
			break;
		v = py_ref(rt->off, v);
		if (v == 0)
			continue;
		if ((obj = bound_self(rt, v, NULL)) == 0)
			obj = v;
		if (py_lock_read(rt, obj, &l) == 0 && l.sem == w->futex) {
			l.frame = st->index;
			*w->out = l;
			w->found = 1;
			return 1;
		}
	}
	return st->index + 1 >= WAIT_FRAMES;
}

int
py_tstate_waits(const struct py_runtime *rt, uintptr_t ts, uintptr_t futex,
    struct py_lock *l)
{
	struct waited w = { futex, l, 0 };

	memset(l, 0, sizeof(*l));
	if (futex == 0 || py_tstate_stacks(rt, ts, waited_in, &w) == -1 ||
	    !w.found)
		return -1;
	return 0;
}

unsigned long
py_lock_holder(const struct py_lock *l, const struct py_holds *h, int n,
    int *inferred)
{
	unsigned long who = 0;
	int claims = 0;

	*inferred = 0;
	if (l->kind == PY_LOCK_RLOCK)
		return l->locked ? l->owner : 0;
	if (l->kind != PY_LOCK_LOCK || !l->locked)
		return 0;
	for (int i = 0; i < n; i++)
		for (int j = 0; j < h[i].n; j++)
			if (h[i].locks[j].object == l->object) {
				who = h[i].thread_id;
				claims++;
				break;
			}
	if (claims != 1)
		return 0;
	*inferred = 1;
	return who;
}
