/* /proc/PID/stat: see procstat.h. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "procstat.h"

char *
procstat_read(pid_t pid, char *buf, size_t len)
{
	char path[64], *p;
	ssize_t n;
	int fd;

	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return NULL;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n <= 0) {
		errno = EIO;
		return NULL;
	}
	buf[n] = '\0';
	/* The command is in parentheses and may hold anything: skip to
	 * the last ')'.  Field 3 follows it. */
	if ((p = strrchr(buf, ')')) == NULL || p[1] != ' ') {
		errno = EIO;
		return NULL;
	}
	return p + 2;
}

const char *
procstat_field(const char *fields, int n)
{
	const char *p = fields;
	int field;

	for (field = 3; field < n && p != NULL; field++)
		if ((p = strchr(p, ' ')) != NULL)
			p++;
	return p;
}

static int
count_threads(pid_t pid, int live)
{
	char buf[1024];
	const char *state = procstat_read(pid, buf, sizeof buf), *p;

	if (state == NULL || (p = procstat_field(state, 20)) == NULL)
		return -1;
	return atoi(p) - (live && (*state == 'Z' || *state == 'X'));
}

int
procstat_threads(pid_t pid)
{
	return count_threads(pid, 0);
}

int
procstat_live_threads(pid_t pid)
{
	return count_threads(pid, 1);
}

/* Whether thread tid runs: its state is neither zombie nor dead. */
static int
task_runs(pid_t tid)
{
	char buf[512];
	const char *state = procstat_read(tid, buf, sizeof buf);

	return state != NULL && *state != 'Z' && *state != 'X';
}

pid_t
procstat_live_task(pid_t pid)
{
	/* getdents64's records, read with no allocation: a signal
	 * handler's dump may come here. */
	union {
		struct dirent64	 d;
		char		 buf[4096];
	} u;
	struct dirent64 *d;
	char path[64];
	long n, off;
	pid_t tid, found = 0;
	int fd;

	if (task_runs(pid))
		return pid;
	snprintf(path, sizeof path, "/proc/%d/task", (int)pid);
	if ((fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return pid;
	while (found == 0 &&
	    (n = syscall(SYS_getdents64, fd, u.buf, sizeof u.buf)) > 0)
		for (off = 0; found == 0 && off < n; off += d->d_reclen) {
			d = (struct dirent64 *)(u.buf + off);
			tid = (pid_t)strtol(d->d_name, NULL, 10);
			if (tid > 0 && tid != pid && task_runs(tid))
				found = tid;
		}
	close(fd);
	return found != 0 ? found : pid;
}

/* pid's cmdline, read as the file of task: its length, or -1. */
static ssize_t
cmdline_of(pid_t task, char *buf, size_t len)
{
	char path[64];
	ssize_t n;
	int fd;

	snprintf(path, sizeof path, "/proc/%d/cmdline", (int)task);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	n = read(fd, buf, len - 1);
	close(fd);
	return n;
}

int
procstat_cmdline(pid_t pid, char *buf, size_t len)
{
	ssize_t n, i;
	pid_t live;

	if ((n = cmdline_of(pid, buf, len)) == 0 &&
	    (live = procstat_live_task(pid)) != pid)
		n = cmdline_of(live, buf, len);
	if (n <= 0)
		return -1;
	for (i = 0; i < n - 1; i++)
		if (buf[i] == '\0')
			buf[i] = ' ';
	buf[n] = '\0';
	return 0;
}

uint64_t
procstat_clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t
procstat_start_real_ns(uint64_t start_ticks)
{
	long hz = sysconf(_SC_CLK_TCK);
	uint64_t age;

	if (hz <= 0)
		return 0;
	age = procstat_clock_ns(CLOCK_BOOTTIME) -
	    start_ticks * (1000000000u / (uint64_t)hz);
	return procstat_clock_ns(CLOCK_REALTIME) - age;
}
