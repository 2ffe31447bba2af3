/*
 * Native stacks: see stack.h.
 *
 * libunwind takes pthread mutexes of its own (its unwind-info cache and
 * memory pool), and libdw takes pthread rwlocks and allocates: inside
 * the shim those calls reach our own hooks.  Every entry into either
 * library is therefore bracketed by thread_enter_shim(), which makes the
 * hooks pass straight through.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/futex.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#define UNW_LOCAL_ONLY
#include <libunwind.h>
#include <elfutils/libdwfl.h>

#include "futex.h"
#include "gilwatch/snapshot.h"
#include "guard.h"
#include "procstat.h"
#include "real.h"
#include "stack.h"
#include "symname.h"
#include "taskfile.h"
#include "ulock.h"
#include "share.h"
#include "monitor.h"
#include "rtpolicy.h"

/*
 * The sampling request slots.  state is the futex word: a generation in
 * the high bits, a phase in the low two.  Only the handler that moves
 * PENDING to BUSY may write st, and only until it publishes DONE; the
 * caller copies st out only on seeing DONE for its own generation.  A
 * caller that gives up moves PENDING back to IDLE, so an answer that
 * comes later finds nothing to claim.  stack_ask_threads has up to
 * STACK_ASK_BATCH threads answer at once, in the first slots, so that
 * the time each takes to be woken and scheduled (most of a sample, on a
 * loaded machine) is spent once per batch.  One request
 * (stack_capture_thread) has the last slot and a lock of its own: a
 * dump asks one thread (stackvars.h) while a batch it asked answers.
 */
enum { REQ_IDLE, REQ_PENDING, REQ_BUSY, REQ_DONE };

#define REQ_PHASE(s)		((s) & 3u)
#define REQ_GEN(s)		((s) >> 2)
#define REQ_STATE(gen, ph)	((unsigned)(gen) << 2 | (ph))

#define REQ_SLOTS	(STACK_ASK_BATCH + 1)
#define REQ_ONE		STACK_ASK_BATCH		/* the one request's slot */

struct req {
	atomic_uint	state;
	atomic_int	target;		/* TID asked to answer */
	/* The asker's stack_ask.answered and wait_gen, or NULL. */
	atomic_uint *_Atomic answered;
	const atomic_uint *_Atomic wait_gen;
	struct stack	st;
	struct stack_told told;
	uintptr_t	sp[STACK_MAX_FRAMES];	/* st's stack pointers */
};
static GW_SHARED struct req reqs[REQ_SLOTS];

static GW_SHARED struct ulock req_lock = ULOCK_INIT;	/* one batch at a time */
static GW_SHARED struct ulock req_one_lock = ULOCK_INIT; /* one request */
static GW_SHARED atomic_uint req_gen;
static atomic_int sampler_signo;
static sigset_t sampler_mask;	/* blocked while the handler runs */
static GW_SHARED atomic_int sampler_off;

/* Symbolization: one Dwfl for the process, under sym_lock. */
static struct ulock sym_lock = ULOCK_INIT;
static Dwfl *sym_dwfl;
static atomic_int sym_stale;	/* set by stack_symbols_reset */
static atomic_int owner_pid;	/* the process the state above is for */
static int sym_monitor_own;	/* the monitor has its own Dwfl */

/* Note the process that uses the locks, for stack_symbols_reset. */
static void
own_state(void)
{
	int none = 0;

	if (atomic_load(&owner_pid) == 0)
		atomic_compare_exchange_strong(&owner_pid, &none, getpid());
}

static pid_t
self_tid(void)
{
	return (pid_t)syscall(SYS_gettid);
}

/*
 * Record the cursor's frames after dropping `skip` of them, and each
 * frame's stack pointer into sp unless it is NULL.  When the first kept
 * frame is a return address (retaddr), record it less one: that lands
 * inside the call instruction, so ip[0] always names the instruction
 * being executed, which is what the signal path gives and what
 * stack_symbolize expects of the innermost frame.
 */
static void
walk(unw_cursor_t *cur, struct stack *st, uintptr_t *sp, int skip,
    int retaddr)
{
	unw_word_t ip, r;
	int n = 0;

	for (; skip > 0; skip--)
		if (unw_step(cur) <= 0)
			return;
	do {
		if (unw_get_reg(cur, UNW_REG_IP, &ip) < 0 || ip == 0)
			break;
		if (n == STACK_MAX_FRAMES) {
			st->truncated = 1;
			break;
		}
		if (sp != NULL)
			sp[n] = unw_get_reg(cur, UNW_REG_SP, &r) < 0 ? 0 :
			    (uintptr_t)r;
		st->ip[n++] = (uintptr_t)ip;
	} while (unw_step(cur) > 0);
	if (n > 0 && retaddr)
		st->ip[0]--;
	st->depth = (uint16_t)n;
}

