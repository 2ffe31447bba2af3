/*
 * Every piece of text the viewer shows, built from a source: the screen
 * (panel-*.c) adds attributes and cuts to the terminal's width, --once
 * (once.c) prints the same strings whole.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gilwatch/snapshot.h"
#include "names.h"
#include "procstat.h"
#include "stall-rule.h"
#include "tui.h"

#define ADDR_FMT	"0x%llx"

const char *
fmt_kind(int kind, int py_type)
{
	const char *name = names_py_lock(py_type);

	if (name == NULL)
		name = names_lock_kind(kind);

	return name != NULL ? name : "lock";
}

char *
fmt_dur(uint64_t ns, char *buf, size_t len)
{
	uint64_t s = ns / 1000000000u;

	if (ns < 1000)
		snprintf(buf, len, "%lluns", (unsigned long long)ns);
	else if (ns < 1000000)
		snprintf(buf, len, "%lluus", (unsigned long long)ns / 1000);
	else if (ns < 1000000000)
		snprintf(buf, len, "%llums", (unsigned long long)ns / 1000000);
	else if (s < 60)
		snprintf(buf, len, "%.1fs", (double)ns / 1e9);
	else if (s < 3600)
		snprintf(buf, len, "%llum%02llus", (unsigned long long)s / 60,
		    (unsigned long long)s % 60);
	else
		snprintf(buf, len, "%lluh%02llum", (unsigned long long)s / 3600,
		    (unsigned long long)s / 60 % 60);
	return buf;
}

char *
fmt_pct(double share, char *buf, size_t len)
{
	if (share < 0)
		snprintf(buf, len, "-");
	else
		snprintf(buf, len, "%.0f%%", share * 100);
	return buf;
}

char *
fmt_sym(const struct source *s, uint64_t addr, int data, char *buf,
    size_t len)
{
	const struct gw_shm_sym *sym = source_sym(s, addr, data);

	if (sym == NULL || sym->function[0] == '\0')
		snprintf(buf, len, ADDR_FMT, (unsigned long long)addr);
	else if (data && sym->offset == 0)
		snprintf(buf, len, "%s", sym->function);
	else if (data)
		snprintf(buf, len, "%s+%llu", sym->function,
		    (unsigned long long)sym->offset);
	else
		snprintf(buf, len, "%s+0x%llx", sym->function,
		    (unsigned long long)sym->offset);
	return buf;
}

char *
fmt_where(const struct source *s, uint64_t ip, char *buf, size_t len)
{
	const struct gw_shm_sym *sym = source_sym(s, ip, 0);
	char name[160];

	fmt_sym(s, ip, 0, name, sizeof name);
	if (sym != NULL && sym->file[0] != '\0' && sym->line > 0)
		snprintf(buf, len, "%s (%s:%d)", name, sym->file, sym->line);
	else if (sym != NULL && sym->module[0] != '\0')
		snprintf(buf, len, "%s in %s", name, sym->module);
	else
		snprintf(buf, len, "%s", name);
	return buf;
}

char *
fmt_lockname(const struct source *s, int kind, int py_type, uint64_t addr,
    char *buf, size_t len)
{
	const struct gw_shm_sym *sym = source_sym(s, addr, 1);
	char name[128];

	if (sym != NULL && sym->function[0] != '\0')
		snprintf(buf, len, "%s " ADDR_FMT " (%s)",
		    fmt_kind(kind, py_type), (unsigned long long)addr,
		    fmt_sym(s, addr, 1, name, sizeof name));
	else
		snprintf(buf, len, "%s " ADDR_FMT, fmt_kind(kind, py_type),
		    (unsigned long long)addr);
	return buf;
}

char *
fmt_thread(const struct source *s, pid_t tid, char *buf, size_t len)
{
	const struct row *r = source_row(s, tid);

	if (r != NULL && r->t->name[0] != '\0')
		snprintf(buf, len, "\"%s\" (%d)", r->t->name, (int)tid);
	else
		snprintf(buf, len, "%d", (int)tid);
	return buf;
}

/*
 * How long a thread has been in its state, after a space; "" from
 * outside, where nobody was there to see it begin.
 */
