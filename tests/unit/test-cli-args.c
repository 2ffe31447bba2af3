/*
 * The parsers behind the command line and the shim's environment, and
 * where each command takes its options (args.c).
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gilwatch/snapshot.h>

#include "args.h"
#include "opts.h"

#define NCASES(a)	(sizeof (a) / sizeof (a)[0])

TestSuite(opts, .timeout = 5);

/* Numbers and pids. */

struct number_case {
	const char	*in;
	long long	 min, max;
	long long	 want;
	const char	*err;	/* NULL: valid */
};

static const struct number_case number_cases[] = {
	{ "0",		0, 10,		0,	NULL },
	{ "10",		0, 10,		10,	NULL },
	{ "007",	0, 10,		7,	NULL },
	{ "11",		0, 10,		0,	"too large" },
	{ "4",		5, 10,		0,	"too small" },
	{ "",		0, 10,		0,	"invalid" },
	{ NULL,		0, 10,		0,	"invalid" },
	{ "-1",		-5, 10,		0,	"invalid" },	/* no sign */
	{ "+1",		0, 10,		0,	"invalid" },
	{ " 1",		0, 10,		0,	"invalid" },
	{ "1 ",		0, 10,		0,	"invalid" },
	{ "1x",		0, 10,		0,	"invalid" },
	{ "0x10",	0, 100,		0,	"invalid" },
	{ "9223372036854775807", 0, LLONG_MAX, LLONG_MAX, NULL },
	{ "9223372036854775808", 0, LLONG_MAX, 0, "too large" },
	{ "99999999999999999999999", 0, LLONG_MAX, 0, "too large" },
	{ "99999999999999999999999", 0, 10, 0, "too large" },
};

Test(opts, number)
{
	const struct number_case *c;
	const char *err;
	long long got;
	size_t i;

	for (i = 0; i < NCASES(number_cases); i++) {
		c = &number_cases[i];
		got = opts_number(c->in, c->min, c->max, &err);
		if (c->err == NULL) {
			cr_expect_null(err, "\"%s\": unexpected error %s",
			    c->in, err);
			cr_expect_eq(got, c->want, "\"%s\": got %lld, want %lld",
			    c->in, got, c->want);
		} else {
			cr_expect(err != NULL && strcmp(err, c->err) == 0,
			    "\"%s\": error %s, want %s", c->in,
			    err ? err : "(none)", c->err);
		}
	}
}

struct pid_case {
	const char	*in;
	pid_t		 want;	/* -1: invalid */
};

static const struct pid_case pid_cases[] = {
	{ "1",		1 },
	{ "4194304",	4194304 },
	{ "2147483647",	INT_MAX },
	{ "2147483648",	-1 },
	{ "0",		-1 },
	{ "-1",		-1 },
	{ "-42",	-1 },
	{ "abc",	-1 },
	{ "12abc",	-1 },
	{ "",		-1 },
	{ "1.5",	-1 },
};

Test(opts, pid)
{
	const struct pid_case *c;
	const char *err;
	pid_t got;
	size_t i;

	for (i = 0; i < NCASES(pid_cases); i++) {
		c = &pid_cases[i];
		got = opts_pid(c->in, &err);
		cr_expect_eq(got, c->want, "\"%s\": got %d, want %d", c->in,
		    (int)got, (int)c->want);
		cr_expect_eq(err == NULL, c->want != -1,
		    "\"%s\": error %s", c->in, err ? err : "(none)");
	}
}

/* Deadlock actions. */

struct deadlock_case {
	const char	*in;
	int		 ok;
	enum opts_action action;
	int		 status;
	const char	*canon;	/* opts_on_deadlock_string of the result */
};

static const struct deadlock_case deadlock_cases[] = {
	{ "report",	1, OPTS_ACTION_REPORT,	0,  "report" },
	{ "abort",	1, OPTS_ACTION_ABORT,	0,  "abort" },
	{ "exit",	1, OPTS_ACTION_EXIT,	OPTS_EXIT_DEFAULT, "exit:86" },
	{ "exit:0",	1, OPTS_ACTION_EXIT,	0,  "exit:0" },
	{ "exit:3",	1, OPTS_ACTION_EXIT,	3,  "exit:3" },
	{ "exit:255",	1, OPTS_ACTION_EXIT,	255, "exit:255" },
	{ "exit:256",	0, 0, 0, NULL },
	{ "exit:-1",	0, 0, 0, NULL },
	{ "exit:",	0, 0, 0, NULL },
	{ "exit:1x",	0, 0, 0, NULL },
	{ "exit=3",	0, 0, 0, NULL },
	{ "exit 3",	0, 0, 0, NULL },
	{ "Report",	0, 0, 0, NULL },
	{ "reports",	0, 0, 0, NULL },
	{ "",		0, 0, 0, NULL },
	{ NULL,		0, 0, 0, NULL },
};

