/*
 * single_thread: a program with one thread, to show that the shim adds
 * none of its own (its helper starts with the program's second thread).
 *
 *	single_thread sleep MS	says ready, then sleeps MS milliseconds in
 *				one nanosleep and prints "slept N ms rc R
 *				errno E": a dump read from outside must not
 *				cut it short (EINTR)
 *	single_thread hold	takes a mutex, says ready and parks on
 *				GW_HOLD_FD (a dump signal's dump shows the
 *				mutex held and the main thread)
 *	single_thread thread	says ready, parks on GW_HOLD_FD; then starts
 *				a thread that parks for good, and says
 *				ready again (the helper is there now)
 *	single_thread kinds	with one thread, where the shim takes a free
 *				mutex with lock rather than trylock: N
 *				locks of a plain mutex, an error-checking
 *				one relocked (EDEADLK at once), a recursive
 *				one taken twice, a trylock of a held one
 *				(EBUSY); prints "ok NAME" or "FAIL NAME",
 *				and the words of plain mutexes held and
 *				free
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sample.h"

static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;

static void *
parked(void *arg)
{
	for (;;)
		pause();
	return NULL;
}

#define KINDS_N	1000

static int
check(const char *name, int got, int want)
{
	printf("%s %s\n", got == want ? "ok" : "FAIL", name);
	return got == want ? 0 : 1;
}

/* A mutex's words, for the test to compare with a bare run's. */
static void
words(const char *name, const pthread_mutex_t *x)
{
	printf("words %s: lock %d, owner %s, users %u, kind %#x\n", name,
	    x->__data.__lock, x->__data.__owner == 0 ? "none" :
	    x->__data.__owner == gettid() ? "self" : "other",
	    x->__data.__nusers, x->__data.__kind);
}

static int
kinds(void)
{
	pthread_mutexattr_t a;
	pthread_mutex_t ec, rec, normal;
	int i, bad = 0;

	for (i = 0; i < KINDS_N; i++) {
		bad |= pthread_mutex_lock(&m) != 0;
		bad |= pthread_mutex_unlock(&m) != 0;
	}
	sample_lock(&m, "m");
	bad |= check("plain", bad, 0);
	pthread_mutexattr_init(&a);
	pthread_mutexattr_settype(&a, PTHREAD_MUTEX_ERRORCHECK);
	pthread_mutex_init(&ec, &a);
	bad |= check("errorcheck-lock", pthread_mutex_lock(&ec), 0);
	bad |= check("errorcheck-relock", pthread_mutex_lock(&ec), EDEADLK);
	bad |= check("errorcheck-unlock", pthread_mutex_unlock(&ec), 0);
	pthread_mutexattr_settype(&a, PTHREAD_MUTEX_RECURSIVE);
	pthread_mutex_init(&rec, &a);
	bad |= check("recursive-1", pthread_mutex_lock(&rec), 0);
	bad |= check("recursive-2", pthread_mutex_lock(&rec), 0);
	bad |= check("recursive-unlock-2", pthread_mutex_unlock(&rec), 0);
	bad |= check("recursive-unlock-1", pthread_mutex_unlock(&rec), 0);
	bad |= check("recursive-unlock-0", pthread_mutex_unlock(&rec), EPERM);
	bad |= check("held-lock", pthread_mutex_lock(&m), 0);
	words("m held", &m);
	bad |= check("held-trylock", pthread_mutex_trylock(&m), EBUSY);
	bad |= check("held-unlock", pthread_mutex_unlock(&m), 0);
	words("m free", &m);
	pthread_mutexattr_settype(&a, PTHREAD_MUTEX_NORMAL);
	pthread_mutex_init(&normal, &a);
	bad |= check("normal-lock", pthread_mutex_lock(&normal), 0);
	words("normal held", &normal);
	bad |= check("normal-unlock", pthread_mutex_unlock(&normal), 0);
	words("normal free", &normal);
	return bad;
}

static long
ms_since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (t1.tv_sec - t0->tv_sec) * 1000 +
	    (t1.tv_nsec - t0->tv_nsec) / 1000000;
}

int
main(int argc, char **argv)
{
	struct timespec t0, req;
	pthread_t th;
	long ms;
	int rc, err;

	if (argc == 3 && strcmp(argv[1], "sleep") == 0) {
		ms = atol(argv[2]);
		req.tv_sec = ms / 1000;
		req.tv_nsec = (ms % 1000) * 1000000;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		sample_ready();
		rc = nanosleep(&req, NULL);
		err = rc == -1 ? errno : 0;
		printf("slept %ld ms rc %d errno %d\n", ms_since(&t0), rc, err);
		return 0;
	}
	if (argc == 2 && strcmp(argv[1], "hold") == 0) {
		pthread_mutex_lock(&m);
		sample_lock(&m, "m");
		sample_ready();
		sample_hold();
		pthread_mutex_unlock(&m);
		return 0;
	}
	if (argc == 2 && strcmp(argv[1], "thread") == 0) {
		sample_ready();
		sample_hold();
		if (pthread_create(&th, NULL, parked, NULL) != 0)
			return 1;
		sample_ready();
		parked(NULL);
	}
	if (argc == 2 && strcmp(argv[1], "kinds") == 0)
		return kinds();
	fprintf(stderr, "usage: single_thread sleep MS | hold | thread | "
	    "kinds\n");
	return 2;
}
