/*
 * order_reinit MODE: two mutexes A and B in one heap object, both
 * initialised by one helper (one call site, so one class: only the
 * instance graph is in play).  A lock destroyed and initialised again at
 * the same address is a new lock: the orders the old one took part in
 * are forgotten, the new one's are recorded afresh.  One thread:
 *
 *   control       A->B, then B->A, same locks: one report.
 *   reinit        A->B; destroy A and B; init both again; B->A: no report.
 *   reuse_both    A->B; destroy and init both; A->B; B->A: one report
 *                 (the new locks are inverted among themselves).
 *   reuse_first   A->B; destroy and init A only; A->B; B->A: one report.
 *   reuse_second  A->B; destroy and init B only; A->B; B->A: one report.
 *
 * Prints "done MODE" and exits 0 (2 when a call fails).  On stderr:
 * "gw-sample: lock A|B 0xADDR" (the addresses never change).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sample.h"

struct pair {
	pthread_mutex_t	a;
	pthread_mutex_t	b;
};

#define CHECK(call) do {						\
	if ((call) != 0) {						\
		fprintf(stderr, "order_reinit: %s failed\n", #call);	\
		exit(2);						\
	}								\
} while (0)

static void
init_lock(pthread_mutex_t *m)
{
	CHECK(pthread_mutex_init(m, NULL));
}

static void
renew(pthread_mutex_t *m)
{
	CHECK(pthread_mutex_destroy(m));
	init_lock(m);
}

static void
nest(pthread_mutex_t *outer, pthread_mutex_t *inner)
{
	CHECK(pthread_mutex_lock(outer));
	CHECK(pthread_mutex_lock(inner));
	CHECK(pthread_mutex_unlock(inner));
	CHECK(pthread_mutex_unlock(outer));
}

int
main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";
	struct pair *p = malloc(sizeof *p);

	if (p == NULL)
		return 2;
	sample_pid();
	init_lock(&p->a);
	init_lock(&p->b);
	sample_lock(&p->a, "A");
	sample_lock(&p->b, "B");
	nest(&p->a, &p->b);
	if (strcmp(mode, "control") == 0) {
		nest(&p->b, &p->a);
	} else if (strcmp(mode, "reinit") == 0) {
		renew(&p->a);
		renew(&p->b);
		nest(&p->b, &p->a);
	} else if (strcmp(mode, "reuse_both") == 0) {
		renew(&p->a);
		renew(&p->b);
		nest(&p->a, &p->b);
		nest(&p->b, &p->a);
	} else if (strcmp(mode, "reuse_first") == 0) {
		renew(&p->a);
		nest(&p->a, &p->b);
		nest(&p->b, &p->a);
	} else if (strcmp(mode, "reuse_second") == 0) {
		renew(&p->b);
		nest(&p->a, &p->b);
		nest(&p->b, &p->a);
	} else {
		fprintf(stderr, "usage: order_reinit control|reinit|"
		    "reuse_both|reuse_first|reuse_second\n");
		return 2;
	}
	CHECK(pthread_mutex_destroy(&p->a));
	CHECK(pthread_mutex_destroy(&p->b));
	free(p);
	printf("done %s\n", mode);
	return 0;
}
