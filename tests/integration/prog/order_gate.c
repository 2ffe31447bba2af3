/*
 * order_gate MODE: A and B taken in both orders, by threads run one at
 * a time (each joined before the next starts).  When every such path
 * first takes G, G is a gate: the inversion cannot deadlock while that
 * holds, so it is counted as known safe, naming G, and not reported.
 *
 *   gated           "ab": G, A, B.  "ba": G, B, A.  No report; one safe
 *                   order, gate G.
 *   ungated_after   "ab": G, A, B.  "bare": A, B (no G).  "ba": G, B, A.
 *                   One report, and G is no gate (A->B was once taken
 *                   without it): gates [].
 *   ungated_before  as ungated_after with "bare" first: one report,
 *                   gates [].
 *   ungated_last    as gated, then "bare": the cycle first counted safe
 *                   is reported when "bare" takes A->B without G.
 *
 * Prints "done MODE" and exits 0 (2 when a call fails).  On stderr it
 * names its threads and locks ("gw-sample: ...").
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sample.h"

static pthread_mutex_t g, a, b;

#define CHECK(call) do {						\
	if ((call) != 0) {						\
		fprintf(stderr, "order_gate: %s failed\n", #call);	\
		exit(2);						\
	}								\
} while (0)

static void
nest(pthread_mutex_t *gate, pthread_mutex_t *outer, pthread_mutex_t *inner)
{
	if (gate != NULL)
		CHECK(pthread_mutex_lock(gate));
	CHECK(pthread_mutex_lock(outer));
	CHECK(pthread_mutex_lock(inner));
	CHECK(pthread_mutex_unlock(inner));
	CHECK(pthread_mutex_unlock(outer));
	if (gate != NULL)
		CHECK(pthread_mutex_unlock(gate));
}

static void *
ab(void *arg)
{
	sample_thread("ab");
	nest(&g, &a, &b);
	return NULL;
}

static void *
ba(void *arg)
{
	sample_thread("ba");
	nest(&g, &b, &a);
	return NULL;
}

static void *
bare(void *arg)
{
	sample_thread("bare");
	nest(NULL, &a, &b);
	return NULL;
}

static void
run(void *(*fn)(void *))
{
	pthread_t t;

	CHECK(pthread_create(&t, NULL, fn, NULL));
	CHECK(pthread_join(t, NULL));
}

int
main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";

	sample_pid();
	CHECK(pthread_mutex_init(&g, NULL));
	CHECK(pthread_mutex_init(&a, NULL));
	CHECK(pthread_mutex_init(&b, NULL));
	sample_lock(&g, "G");
	sample_lock(&a, "A");
	sample_lock(&b, "B");
	if (strcmp(mode, "gated") == 0) {
		run(ab);
		run(ba);
	} else if (strcmp(mode, "ungated_after") == 0) {
		run(ab);
		run(bare);
		run(ba);
	} else if (strcmp(mode, "ungated_before") == 0) {
		run(bare);
		run(ab);
		run(ba);
	} else if (strcmp(mode, "ungated_last") == 0) {
		run(ab);
		run(ba);
		run(bare);
	} else {
		fprintf(stderr, "usage: order_gate "
		    "gated|ungated_after|ungated_before|ungated_last\n");
		return 2;
	}
	printf("done %s\n", mode);
	return 0;
}
