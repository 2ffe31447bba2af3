/* Real-time threads and their budget: see rtbudget.h. */
#include <errno.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "gil-blame.h"
#include "gil.h"
#include "lock.h"
#include "maxval.h"
#include "out.h"
#include "py.h"
#include "report.h"
#include "rtbudget.h"
#include "rtpolicy.h"
#include "thread.h"
#include "trace.h"
#include "share.h"

uint64_t rt_budget_ns, rt_budget_ticks, rt_lock_wait_ticks;

/* A budget miss or a priority inversion, with its details. */
struct miss {
	pid_t		 tid;
	int		 policy, prio;
	int		 holder_policy;	/* inversions: the holder's; -1 */
	uint64_t	 ns;
	char		 name[THREAD_PYNAME_MAX];
	struct rt_culprit by;
	atomic_int	 ready;
};

/* A list of misses: the first RT_KEPT in detail, all of them counted. */
struct misses {
	struct miss	 kept[RT_KEPT];
	atomic_uint	 nkept;
};

static GW_SHARED struct misses budget, inversions;
static GW_SHARED uint64_t inversion_ticks;
static GW_SHARED _Atomic uint64_t misses_gil, misses_lock, miss_max, ninversions;

void
rt_init(double ms)
{
	/* A heuristic's bound: the rough rate (clock.h) will do. */
	uint64_t inv = inversion_ticks =
	    clock_ms_to_ticks_rough(RT_INVERSION_MIN_US / 1e3);

	rt_budget_ns = ms > 0 ? (uint64_t)(ms * 1e6) : 0;
	rt_budget_ticks = ms > 0 ? clock_ms_to_ticks(ms) : 0;
	rt_lock_wait_ticks = rt_budget_ticks != 0 && rt_budget_ticks < inv ?
	    rt_budget_ticks : inv;
}

/*
 * A thread that has held the GIL only at markers before its bootstrap
 * frames existed (a short one, often the holder of a real-time miss)
 * has no name kept yet: its thread state is read.  The system's name
 * is a file in /proc: no I/O in a hook, on a real-time thread's miss;
 * rt_names_fill reads it for the report.  The name given with
 * pthread_setname_np is kept before that, for a C thread that may be
 * gone by then.
 */
void
rt_thread_name(struct thread *t, char *buf, size_t len)
{
	int saved = errno;	/* called from hooks */

	if (thread_pyname(t, buf, len) == -1 &&
	    gil_thread_name(t, buf, len) == -1)
		(void)thread_given_name(t, buf, len);
	errno = saved;
}

void
rt_names_fill(pid_t tid, char *name, size_t len, struct rt_culprit *by)
{
	if (name[0] == '\0')
		report_tid_name(tid, name, len);
	if (by->holder != 0 && by->holder_name[0] == '\0')
		report_tid_name(by->holder, by->holder_name,
		    sizeof by->holder_name);
}

/* The slot to fill in for a miss of list l by t, the caller, with its
 * scheduling; NULL once RT_KEPT are kept. */
static struct miss *
miss_slot(struct misses *l, struct thread *t, uint64_t ns, int policy,
    int prio)
{
	struct miss *m;
	unsigned i;

	if ((i = atomic_fetch_add(&l->nkept, 1)) >= RT_KEPT) {
		atomic_store(&l->nkept, RT_KEPT);
		return NULL;
	}
	m = &l->kept[i];
	m->tid = atomic_load(&t->tid);
	m->policy = policy;
	m->prio = prio;
	m->holder_policy = -1;
	m->ns = ns;
	rt_thread_name(t, m->name, sizeof m->name);
	return m;
}

/* Count a budget miss (and mark it in the trace); the slot to fill in,
 * or NULL. */
static struct miss *
miss_begin(struct thread *t, uint64_t ns, int is_gil, int policy, int prio,
    pid_t holder)
{
	atomic_fetch_add(is_gil ? &misses_gil : &misses_lock, 1);
	raise_max(&miss_max, ns);
	if (trace_on)
		trace_mark(TRACE_RT_MISS, atomic_load(&t->tid), ns, holder,
		    is_gil);
	return miss_slot(&budget, t, ns, policy, prio);
}

