/*
 * The CPython part of reading a process from outside (outside.h), with
 * helper readers that work over any memory source (py.h, py_attach):
 * the GIL's holder and the threads waiting for it, threading's thread
 * names, every thread's Python frames, and the Python locks, Condition
 * and join waits, as the shim shows them from inside.
 *
 * A threading.Lock records no holder: the holder is the one thread
 * whose `with` block keeps the lock's __exit__ on its live value stack
 * (py_tstate_held); such owners are marked inferred.  An RLock records
 * its owner.  A thread in Condition.wait waits for a notify unless the
 * lock it waits for is the Condition's own (taking it back after one).
 * Nothing is stopped.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "arena.h"
#include "asyncio-snap.h"
#include "frames.h"
#include "gilwatch/snapshot.h"
#include "grow.h"
#include "mem.h"
#include "outside.h"

#define PY_FRAMES	128	/* Python frames kept per thread */
#define PY_HELD		16	/* locks held by `with` blocks, per thread */

int
py_outside_present(const struct maps *m)
{
	size_t i;

	if (m->exe != NULL && strncmp(maps_base(m->exe), "python", 6) == 0)
		return 1;
	for (i = 0; i < m->n; i++)
		if (strncmp(maps_base(m->v[i].path), "libpython3", 10) == 0)
			return 1;
	return 0;
}

/* One thread state, and what is read of it. */
struct pyt {
	struct py_thread t;
	struct outside_thread *ot;	/* NULL: no such thread in /proc */
	struct py_lock	*held;		/* PY_HELD of them, once holds_of()
					   is called */
	int		 nheld;
};

struct collect {
	struct pyt	*v;
	size_t		 n, cap;
	struct py_holds	*holds;		/* holds_of(), or NULL */
	struct py_lock	*held;		/* the threads' held, in one piece */
};

static int
collect(const struct py_thread *t, void *arg)
{
	struct collect *c = arg;
	struct pyt *nv;

	if ((nv = grow(c->v, &c->cap, c->n + 1, sizeof *nv, 64)) == NULL)
		return 1;
	c->v = nv;
	memset(&c->v[c->n], 0, sizeof c->v[c->n]);
	c->v[c->n++].t = *t;
	return 0;
}

