/* The helper thread, the dump signal and the control socket: see dump.h. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "config.h"
#include "deadlock.h"
#include "procstat.h"
#include "stall.h"
#include "loopstall.h"
#include "gil.h"
#include "py.h"
#include "dump.h"
#include "futex.h"
#include "ipc.h"
#include "metrics.h"
#include "monitor.h"
#include "msg.h"
#include "opts.h"
#include "mem.h"
#include "publish.h"
#include "out.h"
#include "real.h"
#include "report.h"
#include "sigdump.h"
#include "share.h"
#include "sigown.h"
#include "stack.h"
#include "thread.h"
#include "ulock.h"

#define SCAN_INTERVAL_MS	1000	/* the deadlock safety net */
#define REQUEST_TIMEOUT_MS	2000	/* for the client's request line */

static int wake[2] = { -1, -1 };	/* signal handler -> helper */
static int listen_fd = -1;
static char sock_path[IPC_PATH_MAX];
static pid_t sock_pid;
static atomic_int helper_started;	/* see dump_need_helper */
static atomic_int helper_running;	/* between its start and its end */
static pthread_t helper_thread;
static atomic_int helper_joinable;	/* created, not yet joined */
static int helper_paused;		/* it stepped out for this fork */
atomic_int dump_helper_resume;		/* and starts again: dump_resume */
/* dump_on_helper: what to run, and a count of jobs run, which the
 * caller waits on (a futex: the helper may be the monitor process). */
static GW_SHARED void (*_Atomic job)(void);
static GW_SHARED atomic_uint jobs_done;
static int in_monitor;		/* the helper is the monitor process */

/* dump_end_program: 0, or how the monitor asks the program to end:
 * the exit status + 1, or ENDING_ABORT. */
#define ENDING_ABORT	1000
#define END_WAIT_MS	1000	/* for the program to end so */
static GW_SHARED atomic_int ending;

/*
 * Async-signal-safe: one write to a non-blocking pipe when the helper
 * runs; without it (a single-threaded program, or a helper stepped out
 * for a fork) the handler writes what it safely can itself (sigdump.h).
 */
static void
on_dump_signal(int signo, siginfo_t *si, void *uc)
{
	int saved = errno;
	int end = atomic_load(&ending);

	if (end == ENDING_ABORT)
		abort();
	if (end > 0)
		real_exit(end - 1);
	if (atomic_load(&helper_started) && wake[1] != -1)
		(void)!write(wake[1], "d", 1);
	else
		sigdump_write(signo, uc);
	errno = saved;
}

static void
dump_signal_aside(int signo)
{
	msg_note("the program handles signal %d itself: no dump on that "
	    "signal; gilwatch dump %d still works, or choose another with "
	    "gilwatch run --signal=SIG", signo, (int)getpid());
}

static int
peer_allowed(int fd)
{
	struct ucred cred;
	socklen_t len = sizeof cred;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == -1)
		return 0;
	return cred.uid == geteuid() || cred.uid == 0;
}

/*
 * "locks FORMAT SORT TOP": the statistics table, e.g. "locks json
 * wait 10".  Missing words take the process's own settings.
 */
static void
answer_locks(int fd, const char *args)
{
	char fmt[16] = "", sort[16] = "";
	const char *errstr;
	struct out o;
	int top = config.top, k = config.sort;

	if (!config.stats) {
		dprintf(fd, "error: statistics are off in this process "
		    "(GILWATCH_STATS=0)\n");
		return;
	}
	sscanf(args, "%15s %15s %d", fmt, sort, &top);
	if (sort[0] != '\0' && strcmp(sort, "-") != 0 &&
	    (k = opts_sort(sort, &errstr)) < 0) {
		dprintf(fd, "error: sort %s: %s\n", sort, errstr);
		return;
	}
	out_init(&o);
	report_locks(&o, strcmp(fmt, "json") == 0 ? GW_FORMAT_JSON :
	    GW_FORMAT_TEXT, k, top > 0 ? top : config.top);
	out_write(&o, fd);
	out_free(&o);
}

