/* The timeline in Chrome's trace-event format: see trace.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "config.h"
#include "gil-blame.h"
#include "gilwatch/snapshot.h"
#include "lock.h"
#include "msg.h"
#include "out.h"
#include "pages.h"
#include "py.h"
#include "thread.h"
#include "trace.h"
#include "share.h"
#include "monitor.h"

#define FLUSH_BYTES	(1u << 20)	/* the file is written in pieces */

struct tev {
	_Atomic uint32_t kind;		/* TRACE_NONE until the rest is set */
	pid_t		 tid;
	uint64_t	 ts;		/* now_ns() */
	uint64_t	 dur;		/* ns */
	pid_t		 other;
	int		 site;
	uintptr_t	 addr;
};

struct tname {
	atomic_int	 ready;
	pid_t		 tid;
	char		 name[THREAD_PYNAME_MAX];
};

int trace_on;
static char path[512];
static uint64_t lock_wait_ns;
static uint64_t origin;		/* now_ns() of ts 0 */
static struct tev *events;
static unsigned cap;		/* events kept */
static GW_SHARED _Atomic uint64_t nevents;	/* taken, kept or not */
static struct tname *names;
static GW_SHARED atomic_uint nnames;
static GW_SHARED atomic_int written;

void
trace_init(const char *p, double lock_wait_ms, unsigned max)
{
	if (p == NULL || p[0] == '\0')
		return;
	cap = max;
	events = pages_map(cap * sizeof *events);
	names = pages_map(TRACE_NAMES * sizeof *names);
	if (events == NULL || names == NULL) {
		msg_say("no memory for the trace: %s will not be written", p);
		return;
	}
	snprintf(path, sizeof path, "%s", p);
	lock_wait_ns = (uint64_t)(lock_wait_ms * 1e6);
	origin = now_ns();
	trace_on = 1;
}

/* A slot to fill, then publish with its kind; NULL when all are taken. */
static struct tev *
take(void)
{
	uint64_t i;

	i = atomic_fetch_add_explicit(&nevents, 1, memory_order_relaxed);
	return i < cap ? &events[i] : NULL;
}

static void
record(enum trace_kind kind, pid_t tid, uint64_t ts, uint64_t dur,
    pid_t other, int site, uintptr_t addr)
{
	struct tev *e;

	if ((e = take()) == NULL)
		return;
	e->tid = tid;
	e->ts = ts;
	e->dur = dur;
	e->other = other;
	e->site = site;
	e->addr = addr;
	atomic_store_explicit(&e->kind, kind, memory_order_release);
}

void
trace_gil(struct thread *t, enum trace_kind kind, uint64_t from, uint64_t to,
    pid_t other, int site)
{
	record(kind, atomic_load_explicit(&t->tid, memory_order_relaxed),
	    from, to > from ? to - from : 0, other, site, 0);
}

/*
 * w, t's, waits for a lock that someone holds, not for a notify nor a
 * join: 1 with its last owner in *owner (lock.h), else 0.
 */
static int
is_lock_wait(const struct waitinfo *w, const struct thread *t, pid_t *owner)
{
	if (w->kind == GW_LOCK_GIL || w->kind == GW_LOCK_COND ||
	    w->kind == GW_LOCK_THREAD)
		return 0;
	return thread_wait_owner(w, t, owner) == 0;
}

void
trace_lock_wait(struct thread *t)
{
	uint64_t now;
	pid_t owner;

	if (!is_lock_wait(&t->wait, t, &owner))
		return;
	now = now_ns();
	if (now < t->since_ns || now - t->since_ns < lock_wait_ns)
		return;
	record(TRACE_LOCK_WAIT, atomic_load(&t->tid), t->since_ns,
	    now - t->since_ns, owner, t->wait.kind,
	    t->wait.addr);
}

void
trace_mark(enum trace_kind kind, pid_t tid, uint64_t dur, pid_t other,
    int site)
{
	record(kind, tid, now_ns(), dur, other, site, 0);
}

void
trace_thread_exit(struct thread *t)
{
	struct tname *n;
	unsigned i;

	if ((i = atomic_fetch_add(&nnames, 1)) >= TRACE_NAMES) {
		atomic_store(&nnames, TRACE_NAMES);
		return;
	}
	n = &names[i];
	n->tid = atomic_load(&t->tid);
	thread_name(t, n->name, sizeof n->name);
	atomic_store(&n->ready, 1);
}

/* ns since the origin as microseconds, exactly: "12.345". */
static void
us_out(struct out *o, const char *key, uint64_t ns)
{
	unsigned r = (unsigned)(ns % 1000);
	char frac[] = { '.', (char)('0' + r / 100), (char)('0' + r / 10 % 10),
	    (char)('0' + r % 10), '\0' };

	out_puts(o, ",\"");
	out_puts(o, key);
	out_puts(o, "\":");
	out_putu(o, ns / 1000);
	out_puts(o, frac);
}

