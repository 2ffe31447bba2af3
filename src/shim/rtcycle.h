/*
 * Real-time cycles: a callback that must finish within a period (a
 * JACK process callback, jack.c) is bracketed by rt_cycle_begin and
 * rt_cycle_end on its own thread.  Every wait for the GIL or a lock that
 * thread makes in between is summed; a cycle whose waits add up to more
 * than its budget is a miss, counted and kept (up to RT_KEPT) with the
 * thread that held what it waited for most and that holder's Python
 * line, for the GIL report.  The budget is the period (frames / sample
 * rate), or --rt-budget=MS when given.
 *
 * Outside a cycle (t->rt_cycle NULL) nothing here runs.
 */
#ifndef GW_RTCYCLE_H
#define GW_RTCYCLE_H

#include <stdint.h>
#include <sys/types.h>

#include "gilwatch/snapshot.h"
#include "py.h"

#define RT_CYCLE_HOLDERS	4	/* holders told apart in one cycle */

struct out;
struct thread;

/* The waits of one cycle, on the stack of the callback's wrapper. */
struct rt_cycle {
	uint64_t	 budget_ns;
	uint64_t	 gil_ns, lock_ns;
	unsigned	 gil_waits, lock_waits;
	struct {
		pid_t		 tid;		/* 0: unknown */
		int		 gil;		/* the GIL, or a lock */
		int		 site;		/* GIL: blame site, -1 */
		struct py_site	 py;		/* lock: its holder's line */
		uintptr_t	 addr;		/* lock: which */
		int		 kind;
		uint64_t	 ns;
	}		 by[RT_CYCLE_HOLDERS];
	int		 nby;
};

/*
 * Where the period comes from, said once per process by the wrapper
 * that knows it (frames per period and rate; 0 when not known).
 */
void	rt_cycle_source(const char *what, unsigned frames, unsigned rate);

/* The calling thread t starts a cycle of budget_ns (0: the period's
 * budget unknown, only counted). */
void	rt_cycle_begin(struct thread *t, struct rt_cycle *c,
	    uint64_t budget_ns);

/* ... and ends it. */
void	rt_cycle_end(struct thread *t, struct rt_cycle *c);

/* In a cycle, t waited ns for the GIL, held mostly by holder (0:
 * unknown) at blame site (-1: unknown). */
void	rt_cycle_gil_wait(struct thread *t, uint64_t ns, pid_t holder,
	    int site);

/* In a cycle, t waited ticks for the lock in t->wait. */
void	rt_cycle_lock_wait(struct thread *t, uint64_t ticks);

/* The cycles so far: a section of the GIL report (nothing when no
 * cycle was seen). */
void	rt_cycle_report(struct out *, enum gw_format);

/* How many cycles so far. */
uint64_t	rt_cycles_seen(void);

/* Forget them (a fork child, gilwatch top's reset). */
void	rt_cycle_reset(void);

#endif /* GW_RTCYCLE_H */