/*
 * The fork gate.  libunwind has pthread mutexes of its own; a thread
 * inside it when another forks leaves them locked in the child for
 * ever.  So fork waits until no thread is unwinding, and nobody starts
 * while a fork is on its way (their stack is then simply empty).
 */
static atomic_int unwinding;
static atomic_int forking;

#define FORK_GATE_MAX_SPINS	1000000	/* then fork anyway */

static int
gate_enter(void)
{
	if (atomic_load(&forking))
		return 0;
	atomic_fetch_add(&unwinding, 1);
	if (atomic_load(&forking)) {
		atomic_fetch_sub(&unwinding, 1);
		return 0;
	}
	return 1;
}

static void
gate_leave(void)
{
	atomic_fetch_sub(&unwinding, 1);
}

void
stack_fork_prepare(void)
{
	int spins = 0;

	atomic_store(&forking, 1);
	while (atomic_load(&unwinding) > 0 && spins++ < FORK_GATE_MAX_SPINS)
		sched_yield();
}

void
stack_fork_done(void)
{
	atomic_store(&unwinding, 0);
	atomic_store(&forking, 0);
}

/*
 * The mask this thread has while it unwinds with the signals blocked
 * (the sampler's handler, or masked_begin), else NULL: libunwind's own
 * blocking around its cache lock is then answered from it, without a
 * system call (stack_sampler_mask).
 */
static __thread const sigset_t *handler_mask;

/*
 * Outside a handler libunwind blocks every signal around its cache
 * lock, two system calls a frame: 50 for a stack of 25 (a new lock
 * order's, say), some 5 us each where every system call flushes the
 * TLB.  Blocking them once around the whole walk does the same for
 * two.  The faults a walk could take itself (SIGSEGV, SIGBUS, ...) are
 * left deliverable, as they are between libunwind's steps.  1 with
 * *old to give back to masked_end, 0 when nothing was changed.
 */
static int
masked_begin(sigset_t *old, sigset_t *now)
{
	static const int faults[] = { SIGSEGV, SIGBUS, SIGILL, SIGFPE,
	    SIGTRAP, SIGSYS };
	sigset_t block;
	size_t i;

	if (handler_mask != NULL)
		return 0;
	sigfillset(&block);
	for (i = 0; i < sizeof faults / sizeof faults[0]; i++)
		sigdelset(&block, faults[i]);
	if (pthread_sigmask(SIG_BLOCK, &block, old) != 0)
		return 0;
	sigorset(now, old, &block);
	handler_mask = now;
	return 1;
}

static void
masked_end(int masked, const sigset_t *old)
{
	if (!masked)
		return;
	handler_mask = NULL;
	pthread_sigmask(SIG_SETMASK, old, NULL);
}

/*
 * The context is taken here, so the cursor starts in this frame: that is
 * the one frame dropped beyond `skip`.  noinline keeps it a frame of its
 * own even for callers in this file.
 */
__attribute__((noinline)) static void
capture_self(struct stack *st, uintptr_t *sp, int skip)
{
	unw_context_t uc;
	unw_cursor_t cur;
	sigset_t old, now;
	int masked;

	st->depth = 0;
	st->truncated = 0;
	if (!gate_enter())
		return;
	thread_enter_shim();
	masked = masked_begin(&old, &now);
	if (unw_getcontext(&uc) == 0 && unw_init_local(&cur, &uc) == 0)
		walk(&cur, st, sp, (skip > 0 ? skip : 0) + 1, 1);
	masked_end(masked, &old);
	thread_leave_shim();
	gate_leave();
}

__attribute__((noinline)) void
stack_capture(struct stack *st, int skip)
{
	capture_self(st, NULL, (skip > 0 ? skip : 0) + 1);
}

/* The interrupted code's stack, from the context the kernel saved. */
static void
capture_context(struct stack *st, uintptr_t *sp, void *ctx)
{
	unw_cursor_t cur;

	st->depth = 0;
	st->truncated = 0;
	if (!gate_enter())
		return;
	if (unw_init_local2(&cur, (unw_context_t *)ctx,
	    UNW_INIT_SIGNAL_FRAME) == 0)
		walk(&cur, st, sp, 0, 0);
	gate_leave();
}

void
stack_capture_signal(struct stack *st, void *uc)
{
	/* libunwind's own locks pass through the hooks. */
	thread_enter_shim();
	capture_context(st, NULL, uc);
	thread_leave_shim();
}

