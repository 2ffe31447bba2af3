/*
 * The stall rule, shared by the shim's stall reports (src/shim/stall.h)
 * and the dashboard's banner: every thread waits, with no timeout, for
 * something only another thread of the process could give, and has for
 * long enough; no thread is unaccounted for.  Pure functions.
 */
#ifndef GW_STALL_RULE_H
#define GW_STALL_RULE_H

#include <stddef.h>
#include <stdint.h>

/*
 * Does a thread wait for something only another thread could give?  A
 * wait for the GIL does (taking it back is a timed wait inside CPython,
 * but only the holder can let it go); a wait on a lock, a condition or
 * a join (state: enum gw_thread_state) does when it has no timeout.
 */
int	stall_waits(int state, int timed, int gil_waiting);

/* One thread as the rule sees it. */
struct stall_thread {
	int		waiting;	/* in a wait it cannot end by itself */
	uint64_t	waited_ns;	/* for how long */
	uint64_t	which;		/* that wait: differs for the next one */
};

/*
 * The rule: the process has os_threads threads, `own` of them gilwatch's,
 * and the other n are these; each has waited at least limit_ns.  A
 * thread gilwatch has not seen (it never called a hook) may be running:
 * then there is no stall.
 */
int	stall_rule(const struct stall_thread *, size_t n, int os_threads,
	    int own, uint64_t limit_ns);

/* Which waits these are: equal for the same waits, seen twice. */
uint64_t stall_signature(const struct stall_thread *, size_t n);

#endif /* GW_STALL_RULE_H */
