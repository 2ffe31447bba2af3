/* Scheduling policies: see rtpolicy.h. */
#include <errno.h>
#include <sched.h>

#include "rtpolicy.h"

int
rt_policy(pid_t tid, int *prio)
{
	struct sched_param sp;
	int policy, saved = errno;

	*prio = 0;
	if ((policy = sched_getscheduler(tid)) != -1) {
		policy &= ~SCHED_RESET_ON_FORK;
		if (sched_getparam(tid, &sp) == 0)
			*prio = sp.sched_priority;
	}
	errno = saved;	/* called from hooks */
	return policy;
}

int
rt_is_realtime(int policy)
{
	return policy == SCHED_FIFO || policy == SCHED_RR;
}

const char *
rt_policy_name(int policy)
{
	switch (policy) {
	case SCHED_OTHER:
		return "SCHED_OTHER";
	case SCHED_FIFO:
		return "SCHED_FIFO";
	case SCHED_RR:
		return "SCHED_RR";
	case SCHED_BATCH:
		return "SCHED_BATCH";
	case SCHED_IDLE:
		return "SCHED_IDLE";
	default:
		return "SCHED_?";
	}
}
