/*
 * Snapshots: copies of the registry and the lock table, with stacks
 * sampled and every address named.  See report.h and
 * include/gilwatch/snapshot.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "arena.h"
#include "asyncio-snap.h"
#include "deadlock.h"
#include "frames.h"
#include "gil.h"
#include "rtbudget.h"
#include "py.h"
#include "lock.h"
#include "mem.h"
#include "names.h"
#include "procstat.h"
#include "pylock-type.h"
#include "report.h"
#include "snapshot-asyncio.h"
#include "stack.h"
#include "taskfile.h"
#include "stackvar.h"
#include "thread.h"
#include "monitor.h"

#define SNAP_PY_FRAMES	128	/* Python frames per thread */
#define SNAP_ASK_MAX	STACK_ASK_BATCH	/* stacks asked at once */
#define SNAP_SAMPLE_MS	200	/* for a thread to answer */

/*
 * Native frames named in this snapshot, by address: a thousand threads
 * parked alike name the same twenty places, and share their names'
 * strings (the arena's) instead of copying them a thousand times.
 */
#define SNAP_NAMES	1024	/* entries, a power of 2 */
#define SNAP_NAME_PROBE	8	/* looked at before giving up */

struct snap_name {
	uintptr_t	 ip;		/* 0: empty */
	int		 is_return;
	struct gw_frame	 f;
};

/* The public snapshot and the memory it owns, freed in one go. */
struct snap {
	struct gw_snapshot pub;
	struct arena	 arena;
	struct py_frame	*py;		/* one thread's Python frames, reused */
	struct sem_owner *sems;		/* semaphores held, by owner */
	size_t		 nsems;
	struct stackvars *vars;		/* to name locks on stacks, or NULL */
	struct snap_name *names;	/* SNAP_NAMES, from the arena, or NULL */
};

static void *
snap_alloc(struct snap *s, size_t len)
{
	return arena_alloc(&s->arena, len);
}

static const char *
snap_str(struct snap *s, const char *str)
{
	return arena_str(&s->arena, str);
}

/* The entry for ip in s->names, or an empty one to fill, or NULL. */
static struct snap_name *
name_slot(struct snap *s, uintptr_t ip, int is_return)
{
	struct snap_name *e;
	size_t h, i;

	if (s->names == NULL && (s->names = snap_alloc(s,
	    SNAP_NAMES * sizeof *s->names)) != NULL)
		memset(s->names, 0, SNAP_NAMES * sizeof *s->names);
	if (s->names == NULL)
		return NULL;
	h = (size_t)((ip * 0x9e3779b97f4a7c15u) >> 54);	/* 10 bits */
	for (i = 0; i < SNAP_NAME_PROBE; i++) {
		e = &s->names[(h + i) % SNAP_NAMES];
		if (e->ip == 0 || (e->ip == ip && e->is_return == is_return))
			return e;
	}
	return NULL;
}

static void
name_frame(struct snap *s, struct gw_frame *f, uintptr_t ip, int is_return)
{
	struct snap_name *e = ip != 0 ? name_slot(s, ip, is_return) : NULL;
	struct symbol sym;

	if (e != NULL && e->ip != 0) {
		*f = e->f;
		return;
	}
	f->kind = GW_FRAME_NATIVE;
	f->ip = ip;
	if (ip == 0 || stack_symbolize(ip, is_return, &sym) == -1)
		return;
	f->function = snap_str(s, sym.function);
	f->offset = sym.offset;
	f->module = snap_str(s, sym.module);
	f->file = snap_str(s, sym.file);
	f->line = sym.line;
	if (e != NULL) {
		e->ip = ip;
		e->is_return = is_return;
		e->f = *f;
	}
}

static void	python_frame(struct snap *, struct gw_frame *,
		    const struct py_frame *);

/*
 * Where the owner of rec took it: the Python line when the lock is a
 * Python lock taken from Python, else the native call site.
 */