static char *
age(const struct source *s, uint64_t ns, char *buf, size_t len)
{
	char dur[32];

	snprintf(buf, len, "%s%s", s->outside ? "" : " ", s->outside ? "" :
	    fmt_dur(ns, dur, sizeof dur));
	return buf;
}

/* "4711" or "4711,4712+" */
static char *
owners(const struct gw_shm_thread *t, char *buf, size_t len)
{
	size_t off = 0;
	int i;

	buf[0] = '\0';
	for (i = 0; i < t->nowners && off < len; i++)
		off += (size_t)snprintf(buf + off, len - off, "%s%d",
		    i ? "," : "", (int)t->owners[i]);
	if ((t->flags & GW_SHM_T_MORE_OWNERS) && off < len)
		snprintf(buf + off, len - off, "+");
	return buf;
}

static char *
blocked(const struct source *s, const struct row *r, int compact,
    char *buf, size_t len)
{
	const struct gw_shm_thread *t = r->t;
	const char *word = r->cls == CLS_DEADLOCK ? "DEADLOCKED" : "BLOCKED";
	char when[32], who[64], what[128];
	const char *timed;

	age(s, t->state_ns, when, sizeof when);
	owners(t, who, sizeof who);
	/* From outside: the lock's kind or holder may rest on its words
	 * alone (no stack was unwound to confirm it). */
	timed = compact ? "" : t->wait_timed ? (r->os != NULL &&
	    r->os->inferred ? " (timed, inferred)" : " (timed)") :
	    r->os != NULL && r->os->inferred ? " (inferred)" : "";
	/* Python's Thread.join blocks on a lock (up to 3.12) or a
	 * semaphore of the thread's own (3.13+): a join all the same. */
	if (t->state == GW_STATE_JOINING ||
	    t->py_wait.kind == GW_SHM_PYWAIT_JOIN)
		snprintf(buf, len, "%s %s %s%s", word, compact ? "join" :
		    "joining", t->nowners ? who : t->py_wait.kind ==
		    GW_SHM_PYWAIT_JOIN ? fmt_pywait(&t->py_wait, 1, what,
		    sizeof what) : "a thread", when);
	else if (t->nowners == 0)
		snprintf(buf, len, "%s on %s " ADDR_FMT "%s%s", word,
		    fmt_kind(t->wait_kind, t->wait_py_type),
		    (unsigned long long)t->wait_addr, when, timed);
	else
		snprintf(buf, len, compact ? "%s %s " ADDR_FMT " by %s%s%s" :
		    "%s on %s " ADDR_FMT " held by %s%s%s", word,
		    fmt_kind(t->wait_kind, t->wait_py_type),
		    (unsigned long long)t->wait_addr, who, when, timed);
	return buf;
}

static char	*state_text(const struct source *, const struct row *, int,
		    char *, size_t);

/* "list 0x7f12" or "list 0x7f12 and dict 0x7f34": a section's objects. */
static char *
cs_objects(const struct gw_shm_cs *c, char *buf, size_t len)
{
	int n;

	n = snprintf(buf, len, "%s " ADDR_FMT, c->type[0] != '\0' ? c->type :
	    "object", (unsigned long long)c->object);
	if (c->object2 != 0 && n > 0 && (size_t)n < len)
		snprintf(buf + n, len - (size_t)n, " and %s " ADDR_FMT,
		    c->type2[0] != '\0' ? c->type2 : "object",
		    (unsigned long long)c->object2);
	return buf;
}

/*
 * ", in critical section on list 0x7f12": the innermost critical
 * section of a free-threaded CPython's thread, as dumps name it, and
 * how many more it is in; "" for none.
 */