static void
answer_gil(int fd, enum gw_format fmt)
{
	struct out o;

	out_init(&o);
	report_gil(&o, fmt);
	out_write(&o, fd);
	out_free(&o);
}

static void
answer(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	char req[64];
	ssize_t n = 0, r;

	while (n < (ssize_t)sizeof req - 1 && memchr(req, '\n', (size_t)n) ==
	    NULL) {
		if (poll(&p, 1, REQUEST_TIMEOUT_MS) <= 0)
			return;
		r = read(fd, req + n, sizeof req - 1 - (size_t)n);
		if (r <= 0)
			return;
		n += r;
	}
	req[n] = '\0';
	if (strncmp(req, "dump ", 5) == 0)
		monitor_reserve(thread_count());
	if (strncmp(req, "dump json", 9) == 0)
		report_dump(GW_REASON_REQUEST, fd, GW_FORMAT_JSON);
	else if (strncmp(req, "dump text", 9) == 0)
		report_dump(GW_REASON_REQUEST, fd, GW_FORMAT_TEXT);
	else if (strncmp(req, "locks ", 6) == 0)
		answer_locks(fd, req + 6);
	else if (strcmp(req, "reset\n") == 0) {
		publish_reset();
		dprintf(fd, "ok\n");
	} else if (strcmp(req, "watch\n") == 0) {
		publish_watch();
		dprintf(fd, "ok\n");
	} else if (strncmp(req, "gil ", 4) == 0)
		answer_gil(fd, strncmp(req + 4, "json", 4) == 0 ?
		    GW_FORMAT_JSON : GW_FORMAT_TEXT);
	else
		dprintf(fd, "error: unknown request\n");
}

static void
accept_one(void)
{
	int fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);

	if (fd == -1)
		return;
	if (peer_allowed(fd))
		answer(fd);
	close(fd);
}

static void
run_job(void)
{
	void (*fn)(void) = atomic_exchange(&job, NULL);

	if (fn != NULL)
		fn();
	atomic_fetch_add(&jobs_done, 1);
	futex_wake_all(&jobs_done);
}

/*
 * Read what the wake pipe holds: 'd' asks for a dump, 'q' to quit,
 * 'p' to step out for a fork (dump_fork_prepare), 'x' to run the job of
 * dump_on_helper.
 */
static void
drain(int fd, int *dump, int *quit, int *pause)
{
	char buf[64];
	ssize_t n, i;

	while ((n = read(fd, buf, sizeof buf)) > 0)
		for (i = 0; i < n; i++) {
			if (buf[i] == 'q')
				*quit = 1;
			else if (buf[i] == 'p')
				*pause = 1;
			else if (buf[i] == 'x')
				run_job();
			else
				*dump = 1;
		}
}

int
dump_on_helper(void (*fn)(void), int timeout_ms)
{
	struct timespec until;
	unsigned gen;

	if (!atomic_load(&helper_running) || wake[1] == -1 ||
	    monitor_is_me() ||
	    (!in_monitor && pthread_equal(pthread_self(), helper_thread)))
		return -1;
	gen = atomic_load(&jobs_done);
	atomic_store(&job, fn);
	if (write(wake[1], "x", 1) != 1) {
		atomic_store(&job, NULL);
		return -1;
	}
	deadline_after(&until, timeout_ms);
	futex_await_change(&jobs_done, gen, &until);
	/* A monitor that is gone did not run it: the caller does. */
	if (atomic_load(&jobs_done) == gen && in_monitor &&
	    ulock_owner_gone(monitor_running()))
		return -1;
	return 0;
}

int
dump_monitor_runs(void)
{
	return in_monitor;
}

_Noreturn void
dump_end_program(int abort_it, int status)
{
	struct pollfd p = { .fd = monitor_lifeline(), .events = POLLIN };
	pid_t pid = monitor_program();

	atomic_store(&ending, abort_it ? ENDING_ABORT : status + 1);
	/*
	 * The dump signal's handler is ours when it was claimed, and ends
	 * the program as asked; else, or if the signal is blocked where it
	 * lands, the kernel ends it, with another status.
	 */
	if (config.dump_signal > 0 && sigown_owns(config.dump_signal) &&
	    kill(pid, config.dump_signal) == 0 &&
	    poll(&p, 1, END_WAIT_MS) == 1)
		_exit(0);
	kill(pid, abort_it ? SIGABRT : SIGKILL);
	_exit(0);
}

