/*
 * The text report, modelled on a Java thread dump: a deadlock section
 * first when there is one, then every thread with its state, the lock it
 * waits for and who holds it, the locks it holds, and its stack.  The
 * same writer serves a snapshot taken inside the program (the shim) and
 * one read from outside (gilwatch dump of a process not under gilwatch).
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "format.h"
#include "out.h"

static const char *reason_names[] = {
	[GW_REASON_API] = "api",
	[GW_REASON_SIGNAL] = "signal",
	[GW_REASON_REQUEST] = "request",
	[GW_REASON_DEADLOCK] = "deadlock",
	[GW_REASON_STALL] = "stall",
};

const char *
report_reason_name(enum gw_snapshot_reason r)
{
	return r <= GW_REASON_STALL ? reason_names[r] : "?";
}

/* " (file:line" and then end, as "%s:%d" and end would print them. */
static void
text_file_line(struct out *o, const char *file, int line, const char *end)
{
	out_puts(o, " (");
	out_puts(o, file);
	out_puts(o, ":");
	if (line < 0) {
		out_puts(o, "-");
		out_putu(o, -(unsigned long)line);
	} else
		out_putu(o, (unsigned long)line);
	out_puts(o, end);
}

/* "func+0x1f (file.c:30) in module", with what is known of it. */
void
report_text_frame(struct out *o, const struct gw_frame *f)
{
	const char *mod;

	if (f->kind == GW_FRAME_INVALID) {
		out_puts(o, "<invalid>");
		return;
	}
	if (f->kind == GW_FRAME_PYTHON) {
		/* "%s (%s:%d) [py]", in pieces: the commonest line. */
		out_puts(o, f->function != NULL ? f->function : "???");
		text_file_line(o, f->file != NULL ? f->file : "???", f->line,
		    ") [py]");
		return;
	}
	/* "%s+0x%zx (%s:%d) in %s", in pieces: a thousand stacks deep. */
	if (f->function != NULL) {
		out_puts(o, f->function);
		out_puts(o, "+0x");
		out_putx(o, (unsigned long)f->offset);
	} else {
		out_puts(o, "0x");
		out_putx(o, (unsigned long)f->ip);
	}
	if (f->file != NULL)
		text_file_line(o, f->file, f->line, ")");
	if (f->module != NULL) {
		mod = strrchr(f->module, '/');
		out_puts(o, " in ");
		out_puts(o, mod != NULL ? mod + 1 : f->module);
	}
}

/*
 * A lock by its kind and address; a Python lock by its type, and its
 * object where that is not the address (a semaphore lock's semaphore
 * names it as the shim's hooks see it, the same in and out of it).
 */
static void
text_lock(struct out *o, const struct gw_lock_info *l)
{
	if (l->py_type != NULL) {
		out_printf(o, "%s <0x%zx>", l->py_type, (size_t)l->addr);
		if (l->py_object != 0 && l->py_object != l->addr)
			out_printf(o, " (object 0x%zx)", (size_t)l->py_object);
	} else
		out_printf(o, "%s%s <0x%zx>", gw_lock_kind_name(l->kind),
		    l->kind == GW_LOCK_RWLOCK ? (l->mode == GW_MODE_SHARED ?
		    " (read)" : " (write)") : "", (size_t)l->addr);
	if (l->name != NULL)
		out_printf(o, " (%s)", l->name);
}

/*
 * Does l record who holds it?  A semaphore does not, nor a
 * threading.Lock (either may be released by any thread): what the
 * report names is who took it last.  An RLock records its owner.
 */
static int
has_owner(const struct gw_lock_info *l)
{
	return l->kind != GW_LOCK_SEM || (l->py_type != NULL &&
	    strcmp(l->py_type, "threading.RLock") == 0);
}


/* Is anything known of f?  A Python frame named from a code object
 * alone has no address. */
static int
frame_known(const struct gw_frame *f)
{
	return f->ip != 0 || f->kind != GW_FRAME_NATIVE;
}

static const char *
thread_label(const struct gw_snapshot *s, pid_t tid, char *buf, size_t len)
{
	const struct gw_thread_info *t = gw_snapshot_thread(s, tid);

	snprintf(buf, len, "\"%s\" tid=%d", t != NULL && t->name != NULL ?
	    t->name : "?", (int)tid);
	return buf;
}