static char *
critical(const struct gw_shm_thread *t, int compact, char *buf, size_t len)
{
	const struct gw_shm_cs *c = &t->critical[0];
	char what[160];
	int n;

	buf[0] = '\0';
	if (t->ncritical == 0)
		return buf;
	if (c->state == GW_CS_ENTERING)
		n = snprintf(buf, len, compact ? " cs:entering" :
		    ", entering a critical section");
	else if (compact)
		n = snprintf(buf, len, " cs:%s%s", c->type[0] != '\0' ?
		    c->type : "object", c->state == GW_CS_SUSPENDED ?
		    "(suspended)" : "");
	else
		n = snprintf(buf, len, ", %s critical section on %s",
		    c->state == GW_CS_SUSPENDED ? "suspended" : "in",
		    cs_objects(c, what, sizeof what));
	if (!compact && n > 0 && (size_t)n < len && (t->ncritical > 1 ||
	    t->critical_more))
		snprintf(buf + n, len - (size_t)n, " (and %u%s more)",
		    t->ncritical - 1u, t->critical_more ? "+" : "");
	return buf;
}

/*
 * The state, a loop stall (source_loop_stalled), and on a free-threaded
 * CPython the thread state's and the critical section it is in.
 */
char *
fmt_state(const struct source *s, const struct row *r, int compact,
    char *buf, size_t len)
{
	const char *py = gw_py_state_name(r->t->py_state), *whose;
	char cs[256];
	size_t n;

	state_text(s, r, compact, buf, len);
	/* Before the longer Python state, which the column may cut. */
	if (source_loop_stalled(s, r) && (n = strlen(buf)) < len)
		snprintf(buf + n, len - n, compact ? " STALL>%ums" :
		    ", LOOP STALL over %u ms (--loop-stall)",
		    source_loop_stall(s, &whose));
	critical(r->t, compact, cs, sizeof cs);
	if (py != NULL && (n = strlen(buf)) < len)
		snprintf(buf + n, len - n, compact ? " py:%s%s" :
		    ", Python %s%s", py, cs);
	return buf;
}

static char *
state_text(const struct source *s, const struct row *r, int compact,
    char *buf, size_t len)
{
	const struct gw_shm_thread *t = r->t;
	char when[32], what[128];

	if (t->gil_state == GW_SHM_GIL_HOLDING) {
		snprintf(buf, len, "HOLDS GIL%s", age(s, t->gil_ns, when,
		    sizeof when));
		return buf;
	}
	if (t->gil_state == GW_SHM_GIL_WAITING) {
		age(s, t->gil_ns, when, sizeof when);
		/* The holder of the frame's header: the one it waits for. */
		if (s->frame.head.gil.holder != 0)
			snprintf(buf, len, compact ? "WAITS GIL%s by %d" :
			    "WAITS GIL%s held by %d", when,
			    (int)s->frame.head.gil.holder);
		else
			snprintf(buf, len, "WAITS GIL%s", when);
		return buf;
	}
	age(s, t->state_ns, when, sizeof when);
	switch (t->state) {
	case GW_STATE_BLOCKED:
		/*
		 * Condition.wait blocks on a private lock of its own: what
		 * it waits for is a notify, as on a condition variable.  A
		 * deadlock cycle through it, should one be found, says more.
		 */
		if (t->py_wait.kind == GW_SHM_PYWAIT_NOTIFY &&
		    r->cls != CLS_DEADLOCK) {
			snprintf(buf, len, "WAITING notify %s%s%s",
			    fmt_pywait(&t->py_wait, 0, what, sizeof what), when,
			    t->wait_timed && !compact ? " (timed)" : "");
			return buf;
		}
		return blocked(s, r, compact, buf, len);
	case GW_STATE_JOINING:
		return blocked(s, r, compact, buf, len);
	case GW_STATE_WAITING:
		snprintf(buf, len, "WAITING on %s " ADDR_FMT "%s",
		    compact ? "cond" : "condvar",
		    (unsigned long long)t->wait_addr, when);
		return buf;
	case GW_STATE_EXITED:
		snprintf(buf, len, "EXITED");
		return buf;
	}
	/* From outside, the kernel's word on it: running, or asleep in
	 * which system call. */
	if (r->os != NULL && r->os->state != '\0')
		snprintf(buf, len, "%s (kernel: %c%s%s)",
		    s->frame.head.gil.present ? "IO/released" : "RUNNING",
		    r->os->state, r->os->call[0] != '\0' ? " in " : "",
		    r->os->call);
	else
		snprintf(buf, len, "%s%s", s->frame.head.gil.present ?
		    "IO/released" : "RUNNING", when);
	return buf;
}

