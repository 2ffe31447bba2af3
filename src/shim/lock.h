/*
 * The lock table: one record per lock address the shim has seen.
 *
 * Records handed out in order from an array reserved once (untouched
 * pages cost no memory), found by open addressing in indexes that only
 * grow (lock.c); insert-only and lock-free: a hook finds or adds its
 * lock with a hash and a few compares, and never waits for another
 * thread.  A destroyed lock keeps its record but starts a new
 * generation, so a new lock at the same address starts clean.  When
 * the table is full, new locks get no record (NULL): the caller keeps
 * working without the record's details, and the shim says so once.
 */
#ifndef GW_LOCK_H
#define GW_LOCK_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "stats.h"

/*
 * Laid out for the threads that take a lock in turn: what every
 * acquisition and release reads or writes lies in the first two cache
 * lines (the keys and owner, then the counts, stats.h), so that a lock
 * handed from one CPU to another moves two lines of its record, not
 * four; records start on a line of their own, so that no two locks'
 * share one.
 */
struct lockrec {
	atomic_uintptr_t addr;		/* the key; 0: empty slot */
	atomic_int	live;		/* kind + 1 while the generation is
					   current (lock_current), else 0 */
	atomic_int	owner;		/* TID of the exclusive holder, or 0 */
	atomic_uintptr_t owner_site;	/* where the owner acquired it */
	atomic_uintptr_t owner_thread;	/* its struct thread, a hint: found
					   without a search (thread.h) */
	/* Python locks: the Python line of the owner's acquisition. */
	atomic_uintptr_t py_code;	/* 0: none known */
	_Atomic long	py_addr;
	/*
	 * clock_ticks() at which a thread, still waiting, began to wait
	 * for the lock (0: none): a hold left untimed that makes it wait
	 * lasted at least until its release (track.c).  Set by the first
	 * waiter, cleared by that waiter when its wait ends.
	 */
	_Atomic uint64_t blocked_since;
	/* lock_chain_part(addr, gen), kept with gen (order.h's chains). */
	_Atomic uint64_t chain_part;
	struct lockstat	stat __attribute__((aligned(64)));
	/* Written when a generation begins or ends: */
	uint32_t	pos;		/* in the order slots were taken */
	atomic_uint	gen;		/* bumped by lock_forget */
	atomic_int	kind;		/* enum gw_lock_kind */
	atomic_int	fresh;		/* destroyed: the next use begins anew */
	atomic_uintptr_t first_site;	/* where this generation began */
};

/*
 * A lock's own part of a step of a lock-order chain key (order.h): its
 * address and generation, which a record keeps (chain_part), so that a
 * nested acquisition reads one word of the line it reads anyway.
 */
static inline uint64_t
lock_chain_part(uintptr_t addr, unsigned gen)
{
	return (uint64_t)addr << 1 ^ (uint64_t)gen << 48;
}

/*
 * A record that no lock has (its key 0, never current): where a record
 * is remembered (track.h), "none" without a test for NULL.
 */
extern struct lockrec lock_none;

/* Reserve the table; slots is rounded up to a power of two. */
int	lock_table_init(size_t slots);

/* Find the record for addr, adding it if new.  NULL: table full. */
struct lockrec	*lock_get(uintptr_t addr, int kind, uintptr_t site);

/*
 * Does rec, found for a lock of this kind, need no new generation (it
 * was not destroyed since, nor reused as another kind)?  A slot's
 * address never changes, so a caller that remembers the record of an
 * address may use it again without lock_get while this holds.  One
 * word, kept by lock.c with the fields it sums up (not fresh, a first
 * site, this kind): every acquisition asks.
 */
static inline int
lock_current(struct lockrec *rec, int kind)
{
	return atomic_load_explicit(&rec->live, memory_order_relaxed) ==
	    kind + 1;
}

/* Find without adding.  NULL: unknown lock. */
struct lockrec	*lock_find(uintptr_t addr);

/* The lock at addr was destroyed: its next use starts a new record. */
void	lock_forget(uintptr_t addr);

/* Walk the records in use: start with NULL. */
struct lockrec	*lock_next(struct lockrec *);

/* Slots in use and the table's size. */
size_t	lock_table_used(void);
size_t	lock_table_size(void);

/*
 * Semaphores count as held by the thread that took their count to zero
 * (the record's owner), not through a held array: readers that want
 * each thread's collect them in one walk, sort them by owner and look
 * each thread up, rather than walk the table once per thread.
 */
struct sem_owner {
	pid_t		 tid;
	struct lockrec	*rec;
	uintptr_t	 addr, site;	/* as read when collected */
};

/* rec as a held semaphore: 1 with *so filled, or 0. */
int	lock_sem_owner(struct lockrec *rec, struct sem_owner *so);

/* Sort so[0..n) by owner. */
void	lock_sem_owners_sort(struct sem_owner *so, size_t n);

/* Of a sorted so[0..n), those of tid: how many, from *first on. */
size_t	lock_sem_owners_of(const struct sem_owner *so, size_t n, pid_t tid,
	    size_t *first);

#endif /* GW_LOCK_H */
