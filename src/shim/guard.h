/*
 * The in-shim guard: a per-thread depth that says the calling thread is
 * inside the shim, so hooks reached from here (libunwind's and libdw's
 * own locks, the shim's allocations) pass straight through.  Below the
 * thread registry: stack.c brackets its unwinder calls with it, and
 * thread_self() returns NULL while it is set.
 */
#ifndef GW_GUARD_H
#define GW_GUARD_H

extern __thread int guard_depth;	/* guard.c; nests */

/* Mark the calling thread as being inside the shim.  Nests. */
static inline void
thread_enter_shim(void)
{
	guard_depth++;
}

static inline void
thread_leave_shim(void)
{
	guard_depth--;
}

static inline int
thread_in_shim(void)
{
	return guard_depth != 0;
}

#endif /* GW_GUARD_H */
