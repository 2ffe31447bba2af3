/*
 * Actual deadlocks: cycles in the wait-for graph of the live threads,
 * found the moment the closing thread blocks (deadlock_check) and, as a
 * safety net for races between threads blocking at once, by the helper
 * thread's periodic scan (deadlock_scan).  A cycle through a semaphore
 * is left to the scan: it needs the whole process (deadlock_actual).
 * Each cycle is found once; its finder reports it (report_deadlock),
 * then --on-deadlock says what happens to the process.
 */
#ifndef GW_DEADLOCK_H
#define GW_DEADLOCK_H

#include "thread.h"
#include "waitfor.h"

/*
 * t has just published an untimed wait: the length of a cycle it
 * closes, never reported before, with the cycle in *cycle (t's scratch,
 * good until its next check), or 0.  The caller reports it
 * (report_deadlock): detection does not report.
 */
int	deadlock_check(struct thread *t, struct wf_frame **cycle);

/*
 * Look for cycles through every blocked thread after *from (NULL: from
 * the first): returns the length of the next cycle never reported
 * before, in *cycle (good until the next scan), and sets *from to the
 * thread it was found from, to go on from there; 0 at the end.
 */
int	deadlock_scan(struct thread **from, struct wf_frame **cycle);

/*
 * The wait-for edges of a thread: edge idx of node (a struct thread *)
 * names the idx-th thread holding what node waits for.  ctx is unused.
 */
int	deadlock_edge(void *ctx, void *node, int idx, struct wf_edge *e);

/*
 * Is the cycle frames[0..n) found by wf_find_cycle an actual deadlock?
 * Every edge must still be there, a second look later.  A cycle through
 * a semaphore (or anything else with no owner) is one only when no
 * thread outside it can still post: every other thread waits for
 * another with no timeout, or is gone (the stall rule, stall.h).  Until
 * then it is a hang that may still resolve.  On the helper thread only.
 */
int	deadlock_actual(struct wf_frame *frames, int n);

/* Forget what was reported (fork child: a new process). */
void	deadlock_reset(void);

#endif /* GW_DEADLOCK_H */
