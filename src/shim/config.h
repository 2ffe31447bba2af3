/*
 * The shim's settings, read once from the environment at start-up.
 * A value that does not parse is named in one message and the default
 * is kept: a bad environment never stops the program.
 */
#ifndef GW_CONFIG_H
#define GW_CONFIG_H

#include <stddef.h>

#include "opts.h"

#define LOCK_TABLE_DEFAULT	(1u << 18)	/* slots; GILWATCH_LOCKS */
#define TRACE_LOCK_WAIT_MS	1.0	/* GILWATCH_TRACE_LOCK_WAIT */
#define TRACE_EVENTS_DEFAULT	(1u << 20)	/* GILWATCH_TRACE_EVENTS */

struct config {
	struct opts_deadlock on_deadlock;	/* GILWATCH_ON_DEADLOCK */
	struct opts_deadlock lock_order;	/* GILWATCH_LOCK_ORDER */
	int		lock_order_off;	/* GILWATCH_LOCK_ORDER=off */
	int		stall_s;	/* GILWATCH_STALL, 0: off */
	int		monitor;	/* GILWATCH_MONITOR=process (1, the
					   default) or thread (0) */
	struct opts_deadlock on_stall;	/* GILWATCH_ON_STALL */
	int		loop_stall_ms;	/* GILWATCH_LOOP_STALL, 0: off */
	int		dump_signal;	/* GILWATCH_SIGNAL, 0: none */
	int		sample_signal;	/* GILWATCH_SAMPLE_SIGNAL */
	char		output[512];	/* GILWATCH_OUTPUT, "": stderr */
	char		gil_profile[512];	/* GILWATCH_GIL_PROFILE, "": none */
	char		trace[512];	/* GILWATCH_TRACE, "": none */
	double		trace_lock_wait_ms;	/* GILWATCH_TRACE_LOCK_WAIT */
	unsigned	trace_events;	/* GILWATCH_TRACE_EVENTS: kept */
	char		metrics[512];	/* GILWATCH_METRICS, "": none */
	int		metrics_interval_s;	/* GILWATCH_METRICS_INTERVAL */
	int		format;		/* GILWATCH_FORMAT, enum gw_format */
	size_t		lock_slots;	/* GILWATCH_LOCKS */
	int		stats;		/* GILWATCH_STATS: keep statistics */
	int		blame;		/* GILWATCH_BLAME: GIL blame */
	int		report;		/* GILWATCH_REPORT: lock table at exit */
	int		sort;		/* GILWATCH_SORT: enum opts_sort */
	int		top;		/* GILWATCH_TOP: rows in the table */
	double		hold_warn_ms;	/* GILWATCH_HOLD_WARN, 0: off */
	double		rt_budget_ms;	/* GILWATCH_RT_BUDGET, 0: off */
	unsigned	hold_sample;	/* GILWATCH_HOLD_SAMPLE: holds timed
					   1 in N (stats.h) */
	int		stack_timeout_ms; /* per-thread sampling wait */
};

extern struct config config;

void	config_load(void);

/*
 * Open the report destination: GILWATCH_OUTPUT with %p expanded, opened
 * for appending, or a duplicate of stderr.  The caller closes it.
 */
int	config_open_output(void);

/* pat with %p (the pid) and %% expanded, into buf. */
void	config_expand(const char *pat, char *buf, size_t len);

#endif /* GW_CONFIG_H */
