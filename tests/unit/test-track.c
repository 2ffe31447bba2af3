/*
 * The fast paths of tracking (track_acquired_fast, track_releasing_fast,
 * track_releasing_top, and the records of the locks a thread took
 * lately) against the full ones:
 * the same operations, done once each way on two twin threads and two
 * twin sets of locks, must leave the same state behind (held arrays,
 * owners, counters, order reports), also across a lock destroyed and
 * reborn at its address as another kind, nested acquisitions of chains
 * seen before, recursions and releases out of order.  The keys of the
 * chains a thread keeps with its held entries must be those the
 * lock-order validator computes from scratch.  A semaphore's take
 * (track_sem_taken), whose common case runs with no call, against the
 * same take by the lock table alone.  And the mark the first of a
 * lock's waiters leaves in its record, which only that waiter clears;
 * and a priority inversion whose holder ended before its waiter woke.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "gilwatch/snapshot.h"
#include "clock.h"
#include "lock.h"
#include "order.h"
#include "rtbudget.h"
#include "stats.h"
#include "thread.h"
#include "track.h"

#define NLOCKS	6

enum { FAST, FULL };

static struct thread twin[2];
static struct order_cycle found;
static int fast_hits, nested_hits, top_hits, waited_on_hits;

/* Lock i of twin w: the twins' locks live apart. */
static uintptr_t
lock_at(int w, int i)
{
	return 0x7f0000200000u + (uintptr_t)w * 0x100000 +
	    (uintptr_t)i * 0x40;
}

static void
setup(void)
{
	int w;

	cr_assert_eq(lock_table_init(1024), 0);
	stats_on = 1;
	stats_set_hold_sample(4);
	order_enable();
	for (w = 0; w < 2; w++) {
		memset(&twin[w], 0, sizeof twin[w]);
		twin[w].held = twin[w].inline_held;
		twin[w].cap = THREAD_INLINE_HELD;
		atomic_store(&twin[w].tid, 777);
		twin[w].hold_rng = 12345;
		thread_recent_clear(&twin[w]);
	}
}

static void
teardown(void)
{
	track_cache = 1;
}

/* What the hooks do (event.h), or the full path alone. */
static int
acquire(int w, int i, int kind, int mode, int try, int waited)
{
	struct thread *t = &twin[w];
	struct lockrec *rec;
	uintptr_t a = lock_at(w, i), site = 0x1000 + (uintptr_t)i;

	track_cache = w == FAST;
	if (waited) {
		t->waited = 1;
		t->wait_t0 = 100;
		t->wait_end = 150;
	}
	if (w == FAST && track_fast_rec(t, a, kind, &rec) &&
	    track_acquired_fast(t, rec, a, kind, mode, try, site)) {
		fast_hits++;
		if (t->nheld > 1)
			nested_hits++;
		return 0;
	}
	return track_acquired(t, a, kind, mode, try, site, &found);
}

/* Released as its hook would: a mutex's unlock knows its kind and mode
 * (as), an rwlock's does not (-1). */
static uint64_t
release_as(int w, int i, int as)
{
	struct held was;

	track_cache = w == FAST;
	if (w == FAST && track_releasing_fast(&twin[w], lock_at(w, i), as)) {
		fast_hits++;
		return 0;
	}
	if (w == FAST && as >= 0) {
		struct thread *t = &twin[w];
		int untimed = t->nheld > 0 && t->held[t->nheld - 1].flags == 0;

		if (track_releasing_top(t, lock_at(w, i), as)) {
			top_hits++;
			waited_on_hits += untimed;
			return 0;
		}
	}
	return track_releasing(&twin[w], lock_at(w, i), &was);
}

static uint64_t
release(int w, int i)
{
	return release_as(w, i, GW_LOCK_MUTEX);
}

/* Each held entry's key (but the first's) is the validator's. */
static void
chains_right(int w, const char *after)
{
	struct thread *t = &twin[w], below;
	struct held *h;
	uint32_t k;

	for (k = 1; k < t->nheld; k++) {
		h = &t->held[k];
		below = *t;
		below.nheld = k;
		cr_assert_eq(h->chain, order_chain_key(&below, h->addr,
		    h->rec != NULL ? atomic_load(&h->rec->gen) : 0,
		    h->mode == GW_MODE_SHARED), "held[%u]'s key after %s", k,
		    after);
	}
}

