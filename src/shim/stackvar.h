/*
 * Names of locks that live on a thread's stack: the local variable or
 * parameter holding the address ("a", "s.m", "locks[3]"), read from the
 * DWARF of the frame whose area holds it.  A lock on the heap has no
 * such name.
 *
 * A set samples a thread's stack (with stack pointers) the first time
 * it is asked for a name that the thread's stack may hold, and answers
 * from that sample after, so a report asks a thread once however many
 * locks it names, and only the threads whose stacks hold any.  Only
 * variables whose location is an offset from the frame base are found
 * (a variable whose address is taken lives there, at any -O), with the
 * frame bases gcc (the CFA) and clang (rbp or rsp, x86-64) give.
 *
 * Allocates and sends the sampling signal: reports only, never a signal
 * handler or a hook's fast path.
 */
#ifndef GW_STACKVAR_H
#define GW_STACKVAR_H

#include <stddef.h>
#include <stdint.h>

struct stackvars;

/* An empty set; NULL when memory runs out (names are then not found). */
struct stackvars	*stackvars_new(void);

/*
 * The variable holding addr into buf; returns 1, or 0 (buf empty) when
 * addr is in no frame of any thread or the debug information has no
 * variable there.  sv may be NULL.
 */
int	stackvars_name(struct stackvars *sv, uintptr_t addr, char *buf,
	    size_t len);

void	stackvars_free(struct stackvars *);

/*
 * For tests: a set that asks every thread for its stack at its first
 * name, as one does where the mappings cannot be read (a set asks only
 * the thread whose stack may hold the address); and how many threads a
 * set has sampled so far.
 */
struct stackvars	*stackvars_new_all(void);
size_t	stackvars_sampled(const struct stackvars *);

/*
 * The variable of the function at pc, in the frame whose stack pointer
 * is sp and CFA cfa, holding addr; returns 1 or 0 as stackvars_name.
 * pc is the instruction's own address (a return address less one).
 */
int	stackvar_at(uintptr_t pc, uintptr_t sp, uintptr_t cfa,
	    uintptr_t addr, char *buf, size_t len);

#endif /* GW_STACKVAR_H */
