/*
 * The lock sections of a published frame: the most waited-for locks
 * with their statistics, the deadlock cycles present now, and the
 * lock-order inversions reported so far.  See publish-int.h.
 */
#include <stdlib.h>
#include <string.h>

#include "deadlock.h"
#include "gil.h"
#include "grow.h"
#include "lock.h"
#include "order.h"
#include "pylock-type.h"
#include "publish-int.h"
#include "waitfor.h"

#define CYCLE_MAX	65536	/* threads in one cycle, as deadlock.c */

struct top {
	struct lockrec	*rec;
	uint64_t	 wait;
	uint64_t	 acquired;
};

/* From publish_locks_scan, for the frame being made. */
static struct top top[GW_SHM_TOP_LOCKS];
static int ntop;
static struct sem_owner *sems;		/* by owner */
static size_t nsems, sems_cap;

/* The PyMutexes waited on, all together (clock ticks), by the scan. */
static struct {
	uint32_t	 locks;
	uint64_t	 waits, wait, wait_max;
} pymutex;

static struct wf_frame *cyc;		/* search scratch */
static size_t cyc_cap;
static unsigned cyc_start;		/* where the next searches begin */

static struct gw_shm_order orders[GW_SHM_ORDERS];
static unsigned orders_seen = ~0u, norders;

static uint64_t
ld(_Atomic uint64_t *p)
{
	return atomic_load_explicit(p, memory_order_relaxed);
}

static uint64_t
max64(uint64_t a, uint64_t b)
{
	return a > b ? a : b;
}

/* Insert into top[0..*n-1], biggest wait first (then acquisitions). */
static void
top_insert(struct top *t, int *n, const struct top *e)
{
	int i;

	for (i = *n; i > 0; i--) {
		if (t[i - 1].wait > e->wait || (t[i - 1].wait == e->wait &&
		    t[i - 1].acquired >= e->acquired))
			break;
		if (i < GW_SHM_TOP_LOCKS)
			t[i] = t[i - 1];
	}
	if (i < GW_SHM_TOP_LOCKS) {
		t[i] = *e;
		if (*n < GW_SHM_TOP_LOCKS)
			(*n)++;
	}
}

static void
fill_sites(struct gw_shm_site *out, struct site_stat *in, double tpn)
{
	int i;

	for (i = 0; i < GW_SHM_SITES && i < STATS_SITES; i++) {
		out[i].ip = atomic_load_explicit(&in[i].site,
		    memory_order_relaxed);
		out[i].count = ld(&in[i].count);
		out[i].ns = publish_ns(ld(&in[i].ticks), tpn);
		pubsym_want(out[i].ip, 0);
	}
}

uint8_t
publish_py_lock(uintptr_t addr, int kind, struct lockrec *rec)
{
	if (kind != GW_LOCK_SEM || !publish_watched())
		return GW_SHM_PYLOCK_NONE;
	if (rec == NULL)
		rec = lock_find(addr);
	return (uint8_t)pylock_type(addr, rec, NULL);
}

static void
fill_lock(struct gw_shm_lock *l, struct lockrec *rec, double tpn)
{
	struct lockstat *s = &rec->stat;
	int m;

	memset(l, 0, sizeof *l);
	l->addr = atomic_load(&rec->addr);
	l->kind = (uint8_t)atomic_load(&rec->kind);
	l->py_type = publish_py_lock(l->addr, l->kind, rec);
	l->owner = atomic_load(&rec->owner);
	l->first_site = atomic_load(&rec->first_site);
	if (l->owner != 0)
		l->owner_site = atomic_load(&rec->owner_site);
	for (m = 0; m < 2; m++) {
		l->acquired += ld(&s->m[m].acquired);
		l->contended += ld(&s->m[m].contended);
		l->wait_total_ns += publish_ns(ld(&s->m[m].wait_total), tpn);
		l->wait_max_ns = max64(l->wait_max_ns,
		    publish_ns(ld(&s->m[m].wait_max), tpn));
		l->hold_total_ns += publish_ns(ld(&s->m[m].hold_total), tpn);
		l->hold_max_ns = max64(l->hold_max_ns,
		    publish_ns(ld(&s->m[m].hold_max), tpn));
	}
	/* The GIL's longest hold is gil.c's, which times every hold. */
	if (l->kind == GW_LOCK_GIL)
		l->hold_max_ns = gil_hold_max_ns();
	l->owner_changes = ld(&s->owner_changes);
	l->cond_waits = ld(&s->cond_waits);
	l->cond_signals = ld(&s->cond_signals);
	l->cond_lost = ld(&s->cond_lost);
	l->cond_waiters = atomic_load(&s->cond_waiters);
	fill_sites(l->waiters, s->waiters, tpn);
	fill_sites(l->holders, s->holders, tpn);
	pubsym_want(l->addr, 1);
	pubsym_want(l->first_site, 0);
	pubsym_want(l->owner_site, 0);
}

