/* Log-linear duration histograms: buckets, edges, percentiles. */
#include <criterion/criterion.h>

#include "hist.h"

#define MS	1000000ull
#define US	1000ull

Test(hist, deadline_values_fall_in_different_buckets)
{
	/* The case: log2 buckets put both in [4096, 8192) us. */
	cr_assert_neq(hist_bucket(4200 * US), hist_bucket(8000 * US));
	cr_assert_neq(hist_bucket(4200 * US), hist_bucket(5300 * US));
	cr_assert_neq(hist_bucket(5300 * US), hist_bucket(8000 * US));
}

Test(hist, every_value_lies_within_its_bucket)
{
	uint64_t v;
	unsigned b;

	for (v = 0; v < 20000 * MS; v = v * 1.07 + 777) {
		b = hist_bucket(v);
		cr_assert_lt(b, HIST_BUCKETS);
		cr_assert_geq(v, hist_low(b),
		    "%llu below bucket %u", (unsigned long long)v, b);
		cr_assert_lt(v, hist_high(b),
		    "%llu above bucket %u", (unsigned long long)v, b);
	}
}

Test(hist, buckets_are_contiguous_and_fine)
{
	unsigned b;

	cr_assert_eq(hist_low(0), 0);
	for (b = 0; b + 1 < HIST_BUCKETS; b++) {
		cr_assert_eq(hist_high(b), hist_low(b + 1));
		cr_assert_gt(hist_high(b), hist_low(b));
		/* At most 1/HIST_SUB of the lower edge wide, past 1 us ones. */
		if (hist_low(b) >= HIST_SUB * US)
			cr_assert_leq((hist_high(b) - hist_low(b)) * HIST_SUB,
			    hist_low(b), "bucket %u too wide", b);
	}
	cr_assert_eq(hist_high(HIST_BUCKETS - 1), UINT64_MAX);
	cr_assert_eq(hist_bucket(UINT64_MAX), HIST_BUCKETS - 1);
}

Test(hist, percentile_within_the_bucket_and_below_the_max)
{
	uint64_t c[HIST_BUCKETS] = { 0 }, p, max = 0, v;
	unsigned i;

	/* 98 waits of 100 us, then 4.2 ms and 7.9 ms. */
	for (i = 0; i < 98; i++)
		c[hist_bucket(100 * US)]++;
	c[hist_bucket(4200 * US)]++;
	c[hist_bucket(7900 * US)]++;
	max = 7900 * US;
	p = hist_quantile(c, 0.50, max);
	cr_assert_geq(p, 100 * US);
	cr_assert_leq(p, hist_high(hist_bucket(100 * US)));
	p = hist_quantile(c, 0.99, max);
	cr_assert_geq(p, 4200 * US);
	cr_assert_leq(p, hist_high(hist_bucket(4200 * US)));
	cr_assert_lt(p, 5300 * US, "p99 4.2 ms must read below a 5.3 ms "
	    "budget, got %llu ns", (unsigned long long)p);
	/* The top percentile is the exact maximum, not a bucket edge. */
	cr_assert_eq(hist_quantile(c, 1.0, max), max);
	/* A maximum inside the bucket bounds the percentile. */
	for (i = 0; i < HIST_BUCKETS; i++)
		c[i] = 0;
	v = 4200 * US + 123;
	c[hist_bucket(v)] = 5;
	cr_assert_eq(hist_quantile(c, 0.99, v), v);
	cr_assert_eq(hist_quantile(c, 0.5, 0), hist_high(hist_bucket(v)));
}

Test(hist, empty_counts_give_zero)
{
	uint64_t c[HIST_BUCKETS] = { 0 };

	cr_assert_eq(hist_quantile(c, 0.99, 0), 0);
}
