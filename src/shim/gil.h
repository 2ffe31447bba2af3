/*
 * The CPython GIL, followed at the libc level.  LD_PRELOAD cannot see
 * take_gil/drop_gil, but it sees every libc call they make on the GIL's
 * mutex and condition variables:
 *   - a thread that is not the holder and locks gil->mutex starts to
 *     wait for the GIL;
 *   - it holds the GIL when it signals gil->switch_cond (take_gil does
 *     that right after setting locked = 1);
 *   - it lets the GIL go when it signals gil->cond (drop_gil, after
 *     locked = 0);
 *   - a waiter whose timed wait on gil->cond times out with the switch
 *     number unchanged asks the holder to drop: a forced switch.
 * These markers are exact (see shared/reference/cpython-internals.md).
 *
 * Per-thread state lives in struct thread (gil_* fields); the totals
 * below are process-wide.  Times are nanoseconds of CLOCK_MONOTONIC
 * (now_ns): GIL events are rare enough to afford it.
 */
#ifndef GW_GIL_H
#define GW_GIL_H

#include <stdint.h>
#include <sys/types.h>

#include "hist.h"
#include "py.h"
#include "thread.h"

#define GIL_WINDOW_SLOTS	100	/* 100 slots of 100 ms: 10 s */

struct gil_summary {
	int		 present;	/* a CPython with a GIL is tracked */
	int		 free_threaded;	/* a CPython without one (3.13t+) */
	char		 version[16];	/* "3.11.7" */
	char		 why_not[128];	/* when not present */
	pid_t		 holder;	/* TID, 0 when free */
	uint64_t	 holder_since;	/* ticks */
	unsigned	 waiting;	/* threads waiting now */
	uint64_t	 switches;	/* acquisitions */
	uint64_t	 forced;	/* drop requests (timeouts) */
	double		 load_1s, load_10s, load_all;	/* fraction held */
	double		 contention_1s, contention_10s, contention_all;
	unsigned long	 interval_us;	/* sys.getswitchinterval() */
};

/*
 * Find CPython (call once from the shim's start-up, not from a hook).
 * Says in one line what it found when it finds an unsupported one.
 */
void	gil_init(void);

/*
 * Is addr the GIL's mutex / cond / switch_cond?  Cheap: for hooks.
 * gil_is_internal_mutex: gil->mutex or gil->switch_mutex, which the
 * hooks leave out of lock tracking (the GIL itself is tracked instead).
 */
int	gil_is_mutex(uintptr_t addr);
int	gil_is_internal_mutex(uintptr_t addr);
int	gil_is_cond(uintptr_t addr);
int	gil_is_switch_cond(uintptr_t addr);

struct py_cs;
struct thread;
struct py_runtime;

/* The interpreter found, or NULL (for the frame reader). */
const struct py_runtime	*gil_runtime(void);

/*
 * CPython 3.14+ (free-threaded builds above all): when the calling
 * thread, about to sleep on sem, parks in the parking lot on a PyMutex
 * another thread holds (a critical section's object lock, one of the
 * interpreter's), that mutex's address, and in *site the call that
 * wanted it (the frame above the mutex code); else 0.  Unwinds a few
 * frames of the caller's stack: for a thread about to sleep only.
 */
uintptr_t	gil_parked_mutex(const void *sem, uintptr_t *site);

/*
 * On a free-threaded build, the critical sections t is in, read now as
 * outside dumps read them (py_tstate_critical_sections); else -1.
 */
int		gil_thread_critical_sections(struct thread *t, struct py_cs *out,
		    int max, int *more);

/*
 * On a free-threaded build, a stop-the-world pause under way: 1 with *st
 * (py_stop_the_world); else 0, or -1 when none can be read.
 */
struct py_stw;
int		gil_stop_the_world(struct py_stw *st);

/* The GIL's address (its lock identity in reports), or 0. */
uintptr_t	gil_address(void);

/*
 * Is the GIL followed and in use?  On a build with a GIL, once located;
 * on a free-threaded build, whose GIL is followed all the same, only
 * while turned on for good (PYTHON_GIL=1, -X gil=1, an extension module
 * not declared safe without it; not the moment each extension module's
 * initialisation takes it): until then its threads have no GIL state.
 */
int		gil_in_use(void);

/*
 * Is site (a return address) inside CPython's lock acquisition
 * (PyThread_acquire_lock_timed), or one gil_add_python_lock_site gave?
 * Python retries a lock wait that a signal interrupts, so such waits
 * can be sampled by signal.
 */
