/*
 * errno_check: the return values and errno of the watched calls must be
 * exactly what the C library gives without gilwatch: error codes pass
 * through unchanged, and a successful call leaves errno alone.  Runs the
 * same way bare and under the shim.  Prints "ok NAME" or "FAIL NAME ..."
 * per check and exits 1 if any failed.
 */
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sample.h"

static int		failures;

/* Held by `holder` between the two waits on `phase`. */
static pthread_mutex_t	locked = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t	ec_other;
static pthread_rwlock_t	rw = PTHREAD_RWLOCK_INITIALIZER;
static pthread_spinlock_t spin;
static pthread_barrier_t phase;

static sem_t		zero;
static atomic_int	sleeper_tid, sleeper_done;
static int		sleeper_rc, sleeper_errno;

static const char *
ename(int e)
{
	const char *s = strerrorname_np(e);

	return s != NULL ? s : "?";
}

/* A pthread-style result: the error number is the return value. */
static void
check(const char *name, int got, int want)
{
	if (got == want)
		printf("ok %s\n", name);
	else {
		printf("FAIL %s: returned %d (%s), want %d (%s)\n", name, got,
		    ename(got), want, ename(want));
		failures++;
	}
}

/* A -1/errno-style result. */
static void
check_errno(const char *name, int rc, int err, int want)
{
	if (rc == -1 && err == want)
		printf("ok %s\n", name);
	else {
		printf("FAIL %s: returned %d errno %d (%s), want -1 errno %s\n",
		    name, rc, err, ename(err), ename(want));
		failures++;
	}
}

/* A successful call must leave errno as it was (1234). */
#define KEEPS_ERRNO(name, call) do {					\
	int rc_;							\
	errno = 1234;							\
	rc_ = (call);							\
	if (rc_ == 0 && errno == 1234)					\
		printf("ok errno_kept_%s\n", name);			\
	else {								\
		printf("FAIL errno_kept_%s: returned %d errno %d\n",	\
		    name, rc_, errno);					\
		failures++;						\
	}								\
} while (0)

static struct timespec
deadline(long ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (ms % 1000) * 1000000;
	if (ts.tv_nsec < 0) {
		ts.tv_sec--;
		ts.tv_nsec += 1000000000;
	} else if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	return ts;
}

static void *
holder(void *arg)
{
	pthread_mutex_lock(&locked);
	pthread_mutex_lock(&ec_other);
	pthread_rwlock_rdlock(&rw);
	pthread_spin_lock(&spin);
	pthread_barrier_wait(&phase);		/* all held */
	pthread_barrier_wait(&phase);		/* checks done */
	pthread_spin_unlock(&spin);
	pthread_rwlock_unlock(&rw);
	pthread_mutex_unlock(&ec_other);
	pthread_mutex_unlock(&locked);
	return NULL;
}

/* Locks a robust mutex and dies holding it. */
static void *
dier(void *arg)
{
	pthread_mutex_lock(arg);
	return NULL;
}

static void
on_signal(int signo)
{
}

static void *
sleeper(void *arg)
{
	atomic_store(&sleeper_tid, gettid());
	sleeper_rc = sem_wait(&zero);
	sleeper_errno = errno;
	atomic_store(&sleeper_done, 1);
	return NULL;
}

/*
 * sem_wait interrupted by a handler installed without SA_RESTART.  Signal
 * the sleeper once it sleeps; should the signal have come just before it
 * entered sem_wait, signal again.  Ten seconds at most.
 */
static void
check_sem_eintr(void)
{
	struct timespec tick = { 0, 1000000 };
	struct sigaction sa;
	pthread_t t;
	int i;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0;
	sigaction(SIGUSR2, &sa, NULL);
	sem_init(&zero, 0, 0);
	pthread_create(&t, NULL, sleeper, NULL);
	for (i = 0; i < 10000 && !atomic_load(&sleeper_done); i++) {
		if (i % 100 == 0 && atomic_load(&sleeper_tid) != 0 &&
		    sample_asleep(atomic_load(&sleeper_tid)))
			pthread_kill(t, SIGUSR2);
		nanosleep(&tick, NULL);
	}
	if (!atomic_load(&sleeper_done)) {
		printf("FAIL sem_wait_eintr: still waiting after 10 s\n");
		failures++;
		sem_post(&zero);
		pthread_join(t, NULL);
		return;
	}
	pthread_join(t, NULL);
	check_errno("sem_wait_eintr", sleeper_rc, sleeper_errno, EINTR);
}

