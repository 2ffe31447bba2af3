/*
 * join_cycle: joiner-a joins joiner-b while joiner-b joins joiner-a, so
 * each waits for the other to finish.  Each learns the other's pthread_t
 * from a global that main fills in before a barrier lets them read it.
 *
 * A C library may refuse the second join with EDEADLK instead of
 * blocking (glibc 2.36 blocks).  The sample then says so and
 * exits 2, so a test can tell that from a report.
 *
 * On stderr it names its threads ("gw-sample: ...").
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sample.h"

static pthread_t	 thread_a, thread_b;
static pthread_barrier_t known;

static void
join_failed(const char *name, int error)
{
	fprintf(stderr, "join_cycle: %s: pthread_join: %s\n", name,
	    strerror(error));
	exit(2);
}

static void *
joiner_a(void *arg)
{
	int error;

	sample_thread("joiner-a");
	sample_ready_at(&known);
	if ((error = pthread_join(thread_b, NULL)) != 0)
		join_failed("joiner-a", error);
	return NULL;
}

static void *
joiner_b(void *arg)
{
	int error;

	sample_thread("joiner-b");
	sample_ready_at(&known);
	if ((error = pthread_join(thread_a, NULL)) != 0)
		join_failed("joiner-b", error);
	return NULL;
}

int
main(void)
{
	sample_pid();
	pthread_barrier_init(&known, NULL, 3);
	if (pthread_create(&thread_a, NULL, joiner_a, NULL) != 0 ||
	    pthread_create(&thread_b, NULL, joiner_b, NULL) != 0) {
		fprintf(stderr, "join_cycle: pthread_create failed\n");
		return 1;
	}
	/* thread_a and thread_b are set: let the joiners read them. */
	sample_ready_at(&known);
	for (;;)
		pause();
}
