/*
 * The monitor: gilwatch's process beside the program.  It does what
 * needs a thread of its own (dump.h: the publication, the periodic
 * scan, the control socket, the dump on a signal) without being a
 * thread of the program, so that the program's thread count, its
 * forks and glibc's single-thread fast paths are what they would be
 * without gilwatch.
 *
 * It is a fork of the program taken while the program has one thread,
 * so the shim's code and constants sit at the same addresses in both;
 * the tables it reads are shared (share.h).  It is forked at start-up,
 * while the program is small, and waits idle for the helper's work to
 * be asked (the program's second thread): forked later, it would make
 * every page the program had by then copy-on-write, and the program
 * pays a fault for each it writes afterwards (a few milliseconds for a
 * Python program).  A fork child, large by then, forks its own only
 * when it needs one.  Forked by a middle process that shares the
 * program's memory (a vfork, with a stack of its own that becomes the
 * monitor's) and detached (its own session), it is nobody's child the
 * program could wait for, and takes none of the terminal's signals.
 * It leaves when the lifeline's last write end closes: the program's
 * exit, or its exec.
 */
#ifndef GW_MONITOR_H
#define GW_MONITOR_H

#include <stddef.h>
#include <sys/types.h>

/*
 * At start-up, from the only thread, with the tables shared: fork the
 * monitor, idle until monitor_spawn starts it.  It keeps the
 * descriptors in keep[nkeep] (at most 15) and its lifeline, and closes
 * the others; standard error it holds only from its start, the
 * program's as it is then.  A failure says nothing: monitor_spawn
 * tries again, and says why if it fails.
 */
void	monitor_prefork(void (*run)(void), const int *keep, int nkeep);

/*
 * The writable data of the object (the executable or a library) that
 * holds addr is not the monitor's: a fork of it leaves that data out.
 * The monitor reads the program only through the kernel (mem.h), never
 * by pointer, so it needs no copy; and each page of a copy would cost
 * the program a fault when it next writes the page (a few hundred for
 * libpython's data, 10-20 us each in some VMs).  Read-only data after
 * relocation (RELRO), which the dynamic linker's lookups read, stays;
 * so does the executable's data, which holds the variables of the
 * libraries it refers to (copy relocations: stderr, environ).  Before
 * monitor_prefork; a few objects at most, the others ignored.
 */
void	monitor_leave_out(const void *addr);

/* Whether monitor_prefork's monitor waits for its start. */
int	monitor_waiting(void);

/*
 * Start the monitor, which calls run() and then _exit: the one
 * monitor_prefork forked, else one forked now (from the only thread, as
 * monitor_prefork).  0, or -1: no monitor (said why).
 */
int	monitor_spawn(void (*run)(void), const int *keep, int nkeep);

/* The monitor's pid once it runs, else 0 (in the program too). */
pid_t	monitor_running(void);

/* Whether the calling process is a monitor. */
int	monitor_is_me(void);

/* The program the monitor watches (in the program: its own pid). */
pid_t	monitor_program(void);

/* In the monitor: a descriptor that reads POLLHUP once the program is
 * gone; -1 in the program. */
int	monitor_lifeline(void);

/*
 * In the monitor, before a dump of nthreads threads: the memory it is
 * about to use faulted in at once (a thousand threads' dump touches
 * some 1,500 new pages, a fault each, dear in a virtual machine).  Kept
 * for the next dumps (freed memory stays); nothing in the program.
 */
void	monitor_reserve(size_t nthreads);

/* In a fork child: it is not watched by its parent's monitor. */
void	monitor_after_fork_child(void);

#endif /* GW_MONITOR_H */
