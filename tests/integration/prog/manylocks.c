/*
 * manylocks: one thread, "hoarder", holds 1500 mutexes at once.  It
 * locks them all, writes "ready\n" to GW_READY_FD (if set), waits for
 * EOF on GW_HOLD_FD (if set) so a test can dump it, then unlocks them
 * all.  Exits 0.  On stderr it names the hoarder and the first and last
 * mutex ("gw-sample: ...").
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define NLOCKS	1500

static pthread_mutex_t	locks[NLOCKS];

static void *
hoarder(void *arg)
{
	const char *s;
	char buf[64];
	ssize_t n;
	int i, error = 0;

	pthread_setname_np(pthread_self(), "hoarder");
	fprintf(stderr, "gw-sample: thread hoarder %d\n", gettid());
	for (i = 0; i < NLOCKS; i++)
		error |= pthread_mutex_lock(&locks[i]);
	if ((s = getenv("GW_READY_FD")) != NULL &&
	    write(atoi(s), "ready\n", 6) != 6)
		perror("ready");
	if ((s = getenv("GW_HOLD_FD")) != NULL)
		while ((n = read(atoi(s), buf, sizeof(buf))) != 0)
			if (n == -1 && errno != EINTR)
				break;
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

	fprintf(stderr, "gw-sample: pid %d\n", getpid());
	fprintf(stderr, "gw-sample: lock first %p\n", (void *)&locks[0]);
	fprintf(stderr, "gw-sample: lock last %p\n",
	    (void *)&locks[NLOCKS - 1]);
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
