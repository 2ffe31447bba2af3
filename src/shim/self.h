/*
 * The pid a report names: getpid(), but in the copy of a
 * single-threaded program that writes its dump on the dump signal
 * (dump.c), the program's, whose memory the copy reads.
 */
#ifndef GW_SELF_H
#define GW_SELF_H

#include <sys/types.h>
#include <unistd.h>

extern pid_t	self_pid_as;	/* report.c; 0: getpid() */

static inline pid_t
self_pid(void)
{
	return self_pid_as != 0 ? self_pid_as : getpid();
}

#endif /* GW_SELF_H */
