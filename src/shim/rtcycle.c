/* Real-time cycles and their budget: see rtcycle.h. */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "gil.h"
#include "guard.h"
#include "maxval.h"
#include "out.h"
#include "rtbudget.h"
#include "rtcycle.h"
#include "thread.h"
#include "share.h"

/* A cycle over its budget, kept with its details. */
struct cmiss {
	pid_t		 tid;
	int		 policy, prio;
	uint64_t	 ns, gil_ns, lock_ns, budget_ns;
	unsigned	 gil_waits, lock_waits;
	char		 name[THREAD_PYNAME_MAX];
	struct rt_culprit by;	/* who made it wait most */
	atomic_int	 ready;
};

static GW_SHARED struct cmiss kept[RT_KEPT];
static GW_SHARED atomic_uint nkept;
static GW_SHARED _Atomic uint64_t ncycles, nmisses, miss_max, last_budget;

/* Said once by the wrapper: "JACK process callback", 256, 48000. */
static GW_SHARED char source[48];
static GW_SHARED atomic_uint src_frames, src_rate;
static GW_SHARED atomic_int src_said;

void
rt_cycle_source(const char *what, unsigned frames, unsigned rate)
{
	if (atomic_exchange(&src_said, 1) == 0)
		snprintf(source, sizeof source, "%s", what);
	atomic_store(&src_frames, frames);
	atomic_store(&src_rate, rate);
}

void
rt_cycle_begin(struct thread *t, struct rt_cycle *c, uint64_t budget_ns)
{
	memset(c, 0, sizeof *c);
	/* --rt-budget=MS overrides the period. */
	c->budget_ns = rt_budget_ns != 0 ? rt_budget_ns : budget_ns;
	t->rt_cycle = c;
}

/* Add ns to the holder's share of the cycle's waits. */
static void
charge(struct rt_cycle *c, pid_t tid, int gil, int site,
    const struct py_site *py, uintptr_t addr, int kind, uint64_t ns)
{
	int i;

	for (i = 0; i < c->nby; i++)
		if (c->by[i].tid == tid && c->by[i].gil == gil &&
		    c->by[i].site == site && c->by[i].addr == addr)
			break;
	if (i == c->nby) {
		if (c->nby == RT_CYCLE_HOLDERS)
			return;		/* the four first tell the story */
		c->nby++;
		c->by[i].tid = tid;
		c->by[i].gil = gil;
		c->by[i].site = site;
		c->by[i].addr = addr;
		c->by[i].kind = kind;
		c->by[i].ns = 0;
		if (py != NULL)
			c->by[i].py = *py;
		else
			memset(&c->by[i].py, 0, sizeof c->by[i].py);
	}
	c->by[i].ns += ns;
}

void
rt_cycle_gil_wait(struct thread *t, uint64_t ns, pid_t holder, int site)
{
	struct rt_cycle *c = t->rt_cycle;

	c->gil_ns += ns;
	c->gil_waits++;
	charge(c, holder, 1, site, NULL, 0, GW_LOCK_GIL, ns);
}

void
rt_cycle_lock_wait(struct thread *t, uint64_t ticks)
{
	struct rt_cycle *c = t->rt_cycle;
	struct py_site ps;
	uint64_t ns;
	pid_t owner;

	if (rt_lock_holder(t, &owner, &ps) == -1)
		return;
	ns = (uint64_t)(clock_ticks_to_ms(ticks) * 1e6);
	c->lock_ns += ns;
	c->lock_waits++;
	charge(c, owner, 0, -1, &ps, t->wait.addr, t->wait.kind, ns);
}

/* The holder that made the cycle wait most, and its line, into m. */
static void
name_culprit(struct cmiss *m, const struct rt_cycle *c)
{
	int i, w = 0;

	for (i = 1; i < c->nby; i++)
		if (c->by[i].ns > c->by[w].ns)
			w = i;
	if (c->by[w].gil)
		rt_culprit_gil(&m->by, c->by[w].tid, c->by[w].site);
	else
		rt_culprit_lock(&m->by, c->by[w].addr, c->by[w].kind,
		    c->by[w].tid, &c->by[w].py, 0, gil_runtime());
}

void
rt_cycle_end(struct thread *t, struct rt_cycle *c)
{
	uint64_t total = c->gil_ns + c->lock_ns;
	struct cmiss *m;
	unsigned i;
	int saved;

	t->rt_cycle = NULL;
	atomic_fetch_add_explicit(&ncycles, 1, memory_order_relaxed);
	atomic_store_explicit(&last_budget, c->budget_ns,
	    memory_order_relaxed);
	if (c->budget_ns == 0 || total <= c->budget_ns)
		return;
	atomic_fetch_add(&nmisses, 1);
	raise_max(&miss_max, total);
	if (atomic_load(&nkept) >= RT_KEPT ||
	    (i = atomic_fetch_add(&nkept, 1)) >= RT_KEPT) {
		atomic_store(&nkept, RT_KEPT);
		return;
	}
	saved = errno;
	thread_enter_shim();
	m = &kept[i];
	m->tid = atomic_load(&t->tid);
	m->policy = rt_policy(0, &m->prio);
	m->ns = total;
	m->gil_ns = c->gil_ns;
	m->lock_ns = c->lock_ns;
	m->gil_waits = c->gil_waits;
	m->lock_waits = c->lock_waits;
	m->budget_ns = c->budget_ns;
	rt_thread_name(t, m->name, sizeof m->name);
	name_culprit(m, c);
	atomic_store(&m->ready, 1);
	thread_leave_shim();
	errno = saved;
}

