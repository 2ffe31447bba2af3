/*
 * Cheap timestamps for the fast path: the TSC, which the kernel here
 * keeps constant and non-stop, read in a few nanoseconds where a
 * clock_gettime costs tens.  Ticks become nanoseconds only when a report
 * is written, by the rate measured between start-up and then.
 */
#ifndef GW_CLOCK_H
#define GW_CLOCK_H

#include <stdint.h>
#include <x86intrin.h>

static inline uint64_t
clock_ticks(void)
{
	return __rdtsc();
}

/* Remember the start point of the calibration (start-up, fork). */
void	clock_init(void);

/* Ticks per nanosecond, measured since clock_init. */
double	clock_ticks_per_ns(void);

/* Conversions, by the current rate. */
double	clock_ticks_to_ms(uint64_t ticks);
uint64_t	clock_ms_to_ticks(double ms);

/* The same by a rate measured over a few microseconds (within 1%),
 * which start-up waits for no longer than that: for a threshold. */
uint64_t	clock_ms_to_ticks_rough(double ms);

#endif /* GW_CLOCK_H */
