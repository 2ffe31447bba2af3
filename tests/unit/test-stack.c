/* Unit tests for src/shim/stack.c: capture, sampling, symbolization. */
#include <criterion/criterion.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "gilwatch/snapshot.h"
#include "stack.h"
#include "taskfile.h"

#define SAMPLE_SIG	(SIGRTMIN + 3)
#define WAIT_MS		5000
#define LATE_ROUNDS	2000
#define LATE_ROUNDS_MAX	50000	/* rounds to find a late answer in */

static int capture_line;

static int
ends_with(const char *s, const char *tail)
{
	size_t n = strlen(s), m = strlen(tail);

	return n >= m && strcmp(s + n - m, tail) == 0;
}

static pid_t
self_tid(void)
{
	return (pid_t)syscall(SYS_gettid);
}

/* Does some frame of st name fn?  Frame 0 is looked up as is. */
static int
stack_has(const struct stack *st, const char *fn)
{
	struct symbol sym;
	int i;

	for (i = 0; i < st->depth; i++)
		if (stack_symbolize(st->ip[i], i > 0, &sym) == 0 &&
		    strcmp(sym.function, fn) == 0)
			return 1;
	return 0;
}

/* The asm after the call keeps it from being the last instruction. */
static __attribute__((noinline)) void
capture_here(struct stack *st)
{
	capture_line = __LINE__ + 1;
	stack_capture(st, 0);
	__asm__ volatile("" ::: "memory");
}

static __attribute__((noinline)) void
capture_inner(struct stack *st)
{
	stack_capture(st, 1);
	__asm__ volatile("" ::: "memory");
}

static __attribute__((noinline)) void
capture_outer(struct stack *st)
{
	capture_inner(st);
	__asm__ volatile("" ::: "memory");
}

static __attribute__((noinline)) int
recurse_deep(int n, struct stack *st)
{
	int r = 0;

	if (n == 0)
		stack_capture(st, 0);
	else
		r = recurse_deep(n - 1, st) + 1;
	__asm__ volatile("" : "+r"(r) :: "memory");
	return r;
}

/*
 * libunwind's sigprocmask, as the shim's hook answers it (hook-signal.c):
 * from the mask a capture blocked once, else a system call, counted.
 * Exported, so that libunwind's calls bind to it.
 */
static atomic_int mask_calls_answered, mask_calls_made;

__attribute__((visibility("default"))) int
sigprocmask(int how, const sigset_t *set, sigset_t *old)
{
	if (stack_sampler_mask(how, set, old) == 0) {
		atomic_fetch_add(&mask_calls_answered, 1);
		return 0;
	}
	atomic_fetch_add(&mask_calls_made, 1);
	return syscall(SYS_rt_sigprocmask, how, set, old, _NSIG / 8) == 0 ?
	    0 : -1;
}

Test(stack, capture_blocks_signals_once, .timeout = 30)
{
	struct stack st;
	sigset_t before, after, none;
	int sig;

	/* A warm libunwind: its first use has calls of its own. */
	capture_here(&st);
	sigemptyset(&before);
	sigaddset(&before, SIGUSR2);
	cr_assert_eq(pthread_sigmask(SIG_SETMASK, &before, NULL), 0);
	atomic_store(&mask_calls_answered, 0);
	atomic_store(&mask_calls_made, 0);
	cr_assert_eq(recurse_deep(20, &st), 20);
	cr_assert_gt(st.depth, 20);
	/* Two calls a frame were system calls before: none now. */
	cr_assert_eq(atomic_load(&mask_calls_made), 0, "%d system calls",
	    atomic_load(&mask_calls_made));
	cr_assert_gt(atomic_load(&mask_calls_answered), 0);
	/* The mask is the caller's again, and nothing answers for it. */
	cr_assert_eq(pthread_sigmask(SIG_SETMASK, NULL, &after), 0);
	for (sig = 1; sig < NSIG; sig++)
		cr_assert_eq(sigismember(&after, sig), sigismember(&before, sig),
		    "signal %d", sig);
	sigemptyset(&none);
	cr_assert_eq(stack_sampler_mask(SIG_BLOCK, &none, &after), -1);
	cr_assert_eq(pthread_sigmask(SIG_SETMASK, &none, NULL), 0);
}

