/*
 * The tick rate: the rough one start-up takes for its thresholds, over
 * a few microseconds, against the one measured over the full span.
 */
#include <criterion/criterion.h>
#include <math.h>

#include "clock.h"

Test(clock, rough_rate_agrees_with_the_measured_one)
{
	uint64_t rough, fine;
	double err;

	clock_init();
	rough = clock_ms_to_ticks_rough(10.0);
	fine = clock_ms_to_ticks(10.0);
	cr_assert(fine > 0);
	err = fabs((double)rough - (double)fine) / (double)fine;
	cr_assert(err < 0.05, "rough %llu ticks for 10 ms, measured %llu: "
	    "%.2f%% apart", (unsigned long long)rough,
	    (unsigned long long)fine, err * 100);
}

Test(clock, rough_rate_after_the_span_is_the_measured_one)
{
	uint64_t fine, rough;

	clock_init();
	fine = clock_ms_to_ticks(10.0);		/* sleeps out the span */
	rough = clock_ms_to_ticks_rough(10.0);
	cr_assert(fabs((double)rough - (double)fine) / (double)fine < 0.01,
	    "rough %llu, measured %llu", (unsigned long long)rough,
	    (unsigned long long)fine);
}
