/*
 * order_trylock MODE: trylock and the lock-order rules.  A successful
 * trylock cannot wait, so it makes no edge into the lock it took; a lock
 * taken by trylock can still be waited for later, so edges out of it
 * count.  One thread, no deadlock in any mode:
 *
 *   forward  holding A, trylock(B) (succeeds); later holding B, lock(A).
 *            Only B->A exists: no report.
 *   reverse  holding A, lock(B); later holding B, trylock(A).  Only A->B
 *            exists (the trylock backs off instead of waiting): no report.
 *   taken    trylock(T), then holding T, lock(B): T->B; later holding B,
 *            lock(T): B->T.  A cycle: one report.
 *
 * Prints "done MODE" and exits 0 (2 when a call fails, 3 when a trylock
 * that must succeed does not).  Every lock is initialised at its own
 * site, so the class graph sees the same orders as the instance graph.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sample.h"

static pthread_mutex_t a, b, t;

#define CHECK(call) do {						\
	if ((call) != 0) {						\
		fprintf(stderr, "order_trylock: %s failed\n", #call);	\
		exit(2);						\
	}								\
} while (0)

#define TRY(m) do {							\
	if (pthread_mutex_trylock(m) != 0) {				\
		fprintf(stderr, "order_trylock: trylock(%s) failed\n", #m); \
		exit(3);						\
	}								\
} while (0)

int
main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";

	sample_pid();
	CHECK(pthread_mutex_init(&a, NULL));
	CHECK(pthread_mutex_init(&b, NULL));
	CHECK(pthread_mutex_init(&t, NULL));
	sample_lock(&a, "A");
	sample_lock(&b, "B");
	sample_lock(&t, "T");
	if (strcmp(mode, "forward") == 0) {
		CHECK(pthread_mutex_lock(&a));
		TRY(&b);
		CHECK(pthread_mutex_unlock(&b));
		CHECK(pthread_mutex_unlock(&a));

		CHECK(pthread_mutex_lock(&b));
		CHECK(pthread_mutex_lock(&a));
		CHECK(pthread_mutex_unlock(&a));
		CHECK(pthread_mutex_unlock(&b));
	} else if (strcmp(mode, "reverse") == 0) {
		CHECK(pthread_mutex_lock(&a));
		CHECK(pthread_mutex_lock(&b));
		CHECK(pthread_mutex_unlock(&b));
		CHECK(pthread_mutex_unlock(&a));

		CHECK(pthread_mutex_lock(&b));
		TRY(&a);
		CHECK(pthread_mutex_unlock(&a));
		CHECK(pthread_mutex_unlock(&b));
	} else if (strcmp(mode, "taken") == 0) {
		TRY(&t);
		CHECK(pthread_mutex_lock(&b));
		CHECK(pthread_mutex_unlock(&b));
		CHECK(pthread_mutex_unlock(&t));

		CHECK(pthread_mutex_lock(&b));
		CHECK(pthread_mutex_lock(&t));
		CHECK(pthread_mutex_unlock(&t));
		CHECK(pthread_mutex_unlock(&b));
	} else {
		fprintf(stderr, "usage: order_trylock forward|reverse|taken\n");
		return 2;
	}
	printf("done %s\n", mode);
	return 0;
}
