/*
 * POSIX semaphore hooks.  A semaphore has no owner, but a thread that
 * takes the count to zero is the one others end up waiting for, so it
 * is recorded as the holder until the next post.
 */
#include <semaphore.h>

#include "gil.h"
#include "glibc-inline.h"
#include "hook.h"

enum sem_how { SEM_PLAIN, SEM_TIMED, SEM_CLOCK };

static void
taken(struct thread *t, sem_t *s, uintptr_t site)
{
	track_sem_taken(t, (uintptr_t)s, sem_count(s) == 0, site);
}

static int
sem_call(sem_t *s, enum sem_how how, clockid_t clk,
    const struct timespec *abstime)
{
	return how == SEM_PLAIN ? real.sem_wait(s) :
	    how == SEM_TIMED ? real.sem_timedwait(s, abstime) :
	    real.sem_clockwait(s, clk, abstime);
}

/*
 * The Python lock call the calling thread is in (hook-pylock.c), or
 * NULL.  Its record lives in the acquiring hook's frame, a caller of
 * this one and so above it on the stack: one that is not was left by a
 * call that never returned (a thread ended inside it, unwound by
 * pthread_exit), and is no call under way.
 */
static inline struct py_lock_call *
py_lock_of(struct thread *t)
{
	struct py_lock_call *c = t->py_lock;
	char here;

	return c != NULL && (uintptr_t)c > (uintptr_t)&here ? c : NULL;
}

/*
 * A semaphore wait inside a Python lock's acquire (struct py_lock_call):
 * once the thread has let the GIL go, the parking lot's, where it waits
 * for that lock; it is published as a wait for the lock, and the
 * semaphore, private to this park, is not tracked.  Other waits there
 * pass through untracked: the parking lot's bucket locks, taken with
 * the GIL held, and a park on a lock already let go (its wake-up is on
 * its way).  A wait after a timed park (the wake-up that crossed a
 * timeout) counts as timed.
 */
static int
py_lock_park(struct thread *t, struct py_lock_call *c, sem_t *s,
    enum sem_how how, clockid_t clk, const struct timespec *abstime)
{
	int rc, err, saved = errno;

	if (atomic_load_explicit(&t->gil_state, memory_order_relaxed) ==
	    GIL_HOLDING || (atomic_load_explicit(c->bits,
	    memory_order_relaxed) & 1) == 0)
		return sem_call(s, how, clk, abstime);
	c->timed |= how != SEM_PLAIN;
	event_wait_begin(t, GW_STATE_BLOCKED, c->addr, GW_LOCK_SEM,
	    GW_MODE_EXCLUSIVE, c->timed, c->site);
	rc = sem_call(s, how, clk, abstime);
	err = errno;
	track_wait_end(t);
	if (!c->waited)
		c->wait_t0 = t->wait_t0;
	c->waited = 1;
	c->wait_end = t->wait_end;
	errno = rc == 0 ? saved : err;
	return rc;
}

/*
 * A park on a PyMutex held by another thread (gil_parked_mutex): a
 * wait for that mutex, published and counted in its statistics.
 */
static int
mutex_park(struct thread *t, sem_t *s, uintptr_t m, uintptr_t site,
    enum sem_how how, clockid_t clk, const struct timespec *abstime)
{
	int rc, err, saved = errno;

	event_wait_begin(t, GW_STATE_BLOCKED, m, GW_LOCK_PYMUTEX,
	    GW_MODE_EXCLUSIVE, how != SEM_PLAIN, site);
	rc = sem_call(s, how, clk, abstime);
	err = errno;
	track_wait_end(t);
	track_pymutex_waited(t, m, site);
	errno = rc == 0 ? saved : err;
	return rc;
}

/* Is the calling thread in a Python lock's acquire (its parking lot)? */
static int
parking(void)
{
	struct thread *t = thread_peek();

	return t != NULL && py_lock_of(t) != NULL;
}

