/*
 * Lock statistics: which holds are timed (stats_hold_sampled, counting
 * down gaps stats_hold_gap draws) and what a timed hold counts for, so
 * that sampled hold totals are estimates without bias.
 */
#include <criterion/criterion.h>
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
