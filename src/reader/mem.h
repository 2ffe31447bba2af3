/*
 * Where the readers' memory comes from.
 *
 * Every reader of a process (CPython's runtime and frames, glibc's lock
 * words) reads through mem_read(), never through a plain pointer: the
 * structures it follows belong to a program that keeps running, so a
 * pointer read a moment ago may be freed, and the process may be another
 * one.  The source is one per process at a time, chosen before reading:
 *
 *   this process   the shim, and the tests that probe their own memory;
 *   another one    gilwatch dump/top reading a process from outside,
 *                  through process_vm_readv (a ptrace-attach permission
 *                  check, but nothing is stopped);
 *   a core file    gilwatch dump --core: the core's segments, and the
 *                  mapped files for what it left out (core.h:
 *                  mem_source_core, through mem_source_reader).
 *
 * mem_read() is safe from any thread and from a signal handler; it never
 * faults: an address that cannot be read answers -1.  (A core is read
 * with open and pread only, both async-signal-safe.)
 */
#ifndef GW_MEM_H
#define GW_MEM_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Read this process (the default). */
void	mem_source_self(void);

/* Read process pid from outside.  The first failing read says why. */
void	mem_source_pid(pid_t pid);

/*
 * "This process" is pid, whose memory this one shares the layout of
 * but not the contents (the shim's monitor process: its program): read
 * only through the kernel, never a copy of this one's own memory.
 */
void	mem_self_is(pid_t pid);

/*
 * Read through r until another source is chosen; r must live until
 * then.  A core file is one (core.h: mem_source_core sets it), so that
 * this file needs nothing of ELF.  r->read has mem_read's contract;
 * its failures leave mem_error() at 0.
 */
struct mem_reader {
	int	(*read)(void *ctx, uintptr_t addr, void *buf, size_t len);
	void	*ctx;
	pid_t	 pid;		/* mem_source_target() */
};
void	mem_source_reader(const struct mem_reader *r);

/* The process read: our own pid for this process, a core's pid. */
pid_t	mem_source_target(void);

/* Nonzero when the source is another process, or a core file. */
int	mem_source_outside(void);

/*
 * Copy len bytes at addr of the source into buf: 0, or -1 when any of
 * them cannot be read.  errno is left as it was, except after a read of
 * another process that the kernel refused (EPERM, ESRCH): mem_error()
 * then says which.
 */
int	mem_read(uintptr_t addr, void *buf, size_t len);

/*
 * Many small reads at once: each span's len bytes at addr into buf, its
 * ok set to 1 when all of them could be read, 0 when not (as mem_read
 * would answer).  Through process_vm_readv it is one system call for up
 * to MEM_SPANS_MAX spans where mem_read would make one a span: the heads
 * of a dict's keys, each its own object.  A span that cannot be read
 * costs the spans after it one more call.  Other sources read span by
 * span.  Returns how many spans were read; as safe as mem_read.
 */
#define MEM_SPANS_MAX	64
struct mem_span {
	uintptr_t	 addr;
	void		*buf;
	size_t		 len;
	int		 ok;
};
size_t	mem_read_spans(struct mem_span *s, size_t n);

/*
 * Does mem_read of this process take no lock (process_vm_readv works,
 * no other source chosen)?  Then a signal handler may read through it.
 * Async-signal-safe.
 */
int	mem_self_lockfree(void);

/* The errno of the last refused read of another process, or 0. */
int	mem_error(void);

/*
 * Reads made since the process started: mem_read calls, and the system
 * calls (process_vm_readv, or a core's reads) they cost.  For the
 * bench and the tests: counts do not move with the machine's load, so
 * a reader that starts to scan per thread shows up here first.
 */
struct mem_count {
	unsigned long	reads;
	unsigned long	calls;
	unsigned long	pages;		/* pages copied whole (mem_cache_begin) */
};
void	mem_count(struct mem_count *c);

/*
 * One snapshot of another process (the current source: mem_source_pid),
 * or of this one (the shim's dumps), read through copies of its pages:
 * the first read of a page copies all of it, and the reads of the same
 * page after it (a frame chain, a thread state's fields, an object and
 * its dict) are served from the copy, in a small table used over and
 * over (with mem_cache_prefetch,
 * a dump of a thousand Python 3.12 threads made its 21,259 reads in
 * 1,002 system calls, where each read took one).  Readability is
 * per page, so a read fails exactly when it would have without the
 * copies.  A page copied may be older than the memory by a few
 * milliseconds, as a snapshot is anyway.  The copies are the calling
 * thread's, between its mem_cache_begin and mem_cache_end: other
 * threads read as before, as does a signal handler that interrupts a
 * read on this one.  This process is read through them only where
 * process_vm_readv works (mem_self_lockfree).
 * pages is how many copies are worth keeping at once (some four a
 * thread; kept between 64 and 512).  Begin answers -1 (nothing is
 * copied, reads go on as before) when out of memory.
 */
int	mem_cache_begin(size_t pages);
void	mem_cache_end(void);

/*
 * Copy the pages of addr[0..n-1] now, as many as fit in the table at
 * once in one system call, for the reads that follow: the words that
 * threads wait on, known from /proc before any is read.  A page that
 * cannot be read is noted so; one that falls on another's slot is
 * read when it is read.  Without mem_cache_begin, nothing is done.
 */
#define MEM_PREFETCH_MAX	64	/* addresses worth giving at once */
void	mem_cache_prefetch(const uintptr_t *addr, size_t n);

/*
 * This process only: where process_vm_readv is refused (seccomp, old
 * kernels), check reads against a cached /proc/self/maps instead.  That
 * is weaker: memory unmapped after the cache was loaded still looks
 * readable, and the copy faults.
 */
void	mem_use_maps(int on);
void	mem_maps_reset(void);

/* A fork child, before it reads: this process's pid and maps anew. */
void	mem_after_fork_child(void);

#endif /* GW_MEM_H */
