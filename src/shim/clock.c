/* Tick calibration: see clock.h. */
#include <errno.h>
#include <stdatomic.h>
#include <time.h>

#include "clock.h"

/*
 * Shorter spans are too noisy.  Each end of the span is a clock reading
 * bracketed by two tick readings (the tightest of a few), so its error
 * is half a bracket (25 ns on a VM: 0.03% of the span; the rate at
 * 100 us and at 20 ms agreed to 0.001% there).  The rate is
 * first wanted at start-up (rt_init's thresholds), where the 2 ms this
 * was cost every process 2 ms of wall-clock time.
 */
#define CALIBRATE_MIN_NS	100000.0
#define PAIR_TRIES		3

static uint64_t tsc0;
static double ns0;

static double
mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* A clock reading and the tick count at the same moment. */
static void
pair(double *ns, uint64_t *ticks)
{
	uint64_t a, b, best = UINT64_MAX;
	double n;
	int i;

	for (i = 0; i < PAIR_TRIES; i++) {
		a = clock_ticks();
		n = mono_ns();
		b = clock_ticks();
		if (b >= a && b - a < best) {
			best = b - a;
			*ns = n;
			*ticks = a + (b - a) / 2;
		}
	}
	if (best == UINT64_MAX) {	/* the counter went back? */
		*ns = n;
		*ticks = b;
	}
}

void
clock_init(void)
{
	pair(&ns0, &tsc0);
}

/*
 * A process younger than the minimum span sleeps out the rest of it
 * (at most once: the helper's first publication, a report right after
 * start-up), rather than spinning on a core the program wants.
 */
double
clock_ticks_per_ns(void)
{
	double ns, left;
	uint64_t t;
	struct timespec ts;
	int saved = errno;

	pair(&ns, &t);
	if (ns - ns0 < CALIBRATE_MIN_NS || t <= tsc0) {
		left = CALIBRATE_MIN_NS - (ns - ns0);
		if (left > CALIBRATE_MIN_NS)	/* ns0 is in the future? */
			left = CALIBRATE_MIN_NS;
		ts.tv_sec = 0;
		ts.tv_nsec = left > 0 ? (long)left : 1000;
		while (nanosleep(&ts, &ts) == -1)
			;	/* a signal: sleep what is left */
		pair(&ns, &t);
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

/*
 * Start-up's threshold (rt_init's) needs no precision a report does:
 * the rate over CALIBRATE_ROUGH_NS, spun out, instead of the sleep to
 * CALIBRATE_MIN_NS, which cost every process 0.2 ms of its start-up.
 * Its error is half a bracket over the span: under 1% on a VM.
 */
#define CALIBRATE_ROUGH_NS	5000.0

uint64_t
clock_ms_to_ticks_rough(double ms)
{
	double ns;
	uint64_t t;

	do
		pair(&ns, &t);
	while (ns - ns0 < CALIBRATE_ROUGH_NS && ns >= ns0);
	if (t <= tsc0 || ns <= ns0)
		return clock_ms_to_ticks(ms);
	return (uint64_t)(ms * 1e6 * (double)(t - tsc0) / (ns - ns0));
}
