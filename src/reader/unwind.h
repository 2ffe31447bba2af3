/*
 * Native stacks of another process, unwound by libdw.  A thread asleep
 * in a system call is unwound from the stack pointer and program
 * counter /proc shows, without being stopped, when it stays asleep
 * throughout; any other is stopped (ptrace) only while its own stack
 * is read, then let go, and the time it was stopped is measured.  Frames are named
 * afterwards, with nothing stopped, as the shim names its own
 * (symname.h).
 */
#ifndef GW_UNWIND_H
#define GW_UNWIND_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "symname.h"

#define UNWIND_MAX_FRAMES	64	/* deeper stacks are marked truncated */

struct unwind;

/*
 * Ready to unwind pid's threads, its modules those of m (read by
 * maps_read_pid; NULL: read its maps again): NULL with why filled when
 * not.
 */
struct maps;
struct unwind	*unwind_open(pid_t pid, const struct maps *m, char *why,
		    size_t len);
void		 unwind_close(struct unwind *);

struct unwind_stack {
	uintptr_t	 ip[UNWIND_MAX_FRAMES];	/* innermost first; the
						   others are return
						   addresses */
	int		 depth;
	int		 truncated;
	double		 stopped;	/* seconds the thread was stopped, 0
					   when it was not (unwound asleep) */
};

/*
 * Unwind thread t->tid, as read by task_list_runs (a thread read
 * without its run count is stopped): 0, or -1 with why filled (the
 * thread ended, could not be stopped...).  st->stopped is set either
 * way.
 */
struct task;
int	unwind_thread(struct unwind *, const struct task *t,
	    struct unwind_stack *st, char *why, size_t len);

/*
 * pid's modules reported to dw (between dwfl_report_begin and _end) as
 * dwfl_linux_proc_report reports them, from the file mappings m already
 * read (maps_read_pid) rather than from all of /proc/PID/maps again: a
 * process of many threads has two lines a thread, its stack and guard,
 * which libdw parses (sscanf) only to pass over.  0, else as
 * dwfl_linux_proc_report.
 */
struct maps;
int	unwind_report_maps(Dwfl *dw, pid_t pid, const struct maps *m);

/* Name ip (is_return: look up ip - 1): 0, or -1 when in no module. */
int	unwind_name(struct unwind *, uintptr_t ip, int is_return,
	    struct symbol *sym);

#endif /* GW_UNWIND_H */
