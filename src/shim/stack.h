/*
 * Native stacks: capture (libunwind) and symbolization (libdw).
 *
 * Capture is split from naming on purpose: capturing must be cheap and
 * async-signal-safe because it runs in hooks and in the sampling signal
 * handler; naming reads ELF and DWARF files and allocates, so it runs
 * only in the helper thread or in snapshot code.
 */
#ifndef GW_STACK_H
#define GW_STACK_H

#include <signal.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "symname.h"

#define STACK_MAX_FRAMES	48	/* deeper stacks are marked truncated */

struct stack {
	uint16_t	depth;
	uint8_t		truncated;
	uintptr_t	ip[STACK_MAX_FRAMES];	/* innermost first */
};

/*
 * Capture the calling thread's stack into st, leaving out the `skip`
 * innermost frames (the capture function itself is never included).
 * Async-signal-safe; allocates nothing; never fails (depth may be 0).
 */
void	stack_capture(struct stack *st, int skip);

/*
 * Capture the stack a signal interrupted, from the handler's ucontext
 * uc (the handler's own frames are not included).  Async-signal-safe.
 */
void	stack_capture_signal(struct stack *st, void *uc);

/*
 * Capture the stack of another thread of this process by sending it the
 * sampling signal and waiting at most timeout_ms for the answer.
 * Returns 0 on success, or one of:
 *   -EAGAIN   the thread blocks the signal (st->depth is 0)
 *   -ETIMEDOUT no answer in time
 *   -ESRCH    no such thread
 *   -ENOTSUP  sampling is not installed (the program owns the signal)
 * Thread safe: concurrent callers are serialised.  Not signal safe.
 */
int	stack_capture_thread(pid_t tid, struct stack *st, int timeout_ms);

/*
 * What an asked thread says of itself with its stack, from its own
 * system calls: what /proc and sched_getattr would say of it, one
 * call each in the thread instead of three and one in the asker.
 */
struct stack_told {
	char		 comm[16];	/* its name (PR_GET_NAME), or "" */
	int		 sched_policy;	/* as rt_policy(0, ...), -1 unknown */
	int		 sched_priority;
};

/*
 * Several threads' stacks, each as stack_capture_thread would take it,
 * but up to 64 threads asked at once, so that their answers overlap:
 * each a[i].rc gets what stack_capture_thread would return, or -EINTR
 * when stack_safe_to_sample said no (a[i].note says why; the thread is
 * not asked).  Each thread is checked just before it is sent the
 * signal, by its wait where a[i].wait_state tells it (no system call),
 * else by stack_safe_to_sample.  A thread that does not answer within
 * timeout_ms of the last answer (or of its being asked) gives
 * -ETIMEDOUT.  The caller's own thread is taken directly, from the
 * caller's frame.
 */
struct stack_ask {
	pid_t		 tid;		/* in */
	/*
	 * in: where the thread's wait numbered gen is one that a signal
	 * leaves as it was (it restarts), so that while the thread is in
	 * it its system call need not be looked at (stack_safe_to_sample):
	 * it is, at the ask, if *wait_state is a wait (GW_STATE_BLOCKED,
	 * _WAITING or _JOINING) and *wait_gen is gen.  NULL: not known.
	 */
	const atomic_int *wait_state;
	const atomic_uint *wait_gen;
	unsigned	 gen;
	/*
	 * in: where the thread's answers are noted (its wait_gen + 1 when
	 * it last answered), or NULL.  A thread that answered in the wait
	 * it is still in has run none of its own code since, so its signal
	 * mask still lets the signal in: /proc need not be asked.
	 */
	atomic_uint	*answered;
	int		 rc;		/* out */
	char		 note[128];	/* out, with -EINTR */
	struct stack	 st;		/* out, when rc is 0 */
	struct stack_told told;		/* out, when rc is 0 */
	int		 sent;		/* stack.c's: asked, answer due */
	unsigned	 req_gen;	/* stack.c's: the request's */
};
void	stack_capture_threads(struct stack_ask *a, size_t n, int timeout_ms);

