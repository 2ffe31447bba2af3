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
#include "rtbudget.h"
#include "rtpolicy.h"
#include "thread.h"
#include "trace.h"

uint64_t rt_budget_ns, rt_budget_ticks;

struct miss {
	pid_t		 tid;
	int		 policy, prio;
	uint64_t	 ns;
	char		 name[THREAD_PYNAME_MAX];
	struct rt_culprit by;
	atomic_int	 ready;
};

static struct miss kept[RT_KEPT];
static atomic_uint nkept;
static _Atomic uint64_t misses_gil, misses_lock, miss_max;

void
rt_init(double ms)
{
	rt_budget_ns = ms > 0 ? (uint64_t)(ms * 1e6) : 0;
	rt_budget_ticks = ms > 0 ? clock_ms_to_ticks(ms) : 0;
}

/*
 * A thread's threading name: the one it last read itself at a GIL
 * marker, else read now.  A thread that has held the GIL only at
 * markers before its bootstrap frames existed (a short one, often the
 * holder of a real-time miss) has no name kept yet.  A thread without
 * one (C code, libjack's process thread) goes by its OS name.
 */
void
rt_thread_name(struct thread *t, char *buf, size_t len)
{
	int saved = errno;	/* called from hooks */

	if (thread_pyname(t, buf, len) == -1 &&
	    gil_thread_name(t, buf, len) == -1)
		thread_name(t, buf, len);
	errno = saved;
}

/*
 * Count a miss (and mark it in the trace); the slot to fill in, or NULL
 * once RT_KEPT are kept.
 */
static struct miss *
miss_begin(struct thread *t, uint64_t ns, int is_gil, pid_t holder)
{
	struct miss *m;
	unsigned i;
	int policy, prio;

	policy = rt_policy(0, &prio);
	if (!rt_is_realtime(policy))
		return NULL;
	atomic_fetch_add(is_gil ? &misses_gil : &misses_lock, 1);
	raise_max(&miss_max, ns);
	if (trace_on)
		trace_mark(TRACE_RT_MISS, atomic_load(&t->tid), ns, holder,
		    is_gil);
	if ((i = atomic_fetch_add(&nkept, 1)) >= RT_KEPT) {
		atomic_store(&nkept, RT_KEPT);
		return NULL;
	}
	m = &kept[i];
	m->tid = atomic_load(&t->tid);
	m->policy = policy;
	m->prio = prio;
	m->ns = ns;
	rt_thread_name(t, m->name, sizeof m->name);
	return m;
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
	struct thread *o = NULL;

	*owner = 0;
	ps->code = 0;
	ps->addr = -1;
	if (rec == NULL)
		return 0;
	if ((o = (struct thread *)atomic_load(&rec->owner_thread)) == t)
		return -1;
	/* The owner fields still name who had it before us (a hint). */
	if (o != NULL)
		*owner = atomic_load(&o->tid);
	ps->code = atomic_load(&rec->py_code);
	ps->addr = atomic_load(&rec->py_addr);
	return 0;
}

void
rt_culprit_lock(struct rt_culprit *c, uintptr_t addr, int kind,
    pid_t owner, const struct py_site *ps, const struct py_runtime *rt)
{
	struct py_frame f;

	snprintf(c->what, sizeof c->what, "%s <0x%zx>",
	    gw_lock_kind_name(kind), (size_t)addr);
	holder_named(c, owner);
	c->where[0] = '\0';
	if (rt != NULL && ps->code != 0 && py_site_frame(rt, ps, &f) == 0)
		snprintf(c->where, sizeof c->where, "%s (%s:%d)",
		    py_frame_name(&f), f.file, f.line);
}

void
rt_gil_wait(struct thread *t, uint64_t ns, pid_t holder, int site)
{
	struct miss *m = miss_begin(t, ns, 1, holder);

	if (m == NULL)
		return;
	rt_culprit_gil(&m->by, holder, site);
	atomic_store(&m->ready, 1);
}