/* "1:02:03", "3d 01:02:03" */
static char *
uptime(uint64_t ns, char *buf, size_t len)
{
	uint64_t s = ns / 1000000000u;

	if (s >= 86400)
		snprintf(buf, len, "%llud %02llu:%02llu:%02llu",
		    (unsigned long long)s / 86400,
		    (unsigned long long)s / 3600 % 24,
		    (unsigned long long)s / 60 % 60, (unsigned long long)s % 60);
	else
		snprintf(buf, len, "%llu:%02llu:%02llu",
		    (unsigned long long)s / 3600,
		    (unsigned long long)s / 60 % 60, (unsigned long long)s % 60);
	return buf;
}

char *
fmt_process(const struct source *s, char *buf, size_t len)
{
	const struct shm_frame *f = &s->frame;
	char up[48], py[40];

	/* A free-threaded CPython has a version and no GIL. */
	if (f->head.gil.present || f->head.gil.version[0] != '\0')
		snprintf(py, sizeof py, "Python%s%s", f->head.gil.version[0] !=
		    '\0' ? " " : "", f->head.gil.version);
	else
		snprintf(py, sizeof py, "no Python");
	snprintf(buf, len, "pid %d  %.80s  %s  up %s", (int)s->pid,
	    f->command[0] != '\0' ? f->command : "?", py,
	    uptime(f->head.real_ns > f->start_real_ns ? f->head.real_ns -
	    f->start_real_ns : 0, up, sizeof up));
	return buf;
}

char *
fmt_gil(const struct source *s, char *buf, size_t len)
{
	const struct gw_shm_gil *g = &s->frame.head.gil;
	char who[64], dur[32], rate[32];

	if (!g->present) {
		snprintf(buf, len, "GIL: none (%s)", g->why_not[0] != '\0' ?
		    g->why_not : "no Python detected");
		return buf;
	}
	if (s->outside && g->holder != 0) {
		snprintf(buf, len, "GIL holder: %s, %u waiting",
		    fmt_thread(s, g->holder, who, sizeof who), g->waiting);
		return buf;
	}
	if (s->outside) {
		snprintf(buf, len, "GIL holder: none (free), %u waiting",
		    g->waiting);
		return buf;
	}
	if (s->switches_per_s < 0)
		snprintf(rate, sizeof rate, "-");
	else
		snprintf(rate, sizeof rate, "%.0f", s->switches_per_s);
	if (g->holder != 0)
		snprintf(buf, len, "GIL holder: %s for %s, %u waiting, "
		    "%s switches/s", fmt_thread(s, g->holder, who, sizeof who),
		    fmt_dur(g->holder_ns, dur, sizeof dur), g->waiting, rate);
	else
		snprintf(buf, len, "GIL holder: none (free), %u waiting, "
		    "%s switches/s", g->waiting, rate);
	return buf;
}

char *
fmt_counts(const struct source *s, char *buf, size_t len)
{
	const struct tui_counts *c = &s->counts;
	int n;

	n = snprintf(buf, len, "Threads: %u: %u running, %u waiting for GIL, "
	    "%u blocked on locks, %u sleeping", c->total, c->running,
	    c->gil_wait, c->blocked, c->sleeping);
	if ((s->frame.head.flags & GW_SHM_TRUNC_THREADS) && n > 0 &&
	    (size_t)n < len)
		n += snprintf(buf + n, len - (size_t)n, " (%u of %u shown)",
		    c->total, s->frame.head.threads_total);
	/* GIL and lock waits alike: a C program has a budget too. */
	if (s->frame.head.rt_budget_ns != 0 && n > 0 && (size_t)n < len)
		snprintf(buf + n, len - (size_t)n, "; real-time budget %.3fms: "
		    "%llu waits over it", (double)s->frame.head.rt_budget_ns /
		    1e6, (unsigned long long)s->frame.head.rt_misses);
	return buf;
}

char *
fmt_pause(const struct source *s, char *buf, size_t len)
{
	if (s->frame.head.pause[0] == '\0')
		return NULL;
	snprintf(buf, len, "%s", s->frame.head.pause);
	return buf;
}

