/*
 * asyncio in a snapshot taken inside the program (snapshot.c): each
 * thread's loop and tasks, read from this process's memory by the
 * same reader a dump from outside uses (py-asyncio.h), and the cycles
 * through tasks in the same graph as the threads (taskgraph.h).
 */
#include <stdlib.h>
#include <unistd.h>

#include "asyncio-snap.h"
#include "gil.h"
#include "maps.h"
#include "snapshot-asyncio.h"
#include "taskgraph.h"
#include "monitor.h"

void
snapshot_asyncio(struct arena *arena, struct gw_thread_info *ti,
    const uintptr_t *tstate, size_t n, struct gw_snapshot *pub)
{
	const struct py_runtime *rt = gil_runtime();
	struct py_asyncio a;
	struct py_athread *th;
	struct maps m;
	char why[128];
	size_t i;

	if (rt == NULL || rt->off == NULL || rt->minor < 14)
		goto graph;
	if (maps_read_pid(monitor_program(), &m, why, sizeof(why)) == -1)
		goto graph;
	if (py_asyncio_find(rt, &m, &a) == -1 ||
	    (th = calloc(n + 1, sizeof(*th))) == NULL) {
		maps_free(&m);
		goto graph;
	}
	maps_free(&m);
	for (i = 0; i < n; i++) {
		th[i].tstate = tstate[i];
		th[i].tid = ti[i].tid;
	}
	for (i = 0; i < n; i++)
		if (tstate[i] != 0)
			ti[i].loop = asyncio_loop_read(arena, rt, &a, tstate[i],
			    th, n);
	free(th);
graph:
	taskgraph_deadlocks(arena, ti, n, pub->deadlocks, pub->ndeadlocks,
	    &pub->deadlocks, &pub->ndeadlocks);
}