static void
acquired_frame(struct snap *s, struct gw_frame *f, struct lockrec *rec,
    uintptr_t site)
{
	const struct py_runtime *rt = gil_runtime();
	struct py_frame pf;
	struct py_site ps;

	if (rt != NULL && rec != NULL && atomic_load(&rec->kind) ==
	    GW_LOCK_SEM && (ps.code = atomic_load(&rec->py_code)) != 0) {
		ps.addr = atomic_load(&rec->py_addr);
		if (py_site_frame(rt, &ps, &pf) == 0) {
			python_frame(s, f, &pf);
			return;
		}
	}
	name_frame(s, f, site, 1);
}

/* Is the semaphore record rec a Python lock (pylock-type.h)? */
static void
python_lock(struct gw_lock_info *li, struct lockrec *rec)
{
	li->py_type = names_py_lock(pylock_type(li->addr, rec,
	    &li->py_object));
}

static void
lock_info(struct snap *s, struct gw_lock_info *li, uintptr_t addr,
    int kind, int mode)
{
	struct lockrec *rec = kind == GW_LOCK_THREAD ? NULL : lock_find(addr);
	char name[160];

	li->addr = addr;
	li->kind = kind;
	li->mode = mode;
	if (kind != GW_LOCK_THREAD &&
	    report_lock_var(s->vars, addr, name, sizeof name))
		li->name = snap_str(s, name);
	if (rec != NULL)
		name_frame(s, &li->first_seen,
		    atomic_load(&rec->first_site), 1);
	if (rec != NULL && kind == GW_LOCK_SEM)
		python_lock(li, rec);
}

/* What we copy of a record before naming anything. */
struct raw {
	struct thread	*t;
	int		 tid;
	int		 state;
	unsigned	 wait_gen;	/* of wait, when state is a wait */
	uint64_t	 since;
	struct held	*held;
	uint32_t	 nheld;
	struct waitinfo	 wait;
	struct stack	 stack;
	int		 gil_state;
	uint64_t	 gil_since;
	int		 npy;		/* Python frames, in snap.py */
	struct gw_frame	*pf;		/* and as shown (keep_python) */
	unsigned char	*ce;		/* frames_call_ends' marks */
	struct gw_loop	*loop;		/* before 3.14: from the frames */
	struct py_wait	 pw;		/* what its Python code waits on */
	struct gw_wait	*w;		/* its wait, as fill_wait made it */
	uintptr_t	 ts;		/* its thread state, or 0 */
};

/* A consistent copy of t's fields, retrying while t writes them. */
static int
copy_record(struct snap *s, struct thread *t, struct raw *r)
{
	unsigned s1, s2;
	uint32_t n;
	int tries;

	for (tries = 0; tries < 1000; tries++) {
		/* Bumped after wait is written, before the state says so. */
		r->wait_gen = atomic_load_explicit(&t->wait_gen,
		    memory_order_acquire);
		s1 = atomic_load_explicit(&t->seq, memory_order_acquire);
		if (s1 & 1)
			continue;
		n = t->nheld;
		if (n > t->cap)
			continue;
		if (r->held == NULL || r->nheld < n) {
			r->held = snap_alloc(s, (n + 1) * sizeof *r->held);
			if (r->held == NULL)
				return -1;
		}
		memcpy(r->held, t->held, n * sizeof *r->held);
		r->nheld = n;
		r->wait = t->wait;
		r->state = atomic_load(&t->state);
		r->since = t->since_ns;
		r->stack = t->block_stack;
		atomic_thread_fence(memory_order_acquire);
		s2 = atomic_load_explicit(&t->seq, memory_order_relaxed);
		if (s1 == s2 && r->wait_gen == atomic_load_explicit(
		    &t->wait_gen, memory_order_relaxed))
			break;
	}
	r->t = t;
	r->tid = atomic_load(&t->tid);
	r->gil_state = atomic_load(&t->gil_state);
	r->gil_since = atomic_load(&t->gil_since);
	return 0;
}

/*
 * Must r's thread be asked for its stack (sampled)?  0 when it is known
 * without: taken as it blocked, none wanted, or the caller's own (me).
 */