static void
text_deadlock(struct out *o, const struct gw_snapshot *s,
    const struct gw_deadlock *d)
{
	const struct gw_deadlock_link *l;
	char a[96], b[96];
	size_t i;
	int tasks;

	for (i = 0; i < d->nlinks && d->links[i].task == 0; i++)
		;
	out_printf(o, "Found one deadlock (%zu %s%s):\n", d->nlinks,
	    i < d->nlinks ? "asyncio tasks and thread" : "thread",
	    d->nlinks == 1 ? "" : "s");
	out_puts(o, "=============================\n");
	/* With tasks in it or held up by it, each thread's running task
	 * and Python stack go under its link, as a task's stack does. */
	tasks = i < d->nlinks || d->nwaiters > 0;
	for (i = 0; i < d->nlinks; i++) {
		l = &d->links[i];
		if (l->task != 0) {
			report_text_task_link(o, s, l,
			    &d->links[(i + 1) % d->nlinks]);
			continue;
		}
		if (l->result_of != 0)
			report_text_result_link(o, s, l);
		else if (l->waits_for.kind == GW_LOCK_THREAD)
			out_printf(o, "%s:\n  waiting for %s to end (a join)\n",
			    thread_label(s, l->tid, a, sizeof a),
			    thread_label(s, l->held_by, b, sizeof b));
		if (l->result_of != 0 || l->waits_for.kind == GW_LOCK_THREAD) {
			if (tasks)
				report_text_link_thread(o, s, l->tid);
			continue;
		}
		out_printf(o, "%s:\n  waiting to lock ",
		    thread_label(s, l->tid, a, sizeof a));
		text_lock(o, &l->waits_for);
		/* A Python lock's first sight is inside the interpreter. */
		if (l->waits_for.py_type == NULL &&
		    frame_known(&l->waits_for.first_seen)) {
			out_puts(o, " (first seen at ");
			report_text_frame(o, &l->waits_for.first_seen);
			out_puts(o, ")");
		}
		out_printf(o, ",\n  which %s %s",
		    !has_owner(&l->waits_for) ? "was last taken by" :
		    "is held by", thread_label(s, l->held_by, b, sizeof b));
		if (l->held_by == l->tid)
			out_puts(o, " itself");
		if (frame_known(&l->acquired_at)) {
			out_puts(o, ", acquired at ");
			report_text_frame(o, &l->acquired_at);
		}
		if (!has_owner(&l->waits_for))
			out_printf(o, "\n  (a hint: %s)",
			    l->waits_for.py_type != NULL ? "a Lock records no "
			    "owner" : "a semaphore has no owner");
		out_puts(o, "\n");
		if (tasks)
			report_text_link_thread(o, s, l->tid);
	}
	report_text_waiters(o, s, d);
	out_puts(o, "\n");
}

/*
 * "waiting for a notify on Condition <0x..> (Semaphore <0x..>._cond),
 * at Semaphore.acquire (threading.py:507)": the Python object in place
 * of the private lock Condition.wait blocks on; for a join, the thread.
 */
static void
text_py_wait(struct out *o, const struct gw_wait *w,
    const struct gw_snapshot *s)
{
	char a[96];

	if (w->py_kind == GW_PYWAIT_NOTIFY)
		out_printf(o, "   - waiting for a notify on %s <0x%zx>",
		    w->py_type, (size_t)w->py_object);
	else
		out_printf(o, "   - waiting for %s <0x%zx> to end", w->py_type,
		    (size_t)w->py_object);
	if (w->py_via_type != NULL)
		out_printf(o, " (%s <0x%zx>.%s)", w->py_via_type,
		    (size_t)w->py_via, w->py_via_attr != NULL ?
		    w->py_via_attr : "?");
	if (w->nowners > 0)
		out_printf(o, ": %s", thread_label(s, w->owners[0], a,
		    sizeof a));
	if (w->timed)
		out_puts(o, " (with a timeout)");
	out_puts(o, ",\n     at ");
	report_text_frame(o, &w->py_at);
	out_puts(o, "\n");
}

