/*
 * What the hooks call when a lock operation may find something: each
 * asks tracking (track.h), which returns what detection found (a
 * lock-order inversion, a deadlock, a long hold), and reports it here,
 * on the calling thread, at the moment it is found.  Tracking and
 * detection never call reporting themselves (shim.h: Layout).
 */
#ifndef GW_EVENT_H
#define GW_EVENT_H

#include <stdint.h>

#include "gilwatch/snapshot.h"
#include "thread.h"
#include "track.h"

/* track_acquired, then order_report for an inversion it closed. */
void	event_acquired_all(struct thread *t, uintptr_t addr, int kind,
	    int mode, int try, uintptr_t site);

/* track_releasing, then holdwarn_report for a long hold. */
void	event_releasing_all(struct thread *t, uintptr_t addr);

/*
 * What the hooks call: the common cases, which find nothing to report,
 * on track's fast paths, inline; the others through the above.
 */
static inline __attribute__((always_inline)) void
event_acquired(struct thread *t, uintptr_t addr, int kind, int mode,
    int try, uintptr_t site)
{
	struct lockrec *rec;

	if (__builtin_expect(!track_fast_rec(t, addr, kind, &rec) ||
	    !track_acquired_fast(t, rec, addr, kind, mode, try, site), 0))
		event_acquired_all(t, addr, kind, mode, try, site);
}

static inline __attribute__((always_inline)) void
event_releasing(struct thread *t, uintptr_t addr)
{
	if (__builtin_expect(!track_releasing_fast(t, addr, -1), 0))
		event_releasing_all(t, addr);
}

/* track_wait_begin, then report_deadlock for a cycle the wait closed. */
void	event_wait_begin(struct thread *t, enum gw_thread_state state,
	    uintptr_t addr, int kind, int mode, int timed, uintptr_t site);

#endif /* GW_EVENT_H */