static struct outside_thread *
thread_of(struct outside *o, pid_t tid)
{
	size_t lo = 0, hi = o->nthreads, mid;

	while (tid != 0 && lo < hi) {
		mid = (lo + hi) / 2;
		if (o->threads[mid].task.tid == tid)
			return &o->threads[mid];
		if (o->threads[mid].task.tid < tid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static pid_t
tid_of(const struct collect *c, unsigned long thread_id)
{
	size_t i;

	for (i = 0; thread_id != 0 && i < c->n; i++)
		if (c->v[i].t.thread_id == thread_id)
			return c->v[i].t.tid;
	return 0;
}

/* The futex word t waits on (op WAIT or WAIT_BITSET), or 0. */
static uintptr_t
futex_word(const struct outside_thread *t)
{
	int cmd = (int)t->task.args[1] & 0x7f;

	if (t->task.syscall != 202 || (cmd != 0 && cmd != 9))
		return 0;
	return (uintptr_t)t->task.args[0];
}

static const char *
intern(void *arena, const char *str)
{
	return arena_intern(arena, str);
}

/*
 * A thread's frames, kept as the report shows them: some 60 bytes a
 * frame with its names shared, where a copy of what was read (half a
 * kilobyte a frame) made the pages of a thousand threads' frames the
 * largest cost of their dump (each new page is a fault).
 */
static void
frames_of(const struct py_runtime *rt, struct outside *o, struct pyt *p,
    struct py_frame *buf)
{
	struct outside_thread *ot = p->ot;
	int i, n;

	if ((n = py_tstate_frames(rt, p->t.tstate, buf, PY_FRAMES)) <= 0)
		return;
	if ((ot->py = arena_alloc(o->arena, (size_t)n * sizeof *ot->py)) ==
	    NULL || (ot->py_call_end = arena_alloc(o->arena, (size_t)n)) ==
	    NULL)
		return;
	for (i = 0; i < n; i++)
		frames_python(&ot->py[i], &buf[i], intern, o->arena);
	frames_call_ends(ot->py_call_end, buf, (size_t)n);
	ot->npy = n;
	/* Before 3.14 a loop shows in the frames alone (asyncio_fill). */
	ot->loop = asyncio_loop_frames(o->arena, rt->minor, buf, n);
	if (futex_word(ot) != 0 && py_thread_wait(rt, p->t.thread_id, buf,
	    n, &ot->pw) == -1)
		ot->pw.kind = PY_WAIT_NONE;
}

/* The critical sections a thread is in, read into ot->cs (in the
 * snapshot's arena, as its frames); buf is scratch of PY_FRAMES frames
 * (a py_cs is smaller). */
static void
critical_sections(const struct py_runtime *rt, struct outside *o,
    struct pyt *p, struct py_frame *buf)
{
	struct outside_thread *ot = p->ot;
	struct py_cs *cs = (struct py_cs *)(void *)buf;
	int n;

	_Static_assert(PY_CS_MAX * sizeof(struct py_cs) <=
	    PY_FRAMES * sizeof(struct py_frame), "scratch fits");
	if ((n = py_tstate_critical_sections(rt, p->t.tstate, cs, PY_CS_MAX,
	    &ot->cs_more)) <= 0 || (ot->cs = arena_alloc(o->arena,
	    (size_t)n * sizeof *ot->cs)) == NULL)
		return;
	memcpy(ot->cs, cs, (size_t)n * sizeof *ot->cs);
	ot->ncs = n;
}

/* A wait the CPython view names better than glibc's words. */
static void
set_wait(struct outside_thread *ot, int kind, uintptr_t addr, pid_t owner,
    unsigned count, int inferred, const char *note)
{
	struct glibc_wait *w = &ot->wait;

	w->kind = kind;
	w->mode = GW_MODE_EXCLUSIVE;
	w->state = GW_STATE_BLOCKED;
	w->addr = addr;
	w->owner = owner != ot->task.tid || kind != GW_LOCK_GIL ? owner : 0;
	w->count = count;
	w->inferred = inferred;
	snprintf(w->note, sizeof w->note, "%s", note);
	w->py_type = NULL;
	w->py_object = 0;
}

/*
 * The locks every thread's with blocks hold, read the first time a
 * thread is found waiting for a Python lock (a read or two per live
 * value-stack slot of every thread: not worth it when none waits).
 */
static struct py_holds *
holds_of(const struct py_runtime *rt, struct collect *c)
{
	size_t i;

	if (c->holds != NULL)
		return c->holds;
	if (c->held == NULL &&
	    (c->held = calloc(c->n * PY_HELD + 1, sizeof *c->held)) == NULL)
		return NULL;
	if ((c->holds = calloc(c->n + 1, sizeof *c->holds)) == NULL)
		return NULL;
	for (i = 0; i < c->n; i++) {
		c->v[i].held = c->held + i * PY_HELD;
		c->v[i].nheld = py_tstate_held(rt, c->v[i].t.tstate,
		    c->v[i].held, PY_HELD);
		c->holds[i].thread_id = c->v[i].t.thread_id;
		c->holds[i].locks = c->v[i].held;
		c->holds[i].n = c->v[i].nheld > 0 ? c->v[i].nheld : 0;
	}
	return c->holds;
}

/* p waits for the Python lock l (py_tstate_waits): who holds it. */
static void
lock_wait(const struct py_runtime *rt, struct collect *c, struct pyt *p,
    const struct py_lock *l)
{
	struct py_holds *holds;
	unsigned long h;
	int inferred = 0;
	pid_t owner;

	if ((holds = holds_of(rt, c)) == NULL)
		return;
	h = py_lock_holder(l, holds, (int)c->n, &inferred);
	owner = tid_of(c, h);
	if (l->kind == PY_LOCK_RLOCK)
		set_wait(p->ot, GW_LOCK_SEM, py_lock_addr(rt, l), owner,
		    (unsigned)l->count, 0, owner != 0 ? "an RLock: its owner "
		    "is recorded in it" : "an RLock with no owner recorded as "
		    "it was read");
	else
		set_wait(p->ot, GW_LOCK_SEM, py_lock_addr(rt, l), owner, 1,
		    inferred,
		    owner != 0 ? "a threading.Lock: its holder is the thread "
		    "whose with block holds it (a Lock records no owner)" :
		    "a threading.Lock records no owner, and no with block "
		    "was seen holding it (a bare acquire()?)");
	p->ot->wait.py_type = l->kind == PY_LOCK_RLOCK ? "threading.RLock" :
	    "threading.Lock";
	p->ot->wait.py_object = l->object;
}

/* The thread whose held critical section locks the PyMutex at m, 0. */
static pid_t
cs_holder(const struct py_runtime *rt, const struct collect *c, uintptr_t m)
{
	const struct outside_thread *ot;
	size_t i;
	int k;

	for (i = 0; i < c->n; i++)
		for (k = 0; (ot = c->v[i].ot) != NULL && k < ot->ncs; k++)
			if (py_cs_holds(rt, ot->cs[k].state, ot->cs[k].object,
			    ot->cs[k].object2, m))
				return c->v[i].t.tid;
	return 0;
}

/*
 * A thread entering a critical section sleeps in the parking lot on its
 * object's lock: a wait for that PyMutex (the wait_entry names it), held
 * by the thread whose held section locks it, as gilwatch run shows it.
 * After every thread's sections are read.
 */
static void
cs_waits(const struct py_runtime *rt, const struct collect *c)
{
	struct outside_thread *ot;
	uintptr_t m;
	pid_t owner;
	size_t i;

	for (i = 0; i < c->n; i++) {
		if ((ot = c->v[i].ot) == NULL || ot->ncs == 0 ||
		    ot->cs[0].state != PY_CS_ENTERING ||
		    (m = py_parked_word(rt, futex_word(ot))) == 0)
			continue;
		owner = cs_holder(rt, c, m);
		set_wait(ot, GW_LOCK_PYMUTEX, m, owner, 1, 0, owner != 0 ?
		    "a critical section's object lock: its holder is the "
		    "thread whose critical section holds it" : "a PyMutex "
		    "records no owner, and no critical section was seen "
		    "holding it");
	}
}

/* The frames of threads [from, from + MEM_PREFETCH_MAX) are read in a
 * few system calls, not two or three each. */
static void
prefetch_frames(const struct py_runtime *rt, const struct collect *c,
    size_t from)
{
	uintptr_t ts[MEM_PREFETCH_MAX];
	size_t i, n = 0;

	for (i = from; i < c->n && n < MEM_PREFETCH_MAX; i++)
		ts[n++] = c->v[i].t.tstate;
	py_tstates_prefetch(rt, ts, n);
}

static void
fill(const struct py_runtime *rt, struct outside *o, struct collect *c)
{
	struct py_gil_state gil;
	struct py_frame *buf;
	struct outside_thread *ot;
	struct py_lock l;
	pid_t holder = 0;
	uintptr_t futex;
	size_t i;
	int on;

	if ((buf = malloc(PY_FRAMES * sizeof *buf)) == NULL)
		return;
	on = py_gil_on(rt) == 1;
	if (on && py_gil_read(rt, &gil) == 0 && gil.locked == 1)
		holder = gil.holder_tid != 0 ? gil.holder_tid :
		    tid_of(c, gil.holder_thread_id);
	/* Every thread of a process with a GIL in use has a GIL state
	 * (a free-threaded build's, once turned back on, too). */
	for (i = 0; i < o->nthreads && on; i++)
		o->threads[i].gil = o->threads[i].task.tid == holder ?
		    GW_GIL_HOLDING : GW_GIL_RELEASED;
	for (i = 0; i < c->n; i++) {
		if (i % MEM_PREFETCH_MAX == 0)
			prefetch_frames(rt, c, i);
		c->v[i].ot = ot = thread_of(o, c->v[i].t.tid);
		if (ot == NULL)
			continue;
		if (rt->free_threaded) {
			ot->py_state = c->v[i].t.state;
			critical_sections(rt, o, &c->v[i], buf);
		}
		(void)py_tstate_name(rt, c->v[i].t.tstate,
		    c->v[i].t.thread_id, c->v[i].t.tid == o->pid, ot->py_name,
		    sizeof ot->py_name);
		frames_of(rt, o, &c->v[i], buf);
		if ((futex = futex_word(ot)) == 0)
			continue;
		if (py_gil_waits(rt, futex)) {
			ot->gil = GW_GIL_WAITING;
			set_wait(ot, GW_LOCK_GIL, rt->gil, holder, 1, 0, "");
		} else if (ot->pw.kind == PY_WAIT_JOIN) {
			ot->wait.owner = tid_of(c, ot->pw.joined);
			/* Up to 3.12 the thread joined holds the lock a
			 * join waits on (its _tstate_lock); from 3.13 the
			 * join waits for an event of its own. */
			ot->owner_holds_nothing = rt->major > 3 ||
			    rt->minor >= 13;
		}
		else if (ot->pw.kind == PY_WAIT_NONE) {
			if (py_tstate_waits(rt, c->v[i].t.tstate, futex,
			    &l) == 0)
				lock_wait(rt, c, &c->v[i], &l);
		} else if (ot->pw.kind == PY_WAIT_NOTIFY &&
		    py_lock_waited(rt, ot->pw.lock, futex, &l) == 0) {
			/* Notified, it takes the Condition's own lock
			 * back: a wait for whoever holds that. */
			memset(&ot->pw, 0, sizeof ot->pw);
			lock_wait(rt, c, &c->v[i], &l);
		}
	}
	if (rt->free_threaded)
		cs_waits(rt, c);
	free(c->holds);
	free(c->held);
	free(buf);
}

/* 3.14+: every thread's event loop and its tasks. */
static void
asyncio_fill(const struct py_runtime *rt, struct outside *o,
    const struct collect *c)
{
	struct py_asyncio a;
	struct py_athread *th;
	size_t i;

	if (py_asyncio_find(rt, o->maps, &a) == -1 ||
	    (th = calloc(c->n + 1, sizeof(*th))) == NULL)
		return;
	for (i = 0; i < c->n; i++) {
		th[i].tstate = c->v[i].t.tstate;
		th[i].tid = c->v[i].t.tid;
	}
	for (i = 0; i < c->n; i++)
		if (c->v[i].ot != NULL)
			c->v[i].ot->loop = asyncio_loop_read(o->arena, rt, &a,
			    c->v[i].t.tstate, th, c->n);
	free(th);
}

static const char *
name_of(const struct outside_thread *t)
{
	return t->py_name[0] != '\0' ? t->py_name : t->task.name;
}

/* py_stw_thread_fn over the Python threads collected. */
static const char *
collected(const void *list, size_t i, pid_t *tid, int *state)
{
	const struct collect *c = list;

	if (c->v[i].ot == NULL)
		return NULL;
	*tid = c->v[i].t.tid;
	*state = c->v[i].t.state;
	return name_of(c->v[i].ot);
}

/*
 * A stop-the-world pause under way, as a note: who asked for it and,
 * while threads are still stopping, the attached ones that hold it up
 * (a thread stops at its next eval breaker; one in a long C call that
 * keeps its thread state attached does not get there).
 */
static void
pause_note(const struct py_runtime *rt, const struct collect *c, char *buf,
    size_t len)
{
	struct py_stw st;

	buf[0] = '\0';
	if (py_stop_the_world(rt, &st) == 1)
		py_stw_note(&st, collected, c, c->n, buf, len);
}

int
py_outside_fill(struct outside *o)
{
	struct py_runtime rt;
	struct collect c = { NULL, 0, 0, NULL, NULL };
	char why[200];

	if (!py_outside_present(o->maps))
		return 0;
	if (py_attach_maps(o->maps, &rt, why, sizeof why) == -1) {
		snprintf(o->py_note, sizeof o->py_note, "CPython not read: "
		    "%s.", why);
		return 0;
	}
	snprintf(o->py_version, sizeof o->py_version, "%s", rt.version);
	/* This dump's copies (may be NULL: then all is read afresh). */
	rt.cache = py_cache_new();
	if (py_thread_list(&rt, collect, &c) == -1) {
		snprintf(o->py_note, sizeof o->py_note, "CPython %d.%d.%d: "
		    "its thread list could not be read.", rt.major, rt.minor,
		    rt.micro);
		py_cache_free(rt.cache);
		free(c.v);
		return 0;
	}
	fill(&rt, o, &c);
	asyncio_fill(&rt, o, &c);
	if (rt.free_threaded)
		pause_note(&rt, &c, o->py_pause, sizeof o->py_pause);
	py_cache_free(rt.cache);
	free(c.v);
	if (rt.partial[0] != '\0')
		snprintf(o->py_note, sizeof o->py_note, "%s", rt.partial);
	else if (rt.free_threaded && py_gil_on(&rt) == 1)
		snprintf(o->py_note, sizeof o->py_note, "CPython %s, "
		    "free-threaded build with its GIL turned on (PYTHON_GIL=1, "
		    "-X gil=1 or an extension module): the GIL as on other "
		    "builds.", rt.version);
	else if (rt.free_threaded)
		snprintf(o->py_note, sizeof o->py_note, "CPython %s, "
		    "free-threaded build: no GIL (each Python thread is "
		    "attached, detached or suspended instead).", rt.version);
	return 0;
}

_Static_assert(PY_TS_UNKNOWN == GW_PYSTATE_NONE && PY_TS_ATTACHED ==
    GW_PYSTATE_ATTACHED && PY_TS_DETACHED == GW_PYSTATE_DETACHED &&
    PY_TS_SUSPENDED == GW_PYSTATE_SUSPENDED, "thread states as snapshot.h");
_Static_assert(PY_CS_HELD == GW_CS_HELD && PY_CS_SUSPENDED ==
    GW_CS_SUSPENDED && PY_CS_ENTERING == GW_CS_ENTERING,
    "critical section states as snapshot.h");
