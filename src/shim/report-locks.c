/*
 * The lock statistics table: the most contended locks with their wait
 * and hold times, the call sites that wait and hold most, and the same
 * numbers summed per lock class.  Written at exit, with a signal dump,
 * and for `gilwatch dump --locks`.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "config.h"
#include "gil.h"
#include "gilwatch/snapshot.h"
#include "lock.h"
#include "opts.h"
#include "order-report.h"
#include "out.h"
#include "report.h"
#include "rtbudget.h"
#include "monitor.h"

struct row {
	struct lockrec	*rec;		/* NULL for a class row */
	uintptr_t	 addr;
	int		 kind;
	uintptr_t	 site;		/* first seen: the class */
	unsigned	 nlocks;
	uint64_t	 acquired, contended, changes;
	uint64_t	 wait_total, wait_max, hold_total, hold_max;
	uint64_t	 cond_waits, cond_signals, cond_lost;
};

static uint64_t
key(const struct row *r, int sort)
{
	switch (sort) {
	case OPTS_SORT_HOLD:
		return r->hold_total;
	case OPTS_SORT_CONTENDED:
		return r->contended;
	case OPTS_SORT_ACQUIRED:
		return r->acquired;
	default:
		return r->wait_total;
	}
}

static int
by_key(const void *a, const void *b, void *sort)
{
	uint64_t ka = key(a, *(int *)sort), kb = key(b, *(int *)sort);

	if (ka != kb)
		return ka < kb ? 1 : -1;
	return ((const struct row *)a)->acquired <
	    ((const struct row *)b)->acquired ? 1 : -1;
}

static uint64_t
max64(uint64_t a, uint64_t b)
{
	return a > b ? a : b;
}

/* Add the record's numbers (both modes) into r. */
static void
accumulate(struct row *r, struct lockrec *rec)
{
	struct lockstat *s = &rec->stat;
	int m, gil = atomic_load(&rec->kind) == GW_LOCK_GIL;

	for (m = 0; m < 2; m++) {
		r->acquired += atomic_load(&s->m[m].acquired);
		r->contended += atomic_load(&s->m[m].contended);
		r->wait_total += atomic_load(&s->m[m].wait_total);
		r->wait_max = max64(r->wait_max, atomic_load(&s->m[m].wait_max));
		r->hold_total += atomic_load(&s->m[m].hold_total);
		if (!gil)
			r->hold_max = max64(r->hold_max,
			    atomic_load(&s->m[m].hold_max));
	}
	/*
	 * The GIL's longest hold is gil.c's, which times every hold: the
	 * table's own misses untimed holds, and bounds one by a wait that
	 * may have begun before it (stats_hold_bound).
	 */
	if (gil)
		r->hold_max = max64(r->hold_max, (uint64_t)((double)
		    gil_hold_max_ns() * clock_ticks_per_ns()));
	r->changes += atomic_load(&s->owner_changes);
	r->cond_waits += atomic_load(&s->cond_waits);
	r->cond_signals += atomic_load(&s->cond_signals);
	r->cond_lost += atomic_load(&s->cond_lost);
	r->nlocks++;
}

/* The numbers of one mode (read or write) of an rwlock, as a row. */
static void
mode_row(struct lockstat *s, int k, struct row *m)
{
	memset(m, 0, sizeof *m);
	m->acquired = atomic_load(&s->m[k].acquired);
	m->contended = atomic_load(&s->m[k].contended);
	m->wait_total = atomic_load(&s->m[k].wait_total);
	m->wait_max = atomic_load(&s->m[k].wait_max);
	m->hold_total = atomic_load(&s->m[k].hold_total);
	m->hold_max = atomic_load(&s->m[k].hold_max);
}

/* A sort key from outside, or the default. */
static int
valid_sort(int sort)
{
	return sort < OPTS_SORT_WAIT || sort > OPTS_SORT_ACQUIRED ?
	    OPTS_SORT_WAIT : sort;
}

static int
active(const struct row *r)
{
	return r->acquired > 0 || r->cond_waits > 0 || r->cond_signals > 0;
}

