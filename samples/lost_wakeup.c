/*
 * lost_wakeup: a hang with no deadlock in it.  main makes an item and
 * signals a condition variable; consumer waits on it without first
 * looking whether the item is there, after the signal came, so it waits
 * for a signal that was lost; main joins consumer.  Nobody holds a lock anybody waits for: the
 * wait-for graph has no cycle, but no thread can ever go on.
 * `gilwatch run --stall=1` reports it.
 *
 * On stderr it names its threads ("gw-sample: ...").
 */
#include <pthread.h>
#include <stdio.h>

#include "sample.h"

static pthread_mutex_t	 m = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t	 ready = PTHREAD_COND_INITIALIZER;
static int		 have_item;
static pthread_barrier_t signalled;

static void *
consumer(void *arg)
{
	sample_thread("consumer");
	/* Made certain here: main has signalled before this waits. */
	pthread_barrier_wait(&signalled);
	pthread_mutex_lock(&m);
	pthread_cond_wait(&ready, &m);	/* the bug: have_item is not looked at */
	have_item = 0;
	pthread_mutex_unlock(&m);
	return NULL;
}

int
main(void)
{
	pthread_t c;

	sample_pid();
	sample_thread("main");
	sample_lock(&m, "m");
	sample_lock(&ready, "ready");
	pthread_barrier_init(&signalled, NULL, 2);
	if (pthread_create(&c, NULL, consumer, NULL) != 0) {
		fprintf(stderr, "lost_wakeup: pthread_create failed\n");
		return 1;
	}
	pthread_mutex_lock(&m);
	have_item = 1;
	pthread_cond_signal(&ready);
	pthread_mutex_unlock(&m);
	pthread_barrier_wait(&signalled);
	pthread_join(c, NULL);
	return 0;
}