static void
same_stat(const struct lockstat *a, const struct lockstat *b)
{
	int m, k;

	for (m = 0; m < 2; m++) {
		cr_assert_eq(atomic_load(&a->m[m].acquired),
		    atomic_load(&b->m[m].acquired));
		cr_assert_eq(atomic_load(&a->m[m].contended),
		    atomic_load(&b->m[m].contended));
		cr_assert_eq(atomic_load(&a->m[m].wait_total),
		    atomic_load(&b->m[m].wait_total));
		cr_assert_eq(atomic_load(&a->m[m].hold_max) != 0,
		    atomic_load(&b->m[m].hold_max) != 0);
	}
	cr_assert_eq(atomic_load(&a->last_owner), atomic_load(&b->last_owner));
	cr_assert_eq(atomic_load(&a->owner_changes),
	    atomic_load(&b->owner_changes));
	for (k = 0; k < STATS_SITES; k++) {
		cr_assert_eq(atomic_load(&a->holders[k].site),
		    atomic_load(&b->holders[k].site));
		cr_assert_eq(atomic_load(&a->holders[k].count),
		    atomic_load(&b->holders[k].count));
	}
}

/* Both twins, and their locks, in the same state. */
static void
same_state(const char *after)
{
	struct thread *f = &twin[FAST], *s = &twin[FULL];
	struct lockrec *rf, *rs;
	uint32_t k;
	int i;

	cr_assert_eq(f->nheld, s->nheld, "held count after %s", after);
	cr_assert_eq(f->waited, s->waited, "after %s", after);
	cr_assert_eq(f->hold_rng, s->hold_rng, "sampling draws after %s",
	    after);
	cr_assert_eq(f->hold_skip, s->hold_skip, "sampling countdown after %s",
	    after);
	for (k = 0; k < f->nheld; k++) {
		struct held *a = &f->held[k], *b = &s->held[k];

		cr_assert_eq(a->addr - lock_at(FAST, 0),
		    b->addr - lock_at(FULL, 0), "held[%u] after %s", k, after);
		cr_assert_eq(a->rec != NULL, b->rec != NULL);
		cr_assert_eq(a->site, b->site);
		cr_assert_eq(a->kind, b->kind);
		cr_assert_eq(a->mode, b->mode);
		cr_assert_eq(a->try, b->try);
		cr_assert_eq(a->flags, b->flags);
		cr_assert_eq(a->count, b->count);
		cr_assert_eq(a->flags & HELD_TIMED ? a->t0 != 0 : 1,
		    b->flags & HELD_TIMED ? b->t0 != 0 : 1,
		    "held[%u] timed after %s", k, after);
	}
	for (i = 0; i < NLOCKS; i++) {
		rf = lock_find(lock_at(FAST, i));
		rs = lock_find(lock_at(FULL, i));
		cr_assert_eq(rf != NULL, rs != NULL);
		if (rf == NULL)
			continue;
		cr_assert_eq(atomic_load(&rf->owner), atomic_load(&rs->owner),
		    "lock %d's owner after %s", i, after);
		cr_assert_eq(atomic_load(&rf->owner_site),
		    atomic_load(&rs->owner_site));
		cr_assert_eq(atomic_load(&rf->owner_thread) != 0,
		    atomic_load(&rs->owner_thread) != 0);
		cr_assert_eq(atomic_load(&rf->kind), atomic_load(&rs->kind),
		    "lock %d's kind after %s", i, after);
		cr_assert_eq(atomic_load(&rf->gen), atomic_load(&rs->gen));
		cr_assert_eq(atomic_load(&rf->fresh), atomic_load(&rs->fresh));
		cr_assert_eq(atomic_load(&rf->first_site),
		    atomic_load(&rs->first_site), "lock %d born after %s", i,
		    after);
		same_stat(&rf->stat, &rs->stat);
	}
}

/* Each step on both twins; their answers and states must agree. */
#define BOTH(what, call) do {						\
	int w_, got_[2];						\
	for (w_ = 0; w_ < 2; w_++) {					\
		const int w = w_;					\
		got_[w_] = (int)(call);					\
	}								\
	cr_assert_eq(got_[FAST], got_[FULL], "%s answered %d, not %d",	\
	    what, got_[FAST], got_[FULL]);				\
	same_state(what);						\
	chains_right(FAST, what);					\
	chains_right(FULL, what);					\
} while (0)

