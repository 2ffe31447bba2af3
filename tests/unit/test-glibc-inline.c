/*
 * glibc-inline.h against glibc.  The shim's own take and give-back of a
 * normal mutex in a single-threaded process must leave every byte of the
 * mutex as glibc's lock and unlock do, and decline every other mutex:
 * each case runs the same operations on two mutexes made alike, one
 * through glibc and one through glibc-inline.h, and compares them.  A
 * semaphore's count must be sem_getvalue's, waiters or not.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <string.h>
#include <unistd.h>

#include "glibc-inline.h"

static void
make(pthread_mutex_t *m, int type, int pshared, int robust)
{
	pthread_mutexattr_t a;

	cr_assert_eq(pthread_mutexattr_init(&a), 0);
	cr_assert_eq(pthread_mutexattr_settype(&a, type), 0);
	cr_assert_eq(pthread_mutexattr_setpshared(&a, pshared), 0);
	cr_assert_eq(pthread_mutexattr_setrobust(&a, robust), 0);
	memset(m, 0xa5, sizeof *m);	/* init must write what matters */
	cr_assert_eq(pthread_mutex_init(m, &a), 0);
	pthread_mutexattr_destroy(&a);
}

/* Take and give back both ways, n times; compare after each step. */
static void
same_as_glibc(pthread_mutex_t *glibc, pthread_mutex_t *alone, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		cr_assert(mutex_alone_takes(alone), "round %d", i);
		cr_assert_eq(pthread_mutex_lock(glibc), 0);
		mutex_alone_take(alone, gettid());
		cr_assert_eq(memcmp(glibc, alone, sizeof *glibc), 0,
		    "after the lock of round %d", i);
		cr_assert(!mutex_alone_takes(alone), "taken: not again");
		cr_assert(mutex_alone_gives(alone));
		cr_assert_eq(pthread_mutex_unlock(glibc), 0);
		mutex_alone_give(alone);
		cr_assert_eq(memcmp(glibc, alone, sizeof *glibc), 0,
		    "after the unlock of round %d", i);
	}
}

Test(glibc_inline, static_initializer)
{
	pthread_mutex_t g = PTHREAD_MUTEX_INITIALIZER;
	pthread_mutex_t a = PTHREAD_MUTEX_INITIALIZER;

	same_as_glibc(&g, &a, 3);
}

Test(glibc_inline, normal_and_default_from_init)
{
	pthread_mutex_t g, a;

	make(&g, PTHREAD_MUTEX_NORMAL, PTHREAD_PROCESS_PRIVATE,
	    PTHREAD_MUTEX_STALLED);
	make(&a, PTHREAD_MUTEX_NORMAL, PTHREAD_PROCESS_PRIVATE,
	    PTHREAD_MUTEX_STALLED);
	same_as_glibc(&g, &a, 3);
	make(&g, PTHREAD_MUTEX_DEFAULT, PTHREAD_PROCESS_PRIVATE,
	    PTHREAD_MUTEX_STALLED);
	make(&a, PTHREAD_MUTEX_DEFAULT, PTHREAD_PROCESS_PRIVATE,
	    PTHREAD_MUTEX_STALLED);
	same_as_glibc(&g, &a, 2);
}

/* Taken by glibc, given back here, and the other way round. */
Test(glibc_inline, mixed_with_glibc)
{
	pthread_mutex_t g = PTHREAD_MUTEX_INITIALIZER;
	pthread_mutex_t a = PTHREAD_MUTEX_INITIALIZER;

	cr_assert_eq(pthread_mutex_lock(&g), 0);
	cr_assert_eq(pthread_mutex_lock(&a), 0);
	cr_assert(mutex_alone_gives(&a));
	cr_assert_eq(pthread_mutex_unlock(&g), 0);
	mutex_alone_give(&a);
	cr_assert_eq(memcmp(&g, &a, sizeof g), 0);
	cr_assert(mutex_alone_takes(&a));
	cr_assert_eq(pthread_mutex_lock(&g), 0);
	mutex_alone_take(&a, gettid());
	cr_assert_eq(pthread_mutex_unlock(&g), 0);
	cr_assert_eq(pthread_mutex_unlock(&a), 0);
	cr_assert_eq(memcmp(&g, &a, sizeof g), 0);
	/* glibc still sees a free mutex it can take and give back. */
	cr_assert_eq(pthread_mutex_trylock(&a), 0);
	cr_assert_eq(pthread_mutex_trylock(&a), EBUSY);
	cr_assert_eq(pthread_mutex_unlock(&a), 0);
}

