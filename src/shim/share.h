/*
 * The shim's memory, shared with its monitor process (monitor.h).
 *
 * At start-up, while the program has one thread, share_init moves the
 * variables marked GW_SHARED and an arena that pages_map hands out onto
 * one memfd, MAP_SHARED, at the addresses they had.  A monitor forked after that runs the shim's own
 * code over the same tables at the same addresses, as a thread of the
 * program would, without being one: it is a process of its own, and a
 * fork of the program gives it the same layout for code and constants.
 *
 * What stays private to each process: thread-local storage, the libc
 * heap, the program's own memory, and what either maps later by other
 * means.  Nothing the monitor reads through a shared table may point
 * there; the program's memory is read through the reader's memory
 * source (mem.h), which asks the kernel.
 *
 * A fork child gets its own copy (share_after_fork_child): its tables
 * are its own, as they were before sharing.
 */
#ifndef GW_SHARE_H
#define GW_SHARE_H

#include <stddef.h>

/*
 * A static variable the monitor reads while the program changes it (or
 * the other way round): it lives in the shared pages (shared.ld).  A
 * variable without it is private after the fork, frozen as it was for
 * the other side: it may hold what means something to one process only
 * (a pointer into the libc heap, a file descriptor, a FILE).
 */
#define GW_SHARED	__attribute__((section(".bss.gw_shared")))
/* The same, for the few with a value other than zero to start with. */
#define GW_SHARED_DATA	__attribute__((section(".data.gw_shared")))

/* At start-up, single-threaded, before any table.  0: shared; -1: not
 * (said why once, through msg_note): memory stays private. */
int	share_init(void);

/* Whether share_init succeeded in this process. */
int	share_on(void);

/* len bytes of zeroed shared memory from the arena, page-aligned; NULL
 * when sharing is off or the arena is full. */
void	*share_alloc(size_t len);

/*
 * Around a fork: the forking thread copies the tables onto a memfd for
 * the child before the fork (share.c says what that copy is of), and
 * the child maps it (share_after_fork_child); the parent lets it go.
 */
void	share_fork_prepare(void);
void	share_fork_parent(void);

/* In a fork child, first of all: the same memory, the copy made for it
 * before the fork.  -1: the child's tables could not be copied; sharing is
 * off in it and it has no monitor. */
int	share_after_fork_child(void);

#endif /* GW_SHARE_H */