static void
cmiss_text(struct out *o, const struct cmiss *m)
{
	out_printf(o, "    \"%s\" %d (%s %d) waited %.3f ms in one cycle "
	    "(GIL %.3f ms in %u waits, locks %.3f ms in %u), most",
	    m->name, (int)m->tid, rt_policy_name(m->policy), m->prio,
	    (double)m->ns / 1e6, (double)m->gil_ns / 1e6, m->gil_waits,
	    (double)m->lock_ns / 1e6, m->lock_waits);
	rt_culprit_text(o, &m->by, -1, m->budget_ns);
}

static void
cmiss_json(struct out *o, const struct cmiss *m)
{
	out_printf(o, "{\"tid\":%d,\"name\":", (int)m->tid);
	out_json_str(o, m->name);
	out_printf(o, ",\"policy\":\"%s\",\"priority\":%d,\"us\":%.3f,"
	    "\"gil_us\":%.3f,\"gil_waits\":%u,\"lock_us\":%.3f,"
	    "\"lock_waits\":%u,\"budget_us\":%.3f",
	    rt_policy_name(m->policy), m->prio, (double)m->ns / 1e3,
	    (double)m->gil_ns / 1e3, m->gil_waits, (double)m->lock_ns / 1e3,
	    m->lock_waits, (double)m->budget_ns / 1e3);
	rt_culprit_json(o, &m->by, -1);
}

/* A miss with its threads named (rt_names_fill), into a copy: reports
 * read kept misses concurrently. */
static const struct cmiss *
cmiss_names(const struct cmiss *m, struct cmiss *copy)
{
	*copy = *m;
	rt_names_fill(copy->tid, copy->name, sizeof copy->name, &copy->by);
	return copy;
}

void
rt_cycle_report(struct out *o, enum gw_format fmt)
{
	struct cmiss copy;
	uint64_t n = atomic_load(&ncycles), miss = atomic_load(&nmisses);
	double budget = (double)atomic_load(&last_budget);
	unsigned i, k = atomic_load(&nkept), frames, rate;
	int first = 1;

	if (n == 0)
		return;
	frames = atomic_load(&src_frames);
	rate = atomic_load(&src_rate);
	if (fmt == GW_FORMAT_JSON) {
		out_puts(o, ",\"rt_cycles\":{\"source\":");
		out_json_str(o, source);
		out_printf(o, ",\"frames\":%u,\"rate\":%u,\"budget_us\":%.3f,"
		    "\"from\":\"%s\",\"cycles\":%llu,\"misses\":%llu,"
		    "\"max_us\":%.3f,\"kept\":[", frames, rate, budget / 1e3,
		    rt_budget_ns != 0 ? "rt-budget" : "period",
		    (unsigned long long)n, (unsigned long long)miss,
		    (double)atomic_load(&miss_max) / 1e3);
		for (i = 0; i < k; i++) {
			if (!atomic_load(&kept[i].ready))
				continue;
			out_puts(o, first ? "" : ",");
			first = 0;
			cmiss_json(o, cmiss_names(&kept[i], &copy));
		}
		out_puts(o, "]}");
		return;
	}
	out_printf(o, "\n  real-time cycles of the %s", source);
	if (frames != 0 && rate != 0)
		out_printf(o, " (%u frames at %u Hz)", frames, rate);
	out_printf(o, ": %llu cycles, %llu whose GIL and lock waits added "
	    "up to more than the budget, %.3f ms (%s)",
	    (unsigned long long)n, (unsigned long long)miss, budget / 1e6,
	    rt_budget_ns != 0 ? "--rt-budget" : "the period");
	if (miss > 0)
		out_printf(o, "; longest %.3f ms",
		    (double)atomic_load(&miss_max) / 1e6);
	out_puts(o, "\n");
	for (i = 0; i < k; i++)
		if (atomic_load(&kept[i].ready))
			cmiss_text(o, cmiss_names(&kept[i], &copy));
	if (miss > k)
		out_printf(o, "    (%llu more not listed)\n",
		    (unsigned long long)(miss - k));
}

uint64_t
rt_cycles_seen(void)
{
	return atomic_load(&ncycles);
}

void
rt_cycle_reset(void)
{
	unsigned i;

	for (i = 0; i < RT_KEPT; i++)
		atomic_store(&kept[i].ready, 0);
	atomic_store(&nkept, 0);
	atomic_store(&ncycles, 0);
	atomic_store(&nmisses, 0);
	atomic_store(&miss_max, 0);
}
