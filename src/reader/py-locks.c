/*
 * Python's own locks seen from memory (py.h: py_lock_read and after):
 * who holds a threading.Lock or RLock, and which one a blocked thread
 * waits for, read without stopping anything.
 *
 * 3.8-3.13: a _thread.lock is a sem_t * (+16) and a locked byte, an
 * RLock a sem_t *, its owner's pthread_t and a count, and a blocked
 * acquire waits on that semaphore's futex word.  3.14+: a lock is a
 * PyMutex (an RLock a _PyRecursiveMutex, which records its owner's
 * pthread_t), and a blocked acquire parks in the parking lot: it sleeps
 * on the semaphore of a wait_entry on its own stack, whose addr is the
 * address of the lock's PyMutex.  3.13t mixes the two: its Lock is a
 * PyMutex, its RLock a semaphore (the table says which, per type).
 * Either way a lock is named by one address (py_lock.word) that a
 * waiter's futex word leads to exactly.
 *
 * An RLock names its owner.  A Lock records none; what shows its
 * holder is the `with lock:` block: entering it leaves the lock's
 * __exit__ on the frame's value stack until the block ends (bound up to
 * 3.13; from 3.14 LOAD_SPECIAL leaves the unbound method descriptor and
 * the lock beside it).  Only the slots known to be live are believed
 * (py_tstate_stacks), and the lock must be locked; even so the holder
 * is inferred, not recorded.
 */
#include <string.h>

#include "py.h"

#define WAIT_FRAMES	4	/* innermost frames searched for the lock
				   a thread waits for */

/*
 * The first HEAD bytes of a slot's object, read once: its type, and the
 * words where a lock keeps its semaphore, a bound builtin method its
 * PyMethodDef and self, a method descriptor its type and PyMethodDef
 * (all within the first 64 bytes on 3.8-3.15: a free-threaded build's
 * object header is 16 bytes longer, which puts a method descriptor's
 * PyMethodDef at 56).  A layout beyond HEAD reads no lock at all.
 */
#define HEAD	64

static int
head_read(const struct py_runtime *rt, uintptr_t obj, unsigned char *b)
{
	const struct py_offsets *o = rt->off;

	if (o->cf_self + 8 > HEAD || o->cf_ml + 8 > HEAD ||
	    o->lock_sem + 8 > HEAD || o->rlock_sem + 8 > HEAD ||
	    o->md_type + 8 > HEAD || o->md_method + 8 > HEAD)
		return -1;
	return obj == 0 ? -1 : py_read(obj, b, HEAD);
}

/* Is a lock of this kind a PyMutex (3.14+, 3.13t's Lock), rather than a
 * semaphore? */
static int
mutex_kind(const struct py_offsets *o, enum py_lock_kind kind)
{
	return kind == PY_LOCK_RLOCK ? o->rlock_sem < 0 &&
	    o->rlock_locked >= 0 : o->lock_sem < 0 && o->lock_locked >= 0;
}

/* Is a lock of this kind's layout known (measured for the table)? */
static int
kind_known(const struct py_offsets *o, enum py_lock_kind kind)
{
	return (kind == PY_LOCK_RLOCK ? o->rlock_sem : o->lock_sem) >= 0 ||
	    mutex_kind(o, kind);
}

/* Are the version's lock layouts known, both kinds? */
static int
locks_known(const struct py_offsets *o)
{
	return o != NULL && kind_known(o, PY_LOCK_LOCK) &&
	    kind_known(o, PY_LOCK_RLOCK);
}

/* Is the PyMethodDef at ml named name? */
static int
method_named(const struct py_runtime *rt, uintptr_t ml, const char *name)
{
	uintptr_t nm;
	char buf[16];

	return ml != 0 && py_read_ptr(ml + (uintptr_t)rt->off->ml_name,
	    &nm) == 0 && py_read_cstr(nm, buf, sizeof(buf)) == 0 &&
	    strcmp(buf, name) == 0;
}

/* A bound builtin method (its head b): its self when it is named name
 * (NULL: any name), else 0. */
