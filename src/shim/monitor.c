/* The monitor process: see monitor.h. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mem.h"
#include "monitor.h"
#include "msg.h"
#include "share.h"

static pid_t	program;		/* in the monitor: whose it is */
static int	lifeline[2] = { -1, -1 };
static GW_SHARED atomic_int monitor_pid;	/* the program reads it */

pid_t
monitor_program(void)
{
	return program != 0 ? program : getpid();
}

int
monitor_is_me(void)
{
	return program != 0;
}

int
monitor_lifeline(void)
{
	return program != 0 ? lifeline[0] : -1;
}

pid_t
monitor_running(void)
{
	return atomic_load(&monitor_pid);
}

/*
 * The monitor keeps what it uses and nothing of the program's: an
 * inherited descriptor it held open would keep a pipe from its end of
 * file while the program, which closed it, runs on.  Standard error
 * stays, for its reports, as the helper thread's did.
 */
static void
close_others(const int *keep, int nkeep)
{
	int fd, i, max = (int)sysconf(_SC_OPEN_MAX);

	if (max < 0 || max > 65536)
		max = 65536;
	for (fd = 0; fd < max; fd++) {
		for (i = 0; i < nkeep && keep[i] != fd; i++)
			;
		if (i == nkeep && fd != STDERR_FILENO)
			close(fd);
	}
}

static void
monitor_main(pid_t of, void (*run)(void), const int *keep, int nkeep)
{
	int fd;

	program = of;
	close(lifeline[1]);
	lifeline[1] = -1;
	/* Its own session: no terminal's Ctrl-C or Ctrl-Z reaches it. */
	setsid();
	prctl(PR_SET_NAME, "gilwatch-mon", 0, 0, 0);
	close_others(keep, nkeep);
	/* Descriptors 0 and 1 taken by something harmless, not reused. */
	if ((fd = open("/dev/null", O_RDWR | O_CLOEXEC)) != -1 && fd > 1)
		close(fd);
	/* Its reads of "this process" are of the program (mem.h). */
	mem_source_pid(of);
	atomic_store(&monitor_pid, (int)getpid());
	run();
	_exit(0);
}

int
monitor_spawn(void (*run)(void), const int *keep, int nkeep)
{
	sigset_t all, old;
	pid_t of = getpid(), mid;
	int k[16], n, st = 0;

	if (!share_on())
		return -1;
	if (pipe2(lifeline, O_CLOEXEC) == -1)
		return -1;
	n = nkeep < 15 ? nkeep : 15;
	memcpy(k, keep, (size_t)n * sizeof *k);
	k[n++] = lifeline[0];
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	/*
	 * The middle process sends no SIGCHLD when it ends (a clone with
	 * no exit signal), so a program's handler never hears of it; the
	 * monitor it forks is orphaned at once.  The monitor keeps every
	 * signal blocked.
	 */
	mid = (pid_t)syscall(SYS_clone, 0UL, NULL, NULL, NULL, NULL);
	if (mid == 0) {
		pid_t m = _Fork();

		if (m == 0)
			monitor_main(of, run, k, n);
		_exit(m == -1 ? 1 : 0);
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	close(lifeline[0]);
	lifeline[0] = -1;
	if (mid == -1) {
		msg_note("cannot start the monitor process (%s): its helper "
		    "is a thread", strerror(errno));
		close(lifeline[1]);
		lifeline[1] = -1;
		return -1;
	}
	while (waitpid(mid, &st, __WCLONE) == -1 && errno == EINTR)
		;
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		msg_note("cannot start the monitor process: its helper is a "
		    "thread");
		close(lifeline[1]);
		lifeline[1] = -1;
		return -1;
	}
	return 0;
}

void
monitor_after_fork_child(void)
{
	if (lifeline[1] != -1)
		close(lifeline[1]);
	lifeline[0] = lifeline[1] = -1;
	atomic_store(&monitor_pid, 0);
}