char *
fmt_pymutex(const struct source *s, char *buf, size_t len)
{
	const struct gw_shm_frame *h = &s->frame.head;
	char total[32], max[32];

	if (h->pymutex_waits == 0)
		return NULL;
	snprintf(buf, len, "PyMutex contention: %llu wait%s on %u mutex%s, "
	    "%s waited, the longest %s", (unsigned long long)h->pymutex_waits,
	    h->pymutex_waits == 1 ? "" : "s", h->pymutex_locks,
	    h->pymutex_locks == 1 ? "" : "es", fmt_dur(h->pymutex_wait_ns,
	    total, sizeof total), fmt_dur(h->pymutex_wait_max_ns, max,
	    sizeof max));
	return buf;
}

char *
fmt_outside(const struct source *s, char *buf, size_t len)
{
	char took[32];

	if (!s->outside)
		return NULL;
	if (s->helperless) {
		snprintf(buf, len, "Read from outside in %s, nothing stopped: "
		    "gilwatch is in it, but its helper, which publishes "
		    "hold/wait times, GIL load and lock statistics, starts "
		    "with the program's second thread",
		    fmt_dur(s->read_ns, took, sizeof took));
		return buf;
	}
	snprintf(buf, len, "Read from outside (not started under gilwatch) "
	    "in %s, nothing stopped. Need gilwatch run: hold/wait times, "
	    "GIL load and switches, lock statistics and history",
	    fmt_dur(s->read_ns, took, sizeof took));
	return buf;
}

char *
fmt_meter(const char *label, double share, const char *tail, int width,
    char *buf, size_t len)
{
	int bar = width - (int)strlen(label) - (int)strlen(tail) - 4, fill, i;
	size_t off;

	if (bar < 4)
		bar = 4;
	if (share < 0)
		share = 0;
	fill = (int)(share * bar + 0.5);
	if (fill > bar)
		fill = bar;
	off = (size_t)snprintf(buf, len, "%s [", label);
	for (i = 0; i < bar && off + 1 < len; i++)
		buf[off++] = i < fill ? '|' : ' ';
	snprintf(buf + off, len - off, "] %s", tail);
	return buf;
}

char *
fmt_cycle(const struct source *s, uint32_t n, char *buf, size_t len)
{
	const struct shm_frame *f = &s->frame;
	const struct gw_shm_link *l;
	char who[64], by[64], lock[160];
	size_t off = 0;
	uint32_t i;
	int first = 1;

	for (i = 0; i < f->nlinks && off < len; i++) {
		l = &f->links[i];
		if (l->cycle != n)
			continue;
		fmt_lockname(s, l->kind, l->py_type, l->lock, lock, sizeof lock);
		fmt_thread(s, l->held_by, by, sizeof by);
		if (first)
			off += (size_t)snprintf(buf + off, len - off,
			    "DEADLOCK: %s waits for %s held by %s",
			    fmt_thread(s, l->tid, who, sizeof who), lock, by);
		else
			off += (size_t)snprintf(buf + off, len - off,
			    ", which waits for %s held by %s", lock, by);
		first = 0;
	}
	return first ? NULL : buf;
}

char *
fmt_all_waiting(const struct source *s, char *buf, size_t len)
{
	const struct shm_frame *f = &s->frame;
	const struct gw_shm_thread *t;
	struct stall_thread *st;
	uint64_t least = UINT64_MAX;
	uint32_t i, n = 0;
	int all, gil_waiting;

	/* From outside, no wait has a length. */
	if (s->outside || f->head.cycles > 0 ||
	    (f->head.flags & GW_SHM_TRUNC_THREADS) ||
	    f->nthreads == 0 ||
	    (st = calloc(f->nthreads, sizeof *st)) == NULL)
		return NULL;
	for (i = 0; i < f->nthreads; i++) {
		t = &f->threads[i];
		if (t->state == GW_STATE_EXITED)
			continue;
		gil_waiting = t->gil_state == GW_SHM_GIL_WAITING;
		st[n].waiting = stall_waits(t->state, t->wait_timed,
		    gil_waiting);
		st[n].waited_ns = gil_waiting ? t->gil_ns : t->state_ns;
		if (st[n].waited_ns < least)
			least = st[n].waited_ns;
		n++;
	}
	/* gilwatch's helper thread, if it is one, is not published. */
	all = stall_rule(st, n, procstat_threads(f->pid),
	    (f->head.flags & GW_SHM_HELPER_APART) ? 0 : 1, ALL_WAITING_NS);
	free(st);
	if (!all)
		return NULL;
	snprintf(buf, len, "ALL THREADS WAITING %.1fs: each waits, with no "
	    "timeout, for another; none can go on by itself", least / 1e9);
	return buf;
}

