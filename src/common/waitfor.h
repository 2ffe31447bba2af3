/*
 * Cycle search in a wait-for graph.
 *
 * Nodes are threads, opaque here.  An edge leaves a blocked thread for
 * each thread that holds what it waits for: one for a mutex, several for
 * a rwlock a writer waits on while readers hold it.  Every edge must go
 * away before the waiter can run (the AND model), so any cycle through a
 * waiter is a deadlock.
 *
 * The graph is read through a callback while the program runs, so it
 * can change under the search; callers verify a cycle before trusting it.
 */
#ifndef GW_WAITFOR_H
#define GW_WAITFOR_H

#include <stdint.h>

#define WF_MAX_STEPS	100000	/* edge visits per search, then give up */

struct wf_edge {
	void		*to;	/* the thread that holds the lock */
	uintptr_t	 lock;
	int		 kind;	/* enum gw_lock_kind */
	int		 mode;	/* enum gw_lock_mode the waiter wants */
	uintptr_t	 site;	/* where `to` acquired the lock */
	int		 hint;	/* `to` only took it last: anyone may post */
};

/*
 * Fill *e with edge number idx leaving node and return 1, or return 0
 * when node has no such edge (idx counts from 0, without gaps).
 */
typedef int	(*wf_edge_fn)(void *ctx, void *node, int idx,
		    struct wf_edge *e);

struct wf_frame {
	void		*node;
	int		 idx;
	struct wf_edge	 edge;
};

/*
 * Look for a cycle that starts and ends at start.  frames is scratch of
 * max entries; on success frames[0..n-1] hold the cycle: frames[i].node
 * waits through frames[i].edge for frames[i+1].node, and the last edge
 * leads back to start.  Returns n, 0 when there is none, or -1 when the
 * cycle is longer than max or the search ran out of steps.
 */
int	wf_find_cycle(wf_edge_fn, void *ctx, void *start,
	    struct wf_frame *frames, int max);

/*
 * A value that is the same for the same cycle whichever thread it was
 * found from: the cycle is rotated to start at its smallest node first.
 */
uint64_t	wf_cycle_signature(const struct wf_frame *frames, int n);

#endif /* GW_WAITFOR_H */
