/* Tick calibration: see clock.h. */
#include <errno.h>
#include <stdatomic.h>
#include <time.h>

#include "clock.h"

#define CALIBRATE_MIN_NS	2000000.0	/* shorter spans are too noisy */

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
 * A process younger than the minimum span sleeps out the rest of it
 * (at most once: the helper's first publication, a report right after
 * start-up), rather than spinning on a core the program wants.
 */
double
clock_ticks_per_ns(void)
{
	double ns = mono_ns(), left;
	uint64_t t = clock_ticks();
	struct timespec ts;
	int saved = errno;

	if (ns - ns0 < CALIBRATE_MIN_NS || t <= tsc0) {
		left = CALIBRATE_MIN_NS - (ns - ns0);
		if (left > CALIBRATE_MIN_NS)	/* ns0 is in the future? */
			left = CALIBRATE_MIN_NS;
		ts.tv_sec = 0;
		ts.tv_nsec = left > 0 ? (long)left : 1000;
		while (nanosleep(&ts, &ts) == -1)
			;	/* a signal: sleep what is left */
		ns = mono_ns();
		t = clock_ticks();
		errno = saved;
	}
	return (double)(t - tsc0) / (ns - ns0);
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
