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
#include "out.h"
#include "py.h"
#include "report.h"
#include "rtbudget.h"
#include "thread.h"

uint64_t rt_budget_ns, rt_budget_ticks, rt_lock_wait_ticks;

/* A budget miss or a priority inversion, with its details. */
struct miss {
	pid_t		 tid, holder;
	int		 policy, prio;
	int		 holder_policy;	/* inversions: the holder's; -1 */
	uint64_t	 ns;
	char		 name[THREAD_PYNAME_MAX];
	char		 holder_name[THREAD_PYNAME_MAX];
	char		 what[64];	/* "the GIL", "mutex <0x...>" */
	uintptr_t	 lock;		/* a lock's address, named in
					   reports; 0: the GIL */
	uintptr_t	 holder_site;	/* where the holder took it, when
					   no Python line says so */
	char		 where[PY_NAME_MAX + PY_FILE_MAX + 16];
	atomic_int	 ready;
};

/* A list of misses: the first RT_KEPT in detail, all of them counted. */
struct misses {
	struct miss	 kept[RT_KEPT];
	atomic_uint	 nkept;
};

static struct misses budget, inversions;
static uint64_t inversion_ticks;
static _Atomic uint64_t misses_gil, misses_lock, miss_max, ninversions;

void
rt_init(double ms)
{
	uint64_t inv = inversion_ticks =
	    clock_ms_to_ticks(RT_INVERSION_MIN_US / 1e3);

	rt_budget_ns = ms > 0 ? (uint64_t)(ms * 1e6) : 0;
	rt_budget_ticks = ms > 0 ? clock_ms_to_ticks(ms) : 0;
	rt_lock_wait_ticks = rt_budget_ticks != 0 && rt_budget_ticks < inv ?
	    rt_budget_ticks : inv;
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

static void
raise_max(_Atomic uint64_t *p, uint64_t v)
{
	uint64_t cur = atomic_load(p);

	while (v > cur && !atomic_compare_exchange_weak(p, &cur, v))
		;
}

/*
 * A thread's threading name: the one it last read itself at a GIL
 * marker, else read now.  A thread that has held the GIL only at
 * markers before its bootstrap frames existed (a short one, often the
 * holder of a real-time miss) has no name kept yet.  Not Python: the
 * name it gave itself (pthread_setname_np), kept by the hook.
 */
static void
threading_name(struct thread *t, char *buf, size_t len)
{
	if (thread_pyname(t, buf, len) == -1 &&
	    gil_thread_name(t, buf, len) == -1)
		snprintf(buf, len, "%s", t->name);
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
	threading_name(t, m->name, sizeof m->name);
	return m;
}

/* Count a budget miss; the slot to fill in, or NULL. */
static struct miss *
miss_begin(struct thread *t, uint64_t ns, int is_gil, int policy, int prio)
{
	atomic_fetch_add(is_gil ? &misses_gil : &misses_lock, 1);
	raise_max(&miss_max, ns);
	return miss_slot(&budget, t, ns, policy, prio);
}

static void
holder_named(struct miss *m, pid_t holder)
{
	struct thread *h;

	m->holder = holder;
	m->holder_name[0] = '\0';
	if (holder != 0 && (h = thread_by_tid(holder)) != NULL)
		threading_name(h, m->holder_name, sizeof m->holder_name);
}

void
rt_gil_wait(struct thread *t, uint64_t ns, pid_t holder, int site)
{
	struct miss *m;
	int policy, prio;

	policy = rt_policy(0, &prio);
	if (!rt_is_realtime(policy) ||
	    (m = miss_begin(t, ns, 1, policy, prio)) == NULL)
		return;
	snprintf(m->what, sizeof m->what, "the GIL");
	m->lock = m->holder_site = 0;
	holder_named(m, holder);
	if (site >= 0)
		blame_site_name(site, m->where, sizeof m->where);
	else
		m->where[0] = '\0';
	atomic_store(&m->ready, 1);
}

/* What t waited for, held by owner (a hint: see rt_lock_wait), and
 * the Python line that took it. */
static void
lock_named(struct miss *m, struct thread *t, struct thread *owner,
    const struct py_runtime *rt)
{
	struct lockrec *rec = t->wait.rec;
	struct py_frame f;
	struct py_site ps;

	snprintf(m->what, sizeof m->what, "%s <0x%zx>",
	    gw_lock_kind_name(t->wait.kind), (size_t)t->wait.addr);
	m->lock = t->wait.addr;
	m->holder = 0;
	m->holder_site = 0;
	m->holder_name[0] = m->where[0] = '\0';
	/* Its record, not a look-up by TID: a holder that ended just
	 * after it let the lock go has left the registry, not its name. */
	if (owner != NULL) {
		m->holder = atomic_load(&owner->tid);
		threading_name(owner, m->holder_name, sizeof m->holder_name);
	}
	if (rec == NULL)
		return;
	ps.code = atomic_load(&rec->py_code);
	ps.addr = atomic_load(&rec->py_addr);
	if (rt != NULL && ps.code != 0 && py_site_frame(rt, &ps, &f) == 0)
		snprintf(m->where, sizeof m->where, "%s (%s:%d)",
		    py_frame_name(&f), f.file, f.line);
	else if (owner != NULL)
		m->holder_site = atomic_load(&rec->owner_site);
}

void
rt_lock_wait(struct thread *t, uint64_t ticks, const struct py_runtime *rt)
{
	struct lockrec *rec = t->wait.rec;
	struct thread *owner = NULL;
	struct miss *m;
	uint64_t ns;
	int policy, prio, hprio, hpolicy = -1;

	/*
	 * A semaphore t took itself is Condition.wait's private lock: t
	 * waited for a notify, which no holder owes it.
	 */
	if (rec != NULL &&
	    (owner = (struct thread *)atomic_load(&rec->owner_thread)) == t)
		return;
	policy = rt_policy(0, &prio);
	if (!rt_is_realtime(policy))
		return;
	ns = (uint64_t)(clock_ticks_to_ms(ticks) * 1e6);
	/* The owner fields still name who had it before us (a hint). */
	if (rt_budget_ticks != 0 && ticks > rt_budget_ticks &&
	    (m = miss_begin(t, ns, 0, policy, prio)) != NULL) {
		lock_named(m, t, owner, rt);
		atomic_store(&m->ready, 1);
	}
	if (owner == NULL || ticks < inversion_ticks ||
	    (hpolicy = rt_policy(atomic_load(&owner->tid), &hprio)) == -1 ||
	    rt_is_realtime(hpolicy))
		return;
	atomic_fetch_add(&ninversions, 1);
	if ((m = miss_slot(&inversions, t, ns, policy, prio)) == NULL)
		return;
	lock_named(m, t, owner, rt);
	m->holder_policy = hpolicy;
	atomic_store(&m->ready, 1);
}

/* The lock's variable, named now (reports may look symbols up). */
static int
lock_name(const struct miss *m, char *buf, size_t len)
{
	buf[0] = '\0';
	return m->lock != 0 && report_lock_name(m->lock, buf, len);
}

/*
 * The names of a miss's threads: read in the hook when they could be;
 * else now, when one that has ended has left its name with gil.c (a
 * holder's frames, read while it runs, may not give it: CI saw an empty
 * holder_name).  Into a copy: reports read kept misses concurrently.
 */
static const struct miss *
miss_names(const struct miss *m, struct miss *copy)
{
	*copy = *m;
	if (copy->name[0] == '\0')
		report_tid_name(copy->tid, copy->name, sizeof copy->name);
	if (copy->holder != 0 && copy->holder_name[0] == '\0')
		report_tid_name(copy->holder, copy->holder_name,
		    sizeof copy->holder_name);
	return copy;
}

static void
miss_text(struct out *o, const struct miss *m)
{
	char name[96];

	out_printf(o, "    \"%s\" %d (%s %d) waited %.3f ms for %s",
	    m->name, (int)m->tid, rt_policy_name(m->policy), m->prio,
	    (double)m->ns / 1e6, m->what);
	if (lock_name(m, name, sizeof name))
		out_printf(o, " (%s)", name);
	if (m->holder != 0)
		out_printf(o, " held by \"%s\" %d", m->holder_name,
		    (int)m->holder);
	if (m->holder_policy != -1)
		out_printf(o, " (%s)", rt_policy_name(m->holder_policy));
	if (m->where[0] != '\0')
		out_printf(o, " at %s", m->where);
	else if (m->holder_site != 0) {
		out_puts(o, ", acquired at ");
		report_ip(o, m->holder_site, 1, GW_FORMAT_TEXT);
	}
	if (m->holder_policy == -1)
		out_printf(o, "; budget %.3f ms", (double)rt_budget_ns / 1e6);
	out_puts(o, "\n");
}

static void
miss_json(struct out *o, const struct miss *m)
{
	char name[96];

	out_printf(o, "{\"tid\":%d,\"name\":", (int)m->tid);
	out_json_str(o, m->name);
	out_printf(o, ",\"policy\":\"%s\",\"priority\":%d,\"us\":%.3f,"
	    "\"what\":", rt_policy_name(m->policy), m->prio,
	    (double)m->ns / 1e3);
	out_json_str(o, m->what);
	out_puts(o, ",\"lock_name\":");
	out_json_str(o, lock_name(m, name, sizeof name) ? name : NULL);
	out_printf(o, ",\"holder\":%d,\"holder_name\":", (int)m->holder);
	out_json_str(o, m->holder_name);
	if (m->holder_policy != -1)
		out_printf(o, ",\"holder_policy\":\"%s\"",
		    rt_policy_name(m->holder_policy));
	out_puts(o, ",\"where\":");
	out_json_str(o, m->where);
	if (m->where[0] == '\0' && m->holder_site != 0) {
		out_puts(o, ",\"holder_site\":");
		report_ip(o, m->holder_site, 1, GW_FORMAT_JSON);
	}
	out_puts(o, "}");
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
