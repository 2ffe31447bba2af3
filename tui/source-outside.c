/*
 * The second data source: a process not started under gilwatch, read
 * from outside (src/reader/outside.h) at every refresh, its snapshot
 * turned into the frame the panels draw from.  Only the moment is
 * known: states, the GIL holder, what each thread waits for and who
 * holds it, the deadlock cycles, the top Python frame.  The figures the
 * shim measures over time (hold and wait times, GIL shares, lock
 * statistics, lock-order history) stay zero here, and the panels say
 * that they need `gilwatch run` (s->outside) rather than show them.
 *
 * Each read is one outside_snapshot without native stacks, so nothing
 * in the process is stopped; a stack is unwound only when the detail
 * view asks for one.
 */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "format.h"
#include "gilwatch/snapshot.h"
#include "maps.h"
#include "names.h"
#include "outside.h"
#include "procstat.h"
#include "py.h"
#include "tui.h"

void
source_init_outside(struct source *s, pid_t pid)
{
	char state, *maps;

	memset(s, 0, sizeof *s);
	s->pid = pid;
	s->outside = 1;
	if ((maps = maps_text(pid)) != NULL)
		s->helperless = strstr(maps, "libgilwatch") != NULL;
	free(maps);
	s->switches_per_s = -1;
	s->life = SHM_LIVE;
	if (shm_proc_start(pid, &state, &s->start_ticks) == 0)
		s->frame.start_real_ns = procstat_start_real_ns(s->start_ticks);
}

/* Has the process ended, or is its pid another's now?  Says why. */
static int
ended(struct source *s)
{
	uint64_t ticks;
	char state;

	if (shm_proc_start(s->pid, &state, &ticks) == -1) {
		if (errno != ENOENT && errno != ESRCH)
			return 0;
		snprintf(s->why, sizeof s->why, "process %d is gone",
		    (int)s->pid);
	} else if ((state == 'Z' || state == 'X') &&
	    procstat_live_task(s->pid) == s->pid)	/* not only main's */
		snprintf(s->why, sizeof s->why, "process %d has ended",
		    (int)s->pid);
	else if (ticks != s->start_ticks)
		snprintf(s->why, sizeof s->why, "process %d has ended (the "
		    "pid is another process's now)", (int)s->pid);
	else
		return 0;
	s->life = SHM_ENDED;
	return 1;
}

/* "Queue.get (queue.py:202)", as the shim publishes a Python frame. */
static void
py_text(const struct gw_frame *f, char *buf, size_t len)
{
	const char *file = f->file != NULL ? strrchr(f->file, '/') : NULL;

	buf[0] = '\0';
	if (f->kind != GW_FRAME_PYTHON || f->function == NULL)
		return;
	snprintf(buf, len, "%.40s (%.40s:%d)", f->function, file != NULL ?
	    file + 1 : f->file != NULL ? f->file : "?", f->line);
}

static uint8_t
gil_state(enum gw_gil_state g)
{
	if (g == GW_GIL_HOLDING)
		return GW_SHM_GIL_HOLDING;
	if (g == GW_GIL_WAITING)
		return GW_SHM_GIL_WAITING;
	return GW_SHM_GIL_NONE;
}

static void
fill_wait(const struct gw_wait *w, struct gw_shm_thread *r)
{
	struct gw_shm_pywait *pw = &r->py_wait;
	size_t i;

	r->wait_addr = w->lock.addr;
	r->wait_kind = (uint8_t)w->lock.kind;
	r->wait_mode = (uint8_t)w->lock.mode;
	r->wait_timed = w->timed != 0;
	r->wait_py_type = (uint8_t)names_py_lock_type(w->lock.py_type);
	for (i = 0; i < w->nowners && i < GW_SHM_OWNERS; i++)
		r->owners[i] = w->owners[i];
	r->nowners = (uint8_t)i;
	if (w->nowners > GW_SHM_OWNERS)
		r->flags |= GW_SHM_T_MORE_OWNERS;
	if (w->py_kind == GW_PYWAIT_NONE)
		return;
	pw->kind = w->py_kind == GW_PYWAIT_NOTIFY ? GW_SHM_PYWAIT_NOTIFY :
	    GW_SHM_PYWAIT_JOIN;
	pw->object = w->py_object;
	snprintf(pw->type, sizeof pw->type, "%.31s", w->py_type != NULL ?
	    w->py_type : "");
	if (w->py_via_type != NULL && w->py_via_attr != NULL)
		snprintf(pw->via, sizeof pw->via, "%.31s.%.31s",
		    w->py_via_type, w->py_via_attr);
	py_text(&w->py_at, pw->at, sizeof pw->at);
}

