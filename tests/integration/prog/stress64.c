/*
 * stress64: 64 threads each lock and unlock one shared mutex 100000
 * times, adding one to a counter under it.  The count must come out
 * exactly 6400000: gilwatch must not lose mutual exclusion under load.
 */
#include <pthread.h>
#include <stdio.h>

#define NTHREADS	64
#define NLOOPS		100000

static pthread_mutex_t	m = PTHREAD_MUTEX_INITIALIZER;
static pthread_barrier_t start;
static long		counter;

static void *
hammer(void *arg)
{
	int i;

	pthread_barrier_wait(&start);
	for (i = 0; i < NLOOPS; i++) {
		pthread_mutex_lock(&m);
		counter++;
		pthread_mutex_unlock(&m);
	}
	return NULL;
}

int
main(void)
{
	pthread_t t[NTHREADS];
	int i;

	pthread_barrier_init(&start, NULL, NTHREADS);
	for (i = 0; i < NTHREADS; i++)
		if (pthread_create(&t[i], NULL, hammer, NULL) != 0) {
			fprintf(stderr, "stress64: pthread_create failed\n");
			return 1;
		}
	for (i = 0; i < NTHREADS; i++)
		pthread_join(t[i], NULL);
	printf("stress64: count %ld, want %ld\n", counter,
	    (long)NTHREADS * NLOOPS);
	return counter != (long)NTHREADS * NLOOPS;
}
