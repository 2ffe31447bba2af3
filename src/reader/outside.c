/*
 * Assembling a snapshot read from outside: see outside.h.  The order
 * keeps stops short and the view consistent: /proc first (nothing
 * stopped), then each thread stopped alone while its stack is unwound,
 * then naming, lock words and the graph with nothing stopped.  A stack
 * counts for telling a wait apart only when it was taken at the same
 * place the thread's system call was seen.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "arena.h"
#include "core.h"
#include "frames.h"
#include "gilwatch/snapshot.h"
#include "mem.h"
#include "procstat.h"
#include "outside.h"
#include "source.h"
#include "taskgraph.h"
#include "waitfor.h"

#define NOTES_MAX	4

/* The public snapshot and what it owns, freed in one go. */
struct osnap {
	struct gw_snapshot pub;
	struct arena	 arena;
	const char	*notes[NOTES_MAX];
};

static void *
oalloc(struct osnap *s, size_t len)
{
	return arena_alloc(&s->arena, len);
}

/* Strings are shared: a thousand stacks name the same few functions. */
static const char *
ostr(struct osnap *s, const char *str)
{
	return arena_intern(&s->arena, str);
}

static void
add_note(struct osnap *s, const char *text)
{
	if (s->pub.nnotes < NOTES_MAX && (text = ostr(s, text)) != NULL)
		s->notes[s->pub.nnotes++] = text;
}

/*
 * The pages of threads [from, from + MEM_PREFETCH_MAX) copied in one
 * go before they are read: one system call for them all, not one
 * each.  Of their futex words (stacks 0) before their lock words are
 * read; of the top of their stacks (stacks 1) before the threads that
 * were listed asleep are unwound from outside without being stopped,
 * which a copy taken after the listing serves as well (unwind.h).
 */
static void
prefetch(const struct outside *o, size_t from, int stacks)
{
	uintptr_t addr[MEM_PREFETCH_MAX];
	const struct task *t;
	size_t i, n = 0;

	for (i = from; i < o->nthreads && i < from + MEM_PREFETCH_MAX; i++) {
		t = &o->threads[i].task;
		if (stacks && t->runs != 0 && t->syscall >= 0 && t->sp != 0)
			addr[n++] = t->sp;
		else if (!stacks && t->syscall == 202)	/* futex */
			addr[n++] = (uintptr_t)t->args[0];
	}
	mem_cache_prefetch(addr, n);
}

/*
 * Each thread unwound in turn; from a live process, stopped alone for
 * as short as its unwinding takes.
 */
static void
take_stacks(struct osnap *s, struct outside *o, struct source *src,
    int flags)
{
	struct outside_thread *t;
	sigset_t block, old;
	char why[256];
	size_t i;

	if (flags & OUTSIDE_NO_STACKS) {
		for (i = 0; i < o->nthreads; i++)
			o->threads[i].stack_note = src->ops->stops ?
			    "not unwound (--no-stacks): nothing was stopped" :
			    "not unwound (--no-stacks)";
		add_note(s, "Without native stacks, lock kinds are inferred "
		    "from the futex words (marked).");
		return;
	}
	if ((o->stacks = calloc(o->nthreads + 1, sizeof *o->stacks)) ==
	    NULL) {
		for (i = 0; i < o->nthreads; i++)
			o->threads[i].stack_note = "not unwound: out of memory";
		return;
	}
	if (src->ops->stacks_open(src, why, sizeof why) == -1) {
		for (i = 0; i < o->nthreads; i++)
			o->threads[i].stack_note = ostr(s, why);
		return;
	}
	src->stacks = 1;
	/*
	 * libdw stops a thread with PTRACE_ATTACH (a SIGSTOP): were we
	 * killed between the stop and the detach, that SIGSTOP could be
	 * left to stop the whole program.  Hold off the signals a user
	 * sends (^C, kill) until every thread is let go.
	 */
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGHUP);
	sigaddset(&block, SIGQUIT);
	sigprocmask(SIG_BLOCK, &block, &old);
	for (i = 0; i < o->nthreads; i++) {
		t = &o->threads[i];
		t->stack = &o->stacks[i];
		if (t->task.state == 'Z') {
			/* A main thread that ended while the others run
			 * on: nothing to unwind, nothing to stop. */
			t->stack_note = "the thread has ended";
			continue;
		}
		if (src->ops->stops && i % MEM_PREFETCH_MAX == 0)
			prefetch(o, i, 1);
		if (src->ops->stack(src, &t->task, t->stack, why,
		    sizeof why) == -1)
			t->stack_note = ostr(s, why);
		task_release(&t->task);		/* its run count is read */
		if (!src->ops->stops || t->stack->stopped == 0)
			continue;	/* unwound asleep: not stopped */
		s->pub.stopped_threads++;
		s->pub.stopped_total_seconds += t->stack->stopped;
		if (t->stack->stopped > s->pub.stopped_max_seconds)
			s->pub.stopped_max_seconds = t->stack->stopped;
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
}