static void
check_robust(void)
{
	pthread_mutexattr_t ma;
	pthread_mutex_t rm;
	pthread_t t;

	pthread_mutexattr_init(&ma);
	pthread_mutexattr_setrobust(&ma, PTHREAD_MUTEX_ROBUST);
	pthread_mutex_init(&rm, &ma);
	pthread_create(&t, NULL, dier, &rm);
	pthread_join(t, NULL);
	check("robust_owner_dead", pthread_mutex_lock(&rm), EOWNERDEAD);
	check("robust_consistent", pthread_mutex_consistent(&rm), 0);
	check("robust_unlock", pthread_mutex_unlock(&rm), 0);
	check("robust_relock", pthread_mutex_lock(&rm), 0);
	check("robust_unlock_again", pthread_mutex_unlock(&rm), 0);
	pthread_mutex_destroy(&rm);
}

static void
check_errno_kept(void)
{
	pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
	pthread_rwlock_t l = PTHREAD_RWLOCK_INITIALIZER;
	pthread_cond_t c = PTHREAD_COND_INITIALIZER;
	struct timespec ts = deadline(1000);
	sem_t s;

	sem_init(&s, 0, 0);
	KEEPS_ERRNO("mutex_lock", pthread_mutex_lock(&m));
	KEEPS_ERRNO("mutex_unlock", pthread_mutex_unlock(&m));
	KEEPS_ERRNO("mutex_trylock", pthread_mutex_trylock(&m));
	KEEPS_ERRNO("mutex_unlock_2", pthread_mutex_unlock(&m));
	KEEPS_ERRNO("mutex_timedlock", pthread_mutex_timedlock(&m, &ts));
	KEEPS_ERRNO("cond_signal", pthread_cond_signal(&c));
	KEEPS_ERRNO("cond_broadcast", pthread_cond_broadcast(&c));
	KEEPS_ERRNO("mutex_unlock_3", pthread_mutex_unlock(&m));
	KEEPS_ERRNO("rwlock_rdlock", pthread_rwlock_rdlock(&l));
	KEEPS_ERRNO("rwlock_unlock", pthread_rwlock_unlock(&l));
	KEEPS_ERRNO("rwlock_wrlock", pthread_rwlock_wrlock(&l));
	KEEPS_ERRNO("rwlock_unlock_2", pthread_rwlock_unlock(&l));
	KEEPS_ERRNO("spin_lock", pthread_spin_lock(&spin));
	KEEPS_ERRNO("spin_unlock", pthread_spin_unlock(&spin));
	KEEPS_ERRNO("sem_post", sem_post(&s));
	KEEPS_ERRNO("sem_wait", sem_wait(&s));
	KEEPS_ERRNO("sem_post_2", sem_post(&s));
	KEEPS_ERRNO("sem_trywait", sem_trywait(&s));
	sem_destroy(&s);
}

/*
 * sigprocmask, which the shim hooks (for libunwind in its handler):
 * the mask set and given back as glibc does, its errors the same, and
 * glibc's own signals still never blocked.
 */