Test(track, fast_paths_leave_the_state_the_full_ones_do,
    .init = setup, .fini = teardown)
{
	int n, i;

	/* One lock, over and over: past the exactly timed first holds
	 * into sampling, some holds waited for. */
	for (n = 0; n < 40; n++) {
		BOTH("lock 0", acquire(w, 0, GW_LOCK_MUTEX,
		    GW_MODE_EXCLUSIVE, 0, n % 7 == 3));
		BOTH("unlock 0", release(w, 0));
	}
	/* Another thread took it meanwhile: an owner change. */
	atomic_store(&lock_find(lock_at(FAST, 0))->stat.last_owner, 1);
	atomic_store(&lock_find(lock_at(FULL, 0))->stat.last_owner, 1);
	BOTH("lock 0 after another", acquire(w, 0, GW_LOCK_MUTEX,
	    GW_MODE_EXCLUSIVE, 0, 0));
	/* Recursion and nesting, released out of order. */
	BOTH("relock 0", acquire(w, 0, GW_LOCK_MUTEX, GW_MODE_EXCLUSIVE,
	    0, 0));
	BOTH("lock 1", acquire(w, 1, GW_LOCK_MUTEX, GW_MODE_EXCLUSIVE, 0, 0));
	BOTH("trylock 2", acquire(w, 2, GW_LOCK_MUTEX, GW_MODE_EXCLUSIVE,
	    1, 0));
	BOTH("unlock 0", release(w, 0));
	BOTH("unlock 0", release(w, 0));
	BOTH("unlock 2", release(w, 2));
	BOTH("unlock 1", release(w, 1));
	/* The reverse order: an inversion, reported once on each. */
	BOTH("lock 1", acquire(w, 1, GW_LOCK_MUTEX, GW_MODE_EXCLUSIVE, 0, 0));
	BOTH("lock 0 under 1", acquire(w, 0, GW_LOCK_MUTEX,
	    GW_MODE_EXCLUSIVE, 0, 0));
	cr_assert_eq(order_reported(), 2, "the inversion, once per twin");
	BOTH("unlock 0", release(w, 0));
	BOTH("unlock 1", release(w, 1));
	/* A shared hold (an rwlock read). */
	for (n = 0; n < 3; n++) {
		BOTH("rdlock 3", acquire(w, 3, GW_LOCK_RWLOCK,
		    GW_MODE_SHARED, 0, 0));
		BOTH("unlock 3", release_as(w, 3, -1));
	}
	/* Lock 3 destroyed and reborn at its address as a mutex: the
	 * fast path must not take it for the rwlock it remembers. */
	for (i = 0; i < 2; i++)
		track_destroyed(lock_at(i, 3));
	for (n = 0; n < 3; n++) {
		BOTH("lock reborn 3", acquire(w, 3, GW_LOCK_MUTEX,
		    GW_MODE_EXCLUSIVE, 0, 0));
		BOTH("unlock 3", release(w, 3));
	}
	/* Lock 0's entry holding lock 1's record, as a signal handler
	 * taking lock 1 between two loads of a hook could leave it: the
	 * record's key, not the entry's place, says whose it is. */
	atomic_store(track_recent(&twin[FAST], lock_at(FAST, 0)),
	    lock_find(lock_at(FAST, 1)));
	for (n = 0; n < 3; n++) {
		BOTH("lock 0 after a stray entry", acquire(w, 0, GW_LOCK_MUTEX,
		    GW_MODE_EXCLUSIVE, 0, 0));
		BOTH("unlock 0", release(w, 0));
	}
	/* Released while nobody holds it: ignored by both. */
	BOTH("unlock 2 not held", release(w, 2));
	/* The last lock looked up, a stray as above. */
	atomic_store(&twin[FAST].last, lock_find(lock_at(FAST, 1)));
	BOTH("lock 0 after a stray last", acquire(w, 0, GW_LOCK_MUTEX,
	    GW_MODE_EXCLUSIVE, 0, 0));
	BOTH("unlock 0", release(w, 0));
	cr_assert_gt(fast_hits, 60, "the fast paths ran %d times", fast_hits);
	cr_assert_gt(top_hits, 3, "sampled releases: %d", top_hits);
	/* Lock 5 released while a thread waits for it (blocked_since, as
	 * its first waiter sets it): an untimed hold's maximum is at least
	 * that wait. */
	for (n = 0; n < 12; n++) {
		BOTH("lock 5", acquire(w, 5, GW_LOCK_MUTEX, GW_MODE_EXCLUSIVE,
		    0, 0));
		for (i = 0; i < 2; i++)
			atomic_store(&lock_find(lock_at(i, 5))->blocked_since,
			    1);
		BOTH("unlock 5 waited for", release(w, 5));
		for (i = 0; i < 2; i++)
			atomic_store(&lock_find(lock_at(i, 5))->blocked_since,
			    0);
	}
	cr_assert_gt(waited_on_hits, 0, "untimed holds waited for: %d",
	    waited_on_hits);
	for (i = 0; i < 2; i++)
		cr_assert_gt(atomic_load(&lock_find(lock_at(i,
		    5))->stat.m[GW_MODE_EXCLUSIVE].hold_max), 1ull << 30,
		    "twin %d's bound from the wait", i);
}

