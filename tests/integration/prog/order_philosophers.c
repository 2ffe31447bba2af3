/*
 * order_philosophers: five philosophers, philosopher i taking fork i and
 * then fork (i+1)%5 -- the classic order cycle -- but one philosopher at
 * a time (each thread is joined before the next starts), so the run
 * never deadlocks.  The lock-order validator must still see the cycle
 * of five: fork-0 -> fork-1 -> ... -> fork-4 -> fork-0, closed by phil-4.
 *
 * Prints "done meals 5" and exits 0.  On stderr it names its threads and
 * forks ("gw-sample: ...").  All forks are initialised at one site (one
 * class), so only the instance graph can see the cycle.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "sample.h"

#define NPHIL	5

static pthread_mutex_t	forks[NPHIL];
static int		meals;

#define CHECK(call) do {						\
	if ((call) != 0) {						\
		fprintf(stderr, "order_philosophers: %s failed\n", #call); \
		exit(2);						\
	}								\
} while (0)

static void *
philosopher(void *arg)
{
	int i = (int)(long)arg;
	pthread_mutex_t *left = &forks[i], *right = &forks[(i + 1) % NPHIL];

	sample_thread("phil-%d", i);
	CHECK(pthread_mutex_lock(left));
	CHECK(pthread_mutex_lock(right));
	meals++;
	CHECK(pthread_mutex_unlock(right));
	CHECK(pthread_mutex_unlock(left));
	return NULL;
}

int
main(void)
{
	pthread_t t;
	int i;

	sample_pid();
	for (i = 0; i < NPHIL; i++) {
		CHECK(pthread_mutex_init(&forks[i], NULL));
		sample_lock(&forks[i], "fork-%d", i);
	}
	for (i = 0; i < NPHIL; i++) {
		CHECK(pthread_create(&t, NULL, philosopher, (void *)(long)i));
		CHECK(pthread_join(t, NULL));
	}
	printf("done meals %d\n", meals);
	return meals == NPHIL ? 0 : 1;
}
