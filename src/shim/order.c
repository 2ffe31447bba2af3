/* Lock-order validation: see order.h. */
#include <errno.h>
#include <string.h>

#include "gilwatch/snapshot.h"
#include "gil.h"
#include "lock.h"
#include "msg.h"
#include "pages.h"
#include "order.h"
#include "ulock.h"
#include "share.h"

#define NODE_BUCKETS	(1u << 16)
#define ARENA_CHUNK	(1u << 20)

enum { NODE_INSTANCE, NODE_CLASS };

struct onode {
	struct onode	*next;		/* bucket chain */
	int		 type;
	uintptr_t	 key;		/* lockrec* or class site */
	unsigned	 gen;		/* instance: the lock's generation */
	uintptr_t	 addr;		/* instance: the lock's address */
	int		 kind;
	uintptr_t	 class_site;
	struct oedge	*edges;
	unsigned	 mark[2];	/* search visits, by via-read state */
	struct oedge	*via[2];	/* the edge the search came in by */
};

static GW_SHARED struct ulock graph_lock = ULOCK_INIT;	/* everything below */
static GW_SHARED struct onode *buckets[NODE_BUCKETS];
static GW_SHARED char *arena;
static GW_SHARED size_t arena_left;
static GW_SHARED unsigned search_gen;
GW_SHARED atomic_int order_on;
static GW_SHARED atomic_uint nreported;
static GW_SHARED uint64_t reported_sigs[256];
static GW_SHARED unsigned nsigs;
static GW_SHARED uint64_t safe_sigs[256];		/* cycles found gated, counted once */
static GW_SHARED unsigned nsafe_sigs;
static GW_SHARED atomic_uint nsafe;
static GW_SHARED atomic_uintptr_t safe_gates[ORDER_KEEP_GATES];

GW_SHARED _Atomic uint64_t order_chains[ORDER_CHAIN_SLOTS];	/* lock-free cache */
static GW_SHARED atomic_uint nchains;

static void *
arena_alloc(size_t len)
{
	void *p;

	len = (len + 15) & ~(size_t)15;
	if (len > arena_left) {
		arena = pages_map(ARENA_CHUNK);
		if (arena == NULL) {
			arena_left = 0;
			return NULL;
		}
		arena_left = ARENA_CHUNK;
	}
	p = arena;
	arena += len;
	arena_left -= len;
	return p;
}

static uint64_t
mix(uint64_t h, uint64_t v)
{
	h ^= v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
	return h * 0xff51afd7ed558ccdull;
}

/*
 * More distinct chains than the cache holds: start it over rather than
 * validate every acquisition from now on.  Racing lookups only miss
 * (and validate again), which the graph answers from its edges.
 */
static void
chains_full(void)
{
	static atomic_int said;

	if (atomic_exchange(&said, 1) == 0)
		msg_say("more than %u lock chains: the lock-order cache starts "
		    "over each time it fills", ORDER_CHAIN_SLOTS / 4 * 3);
	memset((void *)order_chains, 0, sizeof order_chains);
	atomic_store(&nchains, 0);
}

uint64_t
order_chain_key(const struct thread *t, uintptr_t addr, unsigned gen,
    int shared)
{
	const struct held *h;
	uint64_t key = ORDER_CHAIN_SEED;
	uint32_t i;

	for (i = 0; i < t->nheld; i++) {
		h = &t->held[i];
		key = order_chain_next(key, h->addr, h->rec != NULL ?
		    atomic_load_explicit(&h->rec->gen, memory_order_relaxed) :
		    0, h->mode == GW_MODE_SHARED);
	}
	return order_chain_next(key, addr, gen, shared);
}

/* Look the chain up; add it when new.  True when it was already there. */
static int
chain_seen(uint64_t key)
{
	uint64_t cur;
	size_t i, n;

	for (i = order_chain_slot(key), n = 0; n < 32;
	    i = (i + 1) & (ORDER_CHAIN_SLOTS - 1), n++) {
		cur = atomic_load_explicit(&order_chains[i],
		    memory_order_relaxed);
		if (cur == key)
			return 1;
		if (cur != 0)
			continue;
		if (atomic_load(&nchains) > ORDER_CHAIN_SLOTS / 4 * 3) {
			chains_full();
			return 0;
		}
		if (atomic_compare_exchange_strong(&order_chains[i], &cur,
		    key)) {
			atomic_fetch_add(&nchains, 1);
			return 0;
		}
		if (cur == key)
			return 1;
	}
	return 0;
}

