/* The monitor process: see monitor.h. */
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <limits.h>
#include <malloc.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "futex.h"
#include "guard.h"
#include "mem.h"
#include "monitor.h"
#include "msg.h"
#include "procstat.h"
#include "share.h"
#include "taskfile.h"

static pid_t	program;		/* in the monitor: whose it is */
static pid_t	self;			/* in the monitor: its own pid */
static int	lifeline[2] = { -1, -1 };
static GW_SHARED atomic_int monitor_pid;	/* the program reads it */
static GW_SHARED atomic_int monitor_verdict;	/* await_verdict */
static GW_SHARED atomic_int monitor_go;	/* go_wait and start_forked */
static int	waiting;		/* in the program: monitor_prefork's */
static dev_t	lifeline_dev;		/* what lifeline[1] is while ours */
static ino_t	lifeline_ino;

/* monitor_leave_out's ranges: page-aligned, the end excluded. */
#define LEAVE_OUT_MAX	4
static struct { uintptr_t lo, hi; } leave_out[LEAVE_OUT_MAX];
static int	nleave_out;

/*
 * monitor_go: the start asked for, taken, or given up on by the
 * program; or declined by the monitor, which found the program changed
 * since it was forked (go_wait).
 */
enum { GO_IDLE, GO_ASKED, GO_RUNNING, GO_REFUSED, GO_NOT_SAME,
    GO_UNREADABLE };

#define VERDICT_WAIT_MS	2000

pid_t
monitor_program(void)
{
	return program != 0 ? program : getpid();
}

int
monitor_is_me(void)
{
	return program != 0;
}

int
monitor_lifeline(void)
{
	return program != 0 ? lifeline[0] : -1;
}

pid_t
monitor_running(void)
{
	return atomic_load(&monitor_pid);
}

/*
 * The program may close descriptors it did not open, and open others
 * under the same numbers: lifeline[1] is written to or closed only
 * while it is still the pipe made for it.
 */
static int
lifeline_ours(void)
{
	struct stat st;

	return lifeline[1] != -1 && fstat(lifeline[1], &st) == 0 &&
	    st.st_dev == lifeline_dev && st.st_ino == lifeline_ino;
}

/* In the program: let the lifeline go, the monitor with it. */
static void
lifeline_drop(void)
{
	int saved = errno;

	if (lifeline_ours())
		close(lifeline[1]);
	lifeline[1] = -1;
	errno = saved;
}

/*
 * The monitor keeps what it uses and nothing of the program's: an
 * inherited descriptor it held open would keep a pipe from its end of
 * file while the program, which closed it, runs on.  Standard error
 * stays until monitor_main replaces it (stderr_now).
 */
static void
close_others(const int *keep, int nkeep)
{
	int fds[18], n = 0, i, j, t, lo = 0;

	for (i = 0; i < nkeep && n < 17; i++)
		if (keep[i] >= 0)
			fds[n++] = keep[i];
	fds[n++] = STDERR_FILENO;
	for (i = 1; i < n; i++)		/* a handful: insertion sort */
		for (j = i; j > 0 && fds[j - 1] > fds[j]; j--) {
			t = fds[j];
			fds[j] = fds[j - 1];
			fds[j - 1] = t;
		}
	for (i = 0; i <= n; i++) {
		int hi = i < n ? fds[i] - 1 : INT_MAX;

		if (hi >= lo && syscall(SYS_close_range, (unsigned)lo,
		    (unsigned)hi, 0U) == -1)
			for (t = lo; t <= hi && t < 65536; t++)
				close(t);
		if (i < n)
			lo = fds[i] + 1;
	}
}

/*
 * Can the monitor read the program?  Yama (ptrace_scope 1) lets a
 * process read only its descendants, and a program may make itself
 * undumpable: then the monitor could only misread, and the program is
 * better served by a helper thread.  What it reads is its own lifeline
 * number as the program keeps it (same address, the program's copy).
 */
