/*
 * ns per uncontended pthread_mutex_lock + unlock pair, single thread.
 * Usage: lockpair [PAIRS]   Prints "lockpair: N pairs, X ns/pair".
 * Run it bare, under the shim, and under Valgrind (bench/run).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "bench.h"

int
main(int argc, char **argv)
{
	static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
	long i, n = argc > 1 ? atol(argv[1]) : 20000000;
	double t0, best = 1e9, t;
	int round;

	/* Best of five rounds: the least disturbed by the machine. */
	for (round = 0; round < 5; round++) {
		t0 = now();
		for (i = 0; i < n; i++) {
			pthread_mutex_lock(&m);
			pthread_mutex_unlock(&m);
		}
		t = (now() - t0) * 1e9 / (double)n;
		if (t < best)
			best = t;
	}
	printf("lockpair: %ld pairs, %.2f ns/pair\n", n, best);
	return 0;
}
