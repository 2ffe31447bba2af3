/* Threads of another process from /proc: see task.h. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/resource.h>

#include "grow.h"
#include "task.h"

static unsigned long nfiles;	/* task_files() */
static int kept, keep_max;	/* schedstat files kept open, at most */

/*
 * A file of a thread's /proc directory ("TID/stat", relative to the
 * process's task directory dfd), opened: its descriptor, or -1.
 */
static int
open_small(int dfd, pid_t tid, const char *file)
{
	char path[48], digits[16], *p = digits + sizeof digits;
	unsigned v = (unsigned)tid;
	size_t n0;

	/* "TID/file" without snprintf: two a thread, a thousand threads. */
	do
		*--p = (char)('0' + v % 10);
	while ((v /= 10) != 0);
	n0 = (size_t)(digits + sizeof digits - p);
	if (n0 + 1 + strlen(file) + 1 > sizeof path)
		return -1;
	memcpy(path, p, n0);
	path[n0] = '/';
	strcpy(path + n0 + 1, file);
	nfiles++;
	return openat(dfd, path, O_RDONLY | O_CLOEXEC);
}

/* The file fd from its start into buf, NUL-terminated: its length, or -1. */
static ssize_t
read_fd(int fd, char *buf, size_t len)
{
	ssize_t n;

	if ((n = pread(fd, buf, len - 1, 0)) < 0)
		return -1;
	buf[n] = '\0';
	return n;
}

/* A small file of a thread's (open_small) into buf, as read_fd. */
static ssize_t
read_small(int dfd, pid_t tid, const char *file, char *buf, size_t len)
{
	ssize_t n;
	int fd;

	if ((fd = open_small(dfd, tid, file)) == -1)
		return -1;
	n = read_fd(fd, buf, len);
	close(fd);
	return n;
}

/* A "0x.." field and the blank before it, as strtoull(s, &end, 16). */
static uint64_t
hex(const char *s, char **end)
{
	uint64_t v = 0;
	int d;

	while (*s == ' ')
		s++;
	if (s[0] == '0' && s[1] == 'x')
		s += 2;
	for (;; s++) {
		if (*s >= '0' && *s <= '9')
			d = *s - '0';
		else if (*s >= 'a' && *s <= 'f')
			d = *s - 'a' + 10;
		else if (*s >= 'A' && *s <= 'F')
			d = *s - 'A' + 10;
		else
			break;
		v = v << 4 | (uint64_t)d;
	}
	*end = (char *)s;
	return v;
}

/*
 * "202 0x55.. 0x80 0x2 0x0 0x0 0x0 0x7ffd.. 0x7f..": number, six
 * arguments, stack pointer, program counter; "-1 sp pc" when blocked
 * outside a call; "running".
 */
static void
parse_syscall(const char *buf, struct task *t)
{
	char *end;
	int i;

	t->syscall = TASK_SYSCALL_RUNNING;
	if (strncmp(buf, "running", 7) == 0)
		return;
	t->syscall = strtol(buf, &end, 10);
	if (end == buf) {
		t->syscall = TASK_SYSCALL_RUNNING;
		return;
	}
	if (t->syscall < 0) {
		t->syscall = TASK_SYSCALL_NONE;
		t->sp = hex(end, &end);
		t->pc = hex(end, &end);
		return;
	}
	for (i = 0; i < 6; i++)
		t->args[i] = hex(end, &end);
	t->sp = hex(end, &end);
	t->pc = hex(end, &end);
}

/* schedstat's "run_ns wait_ns timeslices" from fd: 0, or -1. */
static int
runs_of(int fd, uint64_t *runs)
{
	char buf[128], *p, *end;

	if (read_fd(fd, buf, sizeof buf) == -1 ||
	    (p = strchr(buf, ' ')) == NULL || (p = strchr(p + 1, ' ')) ==
	    NULL)
		return -1;
	*runs = strtoull(p + 1, &end, 10);
	return end != p + 1 && *runs != 0 ? 0 : -1;
}

int
task_runs_at(int dfd, pid_t tid, uint64_t *runs)
{
	int fd, rv;

	if ((fd = open_small(dfd, tid, "schedstat")) == -1)
		return -1;
	rv = runs_of(fd, runs);
	close(fd);
	return rv;
}

int
task_runs_again(int dfd, const struct task *t, uint64_t *runs)
{
	if (t->runs_fd > 0)
		return runs_of(t->runs_fd - 1, runs);
	return task_runs_at(dfd, t->tid, runs);
}

void
task_release(struct task *t)
{
	if (t->runs_fd > 0) {
		close(t->runs_fd - 1);
		kept--;
	}
	t->runs_fd = 0;
}

/*
 * t's run count, its schedstat kept open while there are descriptors
 * to spare (half the limit): 0, or -1.
 */
static int
first_runs(int dfd, struct task *t)
{
	int fd;

	t->runs_fd = 0;
	if ((fd = open_small(dfd, t->tid, "schedstat")) == -1)
		return -1;
	if (runs_of(fd, &t->runs) == -1) {
		close(fd);
		return -1;
	}
	if (kept < keep_max) {
		t->runs_fd = fd + 1;
		kept++;
	} else
		close(fd);
	return 0;
}

