/*
 * gilwatch run: start a program with the shim preloaded.
 *
 * run only translates its options into the environment the shim reads and
 * then becomes the program with exec, so the program keeps our pid, its
 * exit status is the one the caller sees, and no gilwatch process stays
 * behind to forward signals.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "args.h"
#include "cli.h"
#include "opts.h"

static int	cmd_run_exec(int, char **);

const struct cmd_entry cmd_run_entry = {
	.name = "run",
	.usage = "[--on-deadlock=report|exit[:N]|abort] "
	    "[--lock-order=off|report|exit[:N]|abort] "
	    "[--stall=SECONDS|off] [--on-stall=report|exit[:N]|abort] "
	    "[--loop-stall=MS|off] "
	    "[--signal=SIG|none] "
	    "[--output=FILE] [--format=text|json] [--no-report] "
	    "[--sort=wait|hold|contended|acquired] [--top=N] "
	    "[--hold-warn=MS] [--hold-sample=N] [--rt-budget=MS] [--no-blame] "
	    "[--gil-profile=FILE] [--trace=FILE] [--trace-lock-wait=MS] "
	    "[--metrics=FILE] [--metrics-interval=S] "
	    "[--] CMD [ARG ...]",
	.summary = "Run CMD with lock tracking, deadlock detection and "
	    "thread dumps.",
	.exec = cmd_run_exec,
};

/* The environment for the shim; empty where the shim's default applies. */
struct cmd_run_env {
	char		 on_deadlock[OPTS_ON_DEADLOCK_MAX];
	char		 lock_order[OPTS_ON_DEADLOCK_MAX];
	const char	*stall;
	char		 on_stall[OPTS_ON_DEADLOCK_MAX];
	const char	*loop_stall;
	char		 signal[16];
	const char	*output;
	const char	*format;
	const char	*report;	/* "1" unless --no-report */
	const char	*sort;
	const char	*top;
	const char	*hold_warn;
	const char	*hold_sample;
	const char	*rt_budget;
	const char	*blame;		/* "0" with --no-blame */
	const char	*gil_profile;
	const char	*trace;
	const char	*trace_lock_wait;
	const char	*metrics;
	const char	*metrics_interval;
};

static const struct option cmd_run_options[] = {
	{ "on-deadlock",	required_argument,	NULL, 'd' },
	{ "lock-order",		required_argument,	NULL, 'l' },
	{ "stall",		required_argument,	NULL, 'T' },
	{ "on-stall",		required_argument,	NULL, 'O' },
	{ "loop-stall",		required_argument,	NULL, 'L' },
	{ "signal",		required_argument,	NULL, 's' },
	{ "output",		required_argument,	NULL, 'o' },
	{ "format",		required_argument,	NULL, 'f' },
	{ "report",		no_argument,		NULL, 'r' },
	{ "no-report",		no_argument,		NULL, 'R' },
	{ "sort",		required_argument,	NULL, 'S' },
	{ "top",		required_argument,	NULL, 't' },
	{ "hold-warn",		required_argument,	NULL, 'w' },
	{ "hold-sample",	required_argument,	NULL, 'H' },
	{ "rt-budget",		required_argument,	NULL, 'B' },
	{ "no-blame",		no_argument,		NULL, 'b' },
	{ "gil-profile",	required_argument,	NULL, 'P' },
	{ "trace",		required_argument,	NULL, 'X' },
	{ "trace-lock-wait",	required_argument,	NULL, 'W' },
	{ "metrics",		required_argument,	NULL, 'M' },
	{ "metrics-interval",	required_argument,	NULL, 'I' },
	{ "help",		no_argument,		NULL, 'h' },
	{ NULL,			0,			NULL, 0 }
};

/* Options stop at CMD: what follows it is CMD's own. */
static const struct args_spec cmd_run_args = {
	.cmd = "run",
	.shortopts = "h",
	.longopts = cmd_run_options,
	.in_order = 1,
};

/*
 * Check one option's value and store it as the shim wants it.  Returns
 * NULL, or why the value is wrong.
 */