static int
must_ask(struct raw *r, struct gw_thread_info *ti, int flags, pid_t me)
{
	if (r->state != GW_STATE_RUNNING && r->stack.depth > 0) {
		ti->stack_status = GW_STACK_AT_BLOCK;
		return 0;
	}
	r->stack.depth = 0;
	if (flags & GW_SNAP_NO_STACKS) {
		ti->stack_status = GW_STACK_UNAVAILABLE;
		return 0;
	}
	if (r->tid == me) {
		stack_capture(&r->stack, 0);
		ti->stack_status = GW_STACK_OK;
		return 0;
	}
	return 1;
}

/* What asking the thread gave (stack_answers). */
static void
stack_asked(struct snap *s, struct raw *r, struct gw_thread_info *ti,
    const struct stack_ask *a)
{
	switch (a->rc) {
	case 0:
		r->stack = a->st;
		ti->stack_status = GW_STACK_OK;
		break;
	case -EINTR:
		ti->stack_status = GW_STACK_IN_SYSCALL;
		ti->stack_note = snap_str(s, a->note);
		break;
	case -EAGAIN:
		ti->stack_status = GW_STACK_SIGNALS_BLOCKED;
		ti->stack_note = "the thread blocks the sampling signal";
		break;
	case -ETIMEDOUT:
		ti->stack_status = GW_STACK_TIMEOUT;
		/* SNAP_SAMPLE_MS */
		ti->stack_note = "the thread did not answer within 200 ms";
		break;
	default:
		ti->stack_status = GW_STACK_UNAVAILABLE;
		ti->stack_note = "stack sampling is off";
		break;
	}
}

static const char *
snap_copy(void *s, const char *str)
{
	return snap_str(s, str);
}

static void
python_frame(struct snap *s, struct gw_frame *f, const struct py_frame *p)
{
	frames_python(f, p, snap_copy, s);
}

/*
 * The thread's Python frames, into s->py (r->npy of them), and what its
 * Python code waits on when it is blocked there.  Read once, before
 * anything else is named, so that the wait, the locks held and the
 * frames agree.
 */
static void
python_read(struct snap *s, struct raw *r)
{
	int n;

	r->npy = 0;
	memset(&r->pw, 0, sizeof r->pw);
	if (gil_runtime() == NULL)
		return;
	if (s->py == NULL)
		s->py = snap_alloc(s, SNAP_PY_FRAMES * sizeof *s->py);
	if (s->py == NULL ||
	    (n = gil_thread_frames(r->t, s->py, SNAP_PY_FRAMES)) <= 0)
		return;
	r->npy = n;
	r->loop = asyncio_loop_frames(&s->arena, gil_runtime()->minor, s->py,
	    n);
	if (r->state == GW_STATE_BLOCKED)
		(void)gil_thread_wait(r->t, &r->wait, s->py, n, &r->pw);
}

/*
 * r's Python frames as shown, out of s->py, which the next thread's
 * read reuses before r's native stack is merged with them.
 */
static void
keep_python(struct snap *s, struct raw *r)
{
	int k;

	r->pf = snap_alloc(s, ((size_t)r->npy + 1) * sizeof *r->pf);
	r->ce = snap_alloc(s, (size_t)r->npy + 1);
	if (r->pf == NULL || r->ce == NULL)
		return;
	for (k = 0; k < r->npy; k++)
		python_frame(s, &r->pf[k], &s->py[k]);
	frames_call_ends(r->ce, s->py, (size_t)r->npy);
}

