/*
 * busy: a program that works hard with locks and never deadlocks.
 * Workers share three mutexes (always taken in the same order), a
 * rwlock, a spinlock and a counting semaphore; a producer hands items to
 * a consumer through a condition variable.  It prints a checksum that
 * does not depend on the interleaving, so a run under gilwatch can be
 * compared with a bare one, and exits 1 if a count came out wrong.
 *
 * For dump tests: with GW_READY_FD set it writes "ready\n" there before
 * the work starts.  With GW_HOLD_FD set it first parks its threads in
 * known states, and after "ready" waits for EOF on that fd:
 *	worker-N, producer, consumer  wait on the `go` condvar ("waiting")
 *	holder	holds the mutex `hold` and reads GW_HOLD_FD
 *	waiter	blocks locking `hold`, owned by holder ("blocked")
 *	main	joins holder ("joining")
 * Closing the pipe releases them and the normal run follows.
 *
 * On stderr it names its threads and locks ("gw-sample: ...").
 */
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "sample.h"

#define NWORKERS	4
#define NTHREADS	(NWORKERS + 2)	/* workers, producer, consumer */
#define ITER		20000
#define NITEMS		20000
#define QLEN		8
#define NSLOTS		2		/* the semaphore's initial value */
#define NTABLE		8

static pthread_mutex_t	m[3] = {
	PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER,
	PTHREAD_MUTEX_INITIALIZER,
};
static long		count[3];
static pthread_rwlock_t	rw = PTHREAD_RWLOCK_INITIALIZER;
static long		table[NTABLE];
static pthread_spinlock_t spin;
static long		spun;
static sem_t		slots;
static atomic_int	inside, crowded;

static pthread_mutex_t	qlock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t	notempty = PTHREAD_COND_INITIALIZER;
static pthread_cond_t	notfull = PTHREAD_COND_INITIALIZER;
static long		queue[QLEN];
static int		qhead, qlen;
static long long	consumed;

static pthread_mutex_t	gate = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t	arrive = PTHREAD_COND_INITIALIZER;
static pthread_cond_t	go = PTHREAD_COND_INITIALIZER;
static int		arrived, started;

static pthread_mutex_t	hold = PTHREAD_MUTEX_INITIALIZER;
static pthread_barrier_t held;
static atomic_int	waiter_tid;
static int		holding;

/* Check in, then wait on `go` until main starts the work. */
static void
wait_start(void)
{
	pthread_mutex_lock(&gate);
	arrived++;
	pthread_cond_signal(&arrive);
	while (!started)
		pthread_cond_wait(&go, &gate);
	pthread_mutex_unlock(&gate);
}

static void *
worker(void *arg)
{
	long i = (long)arg, k;

	sample_thread("worker-%ld", i);
	wait_start();
	for (k = 0; k < ITER; k++) {
		pthread_mutex_lock(&m[0]);
		count[0]++;
		if (k % 2) {
			pthread_mutex_lock(&m[1]);
			count[1] += i;
			pthread_mutex_lock(&m[2]);
			count[2] += k;
			pthread_mutex_unlock(&m[2]);
			pthread_mutex_unlock(&m[1]);
		}
		pthread_mutex_unlock(&m[0]);

		if (k % 16 == 0) {
			pthread_rwlock_wrlock(&rw);
			table[k / 16 % NTABLE] += i + 1;
			pthread_rwlock_unlock(&rw);
		} else {
			pthread_rwlock_rdlock(&rw);
			(void)*(volatile long *)&table[k % NTABLE];
			pthread_rwlock_unlock(&rw);
		}

		pthread_spin_lock(&spin);
		spun++;
		pthread_spin_unlock(&spin);

		if (k % 4 == 0) {
			sem_wait(&slots);
			if (atomic_fetch_add(&inside, 1) >= NSLOTS)
				crowded = 1;
			atomic_fetch_sub(&inside, 1);
			sem_post(&slots);
		}
	}
	return NULL;
}

static void *
producer(void *arg)
{
	long v;

	sample_thread("producer");
	wait_start();
	for (v = 1; v <= NITEMS; v++) {
		pthread_mutex_lock(&qlock);
		while (qlen == QLEN)
			pthread_cond_wait(&notfull, &qlock);
		queue[(qhead + qlen++) % QLEN] = v;
		pthread_cond_signal(&notempty);
		pthread_mutex_unlock(&qlock);
	}
	return NULL;
}

