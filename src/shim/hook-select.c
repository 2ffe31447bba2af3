/*
 * An event loop's selector: epoll_wait and epoll_pwait.  asyncio's loop
 * gives control back only by returning to its selector (_run_once calls
 * selector.select, on Linux an EpollSelector; uvloop's libuv waits in
 * epoll too), so the time since its thread last came back from one is
 * how long the loop's current turn has run: the running task's step and
 * whatever ran before it in that turn.  loopstall.c judges it.
 *
 * Only epoll: poll and select are what blocking code inside a turn
 * calls (a socket with a timeout polls, time.sleep is a select up to
 * 3.10), and counting them would end the turn that the blocking call
 * stalls.  A loop on a PollSelector or SelectSelector is not timed.
 *
 * The cost is a clock read on the way out and two stores; the call, its
 * return value and errno are the program's own.
 */
#include <sys/syscall.h>

#include <unistd.h>

#include "config.h"
#include "dump.h"
#include "hook.h"

/* The kernel's sigset size, for a call made before real is ready. */
#define KSIGSET	8

/*
 * The loop-stall look is the helper's periodic scan: a single-threaded
 * program that waits in epoll (an asyncio loop) starts the helper, as a
 * second thread would.  Nothing else starts it in such a program.
 */
static inline struct thread *
sel_enter(void)
{
	struct thread *t = thread_self();
	int saved;

	if (t == NULL)
		return NULL;
	if (config.loop_stall_ms > 0) {
		saved = errno;		/* the call's own, as it came */
		dump_need_helper();
		errno = saved;
	}
	atomic_store_explicit(&t->sel_inside, 1, memory_order_relaxed);
	return t;
}

/* errno stays the call's (hook.h): now_ns cannot fail, but be sure. */
static inline void
sel_leave(struct thread *t)
{
	int saved;

	if (t == NULL)
		return;
	saved = errno;
	atomic_store_explicit(&t->sel_left, now_ns(), memory_order_relaxed);
	atomic_store_explicit(&t->sel_inside, 0, memory_order_release);
	errno = saved;
}

GW_EXPORT int
epoll_wait(int fd, struct epoll_event *ev, int max, int timeout)
{
	struct thread *t;
	int rc;

	if (!hook_ready())
		return (int)syscall(SYS_epoll_pwait, fd, ev, max, timeout,
		    NULL, KSIGSET);
	t = sel_enter();
	rc = real.epoll_wait(fd, ev, max, timeout);
	sel_leave(t);
	return rc;
}

GW_EXPORT int
epoll_pwait(int fd, struct epoll_event *ev, int max, int timeout,
    const sigset_t *mask)
{
	struct thread *t;
	int rc;

	if (!hook_ready())
		return (int)syscall(SYS_epoll_pwait, fd, ev, max, timeout,
		    mask, KSIGSET);
	t = sel_enter();
	rc = real.epoll_pwait(fd, ev, max, timeout, mask);
	sel_leave(t);
	return rc;
}
