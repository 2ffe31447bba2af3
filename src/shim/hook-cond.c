/*
 * Condition variable hooks.  While a thread waits, the mutex it passed
 * is not held (cond_wait releases it), so its held entry is set aside
 * and put back, with its original acquisition site, when the wait ends.
 */
#include <pthread.h>
#include <string.h>

#include "gil.h"
#include "hook.h"
#include "lock.h"
#include "rtbudget.h"
#include "rtcycle.h"

enum cond_how { COND_PLAIN, COND_TIMED, COND_CLOCK };

static int
cond_wait_hooked(pthread_cond_t *c, pthread_mutex_t *m, enum cond_how how,
    clockid_t clk, const struct timespec *abstime, uintptr_t site)
{
	struct thread *t = thread_self();
	struct held saved = { 0 }, *h;
	int rc, had = 0, err = errno;

	/* The GIL's own wait: gil.c publishes it as a wait for the GIL. */
	if (gil_is_cond((uintptr_t)c)) {
		/* A wait for a GIL that was free when it began: seen now. */
		if (t != NULL && gil_sleeping(t))
			event_wait_begin(t, GW_STATE_BLOCKED, gil_address(),
			    GW_LOCK_GIL, GW_MODE_EXCLUSIVE, 0,
			    t->gil_wait_site);
		rc = how == COND_PLAIN ? real.cond_wait(c, m) :
		    how == COND_TIMED ? real.cond_timedwait(c, m, abstime) :
		    real.cond_clockwait(c, m, clk, abstime);
		if (rc == ETIMEDOUT && t != NULL)
			gil_wait_timed_out(t);
		return rc;
	}
	if (t != NULL && (h = thread_find_held(t, (uintptr_t)m)) != NULL) {
		saved = *h;
		had = 1;
		h->count = 1;
		event_releasing(t, (uintptr_t)m);
	}
	if (t != NULL) {
		event_wait_begin(t, GW_STATE_WAITING, (uintptr_t)c,
		    GW_LOCK_COND, GW_MODE_EXCLUSIVE, how != COND_PLAIN, site);
		if (stats_on && t->wait.rec != NULL)
			stats_cond_wait(&t->wait.rec->stat, 1);
	}
	rc = how == COND_PLAIN ? real.cond_wait(c, m) :
	    how == COND_TIMED ? real.cond_timedwait(c, m, abstime) :
	    real.cond_clockwait(c, m, clk, abstime);
	if (t != NULL) {
		if (stats_on && t->wait.rec != NULL)
			stats_cond_wait(&t->wait.rec->stat, 0);
		track_wait_end(t);
		/* On EINVAL or EPERM the mutex was never let go of. */
		if (had) {
			event_acquired(t, (uintptr_t)m, GW_LOCK_MUTEX,
			    GW_MODE_EXCLUSIVE, 0, saved.site);
			h = thread_find_held(t, (uintptr_t)m);
			if (h != NULL)
				h->count = saved.count;
		}
		errno = err;
	}
	return rc;
}

GW_EXPORT int
pthread_cond_wait(pthread_cond_t *c, pthread_mutex_t *m)
{
	if (!hook_ready())
		return 0;
	return cond_wait_hooked(c, m, COND_PLAIN, 0, NULL, HOOK_CALLER);
}

GW_EXPORT int
pthread_cond_timedwait(pthread_cond_t *c, pthread_mutex_t *m,
    const struct timespec *abstime)
{
	if (!hook_ready())
		return 0;
	return cond_wait_hooked(c, m, COND_TIMED, CLOCK_REALTIME, abstime,
	    HOOK_CALLER);
}

GW_EXPORT int
pthread_cond_clockwait(pthread_cond_t *c, pthread_mutex_t *m, clockid_t clk,
    const struct timespec *abstime)
{
	if (!hook_ready())
		return 0;
	return cond_wait_hooked(c, m, COND_CLOCK, clk, abstime, HOOK_CALLER);
}

/* t signalled switch_cond: it holds the GIL (gil.h). */
static void
gil_taken(struct thread *t, uintptr_t site)
{
	struct gil_waited w;
	int how;

	if ((how = gil_acquired(t, &w)) == 0)
		return;
	if (how & GIL_WAITED) {
		if (rt_budget_ns != 0 && w.ns > rt_budget_ns)
			rt_gil_wait(t, w.ns, w.holder, w.site);
		if (t->rt_cycle != NULL)
			rt_cycle_gil_wait(t, w.ns, w.holder, w.site);
		if (!(how & GIL_UNPUBLISHED))
			track_wait_end(t);
		/* Free at once is not contended: only a sleep on cond is. */
		t->waited = (how & GIL_SLEPT) != 0;
	}
	event_acquired(t, gil_address(), GW_LOCK_GIL, GW_MODE_EXCLUSIVE, 0,
	    site);
	gil_took_name(t);
}

/* Count a signal or broadcast, noting one that nobody was waiting for. */
static void
signalled(pthread_cond_t *c, uintptr_t site)
{
	struct lockrec *rec;
	struct thread *t;
	int saved = errno;

	if ((t = thread_self()) == NULL)
		return;
	if (gil_is_switch_cond((uintptr_t)c)) {
		gil_taken(t, site);
		errno = saved;
		return;
	}
	if (gil_is_cond((uintptr_t)c)) {
		if (gil_released(t))
			event_releasing(t, gil_address());
		errno = saved;
		return;
	}
	if (!stats_on)
		return;
	rec = lock_get((uintptr_t)c, GW_LOCK_COND, site);
	if (rec != NULL)
		stats_cond_signal(&rec->stat);
	errno = saved;
}

GW_EXPORT int
pthread_cond_signal(pthread_cond_t *c)
{
	if (!hook_ready())
		return 0;
	signalled(c, HOOK_CALLER);
	return real.cond_signal(c);
}

GW_EXPORT int
pthread_cond_broadcast(pthread_cond_t *c)
{
	if (!hook_ready())
		return 0;
	signalled(c, HOOK_CALLER);
	return real.cond_broadcast(c);
}
