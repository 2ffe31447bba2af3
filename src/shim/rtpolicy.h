/*
 * Scheduling policies, asked of the kernel: which threads are real-time
 * (SCHED_FIFO, SCHED_RR: a JACK process thread, an audio callback).
 * Below the GIL and budget modules, which both mark threads with it.
 */
#ifndef GW_RTPOLICY_H
#define GW_RTPOLICY_H

#include <sys/types.h>

/*
 * A thread's scheduling policy (SCHED_*) and, in *prio, its real-time
 * priority; tid 0 is the caller.  -1 when the thread is gone.  Keeps
 * errno: called from hooks.
 */
int	rt_policy(pid_t tid, int *prio);

/* SCHED_FIFO or SCHED_RR? */
int	rt_is_realtime(int policy);

/* "SCHED_FIFO", "SCHED_RR", ... */
const char	*rt_policy_name(int policy);

#endif
