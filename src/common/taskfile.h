/*
 * A thread's files under /proc/PID/task/TID (its status, its system
 * call, its name), read from their start each time.
 *
 * A process that reads the same threads' files again and again, as the
 * shim's monitor does at every dump, may keep them open between reads
 * (taskfile_keep): a read is then one pread, where it was an open, a
 * read and a close and a walk of the path (/proc looks the thread up
 * at each open).  A kept file is closed when a read of it fails (its
 * thread ended; a thread that reuses the number is opened anew), when a
 * whole round passes without a read of it (taskfile_round), or by
 * taskfile_keep(0).  Without taskfile_keep nothing stays open: a
 * program's own descriptors are not ours to take.
 *
 * Not thread safe while files are kept: one caller at a time.
 */
#ifndef GW_TASKFILE_H
#define GW_TASKFILE_H

#include <stddef.h>
#include <sys/types.h>

enum taskfile_kind {
	TASKFILE_STATUS,	/* status */
	TASKFILE_SYSCALL,	/* syscall */
	TASKFILE_COMM,		/* comm */
	TASKFILE_KINDS
};

/*
 * Read the file from its start into buf, NUL-terminated: the bytes read
 * (more than 0), or -1 with errno set (ENOENT or ESRCH: no such thread
 * now; EIO: the file was empty).
 */
ssize_t	taskfile_read(pid_t pid, pid_t tid, enum taskfile_kind kind,
	    char *buf, size_t len);

/*
 * The calling thread's comm without /proc: one prctl system call, not
 * through a prctl hook of the shim's; "" when it cannot be had.
 * Async-signal-safe.
 */
#define TASKFILE_COMM_MAX	16	/* the kernel's TASK_COMM_LEN */
void	taskfile_own_comm(char comm[TASKFILE_COMM_MAX]);

/*
 * Keep up to max_open files open between reads; 0 closes every kept
 * file and keeps none from then on.
 */
void	taskfile_keep(int max_open);

/*
 * A round begins (a dump): files not read since the round before are
 * closed.
 */
void	taskfile_round(void);

/* Files open now, and opens ever made (for the tests). */
int		taskfile_open_count(void);
unsigned long	taskfile_opens(void);

#endif /* GW_TASKFILE_H */
