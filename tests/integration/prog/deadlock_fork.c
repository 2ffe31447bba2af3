/*
 * deadlock_fork: a process with a deadlock forks.  Threads "a" and "b"
 * take mutexes lock_a and lock_b in opposite orders and deadlock; once
 * both wait in futex(2) (read from /proc, at most ten seconds), main
 * forks.  The child, which has neither thread, exits 0 at once; the
 * parent waits for it and exits 0 too, leaving its deadlocked threads.
 * Prints "parent PID child PID" on stdout.  Exits 1 when the deadlock
 * did not form in time or the fork failed.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static pthread_mutex_t lock_a = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t lock_b = PTHREAD_MUTEX_INITIALIZER;
static pthread_barrier_t both_hold;
static pid_t tids[2];

static void *
take(void *arg)
{
	int i = *(int *)arg;
	pthread_mutex_t *first = i == 0 ? &lock_a : &lock_b;
	pthread_mutex_t *second = i == 0 ? &lock_b : &lock_a;

	tids[i] = (pid_t)syscall(SYS_gettid);
	pthread_mutex_lock(first);
	pthread_barrier_wait(&both_hold);
	pthread_mutex_lock(second);	/* never returns */
	return NULL;
}

/* Is thread tid in futex(2) now? */
static int
in_futex(pid_t tid)
{
	char path[64];
	long nr = -1;
	FILE *f;

	snprintf(path, sizeof path, "/proc/self/task/%d/syscall", (int)tid);
	if ((f = fopen(path, "r")) == NULL)
		return 0;
	if (fscanf(f, "%ld", &nr) != 1)
		nr = -1;
	fclose(f);
	return nr == SYS_futex;
}

int
main(void)
{
	static int idx[2] = { 0, 1 };
	struct timespec tick = { 0, 1000000 };
	pthread_t t[2];
	pid_t child;
	int i, status;

	pthread_barrier_init(&both_hold, NULL, 2);
	for (i = 0; i < 2; i++)
		pthread_create(&t[i], NULL, take, &idx[i]);
	/* Poll for the state the deadlock leaves, bounded. */
	for (i = 0; i < 10000; i++) {
		if (tids[0] != 0 && tids[1] != 0 && in_futex(tids[0]) &&
		    in_futex(tids[1]))
			break;
		nanosleep(&tick, NULL);
	}
	if (i == 10000) {
		fprintf(stderr, "deadlock_fork: no deadlock within 10 s\n");
		return 1;
	}
	fflush(stdout);
	if ((child = fork()) == -1) {
		perror("deadlock_fork: fork");
		return 1;
	}
	if (child == 0)
		exit(0);
	printf("parent %d child %d\n", (int)getpid(), (int)child);
	fflush(stdout);
	if (waitpid(child, &status, 0) != child || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0)
		return 1;
	exit(0);
}
