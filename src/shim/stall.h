/*
 * Stalls: hangs with no cycle in them.  Every thread of the program
 * waits, with no timeout, for something only another of its threads
 * could give (a lock, a notify, a thread's end, the GIL), and has done
 * so for at least GILWATCH_STALL seconds: none can move again by
 * itself.  A lost notify, a queue nobody feeds any more, a join of a
 * thread that waits for its joiner: nobody holds what they wait for, so
 * the wait-for graph has no cycle to show.
 *
 * Off by default: a program that waits on purpose for a signal or for
 * another process looks the same from inside.
 */
#ifndef GW_STALL_H
#define GW_STALL_H

#include "stall-rule.h"

/*
 * The helper's once-a-second look: 1 for a stall seen at two looks in
 * a row and not yet reported, for the caller to report once
 * (report_stall), then --on-stall says what happens to the process.
 */
int	stall_scan(void);

/*
 * Is the process stalled now, whatever the time limit: every thread
 * waits for another and none is unaccounted for, seen the same at two
 * looks in a row.  On the helper thread only (it shares stall_scan's
 * buffer); what tells an actual deadlock through a semaphore from one
 * a thread outside the cycle can still undo (deadlock.h).
 */
int	stall_now(void);

/* Forget what was seen (fork child: a new process). */
void	stall_reset(void);

#endif /* GW_STALL_H */