/* A semaphore's count taken to zero: held by its owner (lock.h). */
static void
note_sem(const struct sem_owner *so)
{
	struct sem_owner *p;

	if ((p = grow(sems, &sems_cap, nsems + 1, sizeof *sems, 64)) == NULL)
		return;		/* the held counts come out short */
	sems = p;
	sems[nsems++] = *so;
}

void
publish_locks_scan(struct gw_shm_frame *f)
{
	struct lockrec *rec = NULL;
	struct lockstat *s;
	struct sem_owner so;
	struct top e;
	pid_t owner;

	ntop = 0;
	nsems = 0;
	memset(&pymutex, 0, sizeof pymutex);
	while ((rec = lock_next(rec)) != NULL) {
		s = &rec->stat;
		e.rec = rec;
		e.wait = ld(&s->m[0].wait_total) + ld(&s->m[1].wait_total);
		e.acquired = ld(&s->m[0].acquired) + ld(&s->m[1].acquired);
		/* Counted only when a wait ends (track_pymutex_waited). */
		if (atomic_load(&rec->kind) == GW_LOCK_PYMUTEX &&
		    e.acquired != 0) {
			pymutex.locks++;
			pymutex.waits += ld(&s->m[0].contended);
			pymutex.wait += e.wait;
			pymutex.wait_max = max64(pymutex.wait_max,
			    ld(&s->m[0].wait_max));
		}
		owner = atomic_load(&rec->owner);
		if (lock_sem_owner(rec, &so))
			note_sem(&so);
		if (e.acquired == 0 && ld(&s->cond_waits) == 0 &&
		    ld(&s->cond_signals) == 0 && owner == 0)
			continue;
		f->locks_total++;
		top_insert(top, &ntop, &e);
	}
	lock_sem_owners_sort(sems, nsems);
}

uint32_t
publish_sems_held(pid_t tid, uintptr_t skip, struct gw_shm_held *out,
    uint32_t max)
{
	struct gw_shm_held *h;
	size_t k, first, count = lock_sem_owners_of(sems, nsems, tid, &first);
	uint32_t n = 0;

	for (k = first; k < first + count; k++) {
		if (skip != 0 && sems[k].addr == skip)
			continue;
		if (n < max) {
			h = &out[n];
			memset(h, 0, sizeof *h);
			h->addr = sems[k].addr;
			h->site = sems[k].site;
			h->count = 1;
			h->kind = GW_LOCK_SEM;
			h->mode = GW_MODE_EXCLUSIVE;
			h->py_type = publish_py_lock(h->addr, h->kind, NULL);
			pubsym_want(h->site, 0);
			pubsym_want(h->addr, 1);
		}
		n++;
	}
	return n;
}

void
publish_locks(struct shm_writer *w, struct gw_shm_frame *f, double tpn)
{
	struct gw_shm_lock *out;
	size_t room;
	int i, n;

	out = shm_writer_room(w, &room);
	n = (int)(room / sizeof *out) < ntop ? (int)(room / sizeof *out) :
	    ntop;
	for (i = 0; i < n; i++)
		fill_lock(&out[i], top[i].rec, tpn);
	f->locks_off = shm_writer_claim(w, (size_t)n * sizeof *out);
	f->nlocks = (uint32_t)n;
	f->pymutex_locks = pymutex.locks;
	f->pymutex_waits = pymutex.waits;
	f->pymutex_wait_ns = publish_ns(pymutex.wait, tpn);
	f->pymutex_wait_max_ns = publish_ns(pymutex.wait_max, tpn);
}

static pid_t
tid_of(void *node)
{
	return atomic_load(&((struct thread *)node)->tid);
}

static int
linked(const struct gw_shm_link *l, uint32_t n, pid_t tid)
{
	uint32_t i;

	for (i = 0; i < n; i++)
		if (l[i].tid == tid)
			return 1;
	return 0;
}

