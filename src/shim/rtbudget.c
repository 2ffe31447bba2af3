/* Real-time threads and their budget: see rtbudget.h. */
#include <errno.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "gil-blame.h"
#include "lock.h"
#include "maxval.h"
#include "out.h"
#include "py.h"
#include "rtbudget.h"
#include "thread.h"
#include "trace.h"

uint64_t rt_budget_ns, rt_budget_ticks;

struct miss {
	pid_t		 tid, holder;
	int		 policy, prio;
	uint64_t	 ns;
	char		 name[THREAD_PYNAME_MAX];
	char		 holder_name[THREAD_PYNAME_MAX];
	char		 what[64];	/* "the GIL", "mutex <0x...>" */
	char		 where[PY_NAME_MAX + PY_FILE_MAX + 16];
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

int
rt_policy(pid_t tid, int *prio)
{
	struct sched_param sp;
	int policy, saved = errno;

	*prio = 0;
	if ((policy = sched_getscheduler(tid)) != -1) {
		policy &= ~SCHED_RESET_ON_FORK;
		if (sched_getparam(tid, &sp) == 0)
			*prio = sp.sched_priority;
	}
	errno = saved;	/* called from hooks */
	return policy;
}

int
rt_is_realtime(int policy)
{
	return policy == SCHED_FIFO || policy == SCHED_RR;
}

const char *
rt_policy_name(int policy)
{
	switch (policy) {
	case SCHED_OTHER:
		return "SCHED_OTHER";
	case SCHED_FIFO:
		return "SCHED_FIFO";
	case SCHED_RR:
		return "SCHED_RR";
	case SCHED_BATCH:
		return "SCHED_BATCH";
	case SCHED_IDLE:
		return "SCHED_IDLE";
	default:
		return "SCHED_?";
	}
}

/*
 * A thread's threading name: the one it last read itself at a GIL
 * marker, else read now when the interpreter is known.  A thread that
 * held the GIL only before its bootstrap frames existed (a short one,
 * often the holder of a real-time miss) has no name kept yet.
 */
static void
threading_name(struct thread *t, const struct py_runtime *rt, char *buf,
    size_t len)
{
	uintptr_t ts;

	if (thread_pyname(t, buf, len) == 0 || rt == NULL)
		return;
	if (py_thread_tstate(rt, (unsigned long)t->self, 0, &ts) == -1 ||
	    py_tstate_name(rt, ts, (unsigned long)t->self, buf, len) <= 0)
		buf[0] = '\0';
}

/*
 * Count a miss (and mark it in the trace); the slot to fill in, or NULL
 * once RT_KEPT are kept.
 */
static struct miss *
miss_begin(struct thread *t, const struct py_runtime *rt, uint64_t ns,
    int is_gil, pid_t holder)
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
	threading_name(t, rt, m->name, sizeof m->name);
	return m;
}

static void
holder_named(struct miss *m, const struct py_runtime *rt, pid_t holder)
{
	struct thread *h;

	m->holder = holder;
	m->holder_name[0] = '\0';
	if (holder != 0 && (h = thread_by_tid(holder)) != NULL)
		threading_name(h, rt, m->holder_name,
		    sizeof m->holder_name);
}

void
rt_gil_wait(struct thread *t, uint64_t ns, pid_t holder, int site)
{
	struct miss *m = miss_begin(t, NULL, ns, 1, holder);

	if (m == NULL)
		return;
	snprintf(m->what, sizeof m->what, "the GIL");
	holder_named(m, NULL, holder);
	if (site >= 0)
		blame_site_name(site, m->where, sizeof m->where);
	else
		m->where[0] = '\0';
	atomic_store(&m->ready, 1);
}

void
rt_lock_wait(struct thread *t, uint64_t ticks, const struct py_runtime *rt)
{
	struct lockrec *rec = t->wait.rec;
	struct thread *owner = NULL;
	struct py_frame f;
	struct py_site ps;
	struct miss *m;

	/*
	 * A semaphore t took itself is Condition.wait's private lock: t
	 * waited for a notify, which no holder owes it.
	 */
	if (rec != NULL &&
	    (owner = (struct thread *)atomic_load(&rec->owner_thread)) == t)
		return;
	m = miss_begin(t, rt, (uint64_t)(clock_ticks_to_ms(ticks) * 1e6), 0,
	    owner != NULL ? atomic_load(&owner->tid) : 0);
	if (m == NULL)
		return;
	snprintf(m->what, sizeof m->what, "%s <0x%zx>",
	    gw_lock_kind_name(t->wait.kind), (size_t)t->wait.addr);
	m->holder = 0;
	m->holder_name[0] = m->where[0] = '\0';
	/* The owner fields still name who had it before us (a hint). */
	if (rec != NULL) {
		if (owner != NULL)
			holder_named(m, rt, atomic_load(&owner->tid));
		ps.code = atomic_load(&rec->py_code);
		ps.addr = atomic_load(&rec->py_addr);
		if (rt != NULL && ps.code != 0 &&
		    py_site_frame(rt, &ps, &f) == 0)
			snprintf(m->where, sizeof m->where, "%s (%s:%d)",
			    py_frame_name(&f), f.file, f.line);
	}
	atomic_store(&m->ready, 1);
}

static void
miss_text(struct out *o, const struct miss *m)
{
	out_printf(o, "    \"%s\" %d (%s %d) waited %.3f ms for %s",
	    m->name, (int)m->tid, rt_policy_name(m->policy), m->prio,
	    (double)m->ns / 1e6, m->what);
	if (m->holder != 0)
		out_printf(o, " held by \"%s\" %d", m->holder_name,
		    (int)m->holder);
	if (m->where[0] != '\0')
		out_printf(o, " at %s", m->where);
	out_printf(o, "; budget %.3f ms\n", (double)rt_budget_ns / 1e6);
}

static void
miss_json(struct out *o, const struct miss *m)
{
	out_printf(o, "{\"tid\":%d,\"name\":", (int)m->tid);
	out_json_str(o, m->name);
	out_printf(o, ",\"policy\":\"%s\",\"priority\":%d,\"us\":%.3f,"
	    "\"what\":", rt_policy_name(m->policy), m->prio,
	    (double)m->ns / 1e3);
	out_json_str(o, m->what);
	out_printf(o, ",\"holder\":%d,\"holder_name\":", (int)m->holder);
	out_json_str(o, m->holder_name);
	out_puts(o, ",\"where\":");
	out_json_str(o, m->where);
	out_puts(o, "}");
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