void
rt_lock_wait(struct thread *t, uint64_t ticks, const struct py_runtime *rt)
{
	struct py_site ps;
	struct miss *m;
	pid_t owner;

	if (rt_lock_holder(t, &owner, &ps) == -1)
		return;
	m = miss_begin(t, (uint64_t)(clock_ticks_to_ms(ticks) * 1e6), 0,
	    owner);
	if (m == NULL)
		return;
	rt_culprit_lock(&m->by, t->wait.addr, t->wait.kind, owner, &ps, rt);
	atomic_store(&m->ready, 1);
}

void
rt_culprit_text(struct out *o, const struct rt_culprit *c, uint64_t budget)
{
	out_printf(o, " for %s", c->what);
	if (c->holder != 0)
		out_printf(o, " held by \"%s\" %d", c->holder_name,
		    (int)c->holder);
	if (c->where[0] != '\0')
		out_printf(o, " at %s", c->where);
	out_printf(o, "; budget %.3f ms\n", (double)budget / 1e6);
}

void
rt_culprit_json(struct out *o, const struct rt_culprit *c)
{
	out_puts(o, ",\"what\":");
	out_json_str(o, c->what);
	out_printf(o, ",\"holder\":%d,\"holder_name\":", (int)c->holder);
	out_json_str(o, c->holder_name);
	out_puts(o, ",\"where\":");
	out_json_str(o, c->where);
	out_puts(o, "}");
}

static void
miss_text(struct out *o, const struct miss *m)
{
	out_printf(o, "    \"%s\" %d (%s %d) waited %.3f ms",
	    m->name, (int)m->tid, rt_policy_name(m->policy), m->prio,
	    (double)m->ns / 1e6);
	rt_culprit_text(o, &m->by, rt_budget_ns);
}

static void
miss_json(struct out *o, const struct miss *m)
{
	out_printf(o, "{\"tid\":%d,\"name\":", (int)m->tid);
	out_json_str(o, m->name);
	out_printf(o, ",\"policy\":\"%s\",\"priority\":%d,\"us\":%.3f",
	    rt_policy_name(m->policy), m->prio, (double)m->ns / 1e3);
	rt_culprit_json(o, &m->by);
}

void
rt_report(struct out *o, enum gw_format fmt)
{
	uint64_t g = atomic_load(&misses_gil), l = atomic_load(&misses_lock);
	unsigned i, n = atomic_load(&nkept);
	int first = 1;

	if (rt_budget_ns == 0)
		return;
	if (fmt == GW_FORMAT_JSON) {
		out_printf(o, ",\"rt_budget\":{\"budget_us\":%.3f,\"misses\":"
		    "%llu,\"gil\":%llu,\"lock\":%llu,\"max_us\":%.3f,"
		    "\"kept\":[", (double)rt_budget_ns / 1e3,
		    (unsigned long long)(g + l), (unsigned long long)g,
		    (unsigned long long)l,
		    (double)atomic_load(&miss_max) / 1e3);
		for (i = 0; i < n; i++) {
			if (!atomic_load(&kept[i].ready))
				continue;
			out_puts(o, first ? "" : ",");
			first = 0;
			miss_json(o, &kept[i]);
		}
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
	for (i = 0; i < n; i++)
		if (atomic_load(&kept[i].ready))
			miss_text(o, &kept[i]);
	if (g + l > n)
		out_printf(o, "    (%llu more not listed)\n",
		    (unsigned long long)(g + l - n));
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
rt_reset(void)
{
	unsigned i;

	for (i = 0; i < RT_KEPT; i++)
		atomic_store(&kept[i].ready, 0);
	atomic_store(&nkept, 0);
	atomic_store(&misses_gil, 0);
	atomic_store(&misses_lock, 0);
	atomic_store(&miss_max, 0);
}
