/* Log-linear duration histograms: see hist.h. */
#include "hist.h"

unsigned
hist_bucket(uint64_t ns)
{
	uint64_t us = ns / 1000;
	unsigned e;

	if (us < HIST_SUB)
		return (unsigned)us;
	e = 63 - (unsigned)__builtin_clzll(us);	/* us in [2^e, 2^(e+1)) */
	if (e >= HIST_TOP_BITS)
		return HIST_BUCKETS - 1;
	return (e - HIST_SUB_BITS + 1) * HIST_SUB +
	    (unsigned)((us >> (e - HIST_SUB_BITS)) & (HIST_SUB - 1));
}

uint64_t
hist_low(unsigned b)
{
	unsigned e;

	if (b < HIST_SUB)
		return (uint64_t)b * 1000;
	e = b / HIST_SUB + HIST_SUB_BITS - 1;
	return ((uint64_t)(HIST_SUB + b % HIST_SUB) << (e - HIST_SUB_BITS)) *
	    1000;
}

uint64_t
hist_high(unsigned b)
{
	if (b >= HIST_BUCKETS - 1)
		return UINT64_MAX;
	return hist_low(b + 1);
}

uint64_t
hist_quantile(const uint64_t counts[HIST_BUCKETS], double q,
    uint64_t max_ns)
{
	uint64_t n = 0, seen = 0, edge;
	unsigned b;

	for (b = 0; b < HIST_BUCKETS; b++)
		n += counts[b];
	if (n == 0)
		return 0;
	for (b = 0; b < HIST_BUCKETS - 1; b++) {
		seen += counts[b];
		if ((double)seen >= q * (double)n)
			break;
	}
	edge = hist_high(b);
	return max_ns != 0 && max_ns < edge ? max_ns : edge;
}
