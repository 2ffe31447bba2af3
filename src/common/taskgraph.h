/*
 * asyncio tasks in the wait-for graph (waitfor.h), with the threads:
 * one graph for both models, over a snapshot's threads and the tasks
 * of their loops.
 *
 * Edges: a task awaiting another task (await_task); a task awaiting a
 * gather() or TaskGroup, to each child whose awaited_by names it or
 * the future it awaits; a task awaiting an executor future, to the
 * worker thread running it; a task not finished, to its loop's thread
 * when that thread is blocked outside the loop (an untimed wait for a
 * lock, a notify or a join: no task of the loop is stepped until it
 * returns); a thread blocked in concurrent.futures.Future.result, to
 * the task whose end completes that future (run_coroutine_threadsafe);
 * a blocked thread, to the thread holding what it waits for (the
 * threads' own graph).  Every edge must go before its node can move,
 * so a cycle through a task is a deadlock: tasks awaiting each other,
 * a task whose worker waits, through locks, on the task's own loop, a
 * thread waiting for a task whose loop's thread waits for it.  A
 * thread-only cycle is the threads' own report; the tasks whose awaits
 * lead into one are added to it as held up by it (gw_deadlock.waiters).
 * What a thread waits for in a system call (a socket, a pipe) or a
 * future completed other than by a task is not an edge: such a cycle
 * is not found.
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
