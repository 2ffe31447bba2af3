/*
 * The in-shim guard: a per-thread depth that says the calling thread is
 * inside the shim, so hooks reached from here (libunwind's and libdw's
 * own locks, the shim's allocations) pass straight through.  Below the
 * thread registry: stack.c brackets its unwinder calls with it, and
 * thread_self() returns NULL while it is set.
 *
 * Beside it, the word every hook reads first: thread_ready, the calling
 * thread's record while the thread has one and is outside the shim,
 * else NULL.  One load decides the common case (track a registered
 * thread), where the depth, the record and the resolver's readiness
 * would be three.  A record exists only once the shim is initialised,
 * so a thread_ready that is not NULL also says that real.* is resolved.
 */
#ifndef GW_GUARD_H
#define GW_GUARD_H

#include <stdatomic.h>
#include <stddef.h>

struct thread;

extern __thread int guard_depth;	/* guard.c; nests */
extern __thread struct thread *thread_mine;	/* guard.c; NULL: none yet
						   (thread.c sets it) */
extern __thread struct thread *thread_ready;	/* guard.c: thread_mine
						   while guard_depth is 0 */

/*
 * Mark the calling thread as being inside the shim.  Nests.  The depth
 * first: a signal handler's hooks that run between the two stores see
 * the record (as if the signal had come just before) and its own
 * enter and leave do not give it back at depth 1.
 */
static inline void
thread_enter_shim(void)
{
	guard_depth++;
	atomic_signal_fence(memory_order_seq_cst);
	thread_ready = NULL;
}

static inline void
thread_leave_shim(void)
{
	if (--guard_depth == 0) {
		atomic_signal_fence(memory_order_seq_cst);
		thread_ready = thread_mine;
	}
}

static inline int
thread_in_shim(void)
{
	return guard_depth != 0;
}

#endif /* GW_GUARD_H */
