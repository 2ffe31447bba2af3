/*
 * A running maximum kept by many threads at once, without a lock: the
 * shim's hooks raise maxima (wait, hold, budget misses) from every
 * thread, and readers only ever need some value that was the maximum.
 */
#ifndef GW_MAXVAL_H
#define GW_MAXVAL_H

#include <stdatomic.h>
#include <stdint.h>

/* *p becomes max(*p, v); relaxed: a maximum orders nothing else. */
static inline void
raise_max(_Atomic uint64_t *p, uint64_t v)
{
	uint64_t cur = atomic_load_explicit(p, memory_order_relaxed);

	while (v > cur && !atomic_compare_exchange_weak_explicit(p, &cur, v,
	    memory_order_relaxed, memory_order_relaxed))
		;
}

#endif
