/* pthread spinlock hooks: the same shape as mutexes, with no owner
 * field of their own, so the shim's record is the only owner known. */
#include <pthread.h>

#include "hook.h"

GW_EXPORT int
pthread_spin_lock(pthread_spinlock_t *l)
{
	struct thread *t;
	uintptr_t site = HOOK_CALLER;
	int rc, saved = errno;

	if (!hook_ready())
		return 0;
	if ((t = thread_self()) == NULL)
		return real.spin_lock(l);
	rc = real.spin_trylock(l);
	if (rc == EBUSY) {
		event_wait_begin(t, GW_STATE_BLOCKED, (uintptr_t)l,
		    GW_LOCK_SPIN, GW_MODE_EXCLUSIVE, 0, site);
		rc = real.spin_lock(l);
		track_wait_end(t);
	}
	if (rc == 0)
		event_acquired(t, (uintptr_t)l, GW_LOCK_SPIN,
		    GW_MODE_EXCLUSIVE, 0, site);
	errno = saved;
	return rc;
}

GW_EXPORT int
pthread_spin_trylock(pthread_spinlock_t *l)
{
	struct thread *t;
	int rc;

	if (!hook_ready())
		return 0;
	rc = real.spin_trylock(l);
	if (rc == 0 && (t = thread_self()) != NULL) {
		int saved = errno;

		event_acquired(t, (uintptr_t)l, GW_LOCK_SPIN,
		    GW_MODE_EXCLUSIVE, 1, HOOK_CALLER);
		errno = saved;
	}
	return rc;
}

GW_EXPORT int
pthread_spin_unlock(pthread_spinlock_t *l)
{
	struct thread *t;

	if (!hook_ready())
		return 0;
	if ((t = thread_self()) != NULL)
		event_releasing(t, (uintptr_t)l);
	return real.spin_unlock(l);
}

GW_EXPORT int
pthread_spin_init(pthread_spinlock_t *l, int pshared)
{
	int rc;

	if (!hook_ready())
		return 0;
	rc = real.spin_init(l, pshared);
	if (rc == 0 && !thread_in_shim()) {
		int saved = errno;

		track_initialised((uintptr_t)l, GW_LOCK_SPIN, HOOK_CALLER);
		errno = saved;
	}
	return rc;
}

GW_EXPORT int
pthread_spin_destroy(pthread_spinlock_t *l)
{
	int rc;

	if (!hook_ready())
		return 0;
	rc = real.spin_destroy(l);
	if (rc == 0)
		track_destroyed((uintptr_t)l);
	return rc;
}