static int
scratch(void)
{
	size_t need = (size_t)thread_count() + 2;
	void *p;

	if (need > CYCLE_MAX)
		need = CYCLE_MAX;
	if ((p = grow(cyc, &cyc_cap, need, sizeof *cyc, need)) == NULL)
		return -1;
	cyc = p;
	return 0;
}

/* Look for a cycle through t and add its links; 0 when out of room. */
static int
search(struct thread *t, struct gw_shm_link *out, uint32_t max,
    struct gw_shm_frame *f)
{
	int n, i;

	n = wf_find_cycle(deadlock_edge, NULL, t, cyc, (int)cyc_cap);
	if (n <= 0 || !deadlock_actual(cyc, n))
		return 1;
	for (i = 0; i < n; i++)
		if (linked(out, f->nlinks, tid_of(cyc[i].node)))
			return 1;	/* found from another of its threads */
	if (f->nlinks + (uint32_t)n > max) {
		f->flags |= GW_SHM_TRUNC_LINKS;
		return 0;
	}
	for (i = 0; i < n; i++) {
		struct gw_shm_link *l = &out[f->nlinks++];

		memset(l, 0, sizeof *l);
		l->cycle = f->cycles;
		l->tid = tid_of(cyc[i].node);
		l->held_by = tid_of(cyc[i].edge.to);
		l->kind = (uint8_t)cyc[i].edge.kind;
		l->mode = (uint8_t)cyc[i].edge.mode;
		l->lock = cyc[i].edge.lock;
		l->site = cyc[i].edge.site;
		l->py_type = publish_py_lock(l->lock, l->kind, NULL);
		pubsym_want(l->site, 0);
		pubsym_want(l->lock, 1);
	}
	f->cycles++;
	return 1;
}

static int
candidate(struct thread *t)
{
	int st;

	if (!atomic_load(&t->in_use) || t->internal)
		return 0;
	st = atomic_load(&t->state);
	return st == GW_STATE_BLOCKED || st == GW_STATE_JOINING;
}

/*
 * Searches from the blocked threads, at most CYCLE_SEARCHES of them per
 * frame, taking up where the last frame stopped: a cycle stays, so it
 * is found within a few frames however many threads are blocked.
 */
void
publish_cycles(struct shm_writer *w, struct gw_shm_frame *f)
{
	struct gw_shm_link *out;
	struct thread *t;
	size_t room;
	unsigned k, budget = CYCLE_SEARCHES, pass;
	uint32_t max;

	out = shm_writer_room(w, &room);
	max = (uint32_t)(room / sizeof *out);
	f->nlinks = 0;
	if (scratch() == -1)
		goto done;
	for (pass = 0; pass < 2 && budget > 0; pass++) {
		for (t = thread_first(), k = 0; t != NULL && budget > 0;
		    t = t->next) {
			if (!candidate(t))
				continue;
			k++;
			if ((pass == 0 && k <= cyc_start) ||
			    (pass == 1 && k > cyc_start))
				continue;
			budget--;
			if (linked(out, f->nlinks, atomic_load(&t->tid)))
				continue;
			if (!search(t, out, max, f))
				budget = 0;
		}
		if (budget == 0)
			cyc_start = k;
		else if (pass == 0)
			continue;
		else
			cyc_start = 0;
	}
done:
	f->links_off = shm_writer_claim(w, f->nlinks * sizeof *out);
}

void
publish_orders(struct shm_writer *w, struct gw_shm_frame *f)
{
	struct gw_shm_order *out;
	unsigned n = order_reported(), i;
	size_t room;

	if (n != orders_seen) {
		norders = 0;
		for (i = 0; i < n && i < GW_SHM_ORDERS &&
		    i < ORDER_KEEP_SUMMARIES; i++)
			if (order_summary(i, orders[norders].text,
			    sizeof orders[norders].text) == 0)
				norders++;
		orders_seen = n;
	}
	f->inversions = n;
	out = shm_writer_room(w, &room);
	n = (unsigned)(room / sizeof *out) < norders ?
	    (unsigned)(room / sizeof *out) : norders;
	memcpy(out, orders, n * sizeof *out);
	f->orders_off = shm_writer_claim(w, n * sizeof *out);
	f->norders = n;
}