static const char *
cmd_run_option(int opt, const char *arg, struct cmd_run_env *env)
{
	struct opts_deadlock od;
	const char *errstr = NULL;
	int signo, off;

	switch (opt) {
	case 'd':
		if (opts_on_deadlock(arg, &od, &errstr) == 0)
			opts_on_deadlock_string(&od, env->on_deadlock,
			    sizeof env->on_deadlock);
		break;
	case 'l':
		if (opts_lock_order(arg, &off, &od, &errstr) == -1)
			break;
		if (off)
			strcpy(env->lock_order, "off");
		else
			opts_on_deadlock_string(&od, env->lock_order,
			    sizeof env->lock_order);
		break;
	case 'T':
		if (opts_stall(arg, &errstr) != -1)
			env->stall = arg;
		break;
	case 'O':
		if (opts_on_stall(arg, &od, &errstr) == 0)
			opts_on_deadlock_string(&od, env->on_stall,
			    sizeof env->on_stall);
		break;
	case 'L':
		if (opts_loop_stall(arg, &errstr) != -1)
			env->loop_stall = arg;
		break;
	case 's':
		if ((signo = opts_signal(arg, &errstr)) == 0)
			strcpy(env->signal, "none");
		else if (signo > 0)
			snprintf(env->signal, sizeof env->signal, "%d", signo);
		break;
	case 'o':
		if (*arg == '\0')
			errstr = "empty file name";
		else
			env->output = arg;
		break;
	case 'f':
		if (opts_format(arg, &errstr) != -1)
			env->format = arg;
		break;
	case 'r':
		env->report = "1";
		break;
	case 'R':
		env->report = "0";
		break;
	case 'S':
		if (opts_sort(arg, &errstr) != -1)
			env->sort = arg;
		break;
	case 't':
		opts_number(arg, 1, 1000000, &errstr);
		if (errstr == NULL)
			env->top = arg;
		break;
	case 'w':
		opts_number(arg, 1, 86400000, &errstr);
		if (errstr == NULL)
			env->hold_warn = arg;
		break;
	case 'H':
		opts_number(arg, 1, OPTS_HOLD_SAMPLE_MAX, &errstr);
		if (errstr == NULL)
			env->hold_sample = arg;
		break;
	case 'B':
		opts_millis(arg, OPTS_RT_BUDGET_MAX, &errstr);
		if (errstr == NULL)
			env->rt_budget = arg;
		break;
	case 'b':
		env->blame = "0";
		break;
	case 'P':
		if (*arg == '\0')
			errstr = "empty file name";
		else
			env->gil_profile = arg;
		break;
	case 'X':
		if (*arg == '\0')
			errstr = "empty file name";
		else
			env->trace = arg;
		break;
	case 'W':
		opts_millis(arg, OPTS_RT_BUDGET_MAX, &errstr);
		if (errstr == NULL)
			env->trace_lock_wait = arg;
		break;
	case 'M':
		if (*arg == '\0')
			errstr = "empty file name";
		else
			env->metrics = arg;
		break;
	case 'I':
		opts_number(arg, 1, OPTS_METRICS_INTERVAL_MAX, &errstr);
		if (errstr == NULL)
			env->metrics_interval = arg;
		break;
	}
	return errstr;
}

static int
cmd_run_setenv(const char *name, const char *value)
{
	if (value == NULL || *value == '\0')
		return 0;
	if (setenv(name, value, 1) == 0)
		return 0;
	cli_error("setenv %s: %s", name, strerror(errno));
	return -1;
}

/* Put the shim first in LD_PRELOAD. */
static int
cmd_run_preload(void)
{
	char lib[PATH_MAX], *value;
	int rv;

	if (shimpath_find(lib, sizeof lib) == -1)
		return -1;
	if ((value = opts_preload(lib, getenv("LD_PRELOAD"))) == NULL) {
		if (errno == EINVAL)
			cli_error("%s: LD_PRELOAD cannot hold a path with a "
			    "space or ':'", lib);
		else
			cli_error("LD_PRELOAD: %s", strerror(errno));
		return -1;
	}
	rv = cmd_run_setenv("LD_PRELOAD", value);
	free(value);
	return rv;
}

