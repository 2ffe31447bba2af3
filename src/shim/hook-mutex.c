/*
 * pthread mutex hooks.  A lock first tries the mutex: when that works
 * (the common case) the only cost is the bookkeeping; when it does not,
 * the thread is about to block, and that is when the wait is published
 * and the deadlock check runs.
 */
#include <pthread.h>

#include "dump.h"
#include "gil.h"
#include "hook.h"
#include "glibc-inline.h"

/* hook.h: a thread not registered yet, or in the shim, or the shim not
 * initialised; apart, so that the common case keeps no register. */
__attribute__((noinline)) struct hook_start
hook_begin_all(void)
{
	struct hook_start s = { NULL, hook_ready() };

	if (s.ready)
		s.t = thread_self();
	return s;
}

/* An error-checking mutex relocked by its owner fails with EDEADLK at
 * once: not a deadlock, so no wait is published. */
static int
relock_fails_fast(pthread_mutex_t *m)
{
	return (m->__data.__kind & 3) == PTHREAD_MUTEX_ERRORCHECK &&
	    m->__data.__owner == gettid();
}

static int
took(int rc)
{
	return rc == 0 || rc == EOWNERDEAD;
}

/*
 * What timedlock and clocklock add to a lock, in one argument (NULL for
 * pthread_mutex_lock), so that no hook passes an argument on the stack.
 */
struct mutex_deadline {
	int		 clocked;	/* clocklock; else timedlock */
	clockid_t	 clk;
	const struct timespec *abstime;
};

/*
 * A program that never had a second thread, taking a mutex whose word
 * says it is free: the lock cannot wait, and glibc's lock makes no
 * locked instruction there, where its trylock always does one (a third
 * of the pair's cost).  A normal mutex is taken here, as glibc would
 * (glibc-inline.h, mutex_acquire); another kind with glibc's lock.  Not
 * a process-shared mutex: another process could take it in between,
 * and the wait would go unpublished.
 */
extern char __libc_single_threaded;

static inline int
lock_cannot_wait(pthread_mutex_t *m, const struct mutex_deadline *d)
{
	return __libc_single_threaded && d == NULL &&
	    atomic_load_explicit((_Atomic int *)&m->__data.__lock,
	    memory_order_relaxed) == 0 &&
	    (m->__data.__kind & MUTEX_KIND_PSHARED) == 0;
}

static int
mutex_wait_real(pthread_mutex_t *m, const struct mutex_deadline *d)
{
	return d == NULL ? real.mutex_lock(m) : !d->clocked ?
	    real.mutex_timedlock(m, d->abstime) :
	    real.mutex_clocklock(m, d->clk, d->abstime);
}

/*
 * The trylock found m taken: publish the wait (and look for a deadlock
 * it closes), then block.  Apart from the uncontended path, so that
 * this one saves no registers it does not use.
 */
static __attribute__((noinline)) int
mutex_wait(struct thread *t, pthread_mutex_t *m,
    const struct mutex_deadline *d, uintptr_t site)
{
	int rc, saved = errno;

	if (relock_fails_fast(m))
		return mutex_wait_real(m, d);
	event_wait_begin(t, GW_STATE_BLOCKED, (uintptr_t)m, GW_LOCK_MUTEX,
	    GW_MODE_EXCLUSIVE, d != NULL, site);
	rc = mutex_wait_real(m, d);
	track_wait_end(t);
	if (took(rc))
		event_acquired(t, (uintptr_t)m, GW_LOCK_MUTEX,
		    GW_MODE_EXCLUSIVE, 0, site);
	else
		t->waited = 0;	/* the next take is not this wait's */
	errno = saved;
	return rc;
}

/* The GIL's own mutexes: the GIL is tracked, not them. */
static __attribute__((noinline)) int
mutex_gil(struct thread *t, pthread_mutex_t *m,
    const struct mutex_deadline *d, uintptr_t site)
{
	int saved = errno;

	if (gil_is_mutex((uintptr_t)m) &&
	    gil_mutex_locking(t, site) == GIL_WAIT_NOW)
		event_wait_begin(t, GW_STATE_BLOCKED, gil_address(),
		    GW_LOCK_GIL, GW_MODE_EXCLUSIVE, 0, site);
	errno = saved;
	return mutex_wait_real(m, d);
}

