/*
 * Actual deadlocks: cycles in the wait-for graph of the live threads,
 * found the moment the closing thread blocks (deadlock_check) and, as a
 * safety net for races between threads blocking at once, by the helper
 * thread's periodic scan (deadlock_scan).  Each cycle is reported once,
 * then --on-deadlock says what happens to the process.
 */
#ifndef GW_DEADLOCK_H
#define GW_DEADLOCK_H

#include "thread.h"
#include "waitfor.h"

/* t has just published an untimed wait: report a cycle it closes. */
void	deadlock_check(struct thread *t);

/* Look for cycles through every blocked thread. */
void	deadlock_scan(void);

/*
 * The wait-for edges of a thread: edge idx of node (a struct thread *)
 * names the idx-th thread holding what node waits for.  ctx is unused.
 */
int	deadlock_edge(void *ctx, void *node, int idx, struct wf_edge *e);

/* Forget what was reported (fork child: a new process). */
void	deadlock_reset(void);

#endif /* GW_DEADLOCK_H */
