/*
 * What a Python thread waits on: see py.h.
 *
 * threading builds every blocking primitive but Lock and RLock on
 * Condition.wait, which blocks on a private lock the waiting thread
 * took itself; the native view of that is a thread waiting for its own
 * semaphore.  The objects that say what it really waits for (the
 * Condition, and the Semaphore, Event or Queue the Condition belongs
 * to) are the `self` of the frames on the way in, so they are read from
 * there: the first local of a method's frame is self.
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "py.h"

#define SLOTS	4	/* locals looked at for what holds a Condition */

/* Is f in threading.py (any directory)? */
static int
in_threading(const struct py_frame *f)
{
	static const char base[] = "threading.py";
	size_t n = strlen(f->file), m = sizeof(base) - 1;

	return n >= m && strcmp(f->file + n - m, base) == 0 &&
	    (n == m || f->file[n - m - 1] == '/');
}

/*
 * Is f threading's Class.name?  Before 3.11 code has no qualified name:
 * the function's name in threading.py then stands for it, and the type
 * of self is checked by the caller.
 */
static int
frame_is(const struct py_frame *f, const char *qualname)
{
	const char *dot = strrchr(qualname, '.');

	if ((f->flags & PY_FRAME_INVALID) || !in_threading(f))
		return 0;
	if (f->qualname[0] != '\0')
		return strcmp(f->qualname, qualname) == 0;
	return strcmp(f->function, dot != NULL ? dot + 1 : qualname) == 0;
}

/* The frame's local i (0: self, in a method), or 0. */
static uintptr_t
local(const struct py_runtime *rt, const struct py_frame *f, int i)
{
	uintptr_t v;

	if ((f->flags & PY_FRAME_INVALID) ||
	    py_frame_local(rt, f->frame, i, &v) == -1)
		return 0;
	return v;
}

/* self in frame i, with its type's name; -1 when unreadable. */
static int
self_of(const struct py_runtime *rt, const struct py_frame *frames, int n,
    int i, uintptr_t *obj, char *type, size_t size)
{
	if (i < 0 || i >= n)
		return -1;
	*obj = local(rt, &frames[i], 0);
	return py_type_name(rt, *obj, type, size);
}

/*
 * The object in the frame's first locals that has the Condition cond as
 * an attribute: self of the method that waits, as a rule.  A self that
 * a closure captures (Barrier._wait) is in a cell: from 3.11 the cell
 * takes self's slot, before it the slot is empty and the cell follows
 * the locals; hence a few slots, each checked by the attribute.
 */
static int
holder_of(const struct py_runtime *rt, const struct py_frame *f,
    uintptr_t cond, struct py_wait *w)
{
	char type[PY_NAME_MAX];
	uintptr_t obj;
	int i;

	for (i = 0; i < SLOTS; i++) {
		obj = local(rt, f, i);
		if (py_type_name(rt, obj, type, sizeof(type)) == -1)
			continue;
		if (strcmp(type, "cell") == 0 && (rt->off->cell_ref <= 0 ||
		    py_read_ptr(obj + (uintptr_t)rt->off->cell_ref,
		    &obj) == -1 || py_type_name(rt, obj, type, sizeof(type)) == -1))
			continue;
		if (obj == cond || py_attr_naming(rt, obj, cond, w->via_attr,
		    sizeof(w->via_attr)) == -1)
			continue;
		w->via = obj;
		memcpy(w->via_type, type, sizeof(w->via_type));
		return 0;
	}
	return -1;
}

/* The Condition's own lock (its _lock attribute), or 0.  The threads
 * waiting on one Queue or Event look it up once a dump. */
static uintptr_t
cond_lock(const struct py_runtime *rt, uintptr_t cond)
{
	static _Atomic long hash_lock = -1;	/* of "_lock" */
	long h = atomic_load_explicit(&hash_lock, memory_order_relaxed);
	uintptr_t lock, *kept;

	if ((kept = py_cache_get(rt, PY_CACHE_CONDLOCK, cond)) != NULL)
		return *kept;
	if (py_attr_get(rt, cond, "_lock", &h, &lock) == -1)
		return 0;
	atomic_store_explicit(&hash_lock, h, memory_order_relaxed);
	if (py_cache_of(rt) != NULL && (kept = malloc(sizeof(*kept))) != NULL) {
		*kept = lock;
		(void)py_cache_put(rt, PY_CACHE_CONDLOCK, cond, kept);
	}
	return lock;
}

/*
 * 3.14: does a thread park on the Condition's own lock?  Its Lock or
 * RLock is a PyMutex there, and every blocked acquire parks on a
 * semaphore of the thread's own, so the semaphore alone cannot tell a
 * wait for a notify (on the private waiter lock) from one to take
 * _lock back after it; a parked bit on _lock can.  1 parked, or unknown
 * (not a _thread lock, unreadable); 0 not parked.
 */
static int
cond_lock_parked(const struct py_runtime *rt, uintptr_t lock)
{
	struct py_lock l;

	return lock == 0 || py_lock_read(rt, lock, &l) == -1 || l.parked;
}

/*
 * Condition.wait, called directly or through Condition.wait_for; the
 * frame after those is the one that waits, and what holds the
 * Condition there is what the program waits through.
 */
static int
notify_wait(const struct py_runtime *rt, const struct py_frame *f, int n,
    struct py_wait *w)
{
	int i = 1;

	if (self_of(rt, f, n, 0, &w->object, w->type, sizeof(w->type)) == -1)
		return -1;
	while (i < n && frame_is(&f[i], "Condition.wait_for") &&
	    local(rt, &f[i], 0) == w->object)
		i++;
	w->kind = PY_WAIT_NOTIFY;
	w->at = i < n ? i : 0;
	w->lock = cond_lock(rt, w->object);
	if (rt->off->mx_parked > 0)
		w->lock_parked = cond_lock_parked(rt, w->lock);
	if (i < n)
		(void)holder_of(rt, &f[i], w->object, w);
	return 0;
}

/*
 * Thread.join (through Thread._wait_for_tstate_lock up to 3.12); the
 * thread joined is found by its Thread object in threading._active.
 */
static int
join_wait(const struct py_runtime *rt, unsigned long thread_id,
    const struct py_frame *f, int n, int i, struct py_wait *w)
{
	uintptr_t ts;

	if (self_of(rt, f, n, i, &w->object, w->type, sizeof(w->type)) == -1)
		return -1;
	w->kind = PY_WAIT_JOIN;
	w->at = i + 1 < n ? i + 1 : i;
	if (py_thread_tstate(rt, thread_id, 0, &ts) == -1 ||
	    py_thread_ident(rt, ts, w->object, &w->joined) == -1)
		w->joined = 0;
	return 0;
}

int
py_thread_wait(const struct py_runtime *rt, unsigned long thread_id,
    const struct py_frame *frames, int n, struct py_wait *w)
{
	int rv = -1;

	memset(w, 0, sizeof(*w));
	if (rt->off == NULL || n <= 0)
		return -1;
	if (frame_is(&frames[0], "Condition.wait"))
		rv = notify_wait(rt, frames, n, w);
	else if (frame_is(&frames[0], "Thread.join"))
		rv = join_wait(rt, thread_id, frames, n, 0, w);
	else if (n > 1 && frame_is(&frames[0], "Thread._wait_for_tstate_lock")
	    && frame_is(&frames[1], "Thread.join"))
		rv = join_wait(rt, thread_id, frames, n, 1, w);
	if (rv == -1)
		memset(w, 0, sizeof(*w));
	return rv;
}
