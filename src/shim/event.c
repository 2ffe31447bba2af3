/* From tracking's findings to their reports: see event.h. */
#include <errno.h>

#include "event.h"
#include "holdwarn.h"
#include "order-report.h"
#include "report.h"
#include "trace.h"
#include "track.h"

void
event_acquired_all(struct thread *t, uintptr_t addr, int kind, int mode,
    int try, uintptr_t site)
{
	struct order_cycle inversion;
	int saved;

	if (__builtin_expect(!track_acquired(t, addr, kind, mode, try, site,
	    &inversion), 1))
		return;
	saved = errno;
	thread_enter_shim();
	if (trace_on)
		trace_mark(TRACE_INVERSION, atomic_load(&t->tid), 0, 0,
		    inversion.len);
	order_report(t, inversion.view, inversion.edge, inversion.len, site);
	thread_leave_shim();
	errno = saved;
}

__attribute__((noinline)) int
event_acquired_more(struct thread *t, struct lockrec *rec, uintptr_t addr,
    unsigned how, uintptr_t site)
{
	return event_acquired_next(t, rec, addr, how, site);
}

/* Not inlined (link-time optimisation would): its copy of the hold
 * would give every unlock hook a stack frame. */
__attribute__((noinline)) void
event_releasing_all(struct thread *t, uintptr_t addr)
{
	struct held was;
	uint64_t ticks;

	if (__builtin_expect((ticks = track_releasing(t, addr, &was)) == 0, 1))
		return;
	holdwarn_report(t, &was, ticks);
}

void
event_wait_begin(struct thread *t, enum gw_thread_state state,
    uintptr_t addr, int kind, int mode, int timed, uintptr_t site)
{
	struct wf_frame *cycle;
	int n, saved;

	n = track_wait_begin(t, state, addr, kind, mode, timed, site, &cycle);
	if (n == 0)
		return;
	saved = errno;
	thread_enter_shim();
	report_deadlock(cycle, n);
	thread_leave_shim();
	errno = saved;
}
