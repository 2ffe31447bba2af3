/*
 * order_stress: four threads, 100000 iterations each, every iteration
 * taking two to four of the mutexes m0..m3 nested, always in ascending
 * order (the subsets of {0,1,2,3} with at least two members, bitmasks
 * 3 5 6 7 9 10 11 12 13 14 15 in turn, thread t starting at the t-th),
 * adding one to each lock's counter under it.  No order is ever
 * inverted: the validator must stay silent, and mutual exclusion must
 * hold (exact counts).
 *
 * Prints "counter K N" for each lock and "total N" (iterations run),
 * then exits 0 (1 when a count is off, 2 when a call fails).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "sample.h"

#define NTHREADS	4
#define NLOOPS		100000
#define NLOCKS		4

static pthread_mutex_t	locks[NLOCKS];
static long		counter[NLOCKS];
static const unsigned	subsets[] = { 3, 5, 6, 7, 9, 10, 11, 12, 13, 14, 15 };
#define NSUBSETS	(sizeof subsets / sizeof subsets[0])
static pthread_barrier_t start;

#define CHECK(call) do {						\
	if ((call) != 0) {						\
		fprintf(stderr, "order_stress: %s failed\n", #call);	\
		exit(2);						\
	}								\
} while (0)

static void *
worker(void *arg)
{
	long t = (long)arg, done = 0;
	unsigned set;
	int i, k;

	pthread_barrier_wait(&start);
	for (i = 0; i < NLOOPS; i++) {
		set = subsets[(i + t) % NSUBSETS];
		for (k = 0; k < NLOCKS; k++)
			if (set & (1u << k)) {
				CHECK(pthread_mutex_lock(&locks[k]));
				counter[k]++;
			}
		for (k = NLOCKS - 1; k >= 0; k--)
			if (set & (1u << k))
				CHECK(pthread_mutex_unlock(&locks[k]));
		done++;
	}
	return (void *)done;
}

int
main(void)
{
	pthread_t t[NTHREADS];
	long want[NLOCKS] = { 0 }, total = 0;
	void *done;
	int i, k, bad = 0;

	sample_pid();
	for (k = 0; k < NLOCKS; k++) {
		CHECK(pthread_mutex_init(&locks[k], NULL));
		sample_lock(&locks[k], "m%d", k);
	}
	CHECK(pthread_barrier_init(&start, NULL, NTHREADS));
	for (i = 0; i < NTHREADS; i++)
		CHECK(pthread_create(&t[i], NULL, worker, (void *)(long)i));
	for (i = 0; i < NTHREADS; i++) {
		CHECK(pthread_join(t[i], &done));
		total += (long)done;
	}
	for (i = 0; i < NTHREADS; i++)
		for (k = 0; k < NLOOPS; k++)
			for (unsigned j = 0; j < NLOCKS; j++)
				if (subsets[(k + i) % NSUBSETS] & (1u << j))
					want[j]++;
	for (k = 0; k < NLOCKS; k++) {
		printf("counter %d %ld\n", k, counter[k]);
		bad |= counter[k] != want[k];
	}
	printf("total %ld\n", total);
	return bad || total != (long)NTHREADS * NLOOPS;
}
