/*
 * Parsers for the values gilwatch takes on its command line and, through
 * the environment, in the shim: the deadlock action, the dump signal, the
 * output format, a pid, and the LD_PRELOAD list.
 *
 * Pure functions: no I/O, and no allocation except opts_preload, so the
 * CLI, the shim and the unit tests can share them.  None is signal safe.
 *
 * Errors follow strtonum(3): *errstr is NULL on success and otherwise a
 * short static phrase ("invalid", "too large", ...) fit to follow the
 * offending text in a message; the return value is then meaningless.
 */
#ifndef GW_OPTS_H
#define GW_OPTS_H

#include <stddef.h>
#include <sys/types.h>

/* Status for "exit" without ":N"; distinct from common failure codes. */
#define OPTS_EXIT_DEFAULT	86

/* Hold times timed 1 in N (GILWATCH_HOLD_SAMPLE, --hold-sample): N. */
#define OPTS_HOLD_SAMPLE_DEFAULT	64
#define OPTS_HOLD_SAMPLE_MAX		65536

/* Longest canonical deadlock action: "exit:255". */
#define OPTS_ON_DEADLOCK_MAX	sizeof "exit:255"

enum opts_action {
	OPTS_ACTION_REPORT,	/* write the report, keep running */
	OPTS_ACTION_EXIT,	/* write the report, _exit(status) */
	OPTS_ACTION_ABORT,	/* write the report, abort() for a core */
};

struct opts_deadlock {
	enum opts_action action;
	int		 status;	/* for OPTS_ACTION_EXIT: 0 to 255 */
};

/*
 * A decimal number in [min, max]: digits only, no sign, no spaces, so
 * "-1", "+1" and " 1" are "invalid".  Returns 0 on error.
 */
long long	opts_number(const char *s, long long min, long long max,
		    const char **errstr);

/* --metrics-interval: the default and the longest, in seconds. */
#define OPTS_METRICS_INTERVAL_DEFAULT	5
#define OPTS_METRICS_INTERVAL_MAX	3600

/* The longest --rt-budget, in milliseconds. */
#define OPTS_RT_BUDGET_MAX	60000

/*
 * Milliseconds, more than 0 and at most max: digits with at most one
 * '.' and three decimals ("5.333"), no sign or exponent.  Returns 0 on
 * error.
 */
double		opts_millis(const char *s, long long max, const char **errstr);

/* A process id: a positive decimal number.  Returns -1 on error. */
pid_t		opts_pid(const char *s, const char **errstr);

/*
 * "report", "exit", "exit:N" (N 0 to 255) or "abort".  Returns 0, or -1
 * on error.
 */
int		opts_on_deadlock(const char *s, struct opts_deadlock *od,
		    const char **errstr);

/* Status for --lock-order=exit without ":N". */
#define OPTS_ORDER_EXIT_DEFAULT	87

/*
 * The lock-order action: "off" (sets *off), or as opts_on_deadlock but
 * with OPTS_ORDER_EXIT_DEFAULT for a bare "exit".  Returns 0 or -1.
 */
int		opts_lock_order(const char *s, int *off, struct opts_deadlock *od,
		    const char **errstr);

/* Status for --on-stall=exit without ":N". */
#define OPTS_STALL_EXIT_DEFAULT	88

/* --stall without a value given by --on-stall, and the largest. */
#define OPTS_STALL_DEFAULT	10
#define OPTS_STALL_DEFAULT_TEXT	"10"
#define OPTS_STALL_MAX		86400

/* The stall action: as opts_on_deadlock, OPTS_STALL_EXIT_DEFAULT for a
 * bare "exit".  Returns 0 or -1. */
int		opts_on_stall(const char *s, struct opts_deadlock *od,
		    const char **errstr);

/*
 * The stall time: "off" (returns 0) or whole seconds, 1 to
 * OPTS_STALL_MAX.  Returns -1 on error.
 */
int		opts_stall(const char *s, const char **errstr);

/* --loop-stall: the default and the largest, in milliseconds. */
#define OPTS_LOOP_STALL_DEFAULT	100
#define OPTS_LOOP_STALL_MAX	86400000

/*
 * An event loop's longest turn: "off" (returns 0) or whole
 * milliseconds, 1 to OPTS_LOOP_STALL_MAX.  Returns -1 on error.
 */
int		opts_loop_stall(const char *s, const char **errstr);

/*
 * The canonical text of od, which opts_on_deadlock reads back: "report",
 * "exit:N" (always with N) or "abort".  Returns 0, or -1 when buf is too
 * small (OPTS_ON_DEADLOCK_MAX is enough).
 */
int		opts_on_deadlock_string(const struct opts_deadlock *od,
		    char *buf, size_t len);

/*
 * A signal to catch: "none" (returns 0), a number, or a name with or
 * without "SIG", in any case: "QUIT", "SIGUSR1", "RTMIN+3", "RTMAX-1".
 * KILL and STOP are refused since no handler can run for them.
 * Returns the signal number, 0 for "none", or -1 on error.
 */
int		opts_signal(const char *s, const char **errstr);

/* How the lock statistics table is sorted: biggest first. */
enum opts_sort {
	OPTS_SORT_WAIT,		/* total wait time */
	OPTS_SORT_HOLD,		/* total hold time */
	OPTS_SORT_CONTENDED,	/* contended acquisitions */
	OPTS_SORT_ACQUIRED,	/* acquisitions */
};

/* "wait", "hold", "contended" or "acquired".  Returns -1 on error. */
int		opts_sort(const char *s, const char **errstr);

/* "text" or "json", as an enum gw_format.  Returns -1 on error. */
int		opts_format(const char *s, const char **errstr);

/*
 * The LD_PRELOAD value that loads lib first and then everything in old
 * (which may be NULL, and may separate entries by spaces or colons).
 * Entries of old that are lib, or any other libgilwatch.so, are dropped:
 * two copies of the shim would both interpose on pthreads.  Entries are
 * joined with ':'.  Returns a string to free(3), or NULL with errno
 * EINVAL (lib is empty or has a ':' or space, which ld.so would split)
 * or ENOMEM.
 */
char		*opts_preload(const char *lib, const char *old);

#endif /* GW_OPTS_H */
