/*
 * Shared by the hook files: each hook is an exported function with the
 * libc name that does its bookkeeping around a call to real.<fn>.
 *
 * Every hook keeps errno as the program would see it without the shim:
 * the value on entry when the real call succeeds, the real call's value
 * when it fails.
 */
#ifndef GW_HOOK_H
#define GW_HOOK_H

#include <errno.h>

#include "real.h"
#include "thread.h"
#include "event.h"
#include "track.h"

#define GW_EXPORT	__attribute__((visibility("default")))

/* The code that called the hook. */
#define HOOK_CALLER	((uintptr_t)__builtin_return_address(0))

/*
 * True when real.* may be called.  A hook that fires before the
 * constructor resolves the functions itself; false only for calls made
 * by dlsym while it resolves them.
 */
static inline int
hook_ready(void)
{
	if (__builtin_expect(real_ready(), 1))
		return 1;
	real_resolve();
	return real_ready();
}

/*
 * hook_ready and thread_self in one, for the hooks every lock operation
 * runs: a registered thread outside the shim (the common case) costs
 * one load.  0: real.* may not be called (return at once); else 1, with
 * the record to track in *t, or NULL to pass straight through.
 */
/*
 * The rest, out of line: the record, and whether real.* may be called,
 * returned in two registers (a flag written through a pointer would
 * give every hook a stack frame).
 */
struct hook_start {
	struct thread	*t;
	int		 ready;
};
struct hook_start	hook_begin_all(void);

static inline __attribute__((always_inline)) int
hook_begin(struct thread **t)
{
	struct hook_start s;

	if (__builtin_expect((*t = thread_ready) != NULL, 1))
		return 1;
	s = hook_begin_all();
	*t = s.t;
	return s.ready;
}

/*
 * thread_ready read again after a call, which leaves it as it was: where
 * the compiler would keep its TLS offset in a register across the call
 * (a push and a pop, and a frame to align the stack), one more load.
 */
static inline struct thread *
thread_ready_again(void)
{
#ifdef __x86_64__
	struct thread *t;

	__asm__ volatile ("movq thread_ready@gottpoff(%%rip), %0\n\t"
	    "movq %%fs:(%0), %0" : "=r" (t));
	return t;
#else
	return thread_ready;	/* elsewhere the compiler's own load */
#endif
}

#endif /* GW_HOOK_H */