static int
cmd_run_exec(int argc, char **argv)
{
	struct cmd_run_env env;
	const char *errstr;
	char pid[16];
	int opt, idx, err;

	memset(&env, 0, sizeof env);
	env.report = "1";
	optind = 0;
	while ((opt = args_next(&cmd_run_args, argc, argv, &idx)) != -1) {
		switch (opt) {
		case ARGS_ERROR:
			return CLI_EXIT_USAGE;
		case 'h':
			printf("%s\n", cmd_run_entry.summary);
			cmd_help_usage(stdout, &cmd_run_entry);
			return CLI_EXIT_OK;
		}
		if ((errstr = cmd_run_option(opt, optarg, &env)) != NULL)
			return cli_usage_error(&cmd_run_entry, "--%s=%s: %s",
			    cmd_run_options[idx].name, optarg, errstr);
	}
	if (optind == argc)
		return cli_usage_error(&cmd_run_entry, "no command to run");
	/* --on-stall alone asks for stalls: after the default time. */
	if (env.on_stall[0] != '\0' && env.stall == NULL)
		env.stall = OPTS_STALL_DEFAULT_TEXT;

	/*
	 * exec keeps the pid: the shim knows by it the process we start
	 * (and what it execs) from its children, which inherit the same
	 * environment, and says the notes every process would repeat only
	 * there (msg_note).
	 */
	snprintf(pid, sizeof pid, "%d", (int)getpid());
	if (cmd_run_preload() == -1 ||
	    cmd_run_setenv("GILWATCH_RUN_PID", pid) == -1 ||
	    cmd_run_setenv("GILWATCH_ON_DEADLOCK", env.on_deadlock) == -1 ||
	    cmd_run_setenv("GILWATCH_LOCK_ORDER", env.lock_order) == -1 ||
	    cmd_run_setenv("GILWATCH_STALL", env.stall) == -1 ||
	    cmd_run_setenv("GILWATCH_ON_STALL", env.on_stall) == -1 ||
	    cmd_run_setenv("GILWATCH_LOOP_STALL", env.loop_stall) == -1 ||
	    cmd_run_setenv("GILWATCH_SIGNAL", env.signal) == -1 ||
	    cmd_run_setenv("GILWATCH_OUTPUT", env.output) == -1 ||
	    cmd_run_setenv("GILWATCH_FORMAT", env.format) == -1 ||
	    cmd_run_setenv("GILWATCH_REPORT", env.report) == -1 ||
	    cmd_run_setenv("GILWATCH_SORT", env.sort) == -1 ||
	    cmd_run_setenv("GILWATCH_TOP", env.top) == -1 ||
	    cmd_run_setenv("GILWATCH_HOLD_WARN", env.hold_warn) == -1 ||
	    cmd_run_setenv("GILWATCH_HOLD_SAMPLE", env.hold_sample) == -1 ||
	    cmd_run_setenv("GILWATCH_RT_BUDGET", env.rt_budget) == -1 ||
	    cmd_run_setenv("GILWATCH_BLAME", env.blame) == -1 ||
	    cmd_run_setenv("GILWATCH_GIL_PROFILE", env.gil_profile) == -1 ||
	    cmd_run_setenv("GILWATCH_TRACE", env.trace) == -1 ||
	    cmd_run_setenv("GILWATCH_TRACE_LOCK_WAIT",
	    env.trace_lock_wait) == -1 ||
	    cmd_run_setenv("GILWATCH_METRICS", env.metrics) == -1 ||
	    cmd_run_setenv("GILWATCH_METRICS_INTERVAL",
	    env.metrics_interval) == -1)
		return CLI_EXIT_ERROR;

	execvp(argv[optind], argv + optind);
	err = errno;
	cli_error("%s: %s", argv[optind], strerror(err));
	if (err == ENOENT || err == ENOTDIR)
		return CLI_EXIT_NOTFOUND;
	return CLI_EXIT_NOEXEC;
}
