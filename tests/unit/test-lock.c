/* The lock table: lookups, generations, the walk over records in use. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdlib.h>

#include "faults.h"
#include "gilwatch/snapshot.h"
#include "lock.h"

#define NLOCKS	500

/* Spread like real lock addresses: 8-byte aligned, far apart. */
static uintptr_t
addr_of(int i)
{
	return 0x7f0000001000u + (uintptr_t)i * 0x1238;
}

/* The walk visits the records of addr_of(0..n-1), each once, and no other. */
static void
assert_walked_once(int n)
{
	struct lockrec *r = NULL;
	int *seen = calloc((size_t)n, sizeof *seen), i, walked = 0;

	cr_assert_not_null(seen);
	while ((r = lock_next(r)) != NULL) {
		i = (int)((atomic_load(&r->addr) - addr_of(0)) / 0x1238);
		cr_assert(i >= 0 && i < n, "stray record %#lx",
		    (unsigned long)atomic_load(&r->addr));
		seen[i]++;
		walked++;
	}
	cr_assert_eq(walked, n);
	for (i = 0; i < n; i++)
		cr_assert_eq(seen[i], 1, "lock %d walked %d times", i, seen[i]);
	free(seen);
}

Test(lock, get_is_stable_and_find_does_not_add)
{
	struct lockrec *r;

	cr_assert_eq(lock_table_init(1024), 0);
	cr_assert_null(lock_find(addr_of(1)));
	r = lock_get(addr_of(1), GW_LOCK_MUTEX, 0x1111);
	cr_assert_not_null(r);
	cr_assert_eq(lock_get(addr_of(1), GW_LOCK_MUTEX, 0x2222), r);
	cr_assert_eq(lock_find(addr_of(1)), r);
	cr_assert_eq(atomic_load(&r->first_site), 0x1111);
	cr_assert_eq(lock_table_used(), 1);
	cr_assert_null(lock_find(addr_of(2)));
}

/*
 * Locks far from their first slot are found; locks never added are
 * not, and looking for them touches none of the table's pages: a
 * program destroys many locks the shim never saw taken.
 */
Test(lock, find_of_unknown_locks_reads_no_table_page)
{
	long before;
	int i;

	cr_assert_eq(lock_table_init(1024), 0);
	for (i = 0; i < 700; i++)
		cr_assert_not_null(lock_get(addr_of(i), GW_LOCK_MUTEX, 0x1));
	for (i = 0; i < 700; i++)
		cr_assert_not_null(lock_find(addr_of(i)), "lock %d", i);
	for (i = 700; i < 2000; i++)
		cr_assert_null(lock_find(addr_of(i)));

	/* 2^18 slots of over 400 bytes: some 28,000 pages. */
	cr_assert_eq(lock_table_init(1u << 18), 0);
	for (i = 0; i < 10; i++)
		cr_assert_not_null(lock_get(addr_of(i), GW_LOCK_MUTEX, 0x1));
	before = faults();
	for (i = 10; i < 100000; i++)
		cr_assert_null(lock_find(addr_of(i) * 3));
	cr_assert_lt(faults() - before, 64, "%ld pages touched",
	    faults() - before);
}

Test(lock, forget_starts_a_new_generation)
{
	struct lockrec *r;

	cr_assert_eq(lock_table_init(1024), 0);
	r = lock_get(addr_of(3), GW_LOCK_MUTEX, 0x1111);
	lock_forget(addr_of(3));
	cr_assert_eq(atomic_load(&r->gen), 1);
	/* Same slot, first seen where the new generation began. */
	cr_assert_eq(lock_get(addr_of(3), GW_LOCK_RWLOCK, 0x3333), r);
	cr_assert_eq(atomic_load(&r->first_site), 0x3333);
	cr_assert_eq(atomic_load(&r->kind), GW_LOCK_RWLOCK);
	cr_assert_eq(lock_table_used(), 1);
}

/*
 * lock_current, one word, against what it stands for: not destroyed
 * since, a first site, the same kind.
 */
static int
current_by_fields(struct lockrec *r, int kind)
{
	return !atomic_load(&r->fresh) && atomic_load(&r->first_site) != 0 &&
	    atomic_load(&r->kind) == kind;
}

Test(lock, current_is_what_its_fields_say)
{
	static const int kinds[] = { GW_LOCK_MUTEX, GW_LOCK_RWLOCK,
	    GW_LOCK_SEM };
	struct lockrec *r;
	int step, k;

	cr_assert_eq(lock_table_init(1024), 0);
	r = lock_get(addr_of(5), GW_LOCK_MUTEX, 0x1111);
	for (step = 0; step < 12; step++) {
		for (k = 0; k < 3; k++)
			cr_assert_eq(lock_current(r, kinds[k]),
			    current_by_fields(r, kinds[k]),
			    "step %d, kind %d", step, kinds[k]);
		/* Destroyed, taken as another kind, taken again. */
		if (step % 3 == 0)
			lock_forget(addr_of(5));
		else
			cr_assert_eq(lock_get(addr_of(5), kinds[step % 3],
			    0x2000 + (uintptr_t)step), r);
	}
	cr_assert(lock_current(r, kinds[11 % 3]));
}

