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

/* At exit: remove the socket. */
void	dump_stop(void);

#endif /* GW_DUMP_H */
