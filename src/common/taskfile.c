/* A thread's /proc files, kept open or not: see taskfile.h. */
#include <errno.h>
#include <stdatomic.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "taskfile.h"

static const char *const file_names[TASKFILE_KINDS] = {
	[TASKFILE_STATUS] = "status",
	[TASKFILE_SYSCALL] = "syscall",
	[TASKFILE_COMM] = "comm",
};

/* One thread's kept files; tid 0 is an empty slot. */
struct kept {
	pid_t		 pid;
	pid_t		 tid;
	int		 fd[TASKFILE_KINDS];	/* -1: not open */
	unsigned	 round;			/* the last one it was read in */
};

#define TABLE_MIN	256	/* slots, a power of 2 */

static struct kept *table;	/* nslots, at most half of them used */
static size_t nslots, nused;
static int max_open, nopen;
static unsigned round_now;
static atomic_ulong opens;	/* a program's threads may read at once */

static int
open_file(pid_t pid, pid_t tid, enum taskfile_kind kind)
{
	char path[64];

	snprintf(path, sizeof path, "/proc/%d/task/%d/%s", (int)pid,
	    (int)tid, file_names[kind]);
	atomic_fetch_add_explicit(&opens, 1, memory_order_relaxed);
	return open(path, O_RDONLY | O_CLOEXEC);
}

/*
 * One read from the start: the kernel gives these files whole to a
 * read large enough, and generates them anew for a read at offset 0.
 */
static ssize_t
read_start(int fd, char *buf, size_t len)
{
	ssize_t n = pread(fd, buf, len - 1, 0);

	if (n == 0)
		errno = EIO;
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	return n;
}

static size_t
home(pid_t tid, size_t n)
{
	return (size_t)(((uint32_t)tid * 0x9e3779b1u) >> 8) & (n - 1);
}

/* The slot for (pid, tid) in t, empty if none. */
static struct kept *
slot_in(struct kept *t, size_t n, pid_t pid, pid_t tid)
{
	size_t i;

	for (i = home(tid, n);; i = (i + 1) & (n - 1))
		if (t[i].tid == 0 || (t[i].tid == tid && t[i].pid == pid))
			return &t[i];
}

static void
close_kept(struct kept *e)
{
	int k;

	for (k = 0; k < TASKFILE_KINDS; k++)
		if (e->fd[k] != -1) {
			close(e->fd[k]);
			e->fd[k] = -1;
			nopen--;
		}
}

/*
 * Move the entries that keep keeps into a table of n slots; the others
 * are closed.  -1, with nothing changed, when there is no memory.
 */
static int
rebuild(size_t n, int (*keep)(const struct kept *))
{
	struct kept *t, *e;
	size_t i;

	if ((t = calloc(n, sizeof *t)) == NULL)
		return -1;
	nused = 0;
	for (i = 0; i < nslots; i++) {
		if (table[i].tid == 0)
			continue;
		if (!keep(&table[i])) {
			close_kept(&table[i]);
			continue;
		}
		e = slot_in(t, n, table[i].pid, table[i].tid);
		*e = table[i];
		nused++;
	}
	free(table);
	table = t;
	nslots = n;
	return 0;
}

static int
keep_all(const struct kept *e)
{
	(void)e;
	return 1;
}

static int
read_this_round(const struct kept *e)
{
	return e->round == round_now;
}

/* The entry for (pid, tid), added if need be; NULL without memory. */
static struct kept *
entry(pid_t pid, pid_t tid)
{
	struct kept *e;
	int k;

	if ((nused + 1) * 2 > nslots && rebuild(nslots == 0 ? TABLE_MIN :
	    nslots * 2, keep_all) == -1)
		return NULL;
	e = slot_in(table, nslots, pid, tid);
	if (e->tid == 0) {
		e->pid = pid;
		e->tid = tid;
		for (k = 0; k < TASKFILE_KINDS; k++)
			e->fd[k] = -1;
		nused++;
	}
	e->round = round_now;
	return e;
}

ssize_t
taskfile_read(pid_t pid, pid_t tid, enum taskfile_kind kind, char *buf,
    size_t len)
{
	struct kept *e = NULL;
	ssize_t n;
	int fd;

	if (tid <= 0 || len < 2 || kind < 0 || kind >= TASKFILE_KINDS) {
		errno = EINVAL;
		return -1;
	}
	if (max_open > 0 && (e = entry(pid, tid)) != NULL &&
	    e->fd[kind] != -1) {
		if ((n = read_start(e->fd[kind], buf, len)) > 0)
			return n;
		/* Its thread ended; the number may be another's now. */
		close(e->fd[kind]);
		e->fd[kind] = -1;
		nopen--;
	}
	if ((fd = open_file(pid, tid, kind)) == -1)
		return -1;
	n = read_start(fd, buf, len);
	if (n > 0 && e != NULL && nopen < max_open) {
		e->fd[kind] = fd;
		nopen++;
	} else {
		int saved = errno;

		close(fd);
		errno = saved;
	}
	return n;
}

void
taskfile_keep(int n)
{
	size_t i;

	max_open = n > 0 ? n : 0;
	if (max_open > 0 || table == NULL)
		return;
	for (i = 0; i < nslots; i++)
		if (table[i].tid != 0)
			close_kept(&table[i]);
	free(table);
	table = NULL;
	nslots = nused = 0;
}

void
taskfile_round(void)
{
	if (max_open == 0)
		return;		/* nothing kept: nothing shared is written */
	if (table != NULL)
		rebuild(nslots, read_this_round);
	round_now++;
}

int
taskfile_open_count(void)
{
	return nopen;
}

unsigned long
taskfile_opens(void)
{
	return atomic_load_explicit(&opens, memory_order_relaxed);
}

void
taskfile_own_comm(char comm[TASKFILE_COMM_MAX])
{
	memset(comm, 0, TASKFILE_COMM_MAX);
	if (syscall(SYS_prctl, PR_GET_NAME, comm, 0UL, 0UL, 0UL) == -1)
		comm[0] = '\0';
	comm[TASKFILE_COMM_MAX - 1] = '\0';
}
