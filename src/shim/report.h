/*
 * Building snapshots and writing them: the thread dump and the deadlock
 * report are both a snapshot written as text or JSON.
 *
 * Everything here allocates and may take a few hundred milliseconds
 * (stack sampling); call it from the helper thread, from a thread that
 * is about to block anyway (deadlock), or from the public API.  Callers
 * mark themselves as inside the shim first (thread_enter_shim).
 */
#ifndef GW_REPORT_H
#define GW_REPORT_H

#include "gilwatch/snapshot.h"
#include "format.h"
#include "hist.h"
#include "waitfor.h"

/* A snapshot of every thread, with the given cycle as its deadlock. */
struct gw_snapshot	*snapshot_build(enum gw_snapshot_reason, int flags,
			    const struct wf_frame *cycle, int ncycle);

/* Free a snapshot from snapshot_build. */
void	snapshot_free(struct gw_snapshot *);

/*
 * A deadlock through asyncio tasks that the periodic look found in s
 * (loopstall.h): counted as a deadlock, written, then --on-deadlock.
 */
void	report_task_deadlock(const struct gw_snapshot *s);

/* Write a snapshot in the configured format to the configured output. */
void	report_to_output(const struct gw_snapshot *);

/* A thread dump to the configured output (signal) or to fd (request). */
void	report_dump(enum gw_snapshot_reason, int fd, enum gw_format);

/* The deadlock report for a verified cycle, then --on-deadlock. */
void	report_deadlock(const struct wf_frame *cycle, int ncycle);

/* A stall of `seconds` (stall.h): a dump, then --on-stall. */
void	report_stall(int seconds);

/* How many deadlock and stall reports were made so far. */
void	report_counts(unsigned *deadlocks, unsigned *stalls);

/* A fork child starts with none: its parent's are not its own. */
void	report_after_fork_child(void);

/* One code address named on the spot (the writers are in format.h). */
void	report_ip(struct out *, uintptr_t ip, int is_return, enum gw_format);

/*
 * The stack st that thread t took of itself, with t's Python frames
 * merged in as in dumps (frames.h), named on the spot: a line
 * "    #N frame" each, or JSON frames separated by commas.
 */
struct stack;
struct thread;
void	report_own_stack(struct out *, struct thread *t,
	    const struct stack *st, enum gw_format);

/*
 * Write o to the configured output, then carry out `then` (report,
 * exit:N or abort) without letting another report start in between.
 * o may be NULL (nothing to write).  Before an exit or abort, which
 * writes no exit reports, report_last_words runs when set.
 */
extern void	(*report_last_words)(void);

/* In the monitor process, that end is the program's: this ends it
 * (dump_end_program, set by shim.c) and does not return. */
extern void	(*report_end_program)(int abort_it, int status);
struct opts_deadlock;
void	report_final(struct out *, const struct opts_deadlock *then);

/*
 * The lock statistics table, sorted by an enum opts_sort key, at most
 * top rows per view.  Returns how many locks were used.
 */
size_t	report_locks(struct out *, enum gw_format, int sort, int top);

/* One lock's figures as the table has them, for other writers. */
struct lock_figures {
	uintptr_t	 addr;
	int		 kind;		/* enum gw_lock_kind */
	char		 name[96];	/* report_lock_name, "" when none */
	uint64_t	 acquired, contended;
	uint64_t	 wait_ns, hold_ns;	/* totals */
};

/*
 * The top locks by an enum opts_sort key, as the table has them: *n of
 * them in a malloc'd array (NULL when memory runs out).
 */
struct lock_figures	*report_lock_figures(int sort, int top, size_t *n);

/*
 * The table, with the process's settings, to the configured output.
 * At exit a process that used no lock writes none (a shell and every
 * small program it runs would each say "no lock was used"), unless the
 * output is JSON to a file, where an empty table is data.
 */
void	report_locks_to_output(int at_exit);

/* One thread's GIL figures: a live thread or one that has ended. */
struct gil_row {
	pid_t		 tid;
	char		 name[64];
	uint64_t	 hold, wait, acquired, wait_max;	/* ns */
	uint64_t	 hist[HIST_BUCKETS];
	int		 policy, prio;	/* scheduling, -1: unknown; asked of
					   live threads by the reader */
	int		 live;		/* a thread still running */
};

/* Threading's name of a TID, live or departed (gil.h), or "". */
void	report_tid_name(pid_t tid, char *buf, size_t len);

/*
 * Every thread that took the GIL, live then departed: *n rows in a
 * malloc'd array (NULL when memory runs out).
 */
struct gil_row	*report_gil_rows(size_t *n);

/* The GIL statistics; the _to_output form writes nothing without one. */
void	report_gil(struct out *, enum gw_format);
void	report_gil_to_output(void);

/*
 * The name of the global variable at addr ("table", "locks+64") into
 * buf; returns 0 (buf empty) when the symbol tables know none.
 */
int	report_lock_name(uintptr_t addr, char *buf, size_t len);

/*
 * The same, else the local variable on a thread's stack that holds
 * addr, from the samples of sv (stackvar.h; NULL: globals only).
 */
struct stackvars;
int	report_lock_var(struct stackvars *sv, uintptr_t addr, char *buf,
	    size_t len);

/* Write o to the configured output (GILWATCH_OUTPUT or stderr). */
void	report_out_to_output(struct out *);

#endif /* GW_REPORT_H */
