/*
 * Thread hooks: creation (so a thread is known from its first
 * instruction, not from its first lock), joins (a wait on a thread), and
 * names.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/prctl.h>

#include "hook.h"

struct start {
	void	*(*fn)(void *);
	void	*arg;
};

static void *
start_thread(void *p)
{
	struct start s = *(struct start *)p;

	thread_enter_shim();
	free(p);
	thread_leave_shim();
	thread_self();
	return s.fn(s.arg);
}

GW_EXPORT int
pthread_create(pthread_t *th, const pthread_attr_t *attr,
    void *(*fn)(void *), void *arg)
{
	struct start *s;
	int rc;

	if (!hook_ready())
		return EAGAIN;
	if (thread_in_shim() || (s = malloc(sizeof *s)) == NULL)
		return real.create(th, attr, fn, arg);
	if (thread_create_hook != NULL)
		thread_create_hook();
	s->fn = fn;
	s->arg = arg;
	rc = real.create(th, attr, start_thread, s);
	if (rc != 0)
		free(s);
	return rc;
}

enum join_how { JOIN_PLAIN, JOIN_TIMED, JOIN_CLOCK };

static int
join_hooked(pthread_t th, void **ret, enum join_how how, clockid_t clk,
    const struct timespec *abstime, uintptr_t site)
{
	struct thread *t = thread_self();
	int rc;

	if (t != NULL) {
		t->wait.target = th;
		event_wait_begin(t, GW_STATE_JOINING, (uintptr_t)th,
		    GW_LOCK_THREAD, GW_MODE_EXCLUSIVE, how != JOIN_PLAIN, site);
	}
	rc = how == JOIN_PLAIN ? real.join(th, ret) :
	    how == JOIN_TIMED ? real.timedjoin_np(th, ret, abstime) :
	    real.clockjoin_np(th, ret, clk, abstime);
	if (t != NULL)
		track_wait_end(t);
	return rc;
}

GW_EXPORT int
pthread_join(pthread_t th, void **ret)
{
	if (!hook_ready())
		return 0;
	return join_hooked(th, ret, JOIN_PLAIN, 0, NULL, HOOK_CALLER);
}

GW_EXPORT int
pthread_timedjoin_np(pthread_t th, void **ret, const struct timespec *abstime)
{
	if (!hook_ready())
		return 0;
	return join_hooked(th, ret, JOIN_TIMED, CLOCK_REALTIME, abstime,
	    HOOK_CALLER);
}

GW_EXPORT int
pthread_clockjoin_np(pthread_t th, void **ret, clockid_t clk,
    const struct timespec *abstime)
{
	if (!hook_ready())
		return 0;
	return join_hooked(th, ret, JOIN_CLOCK, clk, abstime, HOOK_CALLER);
}

GW_EXPORT int
pthread_setname_np(pthread_t th, const char *name)
{
	struct thread *t;
	int rc;

	if (!hook_ready())
		return 0;
	rc = real.setname_np(th, name);
	if (rc == 0 && !thread_in_shim() &&
	    (t = thread_by_pthread(th)) != NULL)
		thread_name_changed(t, name);
	return rc;
}

GW_EXPORT int
prctl(int option, ...)
{
	unsigned long a[4];
	struct thread *t;
	va_list ap;
	int i, rc;

	va_start(ap, option);
	for (i = 0; i < 4; i++)
		a[i] = va_arg(ap, unsigned long);
	va_end(ap);
	if (!hook_ready())
		return -1;
	rc = real.prctl(option, a[0], a[1], a[2], a[3]);
	if (rc == 0 && option == PR_SET_NAME && (t = thread_self()) != NULL)
		thread_name_changed(t, (const char *)a[0]);
	return rc;
}
