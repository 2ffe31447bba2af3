/*
 * The GIL statistics: load and contention over 1 s, 10 s and the whole
 * run, switches, wait and hold percentiles, and per thread the share of
 * wall time it held and waited for the GIL.  Written at exit under
 * `gilwatch run`, with a signal dump, and for `gilwatch dump --gil`.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "gil-blame.h"
#include "gil.h"
#include "hist.h"
#include "out.h"
#include "report.h"
#include "rtbudget.h"
#include "rtcycle.h"
#include "thread.h"
#include "monitor.h"

static const double quantiles[] = { 0.50, 0.90, 0.99 };
#define NQUANT	(sizeof quantiles / sizeof quantiles[0])

/*
 * Quantile q in microseconds: the upper edge of the log-linear bucket
 * holding it (at most 12.5% above the truth), or the exact maximum when
 * that is lower.
 */
static double
quantile_us(const uint64_t *hist, double q, uint64_t max_ns)
{
	return (double)hist_quantile(hist, q, max_ns) / 1e3;
}

static void
text_quantiles(struct out *o, const char *what, const uint64_t *hist,
    uint64_t max_ns)
{
	size_t i;

	out_printf(o, "  %-5s", what);
	for (i = 0; i < NQUANT; i++)
		out_printf(o, "  p%02.0f <= %.0f us", quantiles[i] * 100,
		    quantile_us(hist, quantiles[i], max_ns));
	out_printf(o, "  max %.1f us\n", (double)max_ns / 1e3);
}

static void
json_quantiles(struct out *o, const uint64_t *hist, uint64_t max_ns)
{
	size_t i;

	out_puts(o, "{");
	for (i = 0; i < NQUANT; i++)
		out_printf(o, "\"p%02.0f\":%.3f,", quantiles[i] * 100,
		    quantile_us(hist, quantiles[i], max_ns));
	out_printf(o, "\"max\":%.3f}", (double)max_ns / 1e3);
}

void
report_tid_name(pid_t tid, char *buf, size_t len)
{
	const struct gil_departed *d;
	struct thread *t;
	unsigned k;

	buf[0] = '\0';
	if ((t = thread_by_tid(tid)) != NULL) {
		thread_name(t, buf, len);
		return;
	}
	for (k = 0; (d = gil_departed(k)) != NULL; k++)
		if (d->tid == tid) {
			snprintf(buf, len, "%s", d->name);
			return;
		}
}

/* Real-time threads are marked with their policy and priority. */
static void
row_realtime(struct out *o, enum gw_format fmt, const struct gil_row *r)
{
	if (!rt_is_realtime(r->policy))
		return;
	if (fmt == GW_FORMAT_JSON)
		out_printf(o, ",\"realtime\":{\"policy\":\"%s\","
		    "\"priority\":%d}", rt_policy_name(r->policy), r->prio);
	else
		out_printf(o, "  real-time %s %d", rt_policy_name(r->policy),
		    r->prio);
}

static void
row_out(struct out *o, enum gw_format fmt, const struct gil_row *r,
    double up, const struct blame_view *bv, int n)
{
	int i;

	if (fmt == GW_FORMAT_JSON) {
		out_printf(o, "%s{\"tid\":%d,\"name\":", n ? "," : "",
		    (int)r->tid);
		out_json_str(o, r->name);
		out_printf(o, ",\"held_share\":%.6f,\"wait_share\":%.6f,"
		    "\"acquired\":%llu,\"wait_us\":", (double)r->hold / up,
		    (double)r->wait / up, (unsigned long long)r->acquired);
		json_quantiles(o, r->hist, r->wait_max);
		row_realtime(o, fmt, r);
		blame_report_thread(o, fmt, bv, r->tid, r->wait, report_tid_name);
		out_puts(o, "}");
		return;
	}
	out_printf(o, "%8d %-15.15s %6.1f %6.1f %9llu", (int)r->tid, r->name,
	    100.0 * (double)r->hold / up, 100.0 * (double)r->wait / up,
	    (unsigned long long)r->acquired);
	for (i = 0; i < (int)NQUANT; i++)
		out_printf(o, " %7.0f", quantile_us(r->hist, quantiles[i],
		    r->wait_max));
	out_printf(o, " %7.0f", (double)r->wait_max / 1e3);
	row_realtime(o, fmt, r);
	out_puts(o, "\n");
}