/* The periodic look for deadlocks and stalls; what it finds is reported. */
static void
scan(void)
{
	struct thread *from = NULL;
	struct wf_frame *cycle;
	int n;

	while ((n = deadlock_scan(&from, &cycle)) > 0)
		report_deadlock(cycle, n);
	if (stall_scan())
		report_stall(config.stall_s);
	loopstall_scan(now_ns());
	loopstall_cycles(now_ns());
}

static void
socket_close(void)
{
	if (listen_fd == -1)
		return;
	if (sock_pid == monitor_program())
		unlink(sock_path);
	close(listen_fd);
	listen_fd = -1;
}

/*
 * The lifeline closes as the program exits, a moment before the kernel
 * makes it a zombie; an exec closes it too, and the program lives on.
 */
static int
program_ended(void)
{
	int i;

	for (i = 0; i < 50; i++) {
		if (ulock_owner_gone(monitor_program()))
			return 1;
		poll(NULL, 0, 4);
	}
	return 0;
}

/* The socket `gilwatch dump PID` asks, named by the program's pid. */
static void
socket_open(void)
{
	pid_t pid = monitor_program();

	/* After a pause the socket is still there. */
	if (listen_fd != -1 && sock_pid == pid)
		return;
	listen_fd = ipc_listen(pid, sock_path, sizeof sock_path);
	if (listen_fd == -1)
		msg_note("no control socket (%s): gilwatch dump will not "
		    "reach pid %d", strerror(errno), (int)pid);
	else
		sock_pid = pid;
}

/*
 * The helper's work, on a thread of the program or in the monitor
 * process: until asked to quit or pause, or (the monitor) until the
 * program is gone.
 */
static void
helper_loop(void)
{
	struct pollfd p[3];
	uint64_t last_scan = 0, now;
	int wait_ms, next, dump, quit = 0, pause = 0, np, orphaned = 0;

	publish_start();
	next = publish_update();
	wait_ms = next < SCAN_INTERVAL_MS ? next : SCAN_INTERVAL_MS;
	if ((next = metrics_tick(now_ns())) < wait_ms)
		wait_ms = next;
	p[0].fd = wake[0];
	p[0].events = POLLIN;
	p[1].fd = monitor_lifeline();
	p[1].events = POLLIN;
	p[2].fd = listen_fd;
	p[2].events = POLLIN;
	np = listen_fd == -1 ? 2 : 3;
	while (!quit && !pause) {
		p[0].revents = p[1].revents = p[2].revents = 0;
		dump = 0;
		if (poll(p, (nfds_t)np, wait_ms) > 0) {
			/* The program ended or exec'd: nothing left to watch. */
			if (p[1].revents != 0)
				quit = orphaned = 1;
			if (p[0].revents & POLLIN)
				drain(wake[0], &dump, &quit, &pause);
			if (dump) {
				report_dump(GW_REASON_SIGNAL, -1, config.format);
				if (config.stats)
					report_locks_to_output(0);
				report_gil_to_output();
			}
			if (p[2].revents & POLLIN)
				accept_one();
		}
		now = now_ns();
		if (now - last_scan >= SCAN_INTERVAL_MS * 1000000ull) {
			/* A helper thread left alone: the program's threads
			 * ended without one gilwatch knew of (dump_quit). */
			if (!monitor_is_me() &&
			    procstat_live_threads(getpid()) == 1)
				quit = 1;
			scan();
			last_scan = now;
		}
		next = publish_update();
		wait_ms = next < SCAN_INTERVAL_MS ? next : SCAN_INTERVAL_MS;
		if ((next = metrics_tick(now)) < wait_ms)
			wait_ms = next;
	}
	atomic_store(&helper_running, 0);
	/*
	 * A pause keeps the publication for the next one, but not the
	 * socket: nobody would answer on it, and gilwatch dump reads a
	 * process without one from outside.
	 */
	if (orphaned && !program_ended())
		;	/* an exec: the socket and the file are its new image's */
	else if (!pause)
		dump_stop();
	else
		socket_close();
}

