/* asyncio tasks in the wait-for graph: see taskgraph.h. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "grow.h"
#include "taskgraph.h"
#include "waitfor.h"

#define HELD_UP_PASSES	64	/* how far a chain of awaits is followed
				   into a deadlock */
#define DEPTH_BITS	8	/* bits of a chain's depth in a sort key */
#define DEPTH_MAX	((1 << DEPTH_BITS) - 1)	/* a deeper one sorts as
						   this deep */

struct tedge {
	size_t		 from, to;
	enum gw_await_kind kind;	/* a task's edge, else NONE */
	uintptr_t	 lock;		/* a thread's edge: what it waits for
					   (to a task: the future of its
					   result) */
	int		 lkind, lmode;
};

struct tnode {
	const struct gw_thread_info *th; /* the thread, or the task's loop's */
	const struct gw_task *task;	/* NULL: a thread */
	size_t		 first, n;	/* its edges */
	size_t		 in;		/* 1 + the deadlock it is in, or 0 */
	size_t		 held_up;	/* 1 + the deadlock it waits on, or 0 */
	size_t		 via;		/* held_up: the edge that leads there */
	size_t		 depth;		/* held_up: links of its chain into
					   the cycle (1: it awaits a member) */
};

struct graph {
	struct tnode	*v;
	size_t		 nv;
	struct tedge	*e;
	size_t		 ne, cap;
};

/* A key and a node, sorted to look nodes up. */
struct key {
	uintptr_t	 k;
	size_t		 node;
};

static int
key_cmp(const void *a, const void *b)
{
	const struct key *x = a, *y = b;

	if (x->k != y->k)
		return x->k < y->k ? -1 : 1;
	return x->node < y->node ? -1 : x->node > y->node;
}

