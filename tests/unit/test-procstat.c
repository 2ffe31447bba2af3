/* /proc/PID/stat reading (procstat.h). */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

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