/* Taken in one quick pass right after the summary, so that the shares
 * of the time in progress add up with its load however long the
 * writing takes. */
struct gil_row *
report_gil_rows(size_t *n)
{
	const struct gil_departed *d;
	struct gil_row *rows, *r;
	struct thread *t;
	size_t cap = thread_count() + 16;
	unsigned k, i;

	*n = 0;
	for (k = 0; gil_departed(k) != NULL; k++)
		cap++;
	if ((rows = calloc(cap, sizeof *rows)) == NULL)
		return NULL;
	for (t = thread_first(); t != NULL && *n < cap; t = t->next) {
		if (!atomic_load(&t->in_use) ||
		    atomic_load(&t->gil_acquired) == 0)
			continue;
		r = &rows[(*n)++];
		gil_thread_totals(t, &r->hold, &r->wait);
		r->tid = atomic_load(&t->tid);
		r->acquired = atomic_load(&t->gil_acquired);
		r->wait_max = atomic_load(&t->gil_wait_max);
		for (i = 0; i < HIST_BUCKETS; i++)
			r->hist[i] = atomic_load(&t->gil_wait_hist[i]);
		thread_name(t, r->name, sizeof r->name);
		r->live = 1;
	}
	for (k = 0; (d = gil_departed(k)) != NULL && *n < cap; k++) {
		r = &rows[(*n)++];
		r->tid = d->tid;
		snprintf(r->name, sizeof r->name, "%s", d->name);
		r->hold = d->hold;
		r->wait = d->wait;
		r->acquired = d->acquired;
		r->wait_max = d->wait_max;
		memcpy(r->hist, d->hist, sizeof r->hist);
		r->policy = d->rt_policy;
		r->prio = d->rt_priority;
	}
	return rows;
}

/* The rows; the live ones' scheduling is asked now. */
static void
per_thread(struct out *o, enum gw_format fmt, double up,
    struct gil_row *rows, size_t n, const struct blame_view *bv)
{
	size_t i;

	if (fmt == GW_FORMAT_TEXT)
		out_puts(o, "\n     tid name             held%  wait%  acquired"
		    "  wait p50     p90     p99     max (us)\n");
	for (i = 0; i < n; i++) {
		if (rows[i].live)
			rows[i].policy = rt_policy(rows[i].tid, &rows[i].prio);
		row_out(o, fmt, &rows[i], up, bv, (int)i);
	}
}

/* Text: each thread's wait split by holders and lines. */
static void
per_thread_blame(struct out *o, const struct gil_row *rows, size_t n,
    const struct blame_view *bv)
{
	size_t i;

	if (bv == NULL)
		return;
	out_puts(o, "\n  who held the GIL while each thread waited, and at "
	    "which line:\n");
	for (i = 0; i < n; i++)
		if (rows[i].tid != 0)
			blame_report_thread(o, GW_FORMAT_TEXT, bv, rows[i].tid,
			    rows[i].wait, report_tid_name);
}

/* Real-time threads: the budget's cycles (JACK periods), then its waits. */
static void
realtime_report(struct out *o, enum gw_format fmt)
{
	rt_cycle_report(o, fmt);
	rt_report(o, fmt);
}

