/* Tick calibration: see clock.h. */
#include <stdatomic.h>
#include <time.h>

#include "clock.h"

#define CALIBRATE_MIN_NS	5000000.0	/* shorter spans are too noisy */

static uint64_t tsc0;
static double ns0;

static double
mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

void
clock_init(void)
{
	ns0 = mono_ns();
	tsc0 = clock_ticks();
}

/*
 * Measure over a few milliseconds when the process is younger than
 * that: a report right after start-up still gets a sane rate.
 */
double
clock_ticks_per_ns(void)
{
	double ns = mono_ns(), start;
	uint64_t t = clock_ticks(), t1;

	if (ns - ns0 >= CALIBRATE_MIN_NS && t > tsc0)
		return (double)(t - tsc0) / (ns - ns0);
	start = ns;
	while ((ns = mono_ns()) - start < CALIBRATE_MIN_NS)
		;
	t1 = clock_ticks();
	return (double)(t1 - t) / (ns - start);
}

double
clock_ticks_to_ms(uint64_t ticks)
{
	return (double)ticks / clock_ticks_per_ns() / 1e6;
}

uint64_t
clock_ms_to_ticks(double ms)
{
	return (uint64_t)(ms * 1e6 * clock_ticks_per_ns());
}
