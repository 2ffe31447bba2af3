/*
 * The thread registry: one record per thread the shim has seen.
 *
 * A thread writes only its own record (single writer); others read it
 * while it changes.  The held-lock array and the wait fields are covered
 * by a sequence counter, so a reader retries until it gets a copy that
 * no write overlapped.  Records are never freed, only reused by later
 * threads, so a pointer to one stays safe to read.
 */
#ifndef GW_THREAD_H
#define GW_THREAD_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <sys/types.h>

#include "gilwatch/shm.h"
#include "gilwatch/snapshot.h"
#include "guard.h"
#include "hist.h"
#include "stack.h"

#define THREAD_INLINE_HELD	16	/* more spill to a larger array */
#define THREAD_RECENT_BITS 5	/* 32 lock records remembered (track.h) */
#define THREAD_PYNAME_MAX	64	/* threading's names, with NUL: longer
					   than the kernel's 16 */

struct lockrec;
struct rt_cycle;

/* Where a thread stands with the GIL (gil.c keeps it: gil_state). */
enum gil_thread_state {
	GIL_NONE,	/* not holding, not waiting (running C, I/O, idle) */
	GIL_WAITING,	/* in take_gil, waiting since gil_since */
	GIL_HOLDING,	/* holds the GIL since gil_since */
};


struct held {
	uintptr_t	addr;
	struct lockrec	*rec;		/* NULL when the lock table is full */
	uintptr_t	site;		/* return address of the acquire */
	union {
		struct {
			uint32_t count;		/* recursive depth */
			uint8_t	kind;		/* enum gw_lock_kind */
			uint8_t	mode;		/* enum gw_lock_mode */
			uint8_t	try;		/* taken by a trylock */
			uint8_t	flags;		/* HELD_* */
		};
		uint64_t shape;		/* the five in one word: one
					   compare (HELD_SHAPE) */
	};
	uint64_t	t0;		/* hold start, when HELD_TIMED */
	uint64_t	chain;		/* the order key of the held locks up
					   to this one (order.h), but in
					   held[0], where it is not kept */
};

/* held.flags */
#define HELD_TIMED	1	/* t0 is set */
#define HELD_SAMPLED	2	/* timed as 1 of hold_sample holds */
#define HELD_NOREC	4	/* rec is NULL */

/* The shape of a hold of a lock of this kind and mode, held once, not
 * by a trylock, no flag set (the common release: track.h). */
#define HELD_SHAPE(kind, mode) \
	((uint64_t)1 | (uint64_t)(kind) << 32 | (uint64_t)(mode) << 40)

/* What a thread is waiting for: valid while state is not RUNNING. */
struct waitinfo {
	uintptr_t	addr;
	struct lockrec	*rec;
	uint8_t		kind;
	uint8_t		mode;
	uint8_t		timed;
	uint8_t		restarts;	/* a signal leaves the wait as it
					   was: a dump may ask the thread for
					   its stack without a look at its
					   system call (track_wait_begin) */
	uintptr_t	site;
	pthread_t	target;		/* join: the thread joined */
};

/*
 * A Python lock's acquire under way (hook-pylock.c, CPython 3.14+, where
 * threading.Lock and RLock are PyMutexes): the semaphore waits the
 * parking lot makes for it, once the thread has let the GIL go, are
 * waits for that lock (hook-sem.c).  On the acquiring hook's stack,
 * pointed to by its thread's py_lock while the call runs; used by that
 * thread only.
 */
struct py_lock_call {
	uintptr_t	 addr;		/* the lock object */
	const _Atomic uint8_t *bits;	/* its PyMutex: bit 0 set, locked */
	uintptr_t	 site;		/* the method's C function, + 1 */
	int		 timed;		/* it parked with a timeout */
	int		 waited;	/* it parked: the first park began at
					   wait_t0, the last ended at wait_end */
	uint64_t	 wait_t0, wait_end;
};

struct thread {
	struct thread	*next;		/* registry list, never unlinked */
	atomic_int	in_use;		/* 0: free for reuse */
	atomic_int	tid;
	pthread_t	self;
	char		name[16];
	int		internal;	/* a gilwatch thread: not reported */

