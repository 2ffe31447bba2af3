/*
 * The threads of another process as the kernel shows them in /proc:
 * name, scheduler state, and the system call each is blocked in with
 * its arguments.  Reading these stops nothing.  Needs the ptrace-read
 * permission on the process (see the command's permission checks).
 */
#ifndef GW_TASK_H
#define GW_TASK_H

#include <stdint.h>
#include <sys/types.h>

#define TASK_SYSCALL_RUNNING	(-2)	/* on a CPU: no call to show */
#define TASK_SYSCALL_NONE	(-1)	/* blocked, but not in a call */

struct task {
	pid_t		 tid;
	char		 name[16];	/* comm, as pthread_setname_np sets it */
	char		 state;		/* 'R', 'S', 'D', 'T', 'Z'...; 0 gone */
	long		 syscall;	/* number, or TASK_SYSCALL_* */
	uint64_t	 args[6];
	uintptr_t	 sp, pc;	/* user registers at the call */
	uint64_t	 runs;		/* task_list_runs: times it was given
					   a CPU, read before the call; 0
					   when not read */
	int		 runs_fd;	/* its schedstat kept open to read
					   runs again, plus one; 0: none */
};

/*
 * Every thread of pid, sorted by tid, into a malloc'd array: the count,
 * or -1 with errno (ENOENT: no such process, EACCES: not allowed).
 */
int	task_list(pid_t pid, struct task **out);
/*
 * The same, with each waiting thread's runs read before its system
 * call: a thread whose count is the same later did not move since
 * (unwind.h unwinds it without stopping it).  A file more a thread.
 */
int	task_list_runs(pid_t pid, struct task **out);

/* Read (again) what thread t->tid of pid shows: 0, or -1 when gone. */
int	task_read(pid_t pid, struct task *t);

/*
 * How many times thread tid has been given a CPU (schedstat's third
 * field), from the task directory dfd (task_dir: /proc/PID/task, a
 * descriptor or -1): 0, or -1 where the kernel does not count them
 * (no CONFIG_SCHED_INFO shows zeros).
 */
int	task_dir(pid_t pid);
int	task_runs_at(int dfd, pid_t tid, uint64_t *runs);
/*
 * The same for t, listed by task_list_runs, through the file it kept
 * open (no path looked up again: a thousand threads are read twice),
 * else as task_runs_at does.  task_release closes that file; a task
 * listed with runs is released once, when its count is read no more.
 */
int	task_runs_again(int dfd, const struct task *t, uint64_t *runs);
void	task_release(struct task *t);

/* /proc files opened by task_list and task_read so far (for the bench
 * and the tests, as mem_count). */
unsigned long	task_files(void);

/* "futex", "read"...: the name of a system call number, or NULL. */
const char	*task_syscall_name(long nr);

#endif /* GW_TASK_H */
