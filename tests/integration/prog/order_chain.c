/*
 * order_chain: thirty mutexes l0..l29.  One thread takes l(i) then
 * l(i+1) for i = 0..28, one pair at a time, then l29 then l0: a cycle
 * through all thirty locks that no single acquisition shows.  The
 * validator must report it once, with all thirty locks.
 *
 * Prints "done" and exits 0.  On stderr: "gw-sample: lock lN 0xADDR".
 * All locks are initialised at one site (one class).  With "heap" the
 * locks are malloc'd, so no symbol names them: the report labels them.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sample.h"

#define NLOCKS	30

static pthread_mutex_t	static_locks[NLOCKS];
static pthread_mutex_t	*locks = static_locks;

#define CHECK(call) do {						\
	if ((call) != 0) {						\
		fprintf(stderr, "order_chain: %s failed\n", #call);	\
		exit(2);						\
	}								\
} while (0)

static void
pair(int first, int second)
{
	CHECK(pthread_mutex_lock(&locks[first]));
	CHECK(pthread_mutex_lock(&locks[second]));
	CHECK(pthread_mutex_unlock(&locks[second]));
	CHECK(pthread_mutex_unlock(&locks[first]));
}

int
main(int argc, char **argv)
{
	int i;

	sample_pid();
	if (argc > 1 && strcmp(argv[1], "heap") == 0 &&
	    (locks = calloc(NLOCKS, sizeof *locks)) == NULL)
		exit(2);
	for (i = 0; i < NLOCKS; i++) {
		CHECK(pthread_mutex_init(&locks[i], NULL));
		sample_lock(&locks[i], "l%d", i);
	}
	for (i = 0; i + 1 < NLOCKS; i++)
		pair(i, i + 1);
	pair(NLOCKS - 1, 0);
	printf("done\n");
	return 0;
}