/*
 * Frames named already, by address: a thousand threads parked alike
 * name the same few frames, each a symbol copied (some 800 bytes) and
 * three strings interned, else.
 */
#define NAMED		256

struct named {
	struct gw_frame	 f;		/* its ip 0: an empty slot */
	int		 is_return;
};

static void
name_frame(struct osnap *s, struct source *src, struct named *named,
    struct gw_frame *f, uintptr_t ip, int is_return)
{
	struct symbol sym;
	struct named *n = NULL;

	if (named != NULL && ip != 0) {
		n = &named[(ip >> 2) % NAMED];
		if (n->f.ip == ip && n->is_return == is_return) {
			*f = n->f;
			return;
		}
	}
	f->kind = GW_FRAME_NATIVE;
	f->ip = ip;
	if (src->stacks && src->ops->name(src, ip, is_return, &sym) == 0) {
		f->function = ostr(s, sym.function);
		f->offset = sym.offset;
		f->module = ostr(s, sym.module);
		f->file = ostr(s, sym.file);
		f->line = sym.line;
	}
	if (n != NULL) {
		n->f = *f;
		n->is_return = is_return;
	}
}

/*
 * Name t's native frames into ti; the innermost function names go to
 * fns for telling the wait apart, unless the stack was taken elsewhere
 * than where the system call was seen (the thread moved on in between).
 */
static int
name_frames(struct osnap *s, struct source *src, struct named *named,
    struct outside_thread *t, struct gw_thread_info *ti, const char **fns)
{
	const struct unwind_stack *st = t->stack;
	struct gw_frame *f;
	int i, n = 0;

	ti->stack_note = t->stack_note;
	ti->stack_status = st != NULL && st->depth > 0 ? GW_STACK_OK :
	    GW_STACK_UNAVAILABLE;
	if (st == NULL || st->depth == 0)
		return 0;
	if ((f = oalloc(s, (size_t)st->depth * sizeof *f)) == NULL)
		return 0;
	for (i = 0; i < st->depth; i++)
		name_frame(s, src, named, &f[i], st->ip[i], i > 0);
	ti->frames = f;
	ti->nframes = (size_t)st->depth;
	ti->frames_truncated = st->truncated;
	if (t->task.syscall >= 0 && st->ip[0] != t->task.pc)
		return 0;
	for (i = 0; i < st->depth && n < GLIBC_NAMES_MAX; i++)
		fns[n++] = f[i].function;
	return n;
}

/* The Python frames (the CPython step's) merged into the native ones. */
static void
merge_python(struct osnap *s, struct outside_thread *t,
    struct gw_thread_info *ti)
{
	struct gw_frame *f;

	if (t->npy <= 0)
		return;
	if (ti->nframes == 0) {		/* nothing to merge into */
		ti->frames = t->py;
		ti->nframes = (size_t)t->npy;
	} else if ((f = oalloc(s, (ti->nframes + (size_t)t->npy) *
	    sizeof *f)) != NULL) {
		ti->nframes = frames_merge(f, ti->frames, ti->nframes, t->py,
		    t->py_call_end, (size_t)t->npy);
		ti->frames = f;
	} else
		return;
	if (ti->stack_status == GW_STACK_UNAVAILABLE)
		ti->stack_note = "Python frames only: native frames not "
		    "unwound (--no-stacks)";
}

