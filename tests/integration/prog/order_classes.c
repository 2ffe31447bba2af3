/*
 * order_classes MODE: two kinds of object, each with its own mutex
 * initialised in its own function (account_init, ledger_init): two lock
 * classes.  Two instances of each, a1 a2 and l1 l2.  Threads run one at
 * a time.
 *
 *   inverted    "teller": a1 then l1.  "auditor": l2 then a2.  No two
 *               instances were ever taken in both orders, but the
 *               classes were: one report, view "class".
 *   consistent  "teller": a1 then l1.  "auditor": a2 then l2: no report.
 *
 * Prints "done MODE" and exits 0 (2 when a call fails).  On stderr it
 * names its threads and locks ("gw-sample: ...").
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sample.h"

struct account {
	pthread_mutex_t	m;
	long		balance;
};

struct ledger {
	pthread_mutex_t	m;
	long		entries;
};

static struct account a1, a2;
static struct ledger l1, l2;
static int inverted;

#define CHECK(call) do {						\
	if ((call) != 0) {						\
		fprintf(stderr, "order_classes: %s failed\n", #call);	\
		exit(2);						\
	}								\
} while (0)

static void
account_init(struct account *a)
{
	CHECK(pthread_mutex_init(&a->m, NULL));
	a->balance = 0;
}

static void
ledger_init(struct ledger *l)
{
	CHECK(pthread_mutex_init(&l->m, NULL));
	l->entries = 0;
}

/* Post to the account, then record it in the ledger. */
static void *
teller(void *arg)
{
	sample_thread("teller");
	CHECK(pthread_mutex_lock(&a1.m));
	CHECK(pthread_mutex_lock(&l1.m));
	a1.balance += 10;
	l1.entries++;
	CHECK(pthread_mutex_unlock(&l1.m));
	CHECK(pthread_mutex_unlock(&a1.m));
	return NULL;
}

static void *
auditor(void *arg)
{
	sample_thread("auditor");
	if (inverted) {
		CHECK(pthread_mutex_lock(&l2.m));
		CHECK(pthread_mutex_lock(&a2.m));
	} else {
		CHECK(pthread_mutex_lock(&a2.m));
		CHECK(pthread_mutex_lock(&l2.m));
	}
	a2.balance -= 10;
	l2.entries++;
	CHECK(pthread_mutex_unlock(&a2.m));
	CHECK(pthread_mutex_unlock(&l2.m));
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

	if (strcmp(mode, "inverted") == 0)
		inverted = 1;
	else if (strcmp(mode, "consistent") != 0) {
		fprintf(stderr, "usage: order_classes inverted|consistent\n");
		return 2;
	}
	sample_pid();
	account_init(&a1);
	account_init(&a2);
	ledger_init(&l1);
	ledger_init(&l2);
	sample_lock(&a1.m, "a1");
	sample_lock(&a2.m, "a2");
	sample_lock(&l1.m, "l1");
	sample_lock(&l2.m, "l2");
	run(teller);
	run(auditor);
	printf("done %s\n", mode);
	return 0;
}
