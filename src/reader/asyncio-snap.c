/*
 * asyncio into a snapshot: see asyncio-snap.h.
 */
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "asyncio-snap.h"
#include "frames.h"
#include "grow.h"

/* The tasks of one loop as the walk gives them, kept in the arena. */
struct take {
	struct arena	*arena;
	uintptr_t	 running;
	struct gw_task	*v;		/* malloc'd until the walk ends */
	size_t		 n, cap;
	int		 failed;
};

static const char *
copy(void *arena, const char *str)
{
	return arena_intern(arena, str);
}

static struct gw_frame *
frames_keep(struct arena *arena, const struct py_frame *f, int n)
{
	struct gw_frame *g;

	if (n <= 0 || (g = arena_alloc(arena, (size_t)n * sizeof(*g))) ==
	    NULL)
		return NULL;
	for (int i = 0; i < n; i++)
		frames_python(&g[i], &f[i], copy, arena);
	return g;
}

_Static_assert(PYA_PENDING == GW_TASK_PENDING && PYA_CANCELLED ==
    GW_TASK_CANCELLED && PYA_DONE == GW_TASK_DONE && PYA_UNKNOWN ==
    GW_TASK_UNKNOWN && PYA_INVALID == GW_TASK_INVALID,
    "task states as snapshot.h");
_Static_assert((int)PYA_AWAIT_UNKNOWN == (int)GW_AWAIT_UNKNOWN &&
    (int)PYA_AWAIT_GATHER == (int)GW_AWAIT_GATHER &&
    (int)PYA_AWAIT_EXECUTOR == (int)GW_AWAIT_EXECUTOR,
    "await kinds as snapshot.h");

static int
take_one(const struct py_task *t, void *arg)
{
	struct take *k = arg;
	struct gw_task *g, *nv;
	uintptr_t *by;

	if ((nv = grow(k->v, &k->cap, k->n + 1, sizeof(*nv), 64)) == NULL) {
		k->failed = 1;
		return 1;
	}
	k->v = nv;
	g = &k->v[k->n++];
	memset(g, 0, sizeof(*g));
	g->addr = t->task;
	g->name = arena_intern(k->arena, t->name);
	g->state = (enum gw_task_state)t->state;
	g->running = t->task == k->running;
	g->awaits = g->running ? GW_AWAIT_NONE :
	    (enum gw_await_kind)t->await_kind;
	g->await_object = t->waiter;
	g->await_type = t->waiter_type[0] != '\0' ?
	    arena_intern(k->arena, t->waiter_type) : NULL;
	g->await_task = t->await_task;
	g->await_tid = t->await_tid;
	g->result_future = t->result_cfuture;
	g->result_waiter = t->result_waiter;
	if (t->nawaited_by > 0 && (by = arena_alloc(k->arena,
	    t->nawaited_by * sizeof(*by))) != NULL) {
		memcpy(by, t->awaited_by, t->nawaited_by * sizeof(*by));
		g->awaited_by = by;
		g->nawaited_by = t->nawaited_by;
	}
	if ((g->frames = frames_keep(k->arena, t->frames, t->nframes)) !=
	    NULL)
		g->nframes = (size_t)t->nframes;
	return 0;
}

struct gw_loop *
asyncio_loop_read(struct arena *arena, const struct py_runtime *rt,
    const struct py_asyncio *a, uintptr_t ts,
    const struct py_athread *threads, size_t nthreads)
{
	struct py_aloop pl;
	struct gw_loop *l;
	struct gw_task *v;
	struct take k;
	const char *note;

	if (py_asyncio_thread(rt, a, ts, &pl) != 1 ||
	    (l = arena_alloc(arena, sizeof(*l))) == NULL)
		return NULL;
	l->addr = pl.loop;
	l->running_task = pl.running_task;
	memset(&k, 0, sizeof(k));
	k.arena = arena;
	k.running = pl.running_task;
	if (py_asyncio_tasks(rt, a, ts, 0, threads, nthreads, take_one, &k,
	    &note) == -1 && note == NULL)
		note = "the thread's task list is unreadable";
	if (k.failed)
		note = "out of memory: the tasks after these were not read";
	if (k.n > 0 && (v = arena_alloc(arena, k.n * sizeof(*v))) != NULL) {
		memcpy(v, k.v, k.n * sizeof(*v));
		l->tasks = v;
		l->ntasks = k.n;
	}
	if (note == NULL && a->why[0] != '\0')
		note = a->why;
	l->note = note != NULL ? arena_intern(arena, note) : NULL;
	free(k.v);
	return l;
}

struct gw_loop *
asyncio_loop_frames(struct arena *arena, int minor, const struct py_frame *f,
    int n)
{
	struct gw_loop *l;
	struct gw_task *t;
	int coro, ncoro;

	if (minor >= 14 || py_asyncio_frames_loop(f, n, &coro, &ncoro) < 0 ||
	    (l = arena_alloc(arena, sizeof(*l))) == NULL)
		return NULL;
	l->note = arena_intern(arena, "CPython before 3.14: the loop and its "
	    "running coroutine from the thread's frames; its other tasks are "
	    "not read");
	if (ncoro == 0 || (t = arena_alloc(arena, sizeof(*t))) == NULL)
		return l;
	t->state = GW_TASK_UNKNOWN;
	t->running = 1;
	t->awaits = GW_AWAIT_NONE;
	if ((t->frames = frames_keep(arena, f + coro, ncoro)) != NULL)
		t->nframes = (size_t)ncoro;
	l->tasks = t;
	l->ntasks = 1;
	return l;
}
