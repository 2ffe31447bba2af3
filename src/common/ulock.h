/*
 * The shim's own lock: a futex word, never a pthread call.
 *
 * Code inside libgilwatch.so must not call pthread_mutex_* for its own
 * bookkeeping: such calls resolve to the shim's own hooks.  Hold a ulock
 * briefly and never across a call that may block on the program.
 * After fork() the child resets every ulock it owns (ulock_init).
 */
#ifndef GW_ULOCK_H
#define GW_ULOCK_H

#include <linux/futex.h>
#include <stdatomic.h>
#include <sys/syscall.h>
#include <unistd.h>

struct ulock {
	atomic_int	state;	/* 0 free, 1 held, 2 held with waiters */
};

#define ULOCK_INIT	{ 0 }

static inline void
ulock_init(struct ulock *l)
{
	atomic_store_explicit(&l->state, 0, memory_order_relaxed);
}

static inline void
ulock_lock(struct ulock *l)
{
	int c = 0;

	if (atomic_compare_exchange_strong(&l->state, &c, 1))
		return;
	if (c != 2)
		c = atomic_exchange(&l->state, 2);
	while (c != 0) {
		syscall(SYS_futex, &l->state, FUTEX_WAIT, 2, NULL,
		    NULL, 0);
		c = atomic_exchange(&l->state, 2);
	}
}

static inline void
ulock_unlock(struct ulock *l)
{
	if (atomic_exchange(&l->state, 0) == 2)
		syscall(SYS_futex, &l->state, FUTEX_WAKE, 1, NULL,
		    NULL, 0);
}

#endif /* GW_ULOCK_H */