/* Claim request q read as s, fill it in, and wake the caller. */
static void
answer(struct req *q, unsigned s, const struct stack *st,
    const uintptr_t *sp, const struct stack_told *told)
{
	unsigned gen = REQ_GEN(s);
	atomic_uint *answered;
	const atomic_uint *wait_gen;

	if (!atomic_compare_exchange_strong(&q->state, &s,
	    REQ_STATE(gen, REQ_BUSY)))
		return;
	/* The signal came in: the mask let it, in this wait. */
	answered = atomic_load(&q->answered);
	wait_gen = atomic_load(&q->wait_gen);
	if (answered != NULL && wait_gen != NULL)
		atomic_store(answered, atomic_load(wait_gen) + 1);
	q->told = *told;
	q->st.depth = st->depth;
	q->st.truncated = st->truncated;
	memcpy(q->st.ip, st->ip, st->depth * sizeof st->ip[0]);
	memcpy(q->sp, sp, st->depth * sizeof sp[0]);
	atomic_store_explicit(&q->state, REQ_STATE(gen, REQ_DONE),
	    memory_order_release);
	futex_wake_all(&q->state);
}

/* A request for tid, or NULL; *s gets the state it was seen in. */
static struct req *
asked(pid_t tid, unsigned *s)
{
	struct req *q;

	for (q = reqs; q < reqs + REQ_SLOTS; q++) {
		*s = atomic_load_explicit(&q->state, memory_order_acquire);
		if (REQ_PHASE(*s) == REQ_PENDING &&
		    atomic_load(&q->target) == tid)
			return q;
	}
	return NULL;
}

/*
 * Installed with SA_NODEFER: were our signal blocked while the handler
 * runs, a thread still answering a request that timed out would look,
 * in /proc, as if it blocked the signal, and the next request would get
 * -EAGAIN.  A signal arriving while the handler runs returns at once;
 * the running handler looks at the slot again once it has cleared its
 * flag, and the stack it has is still the thread's stack.
 */
static __thread int in_handler;

/*
 * Captures under way in handlers, and how many ever began, by a hash of
 * the thread (CAPTURE_BUCKETS of them): libunwind blocks every signal
 * around its cache lookups, which /proc shows as the thread blocking
 * ours.  By thread, because a batch has other threads capturing while
 * it asks the next one whether it blocks the signal.
 */
#define CAPTURE_BUCKETS	64
static GW_SHARED struct {
	atomic_int	now;
	atomic_uint	begun;
} captures[CAPTURE_BUCKETS];

static unsigned
capture_bucket(pid_t tid)
{
	return (unsigned)tid % CAPTURE_BUCKETS;
}

int
stack_sampler_mask(int how, const sigset_t *set, sigset_t *old)
{
	(void)how;
	(void)set;
	if (handler_mask == NULL)
		return -1;
	if (old != NULL)
		*old = *handler_mask;
	return 0;
}

_Static_assert(sizeof(((struct stack_told *)0)->comm) == TASKFILE_COMM_MAX,
    "a told comm is taskfile_own_comm's");

/* In the handler: system calls only. */
static void
tell(struct stack_told *told)
{
	taskfile_own_comm(told->comm);
	told->sched_policy = rt_policy(0, &told->sched_priority);
}

static void
sample_handler(int sig, siginfo_t *si, void *ctx)
{
	struct stack st;
	uintptr_t sp[STACK_MAX_FRAMES];
	struct stack_told told;
	sigset_t mask;
	struct req *q;
	unsigned s, b;
	pid_t tid;
	int saved = errno, have = 0;

	/* Only our own tgkill counts (the program's, or its monitor's); a
	 * kill(1) from outside is dropped. */
	if (in_handler || atomic_load(&sampler_off) ||
	    si->si_code != SI_TKILL || si->si_pid == 0 ||
	    (si->si_pid != monitor_running() && si->si_pid != getpid()))
		goto out;
	tid = self_tid();
	b = capture_bucket(tid);
	do {
		in_handler = 1;
		while ((q = asked(tid, &s)) != NULL) {
			if (!have) {
				atomic_fetch_add(&captures[b].now, 1);
				atomic_fetch_add(&captures[b].begun, 1);
				thread_enter_shim();
				sigorset(&mask, &sampler_mask,
				    &((ucontext_t *)ctx)->uc_sigmask);
				handler_mask = &mask;
				capture_context(&st, sp, ctx);
				handler_mask = NULL;
				thread_leave_shim();
				atomic_fetch_sub(&captures[b].now, 1);
				tell(&told);
				have = 1;
			}
			answer(q, s, &st, sp, &told);
		}
		in_handler = 0;
	} while (asked(tid, &s) != NULL);
out:
	errno = saved;
}

/* A handler the program set, as opposed to the default or SIG_IGN. */
static int
has_handler(const struct sigaction *sa)
{
	return sa->sa_handler != SIG_DFL && sa->sa_handler != SIG_IGN;
}

