/* /proc/PID/stat reading (procstat.h). */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "mem.h"
#include "procstat.h"

/* The count /proc/self/status gives, to compare with. */
static int
status_threads(void)
{
	char line[256];
	FILE *fp = fopen("/proc/self/status", "r");
	int n = -1;

	cr_assert_not_null(fp);
	while (fgets(line, sizeof line, fp) != NULL)
		if (strncmp(line, "Threads:", 8) == 0)
			n = atoi(line + 8);
	fclose(fp);
	return n;
}

static pthread_barrier_t both_counted;

static void *
park(void *arg)
{
	pthread_barrier_wait(&both_counted);
	return NULL;
}

Test(procstat, threads_as_the_kernel_counts_them)
{
	pthread_t t;
	int before = procstat_threads(getpid());

	cr_expect_eq(before, status_threads());
	pthread_barrier_init(&both_counted, NULL, 2);
	cr_assert_eq(pthread_create(&t, NULL, park, NULL), 0);
	cr_expect_eq(procstat_threads(getpid()), before + 1);
	pthread_barrier_wait(&both_counted);
	pthread_join(t, NULL);
}

Test(procstat, fields_after_the_command)
{
	char buf[1024];
	const char *p = procstat_read(getpid(), buf, sizeof buf);

	cr_assert_not_null(p);
	cr_expect(strchr("RSDTtXZPI", *p) != NULL, "state %c", *p);
	/* Field 1 is our pid, before the command. */
	cr_expect_eq(atoi(buf), getpid());
	cr_expect_null(procstat_field(p, 1000));
}

Test(procstat, field_positions)
{
	const char *fields = "S 1 2 3";

	cr_expect_str_eq(procstat_field(fields, 3), "S 1 2 3");
	cr_expect_str_eq(procstat_field(fields, 5), "2 3");
	cr_expect_null(procstat_field(fields, 7));
}

Test(procstat, a_command_with_spaces_and_parentheses)
{
	char buf[1024];
	const char *p;

	/* Only the leader's name is in /proc/PID/stat. */
	if (getpid() != gettid())
		cr_skip_test("not on the process's first thread");
	cr_assert_eq(prctl(PR_SET_NAME, "a) b) (c"), 0);
	p = procstat_read(getpid(), buf, sizeof buf);
	cr_assert_not_null(p);
	cr_expect(strstr(buf, "(a) b) (c)") != NULL, "%s", buf);
	cr_expect(strchr("RSDTtXZPI", *p) != NULL, "state %c", *p);
	cr_expect_eq(procstat_threads(getpid()), status_threads());
}

Test(procstat, no_such_process)
{
	char buf[64];

	cr_expect_null(procstat_read(-1, buf, sizeof buf));
	cr_expect_eq(procstat_threads(-1), -1);
}

/*
 * A process that started a moment ago started, on the real-time clock,
 * between a minute ago and now (the test's own process; its start time
 * has a clock tick's precision).
 */
Test(procstat, start_time_on_the_real_time_clock)
{
	char buf[1024];
	const char *f, *start;
	uint64_t ticks, at, now;
	long hz = sysconf(_SC_CLK_TCK);

	cr_assert_not_null(f = procstat_read(getpid(), buf, sizeof buf));
	cr_assert_not_null(start = procstat_field(f, 22));
	ticks = strtoull(start, NULL, 10);
	at = procstat_start_real_ns(ticks);
	now = procstat_clock_ns(CLOCK_REALTIME);
	cr_assert_leq(at, now + 1000000000ull / (uint64_t)hz);
	cr_assert_geq(at, now - 60000000000ull);
	/* A second's worth of ticks later: a second later. */
	cr_assert_geq(procstat_start_real_ns(ticks + (uint64_t)hz) - at,
	    900000000ull);
}

/* --- a process whose main thread has ended ------------------------------ */

static int ended_pipe[2], hold_pipe[2];
static long marker;		/* set before the fork: the child's copy */

/* In the child: say its own tid, then wait until the parent is done. */
static void *
outlive_main(void *arg)
{
	pid_t tid = gettid();
	char c;

	(void)!write(ended_pipe[1], &tid, sizeof tid);
	(void)!read(hold_pipe[0], &c, 1);	/* until the parent ends it */
	_exit(0);
}

Test(procstat, a_main_thread_that_ended_is_read_through_another)
{
	struct timespec ms = { 0, 1000000 };
	char buf[256], line[512];
	const char *state = NULL;
	pid_t child, tid = 0;
	pthread_t t;
	long seen = 0;
	int i, rc;

	cr_assert_eq(procstat_live_task(getpid()), getpid());
	cr_assert_eq(procstat_live_task(999999999), 999999999);
	cr_assert_eq(pipe(ended_pipe), 0);
	cr_assert_eq(pipe(hold_pipe), 0);
	marker = 0x5eed;
	if ((child = fork()) == 0) {
		if (pthread_create(&t, NULL, outlive_main, NULL) != 0)
			_exit(1);
		pthread_exit(NULL);
	}
	cr_assert_gt(child, 0);
	cr_assert_eq(read(ended_pipe[0], &tid, sizeof tid), sizeof tid);
	/* Bounded: the main thread ends right after the create. */
	for (i = 0; i < 5000; i++) {
		state = procstat_read(child, line, sizeof line);
		if (state != NULL && *state == 'Z')
			break;
		nanosleep(&ms, NULL);
	}
	cr_assert(state != NULL && *state == 'Z', "the main thread ran on");
	cr_expect_eq(procstat_live_task(child), tid);
	cr_expect_eq(procstat_cmdline(child, buf, sizeof buf), 0,
	    "the command line, read through the thread that runs");
	marker = 0;
	mem_source_pid(child);
	rc = mem_read((uintptr_t)&marker, &seen, sizeof seen);
	mem_source_self();
	cr_expect_eq(rc, 0, "the memory, read through the thread that runs");
	cr_expect_eq(seen, 0x5eed);
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
}