Test(opts, on_deadlock)
{
	const struct deadlock_case *c;
	struct opts_deadlock od;
	const char *err;
	char buf[OPTS_ON_DEADLOCK_MAX];
	size_t i;
	int rv;

	for (i = 0; i < NCASES(deadlock_cases); i++) {
		c = &deadlock_cases[i];
		rv = opts_on_deadlock(c->in, &od, &err);
		if (!c->ok) {
			cr_expect(rv == -1 && err != NULL,
			    "\"%s\": accepted", c->in);
			continue;
		}
		cr_expect(rv == 0 && err == NULL, "\"%s\": refused: %s",
		    c->in, err);
		cr_expect_eq(od.action, c->action, "\"%s\": action %d",
		    c->in, od.action);
		if (c->action == OPTS_ACTION_EXIT)
			cr_expect_eq(od.status, c->status, "\"%s\": status %d",
			    c->in, od.status);
		cr_expect_eq(opts_on_deadlock_string(&od, buf, sizeof buf), 0);
		cr_expect_str_eq(buf, c->canon, "\"%s\": canonical \"%s\"",
		    c->in, buf);
	}
}

/* What run puts in the environment, the shim must read back the same. */
Test(opts, on_deadlock_round_trip)
{
	struct opts_deadlock od, back;
	const char *err;
	char buf[OPTS_ON_DEADLOCK_MAX];
	int status;

	for (status = 0; status <= 255; status++) {
		od.action = OPTS_ACTION_EXIT;
		od.status = status;
		cr_assert_eq(opts_on_deadlock_string(&od, buf, sizeof buf), 0);
		cr_assert_eq(opts_on_deadlock(buf, &back, &err), 0, "%s", buf);
		cr_assert_eq(back.status, status, "%s", buf);
	}
}

Test(opts, on_deadlock_string_short_buffer)
{
	struct opts_deadlock od = { OPTS_ACTION_EXIT, 255 };
	char buf[6];

	cr_expect_eq(opts_on_deadlock_string(&od, buf, sizeof buf), -1);
}

/* Signals. */

struct signal_case {
	const char	*in;
	int		 want;	/* -1: refused */
};

Test(opts, signal)
{
	const struct signal_case cases[] = {
		{ "none",	0 },
		{ "NONE",	0 },
		{ "QUIT",	SIGQUIT },
		{ "SIGQUIT",	SIGQUIT },
		{ "quit",	SIGQUIT },
		{ "sigusr1",	SIGUSR1 },
		{ "USR2",	SIGUSR2 },
		{ "HUP",	SIGHUP },
		{ "WINCH",	SIGWINCH },
		{ "IO",		SIGIO },
		{ "3",		3 },
		{ "10",		SIGUSR1 },
		{ "RTMIN",	SIGRTMIN },
		{ "RTMIN+3",	SIGRTMIN + 3 },
		{ "SIGRTMIN+0",	SIGRTMIN },
		{ "rtmax",	SIGRTMAX },
		{ "RTMAX-2",	SIGRTMAX - 2 },
		{ "RTMIN+999",	-1 },
		{ "RTMAX+1",	-1 },
		{ "RTMIN-1",	-1 },
		{ "RTMIN+",	-1 },
		{ "RTMINX",	-1 },
		{ "KILL",	-1 },		/* cannot be caught */
		{ "SIGSTOP",	-1 },
		{ "9",		-1 },
		{ "19",		-1 },
		{ "0",		-1 },
		{ "65",		-1 },
		{ "-3",		-1 },
		{ "SIG",	-1 },
		{ "QUITE",	-1 },
		{ "SIGSIGQUIT",	-1 },
		{ "",		-1 },
		{ NULL,		-1 },
	};
	const char *err;
	size_t i;
	int got;

	for (i = 0; i < NCASES(cases); i++) {
		got = opts_signal(cases[i].in, &err);
		cr_expect_eq(got, cases[i].want, "\"%s\": got %d, want %d",
		    cases[i].in, got, cases[i].want);
		cr_expect_eq(err == NULL, cases[i].want != -1,
		    "\"%s\": error %s", cases[i].in, err ? err : "(none)");
	}
}

