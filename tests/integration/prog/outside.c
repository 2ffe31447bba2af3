/*
 * outside: programs to be dumped from outside (gilwatch dump PID on a
 * process not started under gilwatch).  Each mode parks threads in a
 * known wait, names every thread and lock (sample.h), waits until every
 * thread that should block is asleep in futex(2), says ready, and stays
 * so until the test closes GW_HOLD_FD; then it exits without undoing
 * anything (the waits may be deadlocks).
 *
 *   abba       A holds m1 and waits for m2; B holds m2, waits for m1
 *   ring       ring0..2: ringI holds mI and waits for m(I+1)%3
 *   rwlock     W1 write-holds rw1, W2 waits to write it, R3 to read it;
 *              R1 and R2 read-hold rw2, W3 waits to write it
 *   pi         P1 holds the priority-inheritance mutex pi, P2 waits
 *   recursive  R1 holds the recursive mutex rec twice, R2 waits
 *   join       J1 holds m and joins J2; J2 waits for m
 *   sem        S1 waits on the semaphore sem, which nobody posts
 *   nodump     sem, in a process made not dumpable (PR_SET_DUMPABLE 0)
 *   mainexit [first]
 *              abba, formed after the main thread has ended
 *              (pthread_exit): a thread named keeper says ready and holds;
 *              with "first", the main thread ends before any other has
 *              begun (it runs SCHED_FIFO, they SCHED_OTHER, all on one
 *              CPU; exit 4 if that is refused)
 *   checksum [THREADS [ROUNDS]]
 *              THREADS threads add into a sum under a mutex and pass a
 *              token through a condition variable and a semaphore; says
 *              ready once they run, then prints "checksum SUM ORDER"
 *              when done (the same every run, dumps or not) and exits
 */
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <sys/prctl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sample.h"

#define MAX_WAITERS	8
#define READY_TIMEOUT	20	/* seconds for every waiter to fall asleep */

static pthread_barrier_t start;
static pid_t waiters[MAX_WAITERS];
static int nwaiters;
static pthread_mutex_t waiters_lock = PTHREAD_MUTEX_INITIALIZER;
static int nodump;		/* not dumpable once the waiters block */

/* Call from a thread about to block for good. */
static void
will_block(void)
{
	pthread_mutex_lock(&waiters_lock);
	if (nwaiters < MAX_WAITERS)
		waiters[nwaiters++] = gettid();
	pthread_mutex_unlock(&waiters_lock);
}

/* Is thread tid asleep in futex(2) (system call 202 on x86-64)? */
static int
in_futex(pid_t tid)
{
	char path[64], buf[256];
	FILE *f;
	size_t n;

	snprintf(path, sizeof path, "/proc/self/task/%d/syscall", tid);
	if ((f = fopen(path, "r")) == NULL)
		return 0;
	n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = '\0';
	return strncmp(buf, "202 ", 4) == 0 && sample_asleep(tid);
}

/* Wait (bounded) until the `want` waiters are all asleep in futex. */
static void
ready_when_blocked(int want)
{
	struct timespec ms = { 0, 1000000 };
	int i, ok = 0, tries;

	for (tries = 0; tries < READY_TIMEOUT * 1000 && !ok; tries++) {
		pthread_mutex_lock(&waiters_lock);
		ok = nwaiters == want;
		for (i = 0; ok && i < nwaiters; i++)
			ok = in_futex(waiters[i]);
		pthread_mutex_unlock(&waiters_lock);
		if (!ok)
			nanosleep(&ms, NULL);
	}
	if (!ok) {
		fprintf(stderr, "outside: waiters did not block\n");
		exit(3);
	}
	/* Only now: /proc/self/task is root's once we are not dumpable. */
	if (nodump)
		prctl(PR_SET_DUMPABLE, 0);
	sample_ready();
}

/* --- abba and ring ------------------------------------------------------ */

static pthread_mutex_t m[3] = { PTHREAD_MUTEX_INITIALIZER,
    PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER };
static int ring_size;

static void *
ring_thread(void *arg)
{
	int i = (int)(intptr_t)arg;

	if (ring_size == 2)
		sample_thread("%s", i == 0 ? "A" : "B");
	else
		sample_thread("ring%d", i);
	pthread_mutex_lock(&m[i]);
	pthread_barrier_wait(&start);
	will_block();
	pthread_mutex_lock(&m[(i + 1) % ring_size]);
	return NULL;
}

static pthread_attr_t *thread_attr;	/* mainexit first: SCHED_OTHER */

/* The ring's threads, which block once `others` more reach start. */
static void
start_ring(int n, int others)
{
	pthread_t t[3];
	int i;

	ring_size = n;
	for (i = 0; i < n; i++)
		sample_lock(&m[i], "m%d", n == 2 ? i + 1 : i);
	pthread_barrier_init(&start, NULL, (unsigned)(n + others));
	for (i = 0; i < n; i++)
		pthread_create(&t[i], thread_attr, ring_thread,
		    (void *)(intptr_t)i);
}

static int
mode_ring(int n)
{
	start_ring(n, 0);
	ready_when_blocked(n);
	return 0;
}

