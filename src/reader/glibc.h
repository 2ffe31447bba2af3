/*
 * glibc's lock words read from outside (x86-64, glibc 2.36): what a
 * thread blocked in futex(2) waits on, and who holds it.
 *
 * The kernel shows the futex word's address and operation
 * (/proc/PID/task/TID/syscall); glibc's own words then name the holder:
 *   mutex        the word is the mutex; its __owner is the holder's tid
 *                (every type; a PI mutex also in __lock & 0x3fffffff);
 *   rwlock       a writer waits on __writers_futex (+12) while a writer
 *                holds it (__cur_writer), writers and readers on
 *                __wrphase_futex (+8); reading holders are only a count;
 *   join         the joined thread's tid word, whose value is that tid;
 *   semaphore    no owner at all;
 *   internal     glibc's own low-level locks (malloc arenas, stdio):
 *                no owner word, never read as a mutex.
 * The futex operation alone does not tell a rwlock from a semaphore or a
 * condition variable: the unwound stack names the glibc function.
 * Without one the kind is inferred from the words, and marked so.
 */
#ifndef GW_GLIBC_H
#define GW_GLIBC_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct maps;
struct task;

/*
 * Can the lock words of the process that maps m be read with the layout
 * we were built against?  Its libc.so.6 is ours (same file), or says
 * our version in its memory (mem_read: the current source, a live
 * process or a core).  0, or -1 with why filled (not x86-64, a static
 * program, a glibc other than ours).
 */
int	glibc_check(const struct maps *m, char *why, size_t len);

/* The tids of the process, sorted, for checking owner words. */
struct glibc_tids {
	const pid_t	*tid;
	size_t		 n;
};

#define GLIBC_NAMES_MAX	8	/* innermost frames looked at */

/* What one thread waits on. */
struct glibc_wait {
	int		 kind;		/* enum gw_lock_kind, -1: none */
	int		 mode;		/* enum gw_lock_mode */
	int		 state;		/* enum gw_thread_state */
	uintptr_t	 addr;		/* the lock, not the futex word */
	pid_t		 owner;		/* 0 when none can be named */
	unsigned	 count;		/* the owner's recursion depth, 0 */
	int		 timed;
	int		 inferred;	/* no stack confirmed the kind */
	char		 note[160];	/* what cannot be known, or "" */
	/* A Python lock (set by the CPython step, outside-py.c): */
	const char	*py_type;	/* gw_lock_info.py_type, or NULL */
	uintptr_t	 py_object;	/* the lock object, or 0 */
};

/*
 * Classify t's wait from its system call and the lock words (read with
 * mem_read from the current memory source), with the names of its
 * innermost native frames (NULL entries for unnamed ones; nfns 0: no
 * stack).  Returns 1 when t waits on something, 0 when not (w->kind -1).
 */
int	glibc_classify(const struct task *t, const char *const *fns, int nfns,
	    const struct glibc_tids *tids, struct glibc_wait *w);

#endif /* GW_GLIBC_H */