/* Native frames, with the Python frames merged in (frames.h). */
static void
fill_frames(struct snap *s, struct raw *r, struct gw_thread_info *ti)
{
	struct gw_frame *f, *nf, *pf;
	unsigned char *ce;
	int i, n = 0, npy = r->npy;

	f = snap_alloc(s, ((size_t)r->stack.depth + (size_t)npy) * sizeof *f);
	nf = snap_alloc(s, ((size_t)r->stack.depth + 1) * sizeof *nf);
	if (f == NULL || nf == NULL || (pf = r->pf) == NULL ||
	    (ce = r->ce) == NULL)
		return;
	for (i = 0; i < r->stack.depth; i++) {
		if (stack_is_self(r->stack.ip[i]))
			continue;
		name_frame(s, &nf[n++], r->stack.ip[i], i > 0 ||
		    ti->stack_status == GW_STACK_AT_BLOCK);
	}
	ti->frames = f;
	ti->nframes = frames_merge(f, nf, (size_t)n, pf, ce, (size_t)npy);
	ti->frames_truncated = r->stack.truncated;
}

/* The semaphores held, in one walk of the lock table (lock.h). */
static void
collect_sems(struct snap *s)
{
	struct lockrec *rec = NULL;
	size_t n = 0, max = lock_table_used();	/* every record, at most */

	s->sems = snap_alloc(s, (max + 1) * sizeof *s->sems);
	if (s->sems == NULL)
		return;
	while ((rec = lock_next(rec)) != NULL && n < max)
		n += (size_t)lock_sem_owner(rec, &s->sems[n]);
	lock_sem_owners_sort(s->sems, n);
	s->nsems = n;
}

static void
fill_held(struct snap *s, struct raw *r, struct gw_thread_info *ti)
{
	struct lockrec *rec;
	struct gw_held *h;
	size_t i, k, n, first, nsem = lock_sem_owners_of(s->sems, s->nsems,
	    r->tid, &first);

	n = r->nheld + nsem;
	if (n == 0)
		return;
	h = snap_alloc(s, n * sizeof *h);
	if (h == NULL)
		return;
	for (i = 0; i < r->nheld; i++) {
		lock_info(s, &h[i].lock, r->held[i].addr, r->held[i].kind,
		    r->held[i].mode);
		name_frame(s, &h[i].acquired_at, r->held[i].site, 1);
		h[i].count = r->held[i].count;
	}
	for (k = first; k < first + nsem; k++) {
		rec = s->sems[k].rec;
		/* Condition.wait's private lock: the wait stands for it. */
		if (r->pw.kind == PY_WAIT_NOTIFY && rec == r->wait.rec)
			continue;
		lock_info(s, &h[i].lock, s->sems[k].addr, GW_LOCK_SEM,
		    GW_MODE_EXCLUSIVE);
		acquired_frame(s, &h[i].acquired_at, rec, s->sems[k].site);
		h[i].count = 1;
		i++;
	}
	ti->held = h;
	ti->nheld = i;
}

/*
 * The Python view of a wait.  A notify has no owner (the private lock's
 * owner is the waiter itself); a join's owner is the thread joined,
 * which from 3.13 waits on a thread handle gilwatch cannot see: the
 * thread is then found by its Thread object.  owners has room for one.
 */
static void
fill_py_wait(struct snap *s, struct raw *r, struct gw_wait *w, pid_t *owners)
{
	const struct py_wait *pw = &r->pw;
	struct thread *t;

	if (pw->kind == PY_WAIT_NONE)
		return;
	w->py_kind = pw->kind == PY_WAIT_NOTIFY ? GW_PYWAIT_NOTIFY :
	    GW_PYWAIT_JOIN;
	w->py_type = snap_str(s, pw->type);
	w->py_object = pw->object;
	if (pw->via != 0) {
		w->py_via_type = snap_str(s, pw->via_type);
		w->py_via = pw->via;
		w->py_via_attr = snap_str(s, pw->via_attr);
	}
	python_frame(s, &w->py_at, &s->py[pw->at]);
	if (pw->kind == PY_WAIT_NOTIFY)
		w->nowners = 0;
	else if (w->nowners == 0 && pw->joined != 0 &&
	    (t = thread_by_pthread((pthread_t)pw->joined)) != NULL) {
		owners[0] = atomic_load(&t->tid);
		w->nowners = 1;
	}
}

