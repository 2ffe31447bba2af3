/*
 * manythreads: NTHREADS threads (2000 by default, argv[1] to change),
 * each holding a mutex of its own, all parked on one condition variable
 * until GW_HOLD_FD closes.  "ready" goes to GW_READY_FD once every
 * thread holds its mutex and waits.  Each thread names itself "t-N".
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "sample.h"

static pthread_mutex_t gate = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t go = PTHREAD_COND_INITIALIZER;
static pthread_cond_t parked = PTHREAD_COND_INITIALIZER;
static int nparked, released;
static pthread_mutex_t *own;

static void *
worker(void *arg)
{
	long i = (long)arg;
	char name[16];

	snprintf(name, sizeof name, "t-%ld", i);
	pthread_setname_np(pthread_self(), name);
	pthread_mutex_lock(&own[i]);
	pthread_mutex_lock(&gate);
	nparked++;
	pthread_cond_signal(&parked);
	while (!released)
		pthread_cond_wait(&go, &gate);
	pthread_mutex_unlock(&gate);
	pthread_mutex_unlock(&own[i]);
	return NULL;
}

int
main(int argc, char **argv)
{
	long i, n = argc > 1 ? atol(argv[1]) : 2000;
	pthread_attr_t attr;
	pthread_t *th;

	own = calloc((size_t)n, sizeof *own);
	th = calloc((size_t)n, sizeof *th);
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 64 * 1024);
	for (i = 0; i < n; i++) {
		pthread_mutex_init(&own[i], NULL);
		if (pthread_create(&th[i], &attr, worker, (void *)i) != 0) {
			fprintf(stderr, "cannot create thread %ld\n", i);
			return 2;
		}
	}
	pthread_mutex_lock(&gate);
	while (nparked < n)
		pthread_cond_wait(&parked, &gate);
	pthread_mutex_unlock(&gate);
	sample_ready();
	sample_hold();
	pthread_mutex_lock(&gate);
	released = 1;
	pthread_cond_broadcast(&go);
	pthread_mutex_unlock(&gate);
	for (i = 0; i < n; i++)
		pthread_join(th[i], NULL);
	printf("joined %ld\n", n);
	return 0;
}
