/*
 * order_rwlock MODE: an rwlock R and a mutex M, one thread, never a
 * deadlock in the run itself:
 *
 *   readread   holding R for reading, lock(M); later holding M,
 *              rdlock(R).  Readers share R (glibc's default rwlock
 *              prefers readers), so the two paths cannot deadlock: no
 *              report.
 *   readwrite  holding R for reading, lock(M); later holding M,
 *              wrlock(R).  The writer waits for the reader, who waits
 *              for M: one report.
 *   writeread  holding R for writing, lock(M); later holding M,
 *              rdlock(R).  The reader waits for the writer: one report.
 *
 * Prints "done MODE" and exits 0 (2 when a call fails).  R and M are
 * initialised at sites of their own.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sample.h"

static pthread_rwlock_t r;
static pthread_mutex_t m;

#define CHECK(call) do {						\
	if ((call) != 0) {						\
		fprintf(stderr, "order_rwlock: %s failed\n", #call);	\
		exit(2);						\
	}								\
} while (0)

static void
r_then_m(int write)
{
	CHECK(write ? pthread_rwlock_wrlock(&r) : pthread_rwlock_rdlock(&r));
	CHECK(pthread_mutex_lock(&m));
	CHECK(pthread_mutex_unlock(&m));
	CHECK(pthread_rwlock_unlock(&r));
}

static void
m_then_r(int write)
{
	CHECK(pthread_mutex_lock(&m));
	CHECK(write ? pthread_rwlock_wrlock(&r) : pthread_rwlock_rdlock(&r));
	CHECK(pthread_rwlock_unlock(&r));
	CHECK(pthread_mutex_unlock(&m));
}

int
main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";

	sample_pid();
	CHECK(pthread_rwlock_init(&r, NULL));
	CHECK(pthread_mutex_init(&m, NULL));
	sample_lock(&r, "R");
	sample_lock(&m, "M");
	if (strcmp(mode, "readread") == 0) {
		r_then_m(0);
		m_then_r(0);
	} else if (strcmp(mode, "readwrite") == 0) {
		r_then_m(0);
		m_then_r(1);
	} else if (strcmp(mode, "writeread") == 0) {
		r_then_m(1);
		m_then_r(0);
	} else {
		fprintf(stderr, "usage: order_rwlock "
		    "readread|readwrite|writeread\n");
		return 2;
	}
	printf("done %s\n", mode);
	return 0;
}