static void
fill_wait(struct snap *s, struct raw *r, struct gw_thread_info *ti)
{
	struct gw_wait *w;
	struct wf_edge e;
	pid_t *owners;
	struct gw_frame *sites;
	int k, n;

	if (r->state != GW_STATE_BLOCKED && r->state != GW_STATE_JOINING &&
	    r->state != GW_STATE_WAITING)
		return;
	w = snap_alloc(s, sizeof *w);
	if (w == NULL)
		return;
	lock_info(s, &w->lock, r->wait.addr, r->wait.kind, r->wait.mode);
	w->timed = r->wait.timed;
	for (n = 0; deadlock_edge(NULL, r->t, n, &e); n++)
		;
	owners = snap_alloc(s, (size_t)(n + 1) * sizeof *owners);
	sites = snap_alloc(s, (size_t)(n + 1) * sizeof *sites);
	if (owners == NULL || sites == NULL)
		return;
	for (k = 0; k < n && deadlock_edge(NULL, r->t, k, &e); k++) {
		owners[k] = atomic_load(&((struct thread *)e.to)->tid);
		acquired_frame(s, &sites[k], r->wait.rec, e.site);
	}
	w->owners = owners;
	w->owner_acquired_at = sites;
	w->nowners = (size_t)k;
	fill_py_wait(s, r, w, owners);
	ti->waiting = r->w = w;
}

/* The thread whose held critical section has the PyMutex at m, or 0. */
static pid_t
cs_holder(const struct py_runtime *rt, const struct gw_thread_info *ti,
    size_t n, uintptr_t m)
{
	const struct gw_critical_section *c;
	size_t i, k;

	for (i = 0; i < n; i++)
		for (k = 0; k < ti[i].ncritical; k++) {
			c = &ti[i].critical[k];
			if (py_cs_holds(rt, (int)c->state, c->object,
			    c->object2, m))
				return ti[i].tid;
		}
	return 0;
}

/*
 * A free-threaded CPython's thread parked on a PyMutex that no hook saw
 * taken (inside libpython): the thread whose held critical section has
 * it holds it, as outside dumps and top say.  Once every thread's
 * sections are read.
 */
static void
fill_cs_owners(struct snap *s, struct raw *r, const struct gw_thread_info *ti,
    size_t n)
{
	const struct py_runtime *rt = gil_runtime();
	struct gw_frame *at;
	pid_t *owner, holder;
	size_t i;

	if (rt == NULL || !rt->free_threaded)
		return;
	for (i = 0; i < n; i++) {
		if (r[i].w == NULL || r[i].w->lock.kind != GW_LOCK_PYMUTEX ||
		    r[i].w->nowners != 0 || (holder = cs_holder(rt, ti, n,
		    r[i].w->lock.addr)) == 0 ||
		    (owner = snap_alloc(s, sizeof *owner)) == NULL ||
		    (at = snap_alloc(s, sizeof *at)) == NULL)
			continue;
		*owner = holder;
		r[i].w->owners = owner;
		r[i].w->owner_acquired_at = at;
		r[i].w->nowners = 1;
	}
}

/*
 * The GIL states were copied with the records, in one quick pass before
 * anything slow, and checked against the holder read once: a snapshot
 * never shows two holders, even when the GIL moves while stacks are
 * sampled and named.
 */
static void
fill_gil(struct raw *r, struct thread *holder, struct gw_thread_info *ti,
    uint64_t now)
{
	static const enum gw_gil_state map[] = {
		[GIL_NONE] = GW_GIL_RELEASED,
		[GIL_WAITING] = GW_GIL_WAITING,
		[GIL_HOLDING] = GW_GIL_HOLDING,
	};
	uint64_t since = r->gil_since;
	int st = r->gil_state;

	if (!gil_in_use())
		return;
	if (st == GIL_HOLDING && r->t != holder)
		st = GIL_NONE;
	ti->gil = map[st >= GIL_NONE && st <= GIL_HOLDING ? st : GIL_NONE];
	ti->gil_seconds = since != 0 && now > since ?
	    (double)(now - since) / 1e9 : 0;
}