/* Every number run may write into GILWATCH_SIGNAL reads back. */
Test(opts, signal_numbers_read_back)
{
	const char *err;
	char buf[16];
	int signo;

	for (signo = 1; signo <= SIGRTMAX; signo++) {
		snprintf(buf, sizeof buf, "%d", signo);
		if (signo == SIGKILL || signo == SIGSTOP)
			cr_expect_eq(opts_signal(buf, &err), -1, "%s", buf);
		else
			cr_expect_eq(opts_signal(buf, &err), signo, "%s", buf);
	}
}

Test(opts, format)
{
	const char *err;

	cr_expect_eq(opts_format("text", &err), GW_FORMAT_TEXT);
	cr_expect_null(err);
	cr_expect_eq(opts_format("json", &err), GW_FORMAT_JSON);
	cr_expect_null(err);
	cr_expect_eq(opts_format("JSON", &err), -1);
	cr_expect_not_null(err);
	cr_expect_eq(opts_format("", &err), -1);
	cr_expect_eq(opts_format(NULL, &err), -1);
}

/* LD_PRELOAD. */

struct preload_case {
	const char	*lib;
	const char	*old;
	const char	*want;	/* NULL: refused with EINVAL */
};

static const struct preload_case preload_cases[] = {
	{ "/b/libgilwatch.so", NULL, "/b/libgilwatch.so" },
	{ "/b/libgilwatch.so", "", "/b/libgilwatch.so" },
	{ "/b/libgilwatch.so", "/x.so", "/b/libgilwatch.so:/x.so" },
	{ "/b/libgilwatch.so", "/x.so:/y.so", "/b/libgilwatch.so:/x.so:/y.so" },
	{ "/b/libgilwatch.so", "/x.so /y.so", "/b/libgilwatch.so:/x.so:/y.so" },
	{ "/b/libgilwatch.so", " :/x.so:: /y.so ",
	    "/b/libgilwatch.so:/x.so:/y.so" },
	/* Already there: not twice, and first. */
	{ "/b/libgilwatch.so", "/b/libgilwatch.so", "/b/libgilwatch.so" },
	{ "/b/libgilwatch.so", "/x.so:/b/libgilwatch.so",
	    "/b/libgilwatch.so:/x.so" },
	/* Another copy of the shim would hook pthreads a second time. */
	{ "/b/libgilwatch.so", "/usr/lib/gilwatch/libgilwatch.so:/x.so",
	    "/b/libgilwatch.so:/x.so" },
	{ "/b/libgilwatch.so", "libgilwatch.so", "/b/libgilwatch.so" },
	/* Only that exact name: these are other libraries. */
	{ "/b/libgilwatch.so", "/x/mylibgilwatch.so:/x/libgilwatch.so.1",
	    "/b/libgilwatch.so:/x/mylibgilwatch.so:/x/libgilwatch.so.1" },
	/* GILWATCH_LIB may be named otherwise; itself is still deduped. */
	{ "/t/shim.so", "/t/shim.so:/x.so", "/t/shim.so:/x.so" },
	{ "/t/shim.so", "/t/shim.so.old", "/t/shim.so:/t/shim.so.old" },
	/* ld.so would split these paths. */
	{ "/a b/libgilwatch.so", NULL, NULL },
	{ "/a:b/libgilwatch.so", "/x.so", NULL },
	{ "", NULL, NULL },
};

Test(opts, preload)
{
	const struct preload_case *c;
	char *got;
	size_t i;

	for (i = 0; i < NCASES(preload_cases); i++) {
		c = &preload_cases[i];
		errno = 0;
		got = opts_preload(c->lib, c->old);
		if (c->want == NULL) {
			cr_expect(got == NULL && errno == EINVAL,
			    "lib \"%s\": accepted as \"%s\"", c->lib,
			    got ? got : "(null)");
		} else {
			cr_expect(got != NULL && strcmp(got, c->want) == 0,
			    "lib \"%s\", old \"%s\": got \"%s\", want \"%s\"",
			    c->lib, c->old ? c->old : "(null)",
			    got ? got : "(null)", c->want);
		}
		free(got);
	}
}

