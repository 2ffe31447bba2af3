/* Stall detection: see stall.h. */
#include <stdlib.h>
#include <unistd.h>

#include "clock.h"
#include "config.h"
#include "gil.h"
#include "procstat.h"
#include "stall.h"
#include "thread.h"
#include "monitor.h"

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

/*
 * One look at every thread the shim knows: 1 when the rule holds with
 * waits of at least limit_ns, with *sig saying which waits they are.
 */
static int
look(uint64_t limit_ns, uint64_t *sig)
{
	struct thread *t;
	uint64_t now = now_ns();
	size_t n = 0;

	for (t = thread_first(); t != NULL; t = t->next) {
		if (!atomic_load(&t->in_use) || t->internal ||
		    atomic_load(&t->state) == GW_STATE_EXITED)
			continue;
		if (grow(n + 1) == -1 || stall_view(t, now, &view[n]) == -1)
			return 0;
		n++;
	}
	/* The helper is one of the program's threads, unless it is the
	 * monitor process. */
	if (!stall_rule(view, n, procstat_threads(monitor_program()),
	    monitor_is_me() ? 0 : 1, limit_ns))
		return 0;
	*sig = stall_signature(view, n);
	return 1;
}

int
stall_scan(void)
{
	uint64_t sig;
	int found = 0;

	if (config.stall_s == 0)
		return 0;
	if (!look((uint64_t)config.stall_s * 1000000000u, &sig)) {
		seen = 0;
		return 0;
	}
	if (sig == seen && sig != reported) {
		reported = sig;
		found = 1;
	}
	seen = sig;
	return found;
}

/*
 * Two looks with the same waits: each thread was in its wait all the
 * time between them, so at the moment between the looks none ran.
 */
int
stall_now(void)
{
	uint64_t a, b;

	return look(0, &a) && look(0, &b) && a == b;
}

void
stall_reset(void)
{
	seen = reported = 0;
}