static uintptr_t
bound_self(const struct py_runtime *rt, const unsigned char *b,
    const char *name)
{
	const struct py_offsets *o = rt->off;

	if (rt->type_cfunction == 0 ||
	    py_ptr_at(b, o->ob_type) != rt->type_cfunction)
		return 0;
	if (name != NULL && !method_named(rt, py_ptr_at(b, o->cf_ml), name))
		return 0;
	return py_ptr_at(b, o->cf_self);
}

/* An unbound method descriptor (its head b) named name: the type it
 * belongs to, else 0. */
static uintptr_t
descr_type(const struct py_runtime *rt, const unsigned char *b,
    const char *name)
{
	const struct py_offsets *o = rt->off;

	if (rt->type_method_descr == 0 || o->md_type < 0 ||
	    py_ptr_at(b, o->ob_type) != rt->type_method_descr ||
	    !method_named(rt, py_ptr_at(b, o->md_method), name))
		return 0;
	return py_ptr_at(b, o->md_type);
}

/*
 * Read a stack's slots [0, to) a chunk at a time and call fn on each
 * object pointer (tags masked off, NULLs left out) and its slot's index
 * until it returns non-zero: that value, 0 at the end, -1 on a failed
 * read.
 */
#define SLOT_CHUNK	64

static int
slots_each(const struct py_runtime *rt, const struct py_stack *st, int to,
    int (*fn)(const struct py_runtime *, const struct py_stack *, int,
    uintptr_t, void *), void *arg)
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
			    (rv = fn(rt, st, i + j, py_ref(rt->off, v[j]),
			    arg)) != 0)
				return rv;
	}
	return 0;
}

/* A semaphore lock (3.8-3.13): a lock's semaphore and locked byte, an
 * RLock's semaphore, owner and count. */
static int
sem_lock_read(const struct py_runtime *rt, uintptr_t obj, struct py_lock *l)
{
	const struct py_offsets *o = rt->off;
	unsigned char locked;

	if (l->kind == PY_LOCK_LOCK) {
		if (py_read_ptr(obj + (uintptr_t)o->lock_sem, &l->word) == -1 ||
		    py_read(obj + (uintptr_t)o->lock_locked, &locked, 1) == -1)
			return -1;
		l->locked = locked != 0;
		return 0;
	}
	if (py_read_ptr(obj + (uintptr_t)o->rlock_sem, &l->word) == -1 ||
	    py_read_ulong(obj + (uintptr_t)o->rlock_owner, &l->owner) == -1 ||
	    py_read_ulong(obj + (uintptr_t)o->rlock_count, &l->count) == -1)
		return -1;
	l->locked = l->count > 0;
	return 0;
}

/*
 * A PyMutex lock (3.14+, 3.13t's Lock): its bits (1 locked, mx_parked:
 * a thread parks on it); an RLock's _PyRecursiveMutex also keeps its
 * owner's pthread_t, stored just after the mutex is taken and cleared
 * just before it is let go, and a level that counts the acquires after
 * the first.
 */
static int
mutex_lock_read(const struct py_runtime *rt, uintptr_t obj,
    struct py_lock *l)
{
	const struct py_offsets *o = rt->off;
	unsigned char bits;
	unsigned long level;

	l->word = obj + (uintptr_t)(l->kind == PY_LOCK_LOCK ? o->lock_locked :
	    o->rlock_locked);
	if (py_read(l->word, &bits, 1) == -1)
		return -1;
	l->locked = (bits & 1) != 0;
	l->parked = (bits & o->mx_parked) != 0;
	if (l->kind == PY_LOCK_LOCK)
		return 0;
	if (py_read_ulong(obj + (uintptr_t)o->rlock_owner, &l->owner) == -1 ||
	    py_read_ulong(obj + (uintptr_t)o->rlock_count, &level) == -1)
		return -1;
	l->count = l->locked ? level + 1 : 0;
	return 0;
}