/* --lock-order: like --on-deadlock, plus "off", and its own exit status. */
Test(opts, lock_order)
{
	const struct {
		const char	*in;
		int		 ok, off;
		enum opts_action action;
		int		 status;
	} cases[] = {
		{ "off",	1, 1, 0, 0 },
		{ "report",	1, 0, OPTS_ACTION_REPORT, 0 },
		{ "exit",	1, 0, OPTS_ACTION_EXIT, OPTS_ORDER_EXIT_DEFAULT },
		{ "exit:5",	1, 0, OPTS_ACTION_EXIT, 5 },
		{ "abort",	1, 0, OPTS_ACTION_ABORT, 0 },
		{ "exit:256",	0, 0, 0, 0 },
		{ "Off",	0, 0, 0, 0 },
		{ "",		0, 0, 0, 0 },
	};
	struct opts_deadlock od;
	const char *err;
	size_t i;
	int off, rv;

	for (i = 0; i < NCASES(cases); i++) {
		rv = opts_lock_order(cases[i].in, &off, &od, &err);
		cr_expect_eq(rv == 0, cases[i].ok, "\"%s\": rv %d", cases[i].in,
		    rv);
		if (rv != 0 || !cases[i].ok)
			continue;
		cr_expect_eq(off, cases[i].off, "\"%s\": off %d", cases[i].in,
		    off);
		if (off)
			continue;
		cr_expect_eq(od.action, cases[i].action, "\"%s\"", cases[i].in);
		if (od.action == OPTS_ACTION_EXIT)
			cr_expect_eq(od.status, cases[i].status, "\"%s\": %d",
			    cases[i].in, od.status);
	}
}

Test(opts, stall)
{
	const struct {
		const char	*in;
		int		 want;	/* seconds, 0 off, -1 error */
	} cases[] = {
		{ "off",	0 },
		{ "1",		1 },
		{ "60",		60 },
		{ "86400",	86400 },
		{ "0",		-1 },
		{ "86401",	-1 },
		{ "1.5",	-1 },
		{ "-1",		-1 },
		{ "",		-1 },
		{ "OFF",	-1 },
	};
	const char *err;
	size_t i;
	int rv;

	for (i = 0; i < NCASES(cases); i++) {
		rv = opts_stall(cases[i].in, &err);
		cr_expect_eq(rv, cases[i].want, "\"%s\": %d", cases[i].in, rv);
		cr_expect_eq(err == NULL, cases[i].want >= 0, "\"%s\"",
		    cases[i].in);
	}
}

Test(opts, loop_stall)
{
	static const struct {
		const char	*in;
		int		 want;	/* milliseconds, 0 off, -1 error */
	} cases[] = {
		{ "off",	0 },
		{ "1",		1 },
		{ "100",	100 },
		{ "86400000",	86400000 },
		{ "0",		-1 },
		{ "86400001",	-1 },
		{ "0.5",	-1 },
		{ "-100",	-1 },
		{ "100ms",	-1 },
		{ "",		-1 },
		{ "Off",	-1 },
	};
	const char *err;
	size_t i;
	int rv;

	for (i = 0; i < NCASES(cases); i++) {
		rv = opts_loop_stall(cases[i].in, &err);
		cr_expect_eq(rv, cases[i].want, "\"%s\": %d", cases[i].in, rv);
		cr_expect_eq(err == NULL, cases[i].want >= 0, "\"%s\"",
		    cases[i].in);
	}
}

Test(opts, on_stall)
{
	struct opts_deadlock od;
	const char *err;

	cr_expect_eq(opts_on_stall("exit", &od, &err), 0);
	cr_expect_eq(od.action, OPTS_ACTION_EXIT);
	cr_expect_eq(od.status, OPTS_STALL_EXIT_DEFAULT);
	cr_expect_eq(opts_on_stall("exit:3", &od, &err), 0);
	cr_expect_eq(od.status, 3);
	cr_expect_eq(opts_on_stall("report", &od, &err), 0);
	cr_expect_eq(od.action, OPTS_ACTION_REPORT);
	cr_expect_eq(opts_on_stall("off", &od, &err), -1);
	cr_expect_neq(err, NULL);
}

/*
 * Options where people type them.  Stand-ins with the option kinds of
 * each command (the commands' own tables are exercised end to end by
 * tests/integration/test_cli.py).
 */

static const struct option dump_longopts[] = {
	{ "format",	required_argument,	NULL, 'f' },
	{ "locks",	no_argument,		NULL, 'l' },
	{ "sort",	required_argument,	NULL, 'S' },
	{ "help",	no_argument,		NULL, 'h' },
	{ NULL,		0,			NULL, 0 }
};
static const struct args_spec dump_spec = { "dump", "h", dump_longopts, 0 };

