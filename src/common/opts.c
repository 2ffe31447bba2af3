/* Parsers shared by the CLI, the shim and the tests: see opts.h. */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <gilwatch/snapshot.h>

#include "opts.h"

#define SEPARATORS	" :"	/* what ld.so splits LD_PRELOAD on */
#define SHIM_NAME	"libgilwatch.so"

static const struct {
	const char	*name;
	int		 signo;
} opts_signals[] = {
	{ "HUP", SIGHUP },	{ "INT", SIGINT },	{ "QUIT", SIGQUIT },
	{ "ILL", SIGILL },	{ "TRAP", SIGTRAP },	{ "ABRT", SIGABRT },
	{ "IOT", SIGIOT },	{ "BUS", SIGBUS },	{ "FPE", SIGFPE },
	{ "KILL", SIGKILL },	{ "USR1", SIGUSR1 },	{ "SEGV", SIGSEGV },
	{ "USR2", SIGUSR2 },	{ "PIPE", SIGPIPE },	{ "ALRM", SIGALRM },
	{ "TERM", SIGTERM },	{ "STKFLT", SIGSTKFLT }, { "CHLD", SIGCHLD },
	{ "CLD", SIGCHLD },	{ "CONT", SIGCONT },	{ "STOP", SIGSTOP },
	{ "TSTP", SIGTSTP },	{ "TTIN", SIGTTIN },	{ "TTOU", SIGTTOU },
	{ "URG", SIGURG },	{ "XCPU", SIGXCPU },	{ "XFSZ", SIGXFSZ },
	{ "VTALRM", SIGVTALRM }, { "PROF", SIGPROF },	{ "WINCH", SIGWINCH },
	{ "IO", SIGIO },	{ "POLL", SIGPOLL },	{ "PWR", SIGPWR },
	{ "SYS", SIGSYS },
};

long long
opts_number(const char *s, long long min, long long max, const char **errstr)
{
	long long v = 0;
	const char *p;
	int big = 0;

	*errstr = "invalid";
	if (s == NULL || *s == '\0')
		return 0;
	for (p = s; *p != '\0'; p++) {
		if (*p < '0' || *p > '9')
			return 0;
		/* Past LLONG_MAX the exact value no longer matters. */
		if (big || v > (LLONG_MAX - (*p - '0')) / 10)
			big = 1;
		else
			v = v * 10 + (*p - '0');
	}
	if (!big && v < min) {
		*errstr = "too small";
		return 0;
	}
	if (big || v > max) {
		*errstr = "too large";
		return 0;
	}
	*errstr = NULL;
	return v;
}

double
opts_millis(const char *s, long long max, const char **errstr)
{
	char whole[24], frac[4] = "000";
	const char *dot;
	long long w, f;
	size_t n;

	*errstr = "not milliseconds with at most 3 decimals";
	if (s == NULL)
		return 0;
	dot = strchr(s, '.');
	n = dot != NULL ? (size_t)(dot - s) : strlen(s);
	if (n == 0 || n >= sizeof whole || (dot != NULL &&
	    (dot[1] == '\0' || strlen(dot + 1) > 3)))
		return 0;
	memcpy(whole, s, n);
	whole[n] = '\0';
	if (dot != NULL)
		memcpy(frac, dot + 1, strlen(dot + 1));
	w = opts_number(whole, 0, max, errstr);
	if (*errstr != NULL) {
		if (strcmp(*errstr, "too large") != 0)
			*errstr = "not milliseconds with at most 3 decimals";
		return 0;
	}
	f = opts_number(frac, 0, 999, errstr);
	if (*errstr != NULL) {
		*errstr = "not milliseconds with at most 3 decimals";
		return 0;
	}
	if (w == 0 && f == 0) {
		*errstr = "too small";
		return 0;
	}
	if (w == max && f > 0) {
		*errstr = "too large";
		return 0;
	}
	return (double)w + (double)f / 1000;
}