Test(stack, capture_names_function, .timeout = 30)
{
	struct stack st;
	struct symbol sym;

	capture_here(&st);
	cr_assert_gt(st.depth, 1);
	cr_assert_eq(st.truncated, 0);
	cr_assert_eq(stack_symbolize(st.ip[0], 0, &sym), 0);
	cr_assert_str_eq(sym.function, "capture_here");
	cr_assert(ends_with(sym.file, "test-stack.c"), "file \"%s\"",
	    sym.file);
	cr_assert_eq(sym.line, capture_line);
	cr_assert_gt(sym.offset, 0);
	cr_assert_neq(sym.module[0], '\0');
	/* The caller, by its return address. */
	cr_assert_eq(stack_symbolize(st.ip[1], 1, &sym), 0);
	cr_assert(ends_with(sym.file, "test-stack.c"), "file \"%s\"",
	    sym.file);
	cr_assert_gt(sym.line, 0);
}

Test(stack, skip_leaves_out_frames, .timeout = 30)
{
	struct stack st;
	struct symbol sym;

	capture_outer(&st);
	cr_assert_gt(st.depth, 0);
	cr_assert_eq(stack_symbolize(st.ip[0], 0, &sym), 0);
	cr_assert_str_eq(sym.function, "capture_outer");
	cr_assert(!stack_has(&st, "capture_inner"));
}

Test(stack, deep_stack_is_truncated, .timeout = 30)
{
	struct stack st;
	struct symbol sym;
	int i;

	recurse_deep(STACK_MAX_FRAMES + 20, &st);
	cr_assert_eq(st.depth, STACK_MAX_FRAMES);
	cr_assert_eq(st.truncated, 1);
	for (i = 0; i < st.depth; i++) {
		cr_assert_eq(stack_symbolize(st.ip[i], i > 0, &sym), 0);
		cr_assert_str_eq(sym.function, "recurse_deep", "frame %d", i);
	}

	recurse_deep(3, &st);
	cr_assert_eq(st.truncated, 0);
	cr_assert_lt(st.depth, STACK_MAX_FRAMES);
	cr_assert_gt(st.depth, 4);
}

Test(stack, symbolize_libc_and_garbage, .timeout = 30)
{
	struct symbol sym;
	void *fn;
	static const struct symbol zero;

	fn = dlsym(RTLD_DEFAULT, "getpid");
	cr_assert_not_null(fn);
	cr_assert_eq(stack_symbolize((uintptr_t)fn, 0, &sym), 0);
	cr_assert(strstr(sym.module, "libc") != NULL, "module \"%s\"",
	    sym.module);
	cr_assert(strstr(sym.function, "getpid") != NULL, "function \"%s\"",
	    sym.function);
	cr_assert_eq(sym.offset, 0);

	/* Stack memory is in no module. */
	cr_assert_eq(stack_symbolize((uintptr_t)&sym, 0, &sym), -1);
	cr_assert(memcmp(&sym, &zero, sizeof sym) == 0);
	cr_assert_eq(stack_symbolize(16, 1, &sym), -1);
}

/* What stack_is_self stands for: the module dladdr finds is ours. */
static int
self_by_dladdr(uintptr_t ip)
{
	Dl_info me, di;

	return dladdr((void *)&stack_is_self, &me) != 0 &&
	    dladdr((void *)ip, &di) != 0 && di.dli_fbase == me.dli_fbase;
}

/*
 * stack_is_self compares with the segments it found once; dladdr asks
 * the loader each time.  They agree across the whole object (here the
 * test program, which holds the code linked in): a coarse sweep, then
 * byte by byte wherever the answer changes between two steps, so that
 * each segment's two ends are checked exactly.
 */
Test(stack, is_self_agrees_with_dladdr, .timeout = 60)
{
	Dl_info me;
	uintptr_t lo, hi, a, b, step = 4093;
	int was, now, edges = 0;

	cr_assert_neq(dladdr((void *)&stack_is_self, &me), 0);
	lo = (uintptr_t)me.dli_fbase - (1UL << 20);
	hi = (uintptr_t)me.dli_fbase + (64UL << 20);
	was = self_by_dladdr(lo);
	cr_assert_eq(stack_is_self(lo), was);
	for (a = lo + step; a < hi; a += step) {
		now = self_by_dladdr(a);
		cr_assert_eq(stack_is_self(a), now, "at %#lx", (unsigned long)a);
		if (now != was) {
			for (b = a - step + 1; b < a; b++)
				cr_assert_eq(stack_is_self(b),
				    self_by_dladdr(b), "at %#lx",
				    (unsigned long)b);
			edges++;
		}
		was = now;
	}
	cr_assert_geq(edges, 2, "the object's ends were crossed");
	cr_assert(stack_is_self((uintptr_t)&stack_is_self));
	cr_assert_not(stack_is_self((uintptr_t)dlsym(RTLD_DEFAULT,
	    "getpid")));
	cr_assert_not(stack_is_self((uintptr_t)&me));
	cr_assert_not(stack_is_self(0));
}