/* The fields every event has, up to its args. */
static void
head_out(struct out *o, const char *name, const char *cat, const char *ph,
    pid_t pid, pid_t tid)
{
	out_puts(o, ",\n{\"name\":");
	out_json_str(o, name);
	/* Per event: out_puts, not out_printf (a trace has 10^5 of them). */
	out_puts(o, ",\"cat\":\"");
	out_puts(o, cat);
	out_puts(o, "\",\"ph\":\"");
	out_puts(o, ph);
	out_puts(o, "\",\"pid\":");
	out_putu(o, (uint64_t)pid);
	out_puts(o, ",\"tid\":");
	out_putu(o, (uint64_t)tid);
}

static void
name_out(struct out *o, pid_t pid, pid_t tid, const char *name)
{
	out_printf(o, ",\n{\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":%d,"
	    "\"tid\":%d,\"args\":{\"name\":", (int)pid, (int)tid);
	out_json_str(o, name);
	out_puts(o, "}}");
}

/* An argument after sep, left out when unknown: a Python line. */
static void
site_out(struct out *o, const char *sep, const char *key, int site)
{
	char buf[PY_NAME_MAX + PY_FILE_MAX + 16];

	if (site < 0)
		return;
	blame_site_name(site, buf, sizeof buf);
	out_printf(o, "%s\"%s\":", sep, key);
	out_json_str(o, buf);
}

/* The same for a holder's TID. */
static void
holder_out(struct out *o, const char *sep, pid_t tid)
{
	if (tid != 0)
		out_printf(o, "%s\"holder\":%d", sep, (int)tid);
}

static uint64_t
since_origin(uint64_t ns)
{
	return ns > origin ? ns - origin : 0;
}

static void
span_out(struct out *o, const char *name, const char *cat, pid_t pid,
    pid_t tid, uint64_t ts, uint64_t dur)
{
	head_out(o, name, cat, "X", pid, tid);
	us_out(o, "ts", since_origin(ts));
	us_out(o, "dur", dur);
}

static void
event_out(struct out *o, const struct tev *e, pid_t pid)
{
	char name[48];

	switch (e->kind) {
	case TRACE_GIL_HOLD:
		span_out(o, "GIL held", "gil", pid, e->tid, e->ts, e->dur);
		out_puts(o, ",\"args\":{\"contended\":");
		out_puts(o, e->other ? "true" : "false");
		site_out(o, ",", "blocking_line", e->site);
		break;
	case TRACE_GIL_WAIT:
		span_out(o, "GIL wait", "gil", pid, e->tid, e->ts, e->dur);
		out_puts(o, ",\"args\":{");
		holder_out(o, "", e->other);
		site_out(o, e->other != 0 ? "," : "", "holder_line", e->site);
		break;
	case TRACE_LOCK_WAIT:
		snprintf(name, sizeof name, "%s wait",
		    gw_lock_kind_name(e->site));
		span_out(o, name, "lock", pid, e->tid, e->ts, e->dur);
		out_printf(o, ",\"args\":{\"lock\":\"0x%zx\"", (size_t)e->addr);
		holder_out(o, ",", e->other);
		break;
	case TRACE_RT_MISS:
		head_out(o, "real-time budget miss", "rt", "i", pid, e->tid);
		us_out(o, "ts", since_origin(e->ts));
		out_printf(o, ",\"s\":\"t\",\"args\":{\"waited_ms\":%.3f,"
		    "\"for\":\"%s\"", (double)e->dur / 1e6,
		    e->site ? "the GIL" : "a lock");
		holder_out(o, ",", e->other);
		break;
	case TRACE_PRIORITY:
		head_out(o, "priority inversion", "rt", "i", pid, e->tid);
		us_out(o, "ts", since_origin(e->ts));
		out_printf(o, ",\"s\":\"t\",\"args\":{\"waited_ms\":%.3f",
		    (double)e->dur / 1e6);
		holder_out(o, ",", e->other);
		break;
	case TRACE_INVERSION:
		head_out(o, "lock-order inversion", "lock", "i", pid, e->tid);
		us_out(o, "ts", since_origin(e->ts));
		out_printf(o, ",\"s\":\"t\",\"args\":{\"locks\":%d", e->site);
		break;
	case TRACE_DEADLOCK:
	case TRACE_STALL:
		head_out(o, e->kind == TRACE_DEADLOCK ? "deadlock" : "stall",
		    "deadlock", "i", pid, e->tid != 0 ? e->tid : pid);
		us_out(o, "ts", since_origin(e->ts));
		out_printf(o, ",\"s\":\"p\",\"args\":{\"%s\":%d",
		    e->kind == TRACE_DEADLOCK ? "threads" : "seconds", e->site);
		break;
	default:
		return;
	}
	out_puts(o, "}}");
}

