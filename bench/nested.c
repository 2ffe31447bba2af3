/*
 * A steady nested-locking pattern: each of 4 threads takes 2 to 4 of a
 * small set of mutexes in a fixed order, over and over.  After the first
 * round every (held set, new lock) chain is cached, so this measures the
 * lock-order validator and the statistics in their steady state.
 * Usage: nested [ITERATIONS]   Prints "nested: N iterations, X ns/iter".
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "bench.h"

#define NTHREADS	4
#define NLOCKS		8

static pthread_mutex_t locks[NLOCKS];
static long iterations;
static long counter[NLOCKS];

static void *
worker(void *arg)
{
	long id = (long)arg, i;
	int depth, k, first;

	for (i = 0; i < iterations; i++) {
		depth = 2 + (int)(i % 3);
		first = (int)((id + i) % (NLOCKS - depth + 1));
		for (k = 0; k < depth; k++)
			pthread_mutex_lock(&locks[first + k]);
		counter[first]++;
		for (k = depth - 1; k >= 0; k--)
			pthread_mutex_unlock(&locks[first + k]);
	}
	return NULL;
}

int
main(int argc, char **argv)
{
	pthread_t th[NTHREADS];
	double t0;
	long i;

	iterations = argc > 1 ? atol(argv[1]) : 1000000;
	for (i = 0; i < NLOCKS; i++)
		pthread_mutex_init(&locks[i], NULL);
	t0 = now();
	for (i = 0; i < NTHREADS; i++)
		pthread_create(&th[i], NULL, worker, (void *)i);
	for (i = 0; i < NTHREADS; i++)
		pthread_join(th[i], NULL);
	printf("nested: %ld iterations x %d threads, %.1f ns/iter\n",
	    iterations, NTHREADS, (now() - t0) * 1e9 / (double)iterations);
	return 0;
}