/* A free-threaded CPython's critical sections of t. */
static void
fill_cs(struct snap *s, struct thread *t, struct gw_thread_info *ti)
{
	struct py_cs cs[PY_CS_MAX];
	int n, more = 0;

	n = gil_thread_critical_sections(t, cs, PY_CS_MAX, &more);
	if ((ti->critical = py_cs_export(cs, n, &s->arena)) != NULL) {
		ti->ncritical = (size_t)n;
		ti->critical_truncated = more;
	}
}

/*
 * A thread's name and scheduling, from what it told with its stack
 * (NULL: it was not asked, or did not answer) else read here.
 */
static void
fill_told(struct snap *s, struct raw *r, struct gw_thread_info *ti,
    const struct stack_told *told)
{
	char name[64];

	/* Read now: a Python thread renamed since it last held the GIL. */
	if (gil_thread_name(r->t, name, sizeof name) == -1)
		thread_name_told(r->t, told != NULL ? told->comm : NULL, name,
		    sizeof name);
	ti->name = snap_str(s, name);
	if (told != NULL && told->sched_policy != -1) {
		ti->sched_policy = told->sched_policy;
		ti->sched_priority = told->sched_priority;
	} else
		ti->sched_policy = rt_policy(r->tid, &ti->sched_priority);
	ti->realtime = rt_is_realtime(ti->sched_policy) ?
	    rt_policy_name(ti->sched_policy) : NULL;
}

/* All of a thread but its name, scheduling and stack (fill_threads). */
static void
fill_thread(struct snap *s, struct raw *r, struct thread *holder,
    struct gw_thread_info *ti, uint64_t now)
{
	ti->tid = r->tid;
	ti->py_state = (enum gw_py_state)gil_thread_py_state(r->t);
	if (ti->py_state != GW_PYSTATE_NONE)
		fill_cs(s, r->t, ti);
	ti->state = r->state;
	ti->state_seconds = now > r->since ? (double)(now - r->since) / 1e9 : 0;
	fill_gil(r, holder, ti, now);
	python_read(s, r);
	fill_held(s, r, ti);
	fill_wait(s, r, ti);
	keep_python(s, r);
}

/*
 * The Python pages of m threads copied before any is read, a level at a
 * time (thread states, C frames, frames), each level in one system call
 * (py_tstates_prefetch), and the words they wait on in one more: read
 * one by one, each a process_vm_readv, they were a quarter of the
 * monitor's time in a dump of 1,000 Python threads.
 */
static void
prefetch_python(struct raw *r, size_t m)
{
	const struct py_runtime *rt = gil_runtime();
	uintptr_t ts[SNAP_ASK_MAX], a[SNAP_ASK_MAX], kept;
	size_t k, n = 0;

	if (rt == NULL || rt->off == NULL)
		return;
	if (m > SNAP_ASK_MAX)
		m = SNAP_ASK_MAX;
	/* The states the records name, checked next (gil_thread_tstate). */
	for (k = 0; k < m; k++)
		if ((kept = atomic_load(&r[k].t->py_ts)) != 0)
			a[n++] = kept + (uintptr_t)rt->off->ts_thread_id;
	mem_cache_prefetch(a, n);
	for (k = n = 0; k < m; k++)
		if (gil_thread_tstate(r[k].t, &r[k].ts) == 0 && r[k].ts != 0)
			ts[n++] = r[k].ts;
		else
			r[k].ts = 0;
	py_tstates_prefetch(rt, ts, n);
	for (k = n = 0; k < m; k++)
		if (r[k].state == GW_STATE_BLOCKED && r[k].wait.addr != 0)
			a[n++] = r[k].wait.addr;
	mem_cache_prefetch(a, n);
}

/*
 * Every thread, SNAP_ASK_MAX at a time: the native stacks of those that
 * must be asked, all asked at once (most of a thread's sample is the
 * wait for it to be scheduled and to unwind: a dump of a thousand
 * threads parked in condition waits took 200 to 800 ms one thread after
 * another on a loaded machine), then, while they answer, each one's
 * Python frames and locks, then frames merged.  So a thread's native
 * stack is taken within a few milliseconds of its Python frames.
 */
