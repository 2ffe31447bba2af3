/*
 * Lock statistics: which holds are timed (stats_hold_sampled, counting
 * down gaps stats_hold_gap draws) and what a timed hold counts for, so
 * that sampled hold totals are estimates without bias; an exclusive
 * holder's plain updates against shared holders' atomic ones.
 */
#include <criterion/criterion.h>
#include <pthread.h>
#include <string.h>

#include "stats.h"

#define DRAWS	320000

/* The fraction of DRAWS holds timed at hold_sample n, from seed. */
static double
fraction(unsigned n, uint32_t seed)
{
	uint32_t state = seed, skip;
	long timed = 0;
	int i;

	stats_set_hold_sample(n);
	skip = stats_hold_gap(&state);
	for (i = 0; i < DRAWS; i++)
		timed += stats_hold_sampled(&state, &skip);
	return (double)timed / DRAWS;
}

Test(stats, one_in_n_is_timed)
{
	/* Binomial: 20000 expected at 1/16, a standard deviation of 137. */
	cr_assert_float_eq(fraction(16, 12345), 1.0 / 16, 0.003);
	cr_assert_float_eq(fraction(16, 0xdeadbeef), 1.0 / 16, 0.003);
	cr_assert_float_eq(fraction(3, 7), 1.0 / 3, 0.005);
	cr_assert_float_eq(fraction(1000, 99), 1.0 / 1000, 0.0004);
}

Test(stats, one_times_every_hold)
{
	cr_assert_float_eq(fraction(1, 1), 1.0, 1e-12);
	cr_assert_eq(hold_sample, 1u);
	stats_set_hold_sample(0);	/* refused as 1 */
	cr_assert_eq(hold_sample, 1u);
}

Test(stats, no_period_in_the_draws)
{
	/*
	 * A thread that takes locks A and B in turn must have both timed:
	 * a counter (every 16th hold) would time only one of them.
	 */
	uint32_t state = 4242, skip = 0;
	long timed[2] = { 0, 0 };
	int i;

	stats_set_hold_sample(16);
	for (i = 0; i < DRAWS; i++)
		timed[i % 2] += stats_hold_sampled(&state, &skip);
	cr_assert_float_eq((double)timed[0] / (DRAWS / 2), 1.0 / 16, 0.004);
	cr_assert_float_eq((double)timed[1] / (DRAWS / 2), 1.0 / 16, 0.004);
}

Test(stats, the_gaps_are_geometric)
{
	/*
	 * A coin tossed at each hold: gap g (g untimed holds, then a timed
	 * one) with probability q^g p, p = 1/16.  A gap of a fixed or a
	 * uniformly drawn length would not give these: P(0) = p, P(g >=
	 * 16) = q^16 = 0.356, mean q/p = 15.
	 */
	uint32_t state = 777, g;
	long zero = 0, long_ = 0, sum = 0;
	int i;

	stats_set_hold_sample(16);
	for (i = 0; i < DRAWS / 16; i++) {
		g = stats_hold_gap(&state);
		zero += g == 0;
		long_ += g >= 16;
		sum += g;
	}
	cr_assert_float_eq((double)zero / (DRAWS / 16), 1.0 / 16, 0.005);
	cr_assert_float_eq((double)long_ / (DRAWS / 16), 0.356, 0.01);
	cr_assert_float_eq((double)sum / (DRAWS / 16), 15.0, 0.3);
	stats_set_hold_sample(1);
	cr_assert_eq(stats_hold_gap(&state), 0u);
}

Test(stats, the_gaps_are_geometric_at_other_sizes)
{
	/*
	 * Other hold_sample values: P(0) = p and the mean q/p (standard
	 * deviations of the mean over 20000 gaps: 0.01 at 2, 0.025 at 4,
	 * 1.8 at 256, 0.02 at 5).
	 */
	static const struct { unsigned n; double tol; } c[] = {
		{ 2, 0.05 }, { 4, 0.1 }, { 256, 8 }, { 5, 0.1 },
	};
	uint32_t state = 31337, g;
	long zero, sum;
	size_t k;
	int i;

	for (k = 0; k < sizeof c / sizeof c[0]; k++) {
		stats_set_hold_sample(c[k].n);
		zero = sum = 0;
		for (i = 0; i < DRAWS / 16; i++) {
			g = stats_hold_gap(&state);
			zero += g == 0;
			sum += g;
		}
		cr_assert_float_eq((double)zero / (DRAWS / 16), 1.0 / c[k].n,
		    0.01, "P(0) at %u", c[k].n);
		cr_assert_float_eq((double)sum / (DRAWS / 16), c[k].n - 1.0,
		    c[k].tol, "mean gap at %u", c[k].n);
	}
}

