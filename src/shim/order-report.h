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

#include "order.h"
#include "py.h"
#include "stack.h"

#define ORDER_MAX_CYCLE	256	/* locks printed in one cycle */
#define ORDER_PY_FRAMES	8	/* Python frames kept with an edge */

enum { ORDER_VIEW_INSTANCE, ORDER_VIEW_CLASS };

struct onode;

/* from -> to: a thread held `from` when it acquired `to`. */
struct oedge {
	struct oedge	*next;		/* the from node's edge list */
	struct onode	*to;
	unsigned	 to_gen;	/* edge dies when the lock is destroyed */
	uint8_t		 combos;	/* bit (from shared << 1 | to shared) */
	uintptr_t	 from_addr, to_addr;
	int		 from_kind, to_kind;
	uintptr_t	 from_class, to_class;	/* init sites */
	pid_t		 tid;		/* who made the edge first ... */
	char		 thread[16];
	struct stack	 stack;		/* ... and where */
	struct py_site	 py[ORDER_PY_FRAMES];	/* and in Python, innermost
						   first, named at report */
	int		 npy;
	uintptr_t	 gates[ORDER_GATES];	/* held every time, but from */
	int		 ngates;
	struct onode	*via_from;	/* search scratch */
	uint8_t		 via_from_read;
};

/*
 * Write the report for cyc[0..n-1] (cyc[0] is the edge t just made by
 * acquiring at site) and act on --lock-order.  Not signal safe.
 */
void	order_report(struct thread *t, int view, struct oedge **cyc, int n,
	    uintptr_t site);

/*
 * The label of the i-th unnamed lock of a report, distinct for every i:
 * A..Z, then AA..ZZ, AAA.. (cut to len).
 */
void	order_letters(unsigned i, char *buf, size_t len);

#endif /* GW_ORDER_REPORT_H */
