/*
 * exit_paths: processes that end without exit(), whose exit reports only
 * the _exit hook can write.
 *
 *	exit_paths fork		a forked child takes exit_lock 100 times
 *				and calls _exit(0); the parent exit(0)s
 *	exit_paths vfork	a vfork child calls _exit(0) at once: it
 *				shares the parent's memory and must write
 *				nothing; the parent takes exit_lock 7 times
 *	exit_paths signal	exit_lock taken 5 times, then a SIGUSR1
 *				handler calls _exit(3)
 *	exit_paths _Exit	exit_lock taken 9 times, then _Exit(4)
 *
 * Prints "child PID" on stdout for each child.  Exits 0 (or as said)
 * when all went as planned, 1 otherwise.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sample.h"

static pthread_mutex_t exit_lock = PTHREAD_MUTEX_INITIALIZER;

static void
take(int times)
{
	int i;

	for (i = 0; i < times; i++) {
		pthread_mutex_lock(&exit_lock);
		pthread_mutex_unlock(&exit_lock);
	}
}

static int
reap(pid_t pid)
{
	int status;

	printf("child %d\n", (int)pid);
	fflush(stdout);
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0) {
		fprintf(stderr, "exit_paths: child %d failed\n", (int)pid);
		return 1;
	}
	return 0;
}

static void
on_usr1(int signo)
{
	(void)signo;
	_exit(3);
}

int
main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "fork";
	pid_t pid;

	sample_pid();
	sample_lock(&exit_lock, "exit_lock");
	fflush(stdout);
	if (strcmp(mode, "fork") == 0) {
		if ((pid = fork()) == 0) {
			take(100);
			_exit(0);
		}
		return pid == -1 ? 1 : reap(pid);
	}
	if (strcmp(mode, "vfork") == 0) {
		if ((pid = vfork()) == 0)
			_exit(0);
		take(7);
		return pid == -1 ? 1 : reap(pid);
	}
	if (strcmp(mode, "signal") == 0) {
		take(5);
		signal(SIGUSR1, on_usr1);
		raise(SIGUSR1);
		return 1;
	}
	if (strcmp(mode, "_Exit") == 0) {
		take(9);
		_Exit(4);
	}
	fprintf(stderr, "exit_paths: unknown mode %s\n", mode);
	return 1;
}
