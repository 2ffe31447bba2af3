/*
 * A core file as a process to read (x86-64 Linux ELF cores, the
 * kernel's and gdb's gcore): its memory, threads, mapped files and
 * native stacks.  mem_source_core() (mem.h) makes every reader read it.
 *
 * Memory is what the core's PT_LOAD segments hold.  Both writers leave
 * out pages a file still holds (the kernel writes such a segment with a
 * file size below its memory size, often 0 or the ELF header's page;
 * gcore writes no segment at all for read-only file mappings): those
 * bytes are read from the mapped file the NT_FILE note names, at its
 * offset, once the file is checked to be the one that was mapped (its
 * first page, where the core holds it, must match).
 *
 * What a core cannot tell: thread names (only the process name is
 * recorded), kernel thread states, and anything the mapped files no
 * longer hold when they changed since.
 *
 * The file is untrusted: every size and offset is checked, a truncated
 * or garbage core gives an error, never a crash.  A struct core is
 * read-only once opened and may be read from several threads.
 */
#ifndef GW_CORE_H
#define GW_CORE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "symname.h"

#define CORE_WHY_MAX	256	/* an error message, with NUL */

struct core;

/* One thread, from its NT_PRSTATUS note. */
struct core_thread {
	pid_t		 tid;
	int		 signo;		/* the signal it was stopped by, or 0 */
	uintptr_t	 ip, sp, bp;
	/*
	 * The system call the thread was inside, as the live
	 * /proc/PID/task/TID/syscall shows it: its number (orig_rax) and
	 * arguments (rdi, rsi, rdx, r10, r8, r9), or syscall = -1.
	 * Both writers stop a thread blocked in a call on its way out of
	 * the kernel, with the call interrupted for a restart: rax then
	 * holds -ERESTARTSYS or a sibling, which is what tells "inside"
	 * from "just returned" (see core.c).
	 */
	long		 syscall;
	uint64_t	 args[6];
	int64_t		 ret;		/* rax */
};

/* One file mapping, from the NT_FILE note. */
struct core_file {
	uintptr_t	 start, end;
	uint64_t	 offset;	/* file offset of start, bytes */
	const char	*path;		/* as mapped, or the EXE given */
};

/*
 * Open the core at path.  exe, when not NULL, replaces the executable
 * named in the core (the file holding the entry point, AT_ENTRY): for a
 * core taken on another machine or of a program rebuilt since.  NULL
 * and why set (one line) when the file is not a readable x86-64 ELF
 * core or its notes are garbage.
 */
struct core	*core_open(const char *path, const char *exe, char *why,
		    size_t whylen);
void		 core_close(struct core *);

/* The process: pid and command name (NT_PRPSINFO), "" when absent. */
pid_t		 core_pid(const struct core *);
const char	*core_command(const struct core *);
/* Its executable's path (the file at AT_ENTRY, or exe), or NULL. */
const char	*core_exe(const struct core *);
/* The signal that made the core (the first thread's), 0 for gcore's. */
int		 core_signal(const struct core *);

/* Threads, in note order (the first is the one that dumped). */
int		 core_nthreads(const struct core *);
const struct core_thread *core_thread(const struct core *, int i);

/* Mapped files, in address order. */
int		 core_nfiles(const struct core *);
const struct core_file *core_file(const struct core *, int i);

/*
 * Can the file of mapping i be read for what the core leaves out: it
 * opens, and its first page matches the core's copy (a file changed or
 * replaced since, or another program given as exe, does not)?  1 or 0.
 */
int		 core_file_usable(struct core *, int i);

/*
 * Make every mem_read() (mem.h), and so every reader, read c until
 * another source is chosen.  c must stay open until then.
 */
void		 mem_source_core(struct core *c);

/*
 * Copy len bytes at addr of the process into buf: 0, or -1 when any of
 * them is in no segment and no readable mapped file (mem_read's
 * contract).  Thread safe.
 */
int		 core_read(struct core *, uintptr_t addr, void *buf,
		    size_t len);

/*
 * Native stack of thread tid, unwound by libdw from the core's registers
 * and memory with the mapped files' unwind tables: at most max
 * addresses into ip, innermost first; the innermost is where the thread
 * was, the others return addresses (name them with is_return set).
 * Returns the depth, or -1 (why set) when the thread cannot be unwound
 * at all.  Not thread safe: one caller at a time per core.
 */
int		 core_stack(struct core *, pid_t tid, uintptr_t *ip, int max,
		    char *why, size_t whylen);

/*
 * Every thread's native stack in one pass, as core_stack gives one:
 * fn(tid, ip, depth, why, arg) for each, depth -1 with why when that
 * thread cannot be unwound; fn returns nonzero to stop.  libdw finds a
 * core's thread by walking the threads from the first, so a
 * core_stack per thread costs the square of their number: for
 * thousands of threads, this is the way.  0, or -1 (why set) when
 * nothing can be unwound.  Not thread safe, as core_stack.
 */
int		 core_stacks(struct core *, int max,
		    int (*fn)(pid_t, const uintptr_t *, int, const char *,
		    void *), void *arg, char *why, size_t whylen);

/* Name the code at ip as the shim names its own frames (symname.h). */
int		 core_symbolize(struct core *, uintptr_t ip, int is_return,
		    struct symbol *);

#endif /* GW_CORE_H */