/* Its policy and priority, asked of the kernel: any user may. */
static void
sched(struct gw_shm_thread *r)
{
	struct sched_param sp;

	r->sched_policy = sched_getscheduler(r->tid);
	if (r->sched_policy != -1 && sched_getparam(r->tid, &sp) == 0)
		r->sched_priority = sp.sched_priority;
}

/* Its critical sections, as the shim publishes them. */
static void
fill_cs(const struct gw_thread_info *ti, struct gw_shm_thread *r)
{
	const struct gw_critical_section *c;
	struct gw_shm_cs *o;
	size_t i;

	for (i = 0; i < ti->ncritical && i < GW_SHM_CS; i++) {
		c = &ti->critical[i];
		o = &r->critical[i];
		o->state = (uint8_t)c->state;
		o->object = c->object;
		o->object2 = c->object2;
		snprintf(o->type, sizeof o->type, "%.*s", (int)sizeof o->type -
		    1, c->type != NULL ? c->type : "");
		snprintf(o->type2, sizeof o->type2, "%.*s", (int)sizeof
		    o->type2 - 1, c->type2 != NULL ? c->type2 : "");
	}
	r->ncritical = (uint8_t)i;
	r->critical_more = ti->critical_truncated || i < ti->ncritical;
}

static void
fill_thread(const struct gw_thread_info *ti, struct gw_shm_thread *r,
    struct os_thread *os)
{
	size_t i;

	memset(r, 0, sizeof *r);
	memset(os, 0, sizeof *os);
	r->tid = ti->tid;
	r->state = (uint8_t)ti->state;
	r->gil_state = gil_state(ti->gil);
	r->py_state = (uint8_t)ti->py_state;
	fill_cs(ti, r);
	snprintf(r->name, sizeof r->name, "%s", ti->name != NULL ? ti->name :
	    "");
	if (ti->waiting != NULL) {
		fill_wait(ti->waiting, r);
		os->inferred = ti->waiting->inferred != 0;
	}
	r->nheld = (uint32_t)ti->nheld;
	for (i = 0; i < ti->nheld && i < GW_SHM_HELD; i++) {
		r->held[i].addr = ti->held[i].lock.addr;
		r->held[i].kind = (uint8_t)ti->held[i].lock.kind;
		r->held[i].mode = (uint8_t)ti->held[i].lock.mode;
		r->held[i].py_type = (uint8_t)names_py_lock_type(
		    ti->held[i].lock.py_type);
		r->held[i].count = ti->held[i].count;
	}
	/* Innermost first: the first Python frame is the top one. */
	for (i = 0; i < ti->nframes; i++)
		if (ti->frames[i].kind == GW_FRAME_PYTHON) {
			py_text(&ti->frames[i], r->py_frame,
			    sizeof r->py_frame);
			break;
		}
	os->state = ti->os_state;
	snprintf(os->call, sizeof os->call, "%s", ti->os_syscall != NULL ?
	    ti->os_syscall : "");
	sched(r);
}

