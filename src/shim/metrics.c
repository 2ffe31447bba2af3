/* Prometheus metrics in a file for node_exporter: see metrics.h. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "gil.h"
#include "hist.h"
#include "lock.h"
#include "metrics.h"
#include "share.h"
#include "msg.h"
#include "order.h"
#include "out.h"
#include "report.h"
#include "rtbudget.h"
#include "thread.h"
#include "monitor.h"

static char path[512];
static uint64_t interval_ns, next_ns;	/* next_ns 0: not yet timed */
static int written, said_failure;
static GW_SHARED atomic_uint ntmp;	/* temporary files so far, the
					   program's and the monitor's */
static atomic_int pid;			/* of the file being written */
static char le[HIST_BUCKETS][24];	/* histograms' bucket bounds */
static pthread_once_t le_once = PTHREAD_ONCE_INIT;

void
metrics_init(const char *p, int interval_s)
{
	if (p == NULL || p[0] == '\0')
		return;
	snprintf(path, sizeof path, "%s", p);
	interval_ns = (uint64_t)(interval_s > 0 ? interval_s : 1) *
	    1000000000ull;
	next_ns = 0;
}

/* "# HELP" and "# TYPE" of a family, before its samples. */
static void
family(struct out *o, const char *name, const char *type, const char *help)
{
	out_printf(o, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* Open a sample: its name and the pid label every series carries. */
static void
begin(struct out *o, const char *name, const char *suffix)
{
	/* Per sample: out_puts, not out_printf (most of a file). */
	out_puts(o, name);
	out_puts(o, suffix);
	out_puts(o, "{pid=\"");
	out_putu(o, (uint64_t)atomic_load_explicit(&pid, memory_order_relaxed));
	out_puts(o, "\"");
}

/*
 * A label, its value escaped as the format wants (\\, \", \n); a name
 * read from a thread may hold any byte, and a value must be UTF-8:
 * other bytes become '?'.
 */
static void
label(struct out *o, const char *key, const char *value)
{
	const unsigned char *s = (const unsigned char *)value;
	char seq[5];
	size_t n;

	out_printf(o, ",%s=\"", key);
	while (*s != '\0') {
		if (*s == '\\' || *s == '"')
			out_printf(o, "\\%c", *s++);
		else if (*s == '\n') {
			out_puts(o, "\\n");
			s++;
		} else if ((n = out_utf8_len(s)) == 0) {
			out_puts(o, "?");
			s++;
		} else {
			memcpy(seq, s, n);
			seq[n] = '\0';
			out_puts(o, seq);
			s += n;
		}
	}
	out_puts(o, "\"");
}

static void
end_u(struct out *o, uint64_t v)
{
	out_puts(o, "} ");
	out_putu(o, v);
	out_puts(o, "\n");
}

static void
end_d(struct out *o, double v)
{
	out_printf(o, "} %.9g\n", v);
}

/* A family of one sample with the pid label only. */
static void
single(struct out *o, const char *name, const char *type, const char *help,
    double v)
{
	family(o, name, type, help);
	begin(o, name, "");
	end_d(o, v);
}

/* The bounds of the buckets as labels, in seconds: the same in every
 * file, formatted once. */
static void
le_init(void)
{
	unsigned b;

	for (b = 0; b < HIST_BUCKETS - 1; b++)
		snprintf(le[b], sizeof le[b], "%.9g",
		    (double)hist_high(b) / 1e9);
}

/* A log-linear histogram (hist.h), cumulative, in seconds. */
static void
histogram(struct out *o, const char *name, const char *help,
    const uint64_t *h, uint64_t sum_ns)
{
	uint64_t n = 0;
	unsigned b;

	family(o, name, "histogram", help);
	pthread_once(&le_once, le_init);
	for (b = 0; b < HIST_BUCKETS - 1; b++) {
		n += h[b];
		begin(o, name, "_bucket");
		out_puts(o, ",le=\"");
		out_puts(o, le[b]);
		out_puts(o, "\"");
		end_u(o, n);
	}
	n += h[HIST_BUCKETS - 1];
	begin(o, name, "_bucket");
	out_puts(o, ",le=\"+Inf\"");
	end_u(o, n);
	begin(o, name, "_sum");
	end_d(o, (double)sum_ns / 1e9);
	begin(o, name, "_count");
	end_u(o, n);
}

/*
 * A family of one uint64_t field of each row (struct gil_row, struct
 * lock_figures), nanoseconds written as seconds when ns is set.
 */
struct figure {
	const char	*name, *help;
	size_t		 off;
	int		 ns;
};

static const struct figure thread_families[] = {
	{ "gilwatch_thread_gil_hold_seconds_total",
	  "Time the thread held the GIL.", offsetof(struct gil_row, hold), 1 },
	{ "gilwatch_thread_gil_wait_seconds_total",
	  "Time the thread waited for the GIL.",
	  offsetof(struct gil_row, wait), 1 },
	{ "gilwatch_thread_gil_acquisitions_total",
	  "Times the thread took the GIL.",
	  offsetof(struct gil_row, acquired), 0 },
	{ NULL, NULL, 0, 0 }
};

static const struct figure lock_families[] = {
	{ "gilwatch_lock_wait_seconds_total", "Time threads waited for the "
	  "lock (the --top locks in --sort order, as the lock table).",
	  offsetof(struct lock_figures, wait_ns), 1 },
	{ "gilwatch_lock_contentions_total",
	  "Acquisitions of the lock that waited.",
	  offsetof(struct lock_figures, contended), 0 },
	{ "gilwatch_lock_acquisitions_total", "Acquisitions of the lock.",
	  offsetof(struct lock_figures, acquired), 0 },
	{ "gilwatch_lock_hold_seconds_total", "Time the lock was held (an "
	  "estimate when holds are sampled).",
	  offsetof(struct lock_figures, hold_ns), 1 },
	{ NULL, NULL, 0, 0 }
};

/* Close a sample with figure f of row. */
static void
end_figure(struct out *o, const struct figure *f, const void *row)
{
	uint64_t v;

	memcpy(&v, (const char *)row + f->off, sizeof v);
	if (f->ns)
		end_d(o, (double)v / 1e9);
	else
		end_u(o, v);
}

static int
by_tid_name(const void *a, const void *b)
{
	const struct gil_row *x = a, *y = b;

	if (x->tid != y->tid)
		return x->tid < y->tid ? -1 : 1;
	return strcmp(x->name, y->name);
}

/*
 * One series per thread: a TID the kernel gave again to a thread of
 * the same name (a departed row and a live one) is summed into one, as
 * a series must not repeat.  Returns the rows kept.
 */
static size_t
threads_merged(struct gil_row *rows, size_t n)
{
	size_t i, k = 0;

	qsort(rows, n, sizeof *rows, by_tid_name);
	for (i = 0; i < n; i++) {
		if (k > 0 && by_tid_name(&rows[k - 1], &rows[i]) == 0) {
			rows[k - 1].hold += rows[i].hold;
			rows[k - 1].wait += rows[i].wait;
			rows[k - 1].acquired += rows[i].acquired;
			if (rows[i].live) {
				rows[k - 1].live = 1;
				rows[k - 1].policy = rows[i].policy;
				rows[k - 1].prio = rows[i].prio;
			}
			continue;
		}
		rows[k++] = rows[i];
	}
	return k;
}

/* Open a sample of family name for a row: its labels. */
typedef void	labels_fn(struct out *, const char *name, const void *row);

/* The families in fams, each with one sample per row of rows[0..n). */
static void
figures(struct out *o, const struct figure *fams, const void *rows,
    size_t n, size_t size, labels_fn *labels)
{
	const struct figure *f;
	const char *row;
	size_t i;

	for (f = fams; f->name != NULL; f++) {
		family(o, f->name, "counter", f->help);
		for (i = 0, row = rows; i < n; i++, row += size) {
			labels(o, f->name, row);
			end_figure(o, f, row);
		}
	}
}

static void
thread_labels(struct out *o, const char *name, const void *row)
{
	const struct gil_row *r = row;
	char tid[16];

	snprintf(tid, sizeof tid, "%d", (int)r->tid);
	begin(o, name, "");
	label(o, "tid", tid);
	label(o, "name", r->name);
}

static void
per_thread(struct out *o)
{
	struct gil_row *rows;
	size_t n, i;

	if ((rows = report_gil_rows(&n)) == NULL)
		return;
	for (i = 0; i < n; i++)
		if (rows[i].live)
			rows[i].policy = rt_policy(rows[i].tid, &rows[i].prio);
	n = threads_merged(rows, n);
	figures(o, thread_families, rows, n, sizeof *rows, thread_labels);
	family(o, "gilwatch_thread_realtime_priority", "gauge",
	    "Real-time priority of a SCHED_FIFO or SCHED_RR thread.");
	for (i = 0; i < n; i++) {
		if (!rt_is_realtime(rows[i].policy))
			continue;
		thread_labels(o, "gilwatch_thread_realtime_priority",
		    &rows[i]);
		label(o, "policy", rt_policy_name(rows[i].policy));
		end_u(o, (uint64_t)rows[i].prio);
	}
	free(rows);
}

static void
gil_metrics(struct out *o)
{
	uint64_t wh[HIST_BUCKETS], hh[HIST_BUCKETS], wmax, hmax, wsum, hsum;
	struct gil_summary s;

	gil_summary(&s);
	if (!s.present)
		return;
	gil_histograms(wh, hh, &wmax, &hmax);
	gil_hist_sums(&wsum, &hsum);
	single(o, "gilwatch_gil_switches_total", "counter",
	    "Acquisitions of the GIL.", (double)s.switches);
	single(o, "gilwatch_gil_forced_switches_total", "counter",
	    "Requests to the GIL's holder to drop it (switch interval "
	    "timeouts).", (double)s.forced);
	single(o, "gilwatch_gil_waiting_threads", "gauge",
	    "Threads waiting for the GIL now.", (double)s.waiting);
	histogram(o, "gilwatch_gil_wait_seconds", "Waits for the GIL.", wh,
	    wsum);
	histogram(o, "gilwatch_gil_hold_seconds", "Holds of the GIL.", hh,
	    hsum);
	single(o, "gilwatch_gil_wait_max_seconds", "gauge",
	    "Longest wait for the GIL.", (double)wmax / 1e9);
	single(o, "gilwatch_gil_hold_max_seconds", "gauge",
	    "Longest hold of the GIL.", (double)hmax / 1e9);
	per_thread(o);
}

static void
lock_labels(struct out *o, const char *name, const void *row)
{
	const struct lock_figures *f = row;
	char addr[24];

	snprintf(addr, sizeof addr, "0x%zx", (size_t)f->addr);
	begin(o, name, "");
	label(o, "kind", gw_lock_kind_name(f->kind));
	label(o, "addr", addr);
	label(o, "name", f->name);
}

static void
lock_metrics(struct out *o)
{
	struct lock_figures *f;
	size_t n;

	if (!config.stats || (f = report_lock_figures(config.sort,
	    config.top, &n)) == NULL)
		return;
	figures(o, lock_families, f, n, sizeof *f, lock_labels);
	free(f);
}

static void
event_metrics(struct out *o)
{
	uint64_t gil, lock, inv;
	unsigned deadlocks, stalls;

	report_counts(&deadlocks, &stalls);
	rt_counts(&gil, &lock, &inv);
	single(o, "gilwatch_deadlocks_total", "counter",
	    "Deadlocks reported.", deadlocks);
	single(o, "gilwatch_stalls_total", "counter",
	    "Stalls reported (--stall).", stalls);
	single(o, "gilwatch_lock_order_reports_total", "counter",
	    "Possible deadlocks (lock-order cycles) reported.",
	    order_reported());
	single(o, "gilwatch_priority_inversions_total", "counter",
	    "Waits of real-time threads for locks that normal-priority "
	    "threads held.", (double)inv);
	if (rt_budget_ns == 0)
		return;
	single(o, "gilwatch_rt_budget_seconds", "gauge",
	    "The real-time budget (--rt-budget).", (double)rt_budget_ns / 1e9);
	family(o, "gilwatch_rt_budget_misses_total", "counter",
	    "Waits of real-time threads over the budget.");
	begin(o, "gilwatch_rt_budget_misses_total", "");
	label(o, "what", "gil");
	end_u(o, gil);
	begin(o, "gilwatch_rt_budget_misses_total", "");
	label(o, "what", "lock");
	end_u(o, lock);
}

static void
write_file(void)
{
	char file[600], tmp[640];
	struct out o;
	int fd, rc, err;

	config_expand(path, file, sizeof file);
	/*
	 * Not "*.prom": the collector reads only the renamed file.  One
	 * name per write: at exit the helper may still be writing one
	 * when the last thread writes its own (the destructor's path).
	 */
	snprintf(tmp, sizeof tmp, "%s.%d.%u.tmp", file, (int)monitor_program(),
	    atomic_fetch_add(&ntmp, 1));
	out_init(&o);
	/* Every sample says it: asked once (getpid is a system call). */
	atomic_store_explicit(&pid, (int)monitor_program(), memory_order_relaxed);
	single(&o, "gilwatch_tracked_seconds", "gauge",
	    "Time since gilwatch started tracking the process.",
	    (double)gil_uptime_ns() / 1e9);
	gil_metrics(&o);
	lock_metrics(&o);
	event_metrics(&o);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	rc = fd == -1 ? -1 : out_write(&o, fd);
	if (fd != -1 && close(fd) == -1)
		rc = -1;
	if (rc == 0 && rename(tmp, file) == -1)
		rc = -1;
	if (rc == -1) {
		err = errno;
		if (fd != -1)
			unlink(tmp);
		if (!said_failure)
			msg_say("cannot write the metrics to %s: %s", file,
			    strerror(err));
		said_failure = 1;
	} else
		written = 1;
	out_free(&o);
}

/*
 * A process that used no lock and has no GIL writes no file, as it
 * writes no report: a shell script's ls and sed leave nothing behind.
 */
void
metrics_write(void)
{
	struct gil_summary s;

	if (interval_ns == 0)
		return;
	gil_summary(&s);
	if (written || s.present || lock_table_used() > 0)
		write_file();
}

int
metrics_tick(uint64_t now)
{
	uint64_t left;

	if (interval_ns == 0)
		return INT32_MAX;
	/* The first after an interval: a short process writes at exit. */
	if (next_ns == 0)
		next_ns = now + interval_ns;
	else if (now >= next_ns) {
		metrics_write();
		next_ns = now + interval_ns;
	}
	left = (next_ns - now + 999999) / 1000000;
	return left > INT32_MAX ? INT32_MAX : (int)left;
}

void
metrics_after_fork_child(void)
{
	next_ns = 0;
	written = said_failure = 0;
}
