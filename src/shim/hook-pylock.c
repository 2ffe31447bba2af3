/*
 * threading.Lock and RLock where they are PyMutexes: see hook-pylock.h.
 *
 * Each method swapped in gets a trampoline of its own, which knows the
 * original and what the method does to the lock.  A trampoline takes
 * and passes on four pointer-sized arguments: in the x86-64 and AArch64
 * calling conventions that calls the original correctly whichever
 * METH_* convention it has (self and at most three more, all in
 * integer registers).  Every hook runs with the GIL held, as its
 * original does.
 */
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "gil.h"
#include "hook-pylock.h"
#include "hook.h"
#include "msg.h"
#include "py.h"
#include "pytables.h"

typedef void	*(*py_cfunc)(void *, void *, void *, void *);

/* What a method does to its lock. */
enum role {
	ROLE_ACQUIRE,		/* acquire, __enter__, _acquire_restore */
	ROLE_RELEASE,		/* release, __exit__: one level of an RLock */
	ROLE_RELEASE_ALL,	/* RLock._release_save: every level */
	ROLE_REINIT,		/* _at_fork_reinit: a new lock */
};

static const struct {
	const char	*name;
	enum role	 role;
} roles[] = {
	{ "acquire", ROLE_ACQUIRE },
	{ "acquire_lock", ROLE_ACQUIRE },
	{ "__enter__", ROLE_ACQUIRE },
	{ "_acquire_restore", ROLE_ACQUIRE },
	{ "release", ROLE_RELEASE },
	{ "release_lock", ROLE_RELEASE },
	{ "__exit__", ROLE_RELEASE },
	{ "_release_save", ROLE_RELEASE_ALL },
	{ "_at_fork_reinit", ROLE_REINIT },
};

struct wrap {
	py_cfunc	 orig;
	uintptr_t	 site;		/* orig + 1: names it as a return
					   address into it would */
	enum role	 role;
	int		 rlock;
};

#define WRAPS	16	/* 3.14 and 3.15 hook 7 methods of each type */

static struct wrap wraps[WRAPS];
static int nwraps;
static uintptr_t py_false;	/* &_Py_FalseStruct: acquire() failed */

/* Offsets in the lock objects (py.h). */
static int off_locked, off_rlocked, off_owner, off_level;

static void	(*lock_dealloc)(void *), (*rlock_dealloc)(void *);

/* Does the calling thread own the RLock at obj? */
static int
rlock_mine(uintptr_t obj)
{
	return __atomic_load_n((unsigned long long *)(obj + off_owner),
	    __ATOMIC_RELAXED) == (unsigned long long)pthread_self();
}

/* Its levels beyond the first. */
static size_t
rlock_level(uintptr_t obj)
{
	return *(const size_t *)(obj + off_level);
}

/*
 * An RLock its owner takes again takes nothing: neither a wait nor a
 * new holder.  Otherwise the parking lot's waits in the original are
 * waits for this lock (hook-sem.c); a call that returns neither NULL
 * (an exception) nor False (not acquired) took the lock.  The call's
 * record lives on this stack frame: a signal handler run by the wait
 * may take Python locks itself, each call then pointing to its own
 * and putting back the one it found.
 */
static void *
acquire(struct thread *t, const struct wrap *w, void *self, void *a,
    void *b, void *c)
{
	struct py_lock_call mine, *outer;
	uintptr_t obj = (uintptr_t)self;
	void *r;
	int saved;

	if (w->rlock && rlock_mine(obj))
		return w->orig(self, a, b, c);
	mine.addr = obj;
	mine.bits = (const _Atomic uint8_t *)(obj + (uintptr_t)(w->rlock ?
	    off_rlocked : off_locked));
	mine.site = w->site;
	mine.timed = 0;
	mine.waited = 0;
	outer = t->py_lock;
	t->py_lock = &mine;
	r = w->orig(self, a, b, c);
	t->py_lock = outer;
	if (r != NULL && (uintptr_t)r != py_false) {
		saved = errno;
		track_py_lock_taken(t, &mine);
		errno = saved;
	}
	return r;
}

static void *
call(const struct wrap *w, void *self, void *a, void *b, void *c)
{
	struct thread *t = thread_self();
	uintptr_t obj = (uintptr_t)self;
	int saved;

	if (t == NULL)
		return w->orig(self, a, b, c);
	if (w->role == ROLE_ACQUIRE)
		return acquire(t, w, self, a, b, c);
	/* Releases are told before the original: after it, another
	 * thread may already be the holder. */
	saved = errno;
	switch (w->role) {
	case ROLE_RELEASE:
		if (!w->rlock || (rlock_mine(obj) && rlock_level(obj) == 0))
			track_sem_posted(t, obj);
		break;
	case ROLE_RELEASE_ALL:
		if (rlock_mine(obj))
			track_sem_posted(t, obj);
		break;
	case ROLE_REINIT:
		track_destroyed(obj);
		break;
	default:
		break;
	}
	errno = saved;
	return w->orig(self, a, b, c);
}

