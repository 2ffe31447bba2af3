/*
 * asyncio tasks in the wait-for graph (waitfor.h), with the threads:
 * one graph for both models, over a snapshot's threads and the tasks
 * of their loops.
 *
 * Edges: a task awaiting another task (await_task); a task awaiting a
 * gather() or TaskGroup, to each child whose awaited_by names it or
 * the future it awaits; a task awaiting an executor future, to the
 * worker thread running it; a blocked thread, to the thread holding
 * what it waits for (the threads' own graph).  Every edge must go
 * before its task can finish, so a cycle through a task is a deadlock:
 * tasks awaiting each other, or a task whose worker waits, through
 * locks, on the task's own loop.  A thread-only cycle is the threads'
 * own report; the tasks whose awaits lead into one are added to it as
 * held up by it (gw_deadlock.waiters).
 */
#ifndef GW_TASKGRAPH_H
#define GW_TASKGRAPH_H

#include <stddef.h>

#include "gilwatch/snapshot.h"

struct arena;

#define TG_CYCLE_MAX	64	/* links of a cycle looked for */

/*
 * The deadlocks of ti[0..n-1] with those through tasks added after
 * d[0..nd-1] (the threads' own, found before), each once, and the
 * tasks held up by any of them as waiters: into the arena, *out and
 * *nout (d itself when nothing is added; then also out of memory).
 */
void	taskgraph_deadlocks(struct arena *, const struct gw_thread_info *ti,
	    size_t n, const struct gw_deadlock *d, size_t nd,
	    const struct gw_deadlock **out, size_t *nout);

#endif /* GW_TASKGRAPH_H */
