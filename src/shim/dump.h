/*
 * The helper thread: one thread of gilwatch's own per process (in
 * CPython 3.12+ from the program's second thread on) that
 * writes the thread dump when the dump signal arrives, answers
 * `gilwatch dump PID` on the control socket, and runs the periodic
 * deadlock scan.  It blocks every signal, so the program's signals
 * never land on it.
 */
#ifndef GW_DUMP_H
#define GW_DUMP_H

/* Start the helper (and the socket, and the dump signal).  0 or -1. */
int	dump_start(void);

/* In a fork child: the helper did not survive; start a new one. */
void	dump_after_fork_child(void);

/* The program is starting a thread: start the helper if not yet. */
void	dump_need_helper(void);

/* The program has no thread left: the helper leaves too. */
void	dump_quit(void);

/*
 * Run fn on the helper thread and wait for it at most timeout_ms.
 * Returns 0 when the helper was asked (fn ran, or the wait ran out),
 * -1 when there is no helper to ask (fn did not run): the caller runs
 * fn itself if it can.  Async-signal-safe on the caller's side.
 */
int	dump_on_helper(void (*fn)(void), int timeout_ms);

/* At exit: remove the socket. */
void	dump_stop(void);

#endif /* GW_DUMP_H */