/*
 * libunwind's first use sets up global state under a mutex and opens a
 * pipe; have that happen here rather than inside the handler.
 *
 * The caching policy stays the default, UNW_CACHE_GLOBAL: its lock is
 * taken with signals blocked, so it is safe in a handler, and it spares
 * each step the FDE search that UNW_CACHE_NONE repeats.
 * UNW_CACHE_PER_THREAD must not be used: libunwind built without
 * --enable-per-thread-cache (Debian's is) accepts it yet then shares
 * the global cache with no lock at all.
 */
static void
unwind_warm_up(void)
{
	struct stack st;

	stack_capture(&st, 0);
}

int
stack_sampler_install(int signo)
{
	struct sigaction sa, old;

	if (signo <= 0 || signo >= NSIG)
		return -1;
	if (atomic_load(&sampler_signo) == signo &&
	    !atomic_load(&sampler_off))
		return 0;
	/* Through the real sigaction: ours must not look like the program's. */
	real_resolve();
	if (!real_ready() || real.sigaction(signo, NULL, &old) == -1 ||
	    (has_handler(&old) && old.sa_sigaction != sample_handler))
		return -1;
	unwind_warm_up();
	own_state();
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = sample_handler;
	sa.sa_flags = SA_SIGINFO | SA_RESTART | SA_NODEFER;
	/*
	 * Every other signal waits while the handler runs: then no
	 * handler of the program's can enter libunwind on this thread
	 * while ours holds libunwind's cache lock, which is what
	 * libunwind blocks every signal around that lock for, two system
	 * calls each frame (stack_sampler_mask).  Ours stays unblocked
	 * (SA_NODEFER, above).
	 */
	sigfillset(&sa.sa_mask);
	sigdelset(&sa.sa_mask, signo);
	sampler_mask = sa.sa_mask;
	if (real.sigaction(signo, &sa, NULL) == -1)
		return -1;
	atomic_store(&sampler_signo, signo);
	atomic_store(&sampler_off, 0);
	return 0;
}

int
stack_sampler_signal(void)
{
	return atomic_load(&sampler_off) ? 0 : atomic_load(&sampler_signo);
}

void
stack_sampler_disable(void)
{
	atomic_store(&sampler_off, 1);
}

/* -EAGAIN when tid blocks signo, -ESRCH when it is gone, else 0. */
static int
read_sigblk(pid_t tid, int signo)
{
	char buf[4096], *p;
	unsigned long long mask;

	if (taskfile_read(monitor_program(), tid, TASKFILE_STATUS, buf,
	    sizeof buf) == -1)
		return errno == ENOENT || errno == ESRCH ? -ESRCH : 0;
	if ((p = strstr(buf, "\nSigBlk:")) == NULL)
		return 0;
	mask = strtoull(p + sizeof "\nSigBlk:" - 1, NULL, 16);
	return (mask >> (signo - 1)) & 1 ? -EAGAIN : 0;
}

/*
 * As read_sigblk, but a block seen while a handler of tid's bucket was
 * capturing may be libunwind's, not the program's: the thread may be
 * answering a request that timed out.  Then ask anyway; the signal
 * waits.
 */
static int
thread_blocks(pid_t tid, int signo)
{
	unsigned b = capture_bucket(tid);
	unsigned begun = atomic_load(&captures[b].begun);
	int rc, busy = atomic_load(&captures[b].now);

	rc = read_sigblk(tid, signo);
	if (rc == -EAGAIN && (busy || atomic_load(&captures[b].now) ||
	    atomic_load(&captures[b].begun) != begun))
		rc = 0;
	return rc;
}

static int	in_restarting_wait(const struct stack_ask *);

/*
 * Has a's thread answered in the wait it is in (stack_ask.answered)?
 * Then it has run no code of the program's since the signal came in,
 * and cannot have blocked it.
 */
static int
answered_in_this_wait(const struct stack_ask *a)
{
	return a != NULL && a->answered != NULL && in_restarting_wait(a) &&
	    atomic_load(a->answered) == a->gen + 1;
}

/*
 * The stacks threads answered with, kept by thread (stack_keep_answers):
 * a thread still in the wait it answered in has run none of its code
 * since, so that is its stack now, and it is not asked again (a signal,
 * a wake-up, an unwind and a return to the wait, for each of a
 * thousand parked threads at every dump).  Direct-mapped by thread:
 * two threads on one entry put each other out and are asked.
 */
#define KEPT_ANSWERS	4096	/* entries, a power of 2 */

struct kept_answer {
	pid_t		 tid;
	const atomic_uint *answered;	/* its record's: stack_ask.answered */
	unsigned	 mark;		/* what that said after this answer */
	struct stack	 st;
};

static int keep_answers;
static struct kept_answer *kept_answers;	/* KEPT_ANSWERS, or NULL */

void
stack_keep_answers(int on)
{
	keep_answers = on;
	if (!on) {
		free(kept_answers);
		kept_answers = NULL;
	}
}