	atomic_uint	seq;		/* odd while held/wait change */
	struct held	*held;
	union {
		struct {
			uint32_t nheld;
			uint32_t waited;	/* the next acquisition
						   waited */
		};
		uint64_t held_or_waited;	/* 0: neither, one load
						   (track_acquired_fast) */
	};
	uint32_t	cap;
	struct held	held_floor;	/* held[-1] of the inline array, as
					   every held array has one: all 0,
					   the top entry when nheld is 0, so
					   that a release looks at it without
					   a test (track_releasing_fast) */
	struct held	inline_held[THREAD_INLINE_HELD];

	atomic_int	state;		/* enum gw_thread_state */
	uint64_t	since_ns;	/* when state last changed */
	/* As rt_policy(0, ...) when it ended (thread_exit): a holder may
	 * end before its waiter wakes to ask (thread_ended_policy). */
	int		end_policy, end_prio;
	struct waitinfo	wait;
	atomic_uint	wait_gen;	/* bumped at each wait start */
	atomic_uint	sampler_answered; /* stack_ask.answered (stack.h) */
	struct stack	block_stack;	/* captured before a wait starts */
	uint64_t	wait_t0;	/* clock_ticks() at wait start */
	uint64_t	wait_end;	/* clock_ticks() at the last wait's end */
	uint32_t	hold_rng;	/* which holds are timed (stats.h) */
	uint32_t	hold_skip;	/* holds left untimed before the next
					   timed one (stats_hold_sampled) */
	_Atomic(struct lockrec *) recent[1 << THREAD_RECENT_BITS];
					/* track.h: locks it took lately */
	_Atomic(struct lockrec *) last;	/* and the last it looked up */
	struct rt_cycle	*rt_cycle;	/* rtcycle.c: the period under way
					   (its own thread's), or NULL */
	struct py_lock_call *py_lock;	/* the acquire under way, NULL:
					   none (only this thread uses it) */

	/* The GIL (gil.c): written by this thread's markers only. */
	atomic_int	gil_state;	/* enum gil_thread_state */
	_Atomic uint64_t gil_since;	/* clock ticks at the last change */
	_Atomic uint64_t gil_hold;	/* total ticks holding, finished ones */
	_Atomic uint64_t gil_wait;	/* total ticks waiting, finished ones */
	_Atomic uint64_t gil_acquired;	/* times it took the GIL */
	int		gil_slept;	/* this take waited on gil->cond */
	int		gil_wait_later;	/* its wait is published if it sleeps */
	uintptr_t	gil_wait_site;	/* where that wait began */
	_Atomic uint64_t gil_wait_max;	/* ns */
	_Atomic uint64_t gil_wait_hist[HIST_BUCKETS];	/* hist.h */

	char		py_top[96];	/* publish.c: its top Python frame */
	uint8_t		py_state;	/* publish.c: free-threaded CPython,
					   its thread state's (PY_TS_*) */
	char		py_name[GW_SHM_NAME_LEN];	/* publish.c: there,
					   its threading name ("": none) */
	atomic_uintptr_t py_ts;		/* gil.c: its PyThreadState, as seen
					   when it last took the GIL; 0 */

	/*
	 * publish.c: what its Python code waits on, read with py_top while
	 * it is blocked and kept for that wait (py_wait_gen: its wait_gen)
	 * so that a thread whose frames are not read in a round shows it
	 * still; for a join, the TID of the thread joined (0: unknown).
	 */
	struct gw_shm_pywait py_wait;
	unsigned	py_wait_gen;
	pid_t		py_wait_joined;

	/*
	 * threading's name (Thread.name), read by this thread itself while
	 * it holds the GIL (gil.c); others copy it under pyname_seq.  Kept
	 * when later reads fail, so that it outlives the Thread object.
	 */
	atomic_uint	pyname_seq;	/* odd while pyname changes */
	char		pyname[THREAD_PYNAME_MAX];	/* "" when unknown */
	uint64_t	pyname_next;	/* now_ns() of the next read */
	unsigned	pyname_fails;	/* reads failed in a row */

