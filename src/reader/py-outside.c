/*
 * The CPython part of reading a process from outside (outside.h): the
 * interpreter found by py_attach, then for every Python thread its
 * threading name and GIL state, and for one blocked on a Python lock
 * who holds that lock (an RLock's recorded owner, a Lock's holder
 * inferred from its `with` block) or, in a join, the thread joined.
 * Nothing is stopped.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>

#include "gilwatch/snapshot.h"
#include "outside.h"
#include "py.h"

#define HELD_MAX	16	/* locks per thread held by `with` blocks */

struct pyt {
	struct py_thread	 t;
	struct outside_thread	*ot;		/* NULL: no such task */
	uintptr_t		 futex;		/* the word it waits on */
	struct py_lock		 waits;		/* kind NONE: not a lock's */
	struct py_lock		 held[HELD_MAX];
	int			 nheld;
};

struct list {
	struct pyt	*v;
	size_t		 n, cap;
};

static int
collect(const struct py_thread *t, void *arg)
{
	struct list *l = arg;
	struct pyt *v;

	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 64;
		if ((v = realloc(l->v, l->cap * sizeof(*v))) == NULL)
			return 1;
		l->v = v;
	}
	memset(&l->v[l->n], 0, sizeof(l->v[l->n]));
	l->v[l->n++].t = *t;
	return 0;
}

static struct outside_thread *
task_of(struct outside *o, pid_t tid)
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
tid_of(const struct list *l, unsigned long thread_id)
{
	for (size_t i = 0; i < l->n; i++)
		if (l->v[i].t.thread_id == thread_id)
			return l->v[i].t.tid;
	return 0;
}

/* The futex word a thread waits on (WAIT or WAIT_BITSET), or 0. */
static uintptr_t
futex_word(const struct task *t)
{
	if (t->syscall != SYS_futex || ((t->args[1] & 0x7f) != 0 &&
	    (t->args[1] & 0x7f) != 9))
		return 0;
	return (uintptr_t)t->args[0];
}

/* A blocked thread: the Python lock's holder, or the thread it joins. */
static void
py_wait_fill(const struct py_runtime *rt, struct list *l,
    const struct py_holds *holds, struct pyt *p)
{
	struct glibc_wait *w = &p->ot->wait;
	struct py_frame frames[8];
	struct py_wait pw;
	unsigned long who;
	int inferred, n;

	if (p->waits.kind != PY_LOCK_NONE) {
		who = py_lock_holder(&p->waits, holds, (int)l->n, &inferred);
		w->owner = who != 0 ? tid_of(l, who) : 0;
		w->inferred = w->owner != 0 && inferred;
		snprintf(w->note, sizeof(w->note), "threading.%s at 0x%lx%s",
		    p->waits.kind == PY_LOCK_RLOCK ? "RLock" : "Lock",
		    (unsigned long)p->waits.object, w->owner == 0 ?
		    ": holder not seen (taken outside a `with` block, or the "
		    "lock is private)" : inferred ? ": holder inferred from "
		    "its `with` block" : ": owner recorded by the RLock");
		return;
	}
	if ((n = py_tstate_frames(rt, p->t.tstate, frames, 8)) > 0 &&
	    py_thread_wait(rt, p->t.thread_id, frames, n, &pw) == 0 &&
	    pw.kind == PY_WAIT_JOIN && pw.joined != 0 &&
	    (w->owner = tid_of(l, pw.joined)) != 0) {
		w->kind = GW_LOCK_THREAD;
		w->state = GW_STATE_JOINING;
		w->addr = pw.object;
		snprintf(w->note, sizeof(w->note), "threading.Thread.join");
	}
}

/*
 * The locks every thread holds by `with` blocks: a walk of every frame
 * of every thread, so only when some thread waits for a Lock.
 */
static void
holds_fill(const struct py_runtime *rt, struct list *l,
    struct py_holds *holds)
{
	for (size_t i = 0; i < l->n; i++) {
		struct pyt *p = &l->v[i];

		if ((p->nheld = py_tstate_held(rt, p->t.tstate, p->held,
		    HELD_MAX)) < 0)
			p->nheld = 0;
		holds[i].thread_id = p->t.thread_id;
		holds[i].locks = p->held;
		holds[i].n = p->nheld;
	}
}

int
py_outside_fill(struct outside *o)
{
	struct py_runtime rt;
	struct py_gil_state gil;
	struct py_holds *holds = NULL;
	struct list l = { NULL, 0, 0 };
	char why[200];
	int lock_waits = 0;

	if (py_attach(o->pid, &rt, why, sizeof(why)) == -1) {
		if (strncmp(why, "not CPython", 11) != 0)
			snprintf(o->py_note, sizeof(o->py_note), "CPython not "
			    "read from outside: %s", why);
		return 0;
	}
	if (py_gil_read(&rt, &gil) == -1)
		memset(&gil, 0, sizeof(gil));
	if (py_thread_list(&rt, collect, &l) == -1 ||
	    (holds = calloc(l.n + 1, sizeof(*holds))) == NULL) {
		snprintf(o->py_note, sizeof(o->py_note), "CPython %d.%d.%d: "
		    "its thread list is unreadable", rt.major, rt.minor,
		    rt.micro);
		free(l.v);
		return 0;
	}
	for (size_t i = 0; i < l.n; i++) {
		struct pyt *p = &l.v[i];

		if ((p->ot = task_of(o, p->t.tid)) == NULL)
			continue;
		py_tstate_name(&rt, p->t.tstate, p->t.thread_id,
		    p->ot->py_name, sizeof(p->ot->py_name));
		p->ot->gil = gil.locked == 1 && gil.holder_tid == p->t.tid ?
		    GW_GIL_HOLDING : GW_GIL_RELEASED;
		if (p->ot->gil == GW_GIL_HOLDING ||
		    (p->futex = futex_word(&p->ot->task)) == 0)
			continue;
		if (py_gil_waits(&rt, p->futex))
			p->ot->gil = GW_GIL_WAITING;
		else if (py_tstate_waits(&rt, p->t.tstate, p->futex,
		    &p->waits) == 0 && p->waits.kind == PY_LOCK_LOCK)
			lock_waits++;
	}
	if (lock_waits > 0)
		holds_fill(&rt, &l, holds);
	for (size_t i = 0; i < l.n; i++)
		if (l.v[i].futex != 0 && l.v[i].ot->gil != GW_GIL_WAITING)
			py_wait_fill(&rt, &l, holds, &l.v[i]);
	snprintf(o->py_note, sizeof(o->py_note), "CPython %d.%d.%d: the GIL, "
	    "thread names and Python lock owners read from outside; Python "
	    "frames are not merged into native stacks yet.", rt.major,
	    rt.minor, rt.micro);
	free(holds);
	free(l.v);
	return 0;
}
