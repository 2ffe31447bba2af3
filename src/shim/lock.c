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

GW_SHARED struct lockrec lock_none;

static struct lockrec *table;
static size_t mask;
/*
 * A bit per slot, set when a lock whose probe starts there is added:
 * a lookup of a lock never added (most locks a program destroys were
 * never taken under the shim's eyes) reads this dense map instead of
 * the sparse table, whose every untouched page costs a fault and a
 * page of memory, shared with the monitor, to read.  Never cleared:
 * slots are never freed.
 */
static _Atomic uint64_t *homes;
static GW_SHARED atomic_size_t used;
/*
 * The slots in use, in the order they were taken (slot index + 1; 0
 * while being written): walks visit only these, not the whole table,
 * which is mostly empty and would be read cache line by cache line.
 */
static _Atomic uint32_t *order;
static GW_SHARED atomic_int full_said;

int
lock_table_init(size_t slots)
{
	size_t n = 1024;

	while (n < slots && n < ((size_t)1 << 30))
		n <<= 1;
	table = pages_map(n * sizeof *table);
	order = pages_map(n * sizeof *order);
	homes = pages_map(n / 64 * sizeof *homes);
	if (table == NULL || order == NULL || homes == NULL) {
		table = NULL;
		return -1;
	}
	mask = n - 1;
	return 0;
}

static size_t
hash(uintptr_t addr)
{
	uint64_t h = (uint64_t)addr * 0x9e3779b97f4a7c15ull;

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
	size_t home, i, n;
	struct lockrec *r;
	uintptr_t key;

	if (table == NULL)
		return NULL;
	home = hash(addr);
	for (i = home, n = 0; n < LOCK_MAX_PROBE; i = (i + 1) & mask, n++) {
		r = &table[i];
		key = atomic_load_explicit(&r->addr, memory_order_acquire);
		if (key == addr) {
			if (!lock_current(r, kind))
				begin_generation(r, kind, site);
			return r;
		}
		if (key != 0)
			continue;
		if (atomic_load(&used) >= (mask + 1) / 4 * 3)
			break;
		/* Before the key shows: a lookup that sees it sees this. */
		home_take(home);
		if (atomic_compare_exchange_strong(&r->addr, &key, addr)) {
			size_t at = atomic_fetch_add(&used, 1);

			atomic_store_explicit(&r->chain_part,
			    lock_chain_part(addr, 0), memory_order_relaxed);

			r->pos = (uint32_t)at;
			atomic_store_explicit(&order[at], (uint32_t)i + 1,
			    memory_order_release);
			begin_generation(r, kind, site);
			return r;
		}
		if (key == addr)	/* another thread added it just now */
			return r;
	}
	say_full();
	return NULL;
}

struct lockrec *
lock_find(uintptr_t addr)
{
	size_t i, n;
	uintptr_t key;

	if (table == NULL || !home_taken(hash(addr)))
		return NULL;
	for (i = hash(addr), n = 0; n < LOCK_MAX_PROBE; i = (i + 1) & mask,
	    n++) {
		key = atomic_load_explicit(&table[i].addr,
		    memory_order_acquire);
		if (key == addr)
			return &table[i];
		if (key == 0)
			return NULL;
	}
	return NULL;
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

	if (table == NULL)
		return NULL;
	for (k = r == NULL ? 0 : (size_t)r->pos + 1; k < n; k++) {
		slot = atomic_load_explicit(&order[k], memory_order_acquire);
		if (slot != 0)
			return &table[slot - 1];
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
	return table == NULL ? 0 : mask + 1;
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
