/* Scheduling policies: see rtpolicy.h. */
#include <errno.h>
#include <sched.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>

#include "rtpolicy.h"

/*
 * The kernel's struct sched_attr as sched_getattr(2) fills it (its first
 * version, 48 bytes); <linux/sched/types.h> cannot be included beside
 * <sched.h>.  The reset-on-fork flag is in flags, not in policy.
 */
struct kernel_sched_attr {
	uint32_t	size;
	uint32_t	sched_policy;
	uint64_t	sched_flags;
	int32_t		sched_nice;
	uint32_t	sched_priority;
	uint64_t	sched_runtime;
	uint64_t	sched_deadline;
	uint64_t	sched_period;
};

int
rt_policy(pid_t tid, int *prio)
{
	struct kernel_sched_attr attr;
	struct sched_param sp;
	int policy, saved = errno;

	*prio = 0;
	/* One call where the kernel has it (Linux 3.14): a dump asks each
	 * thread. */
	memset(&attr, 0, sizeof attr);
	if (syscall(SYS_sched_getattr, tid, &attr, sizeof attr, 0) == 0) {
		errno = saved;
		*prio = (int)attr.sched_priority;
		return (int)attr.sched_policy;
	}
	if (errno == ESRCH)
		policy = -1;
	else if ((policy = sched_getscheduler(tid)) != -1) {
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
