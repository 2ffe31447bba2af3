/*
 * abba: the classic lock-order inversion.  worker-a takes A then B,
 * worker-b takes B then A.  A barrier makes sure each worker holds its
 * first lock before either asks for its second, so the two always
 * deadlock: a waits for B (held by b), b waits for A (held by a).
 *
 * On stderr it names its threads and locks ("gw-sample: ...") so tests
 * can check a report exactly.
 */
#include <pthread.h>
#include <stdio.h>

#include "sample.h"

static pthread_mutex_t	lock_a = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t	lock_b = PTHREAD_MUTEX_INITIALIZER;
static pthread_barrier_t both_hold;

static void *
worker_a(void *arg)
{
	sample_thread("worker-a");
	pthread_mutex_lock(&lock_a);
	sample_ready_at(&both_hold);
	pthread_mutex_lock(&lock_b);		/* never returns */
	pthread_mutex_unlock(&lock_b);
	pthread_mutex_unlock(&lock_a);
	return NULL;
}

static void *
worker_b(void *arg)
{
	sample_thread("worker-b");
	pthread_mutex_lock(&lock_b);
	sample_ready_at(&both_hold);
	pthread_mutex_lock(&lock_a);		/* never returns */
	pthread_mutex_unlock(&lock_a);
	pthread_mutex_unlock(&lock_b);
	return NULL;
}

int
main(void)
{
	pthread_t a, b;

	sample_pid();
	sample_lock(&lock_a, "A");
	sample_lock(&lock_b, "B");
	pthread_barrier_init(&both_hold, NULL, 2);
	if (pthread_create(&a, NULL, worker_a, NULL) != 0 ||
	    pthread_create(&b, NULL, worker_b, NULL) != 0) {
		fprintf(stderr, "abba: pthread_create failed\n");
		return 1;
	}
	pthread_join(a, NULL);
	pthread_join(b, NULL);
	printf("abba: no deadlock?\n");
	return 1;
}
