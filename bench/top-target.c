/*
 * top-target: a process for bench/top-bench with many threads, most of
 * them parked on a condition variable, a few contending for one mutex
 * at a steady pace (lock, a little work, unlock, sleep), so that its
 * own CPU use is small and steady and what publishing adds shows.
 *
 *	top-target [THREADS [CONTENDING]]	(default 1000 and 16)
 *
 * Prints "pid N" and then "ready" on standard output once every thread
 * runs, and stays until killed.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#define STACK_SIZE	(64 * 1024)
#define WORK_SPINS	2000	/* inside the lock */
#define PAUSE_NS	5000000	/* between two acquisitions */

static pthread_mutex_t gate = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t never = PTHREAD_COND_INITIALIZER;
static pthread_mutex_t hot = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t count_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t counted = PTHREAD_COND_INITIALIZER;
static int started;
static volatile unsigned long sink;

static void
arrive(const char *fmt, long i)
{
	char name[16];

	snprintf(name, sizeof name, fmt, i);
	pthread_setname_np(pthread_self(), name);
	pthread_mutex_lock(&count_lock);
	started++;
	pthread_cond_signal(&counted);
	pthread_mutex_unlock(&count_lock);
}

static void *
parked(void *arg)
{
	arrive("parked-%ld", (long)arg);
	pthread_mutex_lock(&gate);
	for (;;)
		pthread_cond_wait(&never, &gate);
	return NULL;
}

static void *
contend(void *arg)
{
	struct timespec pause = { 0, PAUSE_NS };
	int i;

	arrive("contend-%ld", (long)arg);
	for (;;) {
		pthread_mutex_lock(&hot);
		for (i = 0; i < WORK_SPINS; i++)
			sink += (unsigned long)i;
		pthread_mutex_unlock(&hot);
		nanosleep(&pause, NULL);
	}
	return NULL;
}

int
main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 1000;
	long hot_n = argc > 2 ? atol(argv[2]) : 16, i;
	pthread_attr_t attr;
	pthread_t th;

	if (n < 1 || hot_n < 0 || hot_n > n) {
		fprintf(stderr, "usage: top-target [THREADS [CONTENDING]]\n");
		return 2;
	}
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, STACK_SIZE);
	for (i = 0; i < n; i++)
		if (pthread_create(&th, &attr, i < hot_n ? contend : parked,
		    (void *)i) != 0) {
			perror("pthread_create");
			return 1;
		}
	pthread_mutex_lock(&count_lock);
	while (started < n)
		pthread_cond_wait(&counted, &count_lock);
	pthread_mutex_unlock(&count_lock);
	printf("pid %d\nready\n", (int)getpid());
	fflush(stdout);
	for (;;)
		pause();
}