/* The first of the keys equal to k, or n. */
static size_t
key_find(const struct key *v, size_t n, uintptr_t k)
{
	size_t lo = 0, hi = n, mid;

	while (lo < hi) {
		mid = (lo + hi) / 2;
		if (v[mid].k < k)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < n && v[lo].k == k ? lo : n;
}

/* The edge added, or NULL when out of memory. */
static struct tedge *
edge_add(struct graph *g, size_t from, size_t to, enum gw_await_kind kind,
    const struct gw_wait *w)
{
	struct tedge *nv;

	if ((nv = grow(g->e, &g->cap, g->ne + 1, sizeof(*nv), 64)) == NULL)
		return NULL;
	g->e = nv;
	memset(&g->e[g->ne], 0, sizeof(g->e[g->ne]));
	g->e[g->ne].from = from;
	g->e[g->ne].to = to;
	g->e[g->ne].kind = kind;
	if (w != NULL) {
		g->e[g->ne].lock = w->lock.addr;
		g->e[g->ne].lkind = (int)w->lock.kind;
		g->e[g->ne].lmode = (int)w->lock.mode;
	}
	return &g->e[g->ne++];
}

static int
edge_cmp(const void *a, const void *b)
{
	const struct tedge *x = a, *y = b;

	return x->from < y->from ? -1 : x->from > y->from;
}

/* Is the task not finished, as far as can be read? */
static int
pending(const struct gw_task *t)
{
	return t->state == GW_TASK_PENDING || t->state == GW_TASK_UNKNOWN;
}

/* Can the task still be held up: not finished, not the one running? */
static int
waits(const struct gw_task *t)
{
	return !t->running && pending(t);
}

/*
 * Is the thread blocked where only another thread can free it: an
 * untimed wait for a lock, a notify or a join?  Then a loop it runs
 * steps no task until that other thread moves.  Not a wait for the GIL
 * (the holder must drop it at the switch interval), not a timed wait
 * (it ends by itself), not a system call (epoll is the loop's own
 * idle wait; a sleep or a read ends by itself or by I/O: a stall, which
 * loopstall reports, not a deadlock).
 */
static int
blocked(const struct gw_thread_info *th)
{
	const struct gw_wait *w = th->waiting;

	return w != NULL && !w->timed && w->lock.kind != GW_LOCK_GIL;
}

struct maps3 {
	struct key	*tid, *addr, *obj;
	size_t		 ntid, naddr, nobj;
};

static int
task_edges(struct graph *g, const struct maps3 *m, size_t i)
{
	const struct gw_task *t = g->v[i].task, *a;
	struct tedge *e;
	size_t k, j;

	if (waits(t) && t->awaits == GW_AWAIT_TASK &&
	    (k = key_find(m->addr, m->naddr, t->await_task)) < m->naddr &&
	    edge_add(g, i, m->addr[k].node, GW_AWAIT_TASK, NULL) == NULL)
		return -1;
	if (waits(t) && t->awaits == GW_AWAIT_EXECUTOR && t->await_tid != 0 &&
	    (k = key_find(m->tid, m->ntid, (uintptr_t)t->await_tid)) <
	    m->ntid && edge_add(g, i, m->tid[k].node, GW_AWAIT_EXECUTOR,
	    NULL) == NULL)
		return -1;
	/* No task of a loop is stepped while its thread is blocked
	 * outside it: the running one neither, whose step blocks there.
	 * Thread nodes come first, in ti's order. */
	if (pending(t) && blocked(g->v[i].th) && edge_add(g, i,
	    (size_t)(g->v[i].th - g->v[0].th), GW_AWAIT_LOOP, NULL) == NULL)
		return -1;
	/* A thread blocked on the result of t (run_coroutine_threadsafe)
	 * is freed only when t ends. */
	if (pending(t) && t->result_waiter != 0 && (k = key_find(m->tid,
	    m->ntid, (uintptr_t)t->result_waiter)) < m->ntid &&
	    blocked(g->v[m->tid[k].node].th)) {
		if ((e = edge_add(g, m->tid[k].node, i, GW_AWAIT_NONE,
		    NULL)) == NULL)
			return -1;
		e->lock = t->result_future;
	}
	/* Who awaits t, as t's awaited_by says: a task, or a future (a
	 * gather's) that tasks await. */
	for (j = 0; j < t->nawaited_by; j++) {
		uintptr_t x = t->awaited_by[j];

		if ((k = key_find(m->addr, m->naddr, x)) < m->naddr) {
			a = g->v[m->addr[k].node].task;
			if (waits(a) && !(a->awaits == GW_AWAIT_TASK &&
			    a->await_task == t->addr) && edge_add(g,
			    m->addr[k].node, i, GW_AWAIT_GATHER, NULL) == NULL)
				return -1;
			continue;
		}
		for (k = key_find(m->obj, m->nobj, x); k < m->nobj &&
		    m->obj[k].k == x; k++)
			if (waits(g->v[m->obj[k].node].task) && edge_add(g,
			    m->obj[k].node, i, GW_AWAIT_GATHER, NULL) == NULL)
				return -1;
	}
	return 0;
}

static int
graph_build(struct graph *g, const struct gw_thread_info *ti, size_t n)
{
	struct maps3 m;
	size_t i, k, nt = 0, at;
	int rv = -1;

	for (i = 0; i < n; i++)
		nt += ti[i].loop != NULL ? ti[i].loop->ntasks : 0;
	memset(&m, 0, sizeof(m));
	g->nv = n + nt;
	if ((g->v = calloc(g->nv + 1, sizeof(*g->v))) == NULL ||
	    (m.tid = calloc(n + 1, sizeof(*m.tid))) == NULL ||
	    (m.addr = calloc(nt + 1, sizeof(*m.addr))) == NULL ||
	    (m.obj = calloc(nt + 1, sizeof(*m.obj))) == NULL)
		goto out;
	at = n;
	for (i = 0; i < n; i++) {
		g->v[i].th = &ti[i];
		m.tid[m.ntid].k = (uintptr_t)ti[i].tid;
		m.tid[m.ntid++].node = i;
		for (k = 0; ti[i].loop != NULL && k < ti[i].loop->ntasks; k++) {
			const struct gw_task *t = &ti[i].loop->tasks[k];

			g->v[at].th = &ti[i];
			g->v[at].task = t;
			if (t->addr != 0) {
				m.addr[m.naddr].k = t->addr;
				m.addr[m.naddr++].node = at;
			}
			if (t->await_object != 0) {
				m.obj[m.nobj].k = t->await_object;
				m.obj[m.nobj++].node = at;
			}
			at++;
		}
	}
	qsort(m.tid, m.ntid, sizeof(*m.tid), key_cmp);
	qsort(m.addr, m.naddr, sizeof(*m.addr), key_cmp);
	qsort(m.obj, m.nobj, sizeof(*m.obj), key_cmp);
	for (i = 0; i < n; i++) {
		const struct gw_wait *w = ti[i].waiting;

		if (w != NULL && w->nowners > 0 && (k = key_find(m.tid, m.ntid,
		    (uintptr_t)w->owners[0])) < m.ntid &&
		    edge_add(g, i, m.tid[k].node, GW_AWAIT_NONE, w) == NULL)
			goto out;
	}
	for (i = n; i < g->nv; i++)
		if (task_edges(g, &m, i) == -1)
			goto out;
	qsort(g->e, g->ne, sizeof(*g->e), edge_cmp);
	for (k = g->ne; k-- > 0;) {
		g->v[g->e[k].from].first = k;
		g->v[g->e[k].from].n++;
	}
	rv = 0;
out:
	free(m.tid);
	free(m.addr);
	free(m.obj);
	return rv;
}

static int
edge_fn(void *ctx, void *node, int idx, struct wf_edge *e)
{
	struct graph *g = ctx;
	const struct tnode *v = node;
	const struct tedge *te;

	if (idx < 0 || (size_t)idx >= v->n)
		return 0;
	te = &g->e[v->first + (size_t)idx];
	memset(e, 0, sizeof(*e));
	e->to = &g->v[te->to];
	e->lock = te->kind != GW_AWAIT_NONE ? g->v[te->to].task != NULL ?
	    g->v[te->to].task->addr : 0 : te->lock;
	e->kind = te->lkind;
	e->mode = te->lmode;
	e->site = (uintptr_t)te;
	return 1;
}

/* A link for node v, through edge te, to node to. */
static void
link_fill(struct gw_deadlock_link *l, const struct tnode *v,
    const struct tedge *te, const struct tnode *to)
{
	memset(l, 0, sizeof(*l));
	l->tid = v->th->tid;
	l->held_by = to->task == NULL ? to->th->tid : 0;
	if (v->task != NULL) {
		l->task = v->task->addr;
		l->task_name = v->task->name;
		l->task_awaits = te->kind;
		l->waits_for.addr = to->task != NULL ? to->task->addr : 0;
		if (to->task != NULL)
			l->held_by = to->th->tid;
	} else {
		l->waits_for.addr = te->lock;
		l->waits_for.kind = (enum gw_lock_kind)te->lkind;
		l->waits_for.mode = (enum gw_lock_mode)te->lmode;
		if (to->task != NULL) {
			l->result_of = to->task->addr;
			l->held_by = to->th->tid;
		}
	}
}

/* Mark the threads and tasks of d (deadlock number idx) as in it. */
static void
mark_members(struct graph *g, const struct gw_deadlock *d, size_t idx,
    size_t nthreads)
{
	for (size_t j = 0; j < d->nlinks; j++)
		for (size_t i = 0; i < g->nv; i++) {
			const struct tnode *v = &g->v[i];

			if (d->links[j].task != 0 ? v->task != NULL &&
			    v->task->addr == d->links[j].task : i < nthreads &&
			    v->th->tid == d->links[j].tid)
				g->v[i].in = idx + 1;
		}
}

/*
 * Tasks whose awaits lead into a deadlock, the chain followed a step
 * per pass: what they await first, and only then their loop's blocked
 * thread, which holds up every task of the loop (the one running is
 * its thread, not held up by it).
 */
static void
held_up(struct graph *g, size_t nthreads)
{
	int changed = 1, loop = 0;

	for (int pass = 0; pass < HELD_UP_PASSES && (changed || !loop);
	    pass++) {
		if (!changed)
			loop = 1;
		changed = 0;
		for (size_t i = nthreads; i < g->nv; i++) {
			struct tnode *v = &g->v[i];

			for (size_t k = 0; !v->in && !v->held_up &&
			    !v->task->running && k < v->n; k++) {
				const struct tedge *e = &g->e[v->first + k];
				const struct tnode *to = &g->v[e->to];

				if (e->kind == GW_AWAIT_LOOP && !loop)
					continue;
				if (to->in || to->held_up) {
					v->held_up = to->in ? to->in :
					    to->held_up;
					v->depth = to->in ? 1 : to->depth + 1;
					v->via = (size_t)(e - g->e);
					changed = 1;
				}
			}
		}
	}
}

void
taskgraph_deadlocks(struct arena *a, const struct gw_thread_info *ti,
    size_t n, const struct gw_deadlock *d, size_t nd,
    const struct gw_deadlock **out, size_t *nout)
{
	struct graph g;
	struct wf_frame frames[TG_CYCLE_MAX];
	struct gw_deadlock *all = NULL;
	struct gw_deadlock_link *l, *w;
	uint64_t *seen = NULL;
	struct key *ord = NULL;
	size_t i, k, nall, cap, nseen = 0, nw, nord = 0;
	int len, j;

	*out = d;
	*nout = nd;
	memset(&g, 0, sizeof(g));
	if (graph_build(&g, ti, n) == -1 || g.nv == n)
		goto done;
	cap = nd + (g.nv - n) + 1;
	if ((all = arena_alloc(a, cap * sizeof(*all))) == NULL ||
	    (seen = calloc(cap, sizeof(*seen))) == NULL ||
	    (ord = calloc(g.nv - n, sizeof(*ord))) == NULL)
		goto done;
	memcpy(all, d, nd * sizeof(*all));
	nall = nd;
	for (i = 0; i < nd; i++)
		mark_members(&g, &all[i], i, n);
	for (i = n; i < g.nv; i++) {
		if (g.v[i].in || g.v[i].n == 0)
			continue;
		len = wf_find_cycle(edge_fn, &g, &g.v[i], frames,
		    TG_CYCLE_MAX);
		if (len <= 0)
			continue;
		seen[nseen] = wf_cycle_signature(frames, len);
		for (k = 0; k < nseen && seen[k] != seen[nseen]; k++)
			;
		if (k < nseen || (l = arena_alloc(a, (size_t)len *
		    sizeof(*l))) == NULL)
			continue;
		nseen++;
		for (j = 0; j < len; j++)
			link_fill(&l[j], frames[j].node, (const struct tedge *)
			    frames[j].edge.site, frames[(j + 1) % len].node);
		all[nall].links = l;
		all[nall].nlinks = (size_t)len;
		mark_members(&g, &all[nall], nall, n);
		nall++;
	}
	held_up(&g, n);
	/* The tasks held up, by deadlock and nearest the cycle first, so
	 * that a chain of awaits reads from the cycle outwards. */
	for (i = n; i < g.nv; i++) {
		if (!g.v[i].held_up)
			continue;
		ord[nord].k = (uintptr_t)g.v[i].held_up << DEPTH_BITS |
		    (g.v[i].depth < DEPTH_MAX ? g.v[i].depth : DEPTH_MAX);
		ord[nord++].node = i;
	}
	qsort(ord, nord, sizeof(*ord), key_cmp);
	for (k = 0, i = 0; k < nall; k++) {
		for (nw = 0; i + nw < nord && g.v[ord[i + nw].node].held_up ==
		    k + 1; nw++)
			;
		if (nw > 0 && (w = arena_alloc(a, (nw + all[k].nwaiters) *
		    sizeof(*w))) != NULL) {
			if (all[k].nwaiters > 0)
				memcpy(w, all[k].waiters, all[k].nwaiters *
				    sizeof(*w));
			for (size_t x = 0; x < nw; x++) {
				const struct tnode *v = &g.v[ord[i + x].node];

				link_fill(&w[all[k].nwaiters++], v,
				    &g.e[v->via], &g.v[g.e[v->via].to]);
			}
			all[k].waiters = w;
		}
		i += nw;
	}
	*out = all;
	*nout = nall;
done:
	free(seen);
	free(ord);
	free(g.v);
	free(g.e);
}