static struct kept_answer *
kept_answer_of(pid_t tid)
{
	return &kept_answers[((uint32_t)tid * 0x9e3779b1u >> 8) &
	    (KEPT_ANSWERS - 1)];
}

/* a's thread answered: keep its stack if answers are kept. */
static void
keep_answer(const struct stack_ask *a)
{
	struct kept_answer *e;

	if (!keep_answers || a->answered == NULL)
		return;
	if (kept_answers == NULL && (kept_answers = calloc(KEPT_ANSWERS,
	    sizeof *kept_answers)) == NULL)
		return;
	e = kept_answer_of(a->tid);
	e->tid = a->tid;
	e->answered = a->answered;
	e->mark = atomic_load(a->answered);
	e->st = a->st;
}

/* a's thread's stack, if it gave it in the wait it is still in. */
static int
kept_stack(struct stack_ask *a)
{
	const struct kept_answer *e;

	if (kept_answers == NULL || !answered_in_this_wait(a))
		return 0;
	e = kept_answer_of(a->tid);
	if (e->tid != a->tid || e->answered != a->answered ||
	    e->mark != a->gen + 1)
		return 0;
	a->st = e->st;
	return 1;
}

/*
 * An answerer that a caller gave up on may still be copying into the
 * slot (it claimed the request just before the caller's deadline): let
 * it finish before the slot is reused.
 */
static int
wait_slot_free(struct req *q, const struct timespec *dl)
{
	unsigned s;

	while (REQ_PHASE(s = atomic_load(&q->state)) == REQ_BUSY)
		if (futex_wait_until(&q->state, s, dl) == -1 &&
		    errno == ETIMEDOUT)
			return -ETIMEDOUT;
	return 0;
}

static int
wait_answer(struct req *q, unsigned gen, struct stack *st, uintptr_t *sp,
    struct stack_told *told, const struct timespec *dl)
{
	unsigned s;

	for (;;) {
		s = atomic_load_explicit(&q->state, memory_order_acquire);
		if (s == REQ_STATE(gen, REQ_DONE)) {
			memcpy(st, &q->st, sizeof *st);
			if (told != NULL)
				*told = q->told;
			if (sp != NULL)
				memcpy(sp, q->sp, st->depth * sizeof sp[0]);
			atomic_store(&q->state, REQ_STATE(gen, REQ_IDLE));
			return 0;
		}
		if (futex_wait_until(&q->state, s, dl) == 0 ||
		    errno != ETIMEDOUT)
			continue;
		/*
		 * Withdraw.  An answerer that has just claimed the request
		 * is late too; one that has just finished is collected.
		 */
		s = REQ_STATE(gen, REQ_PENDING);
		if (atomic_compare_exchange_strong(&q->state, &s,
		    REQ_STATE(gen, REQ_IDLE)) || REQ_PHASE(s) == REQ_BUSY)
			return -ETIMEDOUT;
	}
}

/*
 * Ask tid through slot q, by the deadline timeout_ms from now (*dl): 0
 * with the signal sent and *gen the request's generation, or an error
 * as stack_capture_thread's.  Called with q's lock held (req_lock,
 * or req_one_lock for the last slot).
 */
static int
ask(struct req *q, pid_t tid, const struct stack_ask *a, int signo,
    int timeout_ms, unsigned *gen, struct timespec *dl)
{
	unsigned pending;
	int rc;

	/* A thread gone: -ESRCH from here or from the signal's tgkill. */
	if (!answered_in_this_wait(a) &&
	    (rc = thread_blocks(tid, signo)) != 0)
		return rc;
	deadline_after(dl, timeout_ms);
	if ((rc = wait_slot_free(q, dl)) != 0)
		return rc;
	*gen = atomic_fetch_add(&req_gen, 1) + 1;
	pending = REQ_STATE(*gen, REQ_PENDING);
	atomic_store(&q->target, tid);
	atomic_store(&q->answered, a != NULL ? a->answered : NULL);
	atomic_store(&q->wait_gen, a != NULL ? a->wait_gen : NULL);
	atomic_store_explicit(&q->state, pending, memory_order_release);
	if (syscall(SYS_tgkill, monitor_program(), tid, signo) == -1) {
		rc = -errno;
		atomic_compare_exchange_strong(&q->state, &pending,
		    REQ_STATE(*gen, REQ_IDLE));
		return rc;
	}
	return 0;
}

/* Called with req_one_lock held. */
static int
request(pid_t tid, int signo, struct stack *st, uintptr_t *sp,
    int timeout_ms)
{
	struct timespec dl;
	unsigned gen = 0;
	int rc;

	if ((rc = ask(&reqs[REQ_ONE], tid, NULL, signo, timeout_ms, &gen,
	    &dl)) != 0)
		return rc;
	return wait_answer(&reqs[REQ_ONE], gen, st, sp, NULL, &dl);
}