Test(stack, symbolize_after_dlopen_and_reset, .timeout = 30)
{
	struct symbol sym;
	void *h, *fn;

	/* Build the module list before the library is there. */
	cr_assert_eq(stack_symbolize((uintptr_t)capture_here, 0, &sym), 0);
	cr_assert_null(dlopen("libm.so.6", RTLD_NOW | RTLD_NOLOAD));
	h = dlopen("libm.so.6", RTLD_NOW);
	cr_assert_not_null(h, "%s", dlerror());
	fn = dlsym(h, "cbrt");
	cr_assert_not_null(fn);
	cr_assert_eq(stack_symbolize((uintptr_t)fn, 0, &sym), 0);
	cr_assert(strstr(sym.function, "cbrt") != NULL, "function \"%s\"",
	    sym.function);
	cr_assert_eq(sym.offset, 0);
	cr_assert(strstr(sym.module, "libm.so") != NULL, "module \"%s\"",
	    sym.module);

	stack_symbols_reset();
	cr_assert_eq(stack_symbolize((uintptr_t)capture_here, 0, &sym), 0);
	cr_assert_str_eq(sym.function, "capture_here");
	dlclose(h);
}

/* Files libdw keeps open must not leak into what the program execs. */
Test(stack, symbolize_files_are_cloexec, .timeout = 30)
{
	struct stack st;
	struct symbol sym;
	int before[256], fd, flags, i;

	for (fd = 0; fd < 256; fd++)
		before[fd] = fcntl(fd, F_GETFD) != -1;
	capture_here(&st);
	for (i = 0; i < st.depth; i++)
		stack_symbolize(st.ip[i], i > 0, &sym);
	stack_symbolize((uintptr_t)dlsym(RTLD_DEFAULT, "getpid"), 0, &sym);
	for (fd = 0; fd < 256; fd++) {
		if (before[fd] || (flags = fcntl(fd, F_GETFD)) == -1)
			continue;
		cr_assert(flags & FD_CLOEXEC, "fd %d is inherited", fd);
	}
}