static void
holder_named(struct rt_culprit *c, pid_t holder)
{
	struct thread *h;

	c->holder = holder;
	c->holder_name[0] = '\0';
	if (holder != 0 && (h = thread_by_tid(holder)) != NULL)
		rt_thread_name(h, c->holder_name, sizeof c->holder_name);
}

void
rt_culprit_gil(struct rt_culprit *c, pid_t holder, int site)
{
	snprintf(c->what, sizeof c->what, "the GIL");
	c->lock = c->holder_site = 0;
	holder_named(c, holder);
	if (site >= 0)
		blame_site_name(site, c->where, sizeof c->where);
	else
		c->where[0] = '\0';
}

int
rt_lock_holder(struct thread *t, pid_t *owner, struct py_site *ps)
{
	struct lockrec *rec = t->wait.rec;

	ps->code = 0;
	ps->addr = -1;
	if (thread_wait_owner(&t->wait, t, owner) == -1)
		return -1;
	if (rec != NULL) {
		ps->code = atomic_load(&rec->py_code);
		ps->addr = atomic_load(&rec->py_addr);
	}
	return 0;
}

void
rt_culprit_lock(struct rt_culprit *c, uintptr_t addr, int kind,
    pid_t owner, const struct py_site *ps, uintptr_t owner_site,
    const struct py_runtime *rt)
{
	struct py_frame f;

	snprintf(c->what, sizeof c->what, "%s <0x%zx>",
	    gw_lock_kind_name(kind), (size_t)addr);
	c->lock = addr;
	c->holder_site = 0;
	holder_named(c, owner);
	c->where[0] = '\0';
	if (rt != NULL && ps->code != 0 && py_site_frame(rt, ps, &f) == 0)
		snprintf(c->where, sizeof c->where, "%s (%s:%d)",
		    py_frame_name(&f), f.file, f.line);
	else if (owner != 0)
		c->holder_site = owner_site;
}

void
rt_gil_wait(struct thread *t, uint64_t ns, pid_t holder, int site)
{
	struct miss *m;
	int policy, prio;

	policy = rt_policy(0, &prio);
	if (!rt_is_realtime(policy) ||
	    (m = miss_begin(t, ns, 1, policy, prio, holder)) == NULL)
		return;
	rt_culprit_gil(&m->by, holder, site);
	atomic_store(&m->ready, 1);
}

/* What t waits for (t->wait), held by owner at ps. */
static void
lock_named(struct miss *m, struct thread *t, pid_t owner,
    const struct py_site *ps, const struct py_runtime *rt)
{
	struct lockrec *rec = t->wait.rec;

	rt_culprit_lock(&m->by, t->wait.addr, t->wait.kind, owner, ps,
	    rec != NULL ? atomic_load(&rec->owner_site) : 0, rt);
}

/*
 * The holder's policy now, or as it ended: it may have released the
 * lock and ended before its waiter woke to ask (a busy machine's late
 * wake-up; the waiter's own take then follows).
 */
static int
holder_policy(pid_t owner, int *prio)
{
	int policy = rt_policy(owner, prio);

	return policy != -1 ? policy : thread_ended_policy(owner, prio);
}