static int
reads_program(pid_t of)
{
	struct iovec local, remote;
	int v = -1;

	local.iov_base = &v;
	local.iov_len = sizeof v;
	remote.iov_base = &lifeline[1];
	remote.iov_len = sizeof v;
	if (syscall(SYS_process_vm_readv, of, &local, 1UL, &remote, 1UL,
	    0UL) != (long)sizeof v)
		return -errno;
	return 0;
}

/*
 * Who a process is, as far as what it may do goes: the lines of its
 * /proc status that name its users, groups, capabilities and sandbox,
 * one after the other in out.  -1 when unreadable.
 */
static int
who_is(pid_t pid, char *out, size_t len)
{
	static const char *const keys[] = { "Uid:", "Gid:", "Groups:",
	    "CapPrm:", "CapEff:", "NoNewPrivs:", "Seccomp:" };
	char path[64], buf[4096], *line, *end;
	size_t used = 0, i, k;
	ssize_t n;
	int fd;

	snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	for (line = buf; *line != '\0'; line = *end != '\0' ? end + 1 : end) {
		end = strchrnul(line, '\n');
		for (i = 0; i < sizeof keys / sizeof keys[0]; i++) {
			k = strlen(keys[i]);
			if (strncmp(line, keys[i], k) != 0 ||
			    used + (size_t)(end - line) + 1 >= len)
				continue;
			memcpy(out + used, line, (size_t)(end - line));
			used += (size_t)(end - line);
			out[used++] = '\n';
		}
	}
	out[used] = '\0';
	return 0;
}

/*
 * Forked at start-up, the monitor is who the program was then.  A
 * program that has since given up its user, its capabilities or its
 * freedom (seccomp) must not be watched by a process that kept them and
 * reads its memory: the helper is then a thread of the program.  Nor
 * one it can no longer read (made undumpable).  0, or the GO_ state
 * that says why not.
 */
static char who_am_i[1024];	/* who_is(self), read while idle */

static int
still_same(void)
{
	char theirs[1024];

	if (who_is(program, theirs, sizeof theirs) == -1 ||
	    (who_am_i[0] == '\0' &&
	    who_is(self, who_am_i, sizeof who_am_i) == -1) ||
	    strcmp(who_am_i, theirs) != 0)
		return GO_NOT_SAME;
	return reads_program(program) == 0 ? 0 : GO_UNREADABLE;
}

/*
 * In the monitor: wait for the program's word to start, a byte on the
 * lifeline, without a wake-up of its own meanwhile (every signal is
 * blocked); its end instead (end of file) ends the monitor.  1: it
 * runs, with its pid published; 0: it leaves.
 */
static int
go_wait(void)
{
	char c;
	int asked = GO_ASKED, why;

	if (read(lifeline[0], &c, 1) != 1)
		return 0;
	if ((why = still_same()) != 0) {
		if (atomic_compare_exchange_strong(&monitor_go, &asked, why))
			futex_wake_all(&monitor_go);
		return 0;
	}
	atomic_store(&monitor_pid, (int)self);
	if (!atomic_compare_exchange_strong(&monitor_go, &asked, GO_RUNNING)) {
		atomic_store(&monitor_pid, 0);
		return 0;
	}
	futex_wake_all(&monitor_go);
	return 1;
}

/*
 * In the monitor, at its start: the program's standard error as it is
 * now, for the reports.  Waiting idle it held none: a program that
 * closes its standard error (a daemon) must close the pipe a caller
 * reads to its end.  pidfd_getfd takes the same permission as the
 * reads of the program; /proc's link is the way on older kernels.
 */
static void
stderr_now(void)
{
	char path[64];
	int pfd, fd = -1;

	if ((pfd = (int)syscall(SYS_pidfd_open, program, 0U)) != -1) {
		fd = (int)syscall(SYS_pidfd_getfd, pfd, STDERR_FILENO, 0U);
		close(pfd);
	}
	if (fd == -1) {
		snprintf(path, sizeof path, "/proc/%d/fd/%d", (int)program,
		    STDERR_FILENO);
		fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
	}
	if (fd == -1)
		return;		/* closed: the reports go nowhere either */
	if (fd != STDERR_FILENO) {
		dup2(fd, STDERR_FILENO);
		close(fd);
	}
}

