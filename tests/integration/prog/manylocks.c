/*
 * manylocks: one thread, "hoarder", holds 1500 mutexes at once.  It
 * locks them all, writes "ready\n" to GW_READY_FD (if set), waits for
 * EOF on GW_HOLD_FD (if set) so a test can dump it, then unlocks them
 * all.  Exits 0.  On stderr it names the hoarder and the first and last
 * mutex ("gw-sample: ...").
 */
#include <pthread.h>
#include <stdio.h>

#include "sample.h"

#define NLOCKS	1500

static pthread_mutex_t	locks[NLOCKS];

static void *
hoarder(void *arg)
{
	int i, error = 0;

	sample_thread("hoarder");
	for (i = 0; i < NLOCKS; i++)
		error |= pthread_mutex_lock(&locks[i]);
	sample_ready();
	sample_hold();
	for (i = NLOCKS - 1; i >= 0; i--)
		error |= pthread_mutex_unlock(&locks[i]);
	return (void *)(long)error;
}

int
main(void)
{
	pthread_t t;
	void *rv;
	int i;

	sample_pid();
	sample_lock(&locks[0], "first");
	sample_lock(&locks[NLOCKS - 1], "last");
	for (i = 0; i < NLOCKS; i++)
		pthread_mutex_init(&locks[i], NULL);
	if (pthread_create(&t, NULL, hoarder, NULL) != 0) {
		fprintf(stderr, "manylocks: pthread_create failed\n");
		return 1;
	}
	pthread_join(t, &rv);
	if (rv != NULL) {
		fprintf(stderr, "manylocks: a lock call failed\n");
		return 1;
	}
	printf("manylocks: held %d\n", NLOCKS);
	return 0;
}
