/*
 * core_abba: a deadlocked program to take a core of (tests/integration/
 * test_core.py).  worker-a holds A and waits for B, worker-b holds B and
 * waits for A.  Once both are asleep in futex(2) it names its threads
 * and locks on stderr (sample.h) and writes to GW_READY_FD:
 *
 *	marker 0xADDR	a read-only string (.rodata, which gcore leaves
 *			out of the core: read back from the executable)
 *	counter 0xADDR N	a global written at run time (in the core)
 *	ready
 *
 * Then the main thread waits in pthread_join for ever.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "sample.h"

#define READY_TIMEOUT	20	/* seconds for both workers to fall asleep */

const char		core_marker[] = "gilwatch core marker 7f3a";
volatile uint64_t	core_counter;

static pthread_mutex_t	lock_a = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t	lock_b = PTHREAD_MUTEX_INITIALIZER;
static pthread_barrier_t both_hold;
static pid_t		tids[2];

static void
take_second(pthread_mutex_t *first, pthread_mutex_t *second)
{
	pthread_mutex_lock(first);
	pthread_barrier_wait(&both_hold);
	pthread_mutex_lock(second);		/* never returns */
	pthread_mutex_unlock(second);
	pthread_mutex_unlock(first);
}

static void *
worker_a(void *arg)
{
	sample_thread("worker-a");
	tids[0] = gettid();
	take_second(&lock_a, &lock_b);
	return NULL;
}

static void *
worker_b(void *arg)
{
	sample_thread("worker-b");
	tids[1] = gettid();
	take_second(&lock_b, &lock_a);
	return NULL;
}

/* Say ready once both workers sleep in their second lock. */
static void
ready_when_asleep(void)
{
	const char *s = getenv("GW_READY_FD");
	time_t end = time(NULL) + READY_TIMEOUT;
	char line[128];
	int n;

	while (!sample_asleep(tids[0]) || !sample_asleep(tids[1])) {
		if (time(NULL) > end) {
			fprintf(stderr, "core_abba: workers not asleep\n");
			exit(1);
		}
		sched_yield();
	}
	if (s == NULL)
		return;
	n = snprintf(line, sizeof(line), "marker %p\ncounter %p %llu\n"
	    "ready\n", (const void *)core_marker, (void *)&core_counter,
	    (unsigned long long)core_counter);
	if (write(atoi(s), line, (size_t)n) != n)
		perror("ready");
}

int
main(void)
{
	pthread_t a, b;

	sample_pid();
	sample_lock(&lock_a, "A");
	sample_lock(&lock_b, "B");
	/* Known only at run time, so only the core's memory can hold it. */
	core_counter = 0x5eed0000ULL + (uint64_t)getpid();
	pthread_barrier_init(&both_hold, NULL, 3);
	if (pthread_create(&a, NULL, worker_a, NULL) != 0 ||
	    pthread_create(&b, NULL, worker_b, NULL) != 0) {
		fprintf(stderr, "core_abba: pthread_create failed\n");
		return 1;
	}
	pthread_barrier_wait(&both_hold);
	ready_when_asleep();
	pthread_join(a, NULL);
	pthread_join(b, NULL);
	printf("core_abba: no deadlock?\n");
	return 1;
}