Test(track, nested_fast_paths_leave_the_state_the_full_ones_do,
    .init = setup, .fini = teardown)
{
	int n, k;

	/* A chain taken over and over: validated once, then known, past
	 * the exactly timed first holds into sampling. */
	for (n = 0; n < 30; n++) {
		for (k = 0; k < 4; k++)
			BOTH("lock in chain", acquire(w, k, GW_LOCK_MUTEX,
			    GW_MODE_EXCLUSIVE, 0, n % 11 == 5 && k == 2));
		for (k = 3; k >= 0; k--)
			BOTH("unlock in chain", release(w, k));
	}
	cr_assert_gt(nested_hits, 40, "nested fast path ran %d times",
	    nested_hits);
	/* A recursion under another lock, and a trylock. */
	BOTH("lock 0", acquire(w, 0, GW_LOCK_MUTEX, GW_MODE_EXCLUSIVE, 0, 0));
	BOTH("lock 1", acquire(w, 1, GW_LOCK_MUTEX, GW_MODE_EXCLUSIVE, 0, 0));
	BOTH("relock 1", acquire(w, 1, GW_LOCK_MUTEX, GW_MODE_EXCLUSIVE, 0,
	    0));
	BOTH("trylock 1 again", acquire(w, 1, GW_LOCK_MUTEX,
	    GW_MODE_EXCLUSIVE, 1, 0));
	BOTH("trylock 2", acquire(w, 2, GW_LOCK_MUTEX, GW_MODE_EXCLUSIVE, 1,
	    0));
	/* Out of order: the keys above a removed entry are made again. */
	for (k = 0; k < 3; k++)
		BOTH("unlock 1", release(w, 1));
	for (n = 0; n < 3; n++) {
		BOTH("lock 3 over 0, 2", acquire(w, 3, GW_LOCK_MUTEX,
		    GW_MODE_EXCLUSIVE, 0, 0));
		BOTH("unlock 3", release(w, 3));
	}
	BOTH("unlock 0", release(w, 0));
	BOTH("unlock 2", release(w, 2));
	/* A chain taken as seen, then one lock of it destroyed and reborn:
	 * a new generation is a new chain, validated again. */
	for (n = 0; n < 3; n++) {
		BOTH("lock 1", acquire(w, 1, GW_LOCK_MUTEX, GW_MODE_EXCLUSIVE,
		    0, 0));
		BOTH("lock 4 under 1", acquire(w, 4, GW_LOCK_MUTEX,
		    GW_MODE_EXCLUSIVE, 0, 0));
		BOTH("unlock 4", release(w, 4));
		BOTH("unlock 1", release(w, 1));
		if (n == 1)
			for (k = 0; k < 2; k++)
				track_destroyed(lock_at(k, 4));
	}
	/* The inversion of a chain the fast path knows: reported on both. */
	BOTH("lock 3", acquire(w, 3, GW_LOCK_MUTEX, GW_MODE_EXCLUSIVE, 0, 0));
	BOTH("lock 0 under 3", acquire(w, 0, GW_LOCK_MUTEX, GW_MODE_EXCLUSIVE,
	    0, 0));
	cr_assert_eq(order_reported(), 2, "the inversion, once per twin");
	BOTH("unlock 0", release(w, 0));
	BOTH("unlock 3", release(w, 3));
}