Test(stack, symbolize_in_fork_child, .timeout = 30)
{
	struct symbol sym;
	pid_t pid;
	int status;

	cr_assert_eq(stack_symbolize((uintptr_t)capture_here, 0, &sym), 0);
	pid = fork();
	cr_assert_neq(pid, -1);
	if (pid == 0) {
		stack_symbols_reset();
		if (stack_symbolize((uintptr_t)capture_here, 0, &sym) != 0 ||
		    strcmp(sym.function, "capture_here") != 0)
			_exit(1);
		_exit(0);
	}
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/* A thread parked in read(2) until told to go. */
struct parked {
	pthread_t	pt;
	pid_t		tid;
	int		block_sig;	/* block SAMPLE_SIG first */
	int		ready[2];
	int		go[2];
};

static __attribute__((noinline)) void *
parked_body(void *arg)
{
	struct parked *p = arg;
	pid_t tid = self_tid();
	char c, name[16];
	sigset_t set;
	ssize_t n;

	/* Named after itself: what it tells with its stack (told). */
	snprintf(name, sizeof name, "pk-%d", (int)tid);
	prctl(PR_SET_NAME, name, 0, 0, 0);
	if (p->block_sig) {
		sigemptyset(&set);
		sigaddset(&set, SAMPLE_SIG);
		pthread_sigmask(SIG_BLOCK, &set, NULL);
	}
	if (write(p->ready[1], &tid, sizeof tid) != sizeof tid)
		return NULL;
	/* 'b': block the signal, say so, and park again; else leave. */
	for (;;) {
		while ((n = read(p->go[0], &c, 1)) == -1 && errno == EINTR)
			continue;
		if (n != 1 || c != 'b')
			break;
		sigemptyset(&set);
		sigaddset(&set, SAMPLE_SIG);
		pthread_sigmask(SIG_BLOCK, &set, NULL);
		if (write(p->ready[1], &tid, sizeof tid) != sizeof tid)
			return NULL;
	}
	__asm__ volatile("" ::: "memory");
	return NULL;
}

/* Two names for the same work, to tell two parked threads apart. */
static __attribute__((noinline)) void *
parked_thread(void *arg)
{
	void *r = parked_body(arg);

	__asm__ volatile("" ::: "memory");
	return r;
}

static __attribute__((noinline)) void *
parked_other(void *arg)
{
	void *r = parked_body(arg);

	__asm__ volatile("" ::: "memory");
	return r;
}

static void
park_as(struct parked *p, int block_sig, void *(*fn)(void *))
{
	memset(p, 0, sizeof *p);
	p->block_sig = block_sig;
	cr_assert_eq(pipe(p->ready), 0);
	cr_assert_eq(pipe(p->go), 0);
	cr_assert_eq(pthread_create(&p->pt, NULL, fn, p), 0);
	cr_assert_eq(read(p->ready[0], &p->tid, sizeof p->tid),
	    sizeof p->tid);
}

static void
park(struct parked *p, int block_sig)
{
	park_as(p, block_sig, parked_thread);
}

static void
unpark(struct parked *p)
{
	cr_assert_eq(write(p->go[1], "x", 1), 1);
	cr_assert_eq(pthread_join(p->pt, NULL), 0);
	close(p->ready[0]);
	close(p->ready[1]);
	close(p->go[0]);
	close(p->go[1]);
}

Test(sampler, captures_other_thread, .timeout = 30)
{
	struct parked p;
	struct stack st;

	cr_assert_eq(stack_sampler_install(SAMPLE_SIG), 0);
	cr_assert_eq(stack_sampler_signal(), SAMPLE_SIG);
	park(&p, 0);
	cr_assert_eq(stack_capture_thread(p.tid, &st, WAIT_MS), 0);
	cr_assert_gt(st.depth, 0);
	cr_assert(stack_has(&st, "parked_thread"));
	cr_assert(!stack_has(&st, "sample_handler"));
	unpark(&p);
}

Test(sampler, own_thread_is_captured_directly, .timeout = 30)
{
	struct stack st;
	struct symbol sym;

	/* Works without the sampler: no signal is involved. */
	cr_assert_eq(stack_capture_thread(self_tid(), &st, 0), 0);
	cr_assert_gt(st.depth, 0);
	cr_assert_eq(stack_symbolize(st.ip[0], 0, &sym), 0);
	cr_assert(ends_with(sym.file, "test-stack.c"), "file \"%s\"",
	    sym.file);
}

/*
 * Requests that time out at once leave answers arriving late, from one
 * thread or the other; every later request must still get the stack of
 * the thread it asked.  Whether a zero-wait request times out is the
 * scheduler's choice: on a loaded machine the woken thread often
 * answers before the asker looks, so the rounds go on until some did
 * (and skip aloud if none ever does: the case was not made).
 */
Test(sampler, late_answers_are_dropped, .timeout = 60)
{
	struct parked a, b;
	struct stack st;
	int i, rc, late = 0;

	cr_assert_eq(stack_sampler_install(SAMPLE_SIG), 0);
	park_as(&a, 0, parked_thread);
	park_as(&b, 0, parked_other);
	for (i = 0; i < LATE_ROUNDS_MAX && (i < LATE_ROUNDS || late == 0);
	    i++) {
		rc = stack_capture_thread(i % 2 ? a.tid : b.tid, &st, 0);
		cr_assert(rc == 0 || rc == -ETIMEDOUT, "rc %d", rc);
		if (rc == -ETIMEDOUT)
			late++;
		rc = stack_capture_thread(a.tid, &st, WAIT_MS);
		cr_assert_eq(rc, 0, "rc %d in round %d", rc, i);
		cr_assert(stack_has(&st, "parked_thread"), "round %d", i);
		cr_assert(!stack_has(&st, "parked_other"), "round %d", i);
	}
	cr_log_info("%d of %d zero-timeout requests timed out", late, i);
	unpark(&a);
	unpark(&b);
	if (late == 0)
		cr_skip_test("none of %d zero-timeout requests timed out: no "
		    "late answer to drop", i);
}

Test(sampler, blocked_signal_gives_eagain, .timeout = 30)
{
	struct parked p;
	struct stack st;

	cr_assert_eq(stack_sampler_install(SAMPLE_SIG), 0);
	park(&p, 1);
	st.depth = 7;
	cr_assert_eq(stack_capture_thread(p.tid, &st, WAIT_MS), -EAGAIN);
	cr_assert_eq(st.depth, 0);
	unpark(&p);
}

Test(sampler, unknown_thread_gives_esrch, .timeout = 30)
{
	struct parked p;
	struct stack st;

	cr_assert_eq(stack_sampler_install(SAMPLE_SIG), 0);
	cr_assert_eq(stack_capture_thread(0x3ffffff0, &st, WAIT_MS), -ESRCH);
	cr_assert_eq(stack_capture_thread(-1, &st, WAIT_MS), -ESRCH);
	/* A thread that has ended. */
	park(&p, 0);
	unpark(&p);
	cr_assert_eq(stack_capture_thread(p.tid, &st, WAIT_MS), -ESRCH);
}

#define MANY	70	/* more threads than one batch asks at once */

/*
 * stack_capture_threads gives, thread by thread, what one
 * stack_capture_thread each gives: the same frames for parked threads
 * (over more than one batch), -EAGAIN for one that blocks the signal,
 * -ESRCH for one that has ended, and the caller's own stack.
 */
Test(sampler, many_at_once_as_one_by_one, .timeout = 60)
{
	static struct parked p[MANY], blocker, gone;
	static struct stack_ask a[MANY + 3];
	struct stack st;
	char name[16];
	size_t n = 0;
	int i, k;

	cr_assert_eq(stack_sampler_install(SAMPLE_SIG), 0);
	for (i = 0; i < MANY; i++) {
		park_as(&p[i], 0, i % 2 ? parked_other : parked_thread);
		a[n++].tid = p[i].tid;
	}
	park(&blocker, 1);
	a[n++].tid = blocker.tid;
	park(&gone, 0);
	unpark(&gone);
	a[n++].tid = gone.tid;
	a[n++].tid = self_tid();
	stack_capture_threads(a, n, WAIT_MS);
	for (i = 0; i < MANY; i++) {
		cr_assert_eq(a[i].rc, 0, "thread %d: rc %d", i, a[i].rc);
		cr_assert_eq(stack_capture_thread(p[i].tid, &st, WAIT_MS), 0);
		cr_assert_eq(a[i].st.depth, st.depth, "thread %d", i);
		for (k = 0; k < st.depth; k++)
			cr_assert_eq(a[i].st.ip[k], st.ip[k], "thread %d #%d",
			    i, k);
		cr_assert(stack_has(&a[i].st, i % 2 ? "parked_other" :
		    "parked_thread"), "thread %d", i);
		snprintf(name, sizeof name, "pk-%d", (int)p[i].tid);
		cr_assert_str_eq(a[i].told.comm, name, "thread %d", i);
		cr_assert_eq(a[i].told.sched_policy, SCHED_OTHER);
	}
	cr_assert_eq(a[MANY].rc, -EAGAIN);
	cr_assert_eq(stack_capture_thread(blocker.tid, &st, WAIT_MS), -EAGAIN);
	cr_assert_eq(a[MANY + 1].rc, -ESRCH);
	cr_assert_eq(a[MANY + 2].rc, 0);
	cr_assert(stack_has(&a[MANY + 2].st,
	    "sampler_many_at_once_as_one_by_one_impl"));
	for (i = 0; i < MANY; i++)
		unpark(&p[i]);
	unpark(&blocker);
}

/*
 * A thread parked and asked about as a dump asks: in a wait (state,
 * numbered *gen) that restarts, its answers noted in *answered.
 */
struct in_wait {
	struct parked	 p;
	struct stack_ask a;
	atomic_int	 state;
	atomic_uint	 gen;
	atomic_uint	 answered;
};

static void
park_in_wait(struct in_wait *w, unsigned gen)
{
	cr_assert_eq(stack_sampler_install(SAMPLE_SIG), 0);
	park(&w->p, 0);
	atomic_store(&w->state, GW_STATE_WAITING);
	atomic_store(&w->gen, gen);
	atomic_store(&w->answered, 0);
	memset(&w->a, 0, sizeof w->a);
	w->a.tid = w->p.tid;
	w->a.wait_state = &w->state;
	w->a.wait_gen = &w->gen;
	w->a.gen = gen;
	w->a.answered = &w->answered;
}

/* It leaves that wait and enters the next. */
static void
next_wait(struct in_wait *w)
{
	atomic_store(&w->gen, w->a.gen + 1);
	w->a.gen++;
}

/*
 * A thread that answered in the wait it is still in cannot have blocked
 * the signal since: /proc is not read for it again.  Once it has left
 * that wait (blocking the signal) and waits anew, it is.
 */
Test(sampler, answered_in_this_wait_is_not_looked_up_again, .timeout = 30)
{
	static struct in_wait w;
	struct stack_ask *a = &w.a;
	unsigned long opens;
	pid_t tid;

	park_in_wait(&w, 7);
	opens = taskfile_opens();
	stack_capture_threads(a, 1, WAIT_MS);
	cr_assert_eq(a->rc, 0);
	cr_expect_eq(taskfile_opens(), opens + 1, "its status, read once");
	cr_expect_eq(atomic_load(&w.answered), 8);
	stack_capture_threads(a, 1, WAIT_MS);
	cr_assert_eq(a->rc, 0);
	cr_expect_eq(taskfile_opens(), opens + 1, "its status read again");
	cr_assert_eq(write(w.p.go[1], "b", 1), 1);
	cr_assert_eq(read(w.p.ready[0], &tid, sizeof tid), sizeof tid);
	next_wait(&w);
	stack_capture_threads(a, 1, WAIT_MS);
	cr_expect_eq(a->rc, -EAGAIN);
	cr_expect_eq(taskfile_opens(), opens + 2);
	unpark(&w.p);
}

/*
 * With answers kept, a thread still in the wait it answered in is not
 * asked again: its stack is the one it gave.  A new wait, or answers
 * not kept, and it is asked.
 */
Test(sampler, kept_answer_stands_for_the_same_wait, .timeout = 30)
{
	static struct in_wait w;
	struct stack_ask *a = &w.a;
	struct stack first;
	int k;

	park_in_wait(&w, 3);
	stack_keep_answers(1);
	stack_capture_threads(a, 1, WAIT_MS);
	cr_assert_eq(a->rc, 0);
	cr_assert(a->sent, "asked the first time");
	cr_assert(stack_has(&a->st, "parked_thread"));
	first = a->st;
	stack_capture_threads(a, 1, WAIT_MS);
	cr_assert_eq(a->rc, 0);
	cr_expect(!a->sent, "asked again in the same wait");
	cr_assert_eq(a->st.depth, first.depth);
	for (k = 0; k < first.depth; k++)
		cr_expect_eq(a->st.ip[k], first.ip[k], "#%d", k);
	next_wait(&w);
	stack_capture_threads(a, 1, WAIT_MS);
	cr_assert_eq(a->rc, 0);
	cr_expect(a->sent, "not asked in a new wait");
	stack_keep_answers(0);
	stack_capture_threads(a, 1, WAIT_MS);
	cr_assert_eq(a->rc, 0);
	cr_expect(a->sent, "not asked with answers not kept");
	unpark(&w.p);
}

static void
program_handler(int sig)
{
}

Test(sampler, install_refuses_program_handler, .timeout = 30)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = program_handler;
	cr_assert_eq(sigaction(SIGUSR2, &sa, NULL), 0);
	cr_assert_eq(stack_sampler_install(SIGUSR2), -1);
	cr_assert_eq(stack_sampler_signal(), 0);
	cr_assert_eq(sigaction(SIGUSR2, NULL, &sa), 0);
	cr_assert_eq(sa.sa_handler, program_handler);

	/* An ignored signal is free to take. */
	sa.sa_handler = SIG_IGN;
	cr_assert_eq(sigaction(SAMPLE_SIG, &sa, NULL), 0);
	cr_assert_eq(stack_sampler_install(SAMPLE_SIG), 0);
	cr_assert_eq(stack_sampler_signal(), SAMPLE_SIG);
	/* Installing again is harmless. */
	cr_assert_eq(stack_sampler_install(SAMPLE_SIG), 0);
}

Test(sampler, not_installed_or_disabled_gives_enotsup, .timeout = 30)
{
	struct parked p;
	struct stack st;

	park(&p, 0);
	cr_assert_eq(stack_sampler_signal(), 0);
	cr_assert_eq(stack_capture_thread(p.tid, &st, WAIT_MS), -ENOTSUP);
	cr_assert_eq(stack_sampler_install(SAMPLE_SIG), 0);
	cr_assert_eq(stack_capture_thread(p.tid, &st, WAIT_MS), 0);
	stack_sampler_disable();
	cr_assert_eq(stack_sampler_signal(), 0);
	cr_assert_eq(stack_capture_thread(p.tid, &st, WAIT_MS), -ENOTSUP);
	unpark(&p);
}
