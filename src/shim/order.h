/*
 * Lock-order validation, after the kernel's lockdep: every time a thread
 * holding H1..Hn acquires L, the edges Hi -> L join a graph; an edge
 * that closes a cycle is a deadlock waiting for an unlucky interleaving,
 * reported the first time the order is seen, not when it bites.
 *
 * Two graphs are kept.  The instance graph has one node per lock (a
 * destroyed lock's node starts over when its address is reused).  The
 * class graph has one node per place locks are initialised (or first
 * seen), so an inversion between two objects of the same two kinds is
 * found even when each run touches different instances.
 *
 * Rules: a successful trylock adds no edge into the lock it took (it
 * cannot wait); a cycle whose only link through an rwlock is read held
 * then read wanted is not a deadlock (readers share); recursion on a
 * lock already held adds nothing; a cycle all of whose edges were made
 * while one same lock (a gate) was held is known safe, counted but not
 * reported (the JACK client's libdb mutexes, both orders taken inside
 * jack_client_open and close under one lock), until an edge of it is
 * made once without the gate.
 *
 * Cost: the held set plus the new lock is hashed (the chain) and looked
 * up in a lock-free cache; only a chain never seen before takes the
 * graph's lock and does work.
 */
#ifndef GW_ORDER_H
#define GW_ORDER_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "lock.h"
#include "py.h"
#include "stack.h"
#include "thread.h"

#define ORDER_GATES	4	/* gate candidates remembered per edge */
#define ORDER_MAX_CYCLE	256	/* locks printed in one cycle */
#define ORDER_PY_FRAMES	8	/* Python frames kept with an edge */
#define ORDER_KEEP_GATES 4	/* gates of safe cycles remembered */

enum { ORDER_VIEW_INSTANCE, ORDER_VIEW_CLASS };

struct onode;

/* from -> to: a thread held `from` when it acquired `to`. */
struct oedge {
	struct oedge	*next;		/* the from node's edge list */
	struct onode	*to;
	unsigned	 to_gen;	/* edge dies when the lock is destroyed */
	uint8_t		 combos;	/* bit (from shared << 1 | to shared) */
	uintptr_t	 from_addr, to_addr;
	int		 from_kind, to_kind;
	uintptr_t	 from_class, to_class;	/* init sites */
	pid_t		 tid;		/* who made the edge first ... */
	char		 thread[16];
	struct stack	 stack;		/* ... and where */
	struct py_site	 py[ORDER_PY_FRAMES];	/* and in Python, innermost
						   first, named at report */
	int		 npy;
	uintptr_t	 gates[ORDER_GATES];	/* held every time, but from */
	int		 ngates;
	struct onode	*via_from;	/* search scratch */
	uint8_t		 via_from_read;
};

/* A cycle an acquisition closed, first seen: order_report's to write. */
struct order_cycle {
	int		 view;		/* ORDER_VIEW_* */
	int		 len;
	struct oedge	*edge[ORDER_MAX_CYCLE];	/* edge[0]: the new one */
};

/* Turn the validator on (it starts off). */
void	order_enable(void);

/* Is it on?  order.c's, read by the acquisitions' fast path. */
extern atomic_int order_on;

/*
 * Chains.  The locks a thread holds, in the order it took them, then the
 * one it takes, are known by a key built a lock at a time: the key of
 * the held prefix, then the next lock (its address, its generation, its
 * mode).  A thread keeps each held entry's key (held.chain), so that the
 * key of a new chain costs one step, whatever the depth.  Keys are odd:
 * 0 marks an empty slot of the cache of chains seen (order_chain_cached).
 */
#define ORDER_CHAIN_SEED	0x2545f4914f6cdd1dull
#define ORDER_CHAIN_BITS	18
#define ORDER_CHAIN_SLOTS	(1u << ORDER_CHAIN_BITS)

/* The step by a lock whose part (lock_chain_part) is known. */
static inline uint64_t
order_chain_step(uint64_t key, uint64_t part, int shared)
{
	key ^= (part | (shared != 0)) + 0x9e3779b97f4a7c15ull + (key << 6) +
	    (key >> 2);
	return key * 0xff51afd7ed558ccdull | 1;
}

static inline uint64_t
order_chain_next(uint64_t key, uintptr_t addr, unsigned gen, int shared)
{
	return order_chain_step(key, lock_chain_part(addr, gen), shared);
}

/* The key of t's held locks, all of them, then addr: from scratch. */
uint64_t	order_chain_key(const struct thread *t, uintptr_t addr,
		    unsigned gen, int shared);

/*
 * Was the chain of key validated before?  Looks in its first slot of
 * the cache only: a chain found further on (or not at all) is for
 * order_acquired to look up.  The cache is order.c's, read here so that
 * a nested acquisition of a known chain makes no call.
 */
extern _Atomic uint64_t order_chains[ORDER_CHAIN_SLOTS];

/* The key's first slot: its top bits (the low one is always set). */
static inline size_t
order_chain_slot(uint64_t key)
{
	return (size_t)(key >> (64 - ORDER_CHAIN_BITS));
}

static inline int
order_chain_cached(uint64_t key)
{
	return atomic_load_explicit(&order_chains[order_chain_slot(key)],
	    memory_order_relaxed) == key;
}

/*
 * t, holding its current held[] set, now holds rec (acquired in mode;
 * try: by a trylock).  Call after the acquisition, before rec is pushed
 * on t's held array.  Returns 1 when the acquisition closed a cycle
 * never reported before, put in *found for order_report (the caller's
 * to call: detection does not report), else 0.
 */
int	order_acquired(struct thread *t, struct lockrec *rec, uintptr_t addr,
	    int kind, int mode, int try, struct order_cycle *found);

/* Number of inversions reported so far. */
unsigned	order_reported(void);

/*
 * Number of cycles found so far that every link made under one gate
 * lock (distinct cycles, not reported); the first gates of them, up to
 * max (at most ORDER_KEEP_GATES), in gates[], 0 past the last.
 */
unsigned	order_safe(uintptr_t *gates, int max);

/*
 * The locks held at every link of cyc[0..n-1] (at most ORDER_GATES),
 * into gates; returns how many.  A cycle with one is known safe.
 */
int	order_common_gates(struct oedge **cyc, int n, uintptr_t *gates);

/*
 * A one-line summary of the idx-th reported inversion, newest first
 * ("mutex a -> mutex b -> mutex a, by \"worker\" tid=12"), into buf.
 * Returns 0, or -1 when there is no such report.  Keeps the last
 * ORDER_KEEP_SUMMARIES.
 */
#define ORDER_KEEP_SUMMARIES	16
int	order_summary(unsigned idx, char *buf, size_t len);

/* Fork child: the graph's lock may have been held by a vanished thread. */
void	order_after_fork_child(void);

#endif /* GW_ORDER_H */
