/*
 * glibc's lock words, read and written by the hooks' fast paths without
 * a call into glibc (tests/unit/test-glibc-inline.c holds each against
 * glibc's own function).
 *
 * A normal mutex in a process that never had a second thread, taken and
 * given back here rather than in glibc: the same stores glibc makes
 * there, without the calls.
 *
 * glibc 2.36 (pthread_mutex_lock.c, pthread_mutex_unlock.c), for a
 * mutex whose kind is 0 (PTHREAD_MUTEX_NORMAL, process-private, no
 * robust, priority or elision flag), or that and the no-elision flag
 * alone (pthread_mutexattr_settype sets it for PTHREAD_MUTEX_NORMAL),
 * while __libc_single_threaded is set: the lock sees the word 0, stores 1 with no locked instruction,
 * checks that no owner is recorded (an assertion), records the caller's
 * tid as the owner and counts a user; the unlock clears the owner,
 * counts a user less and stores 0, with no wake (nobody can wait).
 * Nothing else is touched, and these fields are glibc's public struct,
 * fixed by the ABI of its static initialisers.  The one difference:
 * with lock elision forced by a tunable, glibc would mark the mutex for
 * elision at its first lock; here it stays unmarked until glibc takes
 * it.  The test compares both, byte for byte.
 *
 * The caller checks __libc_single_threaded: these functions do not.
 */
#ifndef GW_GLIBC_INLINE_H
#define GW_GLIBC_INLINE_H

#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <sys/types.h>

/* glibc's PTHREAD_MUTEX_NO_ELISION_NP, a kind bit of no other effect
 * on these paths; and its process-shared bit. */
#define MUTEX_ALONE_NO_ELISION	512
#define MUTEX_KIND_PSHARED	128

static inline int
mutex_alone_kind(const pthread_mutex_t *m)
{
	return (m->__data.__kind & ~MUTEX_ALONE_NO_ELISION) == 0;
}

/*
 * May m be taken here?  A normal, process-private mutex, free, with no
 * owner recorded (else glibc's assertion is glibc's to make).
 */
static inline int
mutex_alone_takes(const pthread_mutex_t *m)
{
	return mutex_alone_kind(m) && m->__data.__lock == 0 &&
	    m->__data.__owner == 0;
}

/* Take m (mutex_alone_takes said yes) for the thread tid. */
static inline void
mutex_alone_take(pthread_mutex_t *m, pid_t tid)
{
	m->__data.__lock = 1;
	m->__data.__owner = tid;
	m->__data.__nusers++;
}

/* May m be given back here?  A normal, process-private mutex. */
static inline int
mutex_alone_gives(const pthread_mutex_t *m)
{
	return mutex_alone_kind(m);
}

/* Give m back (mutex_alone_gives said yes), as glibc's unlock would. */
static inline void
mutex_alone_give(pthread_mutex_t *m)
{
	m->__data.__owner = 0;
	m->__data.__nusers--;
	m->__data.__lock = 0;
}

/*
 * A semaphore's count, as sem_getvalue gives it: glibc 2.36 keeps it in
 * the low 32 bits of the semaphore's first word (its waiters in the
 * high ones), and sem_getvalue is that relaxed load.
 */
static inline unsigned
sem_count(sem_t *s)
{
	return atomic_load_explicit((_Atomic unsigned *)s,
	    memory_order_relaxed);
}

#endif /* GW_GLIBC_INLINE_H */
