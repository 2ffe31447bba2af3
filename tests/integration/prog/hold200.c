/*
 * hold200: statistics with known figures.  "holder" takes mutex m and
 * keeps it about 200 ms (the sleep is the workload: a long critical
 * section) while "waiter", let go by a barrier once m is held, blocks on
 * it.  Expected: m acquired twice, contended once, max hold and max wait
 * near 200 ms.
 */
#include <pthread.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "sample.h"

static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static pthread_barrier_t held;

static void *
holder(void *arg)
{
	struct timespec ts = { 0, 200 * 1000 * 1000 };

	pthread_mutex_lock(&m);
	pthread_barrier_wait(&held);
	nanosleep(&ts, NULL);
	pthread_mutex_unlock(&m);
	return NULL;
}

static void *
waiter(void *arg)
{
	pthread_barrier_wait(&held);
	pthread_mutex_lock(&m);
	pthread_mutex_unlock(&m);
	return NULL;
}

int
main(void)
{
	pthread_t a, b;

	sample_lock(&m, "m");
	pthread_barrier_init(&held, NULL, 2);
	pthread_create(&a, NULL, holder, NULL);
	pthread_create(&b, NULL, waiter, NULL);
	pthread_join(a, NULL);
	pthread_join(b, NULL);
	return 0;
}
