/*
 * A thread asleep in a system call unwound from its stack pointer and
 * program counter alone, as libdw unwinds it (unwind.c's quiet
 * threads), with each address's call frame row read from libdw once
 * and kept: a thousand threads parked at the same few places step
 * through the same rows, and libdw works each out again for every
 * frame (its CIE and FDE instructions run, every register's rule
 * asked for, a frame allocated), some 7,000 instructions a frame.
 *
 * Only the answers libdw's unwinding would give as a stack that ends
 * where its last frame's return address is undefined (the natural end
 * unwind.c looks for) or that goes on past the frames wanted are
 * given here; a row with anything else (a rule by expression, a signal
 * frame, no FDE in .eh_frame, a register not known, a read that fails)
 * gives -1, and the caller asks libdw, which gives what it gives.  The
 * rules kept are libdw's own (dwarf_cfi_addrframe, dwarf_frame_cfa,
 * dwarf_frame_register) and are applied as libdwfl applies them
 * (frame_unwind.c): x86-64 only.
 */
#ifndef GW_CFIROWS_H
#define GW_CFIROWS_H

#include <stdint.h>

#include <elfutils/libdwfl.h>

struct cfirows;

/* Rows of dw's modules: NULL when out of memory. */
struct cfirows	*cfirows_new(Dwfl *dw);
void		 cfirows_free(struct cfirows *);

/* Read 8 bytes at addr of the process unwound: 0, or -1. */
typedef int	(*cfirows_read_fn)(uintptr_t addr, uint64_t *val, void *arg);

/*
 * The frames from sp and pc, innermost first, into ip[max], as
 * dwfl_getthread_frames gives them from those two registers: how
 * many, with *truncated set when there were more; -1 when libdw is to
 * be asked (see above).
 */
int	cfirows_unwind(struct cfirows *, uintptr_t sp, uintptr_t pc,
	    cfirows_read_fn read, void *arg, uintptr_t *ip, int max,
	    int *truncated);

#endif /* GW_CFIROWS_H */