/* A critical section of a free-threaded CPython thread. */
static void
text_cs(struct out *o, const struct gw_critical_section *c)
{
	if (c->state == GW_CS_ENTERING) {
		out_puts(o, "   - entering a critical section: waits for its "
		    "object's lock (the object is recorded once taken)\n");
		return;
	}
	out_printf(o, "   - %s critical section on %s <0x%lx>",
	    c->state == GW_CS_HELD ? "in a" : "in a suspended",
	    c->type != NULL ? c->type : "?", (unsigned long)c->object);
	if (c->object2 != 0)
		out_printf(o, " and %s <0x%lx>", c->type2 != NULL ? c->type2 :
		    "?", (unsigned long)c->object2);
	out_puts(o, c->state == GW_CS_HELD ? " (its lock held)\n" :
	    " (released while detached)\n");
}

static void
text_thread(struct out *o, const struct gw_thread_info *t,
    const struct gw_snapshot *s)
{
	char a[96];
	size_t i;

	out_printf(o, "\"%s\" tid=%d %s",
	    t->name != NULL ? t->name : "?", (int)t->tid,
	    gw_thread_state_name(t->state));
	/* From outside, no time is known: the kernel's view instead. */
	if (s->source != GW_SOURCE_INSIDE && t->os_state != '\0')
		out_printf(o, " (kernel state %c%s%s)", t->os_state,
		    t->os_syscall != NULL ? ", in " : "",
		    t->os_syscall != NULL ? t->os_syscall : "");
	else if (s->source != GW_SOURCE_INSIDE && t->os_syscall != NULL)
		out_printf(o, " (in %s)", t->os_syscall);
	else if (s->source == GW_SOURCE_INSIDE)
		out_printf(o, " for %.3fs", t->state_seconds);
	if ((t->gil == GW_GIL_HOLDING || t->gil == GW_GIL_WAITING) &&
	    s->source != GW_SOURCE_INSIDE)
		out_printf(o, ", %s the GIL", t->gil == GW_GIL_HOLDING ?
		    "holds" : "waits for");
	else if (t->gil == GW_GIL_HOLDING || t->gil == GW_GIL_WAITING)
		out_printf(o, ", %s the GIL for %.3fs",
		    t->gil == GW_GIL_HOLDING ? "holds" : "waits for",
		    t->gil_seconds);
	else if (t->gil == GW_GIL_RELEASED)
		out_puts(o, ", GIL released");
	if (t->py_state != GW_PYSTATE_NONE)
		out_printf(o, ", Python %s", gw_py_state_name(t->py_state));
	if (t->realtime != NULL)
		out_printf(o, ", real-time %s %d", t->realtime,
		    t->sched_priority);
	out_puts(o, "\n");
	if (t->waiting != NULL && t->waiting->py_kind != GW_PYWAIT_NONE)
		text_py_wait(o, t->waiting, s);
	else if (t->waiting != NULL) {
		const struct gw_wait *w = t->waiting;

		if (w->lock.kind == GW_LOCK_THREAD)
			out_puts(o, "   - waiting for a thread to end:");
		else {
			out_puts(o, t->state == GW_STATE_WAITING ?
			    "   - waiting on " : "   - waiting to lock ");
			text_lock(o, &w->lock);
		}
		if (w->timed)
			out_puts(o, " (with a timeout)");
		for (i = 0; i < w->nowners; i++) {
			out_printf(o, "%s %s", i > 0 ? "," :
			    w->lock.kind == GW_LOCK_THREAD ? "" :
			    !has_owner(&w->lock) ? " last taken by" :
			    " held by",
			    thread_label(s, w->owners[i], a, sizeof a));
		}
		if (w->nowners > 0 && !has_owner(&w->lock))
			out_printf(o, " (a hint: %s)", w->lock.py_type !=
			    NULL ? "any thread may release a Lock" :
			    "any thread may post");
		out_puts(o, "\n");
	}
	if (t->waiting != NULL && (t->waiting->note != NULL ||
	    t->waiting->inferred))
		out_printf(o, "     (%s%s%s)\n", t->waiting->inferred ?
		    "inferred" : "", t->waiting->inferred &&
		    t->waiting->note != NULL ? ": " : "",
		    t->waiting->note != NULL ? t->waiting->note : "");
	for (i = 0; i < t->nheld; i++) {
		out_puts(o, "   - locked ");
		text_lock(o, &t->held[i].lock);
		if (t->held[i].count > 1)
			out_printf(o, " x%u", t->held[i].count);
		if (!has_owner(&t->held[i].lock))
			out_puts(o, " (taken last, a hint)");
		if (frame_known(&t->held[i].acquired_at)) {
			out_puts(o, " at ");
			report_text_frame(o, &t->held[i].acquired_at);
		}
		out_puts(o, "\n");
	}
	for (i = 0; i < t->ncritical; i++)
		text_cs(o, &t->critical[i]);
	if (t->critical_truncated)
		out_puts(o, "   - ... (more critical sections)\n");
	if (t->stack_note != NULL)
		out_printf(o, "   (no stack: %s)\n", t->stack_note);
	for (i = 0; i < t->nframes; i++) {
		out_puts(o, "    #");		/* "    #%-2zu " */
		out_putu(o, i);
		out_puts(o, i < 10 ? "  " : " ");
		report_text_frame(o, &t->frames[i]);
		out_puts(o, "\n");
	}
	if (t->frames_truncated)
		out_puts(o, "    ... (truncated)\n");
	out_puts(o, "\n");
	report_text_loop(o, t, s);
}