/*
 * What the live threads are in the middle of at the end: a wait that
 * never ended (a deadlock's) or the GIL still held or waited for, as
 * spans up to now; and their names.
 */
static void
live_out(struct out *o, pid_t pid, uint64_t now)
{
	char name[THREAD_PYNAME_MAX];
	struct wait_copy wc;
	struct thread *t;
	uint64_t since;
	pid_t tid, owner;
	int gs;

	for (t = thread_first(); t != NULL; t = t->next) {
		if (!atomic_load(&t->in_use) || t->internal)
			continue;
		tid = atomic_load(&t->tid);
		thread_name(t, name, sizeof name);
		name_out(o, pid, tid, name);
		gs = atomic_load(&t->gil_state);
		since = atomic_load(&t->gil_since);
		if (gs != GIL_NONE && since != 0 && now > since) {
			span_out(o, gs == GIL_HOLDING ? "GIL held" :
			    "GIL wait", "gil", pid, tid, since, now - since);
			out_puts(o, ",\"args\":{\"unfinished\":true}}");
			continue;
		}
		if (thread_copy_wait(t, &wc) == -1 ||
		    wc.state != GW_STATE_BLOCKED ||
		    !is_lock_wait(&wc.wait, t, &owner) || now < wc.since_ns ||
		    now - wc.since_ns < lock_wait_ns)
			continue;
		snprintf(name, sizeof name, "%s wait",
		    gw_lock_kind_name(wc.wait.kind));
		span_out(o, name, "lock", pid, tid, wc.since_ns,
		    now - wc.since_ns);
		out_printf(o, ",\"args\":{\"lock\":\"0x%zx\"",
		    (size_t)wc.wait.addr);
		holder_out(o, ",", owner);
		out_puts(o, ",\"unfinished\":true}}");
	}
}

/* Write what o holds so far; -1 once a write failed. */
static int
flush(struct out *o, int fd)
{
	int rv = out_write(o, fd);

	o->len = 0;
	return rv;
}

void
trace_write(void)
{
	char file[600];
	uint64_t n, i, dropped, now = now_ns();
	unsigned k, nn;
	pid_t pid = monitor_program();
	struct out o;
	int fd, rv = 0;

	if (!trace_on || atomic_exchange(&written, 1) != 0)
		return;
	if ((n = atomic_load(&nevents)) == 0) {
		msg_note("trace: nothing to show (no GIL, no lock wait of "
		    "%.3f ms or more): %s is not written",
		    (double)lock_wait_ns / 1e6, path);
		return;
	}
	config_expand(path, file, sizeof file);
	fd = open(file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd == -1) {
		msg_say("cannot write the trace to %s: %s", file,
		    strerror(errno));
		return;
	}
	dropped = n > cap ? n - cap : 0;
	n -= dropped;
	out_init(&o);
	out_printf(&o, "{\"traceEvents\":[\n{\"name\":\"process_name\","
	    "\"ph\":\"M\",\"pid\":%d,\"tid\":%d,\"args\":{\"name\":",
	    (int)pid, (int)pid);
	out_json_str(&o, program_invocation_short_name);
	out_puts(&o, "}}");
	nn = atomic_load(&nnames);
	for (k = 0; k < nn && k < TRACE_NAMES; k++)
		if (atomic_load(&names[k].ready))
			name_out(&o, pid, names[k].tid, names[k].name);
	live_out(&o, pid, now);
	for (i = 0; i < n && rv == 0; i++) {
		/* A slot taken but not yet written is left out. */
		if (atomic_load_explicit(&events[i].kind,
		    memory_order_acquire) == TRACE_NONE)
			continue;
		event_out(&o, &events[i], pid);
		if (o.len >= FLUSH_BYTES)
			rv = flush(&o, fd);
	}
	out_printf(&o, "\n],\"displayTimeUnit\":\"ms\",\"otherData\":{"
	    "\"tool\":\"gilwatch\",\"lock_wait_threshold_ms\":%.3f,"
	    "\"events\":%llu,\"dropped\":%llu}}\n", (double)lock_wait_ns / 1e6,
	    (unsigned long long)n, (unsigned long long)dropped);
	if (rv == -1 || flush(&o, fd) == -1)
		msg_say("cannot write the trace to %s: %s", file,
		    strerror(errno));
	else if (dropped > 0)
		msg_say("trace: %llu events after the first %u were not kept "
		    "in %s", (unsigned long long)dropped, cap, file);
	out_free(&o);
	close(fd);
}

void
trace_after_fork_child(void)
{
	if (!trace_on)
		return;
	/* Back to zero pages: the parent's events are not the child's. */
	madvise(events, cap * sizeof *events, MADV_DONTNEED);
	madvise(names, TRACE_NAMES * sizeof *names, MADV_DONTNEED);
	atomic_store(&nevents, 0);
	atomic_store(&nnames, 0);
	atomic_store(&written, 0);
	origin = now_ns();
}
