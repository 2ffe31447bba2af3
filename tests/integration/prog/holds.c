/*
 * holds: hold-time statistics with a known total.  The main thread takes
 * mutex m COUNT times (default 4000), uncontended, and keeps it HOLD_US
 * microseconds (default 50) each time, spinning on the clock; it measures
 * every hold itself, from the return of the lock call to the unlock call,
 * and prints the sum on stdout: "held_ns N".
 * Usage: holds [COUNT [HOLD_US]]
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "sample.h"

static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int
main(int argc, char **argv)
{
	long count = argc > 1 ? atol(argv[1]) : 4000;
	uint64_t hold = (argc > 2 ? (uint64_t)atol(argv[2]) : 50) * 1000;
	uint64_t total = 0, t0;
	long i;

	sample_lock(&m, "m");
	for (i = 0; i < count; i++) {
		pthread_mutex_lock(&m);
		t0 = now_ns();
		while (now_ns() - t0 < hold)
			;
		total += now_ns() - t0;
		pthread_mutex_unlock(&m);
	}
	printf("held_ns %llu\n", (unsigned long long)total);
	return 0;
}