void
report_text_thread(struct out *o, const struct gw_thread_info *t,
    const struct gw_snapshot *s)
{
	text_thread(o, t, s);
}

/*
 * What a reader from outside could not know, and what it stopped: the
 * header of a dump of a process not started under gilwatch, or of a
 * core file.
 */
static void
text_outside(struct out *o, const struct gw_snapshot *s)
{
	size_t i;

	if (s->source == GW_SOURCE_CORE) {
		out_printf(o, "Read from the core file %s", s->core_file);
		if (s->core_signal != 0)
			out_printf(o, ", dumped on signal %d (%s)",
			    s->core_signal, strsignal(s->core_signal));
		else
			out_puts(o, ", taken while the process ran (gcore)");
		out_puts(o, ":\nthere are no kernel thread states, no thread "
		    "names but the main thread's\n(a core records only the "
		    "process name), no hold or wait times, no\nacquisition "
		    "sites, no statistics, and a lock is seen only when a "
		    "thread\nwaits for it.\n");
	} else if (s->shim_helperless)
		out_puts(o, "Read from outside: gilwatch in the process has no "
		    "helper thread to ask\n(a single-threaded program), so "
		    "there are no hold or wait times, no\nacquisition sites, "
		    "no statistics, and a lock is seen only when a thread\n"
		    "waits for it.\n");
	else
		out_puts(o, "Read from outside: the process was not started "
		    "under gilwatch, so there are\nno hold or wait times, no "
		    "acquisition sites, no statistics, and a lock is\nseen "
		    "only when a thread waits for it.\n");
	for (i = 0; i < s->nnotes; i++)
		out_printf(o, "%s\n", s->notes[i]);
	if (s->stopped_threads > 0)
		out_printf(o, "Stopped %zu thread%s to unwind native stacks: "
		    "%.3f ms at most, %.3f ms in all.\n", s->stopped_threads,
		    s->stopped_threads == 1 ? "" : "s",
		    s->stopped_max_seconds * 1e3,
		    s->stopped_total_seconds * 1e3);
	else if (s->source == GW_SOURCE_OUTSIDE)
		out_puts(o, "Nothing was stopped.\n");	/* a core: nothing to */
	out_puts(o, "\n");
}

void
report_text(struct out *o, const struct gw_snapshot *s)
{
	char when[64];
	time_t secs = (time_t)s->time;
	struct tm tm;
	size_t i;

	localtime_r(&secs, &tm);
	strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", &tm);
	out_printf(o, "gilwatch %s: pid %d (%s), %s, %zu thread%s\n\n",
	    s->reason == GW_REASON_DEADLOCK ? "deadlock report" :
	    s->reason == GW_REASON_STALL ? "stall report" : "thread dump",
	    (int)s->pid, s->command != NULL ? s->command : "?",
	    when, s->nthreads, s->nthreads == 1 ? "" : "s");
	if (s->source != GW_SOURCE_INSIDE)
		text_outside(o, s);
	else if (s->nnotes > 0) {
		/* From inside: a free-threaded CPython's pause. */
		for (i = 0; i < s->nnotes; i++)
			out_printf(o, "%s\n", s->notes[i]);
		out_puts(o, "\n");
	}
	if (s->reason == GW_REASON_STALL)
		out_puts(o, "Every thread waits, with no timeout, for another "
		    "thread of this process: none can go on by itself.\n\n");
	for (i = 0; i < s->ndeadlocks; i++)
		text_deadlock(o, s, &s->deadlocks[i]);
	for (i = 0; i < s->nthreads; i++)
		text_thread(o, &s->threads[i], s);
}
