/* The lock table: see lock.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gilwatch/snapshot.h"
#include "lock.h"
#include "msg.h"
#include "pages.h"
#include "share.h"

#define LOCK_MAX_PROBE	64	/* a longer run counts as full */
#define FRONT_SLOTS	4096	/* the small index, eight pages */
#define FRONT_PROBE	8	/* a longer run goes on in the large one */

GW_SHARED struct lockrec lock_none;

/*
 * The records lie together, in the order they were taken, and two
 * indexes find them: a small one that the first few thousand locks
 * fill, and a large sparse one for the rest.  A record read or written
 * for the first time is a page touched for the first time, and that
 * costs a fault (10 to 30 us in a VM with shadow page tables); with
 * the records in the slots of one sparse table, every new lock of a
 * program's start touched a page of its own (some 55 of them at a
 * Python start, 1.5 ms).  Now the first hundred locks touch about
 * twenty pages: eight of the small index, the records', the order's.
 *
 * An index entry is the record's number + 1 under 32 bits of the
 * address's hash, so that a probe past another lock's entry seldom
 * reads that lock's record.  Entries are set once and never cleared,
 * so every probe for an address walks the same slots: two threads
 * adding one lock meet at the same empty slot and one of them wins it.
 * An address goes to the large index only when its FRONT_PROBE slots
 * of the small one are all taken by others; a lookup goes there in
 * that case only.
 */
static struct lockrec *records;
static _Atomic uint64_t *front, *back;
static size_t mask;		/* of back, and the records' cap's measure */
/*
 * A bit per slot of back, set when a lock whose probe starts there is
 * added: a lookup of a lock never added (most locks a program destroys
 * were never taken under the shim's eyes) reads this dense map instead
 * of the sparse index.  Never cleared: slots are never freed.
 */
static _Atomic uint64_t *homes;
static GW_SHARED atomic_size_t taken;	/* records handed out */
static GW_SHARED atomic_size_t used;	/* records in an index */
/*
 * The records in an index, in the order they got there (record number
 * + 1; 0 while being written): walks visit only these.  A record
 * handed out to a thread that lost its slot to the same lock added by
 * another is in no index and never walked.
 */
static _Atomic uint32_t *order;
static GW_SHARED atomic_int full_said;

int
lock_table_init(size_t slots)
{
	size_t n = 1024;

	while (n < slots && n < ((size_t)1 << 30))
		n <<= 1;
	records = pages_map(n * sizeof *records);
	order = pages_map(n * sizeof *order);
	front = pages_map(FRONT_SLOTS * sizeof *front);
	back = pages_map(n * sizeof *back);
	homes = pages_map(n / 64 * sizeof *homes);
	if (records == NULL || order == NULL || front == NULL ||
	    back == NULL || homes == NULL) {
		records = NULL;
		return -1;
	}
	mask = n - 1;
	atomic_store(&taken, 0);
	atomic_store(&used, 0);
	return 0;
}

static uint64_t
hash(uintptr_t addr)
{
	return (uint64_t)addr * 0x9e3779b97f4a7c15ull;
}

static size_t
front_home(uint64_t h)
{
	return (size_t)(h >> 20) & (FRONT_SLOTS - 1);
}

static size_t
back_home(uint64_t h)
{
	return (size_t)(h >> 20) & mask;
}

static int
home_taken(size_t i)
{
	return (atomic_load_explicit(&homes[i / 64], memory_order_relaxed) >>
	    (i % 64) & 1) != 0;
}

static void
home_take(size_t i)
{
	if (!home_taken(i))
		atomic_fetch_or(&homes[i / 64], (uint64_t)1 << (i % 64));
}

/* errno stays: lock_get runs on the hooks' path, which keeps it. */
static void
say_full(void)
{
	int saved = errno;

	if (atomic_exchange(&full_said, 1) == 0)
		msg_say("lock table full (%zu locks): new locks are tracked "
		    "without first-seen details; raise GILWATCH_LOCKS",
		    atomic_load(&used));
	errno = saved;
}

static uint64_t
entry_of(uint64_t h, size_t rec)
{
	return (h & 0xffffffff00000000ull) | (uint64_t)(rec + 1);
}

/* The record of entry e, if it is addr's. */
static struct lockrec *
entry_rec(uint64_t e, uint64_t h, uintptr_t addr)
{
	struct lockrec *r;

	if ((e ^ h) >> 32 != 0)
		return NULL;
	r = &records[(uint32_t)e - 1];
	return atomic_load_explicit(&r->addr, memory_order_relaxed) == addr ?
	    r : NULL;
}

enum walk { FOUND, ABSENT, CROWDED };

/*
 * Walk an index's slots for addr from home, at most limit of them.
 * FOUND: *rec is addr's.  ABSENT: an empty slot ends the walk, and
 * addr is in no index.  CROWDED: limit slots, all others'.  With add
 * (an entry for a record of addr), an empty slot is taken for it; if
 * another thread takes it first, the walk goes on from it as if it had
 * been taken all along.
 */
static enum walk
walk(_Atomic uint64_t *ix, size_t ixmask, size_t home, size_t limit,
    uintptr_t addr, uint64_t h, uint64_t add, struct lockrec **rec)
{
	size_t i, n;
	uint64_t e;

	for (i = home, n = 0; n < limit; i = (i + 1) & ixmask, n++) {
		e = atomic_load_explicit(&ix[i], memory_order_acquire);
		if (e == 0 && add != 0 && atomic_compare_exchange_strong(
		    &ix[i], &e, add)) {
			*rec = &records[(uint32_t)add - 1];
			return FOUND;
		}
		if (e == 0)
			return ABSENT;
		if ((*rec = entry_rec(e, h, addr)) != NULL)
			return FOUND;
	}
	return CROWDED;
}