static void
check_sigprocmask(void)
{
	sigset_t set, old, now;
	int rc, err;

	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	check("sigprocmask_block", sigprocmask(SIG_BLOCK, &set, &old), 0);
	sigprocmask(SIG_BLOCK, NULL, &now);
	check("sigprocmask_blocked", sigismember(&now, SIGUSR1), 1);
	check("sigprocmask_was_not", sigismember(&old, SIGUSR1), 0);
	check("sigprocmask_restore", sigprocmask(SIG_SETMASK, &old, &now),
	    0);
	check("sigprocmask_old_had", sigismember(&now, SIGUSR1), 1);
	sigprocmask(SIG_BLOCK, NULL, &now);
	check("sigprocmask_restored", sigismember(&now, SIGUSR1), 0);
	errno = 0;
	rc = sigprocmask(12345, &set, NULL);
	err = errno;
	check_errno("sigprocmask_bad_how", rc, err, EINVAL);
	sigfillset(&set);
	check("sigprocmask_fill", sigprocmask(SIG_SETMASK, &set, &old), 0);
	sigprocmask(SIG_BLOCK, NULL, &now);
	/* glibc keeps its cancellation signal (SIGRTMIN - 2 is 32) open. */
	check("sigprocmask_kept_open", sigismember(&now, SIGRTMIN - 2), 0);
	sigprocmask(SIG_SETMASK, &old, NULL);
	KEEPS_ERRNO("sigprocmask", sigprocmask(SIG_BLOCK, NULL, &now));
}

int
main(void)
{
	pthread_mutexattr_t ma;
	pthread_mutex_t ec, cm;
	pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
	pthread_t t;
	struct timespec ts;
	sem_t s;
	int rc, err;

	setvbuf(stdout, NULL, _IOLBF, 0);
	pthread_mutexattr_init(&ma);
	pthread_mutexattr_settype(&ma, PTHREAD_MUTEX_ERRORCHECK);
	pthread_mutex_init(&ec, &ma);
	pthread_mutex_init(&ec_other, &ma);
	pthread_mutex_init(&cm, &ma);
	pthread_spin_init(&spin, PTHREAD_PROCESS_PRIVATE);
	pthread_barrier_init(&phase, NULL, 2);

	/* Locks held by another thread. */
	pthread_create(&t, NULL, holder, NULL);
	pthread_barrier_wait(&phase);
	check("mutex_trylock_busy", pthread_mutex_trylock(&locked), EBUSY);
	ts = deadline(-1000);
	check("mutex_timedlock_past", pthread_mutex_timedlock(&locked, &ts),
	    ETIMEDOUT);
	ts = deadline(20);
	check("mutex_timedlock_short", pthread_mutex_timedlock(&locked, &ts),
	    ETIMEDOUT);
	check("errorcheck_unlock_not_owner", pthread_mutex_unlock(&ec_other),
	    EPERM);
	check("rwlock_trywrlock_busy", pthread_rwlock_trywrlock(&rw), EBUSY);
	ts = deadline(20);
	check("rwlock_timedwrlock_short", pthread_rwlock_timedwrlock(&rw, &ts),
	    ETIMEDOUT);
	check("spin_trylock_busy", pthread_spin_trylock(&spin), EBUSY);
	pthread_barrier_wait(&phase);
	pthread_join(t, NULL);

	/* Errors of one's own making. */
	check("errorcheck_lock", pthread_mutex_lock(&ec), 0);
	check("errorcheck_relock", pthread_mutex_lock(&ec), EDEADLK);
	check("errorcheck_unlock", pthread_mutex_unlock(&ec), 0);
	check("errorcheck_unlock_unlocked", pthread_mutex_unlock(&ec), EPERM);
	check_robust();

	sem_init(&s, 0, 0);
	errno = 0;
	rc = sem_trywait(&s);
	err = errno;
	check_errno("sem_trywait_zero", rc, err, EAGAIN);
	ts = deadline(20);
	errno = 0;
	rc = sem_timedwait(&s, &ts);
	err = errno;
	check_errno("sem_timedwait_timeout", rc, err, ETIMEDOUT);
	sem_destroy(&s);
	check_sem_eintr();

	pthread_mutex_lock(&cm);
	ts = deadline(20);
	check("cond_timedwait_timeout", pthread_cond_timedwait(&cv, &cm, &ts),
	    ETIMEDOUT);
	/* The mutex is ours again: an errorcheck unlock proves it. */
	check("cond_timedwait_relocked", pthread_mutex_unlock(&cm), 0);

	check_errno_kept();
	check_sigprocmask();

	printf("%s: %d failed\n", failures ? "FAIL" : "ok", failures);
	return failures != 0;
}
