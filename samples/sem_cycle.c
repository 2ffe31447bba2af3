/*
 * sem_cycle: two semaphores used as locks (initial value 1).  sem-a
 * waits on S1 then S2, sem-b waits on S2 then S1.  A barrier makes each
 * take its first semaphore before either asks for its second, so both
 * wait forever on the unit the other one took.
 *
 * On stderr it names its threads and semaphores ("gw-sample: ...").
 */
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>

#include "sample.h"

static sem_t		s1, s2;
static pthread_barrier_t both_hold;

static void *
sem_a(void *arg)
{
	sample_thread("sem-a");
	sem_wait(&s1);
	sample_ready_at(&both_hold);
	sem_wait(&s2);				/* never returns */
	sem_post(&s2);
	sem_post(&s1);
	return NULL;
}

static void *
sem_b(void *arg)
{
	sample_thread("sem-b");
	sem_wait(&s2);
	sample_ready_at(&both_hold);
	sem_wait(&s1);				/* never returns */
	sem_post(&s1);
	sem_post(&s2);
	return NULL;
}

int
main(void)
{
	pthread_t a, b;

	sample_pid();
	sample_lock(&s1, "S1");
	sample_lock(&s2, "S2");
	sem_init(&s1, 0, 1);
	sem_init(&s2, 0, 1);
	pthread_barrier_init(&both_hold, NULL, 2);
	if (pthread_create(&a, NULL, sem_a, NULL) != 0 ||
	    pthread_create(&b, NULL, sem_b, NULL) != 0) {
		fprintf(stderr, "sem_cycle: pthread_create failed\n");
		return 1;
	}
	pthread_join(a, NULL);
	pthread_join(b, NULL);
	printf("sem_cycle: no deadlock?\n");
	return 1;
}