/* noinline: the frames left out of a capture of the caller itself. */
__attribute__((noinline)) static int
capture_thread(pid_t tid, struct stack *st, uintptr_t *sp, int timeout_ms)
{
	int rc, signo;

	st->depth = 0;
	st->truncated = 0;
	/* Leave out this and the public function: the caller is where the
	 * thread is. */
	if (tid == self_tid()) {
		capture_self(st, sp, 2);
		return 0;
	}
	if ((signo = stack_sampler_signal()) == 0)
		return -ENOTSUP;
	if (tid <= 0)
		return -ESRCH;
	ulock_lock(&req_one_lock);
	rc = request(tid, signo, st, sp, timeout_ms);
	ulock_unlock(&req_one_lock);
	return rc;
}

/* noinline, as the frames capture_thread leaves out are counted. */
__attribute__((noinline)) int
stack_capture_thread(pid_t tid, struct stack *st, int timeout_ms)
{
	return capture_thread(tid, st, NULL, timeout_ms);
}

__attribute__((noinline)) int
stack_capture_thread_sp(pid_t tid, struct stack *st, uintptr_t *sp,
    int timeout_ms)
{
	return capture_thread(tid, st, sp, timeout_ms);
}

/*
 * Is a's thread still in the wait its asker saw, one that restarts
 * after a signal?  The generation read on both sides of the state: a
 * wait that ended and another that began in between differ in it.
 */
static int
in_restarting_wait(const struct stack_ask *a)
{
	unsigned g1, g2;
	int state;

	if (a->wait_state == NULL)
		return 0;
	g1 = atomic_load(a->wait_gen);
	state = atomic_load(a->wait_state);
	g2 = atomic_load(a->wait_gen);
	return g1 == a->gen && g2 == a->gen && (state == GW_STATE_BLOCKED ||
	    state == GW_STATE_WAITING || state == GW_STATE_JOINING);
}

/*
 * The caller's own thread is taken here: capture_self leaves out itself
 * and this function, so that it begins where the caller is.
 */
__attribute__((noinline)) void
stack_ask_threads(struct stack_ask *a, size_t n, int timeout_ms)
{
	struct timespec dl = { 0, 0 };
	int signo = stack_sampler_signal();
	pid_t me = self_tid();
	size_t k;

	ulock_lock(&req_lock);
	for (k = 0; k < n && k < STACK_ASK_BATCH; k++) {
		struct stack_ask *x = &a[k];

		x->st.depth = 0;
		x->st.truncated = 0;
		x->note[0] = '\0';
		x->told.comm[0] = '\0';
		x->told.sched_policy = -1;
		x->sent = 0;
		if (x->tid == me) {
			capture_self(&x->st, NULL, 1);
			tell(&x->told);
			x->rc = 0;
		} else if (kept_stack(x))
			x->rc = 0;
		else if (!in_restarting_wait(x) &&
		    !stack_safe_to_sample(x->tid, x->note, sizeof x->note))
			x->rc = -EINTR;
		else if (signo == 0)
			x->rc = -ENOTSUP;
		else if (x->tid <= 0)
			x->rc = -ESRCH;
		else
			x->sent = (x->rc = ask(&reqs[k], x->tid, x, signo,
			    timeout_ms, &x->req_gen, &dl)) == 0;
	}
}

void
stack_answers(struct stack_ask *a, size_t n, int timeout_ms)
{
	struct timespec dl;
	size_t k;

	/* Each answer within timeout_ms of the one before, or of now. */
	deadline_after(&dl, timeout_ms);
	for (k = 0; k < n && k < STACK_ASK_BATCH; k++) {
		if (!a[k].sent)
			continue;
		a[k].rc = wait_answer(&reqs[k], a[k].req_gen, &a[k].st, NULL,
		    &a[k].told, &dl);
		if (a[k].rc == 0) {
			keep_answer(&a[k]);
			deadline_after(&dl, timeout_ms);
		}
	}
	ulock_unlock(&req_lock);
}

void
stack_capture_threads(struct stack_ask *a, size_t n, int timeout_ms)
{
	size_t i, m;

	for (i = 0; i < n; i += m) {
		m = n - i < STACK_ASK_BATCH ? n - i : STACK_ASK_BATCH;
		stack_ask_threads(a + i, m, timeout_ms);
		stack_answers(a + i, m, timeout_ms);
	}
}

/*
 * A thread in one of these system calls resumes it after our handler
 * runs (SA_RESTART); in any other call, a signal would make it fail
 * with EINTR, so we leave that thread alone.
 */
static int
restartable(long nr)
{
	static const long ok[] = {
		0, 1, 2, 16, 17, 18, 19, 20, 42, 43, 44, 45, 46, 47, 61, 72,
		73, 202, 247, 257, 288,
	};
	size_t i;

	for (i = 0; i < sizeof ok / sizeof ok[0]; i++)
		if (ok[i] == nr)
			return 1;
	return 0;
}