void
rt_lock_wait(struct thread *t, uint64_t ticks, const struct py_runtime *rt)
{
	struct py_site ps;
	struct miss *m;
	uint64_t ns;
	pid_t owner;
	int policy, prio, hprio, hpolicy;

	if (rt_lock_holder(t, &owner, &ps) == -1)
		return;
	policy = rt_policy(0, &prio);
	if (!rt_is_realtime(policy))
		return;
	ns = (uint64_t)(clock_ticks_to_ms(ticks) * 1e6);
	if (rt_budget_ticks != 0 && ticks > rt_budget_ticks &&
	    (m = miss_begin(t, ns, 0, policy, prio, owner)) != NULL) {
		lock_named(m, t, owner, &ps, rt);
		atomic_store(&m->ready, 1);
	}
	if (owner == 0 || ticks < inversion_ticks ||
	    (hpolicy = holder_policy(owner, &hprio)) == -1 ||
	    rt_is_realtime(hpolicy))
		return;
	atomic_fetch_add(&ninversions, 1);
	if (trace_on)
		trace_mark(TRACE_PRIORITY, atomic_load(&t->tid), ns, owner, 0);
	if ((m = miss_slot(&inversions, t, ns, policy, prio)) == NULL)
		return;
	lock_named(m, t, owner, &ps, rt);
	m->holder_policy = hpolicy;
	atomic_store(&m->ready, 1);
}

/* A miss with its threads named (rt_names_fill), into a copy: reports
 * read kept misses concurrently. */
static const struct miss *
miss_names(const struct miss *m, struct miss *copy)
{
	*copy = *m;
	rt_names_fill(copy->tid, copy->name, sizeof copy->name, &copy->by);
	return copy;
}

void
rt_culprit_text(struct out *o, const struct rt_culprit *c, int holder_policy,
    uint64_t budget_ns)
{
	char name[96];

	out_printf(o, " for %s", c->what);
	if (c->lock != 0 && report_lock_name(c->lock, name, sizeof name))
		out_printf(o, " (%s)", name);
	if (c->holder != 0)
		out_printf(o, " held by \"%s\" %d", c->holder_name,
		    (int)c->holder);
	if (holder_policy != -1)
		out_printf(o, " (%s)", rt_policy_name(holder_policy));
	if (c->where[0] != '\0')
		out_printf(o, " at %s", c->where);
	else if (c->holder_site != 0) {
		out_puts(o, ", acquired at ");
		report_ip(o, c->holder_site, 1, GW_FORMAT_TEXT);
	}
	if (budget_ns != 0)
		out_printf(o, "; budget %.3f ms", (double)budget_ns / 1e6);
	out_puts(o, "\n");
}

void
rt_culprit_json(struct out *o, const struct rt_culprit *c, int holder_policy)
{
	char name[96];

	out_puts(o, ",\"what\":");
	out_json_str(o, c->what);
	out_puts(o, ",\"lock_name\":");
	out_json_str(o, c->lock != 0 && report_lock_name(c->lock, name,
	    sizeof name) ? name : NULL);
	out_printf(o, ",\"holder\":%d,\"holder_name\":", (int)c->holder);
	out_json_str(o, c->holder_name);
	if (holder_policy != -1)
		out_printf(o, ",\"holder_policy\":\"%s\"",
		    rt_policy_name(holder_policy));
	out_puts(o, ",\"where\":");
	out_json_str(o, c->where);
	if (c->where[0] == '\0' && c->holder_site != 0) {
		out_puts(o, ",\"holder_site\":");
		report_ip(o, c->holder_site, 1, GW_FORMAT_JSON);
	}
	out_puts(o, "}");
}

static void
miss_text(struct out *o, const struct miss *m)
{
	out_printf(o, "    \"%s\" %d (%s %d) waited %.3f ms",
	    m->name, (int)m->tid, rt_policy_name(m->policy), m->prio,
	    (double)m->ns / 1e6);
	/* An inversion is judged by the holder's priority, not a budget. */
	rt_culprit_text(o, &m->by, m->holder_policy,
	    m->holder_policy == -1 ? rt_budget_ns : 0);
}

static void
miss_json(struct out *o, const struct miss *m)
{
	out_printf(o, "{\"tid\":%d,\"name\":", (int)m->tid);
	out_json_str(o, m->name);
	out_printf(o, ",\"policy\":\"%s\",\"priority\":%d,\"us\":%.3f",
	    rt_policy_name(m->policy), m->prio, (double)m->ns / 1e3);
	rt_culprit_json(o, &m->by, m->holder_policy);
}

