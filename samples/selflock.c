/*
 * selflock: one thread locks a default (non-recursive) mutex twice.
 * The second lock waits for the thread itself: a deadlock of one.
 *
 * On stderr it names its thread and lock ("gw-sample: ...").
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static pthread_mutex_t	m = PTHREAD_MUTEX_INITIALIZER;

static void
ready(void)
{
	const char *s = getenv("GW_READY_FD");

	if (s != NULL && write(atoi(s), "ready\n", 6) != 6)
		perror("ready");
}

static void *
relocker(void *arg)
{
	pthread_setname_np(pthread_self(), "relocker");
	fprintf(stderr, "gw-sample: thread relocker %d\n", gettid());
	pthread_mutex_lock(&m);
	ready();
	pthread_mutex_lock(&m);			/* never returns */
	pthread_mutex_unlock(&m);
	pthread_mutex_unlock(&m);
	return NULL;
}

int
main(void)
{
	pthread_t t;

	fprintf(stderr, "gw-sample: pid %d\n", getpid());
	fprintf(stderr, "gw-sample: lock m %p\n", (void *)&m);
	if (pthread_create(&t, NULL, relocker, NULL) != 0) {
		fprintf(stderr, "selflock: pthread_create failed\n");
		return 1;
	}
	pthread_join(t, NULL);
	printf("selflock: no deadlock?\n");
	return 1;
}
