/*
 * The helper thread: one thread of gilwatch's own per process that
 * writes the thread dump when the dump signal arrives, answers
 * `gilwatch dump PID` on the control socket, and runs the periodic
 * deadlock scan.  It blocks every signal, so the program's signals
 * never land on it.  It starts with the program's second thread (or an
 * event loop's first epoll_wait, for the loop-stall look): until then
 * the dump signal's handler writes the dump itself (sigdump.h) and
 * `gilwatch dump` reads the process from outside.  When it is the
 * monitor process, that process was forked at start-up and waited
 * idle until then (dump_prefork).
 */
#ifndef GW_DUMP_H
#define GW_DUMP_H

#include <stdatomic.h>

/* Claim the dump signal; the helper starts later.  0 or -1. */
int	dump_start(void);

/*
 * At the end of start-up: fork the monitor process now, while the
 * program is small, to wait idle until the helper is needed (monitor.h).
 */
void	dump_prefork(void);

/* In a fork child: the helper did not survive; none until needed. */
void	dump_after_fork_child(void);

/* The program is starting a thread: start the helper if not yet. */
void	dump_need_helper(void);

/*
 * Fork handlers.  In CPython 3.12 and later a single-threaded program's
 * fork must see a single thread: one that never had a second has no
 * helper; one back to a single thread of its own (or with an event
 * loop) has, and it leaves before the fork and is started again after
 * it, in the parent, by dump_resume.
 */
void	dump_fork_prepare(void);
void	dump_fork_parent(void);

/* Start the helper again if a fork made it leave: from a mutex lock
 * hook's full path, which the forking thread's next lock takes
 * (shim.c), never from a call that a signal handler may make. */
extern atomic_int dump_helper_resume;
void	dump_resume(void);

static inline void
dump_resume_if_paused(void)
{
	if (__builtin_expect(atomic_load_explicit(&dump_helper_resume,
	    memory_order_relaxed), 0))
		dump_resume();
}

/* The program has no thread left: the helper leaves too. */
void	dump_quit(void);

/*
 * Run fn on the helper thread and wait for it at most timeout_ms.
 * Returns 0 when the helper was asked (fn ran, or the wait ran out),
 * -1 when there is no helper to ask (fn did not run): the caller runs
 * fn itself if it can.  Async-signal-safe on the caller's side.
 */
int	dump_on_helper(void (*fn)(void), int timeout_ms);

/*
 * In the monitor, for --on-deadlock or --on-stall: end the program,
 * with abort() or _exit(status), from the dump signal's handler (or
 * by SIGABRT or SIGKILL when the program has that signal); then the
 * monitor leaves.
 */
_Noreturn void	dump_end_program(int abort_it, int status);

/* Whether the helper is the monitor process (monitor.h). */
int	dump_monitor_runs(void);

/* At exit: remove the socket. */
void	dump_stop(void);

#endif /* GW_DUMP_H */