int	gil_is_python_lock_call(uintptr_t site);

/*
 * Is site where CPython's lock acquisition (PyThread_acquire_lock_timed)
 * takes a semaphore?  Such a semaphore is a lock's, which counts 0 or
 * 1: its taker is its only holder until the release.  The two such
 * sites (its trywait and its wait) are kept as they are found, so that
 * gil_python_sem_take_known, asked at every semaphore taken, is two
 * comparisons; it can say no to a site gil_is_python_sem_take has not
 * been asked about yet.
 */
int	gil_is_python_sem_take(uintptr_t site);

extern atomic_uintptr_t gil_py_sem_take[2];

static inline int
gil_python_sem_take_known(uintptr_t site)
{
	return site == atomic_load_explicit(&gil_py_sem_take[0],
	    memory_order_relaxed) || site == atomic_load_explicit(
	    &gil_py_sem_take[1], memory_order_relaxed);
}

/*
 * site is where a Python lock is waited for too: the hooks of 3.14's
 * PyMutex locks (hook-pylock.c) give their waits sites of their own.
 * At start-up only, before any thread asks.
 */
void	gil_add_python_lock_site(uintptr_t site);

/*
 * Where t, the calling thread's record, is in Python, when t holds the
 * GIL (so the GIL's last holder is t's own thread state and its frames
 * cannot move), or on a free-threaded build when t has a current thread
 * state (its frames move only when it runs Python): 0, or -1.
 */
struct py_site;
struct py_frame;
int	gil_own_site(struct thread *t, struct py_site *site);

/*
 * Its common case, inline, for a hook on every Python lock (track.c):
 * 1 with *site set, 0 when t has no Python line (as gil_own_site's -1),
 * or -1 when only gil_own_site can tell.  gil_own_fast is set once the
 * interpreter is known, on a build with a GIL: a thread that holds it
 * reads its own thread state (t->py_ts) with that.  gil_own_by_call: a
 * free-threaded build, where a thread's state is Python's to give.
 */
extern struct py_own_fast gil_own_fast;
extern int	gil_own_by_call;

static inline int
gil_own_site_quick(struct thread *t, struct py_site *site)
{
	if (__builtin_expect(atomic_load_explicit(&t->gil_state,
	    memory_order_relaxed) != GIL_HOLDING, 0))
		return gil_own_by_call ? -1 : 0;
	return py_own_site_fast(&gil_own_fast, atomic_load_explicit(&t->py_ts,
	    memory_order_relaxed), (unsigned long)t->self, site) ? 1 : -1;
}

/* All of them, innermost first, into out[0..max-1]: how many, or -1. */
int	gil_own_sites(struct thread *t, struct py_site *out, int max);

/* The thread holding the GIL now, or NULL. */
struct thread	*gil_holder_thread(void);

/*
 * Marker hooks, called by the mutex and condvar hooks.  Each counts what
 * the marker means and returns it; the hook then has tracking publish
 * the GIL as a lock in the thread's record (event.h): waited for (so
 * deadlocks through the GIL are found) and held (so it takes part in
 * lock-order validation).
 *
 * gil_mutex_locking (lock(mutex)), called from site: when t starts to
 * wait for the GIL, GIL_WAIT_NOW if another thread holds it, for the
 * hook to publish the wait at once, or GIL_WAIT_LATER if nobody does
 * (the take after every blocking call): that wait is published only if
 * it sleeps on gil->cond, when gil_sleeping answers 1, once; a take
 * that finds the GIL free is over before anyone could see it wait, and
 * publishing it cost each blocking call a third of the hooks' work.
 * 0: no wait (the holder, in drop_gil).
 * gil_released (signal(cond)): 1 when t let it go.
 * gil_acquired (signal(switch_cond)): 0 when t held it already, else
 * GIL_TOOK with GIL_WAITED when a wait ended (described in *w, for the
 * real-time budget the hook charges), GIL_SLEPT when that wait slept on
 * gil->cond (only such a wait is contended, and blamed on holders),
 * GIL_UNPUBLISHED when it was never published.  The hook ends
 * the wait, publishes the hold, then calls gil_took_name, which re-reads
 * threading's name when due (t holds the GIL: its thread state is still).
 */
#define GIL_TOOK	0x1
#define GIL_WAITED	0x2
#define GIL_SLEPT	0x4
#define GIL_UNPUBLISHED	0x8

#define GIL_WAIT_NOW	1
#define GIL_WAIT_LATER	2

