/* Stall detection and its report: see stall.h. */
#include <stdlib.h>
#include <unistd.h>

#include "clock.h"
#include "config.h"
#include "gil.h"
#include "procstat.h"
#include "report.h"
#include "stall.h"
#include "thread.h"

static uint64_t seen;		/* signature of the last look's stall */
static uint64_t reported;	/* and of the stall last reported */
static struct stall_thread *view;
static size_t view_cap;

/* How t waits (stall_waits), from a copy no write overlapped. */
static int
stall_view(struct thread *t, uint64_t now, struct stall_thread *st)
{
	struct wait_copy c;
	uint64_t gil_since;
	int gil_waiting;

	if (thread_copy_wait(t, &c) == -1)
		return -1;
	/* The GIL's state is its own, outside the sequence counter. */
	gil_since = atomic_load(&t->gil_since);
	gil_waiting = atomic_load(&t->gil_state) == GIL_WAITING;
	st->waiting = stall_waits(c.state, c.wait.timed, gil_waiting);
	st->which = (uint64_t)atomic_load(&t->tid) << 32;
	if (gil_waiting) {
		st->waited_ns = (uint64_t)(clock_ticks_to_ms(clock_ticks() -
		    gil_since) * 1e6);
		st->which ^= gil_since | 1ull << 63;
	} else {
		st->waited_ns = now > c.since_ns ? now - c.since_ns : 0;
		st->which ^= c.gen;
	}
	return 0;
}

static int
grow(size_t n)
{
	struct stall_thread *v;

	if (n <= view_cap)
		return 0;
	if ((v = realloc(view, n * 2 * sizeof *v)) == NULL)
		return -1;
	view = v;
	view_cap = n * 2;
	return 0;
}

void
stall_scan(void)
{
	struct thread *t;
	uint64_t now = now_ns(), sig;
	size_t n = 0;

	if (config.stall_s == 0)
		return;
	for (t = thread_first(); t != NULL; t = t->next) {
		if (!atomic_load(&t->in_use) || t->internal ||
		    atomic_load(&t->state) == GW_STATE_EXITED)
			continue;
		if (grow(n + 1) == -1 || stall_view(t, now, &view[n]) == -1)
			goto none;
		n++;
	}
	if (!stall_rule(view, n, procstat_threads(getpid()), 1,
	    (uint64_t)config.stall_s * 1000000000u))
		goto none;
	sig = stall_signature(view, n);
	if (sig == seen && sig != reported) {
		reported = sig;
		report_stall(config.stall_s);
	}
	seen = sig;
	return;
none:
	seen = 0;
}

void
stall_reset(void)
{
	seen = reported = 0;
}