static struct onode *
node_get(int type, uintptr_t key, unsigned gen)
{
	size_t b = (size_t)(mix((uint64_t)type, key) >> 48) & (NODE_BUCKETS - 1);
	struct onode *n;

	for (n = buckets[b]; n != NULL; n = n->next)
		if (n->type == type && n->key == key) {
			if (n->gen != gen) {
				/* A new lock at an old address: start over. */
				n->gen = gen;
				n->edges = NULL;
			}
			return n;
		}
	n = arena_alloc(sizeof *n);
	if (n == NULL)
		return NULL;
	memset(n, 0, sizeof *n);
	n->type = type;
	n->key = key;
	n->gen = gen;
	n->next = buckets[b];
	buckets[b] = n;
	return n;
}

static int
edge_live(const struct oedge *e)
{
	return e->to->gen == e->to_gen;
}

static struct oedge *
edge_find(struct onode *from, struct onode *to)
{
	struct oedge *e;

	for (e = from->edges; e != NULL; e = e->next)
		if (e->to == to && edge_live(e))
			return e;
	return NULL;
}

/* Keep only the gates also held now: a gate must cover every time. */
static void
narrow_gates(struct oedge *e, const uintptr_t *held, int nheld)
{
	int i, k, keep = 0;

	for (i = 0; i < e->ngates; i++)
		for (k = 0; k < nheld; k++)
			if (e->gates[i] == held[k]) {
				e->gates[keep++] = e->gates[i];
				break;
			}
	e->ngates = keep;
}

/*
 * Where in Python the edge was made: the thread's own frames, which do
 * not move while it is in here, with or without the GIL.  Kept as code
 * and offset; named only if a report needs them.
 */
static void
edge_python(struct oedge *e, struct thread *t)
{
	const struct py_runtime *rt = gil_runtime();
	uintptr_t ts;
	int n;

	if (rt == NULL ||
	    py_thread_tstate(rt, (unsigned long)t->self, 0, &ts) == -1 ||
	    (n = py_tstate_sites(rt, ts, e->py, ORDER_PY_FRAMES)) <= 0)
		return;
	e->npy = n;
}

static struct oedge *
edge_add(struct onode *from, struct onode *to, int combo, struct thread *t,
    uintptr_t from_addr, uintptr_t to_addr, const uintptr_t *held,
    int nheld)
{
	struct oedge *e = edge_find(from, to);
	int i;

	if (e != NULL) {
		e->combos |= (uint8_t)(1u << combo);
		i = e->ngates;
		narrow_gates(e, held, nheld);
		/*
		 * Nothing new to check, unless a gate was lost: a cycle
		 * through this edge counted safe because of it is not any
		 * more, and must be found now.
		 */
		return e->ngates < i ? e : NULL;
	}
	e = arena_alloc(sizeof *e);
	if (e == NULL)
		return NULL;
	memset(e, 0, sizeof *e);
	e->to = to;
	e->to_gen = to->gen;
	e->combos = (uint8_t)(1u << combo);
	e->from_addr = from_addr;
	e->to_addr = to_addr;
	e->from_kind = from->kind;
	e->to_kind = to->kind;
	e->from_class = from->class_site;
	e->to_class = to->class_site;
	e->tid = atomic_load(&t->tid);
	thread_name(t, e->thread, sizeof e->thread);
	stack_capture(&e->stack, 0);
	stack_strip_self(&e->stack);
	edge_python(e, t);
	for (i = 0; i < nheld && e->ngates < ORDER_GATES; i++)
		if (held[i] != from_addr)
			e->gates[e->ngates++] = held[i];
	e->next = from->edges;
	from->edges = e;
	return e;
}

/* Can the search leave a node entered with via_read by a combo? */
static int
combo_allowed(int combo, int via_read, int rwlock)
{
	int from_shared = combo >> 1;

	return !(rwlock && via_read && from_shared);
}

/* The search's stack, kept for the next search (under graph_lock). */
struct sframe {
	struct onode	*n;
	int		 r;		/* entered by a read acquisition */
	struct oedge	*e;		/* next edge to try */
	int		 combo;		/* next combo of e to try */
};

#define SEARCH_DEPTH	65536

static GW_SHARED struct sframe *sstack;

/*
 * Depth-first from `start` (entered with start_read) looking for `goal`
 * entered in a way that allows leaving it in goal_from_shared mode.
 * Each (node, read state) is entered once per search, which bounds the
 * work by the size of the graph.  On success the path is left in the
 * nodes' via[] pointers; returns the read state at goal, or -1.
 */