/* Rows per lock, and per class, each sorted.  Returns the lock count. */
static size_t
collect(struct row **locks, struct row **classes, size_t *nclasses, int sort)
{
	struct lockrec *rec = NULL;
	struct row *l, *c, r;
	size_t n = 0, nc = 0, cap = lock_table_used() + 1, i;

	l = calloc(cap, sizeof *l);
	c = calloc(cap, sizeof *c);
	if (l == NULL || c == NULL) {
		free(l);
		free(c);
		*locks = *classes = NULL;
		*nclasses = 0;
		return 0;
	}
	while ((rec = lock_next(rec)) != NULL && n < cap) {
		memset(&r, 0, sizeof r);
		r.rec = rec;
		r.addr = atomic_load(&rec->addr);
		r.kind = atomic_load(&rec->kind);
		r.site = atomic_load(&rec->first_site);
		accumulate(&r, rec);
		if (!active(&r))
			continue;
		l[n++] = r;
		for (i = 0; i < nc; i++)
			if (c[i].site == r.site && c[i].kind == r.kind)
				break;
		if (i == nc) {
			c[nc].site = r.site;
			c[nc++].kind = r.kind;
		}
		accumulate(&c[i], rec);
	}
	qsort_r(l, n, sizeof *l, by_key, &sort);
	qsort_r(c, nc, sizeof *c, by_key, &sort);
	*locks = l;
	*classes = c;
	*nclasses = nc;
	return n;
}

static double
ms(uint64_t ticks, double tpn)
{
	return (double)ticks / tpn / 1e6;
}

static double
mean_ms(uint64_t total, uint64_t n, double tpn)
{
	return n == 0 ? 0 : ms(total, tpn) / (double)n;
}

/* A duration that fits 9 columns: "812ns", "35.2us", "1.50ms", "12.3s". */
static void
text_time(struct out *o, double ms, int width)
{
	char buf[32];

	if (ms == 0)
		snprintf(buf, sizeof buf, "0");
	else if (ms < 0.001)
		snprintf(buf, sizeof buf, "%.0fns", ms * 1e6);
	else if (ms < 1)
		snprintf(buf, sizeof buf, "%.1fus", ms * 1e3);
	else if (ms < 1000)
		snprintf(buf, sizeof buf, "%.2fms", ms);
	else
		snprintf(buf, sizeof buf, "%.1fs", ms / 1e3);
	out_printf(o, "%*s", width, buf);
}

static void
text_sites(struct out *o, const char *what, struct site_stat *tab,
    double tpn)
{
	int i;

	for (i = 0; i < STATS_SITES; i++) {
		if (atomic_load(&tab[i].site) == 0)
			continue;
		out_printf(o, "    %s %8llux ", what,
		    (unsigned long long)atomic_load(&tab[i].count));
		text_time(o, ms(atomic_load(&tab[i].ticks), tpn), 9);
		out_puts(o, "  ");
		report_ip(o, atomic_load(&tab[i].site), 1, GW_FORMAT_TEXT);
		out_puts(o, "\n");
	}
}

static void
text_numbers(struct out *o, const struct row *r, double tpn)
{
	out_printf(o, "%10llu %9llu %7llu", (unsigned long long)r->acquired,
	    (unsigned long long)r->contended, (unsigned long long)r->changes);
	text_time(o, ms(r->wait_total, tpn), 12);
	text_time(o, ms(r->wait_max, tpn), 10);
	text_time(o, mean_ms(r->wait_total, r->contended, tpn), 10);
	text_time(o, ms(r->hold_total, tpn), 12);
	text_time(o, ms(r->hold_max, tpn), 10);
	text_time(o, mean_ms(r->hold_total, r->acquired, tpn), 10);
	out_puts(o, "\n");
}

static const char header[] =
    "  acquired contended changes  wait total  wait max wait mean"
    "  hold total  hold max hold mean\n";