static void *
consumer(void *arg)
{
	int n;

	sample_thread("consumer");
	wait_start();
	for (n = 0; n < NITEMS; n++) {
		pthread_mutex_lock(&qlock);
		while (qlen == 0)
			pthread_cond_wait(&notempty, &qlock);
		consumed += queue[qhead];
		qhead = (qhead + 1) % QLEN;
		qlen--;
		pthread_cond_signal(&notfull);
		pthread_mutex_unlock(&qlock);
	}
	return NULL;
}

/* Hold `hold` until the test closes its end of GW_HOLD_FD. */
static void *
holder(void *arg)
{
	sample_thread("holder");
	pthread_mutex_lock(&hold);
	pthread_barrier_wait(&held);
	sample_hold();
	pthread_mutex_unlock(&hold);
	return NULL;
}

static void *
waiter(void *arg)
{
	sample_thread("waiter");
	atomic_store(&waiter_tid, gettid());
	pthread_mutex_lock(&hold);		/* blocks until released */
	pthread_mutex_unlock(&hold);
	return NULL;
}

/* Wait (at most ten seconds) until waiter sleeps in its lock call. */
static int
wait_asleep(void)
{
	struct timespec tick = { 0, 1000000 };
	pid_t tid;
	int i;

	for (i = 0; i < 10000; i++) {
		if ((tid = atomic_load(&waiter_tid)) != 0 &&
		    sample_asleep(tid))
			return 0;
		nanosleep(&tick, NULL);
	}
	return -1;
}

static uint64_t
mix(uint64_t h, uint64_t v)
{
	int i;

	for (i = 0; i < 8; i++, v >>= 8)
		h = (h ^ (v & 0xff)) * 0x100000001b3ULL;
	return h;
}

int
main(void)
{
	pthread_t t[NTHREADS], ht, wt;
	uint64_t sum = 0xcbf29ce484222325ULL;
	long i;
	int ok;

	sample_pid();
	sample_lock(&hold, "hold");
	sample_lock(&gate, "gate");
	pthread_spin_init(&spin, PTHREAD_PROCESS_PRIVATE);
	sem_init(&slots, 0, NSLOTS);

	for (i = 0; i < NWORKERS; i++)
		if (pthread_create(&t[i], NULL, worker, (void *)i) != 0)
			goto fail;
	if (pthread_create(&t[NWORKERS], NULL, producer, NULL) != 0 ||
	    pthread_create(&t[NWORKERS + 1], NULL, consumer, NULL) != 0)
		goto fail;
	pthread_mutex_lock(&gate);
	while (arrived < NTHREADS)
		pthread_cond_wait(&arrive, &gate);
	pthread_mutex_unlock(&gate);

	if (getenv("GW_HOLD_FD") != NULL) {
		holding = 1;
		pthread_barrier_init(&held, NULL, 2);
		if (pthread_create(&ht, NULL, holder, NULL) != 0)
			goto fail;
		pthread_barrier_wait(&held);
		if (pthread_create(&wt, NULL, waiter, NULL) != 0)
			goto fail;
		if (wait_asleep() == -1) {
			fprintf(stderr, "busy: waiter never blocked\n");
			return 1;
		}
	}
	sample_ready();
	if (holding) {
		pthread_join(ht, NULL);
		pthread_join(wt, NULL);
	}

	pthread_mutex_lock(&gate);
	started = 1;
	pthread_cond_broadcast(&go);
	pthread_mutex_unlock(&gate);
	for (i = 0; i < NTHREADS; i++)
		pthread_join(t[i], NULL);

	ok = count[0] == (long)NWORKERS * ITER &&
	    spun == (long)NWORKERS * ITER &&
	    consumed == (long long)NITEMS * (NITEMS + 1) / 2 && !crowded;
	for (i = 0; i < 3; i++)
		sum = mix(sum, count[i]);
	for (i = 0; i < NTABLE; i++)
		sum = mix(sum, table[i]);
	sum = mix(mix(sum, spun), consumed);
	printf("checksum %016llx\n", (unsigned long long)sum);
	if (!ok)
		fprintf(stderr, "busy: wrong counts\n");
	return ok ? 0 : 1;
fail:
	fprintf(stderr, "busy: pthread_create failed\n");
	return 1;
}
