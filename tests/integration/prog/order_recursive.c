/*
 * order_recursive MODE: a recursive mutex R and a plain mutex M, one
 * thread.  Taking a lock the thread already holds adds no order.
 *
 *   relock     R, R again, R a third time; unlock thrice: no report.
 *   inside     R, M, then R again while holding M (a recursive relock,
 *              which cannot wait): no report.
 *   inversion  R, R again, M; unlock all; later M, then R: R->M and M->R,
 *              one report.
 *
 * Prints "done MODE" and exits 0 (2 when a call fails).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sample.h"

static pthread_mutex_t r, m;

#define CHECK(call) do {						\
	if ((call) != 0) {						\
		fprintf(stderr, "order_recursive: %s failed\n", #call);	\
		exit(2);						\
	}								\
} while (0)

int
main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";
	pthread_mutexattr_t attr;

	sample_pid();
	CHECK(pthread_mutexattr_init(&attr));
	CHECK(pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE));
	CHECK(pthread_mutex_init(&r, &attr));
	CHECK(pthread_mutexattr_destroy(&attr));
	CHECK(pthread_mutex_init(&m, NULL));
	sample_lock(&r, "R");
	sample_lock(&m, "M");
	if (strcmp(mode, "relock") == 0) {
		CHECK(pthread_mutex_lock(&r));
		CHECK(pthread_mutex_lock(&r));
		CHECK(pthread_mutex_lock(&r));
		CHECK(pthread_mutex_unlock(&r));
		CHECK(pthread_mutex_unlock(&r));
		CHECK(pthread_mutex_unlock(&r));
	} else if (strcmp(mode, "inside") == 0) {
		CHECK(pthread_mutex_lock(&r));
		CHECK(pthread_mutex_lock(&m));
		CHECK(pthread_mutex_lock(&r));
		CHECK(pthread_mutex_unlock(&r));
		CHECK(pthread_mutex_unlock(&m));
		CHECK(pthread_mutex_unlock(&r));
	} else if (strcmp(mode, "inversion") == 0) {
		CHECK(pthread_mutex_lock(&r));
		CHECK(pthread_mutex_lock(&r));
		CHECK(pthread_mutex_lock(&m));
		CHECK(pthread_mutex_unlock(&m));
		CHECK(pthread_mutex_unlock(&r));
		CHECK(pthread_mutex_unlock(&r));

		CHECK(pthread_mutex_lock(&m));
		CHECK(pthread_mutex_lock(&r));
		CHECK(pthread_mutex_unlock(&r));
		CHECK(pthread_mutex_unlock(&m));
	} else {
		fprintf(stderr, "usage: order_recursive "
		    "relock|inside|inversion\n");
		return 2;
	}
	printf("done %s\n", mode);
	return 0;
}
