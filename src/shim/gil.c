/* GIL tracking: see gil.h.  (Being written: for now, no Python is seen.) */
#include <string.h>

#include "gil.h"
#include "thread.h"

void
gil_init(void)
{
}

int
gil_is_mutex(uintptr_t addr)
{
	return 0;
}

int
gil_is_cond(uintptr_t addr)
{
	return 0;
}

int
gil_is_switch_cond(uintptr_t addr)
{
	return 0;
}

void
gil_mutex_locking(struct thread *t)
{
}

void
gil_acquired(struct thread *t)
{
}

void
gil_released(struct thread *t)
{
}

void
gil_wait_timed_out(struct thread *t)
{
}

void
gil_summary(struct gil_summary *s)
{
	memset(s, 0, sizeof *s);
	strcpy(s->why_not, "no CPython in this process");
}

void
gil_thread_totals(struct thread *t, uint64_t *hold, uint64_t *wait)
{
	*hold = atomic_load(&t->gil_hold);
	*wait = atomic_load(&t->gil_wait);
}

void
gil_histograms(uint64_t wait[GIL_HIST_BUCKETS], uint64_t hold[GIL_HIST_BUCKETS])
{
	memset(wait, 0, GIL_HIST_BUCKETS * sizeof wait[0]);
	memset(hold, 0, GIL_HIST_BUCKETS * sizeof hold[0]);
}

void
gil_after_fork_child(void)
{
}