static const struct option top_longopts[] = {
	{ "delay",	required_argument,	NULL, 'd' },
	{ "once",	no_argument,		NULL, 'o' },
	{ "help",	no_argument,		NULL, 'h' },
	{ NULL,		0,			NULL, 0 }
};
static const struct args_spec top_spec = { "top", "d:h", top_longopts, 0 };

static const struct option run_longopts[] = {
	{ "on-deadlock", required_argument,	NULL, 'd' },
	{ "on-stall",	required_argument,	NULL, 'O' },
	{ "output",	required_argument,	NULL, 'o' },
	{ "no-report",	no_argument,		NULL, 'R' },
	{ "help",	no_argument,		NULL, 'h' },
	{ NULL,		0,			NULL, 0 }
};
static const struct args_spec run_spec = { "run", "h", run_longopts, 1 };

static const struct option help_longopts[] = {
	{ "help",	no_argument,		NULL, 'h' },
	{ NULL,		0,			NULL, 0 }
};
static const struct args_spec help_spec = { "help", "h", help_longopts, 0 };

#define ARGV_MAX	8

struct args_case {
	const struct args_spec	*spec;
	const char		*argv[ARGV_MAX];	/* after the command */
	/*
	 * The options seen, in order ("f=json l"), then "|" and the
	 * operands; or what stderr says when the line is refused.
	 */
	const char		*want;
};

static const struct args_case args_cases[] = {
	/* dump PID: options before, after, on both sides. */
	{ &dump_spec, { "1234", "--format=json" },	"f=json | 1234" },
	{ &dump_spec, { "--format=json", "1234" },	"f=json | 1234" },
	{ &dump_spec, { "1234", "--format", "json" },	"f=json | 1234" },
	{ &dump_spec, { "--locks", "1234", "--sort", "wait" },
	    "l S=wait | 1234" },
	{ &dump_spec, { "1234", "--form=json" },	"f=json | 1234" },
	{ &dump_spec, { "1234", "--help" },		"h | 1234" },
	{ &dump_spec, { "-h", "1234" },			"h | 1234" },
	/* "--" ends the options, wherever it is. */
	{ &dump_spec, { "--", "--format=json" },	"| --format=json" },
	{ &dump_spec, { "1234", "--", "--locks" },	"| 1234 --locks" },
	{ &dump_spec, { "--locks", "--", "-5" },	"l | -5" },
	/* top [PID]: a short option with its value, attached or not. */
	{ &top_spec, { "1234", "-d", "2" },		"d=2 | 1234" },
	{ &top_spec, { "-d2", "1234", "--once" },	"d=2 o | 1234" },
	{ &top_spec, { "--once", "--delay=0.5" },	"o d=0.5 |" },
	{ &top_spec, { "1234", "--", "--once" },	"| 1234 --once" },
	/* run CMD: the first operand ends gilwatch's options. */
	{ &run_spec, { "--no-report", "prog", "--no-report", "-x" },
	    "R | prog --no-report -x" },
	{ &run_spec, { "prog", "--output=f" },		"| prog --output=f" },
	{ &run_spec, { "--output", "f", "--", "prog", "--help" },
	    "o=f | prog --help" },
	{ &run_spec, { "--", "--prog", "-h" },		"| --prog -h" },
	/* help [COMMAND] */
	{ &help_spec, { "dump", "--help" },		"h | dump" },
	{ &help_spec, { "--", "--help" },		"| --help" },
	/* Refused: the message names the option and the command's --help. */
	{ &dump_spec, { "1234", "--frmat=json" },
	    "gilwatch dump: unknown option '--frmat=json' "
	    "(see gilwatch dump --help)\n" },
	{ &dump_spec, { "1234", "--format" },
	    "gilwatch dump: option '--format' needs a value "
	    "(see gilwatch dump --help)\n" },
	{ &dump_spec, { "--locks=3", "1234" },
	    "gilwatch dump: option '--locks' takes no value "
	    "(see gilwatch dump --help)\n" },
	/* 'f' is --format's val, but -f is no option of dump. */
	{ &dump_spec, { "-f", "json", "1234" },
	    "gilwatch dump: unknown option '-f' (see gilwatch dump --help)\n" },
	{ &dump_spec, { "1234", "-5" },
	    "gilwatch dump: unknown option '-5' (see gilwatch dump --help)\n" },
	{ &top_spec, { "1234", "-d" },
	    "gilwatch top: option '-d' needs a value "
	    "(see gilwatch top --help)\n" },
	/* In a cluster, before its end. */
	{ &top_spec, { "--once", "-xd1" },
	    "gilwatch top: unknown option '-x' (see gilwatch top --help)\n" },
	{ &run_spec, { "--on=exit", "prog" },
	    "gilwatch run: ambiguous option '--on=exit' "
	    "(see gilwatch run --help)\n" },
	{ &run_spec, { "--bogus", "prog" },
	    "gilwatch run: unknown option '--bogus' "
	    "(see gilwatch run --help)\n" },
	{ &help_spec, { "dump", "--bogus" },
	    "gilwatch help: unknown option '--bogus' "
	    "(see gilwatch help --help)\n" },
};