static void *
helper_main(void *arg)
{
	(void)arg;
	thread_set_internal();
	helper_thread = pthread_self();
	atomic_store(&helper_running, 1);
	socket_open();
	helper_loop();
	return NULL;
}

/* The monitor process's life (monitor.h): the helper's, then _exit. */
static void
monitor_body(void)
{
	thread_set_internal();
	/* The same parked threads, dump after dump (stack.h). */
	stack_keep_answers(1);
	socket_open();
	helper_loop();
}

/*
 * The program's last thread gilwatch knows is ending.  The kernel ends
 * the process when its last thread exits, and a helper thread counts as
 * one: it leaves, so the process ends as it would without us (a child
 * forked from a thread other than main ends that way), unless the
 * kernel counts threads besides these two, which have made no call
 * gilwatch sees yet (a main thread's pthread_exit may come before its
 * threads' first).  The helper looks for itself once a second whether
 * it is alone (helper_loop).  A monitor process keeps nothing alive:
 * its lifeline tells it when the process ends.
 */
void
dump_quit(void)
{
	if (!in_monitor && wake[1] != -1 &&
	    procstat_live_threads(getpid()) <= 2)
		(void)!write(wake[1], "q", 1);
}

/* CPython 3.12 and later: os.fork() warns when it counts two threads. */
static int
fork_counts_threads(void)
{
	const struct py_runtime *rt = gil_runtime();

	return rt != NULL && (rt->major > 3 || (rt->major == 3 &&
	    rt->minor >= 12));
}

/*
 * The monitor process when the tables are shared: the one forked at
 * start-up, or one forked now if the program has one thread (a fork is
 * safe to take only then); else a thread.
 */
static int
start_helper(void)
{
	sigset_t all, old;
	int rc;

	if (share_on() && (monitor_waiting() ||
	    procstat_threads(getpid()) == 1)) {
		int keep[1] = { wake[0] };

		/* Its reads of "this process" are the program's (mem.h). */
		(void)mem_source_target();
		if (monitor_spawn(monitor_body, keep, 1) == 0) {
			in_monitor = 1;
			atomic_store(&helper_running, 1);
			return 0;
		}
	}
	socket_open();
	/* The helper inherits this mask: it takes none of the
	 * program's signals. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	/* Joinable: a fork may have to wait for it to leave. */
	rc = real.create(&helper_thread, NULL, helper_main, NULL);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		msg_say("cannot start the helper thread: %s", strerror(rc));
		return -1;
	}
	atomic_store(&helper_joinable, 1);
	return 0;
}

/* Forked while the program is small, from its only thread. */
void
dump_prefork(void)
{
	int keep[1] = { wake[0] };

	if (!share_on() || wake[0] == -1 || atomic_load(&helper_started) ||
	    procstat_threads(getpid()) != 1)
		return;
	(void)mem_source_target();
	monitor_prefork(monitor_body, keep, 1);
}

/* Start the helper now if it is not running. */
void
dump_need_helper(void)
{
	int expect = 0;

	/*
	 * Called at every epoll_wait of a loop (hook-select.c): once the
	 * helper runs, a load and nothing written.  A resume left pending
	 * is cleared by the next dump_resume, which comes back here.
	 */
	if (atomic_load_explicit(&helper_started, memory_order_relaxed))
		return;
	atomic_store_explicit(&dump_helper_resume, 0, memory_order_relaxed);
	if (!atomic_compare_exchange_strong(&helper_started, &expect, 1))
		return;
	start_helper();
}

/* From a mutex hook, which leaves errno as it found it. */
void
dump_resume(void)
{
	int saved = errno;

	if (atomic_exchange(&dump_helper_resume, 0))
		dump_need_helper();
	errno = saved;
}