	/*
	 * The thread a CPython 3.13 Thread.join waits for (its pthread_t,
	 * 0: none), valid while wait_gen equals py_join_gen.  That join
	 * waits on a semaphore of the interpreter's parking lot, which
	 * names no thread: the helper's scan reads it from the Python
	 * frames, once per wait (deadlock.c).
	 */
	atomic_ulong	py_join;
	atomic_uint	py_join_gen;	/* wait_gen + 1 it was read for */
	/*
	 * An event loop's turns (hook-select.c): now_ns() when the thread
	 * last came back from epoll_wait, poll or select (0: never), and
	 * whether it is in one now.  loopstall.c reads them; loop_seen is
	 * its own (helper only): the sel_left already looked at.
	 */
	_Atomic uint64_t sel_left;
	atomic_int	sel_inside;
	uint64_t	loop_seen;

	void		*scratch;	/* detector work space, see waitfor.c */
	size_t		scratch_len;
};

/*
 * Called once by the shim's init, before any record is handed out.
 * on_exit (or NULL) is called as a thread ends, with its record still
 * its own: what the layers above keep of the thread is closed there.
 */
void	thread_registry_init(void (*on_exit)(struct thread *));

/* Has thread_registry_init run (is the shim live in this process)? */
int	thread_registry_ready(void);

/*
 * The calling thread's record, registering it on first use.  Returns
 * NULL when the call comes from inside the shim (or from a gilwatch
 * thread), when the shim is not initialised, or when no record can be
 * had: the hook must then pass straight through.
 */
struct thread	*thread_self_register(void);	/* thread_self's slow path */

/* Inline: every hook starts with it.  thread_ready: guard.h. */
static inline struct thread *
thread_self(void)
{
	struct thread *t = thread_ready;

	if (__builtin_expect(t != NULL, 1))
		return t;
	if (thread_mine != NULL)
		return thread_in_shim() ? NULL : thread_mine;
	return thread_self_register();
}

/*
 * Forget the locks t took lately (track.h): its next acquisitions look
 * their records up.  At registration; and in the fork handler, to have
 * the dump helper resumed by the next mutex lock (dump.h).
 */
void	thread_recent_clear(struct thread *t);

/* Same, but never registers: NULL for unknown threads. */
struct thread	*thread_peek(void);

/* Mark the calling thread as gilwatch's own: never tracked. */
void	thread_set_internal(void);

/* The first record of the registry; walk with ->next, skip !in_use. */
struct thread	*thread_first(void);

/*
 * The policy (and *prio) thread tid had as it ended, by its record
 * while no thread has taken that over; -1: none known.
 */
int	thread_ended_policy(pid_t tid, int *prio);

/* A live record by TID or by pthread_t; NULL when none. */
struct thread	*thread_by_tid(pid_t);

/* The same, trying hint (a struct thread *, or 0) first: a lock's last
 * owner, so that following owners costs no walk of every thread. */
struct thread	*thread_by_tid_hint(pid_t, uintptr_t hint);
struct thread	*thread_by_pthread(pthread_t);

/* Number of records in use (approximate while threads come and go). */
unsigned	thread_count(void);

/*
 * A sequence-counter bracket around changes that only one thread, the
 * owner, makes: plain stores do, no read-modify-write.  Readers copy and
 * retry while the count is odd or has moved.
 */
static inline void
seq_write_begin(atomic_uint *seq)
{
	unsigned s = atomic_load_explicit(seq, memory_order_relaxed);

	atomic_store_explicit(seq, s + 1, memory_order_relaxed);
	atomic_thread_fence(memory_order_release);
}

static inline void
seq_write_end(atomic_uint *seq)
{
	unsigned s = atomic_load_explicit(seq, memory_order_relaxed);

	atomic_store_explicit(seq, s + 1, memory_order_release);
}

/* The bracket around changes to held[] and wait. */
static inline void
thread_write_begin(struct thread *t)
{
	seq_write_begin(&t->seq);
}

static inline void
thread_write_end(struct thread *t)
{
	seq_write_end(&t->seq);
}

/*
 * A push on the held array, on every acquisition, costs less: the
 * entry goes in the slot past nheld, then nheld counts it, and a reader
 * copies no slot past the count it read.  Only a slot emptied by a pop
 * (one store, outside any bracket) and written over by a later push can
 * tear a copy: that push moves the sequence first, by two (even, as no
 * write is then half done that a reader should wait out), so that the
 * reader that saw any of its stores sees the sequence moved.
 */