Test(stats, a_sampled_hold_counts_for_its_weight)
{
	struct lockstat s;

	memset(&s, 0, sizeof s);
	stats_released(&s, 0, 0, 100, 16, 0x1000);
	stats_released(&s, 0, 0, 40, 1, 0x1000);
	cr_assert_eq(atomic_load(&s.m[0].hold_total), 100 * 16 + 40);
	cr_assert_eq(atomic_load(&s.m[0].hold_max), 100);
	cr_assert_eq(atomic_load(&s.holders[0].count), 17);
	cr_assert_eq(atomic_load(&s.holders[0].ticks), 100 * 16 + 40);
	/* A bound raises the maximum only. */
	stats_hold_bound(&s, 0, 5000);
	cr_assert_eq(atomic_load(&s.m[0].hold_max), 5000);
	cr_assert_eq(atomic_load(&s.m[0].hold_total), 100 * 16 + 40);
	stats_hold_bound(&s, 0, 10);
	cr_assert_eq(atomic_load(&s.m[0].hold_max), 5000);
}

/*
 * An exclusive holder updates its lock's numbers with plain loads and
 * stores (the lock orders them), shared holders with locked
 * instructions: the same operations must leave the same numbers either
 * way.  Exclusive into m[0] of one record, shared into m[1] of another.
 */
Test(stats, exclusive_updates_match_shared_ones)
{
	struct lockstat x, y;
	uint32_t r = 2024;
	uint64_t v;
	int i, k;

	memset(&x, 0, sizeof x);
	memset(&y, 0, sizeof y);
	for (i = 0; i < 5000; i++) {
		r ^= r << 13;
		r ^= r >> 17;
		r ^= r << 5;
		v = r % 100000;
		switch (r >> 28 & 3) {
		case 0:
			stats_acquired(&x, 0, 0, 1 + (int)(r & 3), r >> 27 & 1,
			    v, 0x100 + (r >> 8 & 7));
			stats_acquired(&y, 1, 1, 1 + (int)(r & 3), r >> 27 & 1,
			    v, 0x100 + (r >> 8 & 7));
			break;
		case 1:
			stats_released(&x, 0, 0, v, r & 1 ? 16 : 1,
			    0x200 + (r >> 8 & 7));
			stats_released(&y, 1, 1, v, r & 1 ? 16 : 1,
			    0x200 + (r >> 8 & 7));
			break;
		default:
			stats_hold_bound(&x, 0, v * 3);
			stats_hold_bound(&y, 1, v * 3);
		}
	}
	cr_assert_eq(atomic_load(&x.m[0].acquired), atomic_load(&y.m[1].acquired));
	cr_assert_eq(atomic_load(&x.m[0].contended),
	    atomic_load(&y.m[1].contended));
	cr_assert_eq(atomic_load(&x.m[0].wait_total),
	    atomic_load(&y.m[1].wait_total));
	cr_assert_eq(atomic_load(&x.m[0].wait_max), atomic_load(&y.m[1].wait_max));
	cr_assert_eq(atomic_load(&x.m[0].hold_total),
	    atomic_load(&y.m[1].hold_total));
	cr_assert_eq(atomic_load(&x.m[0].hold_max), atomic_load(&y.m[1].hold_max));
	cr_assert_gt(atomic_load(&x.m[0].hold_max), 0);
	cr_assert_gt(atomic_load(&x.m[0].wait_max), 0);
	cr_assert_eq(atomic_load(&x.owner_changes), atomic_load(&y.owner_changes));
	cr_assert_eq(atomic_load(&x.last_owner), atomic_load(&y.last_owner));
	for (k = 0; k < STATS_SITES; k++) {
		cr_assert_eq(atomic_load(&x.waiters[k].site),
		    atomic_load(&y.waiters[k].site));
		cr_assert_eq(atomic_load(&x.waiters[k].ticks),
		    atomic_load(&y.waiters[k].ticks));
		cr_assert_eq(atomic_load(&x.holders[k].count),
		    atomic_load(&y.holders[k].count));
		cr_assert_eq(atomic_load(&x.holders[k].ticks),
		    atomic_load(&y.holders[k].ticks));
	}
}

/* Shared holders at once (readers): their maxima and sums stay exact. */
#define RAISERS		4
#define RAISES		20000

static struct lockstat raised;

static void *
raiser(void *arg)
{
	uint64_t id = (uint64_t)(uintptr_t)arg, i;

	for (i = 0; i < RAISES; i++) {
		stats_released(&raised, 1, 1, i * RAISERS + id, 1, 0x300);
		stats_hold_bound(&raised, 1, i * RAISERS + id + 1);
	}
	return NULL;
}

Test(stats, shared_maxima_are_raised_atomically)
{
	pthread_t th[RAISERS];
	uintptr_t i;

	memset(&raised, 0, sizeof raised);
	for (i = 0; i < RAISERS; i++)
		cr_assert_eq(pthread_create(&th[i], NULL, raiser, (void *)i), 0);
	for (i = 0; i < RAISERS; i++)
		pthread_join(th[i], NULL);
	cr_assert_eq(atomic_load(&raised.m[1].hold_max),
	    (uint64_t)RAISES * RAISERS);
	cr_assert_eq(atomic_load(&raised.m[1].hold_total),
	    (uint64_t)RAISES * RAISERS * (RAISES * RAISERS - 1) / 2);
	cr_assert_eq(atomic_load(&raised.holders[0].count),
	    (uint64_t)RAISES * RAISERS);
}