/*
 * stack_capture_threads in two halves, for a caller with work of its own
 * to do while the threads answer (their time to be scheduled and unwind
 * is then spent beside it): stack_ask_threads asks a[0..n-1], n at most
 * STACK_ASK_BATCH, and returns with the batches' lock held, which
 * stack_answers, called next with the same a and n, lets go once it has
 * the answers.  Between, the caller may ask one thread at a time
 * (stack_capture_thread), not another batch.
 */
#define STACK_ASK_BATCH	64
void	stack_ask_threads(struct stack_ask *a, size_t n, int timeout_ms);
void	stack_answers(struct stack_ask *a, size_t n, int timeout_ms);

/*
 * Keep (on: 1) the stacks threads answer with, and give a thread's kept
 * stack instead of asking it when it is still in the wait it answered
 * in (stack_ask.answered): it has run none of its code since.  For the
 * monitor, which dumps the same parked threads again and again; 0
 * forgets them.  Not thread safe: one asker.
 */
void	stack_keep_answers(int on);

/*
 * May tid be sent the sampling signal?  1: yes; 0: no, it is in a system
 * call that the signal would make fail with EINTR (note says which).
 */
int	stack_safe_to_sample(pid_t tid, char *note, size_t len);

/*
 * Install the sampling signal handler.  signo is the signal to use.
 * Returns 0 or -1 (the program already has a handler for signo).
 */
int	stack_sampler_install(int signo);

/*
 * sigprocmask as seen by the sampler's handler while it unwinds (the
 * sigprocmask hook asks): 0 with *old the thread's mask, and nothing
 * changed, for the handler already runs with every other signal
 * blocked; -1 on any other thread or at any other time, to do the real
 * call.  libunwind blocks every signal and restores the mask around its
 * cache lookups, two system calls a frame, which is most of what the
 * threads of a dump spend.
 */
int	stack_sampler_mask(int how, const sigset_t *set, sigset_t *old);

/* The signal the sampler uses, or 0 when it is not installed. */
int	stack_sampler_signal(void);

/*
 * The sampler's handler is told to step aside: the program installed its
 * own handler for our signal.  Later stack_capture_thread calls return
 * -ENOTSUP.
 */
void	stack_sampler_disable(void);

/*
 * Name the code at ip.  For return addresses (every frame but the
 * innermost), pass is_return = 1 so ip - 1 is looked up, which names the
 * call instruction rather than the next one.  Returns 0, or -1 when ip
 * is in no known module (sym is then zeroed but for nothing).
 * Thread safe.  Allocates; not signal safe.
 */
int	stack_symbolize(uintptr_t ip, int is_return, struct symbol *sym);

/*
 * Call fn with the libdwfl module holding pc, under the symbolization
 * lock (so fn must not symbolize); returns what fn returns, or -1 when
 * pc is in no known module.  Allocates; not signal safe.
 */
struct Dwfl_Module;
int	stack_with_module(uintptr_t pc,
	    int (*fn)(struct Dwfl_Module *, void *), void *arg);

/*
 * stack_capture_thread, with each frame's stack pointer into sp (room
 * for STACK_MAX_FRAMES); frame i's own area is [sp[i], sp[i + 1]).
 */
int	stack_capture_thread_sp(pid_t tid, struct stack *st, uintptr_t *sp,
	    int timeout_ms);

/*
 * Is ip inside libgilwatch.so?  Drop such frames from st (the hooks and
 * the trampoline are not the program's).  Not signal safe: its first call
 * asks dl_iterate_phdr, and dladdr while another thread does.
 */
int	stack_is_self(uintptr_t ip);
void	stack_strip_self(struct stack *st);

/*
 * pthread_atfork handlers: prepare waits until no thread is inside
 * libunwind (whose own locks would stay taken in the child); done, in
 * parent and child, lets unwinding start again.
 */
void	stack_fork_prepare(void);
void	stack_fork_done(void);

/* Forget cached module information (after dlopen/dlclose or fork). */
void	stack_symbols_reset(void);

#endif /* GW_STACK_H */
