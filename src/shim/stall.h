/*
 * Stalls: hangs with no cycle in them.  Every thread of the program
 * waits, with no timeout, for something only another of its threads
 * could give (a lock, a notify, a thread's end, the GIL), and has done
 * so for at least GILWATCH_STALL seconds: none can move again by
 * itself.  A lost notify, a queue nobody feeds any more, a join of a
 * thread that waits for its joiner: nobody holds what they wait for, so
 * the wait-for graph has no cycle to show.
 *
 * Off by default: a program that waits on purpose for a signal or for
 * another process looks the same from inside.
 */
#ifndef GW_STALL_H
#define GW_STALL_H

#include <stddef.h>
#include <stdint.h>

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

/*
 * The helper's once-a-second look: a stall seen at two looks in a row
 * is reported once, then --on-stall says what happens to the process.
 */
void	stall_scan(void);

/* Forget what was seen (fork child: a new process). */
void	stall_reset(void);

#endif /* GW_STALL_H */
