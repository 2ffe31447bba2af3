/*
 * The trace's event array and file (trace.h): spans as exact
 * microseconds, the events past the array's size counted and not
 * kept, one file per process, none when there is nothing to show.
 * No thread is registered here: the file has only what is recorded.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "thread.h"
#include "trace.h"

static char path[64];

static char *
slurp(void)
{
	static char buf[65536];
	FILE *f = fopen(path, "r");
	size_t n;

	cr_assert_not_null(f, "%s was not written", path);
	n = fread(buf, 1, sizeof buf - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static void
setup(void)
{
	snprintf(path, sizeof path, "/tmp/gw-test-trace-%d.json",
	    (int)getpid());
	unlink(path);
}

static void
teardown(void)
{
	unlink(path);
}

Test(trace, kept_dropped_and_exact, .init = setup, .fini = teardown)
{
	struct thread t;
	uint64_t now = now_ns();
	char *s;
	int i;

	memset(&t, 0, sizeof t);
	atomic_store(&t.tid, 4242);
	trace_init(path, 1.0, 16);
	cr_assert(trace_on);
	trace_gil(&t, TRACE_GIL_WAIT, now, now + 2500, 4343, -1);
	trace_gil(&t, TRACE_GIL_HOLD, now + 2500, now + 1002500, 0, -1);
	trace_mark(TRACE_DEADLOCK, 0, 0, 0, 2);
	for (i = 0; i < 20; i++)	/* 13 fit, 7 do not */
		trace_gil(&t, TRACE_GIL_HOLD, now, now + 1, 0, -1);
	trace_write();
	s = slurp();
	cr_expect(strncmp(s, "{\"traceEvents\":[\n", 17) == 0, "%s", s);
	cr_expect(s[strlen(s) - 2] == '}', "%s", s);
	cr_expect_not_null(strstr(s, "\"name\":\"GIL wait\",\"cat\":\"gil\","
	    "\"ph\":\"X\",\"pid\":"), "%s", s);
	cr_expect_not_null(strstr(s, ",\"tid\":4242,"), "%s", s);
	cr_expect_not_null(strstr(s, "\"dur\":2.500,\"args\":{\"holder\":"
	    "4343}"), "%s", s);
	cr_expect_not_null(strstr(s, "\"dur\":1000.000,\"args\":"
	    "{\"contended\":false}"), "%s", s);
	cr_expect_not_null(strstr(s, "\"name\":\"deadlock\",\"cat\":"
	    "\"deadlock\",\"ph\":\"i\""), "%s", s);
	cr_expect_not_null(strstr(s, "\"s\":\"p\",\"args\":{\"threads\":2}"),
	    "%s", s);
	cr_expect_not_null(strstr(s, "\"events\":16,\"dropped\":7}"), "%s", s);

	/* Once per process: a second call leaves the file alone. */
	unlink(path);
	trace_write();
	cr_expect(access(path, F_OK) == -1);

	/* A fork child starts over: nothing recorded, no file. */
	trace_after_fork_child();
	trace_write();
	cr_expect(access(path, F_OK) == -1);
}