/* The trylock answered rc: block on EBUSY; else track what it took. */
static __attribute__((noinline)) int
mutex_tried(struct thread *t, pthread_mutex_t *m,
    const struct mutex_deadline *d, uintptr_t site, int rc)
{
	if (rc == EBUSY)
		return mutex_wait(t, m, d, site);
	if (took(rc))
		event_acquired_all(t, (uintptr_t)m, GW_LOCK_MUTEX,
		    GW_MODE_EXCLUSIVE, 0, site);
	return rc;
}

/*
 * Every acquisition but the common one: a fork's helper to resume, the
 * GIL's mutexes, a lock t did not take lately.
 */
static __attribute__((noinline)) int
mutex_acquire_all(struct thread *t, pthread_mutex_t *m,
    const struct mutex_deadline *d, uintptr_t site)
{
	dump_resume_if_paused();
	if (gil_is_internal_mutex((uintptr_t)m))
		return mutex_gil(t, m, d, site);
	return mutex_tried(t, m, d, site, real.mutex_trylock(m));
}

/* event_acquired_more, out of line with a mutex's kind and mode known. */
static __attribute__((noinline)) int
mutex_acquired_more(struct thread *t, struct lockrec *rec, pthread_mutex_t *m,
    uintptr_t site)
{
	return event_acquired_next(t, rec, (uintptr_t)m, GW_LOCK_MUTEX |
	    GW_MODE_EXCLUSIVE << 8, site);
}

/*
 * One body for lock, timedlock and clocklock: d tells them apart.
 * glibc's mutex functions leave errno alone, and so does tracking an
 * acquisition (event_acquired): only the paths that may do more save
 * it.  The common case, a lock t took lately (track_fast_rec), found
 * free, and what track_acquired_first does, calls only the trylock: the
 * rest is out of line, so that it keeps fewer registers.  Across that
 * call it keeps rec alone: t, m and the call site are found again
 * (thread_ready, which the call leaves as it was; rec's key, which is
 * m's for good; the return address), for less than a push and a pop
 * each.  Inline in the hooks, so that HOOK_CALLER is the hook's caller.
 */
static inline __attribute__((always_inline)) int
mutex_acquire(struct thread *t, pthread_mutex_t *m,
    const struct mutex_deadline *d)
{
	struct lockrec *rec;
	int rc;

	if (__builtin_expect(!track_fast_rec(t, (uintptr_t)m, GW_LOCK_MUTEX,
	    &rec), 0))
		return mutex_acquire_all(t, m, d, HOOK_CALLER);
	if (__libc_single_threaded && d == NULL && mutex_alone_takes(m))
		mutex_alone_take(m, atomic_load_explicit(&t->tid,
		    memory_order_relaxed));	/* no call: t and m kept */
	else {
		rc = lock_cannot_wait(m, d) ? real.mutex_lock(m) :
		    real.mutex_trylock(m);
		t = thread_ready_again();
		m = (pthread_mutex_t *)atomic_load_explicit(&rec->addr,
		    memory_order_relaxed);
		if (__builtin_expect(rc != 0, 0))
			return mutex_tried(t, m, d, HOOK_CALLER, rc);
	}
	if (__builtin_expect(track_acquired_first(t, rec, (uintptr_t)m,
	    GW_LOCK_MUTEX, GW_MODE_EXCLUSIVE, 0, HOOK_CALLER), 1))
		return 0;
	return mutex_acquired_more(t, rec, m, HOOK_CALLER);
}

/*
 * A lock hook that found no record ready (hook.h), all out of line, so
 * that the common one keeps no frame for it: the full path.
 */
static __attribute__((noinline)) int
mutex_acquire_begin(pthread_mutex_t *m, const struct mutex_deadline *d,
    uintptr_t site)
{
	struct hook_start s = hook_begin_all();

	if (!s.ready)
		return 0;
	if (s.t == NULL)
		return mutex_wait_real(m, d);
	return mutex_acquire_all(s.t, m, d, site);
}