/* The text of a row's NATIVE and PYTHON cells. */
static void
cells(const struct source *s, const struct row *r, char *native,
    size_t nlen, const char **python)
{
	native[0] = '\0';
	if (r->t->nframes > 0)
		fmt_sym(s, r->t->frames[0], 0, native, nlen);
	/* A wait in threading's innards: the line that waits says more. */
	*python = r->t->py_wait.kind != GW_SHM_PYWAIT_NONE &&
	    r->t->py_wait.at[0] != '\0' ? r->t->py_wait.at : r->t->py_frame;
}

/* Widen *w to what s needs, up to max. */
static void
fit(int *w, const char *s, int max)
{
	int n = (int)strlen(s);

	if (n > max)
		n = max;
	if (n > *w)
		*w = n;
}

/*
 * The state column gets room first: it says what a thread does.  The
 * GIL columns only when there is a GIL, the frames when room is left.
 * STATE and NATIVE take what their longest cell needs, up to a cap;
 * PYTHON, last, the rest of the width.
 */
void
fmt_columns(const struct source *s, int width, struct cols *c)
{
	int rest, gil = s->frame.head.gil.present;
	int shares = gil && !s->outside;	/* GIL%, WAIT% */
	/* From outside there is no NATIVE column: room for the marks. */
	int state_max = s->outside ? 72 : 56, native_max = 40;
	char state[256], native[160], sched[16];
	const char *python;
	uint32_t i;

	memset(c, 0, sizeof *c);
	c->tid = 7;
	c->name = width < 100 ? 10 : 15;
	c->gil = shares ? 5 : 0;
	c->wait = shares ? 5 : 0;
	c->locks = width < 100 ? 3 : 5;
	c->state = 10;
	c->native = 6;	/* "NATIVE" */
	for (i = 0; i < s->nrows; i++) {
		if (fmt_sched(s->rows[i].t, sched, sizeof sched)[0] != '\0')
			c->sched = 7;
		fit(&c->state, fmt_state(s, &s->rows[i], 0, state,
		    sizeof state), state_max);
		cells(s, &s->rows[i], native, sizeof native, &python);
		fit(&c->native, native, native_max);
	}
	rest = width - (c->tid + 1 + c->name + 1 + (c->sched ? c->sched +
	    1 : 0) + (shares ? 12 : 0) + c->locks + 1);
	if (c->state > rest)
		c->state = rest;
	if (c->state < 10)
		c->state = 10;
	rest -= c->state + 1;
	/* From outside, native frames are unwound only on request. */
	if (rest >= 16 && !s->outside) {
		if (c->native > rest)
			c->native = rest;
		rest -= c->native + 1;
	} else
		c->native = 0;
	if (rest >= 16 && gil)
		c->python = rest;
}

/* Append one column (skipped when its width is 0). */
static void
col(char *buf, size_t len, size_t *off, int width, int right,
    const char *text)
{
	int n;

	if (width <= 0 || *off >= len)
		return;
	n = snprintf(buf + *off, len - *off, right ? "%s%*.*s" : "%s%-*.*s",
	    *off > 0 ? " " : "", width, width, text);
	if (n > 0)
		*off += (size_t)n;
	if (*off > len - 1)
		*off = len - 1;
}