/* Every other kind is glibc's: the checks decline it, free or not. */
Test(glibc_inline, declines_other_kinds)
{
	static const int types[] = { PTHREAD_MUTEX_RECURSIVE,
	    PTHREAD_MUTEX_ERRORCHECK, PTHREAD_MUTEX_ADAPTIVE_NP };
	pthread_mutex_t m;
	size_t i;

	for (i = 0; i < sizeof types / sizeof types[0]; i++) {
		make(&m, types[i], PTHREAD_PROCESS_PRIVATE,
		    PTHREAD_MUTEX_STALLED);
		cr_expect(!mutex_alone_takes(&m), "type %d", types[i]);
		cr_expect(!mutex_alone_gives(&m), "type %d", types[i]);
	}
	make(&m, PTHREAD_MUTEX_NORMAL, PTHREAD_PROCESS_SHARED,
	    PTHREAD_MUTEX_STALLED);
	cr_expect(!mutex_alone_takes(&m), "process-shared");
	cr_expect(!mutex_alone_gives(&m), "process-shared");
	make(&m, PTHREAD_MUTEX_NORMAL, PTHREAD_PROCESS_PRIVATE,
	    PTHREAD_MUTEX_ROBUST);
	cr_expect(!mutex_alone_takes(&m), "robust");
	cr_expect(!mutex_alone_gives(&m), "robust");
}

/* A mutex taken (by glibc) is not taken again, nor one whose owner
 * word is set (glibc's assertion is left to glibc). */
Test(glibc_inline, declines_taken_or_owned)
{
	pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;

	cr_assert_eq(pthread_mutex_lock(&m), 0);
	cr_expect(!mutex_alone_takes(&m));
	cr_assert_eq(pthread_mutex_unlock(&m), 0);
	cr_expect(mutex_alone_takes(&m));
	m.__data.__owner = 1;
	cr_expect(!mutex_alone_takes(&m));
}

static int
getvalue(sem_t *s)
{
	int v = -1;

	cr_assert_eq(sem_getvalue(s, &v), 0);
	return v;
}

/*
 * The word's high half is glibc's waiter count: each thread blocked in
 * sem_wait adds one there.  Waiters are set in it directly rather than
 * by threads left to block (which a test could only see by polling):
 * whatever the half holds, sem_getvalue is the judge of the count.
 */
static void
set_waiters(sem_t *s, unsigned n)
{
	unsigned long long *word = (unsigned long long *)s;

	*word = (*word & 0xffffffffu) | (unsigned long long)n << 32;
}

Test(glibc_inline, sem_count_is_getvalue)
{
	static const unsigned nwaiters[] = { 1, 2, 1000, 0x7fffffff };
	sem_t s;
	size_t k;
	int i;

	cr_assert_eq(sem_init(&s, 0, 3), 0);
	cr_expect_eq(sem_count(&s), 3u);
	for (i = 0; i < 3; i++) {
		cr_assert_eq(sem_trywait(&s), 0);
		cr_expect_eq(sem_count(&s), (unsigned)getvalue(&s));
	}
	cr_expect_eq(sem_count(&s), 0u);
	for (k = 0; k < sizeof nwaiters / sizeof nwaiters[0]; k++) {
		set_waiters(&s, nwaiters[k]);
		cr_expect_eq(sem_count(&s), 0u, "%u waiters", nwaiters[k]);
		cr_expect_eq(sem_count(&s), (unsigned)getvalue(&s));
	}
	set_waiters(&s, 0);
	cr_assert_eq(sem_post(&s), 0);
	cr_expect_eq(sem_count(&s), 1u);
	cr_expect_eq(sem_count(&s), (unsigned)getvalue(&s));
	set_waiters(&s, 3);
	cr_expect_eq(sem_count(&s), 1u, "a count beside waiters");
	cr_expect_eq(sem_count(&s), (unsigned)getvalue(&s));
	set_waiters(&s, 0);
	sem_destroy(&s);
}