void
report_gil(struct out *o, enum gw_format fmt)
{
	uint64_t wh[HIST_BUCKETS], hh[HIST_BUCKETS], wmax, hmax;
	struct blame_view *bv;
	struct gil_row *rows = NULL;
	struct gil_summary s;
	double up = (double)gil_uptime_ns();
	size_t n = 0;

	gil_summary(&s);
	if (up <= 0)
		up = 1;
	if (s.present)
		rows = report_gil_rows(&n);
	if (!s.present) {
		if (fmt == GW_FORMAT_JSON) {
			out_printf(o, "{\"gilwatch\":1,\"pid\":%d,\"reason\":"
			    "\"gil\",\"present\":false,\"why\":", (int)monitor_program());
			out_json_str(o, s.why_not);
			realtime_report(o, fmt);
			out_puts(o, "}\n");
		} else {
			out_printf(o, "gilwatch: no GIL statistics: %s\n",
			    s.why_not);
			realtime_report(o, fmt);
		}
		return;
	}
	gil_histograms(wh, hh, &wmax, &hmax);
	bv = blame_view_take();
	if (fmt == GW_FORMAT_JSON) {
		out_printf(o, "{\"gilwatch\":1,\"pid\":%d,\"reason\":\"gil\","
		    "\"present\":true,\"python\":\"%s\",\"interval_us\":%lu,"
		    "\"holder\":%d,\"waiting\":%u,\"load\":{\"1s\":%.6f,"
		    "\"10s\":%.6f,\"run\":%.6f},\"contention\":{\"1s\":%.6f,"
		    "\"10s\":%.6f,\"run\":%.6f},\"switches\":%llu,"
		    "\"forced\":%llu,\"seconds\":%.6f,\"wait_us\":",
		    (int)monitor_program(), s.version, s.interval_us, (int)s.holder,
		    s.waiting, s.load_1s, s.load_10s, s.load_all,
		    s.contention_1s, s.contention_10s, s.contention_all,
		    (unsigned long long)s.switches,
		    (unsigned long long)s.forced, up / 1e9);
		json_quantiles(o, wh, wmax);
		out_puts(o, ",\"hold_us\":");
		json_quantiles(o, hh, hmax);
		blame_report_sites(o, fmt);
		realtime_report(o, fmt);
		out_puts(o, ",\"threads\":[");
		per_thread(o, fmt, up, rows, n, bv);
		out_puts(o, "]}\n");
		blame_view_free(bv);
		free(rows);
		return;
	}
	out_printf(o, "gilwatch GIL statistics: pid %d, CPython %s, switch "
	    "interval %.1f ms, %.1f s tracked\n", (int)monitor_program(), s.version,
	    (double)s.interval_us / 1e3, up / 1e9);
	out_printf(o, "  load        1s %5.1f%%  10s %5.1f%%  run %5.1f%%\n",
	    100 * s.load_1s, 100 * s.load_10s, 100 * s.load_all);
	out_printf(o, "  contention  1s %5.1f%%  10s %5.1f%%  run %5.1f%%\n",
	    100 * s.contention_1s, 100 * s.contention_10s,
	    100 * s.contention_all);
	out_printf(o, "  switches %llu (%.0f/s), forced drop requests %llu\n",
	    (unsigned long long)s.switches, (double)s.switches / (up / 1e9),
	    (unsigned long long)s.forced);
	text_quantiles(o, "wait", wh, wmax);
	text_quantiles(o, "hold", hh, hmax);
	per_thread(o, fmt, up, rows, n, bv);
	blame_report_sites(o, fmt);
	per_thread_blame(o, rows, n, bv);
	realtime_report(o, fmt);
	out_puts(o, "\n");
	blame_view_free(bv);
	free(rows);
}

void
report_gil_to_output(void)
{
	struct gil_summary s;
	struct out o;

	gil_summary(&s);
	/* Without a GIL, only to say a free-threaded CPython has none, or
	 * for a real-time thread's misses (C JACK). */
	if (!s.present && !s.free_threaded && !rt_seen() &&
	    rt_cycles_seen() == 0)
		return;
	out_init(&o);
	report_gil(&o, config.format);
	report_out_to_output(&o);
	out_free(&o);
}
