/*
 * rt_mutex: a real-time thread waits for a mutex a normal thread holds,
 * a priority inversion.  "holder" (SCHED_OTHER) takes mutex gate and
 * keeps it 20 ms (the sleep is the workload: a critical section);
 * "rt-waiter" makes itself SCHED_FIFO, priority 5, and, let go by a
 * barrier once gate is held, blocks on it.  Says "gw-sample: fifo ok",
 * or "gw-sample: fifo refused ERRNO" (then it waits as a normal thread).
 * The holder stays until the waiter has had the lock (a second
 * barrier): gilwatch asks a holder's scheduling when the wait ends, and
 * cannot once it has ended.  With "holder-fifo" the holder is
 * SCHED_FIFO too (priority 4): no inversion then.
 */
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <time.h>

#include "sample.h"

static pthread_mutex_t gate = PTHREAD_MUTEX_INITIALIZER;
static pthread_barrier_t held, done;
static int holder_fifo;

/* SCHED_FIFO at prio for the calling thread, said on stderr. */
static void
fifo(int prio)
{
	struct sched_param sp = { .sched_priority = prio };
	int rc;

	if ((rc = pthread_setschedparam(pthread_self(), SCHED_FIFO, &sp)) == 0)
		fprintf(stderr, "gw-sample: fifo ok\n");
	else
		fprintf(stderr, "gw-sample: fifo refused %d\n", rc);
}

static void *
holder(void *arg)
{
	struct timespec ts = { 0, 20 * 1000 * 1000 };

	sample_thread("holder");
	if (holder_fifo)
		fifo(4);
	pthread_mutex_lock(&gate);
	pthread_barrier_wait(&held);
	nanosleep(&ts, NULL);
	pthread_mutex_unlock(&gate);
	pthread_barrier_wait(&done);
	return NULL;
}

static void *
rt_waiter(void *arg)
{
	sample_thread("rt-waiter");
	fifo(5);
	pthread_barrier_wait(&held);
	pthread_mutex_lock(&gate);
	pthread_mutex_unlock(&gate);
	pthread_barrier_wait(&done);
	return NULL;
}

int
main(int argc, char **argv)
{
	pthread_t a, b;

	holder_fifo = argc > 1 && strcmp(argv[1], "holder-fifo") == 0;
	sample_pid();
	sample_lock(&gate, "gate");
	pthread_barrier_init(&held, NULL, 2);
	pthread_barrier_init(&done, NULL, 2);
	pthread_create(&a, NULL, rt_waiter, NULL);
	pthread_create(&b, NULL, holder, NULL);
	pthread_join(a, NULL);
	pthread_join(b, NULL);
	return 0;
}