/*
 * Memory a dump frees stays mapped for the next one: a dump of a
 * thousand threads allocates some megabytes, which glibc gave back to
 * the kernel at once (the heap's top trimmed, big blocks unmapped), so
 * that every dump faulted them in again, a fault each 4 kB.  The
 * monitor's own malloc settings; the program's are untouched.
 */
#define KEEP_FREED	(64 << 20)

static void
keep_freed_memory(void)
{
	mallopt(M_TRIM_THRESHOLD, KEEP_FREED);
	mallopt(M_MMAP_THRESHOLD, KEEP_FREED / 2);
}

/*
 * What a dump allocates, a thread: its records, the report's lines and
 * the copies of its pages come to some 6 kB (1,500 pages for 1,000
 * threads, by the faults counted), with a fixed part for the symbol
 * tables.
 */
#define RESERVE_PER_THREAD	(6u << 10)
#define RESERVE_FIXED		(1u << 20)
#define RESERVE_MAX		(KEEP_FREED / 2)

void
monitor_reserve(size_t nthreads)
{
	static size_t reserved;
	size_t want = RESERVE_FIXED + nthreads * RESERVE_PER_THREAD;
	uintptr_t lo, hi, page;
	char *p;

	if (!monitor_is_me() || want <= reserved)
		return;
	if (want > RESERVE_MAX)
		want = RESERVE_MAX;
	/* Taken and given back: the heap keeps it (keep_freed_memory). */
	if ((p = malloc(want)) == NULL)
		return;
	page = (uintptr_t)getpagesize();
	lo = ((uintptr_t)p + page - 1) & ~(page - 1);
	hi = ((uintptr_t)p + want) & ~(page - 1);
	if (hi > lo && madvise((void *)lo, hi - lo, MADV_POPULATE_WRITE) == 0)
		reserved = want;
	free(p);
}

/*
 * The program's threads' /proc files stay open between dumps
 * (taskfile.h), as many as the monitor's descriptor limit leaves room
 * for once raised to its hard limit: its own, not the program's.
 */
#define TASKFILE_LIMIT	65536	/* the most the limit is raised to */
#define FD_RESERVE	256	/* left for sockets, maps, ELF files */

static void
keep_task_files(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		return;
	if (rl.rlim_cur < TASKFILE_LIMIT && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max < TASKFILE_LIMIT ? rl.rlim_max :
		    TASKFILE_LIMIT;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
		(void)getrlimit(RLIMIT_NOFILE, &rl);
	}
	if (rl.rlim_cur > 2 * FD_RESERVE)
		taskfile_keep((int)(rl.rlim_cur > TASKFILE_LIMIT ?
		    TASKFILE_LIMIT : rl.rlim_cur) - FD_RESERVE);
}

static void
monitor_main(pid_t of, void (*run)(void), const int *keep, int nkeep)
{
	int fd, i, rc;

	/*
	 * First of all: the hooks pass through, and the record of the
	 * program thread that forked it is not its own (guard.h).
	 */
	thread_enter_shim();
	thread_mine = NULL;
	program = of;
	self = getpid();
	close(lifeline[1]);
	lifeline[1] = -1;
	if ((rc = reads_program(of)) != 0) {
		atomic_store(&monitor_verdict, rc);
		futex_wake_all(&monitor_verdict);
		_exit(0);
	}
	/* Its own session: no terminal's Ctrl-C or Ctrl-Z reaches it. */
	setsid();
	syscall(SYS_prctl, PR_SET_NAME, "gilwatch-mon", 0UL, 0UL, 0UL);
	close_others(keep, nkeep);
	/*
	 * Descriptors 0 to 2 taken by something harmless, not reused;
	 * standard error is the program's again at the start
	 * (stderr_now), not held while the monitor waits.
	 */
	if ((fd = open("/dev/null", O_RDWR | O_CLOEXEC)) != -1) {
		for (i = 0; i <= STDERR_FILENO; i++)
			if (fd != i)
				dup2(fd, i);
		if (fd > STDERR_FILENO)
			close(fd);
	}
	/* Its reads of "this process" are of the program (mem.h). */
	mem_self_is(of);
	msg_speak_for(of);
	/* Too late, if the program gave up on it. */
	if (!atomic_compare_exchange_strong(&monitor_verdict, &rc, 1))
		_exit(0);
	futex_wake_all(&monitor_verdict);
	/* Its own never changes: read now, not while the program waits
	 * (left empty when unreadable: still_same asks again). */
	(void)who_is(self, who_am_i, sizeof who_am_i);
	if (!go_wait())
		_exit(0);
	stderr_now();
	keep_freed_memory();
	keep_task_files();
	run();
	_exit(0);
}

