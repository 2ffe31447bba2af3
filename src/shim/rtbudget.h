/*
 * Real-time threads and their budget.  A thread scheduled SCHED_FIFO or
 * SCHED_RR (a JACK process thread, an audio callback) must not wait
 * longer than its period; `gilwatch run --rt-budget=MS`
 * (GILWATCH_RT_BUDGET) sets that budget.  Every wait for the GIL or a
 * lock longer than it, by a thread that is real-time when the wait
 * ends, is counted and kept with the thread that held what it waited
 * for and that thread's Python line, for the GIL report.
 *
 * A real-time thread's wait for a lock that a thread of normal priority
 * held is a priority inversion, counted and kept the same way for the
 * lock table.
 *
 * Whether a thread is real-time is asked of the kernel only for a wait
 * over the budget or RT_INVERSION_MIN_US (system calls, rare), and for
 * reports.
 */
#ifndef GW_RTBUDGET_H
#define GW_RTBUDGET_H

#include <stdint.h>
#include <sys/types.h>

#include "gilwatch/snapshot.h"

#define RT_KEPT		64	/* misses kept with their details */

/*
 * A priority inversion: a real-time thread waited at least this long
 * (us) for a lock (not the GIL) that a thread of normal priority held.
 * Shorter waits are not judged, so that a contended wait pays for no
 * system call (asking the scheduling of the waiter and holder), nor is
 * a wait whose holder has ended by the time it ends (its scheduling
 * can no longer be asked).
 */
#define RT_INVERSION_MIN_US	100

struct out;
struct thread;

/* The budget in ns and in clock ticks; 0: off. */
extern uint64_t	rt_budget_ns, rt_budget_ticks;

/* Lock waits at least this long (ticks) go to rt_lock_wait: the
 * shorter of the budget and RT_INVERSION_MIN_US. */
extern uint64_t	rt_lock_wait_ticks;

/* Set the budget (0: off); after clock_init. */
void	rt_init(double ms);

/*
 * A thread's scheduling policy (SCHED_*) and, in *prio, its real-time
 * priority; tid 0 is the caller.  -1 when the thread is gone.
 */
int	rt_policy(pid_t tid, int *prio);

/* SCHED_FIFO or SCHED_RR? */
int	rt_is_realtime(int policy);

/* "SCHED_FIFO", "SCHED_RR", ... */
const char	*rt_policy_name(int policy);

/*
 * The calling thread t waited ns for the GIL, mostly held by holder
 * (TID, 0: unknown) at Python line site (gil-blame.h, -1: unknown).
 * Call only when ns exceeds rt_budget_ns.
 */
void	rt_gil_wait(struct thread *t, uint64_t ns, pid_t holder, int site);

/*
 * The calling thread t waited ticks for the lock in t->wait: a budget
 * miss past the budget, a priority inversion when the lock's last owner
 * is of normal priority.  Call only when ticks exceed
 * rt_lock_wait_ticks.  rt: the interpreter (gil_runtime), to name a
 * Python lock's line; NULL: none.
 */
struct py_runtime;
void	rt_lock_wait(struct thread *t, uint64_t ticks,
	    const struct py_runtime *rt);

/* The misses so far: a section of the GIL report (nothing when the
 * budget is off). */
void	rt_report(struct out *, enum gw_format);

/* The priority inversions so far: a section of the lock table (text:
 * nothing when there was none). */
void	rt_inversion_report(struct out *, enum gw_format);

/* Budget misses for the GIL and for locks, priority inversions. */
void	rt_counts(uint64_t *gil, uint64_t *lock, uint64_t *inversions);

/* Forget the misses (gilwatch top's reset, a fork child). */
void	rt_reset(void);

#endif /* GW_RTBUDGET_H */
