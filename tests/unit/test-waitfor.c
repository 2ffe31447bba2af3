/* The wait-for cycle search, on graphs given as adjacency tables. */
#include <criterion/criterion.h>

#include "gilwatch/snapshot.h"
#include "waitfor.h"

#define MAXN	64

/* Node i waits on lock 100+i, held by each node in edges[i]. */
struct graph {
	int	edges[MAXN][MAXN];
	int	nedges[MAXN];
	int	node[MAXN];	/* stable addresses to use as nodes */
};

static struct graph g;

static void
reset(void)
{
	int i;

	memset(&g, 0, sizeof g);
	for (i = 0; i < MAXN; i++)
		g.node[i] = i;
}

static void
wait_on(int from, int to)
{
	g.edges[from][g.nedges[from]++] = to;
}

static int
idx(void *node)
{
	return (int)((int *)node - g.node);
}

static int
edge(void *ctx, void *node, int i, struct wf_edge *e)
{
	int n = idx(node);

	if (i >= g.nedges[n])
		return 0;
	e->to = &g.node[g.edges[n][i]];
	e->lock = 100 + n;
	e->kind = GW_LOCK_MUTEX;
	e->mode = GW_MODE_EXCLUSIVE;
	e->site = 0;
	return 1;
}

static int
find(int start, struct wf_frame *f, int max)
{
	return wf_find_cycle(edge, NULL, &g.node[start], f, max);
}

TestSuite(waitfor, .init = reset, .timeout = 5);

Test(waitfor, no_edges_no_cycle)
{
	struct wf_frame f[8];

	cr_assert_eq(find(0, f, 8), 0);
}

Test(waitfor, chain_without_cycle)
{
	struct wf_frame f[8];

	wait_on(0, 1);
	wait_on(1, 2);
	cr_assert_eq(find(0, f, 8), 0);
}

Test(waitfor, self_cycle)
{
	struct wf_frame f[8];

	wait_on(3, 3);
	cr_assert_eq(find(3, f, 8), 1);
	cr_assert_eq(idx(f[0].node), 3);
	cr_assert_eq(idx(f[0].edge.to), 3);
}

Test(waitfor, abba_in_order)
{
	struct wf_frame f[8];

	wait_on(0, 1);
	wait_on(1, 0);
	cr_assert_eq(find(0, f, 8), 2);
	cr_assert_eq(idx(f[0].node), 0);
	cr_assert_eq(idx(f[1].node), 1);
	cr_assert_eq(f[0].edge.lock, 100u);
	cr_assert_eq(f[1].edge.lock, 101u);
}

Test(waitfor, long_cycle_of_50)
{
	struct wf_frame f[MAXN];
	int i;

	for (i = 0; i < 50; i++)
		wait_on(i, (i + 1) % 50);
	cr_assert_eq(find(7, f, MAXN), 50);
	cr_assert_eq(idx(f[49].edge.to), 7);
}

Test(waitfor, cycle_elsewhere_is_not_ours)
{
	struct wf_frame f[8];

	/* 0 waits on 1, and 1 and 2 wait on each other: 0 is stuck behind
	 * a deadlock it is not part of. */
	wait_on(0, 1);
	wait_on(1, 2);
	wait_on(2, 1);
	cr_assert_eq(find(0, f, 8), 0);
	cr_assert_eq(find(1, f, 8), 2);
}

Test(waitfor, writer_waits_on_several_readers)
{
	struct wf_frame f[8];

	/* 0 waits for readers 1, 2 and 3; only 3 waits back on 0. */
	wait_on(0, 1);
	wait_on(0, 2);
	wait_on(0, 3);
	wait_on(3, 0);
	cr_assert_eq(find(0, f, 8), 2);
	cr_assert_eq(idx(f[0].edge.to), 3);
}

Test(waitfor, too_long_for_scratch)
{
	struct wf_frame f[4];
	int i;

	for (i = 0; i < 10; i++)
		wait_on(i, (i + 1) % 10);
	cr_assert_eq(find(0, f, 4), -1);
}

Test(waitfor, signature_same_from_any_start)
{
	struct wf_frame a[8], b[8];
	int na, nb;

	wait_on(0, 1);
	wait_on(1, 2);
	wait_on(2, 0);
	na = find(0, a, 8);
	nb = find(2, b, 8);
	cr_assert_eq(na, 3);
	cr_assert_eq(nb, 3);
	cr_assert_eq(wf_cycle_signature(a, na), wf_cycle_signature(b, nb));
}

Test(waitfor, signature_differs_by_lock)
{
	struct wf_frame a[8];
	uint64_t s1;
	int n;

	wait_on(0, 1);
	wait_on(1, 0);
	n = find(0, a, 8);
	s1 = wf_cycle_signature(a, n);
	a[1].edge.lock = 999;
	cr_assert_neq(s1, wf_cycle_signature(a, n));
}
