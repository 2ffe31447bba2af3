/* Shim settings from the environment: see config.h. */
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "gilwatch/snapshot.h"
#include "msg.h"
#include "monitor.h"

struct config config;

static const char *
env(const char *name)
{
	const char *v = getenv(name);

	return v != NULL && v[0] != '\0' ? v : NULL;
}

static void
bad(const char *name, const char *value, const char *errstr)
{
	msg_note("%s=%.100s is %s; using the default", name, value, errstr);
}

/* A file name setting: GILWATCH_name into buf, unless it does not fit. */
static void
file_name(const char *name, char *buf, size_t size)
{
	const char *v;

	if ((v = env(name)) == NULL)
		return;
	if (strlen(v) < size)
		strcpy(buf, v);
	else
		bad(name, v, "too long");
}

void
config_load(void)
{
	const char *v, *errstr;
	long long n;
	int sig;

	config.on_deadlock.action = OPTS_ACTION_REPORT;
	config.on_deadlock.status = OPTS_EXIT_DEFAULT;
	config.lock_order.action = OPTS_ACTION_REPORT;
	config.lock_order.status = OPTS_ORDER_EXIT_DEFAULT;
	config.lock_order_off = 0;
	config.stall_s = 0;
	config.on_stall.action = OPTS_ACTION_REPORT;
	config.on_stall.status = OPTS_STALL_EXIT_DEFAULT;
	config.loop_stall_ms = OPTS_LOOP_STALL_DEFAULT;
	config.dump_signal = SIGQUIT;
	config.sample_signal = SIGRTMAX - 2;
	config.format = GW_FORMAT_TEXT;
	config.lock_slots = LOCK_TABLE_DEFAULT;
	config.monitor = 1;
	config.stats = 1;
	config.blame = 1;
	config.report = 0;
	config.sort = OPTS_SORT_WAIT;
	config.top = 10;
	config.hold_warn_ms = 0;
	config.rt_budget_ms = 0;
	config.hold_sample = OPTS_HOLD_SAMPLE_DEFAULT;
	config.stack_timeout_ms = 200;
	config.output[0] = '\0';
	/* First: bad() below asks it.  Garbage is no pid: every process
	 * then speaks for itself, as without gilwatch run. */
	msg_set_run_pid(0);
	if ((v = env("GILWATCH_RUN_PID")) != NULL) {
		n = opts_number(v, 1, INT32_MAX, &errstr);
		if (errstr == NULL)
			msg_set_run_pid((long)n);
	}
	config.gil_profile[0] = '\0';
	config.trace[0] = '\0';
	config.trace_lock_wait_ms = TRACE_LOCK_WAIT_MS;
	config.trace_events = TRACE_EVENTS_DEFAULT;
	config.metrics[0] = '\0';
	config.metrics_interval_s = OPTS_METRICS_INTERVAL_DEFAULT;

	if ((v = env("GILWATCH_ON_DEADLOCK")) != NULL) {
		struct opts_deadlock od;

		if (opts_on_deadlock(v, &od, &errstr) == 0)
			config.on_deadlock = od;
		else
			bad("GILWATCH_ON_DEADLOCK", v, errstr);
	}
	if ((v = env("GILWATCH_LOCK_ORDER")) != NULL) {
		if (opts_lock_order(v, &config.lock_order_off,
		    &config.lock_order, &errstr) == -1)
			bad("GILWATCH_LOCK_ORDER", v, errstr);
	}
	if ((v = env("GILWATCH_STALL")) != NULL) {
		int secs = opts_stall(v, &errstr);

		if (secs >= 0)
			config.stall_s = secs;
		else
			bad("GILWATCH_STALL", v, errstr);
	}
	if ((v = env("GILWATCH_ON_STALL")) != NULL) {
		struct opts_deadlock od;

		if (opts_on_stall(v, &od, &errstr) == 0)
			config.on_stall = od;
		else
			bad("GILWATCH_ON_STALL", v, errstr);
	}
	if ((v = env("GILWATCH_LOOP_STALL")) != NULL) {
		int ms = opts_loop_stall(v, &errstr);

		if (ms >= 0)
			config.loop_stall_ms = ms;
		else
			bad("GILWATCH_LOOP_STALL", v, errstr);
	}
	if ((v = env("GILWATCH_SIGNAL")) != NULL) {
		sig = opts_signal(v, &errstr);
		if (sig >= 0)
			config.dump_signal = sig;
		else
			bad("GILWATCH_SIGNAL", v, errstr);
	}
	if ((v = env("GILWATCH_SAMPLE_SIGNAL")) != NULL) {
		sig = opts_signal(v, &errstr);
		if (sig >= 0)
			config.sample_signal = sig;
		else
			bad("GILWATCH_SAMPLE_SIGNAL", v, errstr);
	}
	if ((v = env("GILWATCH_FORMAT")) != NULL) {
		int f = opts_format(v, &errstr);

		if (f >= 0)
			config.format = f;
		else
			bad("GILWATCH_FORMAT", v, errstr);
	}
	if ((v = env("GILWATCH_LOCKS")) != NULL) {
		n = opts_number(v, 1024, 1ll << 30, &errstr);
		if (errstr == NULL)
			config.lock_slots = (size_t)n;
		else
			bad("GILWATCH_LOCKS", v, errstr);
	}
	if ((v = env("GILWATCH_MONITOR")) != NULL) {
		if (strcmp(v, "process") == 0 || strcmp(v, "thread") == 0)
			config.monitor = strcmp(v, "process") == 0;
		else
			bad("GILWATCH_MONITOR", v, "not process or thread");
	}
	if ((v = env("GILWATCH_STATS")) != NULL)
		config.stats = strcmp(v, "0") != 0;
	if ((v = env("GILWATCH_BLAME")) != NULL)
		config.blame = strcmp(v, "0") != 0;
	if ((v = env("GILWATCH_REPORT")) != NULL)
		config.report = strcmp(v, "0") != 0;
	if ((v = env("GILWATCH_SORT")) != NULL) {
		int k = opts_sort(v, &errstr);

		if (k >= 0)
			config.sort = k;
		else
			bad("GILWATCH_SORT", v, errstr);
	}
	if ((v = env("GILWATCH_TOP")) != NULL) {
		n = opts_number(v, 1, 1000000, &errstr);
		if (errstr == NULL)
			config.top = (int)n;
		else
			bad("GILWATCH_TOP", v, errstr);
	}
	if ((v = env("GILWATCH_HOLD_WARN")) != NULL) {
		n = opts_number(v, 1, 86400000, &errstr);
		if (errstr == NULL)
			config.hold_warn_ms = (double)n;
		else
			bad("GILWATCH_HOLD_WARN", v, errstr);
	}
	if ((v = env("GILWATCH_RT_BUDGET")) != NULL) {
		double ms = opts_millis(v, OPTS_RT_BUDGET_MAX, &errstr);

		if (errstr == NULL)
			config.rt_budget_ms = ms;
		else
			bad("GILWATCH_RT_BUDGET", v, errstr);
	}
	if ((v = env("GILWATCH_HOLD_SAMPLE")) != NULL) {
		n = opts_number(v, 1, OPTS_HOLD_SAMPLE_MAX, &errstr);
		if (errstr == NULL)
			config.hold_sample = (unsigned)n;
		else
			bad("GILWATCH_HOLD_SAMPLE", v, errstr);
	}
	file_name("GILWATCH_GIL_PROFILE", config.gil_profile, sizeof config.gil_profile);
	file_name("GILWATCH_TRACE", config.trace, sizeof config.trace);
	if ((v = env("GILWATCH_TRACE_LOCK_WAIT")) != NULL) {
		double ms = opts_millis(v, OPTS_RT_BUDGET_MAX, &errstr);

		if (errstr == NULL)
			config.trace_lock_wait_ms = ms;
		else
			bad("GILWATCH_TRACE_LOCK_WAIT", v, errstr);
	}
	if ((v = env("GILWATCH_TRACE_EVENTS")) != NULL) {
		n = opts_number(v, 16, 1 << 26, &errstr);
		if (errstr == NULL)
			config.trace_events = (unsigned)n;
		else
			bad("GILWATCH_TRACE_EVENTS", v, errstr);
	}
	file_name("GILWATCH_METRICS", config.metrics, sizeof config.metrics);
	if ((v = env("GILWATCH_METRICS_INTERVAL")) != NULL) {
		n = opts_number(v, 1, OPTS_METRICS_INTERVAL_MAX, &errstr);
		if (errstr == NULL)
			config.metrics_interval_s = (int)n;
		else
			bad("GILWATCH_METRICS_INTERVAL", v, errstr);
	}
	file_name("GILWATCH_OUTPUT", config.output, sizeof config.output);
}

void
config_expand(const char *pat, char *buf, size_t len)
{
	size_t o = 0;
	int n;

	for (; *pat != '\0' && o + 1 < len; pat++) {
		if (pat[0] == '%' && pat[1] == 'p') {
			n = snprintf(buf + o, len - o, "%d", (int)monitor_program());
			o += n > 0 ? (size_t)n : 0;
			pat++;
		} else if (pat[0] == '%' && pat[1] == '%') {
			buf[o++] = '%';
			pat++;
		} else
			buf[o++] = *pat;
	}
	buf[o < len ? o : len - 1] = '\0';
}

int
config_open_output(void)
{
	char path[600];
	int fd;

	if (config.output[0] == '\0')
		return dup(STDERR_FILENO);
	config_expand(config.output, path, sizeof path);
	fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (fd == -1) {
		msg_say("cannot open %s; writing to stderr", path);
		return dup(STDERR_FILENO);
	}
	return fd;
}
