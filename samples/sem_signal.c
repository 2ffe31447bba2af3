/*
 * sem_signal: a semaphore used as a signal, in a wait-for "cycle" that
 * undoes itself.  main posts S once; "taker" consumes that post (it took
 * S last) and then wants mutex M, which main holds while it waits on S
 * for the next post.  "poster" posts S once both are asleep in the
 * kernel: main wakes, lets M go, and the program prints "done".  Nobody
 * owns S: no deadlock, whoever took it last.
 *
 * On stderr it names its threads and locks ("gw-sample: ...").
 */
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <time.h>

#include "sample.h"

#define ASLEEP_POLLS	10000	/* of 1 ms: then post anyway */

static sem_t		s;
static pthread_mutex_t	m = PTHREAD_MUTEX_INITIALIZER;
static int		consumed[2], m_held[2];
static pid_t		main_tid, taker_tid;

/* Is thread tid asleep in a futex wait (a lock or semaphore wait)? */
static int
in_futex(pid_t tid)
{
	char path[64], buf[64];
	FILE *f;
	long nr = -1;

	snprintf(path, sizeof(path), "/proc/self/task/%d/syscall", tid);
	if ((f = fopen(path, "r")) == NULL)
		return sample_asleep(tid);
	if (fgets(buf, sizeof(buf), f) != NULL)
		nr = strtol(buf, NULL, 10);
	fclose(f);
	return nr == SYS_futex && sample_asleep(tid);
}

static void *
taker(void *arg)
{
	char c;

	sample_thread("taker");
	taker_tid = gettid();
	sem_wait(&s);				/* main's post */
	if (write(consumed[1], "c", 1) != 1 || read(m_held[0], &c, 1) != 1)
		return NULL;
	pthread_mutex_lock(&m);			/* main holds it */
	pthread_mutex_unlock(&m);
	return NULL;
}

static void *
poster(void *arg)
{
	struct timespec ms = { 0, 1000000 };
	char c;
	int i;

	sample_thread("poster");
	if (read(m_held[0], &c, 1) != 1)
		return NULL;
	for (i = 0; i < ASLEEP_POLLS; i++) {
		if (in_futex(main_tid) && in_futex(taker_tid))
			break;
		nanosleep(&ms, NULL);
	}
	sem_post(&s);
	return NULL;
}

int
main(void)
{
	pthread_t a, b;
	char c;

	sample_pid();
	sample_lock(&s, "S");
	sample_lock(&m, "M");
	main_tid = gettid();
	sem_init(&s, 0, 0);
	if (pipe(consumed) == -1 || pipe(m_held) == -1 ||
	    pthread_create(&a, NULL, taker, NULL) != 0 ||
	    pthread_create(&b, NULL, poster, NULL) != 0) {
		fprintf(stderr, "sem_signal: cannot start\n");
		return 1;
	}
	sem_post(&s);
	if (read(consumed[0], &c, 1) != 1)
		return 1;
	pthread_mutex_lock(&m);
	/* One byte each for taker and poster: M is held. */
	if (write(m_held[1], "mm", 2) != 2)
		return 1;
	sem_wait(&s);				/* poster's post */
	pthread_mutex_unlock(&m);
	pthread_join(a, NULL);
	pthread_join(b, NULL);
	printf("done\n");
	return 0;
}