int
stack_safe_to_sample(pid_t tid, char *note, size_t len)
{
	char buf[128];
	long nr;

	if (taskfile_read(monitor_program(), tid, TASKFILE_SYSCALL, buf,
	    sizeof buf) == -1)
		return 1;
	if (strncmp(buf, "running", 7) == 0)
		return 1;
	nr = strtol(buf, NULL, 10);
	if (nr < 0 || restartable(nr))
		return 1;
	snprintf(note, len, "in system call %ld, which a signal would "
	    "interrupt", nr);
	return 0;
}

/*
 * Symbolization.
 */

/* (Re)read the module list; modules still mapped keep what they loaded. */
static int
report_modules(Dwfl *dw)
{
	int rc;

	dwfl_report_begin(dw);
	/* The maps of the main thread read empty once it has ended. */
	rc = dwfl_linux_proc_report(dw,
	    procstat_live_task(monitor_program()));
	if (dwfl_report_end(dw, NULL, NULL) != 0 || rc != 0)
		return -1;
	return 0;
}

static Dwfl *
sym_open(void)
{
	Dwfl *dw;

	if ((dw = dwfl_begin(&symname_callbacks)) == NULL)
		return NULL;
	if (report_modules(dw) != 0) {
		dwfl_end(dw);
		return NULL;
	}
	return dw;
}

/*
 * Names looked up lately, by address (under sym_lock): a dump names
 * the same few places once per thread (where each lock was first seen,
 * the waits of a thousand threads parked alike), and libdw's lookup
 * scans a module's symbol table each time.  Emptied with the Dwfl.
 * SYM_WAYS entries a set, the set by a hash of the address: one entry
 * an address (ip / 4 modulo 256), two of a parked thread's twenty
 * frames that fell on one entry put each other out, and every thread of
 * a 1,000-thread dump looked both up again.
 */
#define SYM_CACHE	256
#define SYM_WAYS	4
#define MAPS_REREAD_NS	200000000u	/* the monitor: unknown pcs */

struct sym_entry {
	uintptr_t	 ip;
	int		 is_return;
	struct symbol	 sym;
};

static struct sym_entry *sym_cache;	/* mmap'd at first use, or NULL */
static unsigned sym_cache_next;		/* the way a miss takes */

/* The entry for ip, is_return, or NULL; *fill: the one to fill when
 * none is (NULL without a cache). */