static int
search(struct onode *start, int start_read, struct onode *goal,
    int goal_from_shared)
{
	struct sframe *f;
	struct onode *to;
	size_t top = 0;
	int nr, combo;

	if (sstack == NULL &&
	    (sstack = pages_map(SEARCH_DEPTH * sizeof *sstack)) == NULL)
		return -1;
	search_gen++;
	start->mark[start_read] = search_gen;
	start->via[start_read] = NULL;
	sstack[top++] = (struct sframe){ start, start_read, start->edges, 0 };
	while (top > 0) {
		f = &sstack[top - 1];
		if (f->e == NULL) {
			top--;
			continue;
		}
		if (f->combo == 4 || !edge_live(f->e)) {
			f->e = f->e->next;
			f->combo = 0;
			continue;
		}
		combo = f->combo++;
		nr = combo & 1;
		if (!(f->e->combos & (1u << combo)) ||
		    !combo_allowed(combo, f->r, f->n->kind == GW_LOCK_RWLOCK))
			continue;
		to = f->e->to;
		if (to->mark[nr] == search_gen)
			continue;
		to->mark[nr] = search_gen;
		to->via[nr] = f->e;
		f->e->via_from = f->n;
		f->e->via_from_read = (uint8_t)f->r;
		if (to == goal && !(goal->kind == GW_LOCK_RWLOCK && nr &&
		    goal_from_shared))
			return nr;
		if (top < SEARCH_DEPTH)
			sstack[top++] = (struct sframe){ to, nr, to->edges, 0 };
	}
	return -1;
}

/*
 * The cycle: the new edge first, then the path the search found from
 * its head back to its tail, in order.
 */
static int
collect(struct oedge *first, struct onode *goal, int goal_read,
    struct oedge **cyc, int max)
{
	struct onode *node = goal;
	struct oedge *e;
	int n = 0, r = goal_read, i;

	while ((e = node->via[r]) != NULL && n < max - 1) {
		cyc[n++] = e;
		r = e->via_from_read;
		node = e->via_from;
	}
	for (i = 0; i < n / 2; i++) {
		e = cyc[i];
		cyc[i] = cyc[n - 1 - i];
		cyc[n - 1 - i] = e;
	}
	memmove(cyc + 1, cyc, (size_t)n * sizeof *cyc);
	cyc[0] = first;
	return n + 1;
}

/* True the first time the cycle is put in sigs (a ring of 256). */
static int
first_time(struct oedge **cyc, int n, uint64_t *sigs, unsigned *nsigs)
{
	uint64_t sig = 0;
	unsigned i;
	int k;

	for (k = 0; k < n; k++)
		sig += mix((uintptr_t)cyc[k], 7);
	for (i = 0; i < *nsigs && i < 256; i++)
		if (sigs[i] == sig)
			return 0;
	sigs[(*nsigs)++ % 256] = sig;
	return 1;
}

int
order_common_gates(struct oedge **cyc, int n, uintptr_t *gates)
{
	int i, g, k, ng = 0, all;

	if (n <= 0)
		return 0;
	for (g = 0; g < cyc[0]->ngates; g++) {
		all = 1;
		for (i = 1; i < n && all; i++) {
			all = 0;
			for (k = 0; k < cyc[i]->ngates; k++)
				if (cyc[i]->gates[k] == cyc[0]->gates[g])
					all = 1;
		}
		if (all)
			gates[ng++] = cyc[0]->gates[g];
	}
	return ng;
}

/*
 * A cycle every link of which was made under one same lock cannot
 * deadlock while that lock is taken first on every path: counted, with
 * its gate, instead of reported.  Returns n for a cycle to report, -1
 * for a gated one (no other view of it is to be looked for either).
 */
static int
unless_gated(struct oedge **cyc, int n)
{
	uintptr_t gates[ORDER_GATES], cur;
	unsigned i;

	if (n == 0 || order_common_gates(cyc, n, gates) == 0)
		return n;
	if (first_time(cyc, n, safe_sigs, &nsafe_sigs)) {
		atomic_fetch_add(&nsafe, 1);
		for (i = 0; i < ORDER_KEEP_GATES; i++) {
			cur = 0;
			if (atomic_compare_exchange_strong(&safe_gates[i], &cur,
			    gates[0]) || cur == gates[0])
				break;
		}
	}
	return -1;
}

/*
 * Add from -> to (in one graph) and look for a cycle it closes.
 * Returns the cycle's length in cyc[], 0 for none, -1 for a gated one.
 */
static int
order_link(struct onode *from, struct onode *to, int hmode, int lmode,
    struct thread *t, const uintptr_t *held, int nheld,
    struct oedge **cyc, int max)
{
	int combo = (hmode == GW_MODE_SHARED) << 1 | (lmode == GW_MODE_SHARED);
	struct oedge *e;
	int r;

