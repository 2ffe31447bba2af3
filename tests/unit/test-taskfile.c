/* A thread's /proc files, kept open or not (taskfile.h). */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "taskfile.h"

static pid_t
self_tid(void)
{
	return (pid_t)syscall(SYS_gettid);
}

/* Descriptors open in this process, counted in /proc/self/fd. */
static int
fds_open(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	cr_assert_not_null(d);
	while ((e = readdir(d)) != NULL)
		n += e->d_name[0] != '.';
	closedir(d);
	return n - 1;	/* the directory's own */
}

static void
comm_is(pid_t tid, const char *want)
{
	char buf[64];

	cr_assert_gt(taskfile_read(getpid(), tid, TASKFILE_COMM, buf,
	    sizeof buf), 0);
	cr_expect_str_eq(buf, want);
}

/*
 * A thread that names itself, says its number, and waits to be let go:
 * a pipe each way, no sleeping.
 */
struct named {
	pthread_t	 thread;
	char		 name[16];
	pid_t		 tid;
	int		 told[2];	/* thread -> test: its tid */
	int		 go[2];		/* test -> thread: end */
};

static void *
named_main(void *arg)
{
	struct named *n = arg;
	pid_t tid = self_tid();
	char c;

	prctl(PR_SET_NAME, n->name, 0, 0, 0);
	cr_assert_eq(write(n->told[1], &tid, sizeof tid), sizeof tid);
	cr_assert_eq(read(n->go[0], &c, 1), 1);
	return NULL;
}

static void
named_start(struct named *n, const char *name)
{
	snprintf(n->name, sizeof n->name, "%s", name);
	cr_assert_eq(pipe(n->told), 0);
	cr_assert_eq(pipe(n->go), 0);
	cr_assert_eq(pthread_create(&n->thread, NULL, named_main, n), 0);
	cr_assert_eq(read(n->told[0], &n->tid, sizeof n->tid),
	    sizeof n->tid);
}

static void
named_end(struct named *n)
{
	cr_assert_eq(write(n->go[1], "x", 1), 1);
	pthread_join(n->thread, NULL);
	close(n->told[0]);
	close(n->told[1]);
	close(n->go[0]);
	close(n->go[1]);
}

Test(taskfile, nothing_stays_open_unless_asked)
{
	char buf[4096];
	int before = fds_open();

	cr_assert_gt(taskfile_read(getpid(), self_tid(), TASKFILE_STATUS,
	    buf, sizeof buf), 0);
	cr_expect_not_null(strstr(buf, "\nSigBlk:"));
	cr_assert_gt(taskfile_read(getpid(), self_tid(), TASKFILE_SYSCALL,
	    buf, sizeof buf), 0);
	cr_expect_eq(fds_open(), before);
	cr_expect_eq(taskfile_open_count(), 0);
}

/* A kept file read again gives the thread as it is now. */
Test(taskfile, a_kept_file_reads_anew)
{
	int before = fds_open();
	unsigned long opens = taskfile_opens();

	taskfile_keep(16);
	prctl(PR_SET_NAME, "first", 0, 0, 0);
	comm_is(self_tid(), "first\n");
	cr_expect_eq(taskfile_open_count(), 1);
	prctl(PR_SET_NAME, "second", 0, 0, 0);
	comm_is(self_tid(), "second\n");
	cr_expect_eq(taskfile_open_count(), 1);
	cr_expect_eq(taskfile_opens(), opens + 1, "opened again");
	cr_expect_eq(fds_open(), before + 1);
	taskfile_keep(0);
	cr_expect_eq(taskfile_open_count(), 0);
	cr_expect_eq(fds_open(), before);
}

/* Its thread gone, a kept file says so, and is closed. */
Test(taskfile, an_ended_thread_is_let_go)
{
	struct named n;
	char buf[64];

	taskfile_keep(16);
	named_start(&n, "leaving");
	comm_is(n.tid, "leaving\n");
	cr_expect_eq(taskfile_open_count(), 1);
	named_end(&n);
	cr_expect_eq(taskfile_read(getpid(), n.tid, TASKFILE_COMM, buf,
	    sizeof buf), -1);
	cr_expect(errno == ESRCH || errno == ENOENT, "errno %d", errno);
	cr_expect_eq(taskfile_open_count(), 0);
	taskfile_keep(0);
}

