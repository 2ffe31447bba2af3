/*
 * GIL blame's figures for a waiter as gilwatch top gets them
 * (blame_waiter_parts): the biggest holders first, cut at `each`, then
 * the lines, then the hand-off.
 */
#include <criterion/criterion.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "config.h"
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
