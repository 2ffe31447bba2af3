/*
 * The shim's own lock: a futex word, never a pthread call.
 *
 * Code inside libgilwatch.so must not call pthread_mutex_* for its own
 * bookkeeping: such calls resolve to the shim's own hooks.  Hold a ulock
 * briefly and never across a call that may block on the program.
 * After fork() the child resets every ulock it owns (ulock_init).
 *
 * A ulock in memory the shim shares with its monitor process (share.h)
 * is taken by two processes, and either may die holding it.  So a
 * waiter wakes every ULOCK_CHECK_NS and asks the shim (the weak hooks
 * below, absent outside it) whether to go on: a monitor whose program
 * is gone leaves, and a program takes over a lock its dead monitor held.
 * The futex is a shared one for the same reason.
 */
#ifndef GW_ULOCK_H
#define GW_ULOCK_H

#include <errno.h>
#include <linux/futex.h>
#include <stdatomic.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define ULOCK_CHECK_NS	100000000	/* a waiter's look around */

struct ulock {
	atomic_int	state;	/* 0 free, 1 held, 2 held with waiters */
	atomic_int	owner;	/* the monitor's pid while it holds it */
};

#define ULOCK_INIT	{ 0, 0 }

/* The shim's (monitor.c): the pid to note as the holder (0: none to
 * note), whether that holder is gone, and a waiter's look around. */
int	ulock_owner_self(void) __attribute__((weak));
int	ulock_owner_gone(int pid) __attribute__((weak));
void	ulock_waiting(void) __attribute__((weak));

static inline void
ulock_init(struct ulock *l)
{
	atomic_store_explicit(&l->state, 0, memory_order_relaxed);
	atomic_store_explicit(&l->owner, 0, memory_order_relaxed);
}

/* A wait ran out: leave, or take over from a dead holder. */
static inline void
ulock_stuck(struct ulock *l)
{
	int o;

	if (ulock_waiting)
		ulock_waiting();
	o = atomic_load(&l->owner);
	if (o != 0 && ulock_owner_gone && ulock_owner_gone(o) &&
	    atomic_compare_exchange_strong(&l->owner, &o, 0))
		atomic_store(&l->state, 0);
}

static inline void
ulock_lock(struct ulock *l)
{
	struct timespec ts = { 0, ULOCK_CHECK_NS };
	int c = 0, saved;

	if (!atomic_compare_exchange_strong(&l->state, &c, 1)) {
		saved = errno;
		if (c != 2)
			c = atomic_exchange(&l->state, 2);
		while (c != 0) {
			if (syscall(SYS_futex, &l->state, FUTEX_WAIT, 2, &ts,
			    NULL, 0) == -1 && errno == ETIMEDOUT)
				ulock_stuck(l);
			c = atomic_exchange(&l->state, 2);
		}
		errno = saved;
	}
	if (ulock_owner_self)
		atomic_store_explicit(&l->owner, ulock_owner_self(),
		    memory_order_relaxed);
}

static inline void
ulock_unlock(struct ulock *l)
{
	atomic_store_explicit(&l->owner, 0, memory_order_relaxed);
	if (atomic_exchange(&l->state, 0) == 2)
		syscall(SYS_futex, &l->state, FUTEX_WAKE, 1, NULL, NULL, 0);
}

#endif /* GW_ULOCK_H */
