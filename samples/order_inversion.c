/*
 * order_inversion: one thread takes A then B, later B then A.  It never
 * deadlocks (there is only one thread), but two threads running these
 * two paths at once could: gilwatch reports the inversion on the first
 * run, like the kernel's lockdep.
 */
#include <pthread.h>
#include <stdio.h>

#include "sample.h"

static pthread_mutex_t a = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t b = PTHREAD_MUTEX_INITIALIZER;

static void
transfer_ab(void)
{
	pthread_mutex_lock(&a);
	pthread_mutex_lock(&b);
	pthread_mutex_unlock(&b);
	pthread_mutex_unlock(&a);
}

static void
transfer_ba(void)
{
	pthread_mutex_lock(&b);
	pthread_mutex_lock(&a);
	pthread_mutex_unlock(&a);
	pthread_mutex_unlock(&b);
}

int
main(void)
{
	sample_lock(&a, "A");
	sample_lock(&b, "B");
	transfer_ab();
	transfer_ba();
	printf("done\n");
	return 0;
}