GW_EXPORT int
pthread_mutex_lock(pthread_mutex_t *m)
{
	struct thread *t = thread_ready;

	if (__builtin_expect(t == NULL, 0))
		return mutex_acquire_begin(m, NULL, HOOK_CALLER);
	return mutex_acquire(t, m, NULL);
}

GW_EXPORT int
pthread_mutex_timedlock(pthread_mutex_t *m, const struct timespec *abstime)
{
	struct mutex_deadline d = { 0, CLOCK_REALTIME, abstime };
	struct thread *t = thread_ready;

	if (__builtin_expect(t == NULL, 0))
		return mutex_acquire_begin(m, &d, HOOK_CALLER);
	return mutex_acquire(t, m, &d);
}

GW_EXPORT int
pthread_mutex_clocklock(pthread_mutex_t *m, clockid_t clk,
    const struct timespec *abstime)
{
	struct mutex_deadline d = { 1, clk, abstime };
	struct thread *t = thread_ready;

	if (__builtin_expect(t == NULL, 0))
		return mutex_acquire_begin(m, &d, HOOK_CALLER);
	return mutex_acquire(t, m, &d);
}

GW_EXPORT int
pthread_mutex_trylock(pthread_mutex_t *m)
{
	struct thread *t;
	int rc;

	if (!hook_begin(&t))
		return 0;
	rc = real.mutex_trylock(m);
	/* The GIL's own mutexes stay untracked: see track_fast_rec. */
	if (took(rc) && t != NULL && !gil_is_internal_mutex((uintptr_t)m))
		event_acquired(t, (uintptr_t)m, GW_LOCK_MUTEX,
		    GW_MODE_EXCLUSIVE, 1, HOOK_CALLER);
	return rc;
}

/* Out of line: the common unlock then keeps no register. */
static __attribute__((noinline)) int
mutex_unlock_all(struct thread *t, pthread_mutex_t *m)
{
	if (!track_releasing_top(t, (uintptr_t)m, GW_LOCK_MUTEX))
		event_releasing_all(t, (uintptr_t)m);
	return real.mutex_unlock(m);
}

/* An unlock hook that found no record ready (hook.h), out of line. */
static __attribute__((noinline)) int
mutex_unlock_begin(pthread_mutex_t *m)
{
	struct hook_start s = hook_begin_all();

	if (!s.ready)
		return 0;
	if (s.t == NULL)
		return real.mutex_unlock(m);
	return mutex_unlock_all(s.t, m);
}

/*
 * The common unlock keeps no frame and ends in a jump to the real one:
 * sibling calls, which the shim does not make (Makefile: a dlsym must
 * see its caller), are safe here, where none of the calls that can
 * become jumps (the real unlock, mutex_unlock_all, mutex_unlock_begin)
 * is to dlsym; those functions make theirs as calls.
 */
GW_EXPORT __attribute__((optimize("optimize-sibling-calls"))) int
pthread_mutex_unlock(pthread_mutex_t *m)
{
	struct thread *t = thread_ready;

	if (__builtin_expect(t == NULL, 0))
		return mutex_unlock_begin(m);
	if (__builtin_expect(!track_releasing_fast(t, (uintptr_t)m,
	    GW_LOCK_MUTEX), 0))
		return mutex_unlock_all(t, m);
	if (__libc_single_threaded && mutex_alone_gives(m)) {
		mutex_alone_give(m);
		return 0;
	}
	return real.mutex_unlock(m);
}

GW_EXPORT int
pthread_mutex_destroy(pthread_mutex_t *m)
{
	int rc;

	if (!hook_ready())
		return 0;
	rc = real.mutex_destroy(m);
	if (rc == 0)
		track_destroyed((uintptr_t)m);
	return rc;
}

GW_EXPORT int
pthread_mutex_init(pthread_mutex_t *m, const pthread_mutexattr_t *attr)
{
	int rc;

	if (!hook_ready())
		return 0;
	rc = real.mutex_init(m, attr);
	if (rc == 0 && !thread_in_shim()) {
		int saved = errno;

		track_initialised((uintptr_t)m, GW_LOCK_MUTEX, HOOK_CALLER);
		errno = saved;
	}
	return rc;
}