int
py_lock_read(const struct py_runtime *rt, uintptr_t obj, struct py_lock *l)
{
	const struct py_offsets *o = rt->off;
	char type[PY_NAME_MAX];
	int rv;

	memset(l, 0, sizeof(*l));
	if (!locks_known(o) || obj == 0 ||
	    py_type_name(rt, obj, type, sizeof(type)) == -1)
		return -1;
	if (strcmp(type, "_thread.lock") == 0)
		l->kind = PY_LOCK_LOCK;
	else if (strcmp(type, "_thread.RLock") == 0)
		l->kind = PY_LOCK_RLOCK;
	else
		return -1;
	l->object = obj;
	rv = mutex_kind(o, l->kind) ? mutex_lock_read(rt, obj, l) :
	    sem_lock_read(rt, obj, l);
	if (rv == -1) {
		memset(l, 0, sizeof(*l));
		return -1;
	}
	if (!l->locked)
		l->owner = 0;
	return 0;
}

struct held {
	struct py_lock	*out;
	int		 max, n;
	int		 exit_at;	/* slot of an unbound __exit__ just
					   seen, or -1 */
	uintptr_t	 exit_type;	/* the type it is a method of */
};

/*
 * A lock held by a `with` block: the bound __exit__ (up to 3.13), or
 * the lock itself in the slot after its type's unbound __exit__ (3.14+:
 * LOAD_SPECIAL pushes the method descriptor, then self).
 */
static int
held_slot(const struct py_runtime *rt, const struct py_stack *st, int i,
    uintptr_t v, void *arg)
{
	struct held *h = arg;
	unsigned char b[HEAD];
	struct py_lock l;
	uintptr_t self = 0;
	int pair = h->exit_at == i - 1;

	h->exit_at = -1;
	if (head_read(rt, v, b) == -1)
		return 0;
	if (pair && py_ptr_at(b, rt->off->ob_type) == h->exit_type)
		self = v;
	else if ((self = bound_self(rt, b, "__exit__")) == 0 &&
	    (h->exit_type = descr_type(rt, b, "__exit__")) != 0)
		h->exit_at = i;
	if (self == 0 || py_lock_read(rt, self, &l) == -1 || !l.locked)
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

	h->exit_at = -1;
	return slots_each(rt, st, st->live, held_slot, h) != 0 ||
	    h->n == h->max;
}

int
py_tstate_held(const struct py_runtime *rt, uintptr_t ts,
    struct py_lock *out, int max)
{
	struct held h = { out, max, 0, -1, 0 };

	if (max <= 0 || !locks_known(rt->off) ||
	    py_tstate_stacks(rt, ts, held_in, &h) == -1)
		return -1;
	return h.n;
}

/*
 * The words that name the lock a thread sleeping on a futex word would
 * wait for: a semaphore lock's is that futex word itself; a PyMutex
 * lock's is the addr of the parking lot's wait_entry whose semaphore
 * the futex word is (a thread parked on something else gives a word no
 * lock has).  A version with both kinds (3.13t) tries both.
 */
struct words {
	uintptr_t	 sem;
	uintptr_t	 mutex;		/* 0: no PyMutex lock, or unreadable */
};

static void
words_of(const struct py_runtime *rt, uintptr_t futex, struct words *w)
{
	const struct py_offsets *o = rt->off;

	w->sem = futex;
	w->mutex = 0;
	if ((mutex_kind(o, PY_LOCK_LOCK) || mutex_kind(o, PY_LOCK_RLOCK)) &&
	    o->pk_addr > 0 && futex >= (uintptr_t)o->pk_addr &&
	    py_read_ptr(futex - (uintptr_t)o->pk_addr, &w->mutex) == -1)
		w->mutex = 0;
}

/* The word of w a lock of this kind would be named by. */
static uintptr_t
word_for(const struct py_offsets *o, enum py_lock_kind kind,
    const struct words *w)
{
	return mutex_kind(o, kind) ? w->mutex : w->sem;
}

/* Is obj, whose head is b, a lock named by one of w: its semaphore, its
 * PyMutex, as its kind has?  The type is checked later. */
