/*
 * stack_locks: an ABBA between two mutexes that are local variables of
 * main, `a` and `b`, handed to two threads by pointer.  Reports must
 * call them by those names, not by letters.
 *
 *	order	first "first" takes a then b and ends, then "second" takes
 *		b then a: an order inversion, never a deadlock.  The
 *		acquisition that closes the cycle is b -> a, so b comes
 *		first in the report.  Prints "done".
 *	abba	both threads hold their first lock before either asks for
 *		its second: a real deadlock.
 *	heap	as order, with the two mutexes malloc'd: no variable holds
 *		them, they get letters.
 *	struct	as order, between s.m of a local struct and locks[1] of a
 *		local array.
 *	twins	as order, between two locals both called m, one in each of
 *		two threads running twin(): "twin-1" takes its m then the
 *		other's, later "twin-2" does the same.
 *
 * On stderr: "gw-sample: lock NAME 0xADDR" for each, NAME being the
 * variable's name as a report should give it.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sample.h"

static pid_t	main_tid;

/*
 * Wait, at most 10 s, until main sleeps in its join: the frame that holds
 * a and b is then quiet, so the test does not depend on where main is
 * when the report asks for its stack (the shim also copes with a main
 * that is still starting the second thread, by asking again).
 */
static void
main_asleep(void)
{
	struct timespec tick = { 0, 1000000 };
	int i;

	for (i = 0; i < 10000 && !sample_asleep(main_tid); i++)
		nanosleep(&tick, NULL);
}

struct job {
	const char		*name;
	pthread_mutex_t		*first, *second;
	pthread_barrier_t	*both_hold;	/* NULL: take both in a row */
};

static void *
worker(void *arg)
{
	struct job *j = arg;

	sample_thread("%s", j->name);
	pthread_mutex_lock(j->first);
	if (j->both_hold != NULL)
		sample_ready_at(j->both_hold);
	main_asleep();
	pthread_mutex_lock(j->second);		/* abba: never returns */
	pthread_mutex_unlock(j->second);
	pthread_mutex_unlock(j->first);
	return NULL;
}

static void
start(pthread_t *t, struct job *j)
{
	if (pthread_create(t, NULL, worker, j) != 0) {
		fprintf(stderr, "stack_locks: pthread_create failed\n");
		exit(2);
	}
}

/* The twins' m, and the steps they take in turn. */
static pthread_mutex_t	*twin_m[2];
static pthread_barrier_t twin_step;

static void *
twin(void *arg)
{
	pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
	int i = *(int *)arg, turn;

	sample_thread("twin-%d", i + 1);
	sample_lock(&m, "m%d", i + 1);
	twin_m[i] = &m;
	pthread_barrier_wait(&twin_step);	/* both m are known */
	for (turn = 0; turn < 2; turn++) {
		if (turn == i) {
			pthread_mutex_lock(&m);
			pthread_mutex_lock(twin_m[1 - i]);
			pthread_mutex_unlock(twin_m[1 - i]);
			pthread_mutex_unlock(&m);
		}
		pthread_barrier_wait(&twin_step);
	}
	return NULL;
}

static void
twins(void)
{
	static int ids[2] = { 0, 1 };
	pthread_t t[2];
	int i;

	pthread_barrier_init(&twin_step, NULL, 2);
	for (i = 0; i < 2; i++)
		if (pthread_create(&t[i], NULL, twin, &ids[i]) != 0) {
			fprintf(stderr, "stack_locks: pthread_create failed\n");
			exit(2);
		}
	for (i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
}

/* x then y by "first", y then x by "second"; together when bar. */
static void
inversion(pthread_mutex_t *x, pthread_mutex_t *y, pthread_barrier_t *bar)
{
	struct job j1 = { "first", x, y, bar }, j2 = { "second", y, x, bar };
	pthread_t t1, t2;

	start(&t1, &j1);
	if (bar == NULL)
		pthread_join(t1, NULL);
	start(&t2, &j2);
	if (bar != NULL)
		pthread_join(t1, NULL);
	pthread_join(t2, NULL);
}

int
main(int argc, char **argv)
{
	pthread_mutex_t a = PTHREAD_MUTEX_INITIALIZER;
	pthread_mutex_t b = PTHREAD_MUTEX_INITIALIZER;
	pthread_mutex_t locks[2] = { PTHREAD_MUTEX_INITIALIZER,
	    PTHREAD_MUTEX_INITIALIZER };
	struct {
		int		 n;
		pthread_mutex_t	 m;
	} s = { 0, PTHREAD_MUTEX_INITIALIZER };
	pthread_mutex_t *h;
	pthread_barrier_t bar;
	const char *mode = argc > 1 ? argv[1] : "order";

	sample_pid();
	main_tid = gettid();
	if (strcmp(mode, "struct") == 0) {
		sample_lock(&s.m, "s.m");
		sample_lock(&locks[1], "locks[1]");
		inversion(&s.m, &locks[1], NULL);
	} else if (strcmp(mode, "twins") == 0) {
		twins();
	} else if (strcmp(mode, "heap") == 0) {
		if ((h = calloc(2, sizeof *h)) == NULL)
			return 2;
		pthread_mutex_init(&h[0], NULL);
		pthread_mutex_init(&h[1], NULL);
		sample_lock(&h[0], "h0");
		sample_lock(&h[1], "h1");
		inversion(&h[0], &h[1], NULL);
	} else {
		sample_lock(&a, "a");
		sample_lock(&b, "b");
		if (strcmp(mode, "abba") == 0) {
			pthread_barrier_init(&bar, NULL, 2);
			inversion(&a, &b, &bar);
			printf("stack_locks: no deadlock?\n");
			return 1;
		}
		inversion(&a, &b, NULL);
	}
	printf("done\n");
	return 0;
}