static struct sym_entry *
cache_find(uintptr_t ip, int is_return, struct sym_entry **fill)
{
	struct sym_entry *set;
	int i;

	*fill = NULL;
	if (sym_cache == NULL) {
		void *p = mmap(NULL, SYM_CACHE * sizeof *sym_cache,
		    PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (p == MAP_FAILED)
			return NULL;
		sym_cache = p;
	}
	set = &sym_cache[(size_t)((ip * 0x9e3779b97f4a7c15u) >> 58) *
	    SYM_WAYS % SYM_CACHE];
	for (i = 0; i < SYM_WAYS; i++)
		if (set[i].ip == ip && set[i].is_return == is_return)
			return &set[i];
	*fill = &set[sym_cache_next++ % SYM_WAYS];
	return NULL;
}

/*
 * The monitor's module tables (symname.h): each module's symbols and
 * lines indexed once, where libdw scans the symbol table for every
 * address and builds every line table of a compile unit.  Only in the
 * monitor, which may allocate as it likes; emptied with the Dwfl, and
 * whenever modules are reported again (its entries are by module).
 */
static struct symname_cache *sym_names;

static void
sym_names_drop(void)
{
	symname_cache_free(sym_names);
	sym_names = NULL;
}

static void
sym_close(void)
{
	sym_names_drop();
	if (sym_dwfl != NULL)
		dwfl_end(sym_dwfl);
	sym_dwfl = NULL;
	if (sym_cache != NULL)
		memset(sym_cache, 0, SYM_CACHE * sizeof *sym_cache);
}

/* The monitor's pace of re-reading the program's maps for an unknown pc. */
static int
maps_due(void)
{
	static uint64_t next;	/* the monitor's own */
	struct timespec ts;
	uint64_t now;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
	if (now < next)
		return 0;
	next = now + MAPS_REREAD_NS;
	return 1;
}

/*
 * The module holding pc.  One that is not known may have been loaded
 * since the last report: re-read the maps, but only when the dynamic
 * loader knows the address, so stray ips (JIT code, garbage) do not
 * cost a re-read each (the monitor, whose loader knows only what was
 * loaded before its fork: at most every MAPS_REREAD_NS).
 */
static Dwfl_Module *
sym_module(uintptr_t pc)
{
	Dwfl_Module *mod;
	Dl_info dli;

	/*
	 * The monitor's copy of the program's Dwfl names descriptors the
	 * monitor closed (monitor.c), and its numbers are reused: left
	 * as it is, not ended, which would close them.
	 */
	if (monitor_is_me() && !sym_monitor_own) {
		sym_dwfl = NULL;
		sym_monitor_own = 1;
	}
	if (atomic_exchange(&sym_stale, 0))
		sym_close();
	if (sym_dwfl == NULL && (sym_dwfl = sym_open()) == NULL)
		return NULL;
	if ((mod = symname_module_at(sym_dwfl, pc)) != NULL)
		return mod;
	if (monitor_is_me() ? !maps_due() : dladdr((void *)pc, &dli) == 0)
		return NULL;
	sym_names_drop();
	if (report_modules(sym_dwfl) != 0) {
		sym_close();
		return NULL;
	}
	return symname_module_at(sym_dwfl, pc);
}

static int
describe_dladdr(uintptr_t pc, uintptr_t ip, struct symbol *sym)
{
	Dl_info dli;

	if (dladdr((void *)pc, &dli) == 0)
		return -1;
	if (dli.dli_sname != NULL && dli.dli_saddr != NULL) {
		symname_function(sym->function, sizeof sym->function,
		    dli.dli_sname);
		sym->offset = ip - (uintptr_t)dli.dli_saddr;
	}
	if (dli.dli_fname != NULL)
		symname_copy(sym->module, sizeof sym->module, dli.dli_fname);
	return 0;
}

int
stack_symbolize(uintptr_t ip, int is_return, struct symbol *sym)
{
	struct sym_entry *hit = NULL, *fill = NULL;
	Dwfl_Module *mod;
	uintptr_t pc = ip;
	int rc = 0;

	memset(sym, 0, sizeof *sym);
	if (is_return && pc > 0)
		pc--;
	own_state();
	thread_enter_shim();
	ulock_lock(&sym_lock);
	/* A stale cache is emptied by sym_module: no hit, the slot kept. */
	if ((hit = cache_find(ip, is_return, &fill)) != NULL &&
	    atomic_load(&sym_stale)) {
		fill = hit;
		hit = NULL;
	}
	if (hit != NULL) {
		*sym = hit->sym;
		ulock_unlock(&sym_lock);
		thread_leave_shim();
		return 0;
	}
	if ((mod = sym_module(pc)) != NULL) {
		if (monitor_is_me() && (sym_names != NULL ||
		    (sym_names = symname_cache_new()) != NULL))
			(void)symname_lookup(sym_names, sym_dwfl, ip,
			    is_return, sym);
		else
			symname_describe(mod, pc, ip, sym);
		if (fill != NULL) {
			fill->ip = ip;
			fill->is_return = is_return;
			fill->sym = *sym;
		}
	}
	ulock_unlock(&sym_lock);
	if (mod == NULL)
		rc = describe_dladdr(pc, ip, sym);
	thread_leave_shim();
	return rc;
}

int
stack_with_module(uintptr_t pc, int (*fn)(Dwfl_Module *, void *), void *arg)
{
	Dwfl_Module *mod;
	int rc = -1;

	own_state();
	thread_enter_shim();
	ulock_lock(&sym_lock);
	if ((mod = sym_module(pc)) != NULL)
		rc = fn(mod, arg);
	ulock_unlock(&sym_lock);
	thread_leave_shim();
	return rc;
}

/*
 * After fork only the forking thread is left: a lock another thread
 * held stays held for ever, and a Dwfl it was in the middle of changing
 * cannot be trusted even to free, so that one is dropped, not ended.
 */
static void
after_fork(void)
{
	int i;

	if (atomic_load(&sym_lock.state) != 0) {
		sym_dwfl = NULL;
		/* An entry may have been half written: forget them all. */
		if (sym_cache != NULL)
			memset(sym_cache, 0, SYM_CACHE * sizeof *sym_cache);
	}
	ulock_init(&sym_lock);
	ulock_init(&req_lock);
	ulock_init(&req_one_lock);
	for (i = 0; i < REQ_SLOTS; i++)
		atomic_store(&reqs[i].state, REQ_STATE(atomic_load(&req_gen),
		    REQ_IDLE));
	for (i = 0; i < CAPTURE_BUCKETS; i++)
		atomic_store(&captures[i].now, 0);
}

/*
 * Only marks the Dwfl stale; the next stack_symbolize ends it.  That
 * keeps this free of locks, so a dlopen hook may call it even when the
 * dlopen comes from libdw itself, under sym_lock.
 */
void
stack_symbols_reset(void)
{
	pid_t pid = getpid(), was;

	was = atomic_exchange(&owner_pid, pid);
	if (was != 0 && was != pid)
		after_fork();
	atomic_store(&sym_stale, 1);
}