/*
 * The waits of two threads on one lock: the first waiter marks when
 * the lock began to make a thread wait (blocked_since, read by the
 * releases that bound an untimed hold), the others leave its mark, and
 * only its own wait's end clears it (plain loads and stores where no
 * other thread can write: track_wait_begin, track_wait_end).  Each wait
 * moves its thread's wait_gen by one and its state both ways.
 */
static void
wait_on(int w, uintptr_t a)
{
	track_wait_begin(&twin[w], GW_STATE_BLOCKED, a, GW_LOCK_MUTEX,
	    GW_MODE_EXCLUSIVE, 1, 0x2000, NULL);
	cr_assert_eq(atomic_load(&twin[w].state), GW_STATE_BLOCKED);
}

static void
wait_over(int w)
{
	track_wait_end(&twin[w]);
	cr_assert_eq(atomic_load(&twin[w].state), GW_STATE_RUNNING);
}

Test(track, the_first_waiter_marks_and_clears_blocked_since,
    .init = setup, .fini = teardown)
{
	uintptr_t a = lock_at(FAST, 5);
	struct lockrec *rec = lock_get(a, GW_LOCK_MUTEX, 0x2000);
	int first, k;

	cr_assert_not_null(rec);
	rt_lock_wait_ticks = UINT64_MAX;	/* no real-time verdicts */
	for (first = 0; first < 2; first++) {
		unsigned gen[2] = { atomic_load(&twin[0].wait_gen),
		    atomic_load(&twin[1].wait_gen) };

		wait_on(first, a);
		cr_assert_neq(twin[first].wait_t0, 0);
		cr_assert_eq(atomic_load(&rec->blocked_since),
		    twin[first].wait_t0, "the first waiter's mark");
		wait_on(!first, a);
		cr_assert_neq(twin[!first].wait_t0, twin[first].wait_t0);
		cr_assert_eq(atomic_load(&rec->blocked_since),
		    twin[first].wait_t0, "a second waiter leaves it");
		for (k = 0; k < 2; k++)
			cr_assert_eq(atomic_load(&twin[k].wait_gen),
			    gen[k] + 1);
		/* Round 0: the first ends first; round 1: the second. */
		wait_over(first == 0 ? first : !first);
		cr_assert_eq(atomic_load(&rec->blocked_since),
		    first == 0 ? 0 : twin[first].wait_t0,
		    "only its own waiter clears the mark");
		wait_over(first == 0 ? !first : first);
		cr_assert_eq(atomic_load(&rec->blocked_since), 0);
		twin[0].waited = twin[1].waited = 0;
	}
}

/*
 * A semaphore taken, as its hooks do (track_sem_taken), on both twins:
 * FAST with the records it remembers, which a take without a wait
 * follows with no call; FULL by the lock table alone.  Returns whether
 * FAST's take had the fast path's conditions (a remembered, current
 * record, no wait before it).
 */
static int
sem_take(int w, int i, int now_zero, int waited)
{
	struct thread *t = &twin[w];
	struct lockrec *rec;
	int fast;

	track_cache = w == FAST;
	if (waited) {
		t->waited = 1;
		t->wait_t0 = 100;
		t->wait_end = 150 + (uint64_t)i;
	}
	fast = w == FAST && !waited && track_fast_rec(t, lock_at(w, i),
	    GW_LOCK_SEM, &rec);
	track_sem_taken(t, lock_at(w, i), now_zero, 0x3000 + (uintptr_t)i);
	return fast;
}

/* A post as its hook makes it (FAST), or by the lock table (FULL). */
static int
sem_post_on(int w, int i)
{
	track_cache = w == FAST;
	if (w == FAST)
		track_sem_posted_fast(&twin[w], lock_at(w, i));
	else
		track_sem_posted(&twin[w], lock_at(w, i));
	return 0;
}

