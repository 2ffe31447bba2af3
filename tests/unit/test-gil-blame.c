/*
 * GIL blame's figures for a waiter as gilwatch top gets them
 * (blame_waiter_parts): the biggest holders first, cut at `each`, then
 * the lines, then the hand-off.
 */
#include <criterion/criterion.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "config.h"
#include "faults.h"
#include "gil-blame.h"
#include "gilwatch/shm.h"
#include "thread.h"

static struct thread *
fake(pid_t tid)
{
	struct thread *t = calloc(1, sizeof *t);

	cr_assert_not_null(t);
	atomic_store(&t->tid, tid);
	return t;
}

Test(gil_blame, waiter_parts_biggest_first)
{
	struct thread *w = fake(10), *h[4];
	/* The waiter waits [1000, 2000): four holds, then a hand-off. */
	static const uint64_t at[5] = { 1000, 1500, 1800, 1900, 1950 };
	struct blame_part p[2 * 2 + 2];
	struct blame_view *v;
	pid_t holder;
	size_t n;
	int i, site;

	config.blame = 1;	/* as config_init sets it by default */
	blame_init(NULL);
	for (i = 0; i < 4; i++) {
		h[i] = fake(1 + i);
		blame_hold_end(h[i], NULL, at[i], at[i + 1], at[i], 1);
	}
	blame_wait_end(w, 1000, 2000, &holder, &site);
	cr_assert_eq(holder, 1);
	cr_assert_not_null(v = blame_view_take());
	n = blame_waiter_parts(v, 10, p, 2);
	cr_assert_eq(n, 4);
	cr_assert_eq(p[0].kind, GW_SHM_BLAME_HOLDER);
	cr_assert_eq(p[0].holder, 1);
	cr_assert_eq(p[0].ns, 500);
	cr_assert_eq(p[1].holder, 2);
	cr_assert_eq(p[1].ns, 300);
	/* No Python frame at any hold: one "line" for all of them. */
	cr_assert_eq(p[2].kind, GW_SHM_BLAME_LINE);
	cr_assert_eq(p[2].ns, 950);
	cr_assert_eq(p[3].kind, GW_SHM_BLAME_HANDOFF);
	cr_assert_eq(p[3].ns, 50);
	/* Nobody else waited. */
	cr_assert_eq(blame_waiter_parts(v, 11, p, 2), 0);
	blame_view_free(v);
}

/*
 * A waiter's figures lie together: four waiters blamed on six holders
 * each touch a few pages of the figures' table, not one a figure (24
 * hashed across its 128 pages touched about 22), and each waiter's
 * figures are its own.
 */
Test(gil_blame, a_waiters_figures_share_pages)
{
	struct blame_part p[8 + 2];
	struct blame_view *v;
	struct thread *h[6], *w[4];
	uint64_t sum;
	long before;
	pid_t holder;
	size_t n, k;
	int i, site;

	config.blame = 1;
	blame_init(NULL);
	for (i = 0; i < 6; i++) {
		h[i] = fake(100 + i);
		blame_hold_end(h[i], NULL, 1000 + 100 * (uint64_t)i,
		    1100 + 100 * (uint64_t)i, 1000, 1);
	}
	for (i = 0; i < 4; i++)
		w[i] = fake(200 + i * 7919);
	before = faults();
	for (i = 0; i < 4; i++)
		blame_wait_end(w[i], 1000, 1600, &holder, &site);
	cr_assert_lt(faults() - before, 10, "%ld pages touched",
	    faults() - before);
	cr_assert_not_null(v = blame_view_take());
	for (i = 0; i < 4; i++) {
		n = blame_waiter_parts(v, 200 + i * 7919, p, 8);
		for (k = 0, sum = 0; k < n; k++)
			if (p[k].kind == GW_SHM_BLAME_HOLDER) {
				cr_assert_eq(p[k].ns, 100);
				sum += p[k].ns;
			}
		cr_assert_eq(sum, 600, "waiter %d: %lu ns of holders", i,
		    (unsigned long)sum);
	}
	blame_view_free(v);
}