static inline void
thread_push_begin(struct thread *t)
{
	unsigned s = atomic_load_explicit(&t->seq, memory_order_relaxed);

	atomic_store_explicit(&t->seq, s + 2, memory_order_relaxed);
	atomic_thread_fence(memory_order_release);
}

/* The entry is written: n entries now (release: the entry first). */
static inline void
thread_push_end(struct thread *t, uint32_t n)
{
	__atomic_store_n(&t->nheld, n, __ATOMIC_RELEASE);
}

/* Held-lock array: find (from the top), push, remove. */
struct held	*thread_find_held(struct thread *, uintptr_t addr);

/*
 * Double the held array; 0: no memory.  The old array is left in
 * place, not unmapped: a reader on another thread may still be copying
 * from it, and what is left behind is at most the size of the live one.
 */
int	thread_grow_held(struct thread *);

/* Inline, as the next two are: every acquisition pushes.  NULL: no
 * memory. */
static inline struct held *
thread_push_held(struct thread *t)
{
	if (__builtin_expect(t->nheld == t->cap, 0) && !thread_grow_held(t))
		return NULL;
	return &t->held[t->nheld++];
}

static inline void
thread_remove_held(struct thread *t, struct held *h)
{
	struct held *last = &t->held[t->nheld - 1];

	/* Keep acquisition order: later entries slide down. */
	if (h != last)
		memmove(h, h + 1, (size_t)(last - h) * sizeof *h);
	t->nheld--;
}

/* A thread's state and wait, as one copy that no write overlapped. */
struct wait_copy {
	int		state;		/* enum gw_thread_state */
	uint64_t	since_ns;
	struct waitinfo	wait;
	unsigned	gen;		/* its wait_gen */
};

/* Copy t's wait; -1 when t kept changing it (100 tries). */
int	thread_copy_wait(struct thread *, struct wait_copy *);

/* Set the state and stamp the time. */
void	thread_set_state(struct thread *, enum gw_thread_state);

/*
 * Read the thread's name into buf: threading's name when one was read
 * (thread_set_pyname), else the OS name (/proc comm, or the name cached
 * at setname when /proc cannot be read).
 */
void	thread_name(struct thread *, char *buf, size_t len);

/*
 * The same, with comm the OS name the thread itself told (stack_told),
 * read in place of /proc's; NULL or "": as thread_name.
 */
void	thread_name_told(struct thread *, const char *comm, char *buf,
	    size_t len);

/* threading's name alone: 0, or -1 (buf "") when none was read.
 * Async-signal-safe. */
int	thread_pyname(struct thread *, char *buf, size_t len);

/*
 * The name the program gave the thread with pthread_setname_np or
 * prctl, as the hooks saw it (memory only): 0, or -1 (buf "") when
 * none was seen.
 */
int	thread_given_name(struct thread *, char *buf, size_t len);

/* Set threading's name; only the thread itself calls this. */
void	thread_set_pyname(struct thread *, const char *name);

/* Forget the cached name (after setname) so the next read refreshes. */
void	thread_name_changed(struct thread *, const char *name);

/*
 * Called when the last program thread ends, and before the program
 * creates a thread (both set by the shim).
 */
extern void	(*thread_last_exit)(void);
extern void	(*thread_create_hook)(void);

/* The calling thread is ending: free its record for reuse. */
void	thread_exit(struct thread *);

/* In a fork child: every record but the caller's is freed. */
void	thread_after_fork_child(void);

/* Monotonic nanoseconds. */
uint64_t	now_ns(void);

/*
 * The lock of wait w, t's (t->wait or a copy): -1 when it is a semaphore t took
 * itself (Condition.wait's private lock: t waits for a notify, which no
 * holder owes it); else 0, with the TID of its last owner in *owner (0:
 * unknown; the owner fields still name who had it before: a hint).
 */
int	thread_wait_owner(const struct waitinfo *w, const struct thread *t,
	    pid_t *owner);

#endif /* GW_THREAD_H */
