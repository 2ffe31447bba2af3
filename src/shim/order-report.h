/*
 * What the lock-order validator knows about an edge, and the report of
 * a cycle, in the layout of lockdep's "possible circular locking
 * dependency" (text) or as one JSON line.
 */
#ifndef GW_ORDER_REPORT_H
#define GW_ORDER_REPORT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "gilwatch/snapshot.h"
#include "order.h"
#include "out.h"

/*
 * Write the report for cyc[0..n-1] (cyc[0] is the edge t just made by
 * acquiring at site) and act on --lock-order.  Not signal safe.
 */
void	order_report(struct thread *t, int view, struct oedge **cyc, int n,
	    uintptr_t site);

/*
 * The exit report's account of the cycles found safe (order_safe): a
 * line of text when there is any, or a JSON member "safe_orders".
 */
void	order_report_safe(struct out *o, enum gw_format fmt);

/* In a fork child: the summaries' lock is free (the parent's monitor
 * may have held it while the child copied the tables). */
void	order_report_after_fork_child(void);

/*
 * The label of the i-th unnamed lock of a report, distinct for every i:
 * A..Z, then AA..ZZ, AAA.. (cut to len).
 */
void	order_letters(unsigned i, char *buf, size_t len);

#endif /* GW_ORDER_REPORT_H */
