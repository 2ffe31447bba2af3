/*
 * rwlock_readers: readers hold a rwlock for reading and then want a
 * mutex that the writer holds; the writer, holding that mutex, asks for
 * the rwlock for writing.  The writer waits for the readers to leave,
 * the readers wait for the writer's mutex: a deadlock through a shared
 * hold.  A barrier makes all three hold their first lock before anyone
 * asks for a second.
 *
 * On stderr it names its threads and locks ("gw-sample: ...").
 */
#include <pthread.h>
#include <stdio.h>

#include "sample.h"

#define NREADERS	2

static pthread_rwlock_t	rw = PTHREAD_RWLOCK_INITIALIZER;
static pthread_mutex_t	m = PTHREAD_MUTEX_INITIALIZER;
static pthread_barrier_t all_hold;

static void *
reader(void *arg)
{
	sample_thread("reader-%d", (int)(long)arg);
	pthread_rwlock_rdlock(&rw);
	sample_ready_at(&all_hold);
	pthread_mutex_lock(&m);			/* never returns */
	pthread_mutex_unlock(&m);
	pthread_rwlock_unlock(&rw);
	return NULL;
}

static void *
writer(void *arg)
{
	sample_thread("writer");
	pthread_mutex_lock(&m);
	sample_ready_at(&all_hold);
	pthread_rwlock_wrlock(&rw);		/* never returns */
	pthread_rwlock_unlock(&rw);
	pthread_mutex_unlock(&m);
	return NULL;
}

int
main(void)
{
	pthread_t t[NREADERS + 1];
	int i;

	sample_pid();
	sample_lock(&rw, "rw");
	sample_lock(&m, "m");
	pthread_barrier_init(&all_hold, NULL, NREADERS + 1);
	for (i = 0; i < NREADERS; i++)
		if (pthread_create(&t[i], NULL, reader, (void *)(long)i) != 0)
			goto fail;
	if (pthread_create(&t[NREADERS], NULL, writer, NULL) != 0)
		goto fail;
	for (i = 0; i <= NREADERS; i++)
		pthread_join(t[i], NULL);
	printf("rwlock_readers: no deadlock?\n");
	return 1;
fail:
	fprintf(stderr, "rwlock_readers: pthread_create failed\n");
	return 1;
}
