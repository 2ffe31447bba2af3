/*
 * Stalled event loops: a thread running an asyncio loop whose current
 * turn has gone on for --loop-stall milliseconds without coming back to
 * its selector (hook-select.c times the turns).  Every other task of
 * that loop waits meanwhile: a coroutine that called blocking code
 * (time.sleep, a lock, a synchronous socket) or computes for long.
 *
 * The turn is what the shim can time: from the loop's last return from
 * epoll_wait to now.  It holds the running task's current step and the
 * callbacks that ran before it in the same turn, so it is an upper bound
 * of that step.  It is seen at the periodic look (once a second), so a
 * turn that ends between two looks goes unreported however long it was.
 */
#ifndef GW_LOOPSTALL_H
#define GW_LOOPSTALL_H

#include <stdint.h>

struct thread;

/*
 * For how long t has run since it last came back from epoll (now is
 * now_ns()): 0 while it is in epoll, or when it never was.  Cheap.
 */
uint64_t	loopstall_turn_ns(struct thread *t, uint64_t now);

/*
 * The periodic look: each loop whose turn has run the limit or more is
 * reported once per turn, with its thread's Python stack and what the
 * thread is blocked on.  Callable from whatever does the look (the
 * helper's scan now); returns how many were reported.
 */
int	loopstall_scan(uint64_t now_ns);

/*
 * The periodic look at asyncio's tasks (CPython 3.14+, a process whose
 * threads have waited in epoll): a deadlock through tasks (tasks that
 * await each other, or a task whose executor worker waits on its own
 * loop's thread) is reported once, as a deadlock report with every
 * stack, when a look first sees it.  Nothing tells the shim when an
 * await edge forms, so a cycle is seen at the first look after it
 * closes.  A look reads every task (0.5 s for 10,000 from outside):
 * after one that took c, the next waits at least 10c, so the looks
 * cost at most a tenth of the time.  Returns how many were reported.
 */
int	loopstall_cycles(uint64_t now_ns);

/* Forget what was reported (fork child: a new process). */
void	loopstall_reset(void);

#endif /* GW_LOOPSTALL_H */