/* A lock's variable name, when the reader found one, as a data symbol. */
static void
add_sym(struct shm_frame *f, uint32_t cap, const struct gw_lock_info *l)
{
	struct gw_shm_sym *y;

	if (l->name == NULL || f->nsyms >= cap)
		return;
	y = &f->syms[f->nsyms++];
	memset(y, 0, sizeof *y);
	y->ip = l->addr;
	y->flags = GW_SHM_SYM_DATA;
	snprintf(y->function, sizeof y->function, "%s", l->name);
}

/* The GIL's line: present when any thread is a Python thread. */
static void
fill_gil(const struct gw_snapshot *snap, struct gw_shm_gil *g)
{
	size_t i;

	memset(g, 0, sizeof *g);
	for (i = 0; i < snap->nthreads; i++) {
		if (snap->threads[i].gil != GW_GIL_NONE)
			g->present = 1;
		if (snap->threads[i].gil == GW_GIL_HOLDING)
			g->holder = snap->threads[i].tid;
		if (snap->threads[i].gil == GW_GIL_WAITING)
			g->waiting++;
	}
	if (snap->python_version != NULL)
		snprintf(g->version, sizeof g->version, "%s",
		    snap->python_version);
	if (g->present)
		return;
	/* The CPython step says why it read nothing, when it tried. */
	snprintf(g->why_not, sizeof g->why_not, "no CPython found");
	for (i = 0; i < snap->nnotes; i++)
		if (strncmp(snap->notes[i], "CPython", 7) == 0) {
			snprintf(g->why_not, sizeof g->why_not, "%s",
			    snap->notes[i]);
			break;
		}
}

/*
 * A stop-the-world pause under way: the reader's note says it in the
 * words the shim publishes (py_stw_note).
 */
static void
fill_pause(const struct gw_snapshot *snap, struct gw_shm_frame *head)
{
	size_t i;

	head->pause[0] = '\0';
	for (i = 0; i < snap->nnotes; i++)
		if (strncmp(snap->notes[i], PY_STW_NOTE_LEAD,
		    sizeof PY_STW_NOTE_LEAD - 1) == 0) {
			snprintf(head->pause, sizeof head->pause, "%s",
			    snap->notes[i]);
			return;
		}
}

/* Arrays of the frame, in its one block: -1 when out of memory. */
static int
frame_room(struct source *s, size_t nthreads, size_t nlinks, size_t nsyms)
{
	struct shm_frame *f = &s->frame;
	size_t need;
	void *p;

	need = nthreads * sizeof *f->threads + nlinks * sizeof *f->links +
	    nsyms * sizeof *f->syms + 1;
	/* The frame's block last: until it moves, the rows stay valid. */
	if (nthreads > s->os_cap) {
		if ((p = realloc(s->os, nthreads * sizeof *s->os)) == NULL)
			return -1;
		s->os = p;
		s->os_cap = (uint32_t)nthreads;
	}
	if (need > f->memcap) {
		if ((p = realloc(f->mem, need)) == NULL)
			return -1;
		f->mem = p;
		f->memcap = need;
	}
	f->threads = f->mem;
	f->links = (struct gw_shm_link *)(f->threads + nthreads);
	f->syms = (struct gw_shm_sym *)(f->links + nlinks);
	return 0;
}