static void
fill_threads(struct snap *s, struct raw *r, struct thread *holder,
    struct gw_thread_info *ti, size_t n, uint64_t now, int flags)
{
	const struct stack_told *told[SNAP_ASK_MAX];
	struct stack_ask *ask;
	size_t at[SNAP_ASK_MAX], i, k, m, nask;
	pid_t me = gettid();

	ask = snap_alloc(s, SNAP_ASK_MAX * sizeof *ask);
	for (i = 0; ask != NULL && i < n; i += m) {
		m = n - i < SNAP_ASK_MAX ? n - i : SNAP_ASK_MAX;
		for (k = nask = 0; k < m; k++) {
			struct raw *x = &r[i + k];
			struct stack_ask *a = &ask[nask];

			if (!must_ask(x, &ti[i + k], flags, me))
				continue;
			/* Whether it is still in that wait is the ask's to
			 * see (stack.h). */
			a->tid = x->tid;
			a->wait_state = x->wait.restarts ? &x->t->state : NULL;
			a->wait_gen = &x->t->wait_gen;
			a->answered = &x->t->sampler_answered;
			a->gen = x->wait_gen;
			at[nask++] = i + k;
		}
		stack_ask_threads(ask, nask, SNAP_SAMPLE_MS);
		prefetch_python(&r[i], m);
		for (k = 0; k < m; k++)
			fill_thread(s, &r[i + k], holder, &ti[i + k], now);
		stack_answers(ask, nask, SNAP_SAMPLE_MS);
		memset(told, 0, sizeof told);
		for (k = 0; k < nask; k++) {
			stack_asked(s, &r[at[k]], &ti[at[k]], &ask[k]);
			if (ask[k].rc == 0)
				told[at[k] - i] = &ask[k].told;
		}
		for (k = 0; k < m; k++) {
			fill_told(s, &r[i + k], &ti[i + k], told[k]);
			fill_frames(s, &r[i + k], &ti[i + k]);
		}
	}
}

static void
fill_deadlock(struct snap *s, const struct wf_frame *cycle, int n)
{
	struct gw_deadlock *d;
	struct gw_deadlock_link *l;
	int i;

	d = snap_alloc(s, sizeof *d);
	l = snap_alloc(s, (size_t)n * sizeof *l);
	if (d == NULL || l == NULL)
		return;
	for (i = 0; i < n; i++) {
		l[i].tid = atomic_load(&((struct thread *)cycle[i].node)->tid);
		lock_info(s, &l[i].waits_for, cycle[i].edge.lock,
		    cycle[i].edge.kind, cycle[i].edge.mode);
		l[i].held_by = atomic_load(
		    &((struct thread *)cycle[i].edge.to)->tid);
		acquired_frame(s, &l[i].acquired_at,
		    lock_find(cycle[i].edge.lock), cycle[i].edge.site);
	}
	d->links = l;
	d->nlinks = (size_t)n;
	s->pub.deadlocks = d;
	s->pub.ndeadlocks = 1;
}

/* Each thread's asyncio loop, and the cycles through its tasks. */
static void
asyncio_fill(struct snap *s, struct raw *r, struct gw_thread_info *ti,
    size_t n)
{
	uintptr_t *ts;
	size_t i;

	if (ti == NULL || (ts = snap_alloc(s, (n + 1) * sizeof *ts)) == NULL)
		return;
	for (i = 0; i < n; i++) {
		ti[i].loop = r[i].loop;
		/* Found by prefetch_python, when its batch was read. */
		ts[i] = r[i].ts;
		if (ts[i] == 0 && gil_runtime() != NULL &&
		    gil_thread_tstate(r[i].t, &ts[i]) == -1)
			ts[i] = 0;
	}
	snapshot_asyncio(&s->arena, ti, ts, n, &s->pub);
}