static void
text_lock_row(struct out *o, const struct row *r, double tpn)
{
	struct lockstat *s = &r->rec->stat;
	char name[96];

	int named = report_lock_name(r->addr, name, sizeof name);

	out_printf(o, "%s <0x%zx>%s%s%s, first seen at ",
	    gw_lock_kind_name(r->kind), (size_t)r->addr, named ? " (" : "",
	    name, named ? ")" : "");
	report_ip(o, r->site, 1, GW_FORMAT_TEXT);
	out_puts(o, "\n");
	if (r->kind == GW_LOCK_COND) {
		out_printf(o, "    waits %llu, signals %llu, signals with no "
		    "waiter %llu\n", (unsigned long long)r->cond_waits,
		    (unsigned long long)r->cond_signals,
		    (unsigned long long)r->cond_lost);
		return;
	}
	out_puts(o, "   ");
	text_numbers(o, r, tpn);
	if (r->kind == GW_LOCK_RWLOCK) {
		struct row m;
		int k;

		for (k = 0; k < 2; k++) {
			mode_row(s, k, &m);
			out_puts(o, k == GW_MODE_SHARED ? "  r" : "  w");
			text_numbers(o, &m, tpn);
		}
	}
	text_sites(o, "waited", s->waiters, tpn);
	text_sites(o, "held  ", s->holders, tpn);
}

static const char *sort_names[] = { "wait", "hold", "contended", "acquired" };

static void
text_table(struct out *o, struct row *l, size_t n, struct row *c, size_t nc,
    int sort, int top, double tpn)
{
	size_t i;

	out_printf(o, "gilwatch lock statistics: pid %d, %zu lock%s in %zu "
	    "class%s, sorted by %s, top %d\n\n", (int)monitor_program(),
	    n, n == 1 ? "" : "s", nc, nc == 1 ? "" : "es",
	    sort_names[sort], top);
	if (n == 0) {
		out_puts(o, "no lock was used\n\n");
		return;
	}
	if (hold_sample > 1)
		out_printf(o, "hold times: every hold after a wait, a lock's "
		    "first %u and 1 in %u of the others timed\n"
		    "(totals are estimates; GILWATCH_HOLD_SAMPLE=1 times "
		    "every hold)\n\n", hold_sample, hold_sample);
	out_puts(o, header);
	for (i = 0; i < n && i < (size_t)top; i++)
		text_lock_row(o, &l[i], tpn);
	out_puts(o, "\n");
	rt_inversion_report(o, GW_FORMAT_TEXT);
	out_printf(o, "by class (locks first seen at one place)\n%s",
	    header);
	for (i = 0; i < nc && i < (size_t)top; i++) {
		if (c[i].kind == GW_LOCK_COND)
			continue;
		out_printf(o, "%s class of %u lock%s at ",
		    gw_lock_kind_name(c[i].kind), c[i].nlocks,
		    c[i].nlocks == 1 ? "" : "s");
		report_ip(o, c[i].site, 1, GW_FORMAT_TEXT);
		out_puts(o, "\n   ");
		text_numbers(o, &c[i], tpn);
	}
	out_puts(o, "\n");
	order_report_safe(o, GW_FORMAT_TEXT);
}

static void
json_numbers(struct out *o, const struct row *r, double tpn)
{
	out_printf(o, "\"acquired\":%llu,\"contended\":%llu,"
	    "\"owner_changes\":%llu,\"wait_ms\":{\"total\":%.6f,\"max\":%.6f,"
	    "\"mean\":%.6f},\"hold_ms\":{\"total\":%.6f,\"max\":%.6f,"
	    "\"mean\":%.6f}", (unsigned long long)r->acquired,
	    (unsigned long long)r->contended, (unsigned long long)r->changes,
	    ms(r->wait_total, tpn), ms(r->wait_max, tpn),
	    mean_ms(r->wait_total, r->contended, tpn), ms(r->hold_total, tpn),
	    ms(r->hold_max, tpn), mean_ms(r->hold_total, r->acquired, tpn));
}

static void
json_sites(struct out *o, struct site_stat *tab, double tpn)
{
	int i, n = 0;

	out_puts(o, "[");
	for (i = 0; i < STATS_SITES; i++) {
		if (atomic_load(&tab[i].site) == 0)
			continue;
		out_printf(o, "%s{\"count\":%llu,\"ms\":%.6f,\"site\":",
		    n++ ? "," : "",
		    (unsigned long long)atomic_load(&tab[i].count),
		    ms(atomic_load(&tab[i].ticks), tpn));
		report_ip(o, atomic_load(&tab[i].site), 1, GW_FORMAT_JSON);
		out_puts(o, "}");
	}
	out_puts(o, "]");
}

