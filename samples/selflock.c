/*
 * selflock: one thread locks a default (non-recursive) mutex twice.
 * The second lock waits for the thread itself: a deadlock of one.
 *
 * On stderr it names its thread and lock ("gw-sample: ...").
 */
#include <pthread.h>
#include <stdio.h>

#include "sample.h"

static pthread_mutex_t	m = PTHREAD_MUTEX_INITIALIZER;

static void *
relocker(void *arg)
{
	sample_thread("relocker");
	pthread_mutex_lock(&m);
	sample_ready();
	pthread_mutex_lock(&m);			/* never returns */
	pthread_mutex_unlock(&m);
	pthread_mutex_unlock(&m);
	return NULL;
}

int
main(void)
{
	pthread_t t;

	sample_pid();
	sample_lock(&m, "m");
	if (pthread_create(&t, NULL, relocker, NULL) != 0) {
		fprintf(stderr, "selflock: pthread_create failed\n");
		return 1;
	}
	pthread_join(t, NULL);
	printf("selflock: no deadlock?\n");
	return 1;
}