	if (from == to)
		return 0;
	e = edge_add(from, to, combo, t, from->addr, to->addr, held, nheld);
	if (e == NULL)
		return 0;
	r = search(to, lmode == GW_MODE_SHARED, from, hmode == GW_MODE_SHARED);
	if (r < 0)
		return 0;
	return unless_gated(cyc, collect(e, from, r, cyc, max));
}

/*
 * The held locks that get an edge into the new one: from the most
 * recent back to the first that was not a trylock.  Older locks need no
 * edge of their own: each was held when the next was taken, so the
 * graph already has a path from them (lockdep's reasoning); a trylock
 * made no edge, so the walk goes on past it.  This keeps the graph
 * linear in the nesting depth rather than quadratic.
 */
static uint32_t
order_first(struct thread *t)
{
	uint32_t i = t->nheld;

	while (i > 0) {
		i--;
		if (!t->held[i].try && t->held[i].kind != GW_LOCK_SEM)
			return i;
	}
	return 0;
}

static int
node_pair(struct lockrec *rec, uintptr_t addr, int kind, struct onode **n,
    struct onode **c)
{
	uintptr_t site = atomic_load(&rec->first_site);

	*n = node_get(NODE_INSTANCE, (uintptr_t)rec, atomic_load(&rec->gen));
	*c = node_get(NODE_CLASS, site, 0);
	if (*n == NULL || *c == NULL)
		return -1;
	(*n)->addr = (*c)->addr = addr;
	(*n)->kind = (*c)->kind = kind;
	(*n)->class_site = (*c)->class_site = site;
	return 0;
}

int
order_acquired(struct thread *t, struct lockrec *rec, uintptr_t addr,
    int kind, int mode, int try, struct order_cycle *found)
{
	uintptr_t held[ORDER_GATES * 4];
	struct oedge **cyc = found->edge;
	struct onode *to, *cto, *from, *cfrom;
	struct held *h;
	uint64_t key;
	uint32_t i, first, n = t->nheld;
	int len = 0, nh, view = ORDER_VIEW_INSTANCE, saved, first_seen = 0;

	if (n == 0 || try || rec == NULL || !atomic_load_explicit(&order_on,
	    memory_order_relaxed))
		return 0;
	/*
	 * Every held lock goes into the chain, not only those that get an
	 * edge: a different set held around the same edge may narrow its
	 * gates.  Generations too: a lock renewed at an old address makes a
	 * new chain.
	 */
	key = order_chain_key(t, addr, atomic_load_explicit(&rec->gen,
	    memory_order_relaxed), mode == GW_MODE_SHARED);
	if (chain_seen(key))
		return 0;
	first = order_first(t);
	saved = errno;
	thread_enter_shim();
	ulock_lock(&graph_lock);
	for (nh = 0; nh < (int)n && nh < ORDER_GATES * 4; nh++)
		held[nh] = t->held[nh].addr;
	if (node_pair(rec, addr, kind, &to, &cto) == -1)
		goto out;
	for (i = first; i < n && len == 0; i++) {
		h = &t->held[i];
		if (h->rec == NULL || h->addr == addr ||
		    h->kind == GW_LOCK_SEM)
			continue;
		if (node_pair(h->rec, h->addr, h->kind, &from, &cfrom) == -1)
			break;
		view = ORDER_VIEW_INSTANCE;
		len = order_link(from, to, h->mode, mode, t, held, nh, cyc,
		    ORDER_MAX_CYCLE);
		if (len == 0) {
			view = ORDER_VIEW_CLASS;
			len = order_link(cfrom, cto, h->mode, mode, t, held,
			    nh, cyc, ORDER_MAX_CYCLE);
		}
	}
	if (len > 0 && first_time(cyc, len, reported_sigs, &nsigs)) {
		atomic_fetch_add(&nreported, 1);
		found->view = view;
		found->len = len;
		first_seen = 1;
	}
out:
	ulock_unlock(&graph_lock);
	thread_leave_shim();
	errno = saved;
	return first_seen;
}

void
order_enable(void)
{
	atomic_store(&order_on, 1);
}

unsigned
order_reported(void)
{
	return atomic_load(&nreported);
}

unsigned
order_safe(uintptr_t *gates, int max)
{
	int i, n = 0;

	for (i = 0; i < ORDER_KEEP_GATES && n < max; i++)
		if ((gates[n] = atomic_load(&safe_gates[i])) != 0)
			n++;
	for (i = n; i < max; i++)
		gates[i] = 0;
	return atomic_load(&nsafe);
}

void
order_after_fork_child(void)
{
	ulock_init(&graph_lock);
}