/* The Python view of a wait: a Condition's notify, or a join. */
static void
fill_py_wait(struct osnap *s, struct outside_thread *t, struct gw_wait *w)
{
	const struct py_wait *pw = &t->pw;

	if (pw->kind == PY_WAIT_NONE)
		return;
	w->py_kind = pw->kind == PY_WAIT_NOTIFY ? GW_PYWAIT_NOTIFY :
	    GW_PYWAIT_JOIN;
	w->py_type = ostr(s, pw->type);
	w->py_object = pw->object;
	if (pw->via != 0) {
		w->py_via_type = ostr(s, pw->via_type);
		w->py_via = pw->via;
		w->py_via_attr = ostr(s, pw->via_attr);
	}
	if (pw->at >= 0 && pw->at < t->npy)
		w->py_at = t->py[pw->at];
	/*
	 * The note was about the wait underneath (a semaphore's "any
	 * thread may post it"), which the Python wait now names: a notify
	 * can come from any thread (no owner), a join's owner is the
	 * thread joined.
	 */
	w->note = NULL;
	if (pw->kind == PY_WAIT_NOTIFY)
		w->nowners = 0;
}

/* The thread at tid, by bisection (threads are sorted). */
static struct gw_thread_info *
thread_at(struct gw_thread_info *ti, size_t n, pid_t tid)
{
	size_t lo = 0, hi = n, mid;

	while (lo < hi) {
		mid = (lo + hi) / 2;
		if (ti[mid].tid == tid)
			return &ti[mid];
		if (ti[mid].tid < tid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static void
fill_wait(struct osnap *s, struct outside_thread *t,
    struct gw_thread_info *ti)
{
	const struct glibc_wait *gw = &t->wait;
	struct gw_wait *w;
	pid_t *owner;

	if (gw->kind < 0 || (w = oalloc(s, sizeof *w)) == NULL)
		return;
	ti->state = gw->state;
	w->lock.addr = gw->addr;
	w->lock.kind = gw->kind;
	w->lock.mode = gw->mode;
	w->lock.py_type = gw->py_type;
	w->lock.py_object = gw->py_object;
	w->timed = gw->timed;
	w->inferred = gw->inferred;
	w->note = ostr(s, gw->note);
	if (gw->owner != 0 && t->pw.kind != PY_WAIT_NOTIFY &&
	    (owner = oalloc(s, sizeof *owner)) != NULL &&
	    (w->owner_acquired_at = oalloc(s, sizeof(struct gw_frame))) !=
	    NULL) {
		*owner = gw->owner;
		w->owners = owner;
		w->nowners = 1;
	}
	fill_py_wait(s, t, w);
	ti->waiting = w;
}

/* The owner of every lock waited for holds it: say so on its side. */
static void
fill_held(struct osnap *s, struct gw_thread_info *ti, size_t n,
    struct outside *o)
{
	const struct glibc_wait *gw;
	struct gw_thread_info *h;
	struct gw_held *nh;
	size_t i, k;

	for (i = 0; i < n; i++) {
		gw = &o->threads[i].wait;
		if (gw->owner == 0 || gw->kind == GW_LOCK_THREAD ||
		    o->threads[i].owner_holds_nothing ||
		    (h = thread_at(ti, n, gw->owner)) == NULL)
			continue;
		for (k = 0; k < h->nheld; k++)
			if (h->held[k].lock.addr == gw->addr)
				break;
		if (k < h->nheld)
			continue;
		if ((nh = oalloc(s, (h->nheld + 1) * sizeof *nh)) == NULL)
			return;
		memcpy(nh, h->held, h->nheld * sizeof *nh);
		nh[k].lock.addr = gw->addr;
		nh[k].lock.kind = gw->kind;
		nh[k].lock.mode = gw->kind == GW_LOCK_RWLOCK ?
		    GW_MODE_EXCLUSIVE : gw->mode;
		nh[k].lock.py_type = gw->py_type;
		nh[k].lock.py_object = gw->py_object;
		nh[k].count = gw->count > 0 ? gw->count : 1;
		h->held = nh;
		h->nheld++;
	}
}

/* The wait-for graph: nodes are threads, one edge per named owner. */
struct graph {
	struct gw_thread_info *ti;
	size_t		 n;
};

static int
graph_edge(void *ctx, void *node, int idx, struct wf_edge *e)
{
	struct graph *g = ctx;
	const struct gw_thread_info *t = node;
	const struct gw_wait *w = t->waiting;

	/* Only a wait whose holder was named has an edge. */
	if (idx != 0 || w == NULL || w->nowners == 0)
		return 0;
	e->to = thread_at(g->ti, g->n, w->owners[0]);
	e->lock = w->lock.addr;
	e->kind = w->lock.kind;
	e->mode = w->lock.mode;
	e->site = 0;
	return 1;
}

/* Every cycle once, whichever of its threads it was found from. */
static void
fill_deadlocks(struct osnap *s, struct gw_thread_info *ti, size_t n)
{
	struct graph g = { ti, n };
	struct wf_frame frames[64];
	struct gw_deadlock *d;
	struct gw_deadlock_link *l;
	uint64_t *seen;
	size_t i, nd = 0, k;
	int len, j;

	d = oalloc(s, (n + 1) * sizeof *d);
	seen = oalloc(s, (n + 1) * sizeof *seen);
	if (d == NULL || seen == NULL)
		return;
	for (i = 0; i < n; i++) {
		len = wf_find_cycle(graph_edge, &g, &ti[i], frames,
		    (int)(sizeof frames / sizeof frames[0]));
		if (len <= 0)
			continue;
		seen[nd] = wf_cycle_signature(frames, len);
		for (k = 0; k < nd && seen[k] != seen[nd]; k++)
			;
		if (k < nd ||
		    (l = oalloc(s, (size_t)len * sizeof *l)) == NULL)
			continue;
		for (j = 0; j < len; j++) {
			l[j].tid = ((struct gw_thread_info *)
			    frames[j].node)->tid;
			/* The edge is the node's wait (graph_edge). */
			l[j].waits_for = ((struct gw_thread_info *)
			    frames[j].node)->waiting->lock;
			l[j].held_by = ((struct gw_thread_info *)
			    frames[j].edge.to)->tid;
		}
		d[nd].links = l;
		d[nd].nlinks = (size_t)len;
		nd++;
	}
	s->pub.deadlocks = d;
	s->pub.ndeadlocks = nd;
}

static const char *
syscall_text(struct osnap *s, const struct task *t)
{
	const char *name;
	char buf[32];

	if (t->syscall < 0)
		return NULL;
	if ((name = task_syscall_name(t->syscall)) != NULL)
		return name;
	snprintf(buf, sizeof buf, "system call %ld", t->syscall);
	return ostr(s, buf);
}

/* Critical sections as read (py-cs.c), into the snapshot. */
static void
fill_cs(struct osnap *s, struct outside_thread *t, struct gw_thread_info *ti)
{
	if ((ti->critical = py_cs_export(t->cs, t->ncs, &s->arena)) != NULL) {
		ti->ncritical = (size_t)t->ncs;
		ti->critical_truncated = t->cs_more;
	}
}

static void
fill_threads(struct osnap *s, struct outside *o, struct source *src,
    int glibc_ok)
{
	struct outside_thread *t;
	struct gw_thread_info *ti;
	struct glibc_tids tids;
	struct named *named;
	const char *fns[GLIBC_NAMES_MAX];
	pid_t *tidv;
	size_t i;
	int nfns;

	ti = oalloc(s, (o->nthreads + 1) * sizeof *ti);
	tidv = oalloc(s, (o->nthreads + 1) * sizeof *tidv);
	if (ti == NULL || tidv == NULL)
		return;
	named = calloc(NAMED, sizeof *named);	/* NULL: only slower */
	for (i = 0; i < o->nthreads; i++)
		tidv[i] = o->threads[i].task.tid;
	tids.tid = tidv;
	tids.n = o->nthreads;
	for (i = 0; i < o->nthreads; i++) {
		t = &o->threads[i];
		ti[i].tid = t->task.tid;
		ti[i].state = t->task.state == 'Z' ? GW_STATE_EXITED :
		    GW_STATE_RUNNING;
		ti[i].os_state = t->task.state;
		ti[i].os_syscall = syscall_text(s, &t->task);
		nfns = name_frames(s, src, named, t, &ti[i], fns);
		if (glibc_ok && i % MEM_PREFETCH_MAX == 0)
			prefetch(o, i, 0);
		if (glibc_ok)
			(void)glibc_classify(&t->task, fns, nfns, &tids,
			    &t->wait);
		else
			t->wait.kind = -1;
	}
	free(named);
	if (py_outside_fill(o) == 0 && o->py_note[0] != '\0')
		add_note(s, o->py_note);
	if (o->py_pause[0] != '\0')
		add_note(s, o->py_pause);
	if (o->py_version[0] != '\0')
		s->pub.python_version = ostr(s, o->py_version);
	for (i = 0; i < o->nthreads; i++) {
		t = &o->threads[i];
		ti[i].name = ostr(s, t->py_name[0] != '\0' ? t->py_name :
		    t->task.name[0] != '\0' ? t->task.name : NULL);
		ti[i].gil = t->gil;
		ti[i].py_state = t->py_state;
		fill_cs(s, t, &ti[i]);
		ti[i].loop = t->loop;
		fill_wait(s, t, &ti[i]);
		merge_python(s, t, &ti[i]);
	}
	fill_held(s, ti, o->nthreads, o);
	s->pub.threads = ti;
	s->pub.nthreads = o->nthreads;
	fill_deadlocks(s, ti, o->nthreads);
	taskgraph_deadlocks(&s->arena, ti, o->nthreads, s->pub.deadlocks,
	    s->pub.ndeadlocks, &s->pub.deadlocks, &s->pub.ndeadlocks);
}

/* A cycle by its links, whichever of its threads it was read from. */
static uint64_t
deadlock_signature(const struct gw_deadlock *d)
{
	uint64_t sig = 0, h;
	size_t i;

	for (i = 0; i < d->nlinks; i++) {
		h = ((uint64_t)(uint32_t)d->links[i].tid << 32 |
		    (uint32_t)d->links[i].held_by) * 0x9e3779b97f4a7c15ull;
		h ^= (uint64_t)d->links[i].waits_for.addr;
		h *= 0xff51afd7ed558ccdull;
		sig += h ^ (h >> 33);
	}
	return sig;
}

/*
 * Keep the cycles of s that a later look shows too.  A live process
 * moves while it is read: a thread seen in a futex wait for a mutex may
 * own it by the time the owner word is read, which reads as a thread
 * waiting for itself.  A deadlock does not move.
 */
static void
confirm_deadlocks(struct osnap *s, const struct gw_snapshot *later)
{
	struct gw_deadlock *d = (struct gw_deadlock *)s->pub.deadlocks;
	char note[160];
	uint64_t sig;
	size_t i, j, n = 0;

	for (i = 0; i < s->pub.ndeadlocks; i++) {
		sig = deadlock_signature(&d[i]);
		for (j = 0; later != NULL && j < later->ndeadlocks; j++)
			if (deadlock_signature(&later->deadlocks[j]) == sig) {
				d[n++] = d[i];
				break;
			}
	}
	if (n < s->pub.ndeadlocks) {
		snprintf(note, sizeof note, "%zu lock cycle%s seen at the first "
		    "look %s gone at a second (the threads were moving): not "
		    "reported", s->pub.ndeadlocks - n,
		    s->pub.ndeadlocks - n == 1 ? "" : "s",
		    s->pub.ndeadlocks - n == 1 ? "was" : "were");
		add_note(s, note);
	}
	s->pub.ndeadlocks = n;
}

/*
 * The snapshot of what src reads; command, time and the core's fields
 * are the caller's to fill.  NULL with why set when it cannot be read.
 */
static struct osnap *
snapshot(struct source *src, int flags, char *why, size_t len)
{
	struct outside o;
	struct osnap *s;
	struct task *tasks;
	char note[512];
	int n, i, glibc_ok;

	memset(&o, 0, sizeof o);
	o.pid = src->pid;
	o.maps = &src->maps;
	src->runs = !(flags & OUTSIDE_NO_STACKS);
	if ((n = src->ops->threads(src, &tasks, why, len)) == -1)
		return NULL;
	if ((s = calloc(1, sizeof *s)) == NULL ||
	    (o.threads = calloc((size_t)n + 1, sizeof *o.threads)) == NULL) {
		free(s);
		for (i = 0; i < n; i++)
			task_release(&tasks[i]);
		free(tasks);
		snprintf(why, len, "out of memory");
		return NULL;
	}
	o.arena = &s->arena;
	for (i = 0; i < n; i++)
		o.threads[i].task = tasks[i];
	free(tasks);
	o.nthreads = (size_t)n;
	/*
	 * A live process's pages, copied once (a core is a file already):
	 * some four a thread where CPython's are read; the table's least
	 * (its pages cost a fault each) where only the lock words are.
	 */
	if (src->core == NULL)
		(void)mem_cache_begin(py_outside_present(&src->maps) ?
		    (size_t)n * 4 : 0);		/* else only slower */
	s->pub.version = GW_SNAPSHOT_VERSION;
	s->pub.pid = src->pid;
	s->pub.reason = GW_REASON_REQUEST;
	s->pub.notes = s->notes;
	if (!(glibc_ok = glibc_check(&src->maps, note, sizeof note) == 0))
		add_note(s, note);
	take_stacks(s, &o, src, flags);
	fill_threads(s, &o, src, glibc_ok);
	if (src->stacks)
		src->ops->stacks_close(src);
	mem_cache_end();
	for (i = 0; i < n; i++)		/* those whose stacks were not taken */
		task_release(&o.threads[i].task);
	free(o.stacks);
	free(o.threads);
	if (s->arena.failed) {
		outside_free(&s->pub);
		snprintf(why, len, "out of memory");
		return NULL;
	}
	return s;
}

struct gw_snapshot *
outside_snapshot(pid_t pid, int flags, char *why, size_t len)
{
	struct maps m;

	if (maps_read_pid(pid, &m, why, len) == -1)
		return NULL;
	return outside_snapshot_maps(pid, &m, flags, why, len);
}

struct gw_snapshot *
outside_snapshot_maps(pid_t pid, struct maps *m, int flags, char *why,
    size_t len)
{
	struct source src;
	struct osnap *s, *later;
	struct timespec ts;
	char buf[512];

	memset(&src, 0, sizeof src);
	src.ops = &source_live_ops;
	src.pid = pid;
	src.maps = *m;
	memset(m, 0, sizeof *m);
	mem_source_pid(pid);
	clock_gettime(CLOCK_REALTIME, &ts);
	if ((s = snapshot(&src, flags, why, len)) != NULL &&
	    s->pub.ndeadlocks > 0) {
		/* A second look, stopping nothing, before a deadlock is said. */
		later = snapshot(&src, flags | OUTSIDE_NO_STACKS, buf,
		    sizeof buf);
		confirm_deadlocks(s, later != NULL ? &later->pub : NULL);
		if (later != NULL)
			outside_free(&later->pub);
	}
	if (s != NULL) {
		s->pub.source = GW_SOURCE_OUTSIDE;
		s->pub.time = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
		if (procstat_cmdline(pid, buf, sizeof buf) == 0)
			s->pub.command = ostr(s, buf);
	}
	maps_free(&src.maps);
	return s != NULL ? &s->pub : NULL;
}

struct gw_snapshot *
outside_core_snapshot(struct core *c, const char *path, int flags,
    char *why, size_t len)
{
	struct source src;
	const struct core_file *f;
	struct osnap *s;
	struct stat st;
	int i;

	memset(&src, 0, sizeof src);
	src.ops = &source_core_ops;
	src.pid = src.maps.pid = core_pid(c);
	src.core = c;
	if (core_exe(c) != NULL && (src.maps.exe = strdup(core_exe(c))) ==
	    NULL)
		goto nomem;
	for (i = 0; i < core_nfiles(c); i++) {
		f = core_file(c, i);
		if (maps_add(&src.maps, f->start, f->end, f->offset,
		    f->path) == -1)
			goto nomem;
	}
	mem_source_core(c);
	s = snapshot(&src, flags, why, len);
	mem_source_self();	/* c may be closed once this returns */
	if (s != NULL) {
		s->pub.source = GW_SOURCE_CORE;
		s->pub.command = ostr(s, core_command(c));
		s->pub.core_file = ostr(s, path);
		s->pub.core_signal = core_signal(c);
		if (stat(path, &st) == 0)
			s->pub.time = (double)st.st_mtim.tv_sec +
			    (double)st.st_mtim.tv_nsec / 1e9;
		if (s->arena.failed) {
			outside_free(&s->pub);
			s = NULL;
			snprintf(why, len, "out of memory");
		}
	}
	maps_free(&src.maps);
	return s != NULL ? &s->pub : NULL;
nomem:
	maps_free(&src.maps);
	snprintf(why, len, "out of memory");
	return NULL;
}

void
outside_free(struct gw_snapshot *pub)
{
	struct osnap *s = (struct osnap *)pub;

	if (s == NULL)
		return;
	arena_free(&s->arena);
	free(s);
}