pid_t
opts_pid(const char *s, const char **errstr)
{
	long long v;

	v = opts_number(s, 1, INT_MAX, errstr);
	if (*errstr != NULL)
		return -1;
	return (pid_t)v;
}

/* "report", "exit", "exit:N" or "abort"; a bare "exit" gives `status`. */
static int
action(const char *s, int status, struct opts_deadlock *od,
    const char **errstr)
{
	const char *err;

	*errstr = NULL;
	od->status = 0;
	if (s != NULL && strcmp(s, "report") == 0) {
		od->action = OPTS_ACTION_REPORT;
		return 0;
	}
	if (s != NULL && strcmp(s, "abort") == 0) {
		od->action = OPTS_ACTION_ABORT;
		return 0;
	}
	if (s != NULL && strcmp(s, "exit") == 0) {
		od->action = OPTS_ACTION_EXIT;
		od->status = status;
		return 0;
	}
	if (s != NULL && strncmp(s, "exit:", 5) == 0) {
		od->action = OPTS_ACTION_EXIT;
		od->status = (int)opts_number(s + 5, 0, 255, &err);
		if (err == NULL)
			return 0;
		*errstr = "exit status must be a number from 0 to 255";
		return -1;
	}
	*errstr = "not report, exit, exit:N or abort";
	return -1;
}

int
opts_on_deadlock(const char *s, struct opts_deadlock *od, const char **errstr)
{
	return action(s, OPTS_EXIT_DEFAULT, od, errstr);
}

int
opts_lock_order(const char *s, int *off, struct opts_deadlock *od,
    const char **errstr)
{
	*errstr = NULL;
	*off = s != NULL && strcmp(s, "off") == 0;
	if (*off)
		return 0;
	if (action(s, OPTS_ORDER_EXIT_DEFAULT, od, errstr) == -1) {
		if (s == NULL || strncmp(s, "exit:", 5) != 0)
			*errstr = "not off, report, exit, exit:N or abort";
		return -1;
	}
	return 0;
}

int
opts_on_stall(const char *s, struct opts_deadlock *od, const char **errstr)
{
	return action(s, OPTS_STALL_EXIT_DEFAULT, od, errstr);
}

/* "off" (0) or a number from 1 to max; -1 with *errstr = why. */
static int
off_or_number(const char *s, long long max, const char *why,
    const char **errstr)
{
	long long n;

	*errstr = NULL;
	if (s != NULL && strcmp(s, "off") == 0)
		return 0;
	n = opts_number(s, 1, max, errstr);
	if (*errstr != NULL) {
		*errstr = why;
		return -1;
	}
	return (int)n;
}

int
opts_stall(const char *s, const char **errstr)
{
	return off_or_number(s, OPTS_STALL_MAX,
	    "not off or a number of seconds from 1 to 86400", errstr);
}

int
opts_loop_stall(const char *s, const char **errstr)
{
	return off_or_number(s, OPTS_LOOP_STALL_MAX,
	    "not off or a number of milliseconds from 1 to 86400000", errstr);
}

int
opts_sort(const char *s, const char **errstr)
{
	static const char *names[] = {
		[OPTS_SORT_WAIT] = "wait",
		[OPTS_SORT_HOLD] = "hold",
		[OPTS_SORT_CONTENDED] = "contended",
		[OPTS_SORT_ACQUIRED] = "acquired",
	};
	size_t i;

	*errstr = NULL;
	for (i = 0; s != NULL && i < sizeof names / sizeof names[0]; i++)
		if (strcmp(s, names[i]) == 0)
			return (int)i;
	*errstr = "not wait, hold, contended or acquired";
	return -1;
}

int
opts_on_deadlock_string(const struct opts_deadlock *od, char *buf,
    size_t len)
{
	int n;

	switch (od->action) {
	case OPTS_ACTION_REPORT:
		n = snprintf(buf, len, "report");
		break;
	case OPTS_ACTION_EXIT:
		n = snprintf(buf, len, "exit:%d", od->status);
		break;
	case OPTS_ACTION_ABORT:
		n = snprintf(buf, len, "abort");
		break;
	default:
		return -1;
	}
	if (n < 0 || (size_t)n >= len)
		return -1;
	return 0;
}