static int
fill_frame(struct source *s, const struct gw_snapshot *snap)
{
	struct shm_frame *f = &s->frame;
	const struct gw_thread_info *ti;
	const struct gw_deadlock *d;
	size_t i, k, nlinks = 0, nsyms = 0;
	uint32_t n = 0;

	for (i = 0; i < snap->ndeadlocks; i++)
		nlinks += snap->deadlocks[i].nlinks;
	for (i = 0; i < snap->nthreads; i++)
		nsyms += (snap->threads[i].waiting != NULL) +
		    snap->threads[i].nheld;
	nsyms += nlinks;
	if (frame_room(s, snap->nthreads, nlinks, nsyms) == -1)
		return -1;
	f->head.updates++;
	f->head.mono_ns = procstat_clock_ns(CLOCK_MONOTONIC);
	f->head.real_ns = (uint64_t)(snap->time * 1e9);
	f->head.flags = 0;
	f->head.threads_total = (uint32_t)snap->nthreads;
	f->head.cycles = (uint32_t)snap->ndeadlocks;
	f->pid = snap->pid;
	snprintf(f->command, sizeof f->command, "%s", snap->command != NULL ?
	    snap->command : "");
	fill_gil(snap, &f->head.gil);
	fill_pause(snap, &f->head);
	f->nthreads = (uint32_t)snap->nthreads;
	f->nsyms = 0;
	for (i = 0; i < snap->nthreads; i++) {
		ti = &snap->threads[i];
		fill_thread(ti, &f->threads[i], &s->os[i]);
		if (ti->waiting != NULL)
			add_sym(f, (uint32_t)nsyms, &ti->waiting->lock);
		for (k = 0; k < ti->nheld; k++)
			add_sym(f, (uint32_t)nsyms, &ti->held[k].lock);
	}
	for (i = 0; i < snap->ndeadlocks; i++) {
		d = &snap->deadlocks[i];
		for (k = 0; k < d->nlinks; k++, n++) {
			memset(&f->links[n], 0, sizeof f->links[n]);
			f->links[n].cycle = (uint32_t)i;
			f->links[n].tid = d->links[k].tid;
			f->links[n].held_by = d->links[k].held_by;
			f->links[n].kind = (uint8_t)d->links[k].waits_for.kind;
			f->links[n].mode = (uint8_t)d->links[k].waits_for.mode;
			f->links[n].lock = d->links[k].waits_for.addr;
			f->links[n].py_type = (uint8_t)names_py_lock_type(
			    d->links[k].waits_for.py_type);
			add_sym(f, (uint32_t)nsyms, &d->links[k].waits_for);
		}
	}
	f->nlinks = n;
	f->nlocks = f->norders = 0;
	return 0;
}

int
source_read_outside(struct source *s)
{
	struct gw_snapshot *snap;
	uint64_t t0 = procstat_clock_ns(CLOCK_MONOTONIC);
	char why[sizeof s->err];
	int rc;

	if (ended(s))
		return -1;
	if ((snap = outside_snapshot(s->pid, OUTSIDE_NO_STACKS, why,
	    sizeof why)) == NULL) {
		/* It may have ended while it was read. */
		if (!ended(s))
			snprintf(s->err, sizeof s->err, "%s", why);
		return -1;
	}
	rc = fill_frame(s, snap);
	outside_free(snap);
	s->read_ns = procstat_clock_ns(CLOCK_MONOTONIC) - t0;
	if (rc == -1) {
		snprintf(s->err, sizeof s->err, "out of memory");
		s->nrows = 0;	/* they may point into what moved */
		return -1;
	}
	return 0;
}

int
source_tasks_outside(struct source *s, pid_t tid, struct out *lines,
    char *err, size_t errlen)
{
	struct gw_snapshot *snap;
	struct out o;
	int rc;

	if ((snap = outside_snapshot(s->pid, GW_SNAP_NO_STACKS, err,
	    errlen)) == NULL)
		return -1;
	out_init(&o);
	report_text(&o, snap);
	rc = ctl_tasks_of(&o, tid, lines, err, errlen);
	out_free(&o);
	outside_free(snap);
	return rc;
}

int
source_stack_outside(struct source *s, pid_t tid, struct out *lines,
    char *err, size_t errlen)
{
	struct gw_snapshot *snap;
	struct out o;
	int rc;

	if ((snap = outside_snapshot(s->pid, 0, err, errlen)) == NULL)
		return -1;
	out_init(&o);
	report_text(&o, snap);
	rc = ctl_stack_of(&o, tid, lines, err, errlen);
	if (rc == 0 && snap->stopped_threads > 0)
		out_printf(lines, "  (%zu threads stopped one at a time to "
		    "unwind, the longest for %.1f ms)\n",
		    snap->stopped_threads, snap->stopped_max_seconds * 1e3);
	out_free(&o);
	outside_free(snap);
	return rc;
}
