/*
 * /proc/PID/stat, the one line the kernel keeps on a process: read by
 * the shim (its own thread count, its start time) and by the command
 * (another process's).  Open and read only: no stdio, no allocation.
 */
#ifndef GW_PROCSTAT_H
#define GW_PROCSTAT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/*
 * Read pid's line into buf: a pointer to field 3 (the state) in it, or
 * NULL with errno set (EIO when the line is cut or malformed).
 */
char	*procstat_read(pid_t pid, char *buf, size_t len);

/* Field n (3 or more) of a line from procstat_read; NULL past its end. */
const char *procstat_field(const char *fields, int n);

/* Field 20, the number of threads; -1 when it cannot be read. */
int	procstat_threads(pid_t pid);

/*
 * The threads of pid that run: procstat_threads less an ended main
 * thread, which the kernel counts until the whole process ends; -1 when
 * it cannot be read.
 */
int	procstat_live_threads(pid_t pid);

/*
 * The thread through which process pid is read: pid itself while its
 * main thread runs; once that has ended (pthread_exit in main) while
 * the process runs on in other threads, the first of those.  The kernel
 * takes a process's memory, mappings and command line from the task
 * named, and an ended main thread has none: /proc/PID/maps reads empty
 * and process_vm_readv(PID) fails with ESRCH.  pid again when no thread
 * runs (a zombie process, or no such process).  open, read and
 * getdents64 only, nothing allocated: a signal handler's dump may call it.
 */
pid_t	procstat_live_task(pid_t pid);

/*
 * pid's command line (/proc/PID/cmdline), arguments joined by spaces,
 * cut to fit buf: 0, or -1 when it cannot be read or is empty.  Read
 * through procstat_live_task when the main thread has ended.
 */
int	procstat_cmdline(pid_t pid, char *buf, size_t len);

/*
 * When a process started, on the real-time clock (ns), from its start
 * time in clock ticks after boot (field 22); 0 when it cannot be told.
 */
uint64_t	procstat_start_real_ns(uint64_t start_ticks);

/* Clock id's time in nanoseconds (the clocks the times above use). */
uint64_t	procstat_clock_ns(clockid_t id);

#endif /* GW_PROCSTAT_H */