static int
word_is(const struct py_runtime *rt, uintptr_t obj, const unsigned char *b,
    const struct words *w)
{
	const struct py_offsets *o = rt->off;

	return (mutex_kind(o, PY_LOCK_LOCK) ?
	    obj + (uintptr_t)o->lock_locked == w->mutex :
	    py_ptr_at(b, o->lock_sem) == w->sem) ||
	    (mutex_kind(o, PY_LOCK_RLOCK) ?
	    obj + (uintptr_t)o->rlock_locked == w->mutex :
	    py_ptr_at(b, o->rlock_sem) == w->sem);
}

/* Read obj, found by word_is, as the lock w names: 0, or -1 when it is
 * no lock, or a lock of the other kind that only looked like it. */
static int
lock_named(const struct py_runtime *rt, uintptr_t obj,
    const struct words *w, struct py_lock *l)
{
	if (py_lock_read(rt, obj, l) == 0 &&
	    l->word == word_for(rt->off, l->kind, w))
		return 0;
	memset(l, 0, sizeof(*l));
	return -1;
}

struct waited {
	struct words	 words;		/* naming the lock sought */
	struct py_lock	*out;
	int		 found;
};

static int
waited_slot(const struct py_runtime *rt, const struct py_stack *st, int i,
    uintptr_t v, void *arg)
{
	struct waited *w = arg;
	unsigned char b[HEAD];
	uintptr_t obj = v;

	(void)i;
	if (head_read(rt, v, b) == -1)
		return 0;
	if (!word_is(rt, obj, b, &w->words) && ((obj = bound_self(rt, b,
	    NULL)) == 0 || head_read(rt, obj, b) == -1 ||
	    !word_is(rt, obj, b, &w->words)))
		return 0;
	if (lock_named(rt, obj, &w->words, w->out) == -1)
		return 0;
	w->out->frame = st->index;
	w->found = 1;
	return 1;
}

/*
 * A thread in acquire() has the lock on its caller's stack: as self
 * under the method (lock.acquire(); 3.14+ beside the unbound method),
 * as the context manager of a `with` (3.12+ keep it there during
 * __enter__), or inside the bound __enter__ or __exit__ that a `with`
 * put there (up to 3.13).  Stale slots count too: the lock's word must
 * equal the one the thread waits on, and the type is checked last, on
 * that one object only.
 */
static int
waited_in(const struct py_runtime *rt, const struct py_stack *st, void *arg)
{
	struct waited *w = arg;

	return slots_each(rt, st, st->size, waited_slot, w) != 0 ||
	    st->index + 1 >= WAIT_FRAMES;
}

/* The PyMutex a thread parked on futex waits for (py.h). */
uintptr_t
py_parked_word(const struct py_runtime *rt, uintptr_t futex)
{
	struct words w;

	if (rt->off == NULL || futex == 0)
		return 0;
	words_of(rt, futex, &w);
	return w.mutex;
}

int
py_tstate_waits(const struct py_runtime *rt, uintptr_t ts, uintptr_t futex,
    struct py_lock *l)
{
	struct waited w = { { 0, 0 }, l, 0 };

	memset(l, 0, sizeof(*l));
	if (futex == 0 || !locks_known(rt->off))
		return -1;
	words_of(rt, futex, &w.words);
	if (py_tstate_stacks(rt, ts, waited_in, &w) == -1 || !w.found) {
		memset(l, 0, sizeof(*l));
		return -1;
	}
	return 0;
}

int
py_lock_waited(const struct py_runtime *rt, uintptr_t obj, uintptr_t futex,
    struct py_lock *l)
{
	unsigned char b[HEAD];
	struct words w;

	memset(l, 0, sizeof(*l));
	if (obj == 0 || futex == 0 || !locks_known(rt->off))
		return -1;
	words_of(rt, futex, &w);
	if (head_read(rt, obj, b) == -1 || !word_is(rt, obj, b, &w))
		return -1;
	return lock_named(rt, obj, &w, l);
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