char *
fmt_row(const struct source *s, const struct row *r, const struct cols *c,
    char *buf, size_t len)
{
	char tid[16], held[16], waited[16], locks[16], state[256];
	char native[160], sched[16];
	const char *python;
	size_t off = 0;

	buf[0] = '\0';
	if (r == NULL) {
		col(buf, len, &off, c->tid, 1, "TID");
		col(buf, len, &off, c->name, 0, "NAME");
		col(buf, len, &off, c->sched, 0, "SCHED");
		col(buf, len, &off, c->gil, 1, "GIL%");
		col(buf, len, &off, c->wait, 1, "WAIT%");
		col(buf, len, &off, c->locks, 1, c->locks < 5 ? "LKS" :
		    "LOCKS");
		col(buf, len, &off, c->state, 0, "STATE");
		col(buf, len, &off, c->native, 0, "NATIVE");
		col(buf, len, &off, c->python, 0, "PYTHON");
		return buf;
	}
	fmt_state(s, r, 0, state, sizeof state);
	if ((int)strlen(state) > c->state)
		fmt_state(s, r, 1, state, sizeof state);
	cells(s, r, native, sizeof native, &python);
	snprintf(tid, sizeof tid, "%d", (int)r->t->tid);
	snprintf(locks, sizeof locks, "%u", r->t->nheld);
	col(buf, len, &off, c->tid, 1, tid);
	col(buf, len, &off, c->name, 0, r->t->name);
	col(buf, len, &off, c->sched, 0, fmt_sched(r->t, sched,
	    sizeof sched));
	col(buf, len, &off, c->gil, 1, fmt_pct(r->held, held, sizeof held));
	col(buf, len, &off, c->wait, 1, fmt_pct(r->waited, waited,
	    sizeof waited));
	col(buf, len, &off, c->locks, 1, locks);
	col(buf, len, &off, c->state, 0, state);
	col(buf, len, &off, c->native, 0, native);
	col(buf, len, &off, c->python, 0, python);
	return buf;
}

char *
fmt_lock(const struct source *s, const struct gw_shm_lock *l, char *buf,
    size_t len)
{
	char lock[160], owner[64], wt[32], wm[32], ht[32], hm[32];

	if (l == NULL) {
		snprintf(buf, len, "%-44s %-22s %9s %9s %8s %8s %8s %8s",
		    "LOCK", "OWNER", "ACQUIRED", "CONTENDED", "WAIT", "WAITMAX",
		    "HOLD", "HOLDMAX");
		return buf;
	}
	fmt_lockname(s, l->kind, l->py_type, l->addr, lock, sizeof lock);
	if (l->owner != 0)
		fmt_thread(s, l->owner, owner, sizeof owner);
	else
		snprintf(owner, sizeof owner, "-");
	if (l->kind == GW_LOCK_COND) {
		snprintf(buf, len, "%-44.44s %-22.22s waits %llu, signals %llu, "
		    "signals with no waiter %llu, %d waiting now", lock, owner,
		    (unsigned long long)l->cond_waits,
		    (unsigned long long)l->cond_signals,
		    (unsigned long long)l->cond_lost, (int)l->cond_waiters);
		return buf;
	}
	snprintf(buf, len, "%-44.44s %-22.22s %9llu %9llu %8s %8s %8s %8s",
	    lock, owner, (unsigned long long)l->acquired,
	    (unsigned long long)l->contended,
	    fmt_dur(l->wait_total_ns, wt, sizeof wt),
	    fmt_dur(l->wait_max_ns, wm, sizeof wm),
	    fmt_dur(l->hold_total_ns, ht, sizeof ht),
	    fmt_dur(l->hold_max_ns, hm, sizeof hm));
	return buf;
}

char *
fmt_site(const struct source *s, const char *what,
    const struct gw_shm_site *site, char *buf, size_t len)
{
	char where[256], dur[32];

	snprintf(buf, len, "    %s %8llux %8s  %s", what,
	    (unsigned long long)site->count, fmt_dur(site->ns, dur,
	    sizeof dur), fmt_where(s, site->ip, where, sizeof where));
	return buf;
}

char *
fmt_fit(char *s, int width)
{
	if (width < 0)
		width = 0;
	if ((int)strlen(s) > width)
		s[width] = '\0';
	return s;
}
