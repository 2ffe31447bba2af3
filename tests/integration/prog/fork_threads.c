/*
 * fork_threads: fork while other threads lock and unlock.  Threads churn
 * through shared mutexes while main forks NFORKS times; a pthread_atfork
 * handler holds every mutex across fork() so the child gets them in a
 * known state.  Each child locks the same mutexes, starts a thread that
 * does too, and _exits 0.  The parent waits for each child at most ten
 * seconds and wants status 0.  Exits 0 when all went well.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define NTHREADS	4
#define NMUTEX		3
#define NFORKS		50

static pthread_mutex_t	m[NMUTEX] = {
	PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER,
	PTHREAD_MUTEX_INITIALIZER,
};
static long		count[NMUTEX];
static atomic_int	stop;

static void
prepare(void)
{
	int i;

	for (i = 0; i < NMUTEX; i++)
		pthread_mutex_lock(&m[i]);
}

static void
release(void)
{
	int i;

	for (i = NMUTEX - 1; i >= 0; i--)
		pthread_mutex_unlock(&m[i]);
}

/* Lock each mutex once; nonzero on any error. */
static int
touch(void)
{
	int i, error = 0;

	for (i = 0; i < NMUTEX; i++) {
		error |= pthread_mutex_lock(&m[i]);
		count[i]++;
		error |= pthread_mutex_unlock(&m[i]);
	}
	return error;
}

static void *
churn(void *arg)
{
	while (!atomic_load(&stop))
		touch();
	return NULL;
}

static void *
child_thread(void *arg)
{
	return (void *)(long)touch();
}

static void
child(void)
{
	pthread_t t;
	void *rv;

	if (touch() != 0)
		_exit(1);
	if (pthread_create(&t, NULL, child_thread, NULL) != 0)
		_exit(2);
	if (pthread_join(t, &rv) != 0 || rv != NULL)
		_exit(3);
	if (touch() != 0)
		_exit(4);
	_exit(0);
}

/* Reap pid within ten seconds; kill it if it takes longer. */
static int
reap(pid_t pid, int *status)
{
	struct timespec tick = { 0, 1000000 };
	pid_t r;
	int i;

	for (i = 0; i < 10000; i++) {
		if ((r = waitpid(pid, status, WNOHANG)) == pid)
			return 0;
		if (r == -1 && errno != EINTR)
			return -1;
		nanosleep(&tick, NULL);
	}
	kill(pid, SIGKILL);
	waitpid(pid, status, 0);
	return -1;
}

int
main(void)
{
	pthread_t t[NTHREADS];
	pid_t pid;
	int i, status, bad = 0;

	pthread_atfork(prepare, release, release);
	for (i = 0; i < NTHREADS; i++)
		if (pthread_create(&t[i], NULL, churn, NULL) != 0) {
			fprintf(stderr, "fork_threads: pthread_create failed\n");
			return 1;
		}
	for (i = 0; i < NFORKS; i++) {
		if ((pid = fork()) == -1) {
			perror("fork");
			bad++;
			break;
		}
		if (pid == 0)
			child();
		if (reap(pid, &status) == -1) {
			fprintf(stderr, "fork %d: child %d hung\n", i, pid);
			bad++;
		} else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
			fprintf(stderr, "fork %d: child %d status 0x%x\n", i,
			    pid, status);
			bad++;
		}
	}
	atomic_store(&stop, 1);
	for (i = 0; i < NTHREADS; i++)
		pthread_join(t[i], NULL);
	printf("fork_threads: %d forks, %d bad\n", NFORKS, bad);
	return bad != 0;
}
