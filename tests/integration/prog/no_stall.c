/*
 * no_stall MODE: programs that look stalled for a while (main joins a
 * thread that waits) but are not, each for one reason the stall rule
 * (src/shim/stall.h) must respect.  Each ends by itself with status 0
 * after about 3 s, more than `gilwatch run --stall=1` needs to report.
 *
 *	timed	the waiter waits with a timeout (of 3 s)
 *	busy	a third thread computes, then signals the waiter
 *	hidden	the same, but the computing thread calls nothing gilwatch
 *		sees until it signals: gilwatch never heard of it
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "sample.h"

#define RUN_NS	3000000000ll

static pthread_mutex_t	m = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t	c = PTHREAD_COND_INITIALIZER;
static int		done;

static long long
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ll + ts.tv_nsec;
}

/* Waits, with RUN_NS from now as its timeout: longer than --stall=1. */
static void *
timed_waiter(void *arg)
{
	struct timespec end;

	sample_thread("waiter");
	clock_gettime(CLOCK_REALTIME, &end);
	end.tv_sec += RUN_NS / 1000000000ll;
	pthread_mutex_lock(&m);
	while (pthread_cond_timedwait(&c, &m, &end) != ETIMEDOUT)
		;
	pthread_mutex_unlock(&m);
	return NULL;
}

/* Waits with no timeout until done. */
static void *
waiter(void *arg)
{
	sample_thread("waiter");
	pthread_mutex_lock(&m);
	while (!done)
		pthread_cond_wait(&c, &m);
	pthread_mutex_unlock(&m);
	return NULL;
}

/* Computes for RUN_NS, then sets done.  seen: let gilwatch see it. */
static void *
worker(void *seen)
{
	volatile unsigned long spins = 0;
	long long end = now() + RUN_NS;

	if (seen != NULL) {
		pthread_mutex_lock(&m);
		pthread_mutex_unlock(&m);
	}
	while (now() < end)
		spins++;
	pthread_mutex_lock(&m);
	done = 1;
	pthread_cond_broadcast(&c);
	pthread_mutex_unlock(&m);
	return NULL;
}

int
main(int argc, char **argv)
{
	pthread_t w, b;
	const char *mode = argc > 1 ? argv[1] : "";
	int timed = strcmp(mode, "timed") == 0;

	if (!timed && strcmp(mode, "busy") != 0 &&
	    strcmp(mode, "hidden") != 0) {
		fprintf(stderr, "usage: no_stall timed|busy|hidden\n");
		return 2;
	}
	sample_pid();
	if (pthread_create(&w, NULL, timed ? timed_waiter : waiter,
	    NULL) != 0 || (!timed && pthread_create(&b, NULL, worker,
	    strcmp(mode, "busy") == 0 ? (void *)&b : NULL) != 0)) {
		fprintf(stderr, "no_stall: pthread_create failed\n");
		return 1;
	}
	pthread_join(w, NULL);
	if (!timed)
		pthread_join(b, NULL);
	return 0;
}