Test(lock, walk_visits_every_record_once)
{
	int i;

	cr_assert_eq(lock_table_init(4096), 0);
	for (i = 0; i < NLOCKS; i++)
		cr_assert_not_null(lock_get(addr_of(i), GW_LOCK_MUTEX, 1));
	lock_forget(addr_of(7));	/* forgotten records are still walked */
	assert_walked_once(NLOCKS);
}

Test(lock, empty_table_walks_nothing)
{
	cr_assert_eq(lock_table_init(1024), 0);
	cr_assert_null(lock_next(NULL));
}

Test(lock, full_table_gives_null_not_a_crash)
{
	int i, got = 0;

	cr_assert_eq(lock_table_init(1024), 0);
	for (i = 0; i < 2000; i++)
		if (lock_get(addr_of(i), GW_LOCK_MUTEX, 1) != NULL)
			got++;
	/* Three quarters of 1024 slots, then NULL with one message. */
	cr_assert_eq(got, 768);
	cr_assert_eq(lock_table_used(), 768);
	for (i = 0; i < 2000; i++)
		if (i < 768)
			cr_assert_not_null(lock_find(addr_of(i)));
}

/*
 * A program's first locks lie together: a hundred new locks in the
 * default-sized table touch a few pages (the small index, the records
 * side by side, the order), not a page each, as records hashed across
 * the whole table did (over a hundred faults).
 */
Test(lock, first_locks_touch_few_pages)
{
	long before;
	int i;

	cr_assert_eq(lock_table_init(1u << 18), 0);
	before = faults();
	for (i = 0; i < 100; i++)
		cr_assert_not_null(lock_get(addr_of(i) * 7, GW_LOCK_MUTEX,
		    0x1));
	cr_assert_lt(faults() - before, 40, "%ld pages touched",
	    faults() - before);
	for (i = 0; i < 100; i++)
		cr_assert_not_null(lock_find(addr_of(i) * 7));
}

/*
 * Past what the small index holds, locks go on in the large one: each
 * is found, once, by lookups and by the walk, and its record is the
 * one lock_get gave.
 */
#define MANY	9000

Test(lock, locks_past_the_small_index_are_found_once)
{
	static struct lockrec *got[MANY];
	int i;

	cr_assert_eq(lock_table_init(1u << 14), 0);
	for (i = 0; i < MANY; i++)
		cr_assert_not_null(got[i] = lock_get(addr_of(i), GW_LOCK_MUTEX,
		    1), "lock %d", i);
	for (i = 0; i < MANY; i++) {
		cr_assert_eq(lock_find(addr_of(i)), got[i], "lock %d", i);
		cr_assert_eq(lock_get(addr_of(i), GW_LOCK_MUTEX, 1), got[i]);
	}
	for (i = MANY; i < 3 * MANY; i++)
		cr_assert_null(lock_find(addr_of(i)));
	assert_walked_once(MANY);
	cr_assert_eq(lock_table_used(), MANY);
}

/*
 * Threads that meet the same new locks at once, each in its own order,
 * get one record per lock: the same one for all of them, walked once.
 */
#define RACERS	8
#define SHARED	6000

static struct lockrec *raced[RACERS][SHARED];
static pthread_barrier_t start;

static void *
racer(void *arg)
{
	int me = (int)(intptr_t)arg, i, k;

	pthread_barrier_wait(&start);
	for (i = 0; i < SHARED; i++) {
		/* Each thread its own order: some forwards, some back. */
		k = me % 2 ? SHARED - 1 - i : (i * 7 + me) % SHARED;
		raced[me][k] = lock_get(addr_of(k), GW_LOCK_MUTEX, 1);
	}
	return NULL;
}

Test(lock, racing_threads_add_each_lock_once)
{
	pthread_t t[RACERS];
	int i, k;

	cr_assert_eq(lock_table_init(1u << 14), 0);
	cr_assert_eq(pthread_barrier_init(&start, NULL, RACERS), 0);
	for (i = 0; i < RACERS; i++)
		cr_assert_eq(pthread_create(&t[i], NULL, racer,
		    (void *)(intptr_t)i), 0);
	for (i = 0; i < RACERS; i++)
		pthread_join(t[i], NULL);
	for (k = 0; k < SHARED; k++) {
		cr_assert_not_null(raced[0][k]);
		for (i = 1; i < RACERS; i++)
			cr_assert_eq(raced[i][k], raced[0][k],
			    "lock %d: thread %d got another record", k, i);
		cr_assert_eq(lock_find(addr_of(k)), raced[0][k]);
	}
	assert_walked_once(SHARED);
}