Test(track, semaphore_fast_take_leaves_the_state_the_full_one_does,
    .init = setup, .fini = teardown)
{
	int n, fast = 0;

	/* Takes that empty it (an owner), that leave some (none), after a
	 * wait (counted contended), each followed by a post. */
	for (n = 0; n < 30; n++) {
		BOTH("sem take", (fast += sem_take(w, 4, n % 3 != 0,
		    n % 5 == 2), 0));
		cr_assert_eq(atomic_load(&lock_find(lock_at(FULL,
		    4))->owner), n % 3 != 0 ? 777 : 0,
		    "the owner after take %d", n);
		BOTH("sem post", sem_post_on(w, 4));
		cr_assert_eq(atomic_load(&lock_find(lock_at(FULL,
		    4))->owner), 0);
	}
	/* Two semaphores in turn: each found among the recent ones. */
	for (n = 0; n < 6; n++) {
		BOTH("sem take", (fast += sem_take(w, 4 + n % 2, 1, 0), 0));
		BOTH("sem post", sem_post_on(w, 4 + n % 2));
	}
	/* Destroyed and reborn at its address as a mutex, then as a
	 * semaphore again: the fast take must not use the old record. */
	for (n = 0; n < 2; n++)
		track_destroyed(lock_at(n, 4));
	BOTH("sem reborn", (sem_take(w, 4, 1, 0), 0));
	BOTH("sem post", sem_post_on(w, 4));
	cr_assert_gt(fast, 20, "the fast take ran %d times", fast);
	cr_assert_eq(atomic_load(&lock_find(lock_at(FAST,
	    4))->stat.m[GW_MODE_EXCLUSIVE].contended), 6,
	    "the takes after a wait");
}

/*
 * A real thread that takes a lock (a record of the registry), says so,
 * and at the word releases it and ends: its TID, or -1.
 */
struct ender {
	uintptr_t	 addr;
	int		 ready[2], go[2];
	pid_t		 tid;
};

static void *
ender_body(void *arg)
{
	struct ender *e = arg;
	struct thread *t = thread_self();
	struct order_cycle cycle;
	struct held was;
	char c = 'r';

	e->tid = t != NULL ? atomic_load(&t->tid) : -1;
	if (t != NULL)
		track_acquired(t, e->addr, GW_LOCK_MUTEX, GW_MODE_EXCLUSIVE,
		    0, 0x3000, &cycle);
	if (write(e->ready[1], &c, 1) != 1 || read(e->go[0], &c, 1) != 1)
		return NULL;
	if (t != NULL)
		track_releasing(t, e->addr, &was);
	return NULL;	/* the registry's key destructor: thread_exit */
}

/* Whether the kernel still knows tid, polled until it does not or
 * until 5 s have passed. */
static int
task_outlives(pid_t tid)
{
	struct timespec t0, now;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		if (syscall(SYS_tgkill, getpid(), tid, 0) == -1 &&
		    errno == ESRCH)
			return 0;
		sched_yield();
		clock_gettime(CLOCK_MONOTONIC, &now);
	} while (now.tv_sec - t0.tv_sec < 5);
	return 1;
}

/*
 * A real-time thread waits for a lock a normal thread holds; the holder
 * releases it and ends before the waiter wakes (a late wake-up on a
 * busy machine, where the kernel can no longer say the holder's
 * policy): the inversion is counted, by the policy the holder had as it
 * ended.
 */
Test(track, an_inversion_outlives_its_holder, .init = setup,
    .fini = teardown)
{
	struct sched_param fifo = { .sched_priority = 1 };
	struct ender e = { .addr = lock_at(FAST, 6) };
	uint64_t gil, lock, inv;
	pthread_t pt;
	char c = 'g';

	clock_init();
	rt_init(0);
	thread_registry_init(NULL);
	cr_assert_eq(pipe(e.ready), 0);
	cr_assert_eq(pipe(e.go), 0);
	cr_assert_eq(pthread_create(&pt, NULL, ender_body, &e), 0);
	cr_assert_eq(read(e.ready[0], &c, 1), 1);
	cr_assert_gt(e.tid, 0, "the holder has a record");
	wait_on(FAST, e.addr);
	cr_assert_eq(write(e.go[1], &c, 1), 1);
	cr_assert_eq(pthread_join(pt, NULL), 0);
	cr_assert_not(task_outlives(e.tid), "thread %d still there",
	    (int)e.tid);
	if (sched_setscheduler(0, SCHED_FIFO, &fifo) != 0)
		cr_skip_test("SCHED_FIFO refused: %s", strerror(errno));
	/* A wait of 50 ms, over RT_INVERSION_MIN_US. */
	twin[FAST].wait_t0 = clock_ticks() - clock_ms_to_ticks(50);
	wait_over(FAST);
	rt_counts(&gil, &lock, &inv);
	cr_assert_eq(inv, 1, "the inversion counted: %llu",
	    (unsigned long long)inv);
}
