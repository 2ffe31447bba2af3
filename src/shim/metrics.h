/*
 * --metrics=FILE (GILWATCH_METRICS): the GIL and lock statistics in the
 * Prometheus text exposition format (0.0.4), for node_exporter's
 * textfile collector, rewritten every --metrics-interval seconds
 * (GILWATCH_METRICS_INTERVAL, default 5) and at exit.  Each rewrite
 * goes to a temporary file in the same directory, renamed over FILE,
 * so that a scrape reads a whole file, the old one or the new.
 *
 * Only the helper thread (dump.h) and the exit reports write it: the
 * figures are gathered as the reports gather theirs, which allocates.
 * Every series has a pid label, so that the files of several processes
 * (FILE with %p) can sit in one collector directory.
 */
#ifndef GW_METRICS_H
#define GW_METRICS_H

#include <stdint.h>

/* Keep FILE (%p: the pid) up to date every interval_s; "" for none. */
void	metrics_init(const char *path, int interval_s);

/*
 * From the helper's loop, now a now_ns(): rewrite the file when due.
 * Returns the milliseconds until the next rewrite (INT32_MAX when off).
 */
int	metrics_tick(uint64_t now);

/* Rewrite it now (at exit).  Says in one line when it cannot. */
void	metrics_write(void);

/* Fork child: the next rewrite is due at once, under the new pid. */
void	metrics_after_fork_child(void);

#endif /* GW_METRICS_H */
