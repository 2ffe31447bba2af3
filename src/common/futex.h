/*
 * A futex word shared by threads or by processes (the shim and its
 * monitor, share.h), with a CLOCK_MONOTONIC deadline: the waits and
 * wakes the shim makes outside ulock.h.  Not the private kind, so that
 * a wake crosses from one process to the other.
 */
#ifndef GW_FUTEX_H
#define GW_FUTEX_H

#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <stdatomic.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* The CLOCK_MONOTONIC time ms from now (now, for ms <= 0). */
static inline void
deadline_after(struct timespec *dl, int ms)
{
	clock_gettime(CLOCK_MONOTONIC, dl);
	if (ms <= 0)
		return;
	dl->tv_sec += ms / 1000;
	dl->tv_nsec += (long)(ms % 1000) * 1000000;
	if (dl->tv_nsec >= 1000000000) {
		dl->tv_sec++;
		dl->tv_nsec -= 1000000000;
	}
}

/* Wake every waiter on word (a 32-bit atomic). */
static inline void
futex_wake_all(void *word)
{
	syscall(SYS_futex, word, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
}

/* Wait while *word is val, until the deadline: 0, or -1 and errno. */
static inline int
futex_wait_until(void *word, unsigned val, const struct timespec *dl)
{
	return (int)syscall(SYS_futex, word, FUTEX_WAIT_BITSET, val, dl, NULL,
	    FUTEX_BITSET_MATCH_ANY);
}

/*
 * Wait until *word is no longer val, or the deadline passes; a signal
 * or a spurious wake-up waits on.  Keeps errno.
 */
static inline void
futex_await_change(atomic_uint *word, unsigned val, const struct timespec *dl)
{
	int saved = errno;

	while (atomic_load(word) == val && (futex_wait_until(word, val, dl) ==
	    0 || errno == EINTR || errno == EAGAIN))
		;
	errno = saved;
}

#endif /* GW_FUTEX_H */