static int
sem_acquire(sem_t *s, enum sem_how how, clockid_t clk,
    const struct timespec *abstime, uintptr_t site)
{
	struct thread *t = thread_self();
	struct py_lock_call *c;
	uintptr_t m, at;
	int rc, err, saved = errno;

	if (t == NULL)
		return sem_call(s, how, clk, abstime);
	if ((c = py_lock_of(t)) != NULL)
		return py_lock_park(t, c, s, how, clk, abstime);
	rc = real.sem_trywait(s);
	if (rc == -1 && errno == EAGAIN && (m = gil_parked_mutex(s, &at)) !=
	    0) {
		errno = saved;
		return mutex_park(t, s, m, at, how, clk, abstime);
	}
	if (rc == -1 && errno == EAGAIN) {
		event_wait_begin(t, GW_STATE_BLOCKED, (uintptr_t)s,
		    GW_LOCK_SEM, GW_MODE_EXCLUSIVE, how != SEM_PLAIN, site);
		rc = sem_call(s, how, clk, abstime);
		err = errno;
		track_wait_end(t);
	} else
		err = errno;
	if (rc == 0)
		taken(t, s, site);
	else
		t->waited = 0;	/* the next take is not this wait's */
	errno = rc == 0 ? saved : err;
	return rc;
}

GW_EXPORT int
sem_wait(sem_t *s)
{
	if (!hook_ready())
		return 0;
	return sem_acquire(s, SEM_PLAIN, 0, NULL, HOOK_CALLER);
}

GW_EXPORT int
sem_timedwait(sem_t *s, const struct timespec *abstime)
{
	if (!hook_ready())
		return 0;
	return sem_acquire(s, SEM_TIMED, CLOCK_REALTIME, abstime, HOOK_CALLER);
}

GW_EXPORT int
sem_clockwait(sem_t *s, clockid_t clk, const struct timespec *abstime)
{
	if (!hook_ready())
		return 0;
	return sem_acquire(s, SEM_CLOCK, clk, abstime, HOOK_CALLER);
}

/*
 * What a trywait that worked took, out of line, so that the hook keeps
 * few registers; a jump to the bookkeeping (which is not dlsym).  A call
 * that succeeds leaves errno as it was, as track_sem_taken does.
 */
static __attribute__((noinline, optimize("optimize-sibling-calls"))) void
sem_tried(struct thread *t, sem_t *s, uintptr_t site)
{
	taken(t, s, site);
}

/* A trywait hook that found no record ready (hook.h), out of line. */
static __attribute__((noinline)) int
sem_trywait_begin(sem_t *s, uintptr_t site)
{
	struct hook_start h = hook_begin_all();
	int rc;

	if (!h.ready)
		return 0;
	if ((rc = real.sem_trywait(s)) != 0 || h.t == NULL)
		return rc;
	sem_tried(h.t, s, site);
	return 0;
}

/* A Python lock's every acquire tries first (up to 3.13), and a
 * Condition's ownership test fails one: a failure costs one test. */
GW_EXPORT int
sem_trywait(sem_t *s)
{
	struct thread *t = thread_ready;
	int rc;

	if (__builtin_expect(t == NULL, 0))
		return sem_trywait_begin(s, HOOK_CALLER);
	if ((rc = real.sem_trywait(s)) != 0)
		return rc;
	sem_tried(thread_ready_again(), s, HOOK_CALLER);
	return 0;
}

/* A post hook that found no record ready (hook.h), out of line. */
static __attribute__((noinline)) int
sem_post_begin(sem_t *s)
{
	if (!hook_ready())
		return 0;
	if (!thread_in_shim())
		track_sem_posted(thread_mine, (uintptr_t)s);
	return real.sem_post(s);
}

/*
 * The owner goes before the post: after it, a taker may already be the
 * holder.  The common post keeps no frame and ends in a jump to the
 * real one (as pthread_mutex_unlock does, and why it may).
 */
GW_EXPORT __attribute__((optimize("optimize-sibling-calls"))) int
sem_post(sem_t *s)
{
	struct thread *t = thread_ready;

	if (__builtin_expect(t == NULL, 0))
		return sem_post_begin(s);
	track_sem_posted_fast(t, (uintptr_t)s);
	return real.sem_post(s);
}

GW_EXPORT int
sem_init(sem_t *s, int pshared, unsigned value)
{
	int rc, saved = errno;

	if (!hook_ready())
		return 0;
	rc = real.sem_init(s, pshared, value);
	if (rc == 0 && !thread_in_shim() && !parking()) {
		track_initialised((uintptr_t)s, GW_LOCK_SEM, HOOK_CALLER);
		errno = saved;
	}
	return rc;
}

GW_EXPORT int
sem_destroy(sem_t *s)
{
	int rc;

	if (!hook_ready())
		return 0;
	rc = real.sem_destroy(s);
	if (rc == 0 && !parking())
		track_destroyed((uintptr_t)s);
	return rc;
}