/*
 * Parse c's command line; the result as c->want puts it.  A string to
 * free(3).
 */
static char *
args_parse(const struct args_spec *spec, const char *const *words)
{
	char *argv[ARGV_MAX + 2], *out, *err;
	size_t outlen, errlen;
	FILE *fp, *errfp, *saved = stderr;
	int argc = 0, opt, longindex;

	argv[argc++] = (char *)spec->cmd;
	while (argc <= ARGV_MAX && words[argc - 1] != NULL) {
		argv[argc] = (char *)words[argc - 1];
		argc++;
	}
	argv[argc] = NULL;
	cr_assert_not_null(fp = open_memstream(&out, &outlen));
	cr_assert_not_null(errfp = open_memstream(&err, &errlen));
	stderr = errfp;
	optind = 0;
	while ((opt = args_next(spec, argc, argv, &longindex)) != -1 &&
	    opt != ARGS_ERROR) {
		fprintf(fp, "%c", opt);
		if (optarg != NULL)
			fprintf(fp, "=%s", optarg);
		fputc(' ', fp);
	}
	stderr = saved;
	fclose(errfp);
	if (opt == ARGS_ERROR) {
		fclose(fp);
		free(out);
		return err;
	}
	cr_expect_eq(errlen, 0, "stderr: %s", err);
	free(err);
	fputc('|', fp);
	for (; optind < argc; optind++)
		fprintf(fp, " %s", argv[optind]);
	fclose(fp);
	return out;
}

Test(args, where_options_are)
{
	const struct args_case *c;
	char *got;
	size_t i;

	unsetenv("POSIXLY_CORRECT");
	for (i = 0; i < NCASES(args_cases); i++) {
		c = &args_cases[i];
		got = args_parse(c->spec, c->argv);
		cr_expect_str_eq(got, c->want, "case %zu (%s %s ...): got "
		    "\"%s\", want \"%s\"", i, c->spec->cmd, c->argv[0], got,
		    c->want);
		free(got);
	}
}

/* As GNU tools: POSIXLY_CORRECT stops the options at the first operand. */
Test(args, posixly_correct)
{
	static const char *const words[] = { "1234", "--format=json", NULL };
	char *got;

	setenv("POSIXLY_CORRECT", "1", 1);
	got = args_parse(&dump_spec, words);
	cr_expect_str_eq(got, "| 1234 --format=json");
	free(got);
}

Test(opts, millis)
{
	const struct {
		const char	*in;
		double		 want;	/* ms, -1 error */
	} cases[] = {
		{ "5",		5 },
		{ "5.333",	5.333 },
		{ "0.5",	0.5 },
		{ "60000",	60000 },
		{ "0",		-1 },
		{ "0.000",	-1 },
		{ "60000.5",	-1 },
		{ "60001",	-1 },
		{ "5.3333",	-1 },
		{ "5.",		-1 },
		{ ".5",		-1 },
		{ "1.2.3",	-1 },
		{ "-1",		-1 },
		{ "1e3",	-1 },
		{ "",		-1 },
	};
	const char *err;
	size_t i;
	double v;

	for (i = 0; i < NCASES(cases); i++) {
		v = opts_millis(cases[i].in, OPTS_RT_BUDGET_MAX, &err);
		cr_expect_eq(err == NULL, cases[i].want >= 0, "\"%s\": %s",
		    cases[i].in, err ? err : "ok");
		if (cases[i].want >= 0)
			cr_expect_float_eq(v, cases[i].want, 1e-9, "\"%s\": %g",
			    cases[i].in, v);
	}
}
