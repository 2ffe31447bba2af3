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

/*
 * The periodic look: each loop whose turn has run the limit or more is
 * reported once per turn, with its thread's Python stack and what the
 * thread is blocked on.  Callable from whatever does the look (the
 * helper's scan now); returns how many were reported.
 */
int	loopstall_scan(uint64_t now_ns);

#endif /* GW_LOOPSTALL_H */