#define TRAMPOLINE(n)							\
static void *								\
wrap##n(void *self, void *a, void *b, void *c)				\
{									\
	return call(&wraps[n], self, a, b, c);				\
}

TRAMPOLINE(0) TRAMPOLINE(1) TRAMPOLINE(2) TRAMPOLINE(3)
TRAMPOLINE(4) TRAMPOLINE(5) TRAMPOLINE(6) TRAMPOLINE(7)
TRAMPOLINE(8) TRAMPOLINE(9) TRAMPOLINE(10) TRAMPOLINE(11)
TRAMPOLINE(12) TRAMPOLINE(13) TRAMPOLINE(14) TRAMPOLINE(15)

static const py_cfunc trampolines[WRAPS] = {
	wrap0, wrap1, wrap2, wrap3, wrap4, wrap5, wrap6, wrap7,
	wrap8, wrap9, wrap10, wrap11, wrap12, wrap13, wrap14, wrap15,
};

/*
 * A freed lock's record goes with it, as a destroyed semaphore's does:
 * a Condition.wait leaves its waiter lock held when it drops it, and a
 * new lock at the same address must not inherit that holder.
 */
static void
lock_freed(void *self)
{
	track_destroyed((uintptr_t)self);
	lock_dealloc(self);
}

static void
rlock_freed(void *self)
{
	track_destroyed((uintptr_t)self);
	rlock_dealloc(self);
}

static int
role_of(const char *name, enum role *role)
{
	size_t i;

	for (i = 0; i < sizeof roles / sizeof roles[0]; i++)
		if (strcmp(name, roles[i].name) == 0) {
			*role = roles[i].role;
			return 0;
		}
	return -1;
}

/* The table's methods that act on the lock, each to a trampoline. */
static void
swap_methods(struct py_method *m, int rlock)
{
	struct wrap *w;
	enum role role;

	for (; m->name != NULL && nwraps < WRAPS; m++) {
		if (role_of(m->name, &role) == -1)
			continue;
		w = &wraps[nwraps];
		w->orig = (py_cfunc)m->meth;
		w->site = (uintptr_t)m->meth + 1;
		w->role = role;
		w->rlock = rlock;
		if (role == ROLE_ACQUIRE)
			gil_add_python_lock_site(w->site);
		__atomic_store_n(&m->meth, (void *)trampolines[nwraps++],
		    __ATOMIC_RELEASE);
	}
}

static void
swap_dealloc(struct py_type_slot *s, void (**orig)(void *),
    void (*hook)(void *))
{
	*orig = (void (*)(void *))s->pfunc;
	__atomic_store_n(&s->pfunc, (void *)hook, __ATOMIC_RELEASE);
}

/* Not installed, with the reason: said once, and the rest goes on.
 * what: the types hooked ("threading.Lock and RLock"). */
static void
not_tracked(const struct py_runtime *rt, const char *what, const char *why)
{
	msg_note("CPython %s: %s: %s holders, waits and deadlocks are not "
	    "tracked (the rest is)", rt->version, why, what);
}

void
pylock_hooks_install(void)
{
	const struct py_runtime *rt = gil_runtime();
	const struct py_offsets *o;
	struct py_lock_type lock, rlock;
	const char *what;
	char why[192];
	int initialized = 0, hook_rlock;

	/* The semaphore hooks see a semaphore lock (up to 3.13, and
	 * 3.13t's RLock); a version with no layout for its locks (no
	 * table) has said so already. */
	if (rt == NULL || (o = rt->off)->lock_sem >= 0 || o->lock_locked < 0)
		return;
	hook_rlock = o->rlock_sem < 0;
	if (hook_rlock && (o->rlock_locked < 0 || o->rlock_owner < 0 ||
	    o->rlock_count < 0))
		return;
	what = hook_rlock ? "threading.Lock and RLock" : "threading.Lock";
#if !defined(__x86_64__) && !defined(__aarch64__)
	not_tracked(rt, what, "the hooks are for x86-64 and AArch64 only");
	return;
#endif
	if (py_read_int(rt->runtime + (uintptr_t)o->rt_initialized,
	    &initialized) == -1 || initialized) {
		not_tracked(rt, what, "the interpreter was running already");
		return;
	}
	if ((py_false = (uintptr_t)dlsym(RTLD_DEFAULT,
	    "_Py_FalseStruct")) == 0) {
		not_tracked(rt, what, "no _Py_FalseStruct");
		return;
	}
	if (pytables_find(rt->runtime, &lock, &rlock, why, sizeof why) == -1) {
		not_tracked(rt, what, why);
		return;
	}
	off_locked = o->lock_locked;
	off_rlocked = o->rlock_locked;
	off_owner = o->rlock_owner;
	off_level = o->rlock_count;
	swap_dealloc(lock.dealloc, &lock_dealloc, lock_freed);
	swap_methods(lock.methods, 0);
	if (!hook_rlock)
		return;
	swap_dealloc(rlock.dealloc, &rlock_dealloc, rlock_freed);
	swap_methods(rlock.methods, 1);
}