static void
json_table(struct out *o, struct row *l, size_t n, struct row *c, size_t nc,
    int sort, int top, double tpn)
{
	struct lockstat *s;
	char name[96];
	size_t i;
	int k;

	out_printf(o, "{\"gilwatch\":1,\"pid\":%d,\"reason\":\"locks\","
	    "\"sort\":\"%s\",\"hold_sample\":%u,\"locks\":[", (int)monitor_program(),
	    sort_names[sort], hold_sample);
	for (i = 0; i < n && i < (size_t)top; i++) {
		s = &l[i].rec->stat;
		out_printf(o, "%s{\"addr\":\"0x%zx\",\"kind\":\"%s\",\"name\":",
		    i ? "," : "", (size_t)l[i].addr,
		    gw_lock_kind_name(l[i].kind));
		out_json_str(o, report_lock_name(l[i].addr, name, sizeof name) ?
		    name : NULL);
		out_puts(o, ",\"first_seen\":");
		report_ip(o, l[i].site, 1, GW_FORMAT_JSON);
		out_puts(o, ",");
		json_numbers(o, &l[i], tpn);
		for (k = 0; k < 2 && l[i].kind == GW_LOCK_RWLOCK; k++) {
			struct row m;

			mode_row(s, k, &m);
			out_puts(o, k == GW_MODE_SHARED ? ",\"read\":{" :
			    ",\"write\":{");
			json_numbers(o, &m, tpn);
			out_puts(o, "}");
		}
		out_printf(o, ",\"cond\":{\"waits\":%llu,\"signals\":%llu,"
		    "\"signals_no_waiter\":%llu},\"waiters\":",
		    (unsigned long long)l[i].cond_waits,
		    (unsigned long long)l[i].cond_signals,
		    (unsigned long long)l[i].cond_lost);
		json_sites(o, s->waiters, tpn);
		out_puts(o, ",\"holders\":");
		json_sites(o, s->holders, tpn);
		out_puts(o, "}");
	}
	out_puts(o, "],\"classes\":[");
	for (i = 0; i < nc && i < (size_t)top; i++) {
		out_printf(o, "%s{\"kind\":\"%s\",\"locks\":%u,\"site\":",
		    i ? "," : "", gw_lock_kind_name(c[i].kind), c[i].nlocks);
		report_ip(o, c[i].site, 1, GW_FORMAT_JSON);
		out_puts(o, ",");
		json_numbers(o, &c[i], tpn);
		out_puts(o, "}");
	}
	out_puts(o, "],");
	order_report_safe(o, GW_FORMAT_JSON);
	rt_inversion_report(o, GW_FORMAT_JSON);
	out_puts(o, "}\n");
}

size_t
report_locks(struct out *o, enum gw_format fmt, int sort, int top)
{
	struct row *l, *c;
	size_t n, nc;
	double tpn = clock_ticks_per_ns();

	sort = valid_sort(sort);
	n = collect(&l, &c, &nc, sort);
	if (fmt == GW_FORMAT_JSON)
		json_table(o, l, n, c, nc, sort, top, tpn);
	else
		text_table(o, l, n, c, nc, sort, top, tpn);
	free(l);
	free(c);
	return n;
}

struct lock_figures *
report_lock_figures(int sort, int top, size_t *n)
{
	struct lock_figures *f;
	struct row *l, *c;
	size_t nl, nc, i;
	double tpn = clock_ticks_per_ns();

	*n = 0;
	nl = collect(&l, &c, &nc, valid_sort(sort));
	if (nl > (size_t)top)
		nl = (size_t)top;
	if ((f = calloc(nl + 1, sizeof *f)) != NULL) {
		for (i = 0; i < nl; i++) {
			f[i].addr = l[i].addr;
			f[i].kind = l[i].kind;
			report_lock_name(l[i].addr, f[i].name,
			    sizeof f[i].name);
			f[i].acquired = l[i].acquired;
			f[i].contended = l[i].contended;
			f[i].wait_ns = (uint64_t)((double)l[i].wait_total /
			    tpn);
			f[i].hold_ns = (uint64_t)((double)l[i].hold_total /
			    tpn);
		}
		*n = nl;
	}
	free(l);
	free(c);
	return f;
}

void
report_locks_to_output(int at_exit)
{
	struct out o;
	size_t n;

	out_init(&o);
	n = report_locks(&o, config.format, config.sort, config.top);
	if (n > 0 || !at_exit || (config.format == GW_FORMAT_JSON &&
	    config.output[0] != '\0'))
		report_out_to_output(&o);
	out_free(&o);
}