/* The kept misses of l: text lines, or JSON objects joined by ','. */
static void
misses_out(struct out *o, enum gw_format fmt, struct misses *l)
{
	const struct miss *m;
	struct miss copy;
	unsigned i, n = atomic_load(&l->nkept);
	int first = 1;

	for (i = 0; i < n; i++) {
		if (!atomic_load(&l->kept[i].ready))
			continue;
		m = miss_names(&l->kept[i], &copy);
		if (fmt == GW_FORMAT_JSON) {
			out_puts(o, first ? "" : ",");
			miss_json(o, m);
		} else
			miss_text(o, m);
		first = 0;
	}
}

static void
unlisted(struct out *o, uint64_t count, struct misses *l)
{
	unsigned n = atomic_load(&l->nkept);

	if (count > n)
		out_printf(o, "    (%llu more not listed)\n",
		    (unsigned long long)(count - n));
}

void
rt_report(struct out *o, enum gw_format fmt)
{
	uint64_t g = atomic_load(&misses_gil), l = atomic_load(&misses_lock);

	if (rt_budget_ns == 0)
		return;
	if (fmt == GW_FORMAT_JSON) {
		out_printf(o, ",\"rt_budget\":{\"budget_us\":%.3f,\"misses\":"
		    "%llu,\"gil\":%llu,\"lock\":%llu,\"max_us\":%.3f,"
		    "\"kept\":[", (double)rt_budget_ns / 1e3,
		    (unsigned long long)(g + l), (unsigned long long)g,
		    (unsigned long long)l,
		    (double)atomic_load(&miss_max) / 1e3);
		misses_out(o, fmt, &budget);
		out_puts(o, "]}");
		return;
	}
	out_printf(o, "\n  real-time budget %.3f ms: %llu waits over it by "
	    "real-time threads (GIL %llu, locks %llu)", (double)rt_budget_ns /
	    1e6, (unsigned long long)(g + l), (unsigned long long)g,
	    (unsigned long long)l);
	if (g + l > 0)
		out_printf(o, ", longest %.3f ms",
		    (double)atomic_load(&miss_max) / 1e6);
	out_puts(o, "\n");
	misses_out(o, fmt, &budget);
	unlisted(o, g + l, &budget);
}

void
rt_inversion_report(struct out *o, enum gw_format fmt)
{
	uint64_t n = atomic_load(&ninversions);

	if (fmt == GW_FORMAT_JSON) {
		out_printf(o, ",\"priority_inversions\":{\"count\":%llu,"
		    "\"kept\":[", (unsigned long long)n);
		misses_out(o, fmt, &inversions);
		out_puts(o, "]}");
		return;
	}
	if (n == 0)
		return;
	out_printf(o, "priority inversions: %llu (real-time threads waited "
	    "%.1f ms or more for a lock a normal-priority thread held)\n",
	    (unsigned long long)n, RT_INVERSION_MIN_US / 1e3);
	misses_out(o, fmt, &inversions);
	unlisted(o, n, &inversions);
	out_puts(o, "\n");
}

uint64_t
rt_misses(void)
{
	return atomic_load(&misses_gil) + atomic_load(&misses_lock);
}

int
rt_seen(void)
{
	return atomic_load(&misses_gil) + atomic_load(&misses_lock) > 0;
}

void
rt_counts(uint64_t *gil, uint64_t *lock, uint64_t *inv)
{
	*gil = atomic_load(&misses_gil);
	*lock = atomic_load(&misses_lock);
	*inv = atomic_load(&ninversions);
}

static void
misses_forget(struct misses *l)
{
	unsigned i;

	for (i = 0; i < RT_KEPT; i++)
		atomic_store(&l->kept[i].ready, 0);
	atomic_store(&l->nkept, 0);
}

void
rt_reset(void)
{
	misses_forget(&budget);
	misses_forget(&inversions);
	atomic_store(&misses_gil, 0);
	atomic_store(&misses_lock, 0);
	atomic_store(&miss_max, 0);
	atomic_store(&ninversions, 0);
}