/*
 * Thread t->tid, from the task directory dfd.  Its stat line gives the
 * state and the name (between the first '(' and the ") " before the
 * state); the system call file is read only for a thread that is not
 * running, since a running one has no call to show: one file a thread
 * where most run, two where they wait (with runs, three: its run count
 * before the call).
 */
static int
task_read_at(int dfd, struct task *t, int runs)
{
	char buf[512], *name, *f;
	size_t n;

	t->state = 0;
	t->syscall = TASK_SYSCALL_RUNNING;
	if (read_small(dfd, t->tid, "stat", buf, sizeof buf) == -1)
		return -1;
	if ((f = strrchr(buf, ')')) == NULL || f[1] != ' ' || f[2] == '\0') {
		errno = EIO;
		return -1;
	}
	if ((name = strchr(buf, '(')) != NULL && f > name) {
		n = (size_t)(f - (name + 1));
		if (n >= sizeof t->name)
			n = sizeof t->name - 1;
		memcpy(t->name, name + 1, n);
		t->name[n] = '\0';
	}
	t->state = f[2];
	if (t->state == 'R' || t->state == 'Z' || t->state == 'X')
		return 0;
	if (runs && first_runs(dfd, t) == -1)
		t->runs = 0;
	if (read_small(dfd, t->tid, "syscall", buf, sizeof buf) == -1) {
		t->state = 0;
		return -1;
	}
	parse_syscall(buf, t);
	return 0;
}

int
task_dir(pid_t pid)
{
	char path[64];

	snprintf(path, sizeof path, "/proc/%d/task", (int)pid);
	return open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

int
task_read(pid_t pid, struct task *t)
{
	int dfd, rv, err;

	if ((dfd = task_dir(pid)) == -1)
		return -1;
	rv = task_read_at(dfd, t, 0);
	err = errno;
	close(dfd);
	errno = err;
	return rv;
}

static int
by_tid(const void *a, const void *b)
{
	const struct task *x = a, *y = b;

	return (x->tid > y->tid) - (x->tid < y->tid);
}

static int
list(pid_t pid, struct task **out, int runs)
{
	struct dirent *de;
	struct task *v = NULL, *nv;
	struct rlimit rl;
	size_t n = 0, cap = 0, i, k;
	DIR *d;
	int dfd, err;

	if (runs && getrlimit(RLIMIT_NOFILE, &rl) == 0)
		keep_max = rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur >
		    1 << 21 ? 1 << 20 : (int)(rl.rlim_cur / 2);
	if ((dfd = task_dir(pid)) == -1)
		return -1;
	if ((d = fdopendir(dfd)) == NULL) {
		err = errno;
		close(dfd);
		errno = err;
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		if ((nv = grow(v, &cap, n + 1, sizeof *v, 64)) == NULL) {
			err = errno;
			free(v);
			closedir(d);
			errno = err;
			return -1;
		}
		v = nv;
		memset(&v[n], 0, sizeof v[n]);
		v[n++].tid = (pid_t)atoi(de->d_name);
	}
	/* A thread that ended between the listing and the read is left out. */
	for (i = k = 0; i < n; i++) {
		if (task_read_at(dfd, &v[i], runs) == -1) {
			err = errno;
			task_release(&v[i]);
			if (err == EACCES || err == EPERM) {
				while (k > 0)
					task_release(&v[--k]);
				free(v);
				closedir(d);
				errno = err;
				return -1;
			}
			continue;
		}
		v[k++] = v[i];
	}
	closedir(d);
	qsort(v, k, sizeof *v, by_tid);
	*out = v;
	return (int)k;
}

int
task_list(pid_t pid, struct task **out)
{
	return list(pid, out, 0);
}

int
task_list_runs(pid_t pid, struct task **out)
{
	return list(pid, out, 1);
}

unsigned long
task_files(void)
{
	return nfiles;
}

const char *
task_syscall_name(long nr)
{
	/* The calls a stuck thread is commonly found in (x86-64). */
	static const struct {
		long		 nr;
		const char	*name;
	} names[] = {
		{ 0, "read" }, { 1, "write" }, { 7, "poll" }, { 17, "pread64" },
		{ 23, "select" }, { 34, "pause" }, { 35, "nanosleep" },
		{ 43, "accept" }, { 45, "recvfrom" }, { 47, "recvmsg" },
		{ 61, "wait4" }, { 202, "futex" }, { 230, "clock_nanosleep" },
		{ 232, "epoll_wait" }, { 247, "waitid" }, { 270, "pselect6" },
		{ 271, "ppoll" }, { 281, "epoll_pwait" }, { 288, "accept4" },
		{ 441, "epoll_pwait2" },
	};
	size_t i;

	for (i = 0; i < sizeof names / sizeof names[0]; i++)
		if (names[i].nr == nr)
			return names[i].name;
	return NULL;
}