/* py_stw_thread_fn over the snapshot's threads. */
static const char *
snap_thread(const void *list, size_t i, pid_t *tid, int *state)
{
	const struct gw_thread_info *ti = list;

	*tid = ti[i].tid;
	*state = (int)ti[i].py_state;
	return ti[i].name;
}

/*
 * A free-threaded CPython's stop-the-world pause under way: a note, as
 * outside dumps give it (who asked, the attached threads holding it up).
 */
static void
fill_pause(struct snap *s, const struct gw_thread_info *ti, size_t n)
{
	const char **note;
	struct py_stw st;
	char buf[512];

	if (gil_stop_the_world(&st) != 1)
		return;
	py_stw_note(&st, snap_thread, ti, n, buf, sizeof buf);
	if ((note = snap_alloc(s, sizeof *note)) == NULL ||
	    (note[0] = snap_str(s, buf)) == NULL)
		return;
	s->pub.notes = note;
	s->pub.nnotes = 1;
}

static void
fill_command(struct snap *s)
{
	char buf[512];

	if (procstat_cmdline(monitor_program(), buf, sizeof buf) == 0)
		s->pub.command = snap_str(s, buf);
}

struct gw_snapshot *
snapshot_build(enum gw_snapshot_reason reason, int flags,
    const struct wf_frame *cycle, int ncycle)
{
	struct gw_thread_info *ti;
	struct thread *t, *holder;
	struct raw *r;
	struct snap *s;
	struct timespec ts;
	struct py_cache *pc = NULL;
	uint64_t now = now_ns();
	size_t max, n = 0;

	s = calloc(1, sizeof *s);
	if (s == NULL)
		return NULL;
	taskfile_round();	/* the files of threads gone are closed */
	s->pub.version = GW_SNAPSHOT_VERSION;
	s->pub.pid = monitor_program();
	s->pub.reason = reason;
	clock_gettime(CLOCK_REALTIME, &ts);
	s->pub.time = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
	fill_command(s);
	if (!(flags & GW_SNAP_NO_STACKS))
		s->vars = stackvars_new();
	max = thread_count() + 64;
	ti = snap_alloc(s, max * sizeof *ti);
	r = snap_alloc(s, max * sizeof *r);
	/* First every record, quickly; then the slow parts. */
	holder = gil_holder_thread();
	for (t = thread_first(); ti != NULL && r != NULL && t != NULL &&
	    n < max; t = t->next) {
		if (!atomic_load(&t->in_use) || t->internal)
			continue;
		if (copy_record(s, t, &r[n]) == -1)
			break;
		n++;
	}
	/*
	 * The interpreter's memory read through page copies: each read of
	 * this process is a system call (process_vm_readv, which fails
	 * where a plain load would fault), and a thread's frames, names and
	 * locks took some 40 of them, for 1,000 threads 40 ms.  And the
	 * code objects, names and line tables that many threads share,
	 * read once (py_cache_here): they were half of what was left.
	 */
	if (gil_runtime() != NULL) {
		(void)mem_cache_begin(n * 4);	/* else only slower */
		py_cache_here(pc = py_cache_new());
	}
	collect_sems(s);
	fill_threads(s, r, holder, ti, n, now, flags);
	fill_cs_owners(s, r, ti, n);
	s->pub.threads = ti;
	s->pub.nthreads = n;
	if (ti != NULL)
		fill_pause(s, ti, n);
	if (ncycle > 0)
		fill_deadlock(s, cycle, ncycle);
	asyncio_fill(s, r, ti, n);
	mem_cache_end();
	py_cache_here(NULL);
	py_cache_free(pc);
	stackvars_free(s->vars);
	s->vars = NULL;
	if (s->arena.failed) {
		snapshot_free(&s->pub);
		errno = ENOMEM;
		return NULL;
	}
	return &s->pub;
}

void
snapshot_free(struct gw_snapshot *pub)
{
	struct snap *s = (struct snap *)pub;

	if (s == NULL)
		return;
	arena_free(&s->arena);
	free(s);
}