/* "RTMIN", "RTMIN+N", "RTMAX", "RTMAX-N" (no "SIG"); -1 if not one. */
static int
opts_signal_rt(const char *s, const char **errstr)
{
	const char *err;
	long long n;
	int base, sign;

	if (strncasecmp(s, "RTMIN", 5) == 0) {
		base = SIGRTMIN;
		sign = '+';
	} else if (strncasecmp(s, "RTMAX", 5) == 0) {
		base = SIGRTMAX;
		sign = '-';
	} else {
		*errstr = "unknown signal";
		return -1;
	}
	s += 5;
	if (*s == '\0')
		return base;
	if (*s != sign) {
		*errstr = "unknown signal";
		return -1;
	}
	n = opts_number(s + 1, 0, SIGRTMAX - SIGRTMIN, &err);
	if (err != NULL) {
		*errstr = "real-time signal out of range";
		return -1;
	}
	return sign == '+' ? base + (int)n : base - (int)n;
}

static int
opts_signal_lookup(const char *s, const char **errstr)
{
	const char *err;
	size_t i;
	int signo;

	if (*s >= '0' && *s <= '9') {
		signo = (int)opts_number(s, 1, SIGRTMAX, &err);
		if (err != NULL) {
			*errstr = "no such signal number";
			return -1;
		}
		return signo;
	}
	if (strncasecmp(s, "SIG", 3) == 0)
		s += 3;
	for (i = 0; i < sizeof opts_signals / sizeof opts_signals[0]; i++) {
		if (strcasecmp(s, opts_signals[i].name) == 0)
			return opts_signals[i].signo;
	}
	return opts_signal_rt(s, errstr);
}

int
opts_signal(const char *s, const char **errstr)
{
	int signo;

	*errstr = NULL;
	if (s == NULL || *s == '\0') {
		*errstr = "empty";
		return -1;
	}
	if (strcasecmp(s, "none") == 0)
		return 0;
	signo = opts_signal_lookup(s, errstr);
	if (signo == -1)
		return -1;
	if (signo == SIGKILL || signo == SIGSTOP) {
		*errstr = "cannot be caught";
		return -1;
	}
	return signo;
}

int
opts_format(const char *s, const char **errstr)
{
	*errstr = NULL;
	if (s != NULL && strcmp(s, "text") == 0)
		return GW_FORMAT_TEXT;
	if (s != NULL && strcmp(s, "json") == 0)
		return GW_FORMAT_JSON;
	*errstr = "not text or json";
	return -1;
}

/* Is the LD_PRELOAD entry e (length n) lib, or some copy of the shim? */
static int
opts_preload_is_shim(const char *e, size_t n, const char *lib)
{
	size_t base = sizeof SHIM_NAME - 1;

	if (n == strlen(lib) && memcmp(e, lib, n) == 0)
		return 1;
	if (n < base || memcmp(e + n - base, SHIM_NAME, base) != 0)
		return 0;
	return n == base || e[n - base - 1] == '/';
}

char *
opts_preload(const char *lib, const char *old)
{
	const char *e;
	char *out;
	size_t len, n, used;

	if (*lib == '\0' || lib[strcspn(lib, SEPARATORS)] != '\0') {
		errno = EINVAL;
		return NULL;
	}
	if (old == NULL)
		old = "";
	/* Never longer than lib, one separator and all of old. */
	len = strlen(lib) + 1 + strlen(old) + 1;
	if ((out = malloc(len)) == NULL)
		return NULL;
	used = strlen(lib);
	memcpy(out, lib, used);
	for (e = old; *e != '\0'; e += n) {
		e += strspn(e, SEPARATORS);
		n = strcspn(e, SEPARATORS);
		if (n == 0 || opts_preload_is_shim(e, n, lib))
			continue;
		out[used++] = ':';
		memcpy(out + used, e, n);
		used += n;
	}
	out[used] = '\0';
	return out;
}
