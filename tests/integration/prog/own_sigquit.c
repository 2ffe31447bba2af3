/*
 * own_sigquit: a program that handles SIGQUIT itself (as servers do for
 * shutdown).  gilwatch must step aside: the program's handler runs, and
 * the program still sees the disposition it set.  It writes "ready" to
 * GW_READY_FD once its handler is in place, then waits (bounded by
 * alarm) for the signal and exits 0 from the handler's flag.  A second
 * thread, parked for good, makes it multithreaded like the servers it
 * stands for (gilwatch's helper, which answers `gilwatch dump`, starts
 * with a program's second thread).
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "sample.h"

static volatile sig_atomic_t got;

static void
on_quit(int sig)
{
	got = 1;
}

static void *
parked(void *arg)
{
	for (;;)
		pause();
	return NULL;
}

int
main(void)
{
	struct sigaction sa, now;
	sigset_t quit;
	pthread_t th;

	/* Before installing: the program must see the default, not ours. */
	sigaction(SIGQUIT, NULL, &now);
	if (now.sa_handler != SIG_DFL) {
		printf("FAIL disposition before: not SIG_DFL\n");
		return 1;
	}
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_quit;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGQUIT, &sa, NULL);
	sigaction(SIGQUIT, NULL, &now);
	if (now.sa_handler != on_quit) {
		printf("FAIL disposition after: not ours\n");
		return 1;
	}
	/* The parked thread must not be the one that takes SIGQUIT. */
	sigemptyset(&quit);
	sigaddset(&quit, SIGQUIT);
	pthread_sigmask(SIG_BLOCK, &quit, NULL);
	pthread_create(&th, NULL, parked, NULL);
	pthread_sigmask(SIG_UNBLOCK, &quit, NULL);
	sample_ready();
	alarm(20);
	while (!got)
		pause();
	printf("handled\n");
	return 0;
}
