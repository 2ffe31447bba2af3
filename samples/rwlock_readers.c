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
#include <stdlib.h>
#include <unistd.h>

#define NREADERS	2

static pthread_rwlock_t	rw = PTHREAD_RWLOCK_INITIALIZER;
static pthread_mutex_t	m = PTHREAD_MUTEX_INITIALIZER;
static pthread_barrier_t all_hold;

static void
ready(void)
{
	const char *s = getenv("GW_READY_FD");

	if (s != NULL && write(atoi(s), "ready\n", 6) != 6)
		perror("ready");
}

static void *
reader(void *arg)
{
	char name[16];

	snprintf(name, sizeof(name), "reader-%d", (int)(long)arg);
	pthread_setname_np(pthread_self(), name);
	fprintf(stderr, "gw-sample: thread %s %d\n", name, gettid());

	pthread_rwlock_rdlock(&rw);
	if (pthread_barrier_wait(&all_hold) == PTHREAD_BARRIER_SERIAL_THREAD)
		ready();
	pthread_mutex_lock(&m);			/* never returns */
	pthread_mutex_unlock(&m);
	pthread_rwlock_unlock(&rw);
	return NULL;
}

static void *
writer(void *arg)
{
	pthread_setname_np(pthread_self(), "writer");
	fprintf(stderr, "gw-sample: thread writer %d\n", gettid());

	pthread_mutex_lock(&m);
	if (pthread_barrier_wait(&all_hold) == PTHREAD_BARRIER_SERIAL_THREAD)
		ready();
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

	fprintf(stderr, "gw-sample: pid %d\n", getpid());
	fprintf(stderr, "gw-sample: lock rw %p\n", (void *)&rw);
	fprintf(stderr, "gw-sample: lock m %p\n", (void *)&m);
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