/* Find addr's record, adding add's (0: none) where it is absent. */
static struct lockrec *
lookup(uintptr_t addr, uint64_t h, uint64_t add)
{
	struct lockrec *r = NULL;

	switch (walk(front, FRONT_SLOTS - 1, front_home(h), FRONT_PROBE,
	    addr, h, add, &r)) {
	case FOUND:
		return r;
	case ABSENT:
		return NULL;
	case CROWDED:
		break;
	}
	if (add == 0 && !home_taken(back_home(h)))
		return NULL;
	/* Before the entry shows: a lookup that sees it sees this. */
	if (add != 0)
		home_take(back_home(h));
	return walk(back, mask, back_home(h), LOCK_MAX_PROBE, addr, h, add,
	    &r) == FOUND ? r : NULL;
}

static void
begin_generation(struct lockrec *r, int kind, uintptr_t site)
{
	int one = 1;
	uintptr_t none = 0;

	atomic_store(&r->kind, kind);
	if (atomic_compare_exchange_strong(&r->fresh, &one, 0))
		atomic_store(&r->first_site, site);
	else
		atomic_compare_exchange_strong(&r->first_site, &none, site);
	atomic_store(&r->live, atomic_load(&r->first_site) != 0 ? kind + 1 :
	    0);
}

struct lockrec *
lock_get(uintptr_t addr, int kind, uintptr_t site)
{
	uint64_t h = hash(addr);
	struct lockrec *r, *mine;
	size_t k, at;

	if (records == NULL)
		return NULL;
	if ((r = lookup(addr, h, 0)) == NULL) {
		if ((k = atomic_fetch_add(&taken, 1)) >= (mask + 1) / 4 * 3) {
			say_full();
			return NULL;
		}
		/* Its key before its entry: a probe that meets it reads it. */
		mine = &records[k];
		atomic_store_explicit(&mine->addr, addr, memory_order_relaxed);
		atomic_store_explicit(&mine->chain_part,
		    lock_chain_part(addr, 0), memory_order_relaxed);
		if ((r = lookup(addr, h, entry_of(h, k))) == NULL) {
			say_full();
			return NULL;
		}
		if (r == mine) {
			at = atomic_fetch_add(&used, 1);
			r->pos = (uint32_t)at;
			atomic_store_explicit(&order[at], (uint32_t)k + 1,
			    memory_order_release);
			begin_generation(r, kind, site);
			return r;
		}
		/* Another thread added it just now: mine stays unused. */
	}
	if (!lock_current(r, kind))
		begin_generation(r, kind, site);
	return r;
}

struct lockrec *
lock_find(uintptr_t addr)
{
	if (records == NULL)
		return NULL;
	return lookup(addr, hash(addr), 0);
}

void
lock_forget(uintptr_t addr)
{
	struct lockrec *r = lock_find(addr);

	if (r == NULL)
		return;
	atomic_store(&r->live, 0);
	atomic_store_explicit(&r->chain_part, lock_chain_part(addr,
	    atomic_fetch_add(&r->gen, 1) + 1), memory_order_relaxed);
	atomic_store(&r->owner, 0);
	atomic_store(&r->owner_site, 0);
	/* first_site stays, for reports about the lock that was here. */
	atomic_store(&r->fresh, 1);
}

/* A slot taken just now may be missed: it is the next walk's. */
struct lockrec *
lock_next(struct lockrec *r)
{
	size_t k, n = atomic_load(&used);
	uint32_t slot;

	if (records == NULL)
		return NULL;
	for (k = r == NULL ? 0 : (size_t)r->pos + 1; k < n; k++) {
		slot = atomic_load_explicit(&order[k], memory_order_acquire);
		if (slot != 0)
			return &records[slot - 1];
	}
	return NULL;
}

size_t
lock_table_used(void)
{
	return atomic_load(&used);
}

size_t
lock_table_size(void)
{
	return records == NULL ? 0 : mask + 1;
}

int
lock_sem_owner(struct lockrec *rec, struct sem_owner *so)
{
	if (atomic_load(&rec->kind) != GW_LOCK_SEM ||
	    (so->tid = atomic_load(&rec->owner)) == 0)
		return 0;
	so->rec = rec;
	so->addr = atomic_load(&rec->addr);
	so->site = atomic_load(&rec->owner_site);
	return 1;
}

static int
by_owner(const void *a, const void *b)
{
	const struct sem_owner *x = a, *y = b;

	return (x->tid > y->tid) - (x->tid < y->tid);
}

void
lock_sem_owners_sort(struct sem_owner *so, size_t n)
{
	qsort(so, n, sizeof *so, by_owner);
}

size_t
lock_sem_owners_of(const struct sem_owner *so, size_t n, pid_t tid,
    size_t *first)
{
	size_t lo = 0, hi = n, mid, k = 0;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (so[mid].tid < tid)
			lo = mid + 1;
		else
			hi = mid;
	}
	*first = lo;
	while (lo + k < n && so[lo + k].tid == tid)
		k++;
	return k;
}
