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
/*
 * An acquisition by t of a lock it took lately (rec: track_fast_rec),
 * after track_acquired_first answered 0: track_acquired_more, else the
 * full path; how: kind | mode << 8 | try << 16.  Returns 0, what a lock
 * call that took its lock returns: a hook that ends with this call
 * keeps nothing across it.  Inline for a hook to keep out of its line
 * with its kind and mode known (hook-mutex.c); event_acquired_more is
 * the same, out of line, for any.
 */
static inline __attribute__((always_inline)) int
event_acquired_next(struct thread *t, struct lockrec *rec, uintptr_t addr,
    unsigned how, uintptr_t site)
{
	if (__builtin_expect(!track_acquired_more(t, rec, addr, how, site), 0))
		event_acquired_all(t, addr, how & 0xff, how >> 8 & 0xff,
		    how >> 16 & 0xff, site);
	return 0;
}

int	event_acquired_more(struct thread *t, struct lockrec *rec,
	    uintptr_t addr, unsigned how, uintptr_t site);

/* Both steps, for rec taken (kind, mode, try) as the hook knows it. */
static inline __attribute__((always_inline)) void
event_acquired_rec(struct thread *t, struct lockrec *rec, uintptr_t addr,
    int kind, int mode, int try, uintptr_t site)
{
	if (__builtin_expect(!track_acquired_first(t, rec, addr, kind, mode,
	    try, site), 0))
		event_acquired_more(t, rec, addr, (unsigned)kind |
		    (unsigned)mode << 8 | (unsigned)try << 16, site);
}

static inline __attribute__((always_inline)) void
event_acquired(struct thread *t, uintptr_t addr, int kind, int mode,
    int try, uintptr_t site)
{
	struct lockrec *rec;

	if (__builtin_expect(!track_fast_rec(t, addr, kind, &rec), 0))
		event_acquired_all(t, addr, kind, mode, try, site);
	else
		event_acquired_rec(t, rec, addr, kind, mode, try, site);
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