/* --- mainexit ----------------------------------------------------------- */

static pid_t main_tid;

/* Has the main thread ended (a zombie while the others run on)? */
static int
main_ended(void)
{
	char path[64], buf[512], *p;
	ssize_t n;
	FILE *f;

	snprintf(path, sizeof path, "/proc/self/task/%d/stat", (int)main_tid);
	if ((f = fopen(path, "r")) == NULL)
		return 1;
	n = (ssize_t)fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n > 0 ? n : 0] = '\0';
	return (p = strrchr(buf, ')')) != NULL && p[1] == ' ' && p[2] == 'Z';
}

static void *
keeper(void *arg)
{
	struct timespec ms = { 0, 1000000 };
	int tries;

	sample_thread("keeper");
	for (tries = 0; tries < READY_TIMEOUT * 1000 && !main_ended(); tries++)
		nanosleep(&ms, NULL);
	if (!main_ended()) {
		fprintf(stderr, "outside: the main thread did not end\n");
		_exit(3);
	}
	pthread_barrier_wait(&start);	/* only now may the ring form */
	ready_when_blocked(2);
	sample_hold();
	fflush(stdout);
	_exit(0);
}

/*
 * "first": on one CPU, a SCHED_FIFO main thread keeps it from threads
 * of SCHED_OTHER until it ends, so none of them has begun by then.
 */
static void
main_first(void)
{
	static pthread_attr_t other;
	struct sched_param fifo = { .sched_priority = 1 }, none = { 0 };
	cpu_set_t one;

	CPU_ZERO(&one);
	CPU_SET(sched_getcpu(), &one);
	if (sched_setaffinity(0, sizeof one, &one) != 0 ||
	    sched_setscheduler(0, SCHED_FIFO, &fifo) != 0) {
		fprintf(stderr, "outside: SCHED_FIFO on one CPU refused\n");
		_exit(4);
	}
	pthread_attr_init(&other);
	pthread_attr_setinheritsched(&other, PTHREAD_EXPLICIT_SCHED);
	pthread_attr_setschedpolicy(&other, SCHED_OTHER);
	pthread_attr_setschedparam(&other, &none);
	thread_attr = &other;
}

static void
mode_mainexit(int first)
{
	pthread_t k;

	main_tid = gettid();
	if (first)
		main_first();
	start_ring(2, 1);
	pthread_create(&k, thread_attr, keeper, NULL);
	pthread_exit(NULL);
}

/* --- rwlock --------------------------------------------------------------- */

static pthread_rwlock_t rw1 = PTHREAD_RWLOCK_INITIALIZER;
static pthread_rwlock_t rw2 = PTHREAD_RWLOCK_INITIALIZER;
static pthread_barrier_t held;	/* the holders have their locks */

static void *
rw_thread(void *arg)
{
	const char *name = arg;

	sample_thread("%s", name);
	if (strcmp(name, "W1") == 0) {
		pthread_rwlock_wrlock(&rw1);
		pthread_barrier_wait(&held);
		sample_hold();
	} else if (strcmp(name, "R1") == 0 || strcmp(name, "R2") == 0) {
		pthread_rwlock_rdlock(&rw2);
		pthread_barrier_wait(&held);
		sample_hold();
	} else {
		pthread_barrier_wait(&held);
		will_block();
		if (strcmp(name, "W2") == 0)
			pthread_rwlock_wrlock(&rw1);
		else if (strcmp(name, "R3") == 0)
			pthread_rwlock_rdlock(&rw1);
		else
			pthread_rwlock_wrlock(&rw2);
	}
	return NULL;
}

static int
mode_rwlock(void)
{
	static char *names[] = { "W1", "R1", "R2", "W2", "R3", "W3" };
	pthread_t t[6];
	int i;

	sample_lock(&rw1, "rw1");
	sample_lock(&rw2, "rw2");
	pthread_barrier_init(&held, NULL, 6);
	for (i = 0; i < 6; i++)
		pthread_create(&t[i], NULL, rw_thread, names[i]);
	ready_when_blocked(3);
	return 0;
}

/* --- pi, recursive, join, sem: one holder, one waiter ------------------- */

static pthread_mutex_t one;		/* pi or recursive */
static pthread_t j2;
static sem_t sem;
static const char *mode;

static void *
holder(void *arg)
{
	sample_thread("%s", (const char *)arg);
	if (strcmp(mode, "recursive") == 0)
		pthread_mutex_lock(&one);
	pthread_mutex_lock(&one);
	pthread_barrier_wait(&held);
	sample_hold();
	/* A PI mutex whose owner ends is handed on as "owner died": an
	 * assertion in the waiter.  Stay until main exits. */
	for (;;)
		pause();
	return NULL;
}

static void *
waiter(void *arg)
{
	sample_thread("%s", (const char *)arg);
	pthread_barrier_wait(&held);
	will_block();
	pthread_mutex_lock(&one);
	return NULL;
}

static void *
joined(void *arg)
{
	sample_thread("J2");
	pthread_barrier_wait(&held);
	will_block();
	pthread_mutex_lock(&m[0]);
	return NULL;
}