/*
 * A program that is the init of its pid namespace, or a subreaper,
 * would get the orphaned monitor as its child, and could wait for it.
 */
static const char *
reaper_here(void)
{
	int on = 0;

	if (getpid() == 1)
		return "the program is its namespace's init";
	if (prctl(PR_GET_CHILD_SUBREAPER, &on, 0, 0, 0) == 0 && on)
		return "the program is a child subreaper";
	return NULL;
}

/* The monitor's word on whether it runs: 1, or -errno; 0 after 2 s,
 * when the program gives up on it (and it leaves if it comes later). */
static int
await_verdict(void)
{
	struct timespec until;
	int v, none = 0;

	deadline_after(&until, VERDICT_WAIT_MS);
	/* A word of int or unsigned is the same futex. */
	futex_await_change((atomic_uint *)&monitor_verdict, 0, &until);
	v = atomic_load(&monitor_verdict);
	if (v == 0 && !atomic_compare_exchange_strong(&monitor_verdict, &none,
	    -ETIMEDOUT))
		v = none;
	return v == -ETIMEDOUT ? 0 : v;
}

static int
spawn_failed(const char *why, int err)
{
	if (err != 0)
		msg_note("no monitor process (%s: %s): the helper is a thread "
		    "of the program", why, strerror(err));
	else
		msg_note("no monitor process (%s): the helper is a thread of "
		    "the program", why);
	lifeline_drop();
	return -1;
}

static uintptr_t
page_down(uintptr_t a)
{
	return a & ~(uintptr_t)(getpagesize() - 1);
}

static uintptr_t
page_up(uintptr_t a)
{
	return page_down(a + (uintptr_t)getpagesize() - 1);
}

/* The object holding *arg: its writable segments, RELRO taken off. */
static int
leave_out_object(struct dl_phdr_info *info, size_t size, void *arg)
{
	uintptr_t addr = *(const uintptr_t *)arg, lo, hi, relro_hi = 0;
	int i, holds = 0;

	(void)size;
	for (i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];

		lo = info->dlpi_addr + ph->p_vaddr;
		if (ph->p_type == PT_LOAD && addr >= lo &&
		    addr - lo < ph->p_memsz)
			holds = 1;
		if (ph->p_type == PT_GNU_RELRO)
			relro_hi = page_down(lo + ph->p_memsz);
	}
	if (!holds)
		return 0;
	/*
	 * Not the executable's: an executable's data holds the variables
	 * of libraries it refers to (copy relocations: stderr, environ),
	 * which the monitor uses.  A static Python keeps its copy.
	 */
	if (info->dlpi_name == NULL || info->dlpi_name[0] == '\0')
		return 1;
	for (i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];

		if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_W) ||
		    nleave_out == LEAVE_OUT_MAX)
			continue;
		lo = page_down(info->dlpi_addr + ph->p_vaddr);
		hi = page_up(info->dlpi_addr + ph->p_vaddr + ph->p_memsz);
		if (relro_hi > lo && relro_hi <= hi)
			lo = relro_hi;
		if (lo < hi) {
			leave_out[nleave_out].lo = lo;
			leave_out[nleave_out++].hi = hi;
		}
	}
	return 1;
}

