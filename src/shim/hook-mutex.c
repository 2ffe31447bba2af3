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

/* hook.h: a thread not registered yet, or in the shim, or the shim not
 * initialised; apart, so that the common case keeps no register. */
__attribute__((noinline)) struct thread *
hook_begin_all(int *ready)
{
	if (!(*ready = hook_ready()))
		return NULL;
	return thread_self();
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

static int
mutex_wait_real(pthread_mutex_t *m, int timed, clockid_t clk,
    const struct timespec *abstime)
{
	return timed == 0 ? real.mutex_lock(m) : timed == 1 ?
	    real.mutex_timedlock(m, abstime) :
	    real.mutex_clocklock(m, clk, abstime);
}

/*
 * The trylock found m taken: publish the wait (and look for a deadlock
 * it closes), then block.  Apart from the uncontended path, so that
 * this one saves no registers it does not use.
 */
static __attribute__((noinline)) int
mutex_wait(struct thread *t, pthread_mutex_t *m, int timed, clockid_t clk,
    const struct timespec *abstime, uintptr_t site)
{
	int rc, saved = errno;

	if (relock_fails_fast(m))
		return mutex_wait_real(m, timed, clk, abstime);
	event_wait_begin(t, GW_STATE_BLOCKED, (uintptr_t)m, GW_LOCK_MUTEX,
	    GW_MODE_EXCLUSIVE, timed, site);
	rc = mutex_wait_real(m, timed, clk, abstime);
	track_wait_end(t);
	if (took(rc))
		event_acquired(t, (uintptr_t)m, GW_LOCK_MUTEX,
		    GW_MODE_EXCLUSIVE, 0, site);
	errno = saved;
	return rc;
}

/* The GIL's own mutexes: the GIL is tracked, not them. */
static __attribute__((noinline)) int
mutex_gil(struct thread *t, pthread_mutex_t *m, int timed, clockid_t clk,
    const struct timespec *abstime, uintptr_t site)
{
	int saved = errno;

	if (gil_is_mutex((uintptr_t)m) && gil_mutex_locking(t))
		event_wait_begin(t, GW_STATE_BLOCKED, gil_address(),
		    GW_LOCK_GIL, GW_MODE_EXCLUSIVE, 0, site);
	errno = saved;
	return mutex_wait_real(m, timed, clk, abstime);
}

/* The trylock answered rc: block on EBUSY; else track what it took. */
static __attribute__((noinline)) int
mutex_tried(struct thread *t, pthread_mutex_t *m, int timed,
    clockid_t clk, const struct timespec *abstime, uintptr_t site, int rc)
{
	if (rc == EBUSY)
		return mutex_wait(t, m, timed, clk, abstime, site);
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
mutex_acquire_all(struct thread *t, pthread_mutex_t *m, int timed,
    clockid_t clk, const struct timespec *abstime, uintptr_t site)
{
	dump_resume_if_paused();
	if (gil_is_internal_mutex((uintptr_t)m))
		return mutex_gil(t, m, timed, clk, abstime, site);
	return mutex_tried(t, m, timed, clk, abstime, site,
	    real.mutex_trylock(m));
}

/*
 * One body for lock, timedlock and clocklock: `timed` tells them apart.
 * glibc's mutex functions leave errno alone, and so does tracking an
 * acquisition (event_acquired): only the paths that may do more save
 * it.  The common case, a lock t took lately (track_fast_rec), found
 * free, and what track_acquired_fast does, calls only the trylock: the
 * rest is out of line, so that it keeps fewer registers.
 */
static inline __attribute__((always_inline)) int
mutex_acquire(struct thread *t, pthread_mutex_t *m, int timed, clockid_t clk,
    const struct timespec *abstime, uintptr_t site)
{
	struct lockrec *rec;
	int rc;

	if (t == NULL)
		return mutex_wait_real(m, timed, clk, abstime);
	if (__builtin_expect(!track_fast_rec(t, (uintptr_t)m, GW_LOCK_MUTEX,
	    &rec), 0))
		return mutex_acquire_all(t, m, timed, clk, abstime, site);
	rc = real.mutex_trylock(m);
	if (__builtin_expect(rc != 0, 0))
		return mutex_tried(t, m, timed, clk, abstime, site, rc);
	if (__builtin_expect(!track_acquired_fast(t, rec, (uintptr_t)m,
	    GW_LOCK_MUTEX, GW_MODE_EXCLUSIVE, 0, site), 0))
		event_acquired_all(t, (uintptr_t)m, GW_LOCK_MUTEX,
		    GW_MODE_EXCLUSIVE, 0, site);
	return 0;
}

GW_EXPORT int
pthread_mutex_lock(pthread_mutex_t *m)
{
	struct thread *t;

	if (!hook_begin(&t))
		return 0;
	return mutex_acquire(t, m, 0, 0, NULL, HOOK_CALLER);
}

GW_EXPORT int
pthread_mutex_timedlock(pthread_mutex_t *m, const struct timespec *abstime)
{
	struct thread *t;

	if (!hook_begin(&t))
		return 0;
	return mutex_acquire(t, m, 1, CLOCK_REALTIME, abstime, HOOK_CALLER);
}

GW_EXPORT int
pthread_mutex_clocklock(pthread_mutex_t *m, clockid_t clk,
    const struct timespec *abstime)
{
	struct thread *t;

	if (!hook_begin(&t))
		return 0;
	return mutex_acquire(t, m, 2, clk, abstime, HOOK_CALLER);
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
	event_releasing_all(t, (uintptr_t)m);
	return real.mutex_unlock(m);
}

GW_EXPORT int
pthread_mutex_unlock(pthread_mutex_t *m)
{
	struct thread *t;

	if (!hook_begin(&t))
		return 0;
	if (t != NULL && __builtin_expect(!track_releasing_fast(t,
	    (uintptr_t)m, GW_LOCK_MUTEX), 0))
		return mutex_unlock_all(t, m);
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
