/* Native stacks of another process: see unwind.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <elf.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>

#include "cfirows.h"
#include "maps.h"
#include "mem.h"
#include "task.h"
#include "unwind.h"

/* The thread being unwound, and how its registers are had. */
struct unwind_tid {
	pid_t		 tid;
	int		 quiet;		/* not stopped: sp and pc from /proc */
	uintptr_t	 sp, pc;	/* quiet: at the system call */
	int		 seized;	/* stopped: ptrace attached */
	int		 resend;	/* a signal its stop caught, to give back */
};

struct unwind {
	Dwfl		*dw;
	pid_t		 pid;
	int		 taskdir;	/* /proc/PID/task, or -1 */
	int		 stop_all;	/* GW_UNWIND_STOP: stop every thread,
					   to compare with (tests) */
	struct cfirows	*rows;		/* quiet threads' rows, or NULL:
					   libdw's steps (GW_UNWIND_LIBDW,
					   to compare with) */
	struct unwind_tid cur;
	struct symname_cache *names;
};

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * Load every module's ELF and call frame information now, with nothing
 * stopped: libdw would otherwise load them while the first thread that
 * needs them is stopped (some 3 ms for libc's).
 */
static int
preload(Dwfl_Module *mod, void **userdata, const char *name,
    Dwarf_Addr start, void *arg)
{
	Dwarf_Addr bias;

	(void)dwfl_module_getelf(mod, &bias);
	(void)dwfl_module_eh_cfi(mod, &bias);
	return DWARF_CB_OK;
}

#ifdef __x86_64__
/*
 * Our own thread callbacks in place of dwfl_linux_proc_attach's, which
 * stop every thread (PTRACE_ATTACH, a SIGSTOP, its /proc status read,
 * some ten system calls and two wake-ups of the thread each).  A
 * thread asleep in a system call is unwound without being stopped: its
 * stack pointer and program counter are in /proc/TID/syscall, and the
 * stack is read as it lies; it counts only if the thread was given no
 * CPU from before that read (task_list_runs) to after the stack's, and
 * if the unwinding needed no register but those two (ends_naturally).
 * Otherwise the thread is stopped after all, by PTRACE_SEIZE and
 * PTRACE_INTERRUPT: no signal is sent, and a stop that catches one
 * gives it back.
 */
static pid_t
no_next_thread(Dwfl *dw, void *arg, void **thread_argp)
{
	return 0;		/* threads are asked for by tid only */
}

static bool
get_thread(Dwfl *dw, pid_t tid, void *arg, void **thread_argp)
{
	struct unwind *u = arg;

	*thread_argp = &u->cur;
	return u->cur.tid == tid;
}

static bool
memory_read(Dwfl *dw, Dwarf_Addr addr, Dwarf_Word *result, void *arg)
{
	struct unwind_tid *ut = &((struct unwind *)arg)->cur;
	struct iovec local, remote;

	/* A quiet thread's pages go through the snapshot's copies. */
	if (ut->quiet)
		return mem_read((uintptr_t)addr, result, sizeof *result) == 0;
	local.iov_base = result;
	local.iov_len = sizeof *result;
	remote.iov_base = (void *)(uintptr_t)addr;
	remote.iov_len = sizeof *result;
	return process_vm_readv(ut->tid, &local, 1, &remote, 1, 0) ==
	    (ssize_t)sizeof *result;
}

/* Stop ut->tid: 0, or -1 with errno. */
static int
seize(struct unwind_tid *ut)
{
	int status;

	if (ptrace(PTRACE_SEIZE, ut->tid, NULL, NULL) == -1)
		return -1;
	ut->seized = 1;
	if (ptrace(PTRACE_INTERRUPT, ut->tid, NULL, NULL) == -1)
		return -1;
	for (;;) {
		if (waitpid(ut->tid, &status, __WALL) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (!WIFSTOPPED(status)) {	/* it ended */
			ut->seized = 0;
			errno = ESRCH;
			return -1;
		}
		/* A signal on its way in stopped it first: it goes on. */
		if (status >> 16 == 0)
			ut->resend = WSTOPSIG(status);
		return 0;
	}
}

static void
let_go(struct unwind_tid *ut)
{
	if (ut->seized)
		(void)ptrace(PTRACE_DETACH, ut->tid, NULL,
		    (void *)(uintptr_t)ut->resend);
	ut->seized = 0;
}

static bool
set_initial_registers(Dwfl_Thread *thread, void *arg)
{
	struct unwind_tid *ut = arg;
	struct user_regs_struct r;
	Dwarf_Word regs[17];

	if (ut->quiet) {
		regs[0] = ut->sp;
		if (!dwfl_thread_state_registers(thread, 7, 1, regs))
			return false;
		dwfl_thread_state_register_pc(thread, ut->pc);
		return true;
	}
	if (seize(ut) == -1 || ptrace(PTRACE_GETREGS, ut->tid, NULL, &r) ==
	    -1) {
		let_go(ut);	/* thread_detach is not called after a failure */
		return false;
	}
	/* The DWARF numbering of x86-64's registers. */
	regs[0] = r.rax;
	regs[1] = r.rdx;
	regs[2] = r.rcx;
	regs[3] = r.rbx;
	regs[4] = r.rsi;
	regs[5] = r.rdi;
	regs[6] = r.rbp;
	regs[7] = r.rsp;
	regs[8] = r.r8;
	regs[9] = r.r9;
	regs[10] = r.r10;
	regs[11] = r.r11;
	regs[12] = r.r12;
	regs[13] = r.r13;
	regs[14] = r.r14;
	regs[15] = r.r15;
	regs[16] = r.rip;
	return dwfl_thread_state_registers(thread, 0, 17, regs);
}

static void
thread_detach(Dwfl_Thread *thread, void *arg)
{
	let_go(arg);
}

static const Dwfl_Thread_Callbacks callbacks = {
	.next_thread = no_next_thread,
	.get_thread = get_thread,
	.memory_read = memory_read,
	.set_initial_registers = set_initial_registers,
	.thread_detach = thread_detach,
};
#endif

/* Where /proc/PID/auxv says pid's vDSO is (AT_SYSINFO_EHDR), or 0. */
static uintptr_t
auxv_vdso(pid_t pid)
{
	Elf64_auxv_t a[64];
	char path[64];
	ssize_t n;
	size_t i;
	int fd;

	snprintf(path, sizeof path, "/proc/%d/auxv", (int)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return 0;
	n = read(fd, a, sizeof a);
	close(fd);
	for (i = 0; n > 0 && i < (size_t)n / sizeof a[0]; i++)
		if (a[i].a_type == AT_SYSINFO_EHDR)
			return (uintptr_t)a[i].a_un.a_val;
	return 0;
}

/*
 * The file mappings of m from *i on, up to the first at or above below
 * (0: to the last), reported as libdw reads maps lines: the same
 * fields, the permissions (which it passes over) made up.
 */
static int
report_lines(Dwfl *dw, const struct maps *m, size_t *i, uintptr_t below)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f;
	int rc;

	if ((f = open_memstream(&text, &len)) == NULL)
		return -1;
	for (; *i < m->n && (below == 0 || m->v[*i].start < below); (*i)++)
		fprintf(f, "%lx-%lx r-xp %llx %x:%x %lu %s\n",
		    (unsigned long)m->v[*i].start, (unsigned long)m->v[*i].end,
		    (unsigned long long)m->v[*i].offset, m->v[*i].dev_major,
		    m->v[*i].dev_minor, m->v[*i].ino, m->v[*i].path);
	if (fclose(f) != 0 || len == 0 ||
	    (f = fmemopen(text, len, "r")) == NULL) {
		free(text);
		return len == 0 ? 0 : -1;	/* no lines: nothing reported */
	}
	rc = dwfl_linux_proc_maps_report(dw, f);
	fclose(f);
	free(text);
	return rc;
}

/*
 * The lines before the vDSO and after it go separately, the vDSO
 * between, as libdw's reading of the whole reports it: when its line
 * starts where the auxiliary vector says it is.
 */
int
unwind_report_maps(Dwfl *dw, pid_t pid, const struct maps *m)
{
	uintptr_t vdso = auxv_vdso(pid);
	char name[32];
	size_t i = 0;
	int rc;

	if (vdso == 0 || vdso != m->vdso_start)
		vdso = 0;
	if ((rc = report_lines(dw, m, &i, vdso)) != 0)
		return rc;
	if (vdso != 0) {
		snprintf(name, sizeof name, "[vdso: %d]", (int)pid);
		if (dwfl_report_module(dw, name, m->vdso_start,
		    m->vdso_end) == NULL)
			return -1;
		return report_lines(dw, m, &i, 0);
	}
	return 0;
}

struct unwind *
unwind_open(pid_t pid, const struct maps *m, char *why, size_t len)
{
	struct unwind *u;
	int rc;

	if ((u = calloc(1, sizeof *u)) == NULL) {
		snprintf(why, len, "out of memory");
		return NULL;
	}
	u->pid = pid;
	u->taskdir = -1;
	u->names = symname_cache_new();
	if ((u->dw = dwfl_begin(&symname_callbacks)) == NULL)
		goto fail;
	dwfl_report_begin(u->dw);
	rc = m != NULL && m->live ? unwind_report_maps(u->dw, pid, m) :
	    dwfl_linux_proc_report(u->dw, pid);
	if (dwfl_report_end(u->dw, NULL, NULL) != 0 || rc != 0)
		goto fail;
	(void)dwfl_getmodules(u->dw, preload, NULL, 0);
	/* Attaches to nothing yet: a thread is stopped, if it must be, when
	   unwound. */
#ifdef __x86_64__
	u->taskdir = task_dir(pid);
	u->stop_all = getenv("GW_UNWIND_STOP") != NULL;
	if (getenv("GW_UNWIND_LIBDW") == NULL)
		u->rows = cfirows_new(u->dw);	/* else only slower */
	rc = dwfl_attach_state(u->dw, NULL, pid, &callbacks, u) ? 0 : -1;
#else
	rc = dwfl_linux_proc_attach(u->dw, pid, false);
#endif
	if (rc != 0) {
		snprintf(why, len, "cannot attach to process %d: %s",
		    (int)pid, rc > 0 ? strerror(rc) : dwfl_errmsg(-1));
		unwind_close(u);
		return NULL;
	}
	return u;
fail:
	snprintf(why, len, "cannot read the modules of process %d: %s",
	    (int)pid, dwfl_errmsg(-1));
	unwind_close(u);
	return NULL;
}

void
unwind_close(struct unwind *u)
{
	if (u == NULL)
		return;
	cfirows_free(u->rows);
	if (u->dw != NULL)
		dwfl_end(u->dw);
	if (u->taskdir != -1)
		close(u->taskdir);
	symname_cache_free(u->names);
	free(u);
}

/* Only the addresses while the thread is stopped: naming comes later. */
static int
frame_cb(Dwfl_Frame *state, void *arg)
{
	struct unwind_stack *st = arg;
	Dwarf_Addr pc;
	bool activation;

	if (!dwfl_frame_pc(state, &pc, &activation) || pc == 0)
		return DWARF_CB_ABORT;
	if (st->depth == UNWIND_MAX_FRAMES) {
		st->truncated = 1;
		return DWARF_CB_ABORT;
	}
	/* A return address names the call: keep it as is, marked later. */
	st->ip[st->depth++] = (uintptr_t)pc;
	return DWARF_CB_OK;
}

#ifdef __x86_64__
/*
 * Does the stack end at its last frame because the call frame
 * information says there is no caller (a thread's first function, as
 * clone3 and _start mark themselves)?  libdw also ends a stack,
 * without an error, where it could not compute the return address: for
 * a thread unwound from sp and pc alone, where a rule needed another
 * register.  Frames are only ever missing that way, never wrong.
 */
static int
ends_naturally(struct unwind *u, const struct unwind_stack *st)
{
	Dwfl_Module *mod;
	Dwarf_CFI *cfi;
	Dwarf_Frame *fr;
	Dwarf_Addr bias, pc;
	Dwarf_Op mem[3], *ops;
	size_t nops;
	int ra, end = 0;

	if (st->truncated)
		return 1;		/* the frames wanted are all there */
	if (st->depth == 0)
		return 0;
	pc = st->ip[st->depth - 1] - (st->depth > 1);	/* in the call */
	if ((mod = dwfl_addrmodule(u->dw, pc)) == NULL ||
	    (cfi = dwfl_module_eh_cfi(mod, &bias)) == NULL ||
	    dwarf_cfi_addrframe(cfi, pc - bias, &fr) != 0)
		return 0;
	if ((ra = dwarf_frame_info(fr, NULL, NULL, NULL)) >= 0 &&
	    dwarf_frame_register(fr, ra, mem, &ops, &nops) == 0)
		end = nops == 0 && ops == mem;	/* "undefined" */
	free(fr);
	return end;
}

/* A quiet thread's stack words, from the snapshot's copies. */
static int
read_quiet(uintptr_t addr, uint64_t *val, void *arg)
{
	return mem_read(addr, val, sizeof *val);
}

/* libdw's steps from t's sp and pc: 0 when the stack ends naturally. */
static int
quiet_libdw(struct unwind *u, const struct task *t, struct unwind_stack *st)
{
	int rc;

	u->cur.quiet = 1;
	u->cur.sp = t->sp;
	u->cur.pc = t->pc;
	rc = dwfl_getthread_frames(u->dw, t->tid, frame_cb, st);
	u->cur.quiet = 0;
	return (rc != 0 && rc != DWARF_CB_ABORT) || !ends_naturally(u, st) ?
	    -1 : 0;
}

/*
 * Unwind t without stopping it, when it slept in a system call when
 * listed and has not run since (its run count, read before the call,
 * is the same after the stack's): 0, or -1 to stop it after all.  The
 * frames are stepped through the rows kept (cfirows.h) where they can
 * be, else by libdw from the same two registers.
 */
static int
unwind_quiet(struct unwind *u, const struct task *t, struct unwind_stack *st)
{
	uint64_t after;

	if (u->stop_all || u->taskdir == -1 || t->runs == 0 ||
	    t->syscall < 0 || t->sp == 0 || t->pc == 0)
		return -1;
	if ((st->depth = cfirows_unwind(u->rows, t->sp, t->pc, read_quiet,
	    NULL, st->ip, UNWIND_MAX_FRAMES, &st->truncated)) == -1) {
		st->depth = 0;
		st->truncated = 0;
		if (quiet_libdw(u, t, st) == -1)
			goto stop;
	}
	if (task_runs_again(u->taskdir, t, &after) == -1 ||
	    after != t->runs)
		goto stop;
	return 0;
stop:
	st->depth = 0;
	st->truncated = 0;
	return -1;
}
#endif

int
unwind_thread(struct unwind *u, const struct task *t,
    struct unwind_stack *st, char *why, size_t len)
{
	pid_t tid = t->tid;
	double t0;
	int rc;

	memset(&u->cur, 0, sizeof u->cur);
	u->cur.tid = tid;
	st->depth = 0;
	st->truncated = 0;
	st->stopped = 0;
#ifdef __x86_64__
	if (unwind_quiet(u, t, st) == 0)
		return 0;
#endif
	/*
	 * Stopped when its registers are first needed, and let go before
	 * dwfl_getthread_frames returns.
	 */
	t0 = now();
	rc = dwfl_getthread_frames(u->dw, tid, frame_cb, st);
	st->stopped = now() - t0;
	if (rc != 0 && st->depth == 0) {
		snprintf(why, len, "cannot unwind: %s", dwfl_errmsg(-1));
		return -1;
	}
	return 0;
}

int
unwind_name(struct unwind *u, uintptr_t ip, int is_return,
    struct symbol *sym)
{
	return symname_lookup(u->names, u->dw, ip, is_return, sym);
}