void
monitor_leave_out(const void *addr)
{
	uintptr_t a = (uintptr_t)addr;

	if (addr != NULL)
		dl_iterate_phdr(leave_out_object, &a);
}

/* MADV_DONTFORK around the fork, MADV_DOFORK after: the program's own
 * forks copy everything, as without gilwatch.  A failure leaves the
 * range in the copy, which costs only its faults. */
static void
leave_out_apply(int advice)
{
	int i, saved = errno;

	for (i = 0; i < nleave_out; i++)
		(void)madvise((void *)leave_out[i].lo, leave_out[i].hi -
		    leave_out[i].lo, advice);
	errno = saved;
}

/* The middle process: it runs in the program's memory, on a stack of
 * its own that becomes the monitor's. */
struct middle {
	pid_t		 of;
	void		(*run)(void);
	const int	*keep;
	int		 nkeep;
};

#define MIDDLE_STACK	(8ul << 20)	/* the monitor's, as a main thread's */

static int
middle_main(void *arg)
{
	const struct middle *m = arg;
	pid_t pid = _Fork();

	if (pid == 0)
		monitor_main(m->of, m->run, m->keep, m->nkeep);
	_exit(pid == -1 ? 1 : 0);
}

/*
 * Fork the monitor, which waits for its start (go_wait): 0, or -1 with
 * *why (and errno, 0 for none) saying what failed.
 */
static int
fork_monitor(void (*run)(void), const int *keep, int nkeep, const char **why)
{
	sigset_t all, old;
	struct stat st;
	struct middle m;
	size_t guard = (size_t)getpagesize();
	char *stack;
	pid_t mid;
	int k[16], n, err, status = 0;

	if ((*why = reaper_here()) != NULL) {
		errno = 0;
		return -1;
	}
	if (pipe2(lifeline, O_CLOEXEC) == -1 || fstat(lifeline[1], &st) == -1) {
		*why = "pipe";
		return -1;
	}
	lifeline_dev = st.st_dev;
	lifeline_ino = st.st_ino;
	stack = mmap(NULL, MIDDLE_STACK + guard, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
	if (stack == MAP_FAILED) {
		close(lifeline[0]);
		lifeline[0] = -1;
		*why = "mmap";
		return -1;
	}
	(void)mprotect(stack, guard, PROT_NONE);
	n = nkeep < 15 ? nkeep : 15;
	memcpy(k, keep, (size_t)n * sizeof *k);
	k[n++] = lifeline[0];
	m.of = getpid();
	m.run = run;
	m.keep = k;
	m.nkeep = n;
	atomic_store(&monitor_verdict, 0);
	atomic_store(&monitor_go, GO_IDLE);
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	/*
	 * The middle process shares the program's memory and holds it
	 * still until it ends (CLONE_VM | CLONE_VFORK): no copy of the
	 * program's page tables but the monitor's, no wait to be woken
	 * from.  It sends no SIGCHLD when it ends (no exit signal), so a
	 * program's handler never hears of it; the monitor it forks is
	 * orphaned at once.  The monitor keeps every signal blocked.
	 */
	leave_out_apply(MADV_DONTFORK);
	mid = clone(middle_main, stack + guard + MIDDLE_STACK,
	    CLONE_VM | CLONE_VFORK, &m);
	err = errno;
	leave_out_apply(MADV_DOFORK);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	munmap(stack, MIDDLE_STACK + guard);
	close(lifeline[0]);
	lifeline[0] = -1;
	if (mid == -1) {
		*why = "clone";
		errno = err;
		return -1;
	}
	while (waitpid(mid, &status, __WCLONE) == -1 && errno == EINTR)
		;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		*why = "fork";
		errno = 0;
		return -1;
	}
	return 0;
}

/*
 * The start's byte.  A monitor killed meanwhile would make the write
 * raise SIGPIPE, which the program may not survive: it is blocked for
 * the write, and taken back if the write raised it.
 */
