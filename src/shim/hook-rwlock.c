/*
 * pthread rwlock hooks.  Readers are each recorded as holding the lock
 * in shared mode, so a writer that waits sees every reader as an owner.
 */
#include <pthread.h>

#include "hook.h"

enum rw_how { RW_PLAIN, RW_TIMED, RW_CLOCK };

static int
rw_call(pthread_rwlock_t *l, int mode, enum rw_how how, clockid_t clk,
    const struct timespec *abstime)
{
	if (mode == GW_MODE_SHARED)
		return how == RW_PLAIN ? real.rwlock_rdlock(l) :
		    how == RW_TIMED ? real.rwlock_timedrdlock(l, abstime) :
		    real.rwlock_clockrdlock(l, clk, abstime);
	return how == RW_PLAIN ? real.rwlock_wrlock(l) :
	    how == RW_TIMED ? real.rwlock_timedwrlock(l, abstime) :
	    real.rwlock_clockwrlock(l, clk, abstime);
}

static int
rw_try(pthread_rwlock_t *l, int mode)
{
	return mode == GW_MODE_SHARED ? real.rwlock_tryrdlock(l) :
	    real.rwlock_trywrlock(l);
}

/* A writer relocking fails with EDEADLK at once: no wait to publish. */
static int
fails_fast(pthread_rwlock_t *l)
{
	return l->__data.__cur_writer == gettid();
}

static int
rw_acquire(pthread_rwlock_t *l, int mode, enum rw_how how, clockid_t clk,
    const struct timespec *abstime, uintptr_t site)
{
	struct thread *t = thread_self();
	int rc, saved = errno;

	if (t == NULL)
		return rw_call(l, mode, how, clk, abstime);
	rc = rw_try(l, mode);
	if (rc == EBUSY && !fails_fast(l)) {
		event_wait_begin(t, GW_STATE_BLOCKED, (uintptr_t)l,
		    GW_LOCK_RWLOCK, mode, how != RW_PLAIN, site);
		rc = rw_call(l, mode, how, clk, abstime);
		track_wait_end(t);
	} else if (rc == EBUSY)
		rc = rw_call(l, mode, how, clk, abstime);
	if (rc == 0)
		event_acquired(t, (uintptr_t)l, GW_LOCK_RWLOCK, mode, 0, site);
	else
		t->waited = 0;	/* the next take is not this wait's */
	errno = saved;
	return rc;
}

#define RW_HOOK(name, mode, how, params, clk, abstime)			\
GW_EXPORT int								\
name params								\
{									\
	if (!hook_ready())						\
		return 0;						\
	return rw_acquire(l, mode, how, clk, abstime, HOOK_CALLER);	\
}

RW_HOOK(pthread_rwlock_rdlock, GW_MODE_SHARED, RW_PLAIN,
    (pthread_rwlock_t *l), 0, NULL)
RW_HOOK(pthread_rwlock_wrlock, GW_MODE_EXCLUSIVE, RW_PLAIN,
    (pthread_rwlock_t *l), 0, NULL)
RW_HOOK(pthread_rwlock_timedrdlock, GW_MODE_SHARED, RW_TIMED,
    (pthread_rwlock_t *l, const struct timespec *a), CLOCK_REALTIME, a)
RW_HOOK(pthread_rwlock_timedwrlock, GW_MODE_EXCLUSIVE, RW_TIMED,
    (pthread_rwlock_t *l, const struct timespec *a), CLOCK_REALTIME, a)
RW_HOOK(pthread_rwlock_clockrdlock, GW_MODE_SHARED, RW_CLOCK,
    (pthread_rwlock_t *l, clockid_t c, const struct timespec *a), c, a)
RW_HOOK(pthread_rwlock_clockwrlock, GW_MODE_EXCLUSIVE, RW_CLOCK,
    (pthread_rwlock_t *l, clockid_t c, const struct timespec *a), c, a)

static int
rw_tryhook(pthread_rwlock_t *l, int mode, uintptr_t site)
{
	struct thread *t;
	int rc;

	rc = rw_try(l, mode);
	if (rc == 0 && (t = thread_self()) != NULL) {
		int saved = errno;

		event_acquired(t, (uintptr_t)l, GW_LOCK_RWLOCK, mode, 1, site);
		errno = saved;
	}
	return rc;
}

GW_EXPORT int
pthread_rwlock_tryrdlock(pthread_rwlock_t *l)
{
	if (!hook_ready())
		return 0;
	return rw_tryhook(l, GW_MODE_SHARED, HOOK_CALLER);
}

GW_EXPORT int
pthread_rwlock_trywrlock(pthread_rwlock_t *l)
{
	if (!hook_ready())
		return 0;
	return rw_tryhook(l, GW_MODE_EXCLUSIVE, HOOK_CALLER);
}

GW_EXPORT int
pthread_rwlock_unlock(pthread_rwlock_t *l)
{
	struct thread *t;

	if (!hook_ready())
		return 0;
	if ((t = thread_self()) != NULL)
		event_releasing(t, (uintptr_t)l);
	return real.rwlock_unlock(l);
}

GW_EXPORT int
pthread_rwlock_init(pthread_rwlock_t *l, const pthread_rwlockattr_t *attr)
{
	int rc;

	if (!hook_ready())
		return 0;
	rc = real.rwlock_init(l, attr);
	if (rc == 0 && !thread_in_shim()) {
		int saved = errno;

		track_initialised((uintptr_t)l, GW_LOCK_RWLOCK, HOOK_CALLER);
		errno = saved;
	}
	return rc;
}

GW_EXPORT int
pthread_rwlock_destroy(pthread_rwlock_t *l)
{
	int rc;

	if (!hook_ready())
		return 0;
	rc = real.rwlock_destroy(l);
	if (rc == 0)
		track_destroyed((uintptr_t)l);
	return rc;
}
