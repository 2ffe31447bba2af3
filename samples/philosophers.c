/*
 * philosophers: five dining philosophers, each taking the fork on the
 * left and then the one on the right.  A barrier makes every philosopher
 * hold a left fork before any reaches for a right one, so all five wait
 * in a cycle: phil-i waits for fork (i+1)%5, held by phil-(i+1)%5.
 *
 * On stderr it names its threads and forks ("gw-sample: ...").
 */
#include <pthread.h>
#include <stdio.h>

#include "sample.h"

#define NPHIL	5

static pthread_mutex_t	forks[NPHIL];
static pthread_barrier_t all_hold;

static void *
philosopher(void *arg)
{
	int i = (int)(long)arg;
	pthread_mutex_t *left = &forks[i], *right = &forks[(i + 1) % NPHIL];

	sample_thread("phil-%d", i);
	pthread_mutex_lock(left);
	sample_ready_at(&all_hold);
	pthread_mutex_lock(right);		/* never returns */
	pthread_mutex_unlock(right);
	pthread_mutex_unlock(left);
	return NULL;
}

int
main(void)
{
	pthread_t t[NPHIL];
	int i;

	sample_pid();
	for (i = 0; i < NPHIL; i++) {
		pthread_mutex_init(&forks[i], NULL);
		sample_lock(&forks[i], "fork-%d", i);
	}
	pthread_barrier_init(&all_hold, NULL, NPHIL);
	for (i = 0; i < NPHIL; i++)
		if (pthread_create(&t[i], NULL, philosopher,
		    (void *)(long)i) != 0) {
			fprintf(stderr, "philosophers: pthread_create failed\n");
			return 1;
		}
	for (i = 0; i < NPHIL; i++)
		pthread_join(t[i], NULL);
	printf("philosophers: no deadlock?\n");
	return 1;
}