static int
lifeline_write(void)
{
	static const struct timespec now = { 0, 0 };
	sigset_t pipe, old, pending;
	ssize_t n;
	int err;

	sigemptyset(&pipe);
	sigaddset(&pipe, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe, &old);
	sigpending(&pending);
	n = write(lifeline[1], "g", 1);
	err = errno;
	if (n == -1 && err == EPIPE && !sigismember(&pending, SIGPIPE))
		(void)sigtimedwait(&pipe, NULL, &now);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	errno = err;
	return n == 1 ? 0 : -1;
}

/* The forked monitor's verdict, then its start. */
static int
start_forked(void)
{
	struct timespec until;
	int v = await_verdict(), asked = GO_ASKED;

	if (v < 0)
		return spawn_failed(-v == EPERM ? "it may not read the "
		    "program: Yama's ptrace_scope, or an undumpable program" :
		    "it cannot read the program", -v);
	if (v == 0)
		return spawn_failed("it did not start", 0);
	atomic_store(&monitor_go, GO_ASKED);
	if (!lifeline_ours())
		return spawn_failed("the program closed its lifeline", 0);
	if (lifeline_write() == -1)
		return spawn_failed("it is gone", errno);
	deadline_after(&until, VERDICT_WAIT_MS);
	futex_await_change((atomic_uint *)&monitor_go, GO_ASKED, &until);
	/* Given up on, unless it answered: asked is then its answer. */
	if (atomic_compare_exchange_strong(&monitor_go, &asked, GO_REFUSED))
		return spawn_failed("it did not start", 0);
	switch (asked) {
	case GO_RUNNING:
		return 0;
	case GO_NOT_SAME:
		return spawn_failed("the program changed its user, "
		    "capabilities or seccomp since it started", 0);
	case GO_UNREADABLE:
		return spawn_failed("it may no longer read the program: "
		    "made undumpable since it started", 0);
	default:
		return spawn_failed("it did not start", 0);
	}
}

void
monitor_prefork(void (*run)(void), const int *keep, int nkeep)
{
	const char *why;
	int saved = errno;

	if (share_on() && fork_monitor(run, keep, nkeep, &why) == 0)
		waiting = 1;
	else
		lifeline_drop();
	errno = saved;
}

int
monitor_waiting(void)
{
	return waiting;
}

int
monitor_spawn(void (*run)(void), const int *keep, int nkeep)
{
	const char *why;
	int rc, saved = errno;

	if (!share_on())
		return -1;
	if (waiting)
		waiting = 0;
	else if (fork_monitor(run, keep, nkeep, &why) == -1) {
		rc = spawn_failed(why, errno);
		errno = saved;
		return rc;
	}
	rc = start_forked();
	errno = saved;
	return rc;
}

void
monitor_after_fork_child(void)
{
	lifeline_drop();
	lifeline[0] = -1;
	waiting = 0;
	atomic_store(&monitor_pid, 0);
}

/*
 * The shared locks' hooks (ulock.h).  The monitor notes itself as the
 * holder of what it takes; the program, after waiting long on one, takes
 * it over if that holder is gone.  A monitor waiting long looks whether
 * its program is still there, and leaves if not: a program that died
 * holding a lock never gives it back.
 */
int
ulock_owner_self(void)
{
	return (int)self;
}

int
ulock_owner_gone(int pid)
{
	char buf[256];
	const char *state = procstat_read(pid, buf, sizeof buf);

	if (state == NULL)
		return errno == ENOENT;
	/* A zombie's locks are nobody's; a main thread's that ended while
	 * the others run on are its process's still. */
	return (*state == 'Z' || *state == 'X') &&
	    procstat_live_task(pid) == pid;
}

void
ulock_waiting(void)
{
	struct pollfd p;

	if (program == 0)
		return;
	p.fd = lifeline[0];
	p.events = POLLIN;
	if (poll(&p, 1, 0) == 1 && p.revents != 0)
		_exit(0);
}
