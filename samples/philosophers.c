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
#include <stdlib.h>
#include <unistd.h>

#define NPHIL	5

static pthread_mutex_t	forks[NPHIL];
static pthread_barrier_t all_hold;

static void
ready(void)
{
	const char *s = getenv("GW_READY_FD");

	if (s != NULL && write(atoi(s), "ready\n", 6) != 6)
		perror("ready");
}

static void *
philosopher(void *arg)
{
	int i = (int)(long)arg;
	pthread_mutex_t *left = &forks[i], *right = &forks[(i + 1) % NPHIL];
	char name[16];

	snprintf(name, sizeof(name), "phil-%d", i);
	pthread_setname_np(pthread_self(), name);
	fprintf(stderr, "gw-sample: thread %s %d\n", name, gettid());

	pthread_mutex_lock(left);
	if (pthread_barrier_wait(&all_hold) == PTHREAD_BARRIER_SERIAL_THREAD)
		ready();
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

	fprintf(stderr, "gw-sample: pid %d\n", getpid());
	for (i = 0; i < NPHIL; i++) {
		pthread_mutex_init(&forks[i], NULL);
		fprintf(stderr, "gw-sample: lock fork-%d %p\n", i,
		    (void *)&forks[i]);
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
