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

/*
 * The first HEAD bytes of a slot's object, read once: its type, and the
 * words where a lock keeps its semaphore and a bound builtin method its
 * PyMethodDef and self (all within the first 32 bytes on 3.8-3.13).
 */
#define HEAD	32

static int
head_read(const struct py_runtime *rt, uintptr_t obj, unsigned char *b)
{
	const struct py_offsets *o = rt->off;

	if (o->cf_self + 8 > HEAD || o->cf_ml + 8 > HEAD ||
	    o->lock_sem + 8 > HEAD || o->rlock_sem + 8 > HEAD)
		return -1;
	return obj == 0 ? -1 : py_read(obj, b, HEAD);
}

/* A bound builtin method (its head b): its self when it is named name
 * (NULL: any name), else 0. */
static uintptr_t
bound_self(const struct py_runtime *rt, const unsigned char *b,
    const char *name)
{
	const struct py_offsets *o = rt->off;
	uintptr_t ml, nm;
	char buf[16];

	if (rt->type_cfunction == 0 ||
	    py_ptr_at(b, o->ob_type) != rt->type_cfunction)
		return 0;
	if (name == NULL)
		return py_ptr_at(b, o->cf_self);
	ml = py_ptr_at(b, o->cf_ml);
	if (ml == 0 || py_read_ptr(ml + (uintptr_t)o->ml_name, &nm) == -1 ||
	    py_read_cstr(nm, buf, sizeof(buf)) == -1 || strcmp(buf, name) != 0)
		return 0;
	return py_ptr_at(b, o->cf_self);
}

/*
 * Read a stack's slots [0, to) a chunk at a time and call fn on each
 * object pointer (tags masked off, NULLs left out) until it returns
 * non-zero: that value, 0 at the end, -1 on a failed read.
 */
#define SLOT_CHUNK	64

static int
slots_each(const struct py_runtime *rt, const struct py_stack *st, int to,
    int (*fn)(const struct py_runtime *, const struct py_stack *, uintptr_t,
    void *), void *arg)
{
	uintptr_t v[SLOT_CHUNK];
	int n, rv;

	for (int i = 0; i < to; i += n) {
		n = to - i < SLOT_CHUNK ? to - i : SLOT_CHUNK;
		if (py_read(st->base + (uintptr_t)i * sizeof(uintptr_t), v,
		    (size_t)n * sizeof(uintptr_t)) == -1)
			return -1;
		for (int j = 0; j < n; j++)
			if (v[j] != 0 &&
			    (rv = fn(rt, st, py_ref(rt->off, v[j]), arg)) != 0)
				return rv;
	}
	return 0;
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
held_slot(const struct py_runtime *rt, const struct py_stack *st,
    uintptr_t v, void *arg)
{
	struct held *h = arg;
	unsigned char b[HEAD];
	struct py_lock l;
	uintptr_t self;

	if (head_read(rt, v, b) == -1 ||
	    (self = bound_self(rt, b, "__exit__")) == 0 ||
	    py_lock_read(rt, self, &l) == -1 || !l.locked)
		return 0;
	for (int j = 0; j < h->n; j++)
		if (h->out[j].object == l.object)
			return 0;
	l.frame = st->index;
	h->out[h->n++] = l;
	return h->n == h->max;
}

static int
held_in(const struct py_runtime *rt, const struct py_stack *st, void *arg)
{
	struct held *h = arg;

	return slots_each(rt, st, st->live, held_slot, h) != 0 ||
	    h->n == h->max;
}

int
py_tstate_held(const struct py_runtime *rt, uintptr_t ts,
    struct py_lock *out, int max)
{
	struct held h = { out, max, 0 };

	/* 3.14+ locks are PyMutexes: no semaphore to read. */
	if (max <= 0 || rt->off == NULL || rt->off->lock_sem < 0 ||
	    py_tstate_stacks(rt, ts, held_in, &h) == -1)
		return -1;
	return h.n;
}

struct waited {
	uintptr_t	 futex;
	struct py_lock	*out;
	int		 found;
};

/* Does the object whose head is b keep futex where a lock keeps its
 * semaphore? */
static int
sem_is(const struct py_runtime *rt, const unsigned char *b, uintptr_t futex)
{
	return py_ptr_at(b, rt->off->lock_sem) == futex ||
	    py_ptr_at(b, rt->off->rlock_sem) == futex;
}

static int
waited_slot(const struct py_runtime *rt, const struct py_stack *st,
    uintptr_t v, void *arg)
{
	struct waited *w = arg;
	unsigned char b[HEAD];
	uintptr_t obj = v;

	if (head_read(rt, v, b) == -1)
		return 0;
	if (!sem_is(rt, b, w->futex) && ((obj = bound_self(rt, b, NULL)) ==
	    0 || head_read(rt, obj, b) == -1 || !sem_is(rt, b, w->futex)))
		return 0;
	if (py_lock_read(rt, obj, w->out) == -1 || w->out->sem != w->futex)
		return 0;
	w->out->frame = st->index;
	w->found = 1;
	return 1;
}

/*
 * A thread in acquire() has the lock on its caller's stack: as self
 * under the method (lock.acquire()), as the context manager of a
 * `with` (3.12+ keep it there during __enter__), or inside the bound
 * __enter__ or __exit__ that a `with` put there.  Stale slots count
 * too: the semaphore's address must equal the one the thread waits on,
 * and the type is checked last, on that one object only.
 */
static int
waited_in(const struct py_runtime *rt, const struct py_stack *st, void *arg)
{
	struct waited *w = arg;

	return slots_each(rt, st, st->size, waited_slot, w) != 0 ||
	    st->index + 1 >= WAIT_FRAMES;
}

int
py_tstate_waits(const struct py_runtime *rt, uintptr_t ts, uintptr_t futex,
    struct py_lock *l)
{
	struct waited w = { futex, l, 0 };

	memset(l, 0, sizeof(*l));
	if (futex == 0 || rt->off == NULL || rt->off->lock_sem < 0 ||
	    py_tstate_stacks(rt, ts, waited_in, &w) == -1 || !w.found) {
		memset(l, 0, sizeof(*l));
		return -1;
	}
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