static void *
joiner(void *arg)
{
	sample_thread("J1");
	pthread_mutex_lock(&m[0]);
	pthread_barrier_wait(&held);
	will_block();
	pthread_join(j2, NULL);
	return NULL;
}

static void *
sem_waiter(void *arg)
{
	sample_thread("S1");
	will_block();
	sem_wait(&sem);
	return NULL;
}

static int
mode_pair(void)
{
	pthread_mutexattr_t a;
	pthread_t t1, t2;

	pthread_barrier_init(&held, NULL, 2);
	pthread_mutexattr_init(&a);
	if (strcmp(mode, "pi") == 0) {
		pthread_mutexattr_setprotocol(&a, PTHREAD_PRIO_INHERIT);
		pthread_mutex_init(&one, &a);
		sample_lock(&one, "pi");
		pthread_create(&t1, NULL, holder, "P1");
		pthread_create(&t2, NULL, waiter, "P2");
	} else if (strcmp(mode, "recursive") == 0) {
		pthread_mutexattr_settype(&a, PTHREAD_MUTEX_RECURSIVE);
		pthread_mutex_init(&one, &a);
		sample_lock(&one, "rec");
		pthread_create(&t1, NULL, holder, "R1");
		pthread_create(&t2, NULL, waiter, "R2");
	} else if (strcmp(mode, "join") == 0) {
		sample_lock(&m[0], "m");
		pthread_create(&j2, NULL, joined, NULL);
		pthread_create(&t1, NULL, joiner, NULL);
		ready_when_blocked(2);
		return 0;
	} else {
		sem_init(&sem, 0, 0);
		sample_lock(&sem, "sem");
		pthread_create(&t1, NULL, sem_waiter, NULL);
		ready_when_blocked(1);
		return 0;
	}
	ready_when_blocked(1);
	return 0;
}

/* --- checksum --------------------------------------------------------------- */

static pthread_mutex_t sum_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t turn_cond = PTHREAD_COND_INITIALIZER;
static sem_t token;
static uint64_t sum, order;
static int turn, nthreads;
static long rounds;

static void *
adder(void *arg)
{
	int me = (int)(intptr_t)arg;
	uint64_t x = (uint64_t)me * 2654435761u + 1;
	long i;

	sample_thread("add%d", me);
	pthread_barrier_wait(&start);
	for (i = 0; i < rounds; i++) {
		x = x * 6364136223846793005ull + 1442695040888963407ull;
		pthread_mutex_lock(&sum_lock);
		sum += x >> 7;
		pthread_mutex_unlock(&sum_lock);
		if (i % 1000 == 0) {
			/* A token passed round in a fixed order. */
			pthread_mutex_lock(&sum_lock);
			while (turn != me)
				pthread_cond_wait(&turn_cond, &sum_lock);
			order = order * 31 + (uint64_t)me;
			turn = (turn + 1) % nthreads;
			pthread_cond_broadcast(&turn_cond);
			pthread_mutex_unlock(&sum_lock);
			sem_wait(&token);
			sem_post(&token);
		}
	}
	return NULL;
}

static int
mode_checksum(int n, long r)
{
	pthread_t t[64];
	int i;

	nthreads = n > 0 && n <= 64 ? n : 4;
	rounds = r > 0 ? r : 4000000;
	sem_init(&token, 0, 1);
	pthread_barrier_init(&start, NULL, (unsigned)nthreads + 1);
	for (i = 0; i < nthreads; i++)
		pthread_create(&t[i], NULL, adder, (void *)(intptr_t)i);
	pthread_barrier_wait(&start);
	sample_ready();
	for (i = 0; i < nthreads; i++)
		pthread_join(t[i], NULL);
	printf("checksum %llu %llu\n", (unsigned long long)sum,
	    (unsigned long long)order);
	return 1;
}

int
main(int argc, char **argv)
{
	int done;

	if (argc < 2) {
		fprintf(stderr, "usage: outside MODE\n");
		return 2;
	}
	mode = argv[1];
	sample_pid();
	sample_thread("main");
	if (strcmp(mode, "abba") == 0)
		done = mode_ring(2);
	else if (strcmp(mode, "mainexit") == 0)	/* does not return */
		mode_mainexit(argc > 2 && strcmp(argv[2], "first") == 0);
	else if (strcmp(mode, "ring") == 0)
		done = mode_ring(3);
	else if (strcmp(mode, "rwlock") == 0)
		done = mode_rwlock();
	else if (strcmp(mode, "checksum") == 0)
		done = mode_checksum(argc > 2 ? atoi(argv[2]) : 0,
		    argc > 3 ? atol(argv[3]) : 0);
	else if (strcmp(mode, "nodump") == 0) {
		nodump = 1;
		mode = "sem";
		done = mode_pair();
	} else if (strcmp(mode, "pi") == 0 || strcmp(mode, "recursive") == 0 ||
	    strcmp(mode, "join") == 0 || strcmp(mode, "sem") == 0)
		done = mode_pair();
	else {
		fprintf(stderr, "outside: unknown mode %s\n", mode);
		return 2;
	}
	if (!done)
		sample_hold();
	fflush(stdout);
	_exit(0);
}
