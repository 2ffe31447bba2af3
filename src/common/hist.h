/*
 * Log-linear histograms of durations, in the manner of HdrHistogram:
 * each power of two of microseconds is cut into HIST_SUB equal
 * sub-buckets, so a bucket is at most 1/HIST_SUB of its lower edge wide
 * (12.5%), where log2 buckets were 100%: 4.2 ms and 8 ms fall in
 * buckets [4096, 4608) and [8192, 9216) us, not in one.  Below
 * HIST_SUB us the buckets are 1 us wide; the last bucket takes
 * everything from 2^HIST_TOP_BITS us (71 minutes) on.  The longest
 * value is kept exactly beside a histogram by its owner, and a
 * percentile never exceeds it.
 *
 * Pure functions on arrays of HIST_BUCKETS counts: the owner updates
 * the counts as it likes (atomically, in the shim).
 */
#ifndef GW_HIST_H
#define GW_HIST_H

#include <stdint.h>

#define HIST_SUB_BITS	3
#define HIST_SUB	(1u << HIST_SUB_BITS)	/* sub-buckets per power of 2 */
#define HIST_TOP_BITS	32		/* values from 2^32 us share one */
#define HIST_BUCKETS	((HIST_TOP_BITS - HIST_SUB_BITS + 1) * HIST_SUB)

/* The bucket counting a duration of ns nanoseconds. */
unsigned	hist_bucket(uint64_t ns);

/* Bucket b counts [hist_low(b), hist_high(b)) ns; the last has no end
 * (hist_high gives UINT64_MAX). */
uint64_t	hist_low(unsigned b);
uint64_t	hist_high(unsigned b);

/*
 * The q-quantile (0 < q <= 1) of the counts, in ns: the upper edge of
 * the bucket holding it, or max_ns when that is lower (the exact
 * maximum bounds every percentile).  0 when the counts are empty.
 */
uint64_t	hist_quantile(const uint64_t counts[HIST_BUCKETS], double q,
		    uint64_t max_ns);

#endif /* GW_HIST_H */