/* No more open than allowed; the others are read and closed. */
Test(taskfile, at_most_max_open)
{
	struct named n[4];
	int before = fds_open(), i;
	char name[16];

	taskfile_keep(2);
	for (i = 0; i < 4; i++) {
		snprintf(name, sizeof name, "n-%d", i);
		named_start(&n[i], name);
	}
	for (i = 0; i < 4; i++) {
		snprintf(name, sizeof name, "n-%d\n", i);
		comm_is(n[i].tid, name);
	}
	cr_expect_eq(taskfile_open_count(), 2);
	/* The pipes are 16 of the descriptors. */
	cr_expect_eq(fds_open(), before + 16 + 2);
	for (i = 0; i < 4; i++)
		named_end(&n[i]);
	taskfile_keep(0);
	cr_expect_eq(fds_open(), before);
}

/* A round closes what the round before it did not read. */
Test(taskfile, a_round_closes_files_not_read)
{
	struct named a, b;

	taskfile_keep(16);
	named_start(&a, "a");
	named_start(&b, "b");
	taskfile_round();
	comm_is(a.tid, "a\n");
	comm_is(b.tid, "b\n");
	cr_expect_eq(taskfile_open_count(), 2);
	taskfile_round();
	comm_is(a.tid, "a\n");		/* b not read this round */
	taskfile_round();
	cr_expect_eq(taskfile_open_count(), 1);
	taskfile_round();
	cr_expect_eq(taskfile_open_count(), 0);
	named_end(&a);
	named_end(&b);
	taskfile_keep(0);
}

/* Many threads' files: the table grows and finds each again. */
Test(taskfile, many_threads_found_again)
{
	enum { N = 300 };
	static struct named n[N];
	unsigned long opens = taskfile_opens();
	char name[16];
	int i, round;

	taskfile_keep(N * 2);
	for (i = 0; i < N; i++) {
		snprintf(name, sizeof name, "m-%d", i);
		named_start(&n[i], name);
	}
	for (round = 0; round < 2; round++) {
		taskfile_round();
		for (i = 0; i < N; i++) {
			snprintf(name, sizeof name, "m-%d\n", i);
			comm_is(n[i].tid, name);
		}
		cr_expect_eq(taskfile_open_count(), N);
	}
	cr_expect_eq(taskfile_opens(), opens + N, "opened again");
	for (i = 0; i < N; i++)
		named_end(&n[i]);
	taskfile_keep(0);
}

Test(taskfile, bad_arguments)
{
	char buf[64];

	errno = 0;
	cr_expect_eq(taskfile_read(getpid(), 0, TASKFILE_COMM, buf,
	    sizeof buf), -1);
	cr_expect_eq(errno, EINVAL);
	cr_expect_eq(taskfile_read(getpid(), self_tid(), TASKFILE_KINDS, buf,
	    sizeof buf), -1);
	cr_expect_eq(taskfile_read(getpid(), self_tid(), TASKFILE_COMM, buf,
	    1), -1);
}

/* The calling thread's comm without /proc: what /proc's comm says,
 * renamed or not, within the kernel's 15 bytes. */
Test(taskfile, own_comm_is_procs)
{
	char own[TASKFILE_COMM_MAX], proc[64];

	cr_assert_eq(prctl(PR_SET_NAME, "a-long-name-cut-here", 0, 0, 0), 0);
	taskfile_own_comm(own);
	cr_assert(taskfile_read(getpid(), self_tid(), TASKFILE_COMM, proc,
	    sizeof proc) > 0);
	proc[strcspn(proc, "\n")] = '\0';
	cr_assert_str_eq(own, proc);
	cr_assert_str_eq(own, "a-long-name-cut");
}