/*
 * os.fork() in CPython 3.12 and later counts the process's threads in
 * /proc and warns when there is more than one: the helper would make a
 * single-threaded program warn (or fail, under -W error).  So before
 * such a fork the helper leaves, and it is gone from the kernel's count
 * before the fork starts.  It comes back at the parent's next mutex
 * lock (dump_resume), which comes after the count: CPython takes none
 * between the fork and its warning, and drops the GIL, with a mutex
 * lock, at the next blocking call.  A helper that does not leave within
 * a second (deep in a dump) stays, and the fork warns.
 */
void
dump_fork_prepare(void)
{
	struct timespec until;
	int spins;

	helper_paused = 0;
	/* A process is not counted: the monitor needs no pause. */
	if (in_monitor)
		return;
	/* Joinable, not running: a helper started just now counts too. */
	if (!fork_counts_threads() || !atomic_load(&helper_joinable) ||
	    procstat_threads(getpid()) != 2 || wake[1] == -1 ||
	    write(wake[1], "p", 1) != 1)
		return;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 1;
	if (pthread_timedjoin_np(helper_thread, NULL, &until) != 0)
		return;
	atomic_store(&helper_joinable, 0);
	/* Joined is not yet uncounted: the kernel releases it just after. */
	for (spins = 0; procstat_threads(getpid()) > 1 && spins < 100000; spins++)
		sched_yield();
	atomic_store(&helper_started, 0);
	helper_paused = 1;
}

void
dump_fork_parent(void)
{
	if (helper_paused)
		atomic_store(&dump_helper_resume, 1);
	helper_paused = 0;
}

/*
 * Take the dump signal, whatever the program inherited short of a
 * handler, or say once why kill gives no dump and what still does.
 * Blocked now (an inherited mask) says no more than now: the program
 * may unblock it later.
 */
static void
claim_dump_signal(int signo)
{
	sigset_t now;

	if (sigown_claim(signo, on_dump_signal, dump_signal_aside) == -1)
		msg_note("signal %d already has a handler (another preload?): "
		    "no dump on it; gilwatch dump %d still works, or choose "
		    "another with gilwatch run --signal=SIG", signo,
		    (int)getpid());
	else if (pthread_sigmask(SIG_BLOCK, NULL, &now) == 0 &&
	    sigismember(&now, signo) == 1)
		msg_note("signal %d is blocked in the program: no dump on it "
		    "while it is; gilwatch dump %d still works, or choose "
		    "another with gilwatch run --signal=SIG", signo,
		    (int)getpid());
}

int
dump_start(void)
{
	if (pipe2(wake, O_CLOEXEC | O_NONBLOCK) == -1)
		return -1;
	sigdump_prepare();
	if (config.dump_signal > 0)
		claim_dump_signal(config.dump_signal);
	/*
	 * Asked for work on a clock (--stall, --metrics): that is the
	 * helper's, so a single-threaded program has it from the start.
	 */
	if (config.stall_s > 0 || config.metrics[0] != '\0')
		dump_need_helper();
	return 0;
}

void
dump_after_fork_child(void)
{
	if (listen_fd != -1)
		close(listen_fd);
	listen_fd = -1;
	close(wake[0]);
	close(wake[1]);
	if (pipe2(wake, O_CLOEXEC | O_NONBLOCK) == -1)
		wake[0] = wake[1] = -1;
	/*
	 * The child has one thread: no helper until it starts another
	 * (a multiprocessing worker is dumped by its own pid, from
	 * outside until then).
	 */
	sigdump_prepare();
	atomic_store(&helper_started, 0);
	atomic_store(&helper_running, 0);
	atomic_store(&helper_joinable, 0);
	atomic_store(&dump_helper_resume, 0);
	helper_paused = 0;
	atomic_store(&job, NULL);
	in_monitor = 0;
	monitor_after_fork_child();
}

void
dump_stop(void)
{
	publish_stop();
	if (listen_fd != -1 && sock_pid == monitor_program())
		unlink(sock_path);
}