int	gil_mutex_locking(struct thread *, uintptr_t site);
struct gil_waited {
	uint64_t	ns;	/* how long */
	pid_t		holder;	/* who held it most meanwhile (0: unknown) */
	int		site;	/* at which blame site (-1: unknown) */
};

int	gil_acquired(struct thread *, struct gil_waited *w);
void	gil_took_name(struct thread *);
int	gil_released(struct thread *);
int	gil_sleeping(struct thread *);		/* wait(cond): contended */
void	gil_wait_timed_out(struct thread *);	/* timedwait(cond) timeout */

/*
 * threading's name of t read now from interpreter memory, from any
 * thread (for dumps: a name set since t last took the GIL shows): 0,
 * or -1 when it cannot be read.
 */
int	gil_thread_name(struct thread *t, char *buf, size_t len);

/*
 * t's thread state, for reading its frames from any thread: the one it
 * held the GIL with last, while that still names t's thread, else
 * found by a search of the interpreters' thread lists (which costs a
 * read per thread: the cached one keeps reading every thread's frames
 * linear in the number of threads).  0, or -1 when t has none.
 */
int	gil_thread_tstate(struct thread *t, uintptr_t *ts);

/*
 * On a free-threaded build (no GIL), t's thread state's state, read now:
 * PY_TS_* (py.h), the numbers of enum gw_py_state; UNKNOWN elsewhere or
 * when t has no thread state.
 */
int	gil_thread_py_state(struct thread *t);

/* t's Python frames, as py_tstate_frames gives them; -1 when none. */
int	gil_thread_frames(struct thread *t, struct py_frame *out, int max);

/*
 * What t's Python code waits on (py_thread_wait), from its frames f[0..n)
 * read while t was in wait w (a copy of t->wait): 0 with *pw filled, or
 * -1 (PY_WAIT_NONE).  A notify counts only while t waits on a semaphore
 * it took itself, Condition.wait's private lock: frames read without
 * the GIL may show a Condition.wait t has left or not yet blocked in.
 */
struct waitinfo;
struct py_wait;
int	gil_thread_wait(struct thread *t, const struct waitinfo *w,
	    const struct py_frame *f, int n, struct py_wait *pw);

/* t is ending: close its GIL interval; 1 when it still held the GIL. */
int	gil_thread_exit(struct thread *);

/* The process-wide picture; cheap, callable from any thread. */
void	gil_summary(struct gil_summary *);

/*
 * A thread's GIL hold and wait times so far, including the interval in
 * progress (ticks).
 */
void	gil_thread_totals(struct thread *, uint64_t *hold, uint64_t *wait);

/*
 * Histograms of wait and hold times (hist.h: log-linear, 8 buckets per
 * power of two) and the longest of each, in ns, exact: every wait and
 * every hold is timed.
 */
void	gil_histograms(uint64_t wait[HIST_BUCKETS], uint64_t hold[HIST_BUCKETS],
	    uint64_t *wait_max, uint64_t *hold_max);

/* The sums (ns) of the waits and holds the histograms count. */
void	gil_hist_sums(uint64_t *wait_sum, uint64_t *hold_sum);

/*
 * The GIL's longest hold (ns), the one figure for it everywhere: the
 * lock table times the GIL's holds as it times other locks' (1 in
 * hold_sample when taken without a wait, from the lock table's own
 * hooks), so its maximum could miss the longest hold; it shows this one.
 */
uint64_t	gil_hold_max_ns(void);

/* Nanoseconds since tracking started (start-up or fork). */
uint64_t	gil_uptime_ns(void);

/*
 * Threads that ended after taking the GIL keep their numbers here, for
 * the report at exit.  At most GIL_DEPARTED_MAX, the rest are summed
 * into the last entry (tid 0, "others").
 */
#define GIL_DEPARTED_MAX	1024

struct gil_departed {
	pid_t		 tid;
	char		 name[64];	/* thread_name(): threading's names
					   are longer than the kernel's */
	uint64_t	 hold, wait, acquired, wait_max;	/* ns */
	uint64_t	 hist[HIST_BUCKETS];
	int		 rt_policy, rt_priority;	/* rtbudget.h */
};

/* The idx-th departed thread, or NULL past the end. */
const struct gil_departed	*gil_departed(unsigned idx);

/* Zero the statistics (gilwatch top's reset). */
void	gil_reset(void);

/* Fork child: the GIL's accounting starts over for the new process. */
void	gil_after_fork_child(void);

#endif /* GW_GIL_H */
