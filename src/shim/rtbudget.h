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
#include "py.h"
#include "rtpolicy.h"
#include "thread.h"

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
 * A thread's name, for a hook, from memory only: threading's, the one
 * it last read itself at a GIL marker, else read now from its thread
 * state; else the name the program gave it (pthread_setname_np); else
 * "" (libjack's process thread), for rt_names_fill to name when the
 * report is written.
 */
void	rt_thread_name(struct thread *t, char *buf, size_t len);

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
void	rt_lock_wait(struct thread *t, uint64_t ticks,
	    const struct py_runtime *rt);

/*
 * What a miss waited for ("the GIL", "mutex <0x...>"), the thread that
 * held it (0: unknown) and that thread's Python line: shared by the
 * waits' misses and the cycles' (rtcycle.h).
 */
struct rt_culprit {
	pid_t		 holder;
	char		 holder_name[THREAD_PYNAME_MAX];
	char		 what[64];
	char		 where[PY_NAME_MAX + PY_FILE_MAX + 16];
	uintptr_t	 lock;		/* a lock's address, named in
					   reports; 0: the GIL */
	uintptr_t	 holder_site;	/* where the holder took it, when
					   no Python line says so */
};

/*
 * At report time, the names a hook left empty: the waiter's (TID tid,
 * into name) and by's holder's, as report_tid_name gives them (the
 * system's name of a live thread, the one kept of a thread gone).
 */
void	rt_names_fill(pid_t tid, char *name, size_t len,
	    struct rt_culprit *by);

/* The GIL, held by holder (0: unknown) at blame site (-1: unknown). */
void	rt_culprit_gil(struct rt_culprit *, pid_t holder, int site);

/*
 * The lock t waits for (t->wait): -1 when t took it itself (a
 * semaphore of Condition.wait's: t waited for a notify, which no
 * holder owes it); else 0, with the last owner's TID in *owner (0:
 * unknown; a hint) and the Python line it took the lock at in *ps.
 */
int	rt_lock_holder(struct thread *t, pid_t *owner, struct py_site *ps);

/* A lock at addr of kind, held by owner at ps (named through rt), or
 * at native call site owner_site (0: unknown) when ps names no line. */
void	rt_culprit_lock(struct rt_culprit *, uintptr_t addr, int kind,
	    pid_t owner, const struct py_site *ps, uintptr_t owner_site,
	    const struct py_runtime *rt);

/* " for WHAT (VAR) held by ... (POLICY) at ...; budget B ms\n":
 * holder_policy -1 and budget_ns 0 leave their parts out. */
void	rt_culprit_text(struct out *, const struct rt_culprit *,
	    int holder_policy, uint64_t budget_ns);

/* ,"what":..,"lock_name":..,"holder":..,"holder_name":..,"where":..}
 * closing a miss; "holder_policy" unless -1. */
void	rt_culprit_json(struct out *, const struct rt_culprit *,
	    int holder_policy);

/* The misses so far: a section of the GIL report (nothing when the
 * budget is off; the cycles' own section is rtcycle.h's). */
void	rt_report(struct out *, enum gw_format);

/* Any miss seen? */
int	rt_seen(void);

/* Misses so far, GIL and locks together (for gilwatch top). */
uint64_t	rt_misses(void);

/* The priority inversions so far: a section of the lock table (text:
 * nothing when there was none). */
void	rt_inversion_report(struct out *, enum gw_format);

/* Budget misses for the GIL and for locks, priority inversions. */
void	rt_counts(uint64_t *gil, uint64_t *lock, uint64_t *inversions);

/* Forget the misses (gilwatch top's reset, a fork child). */
void	rt_reset(void);

#endif /* GW_RTBUDGET_H */
