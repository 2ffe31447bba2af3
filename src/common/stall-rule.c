/* The stall rule: see stall-rule.h. */
#include "gilwatch/snapshot.h"
#include "stall-rule.h"

int
stall_waits(int state, int timed, int gil_waiting)
{
	return gil_waiting || ((state == GW_STATE_BLOCKED ||
	    state == GW_STATE_WAITING || state == GW_STATE_JOINING) &&
	    !timed);
}

int
stall_rule(const struct stall_thread *st, size_t n, int os_threads,
    int own, uint64_t limit_ns)
{
	size_t i;

	if (n == 0 || os_threads != (int)n + own)
		return 0;
	for (i = 0; i < n; i++)
		if (!st[i].waiting || st[i].waited_ns < limit_ns)
			return 0;
	return 1;
}

uint64_t
stall_signature(const struct stall_thread *st, size_t n)
{
	uint64_t h = 1469598103934665603ull;
	size_t i;

	for (i = 0; i < n; i++)
		h = (h ^ st[i].which) * 1099511628211ull;
	return h;
}
