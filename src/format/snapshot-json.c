/*
 * The JSON report: one document per line, so an output file that
 * collects several reports can be read a line at a time.  The schema is
 * in gilwatch(1), section JSON OUTPUT.
 */
#include <stdio.h>

#include "format.h"
#include "out.h"

void
report_json_frame(struct out *o, const struct gw_frame *f)
{
	static const char *kinds[] = { "native", "python", "invalid" };

	out_printf(o, "{\"kind\":\"%s\",\"ip\":\"0x%zx\",\"function\":",
	    kinds[f->kind <= GW_FRAME_INVALID ? f->kind : GW_FRAME_INVALID],
	    (size_t)f->ip);
	out_json_str(o, f->function);
	out_printf(o, ",\"offset\":%zu,\"module\":", (size_t)f->offset);
	out_json_str(o, f->module);
	out_puts(o, ",\"file\":");
	out_json_str(o, f->file);
	out_printf(o, ",\"line\":%d}", f->line);
}

static void
json_lock(struct out *o, const struct gw_lock_info *l)
{
	out_printf(o, "{\"addr\":\"0x%zx\",\"kind\":\"%s\",\"mode\":\"%s\","
	    "\"first_seen\":", (size_t)l->addr, gw_lock_kind_name(l->kind),
	    l->mode == GW_MODE_SHARED ? "shared" : "exclusive");
	report_json_frame(o, &l->first_seen);
	out_puts(o, ",\"name\":");
	out_json_str(o, l->name);
	out_puts(o, ",\"py_type\":");
	out_json_str(o, l->py_type);
	if (l->py_object != 0)
		out_printf(o, ",\"py_object\":\"0x%zx\"}",
		    (size_t)l->py_object);
	else
		out_puts(o, ",\"py_object\":null}");
}

/* What the Python code waits on, or null. */
static void
json_py_wait(struct out *o, const struct gw_wait *w)
{
	if (w->py_kind == GW_PYWAIT_NONE) {
		out_puts(o, "null");
		return;
	}
	out_printf(o, "{\"waits_for\":\"%s\",\"type\":",
	    w->py_kind == GW_PYWAIT_NOTIFY ? "notify" : "join");
	out_json_str(o, w->py_type);
	out_printf(o, ",\"object\":\"0x%zx\",\"via\":", (size_t)w->py_object);
	if (w->py_via_type != NULL) {
		out_puts(o, "{\"type\":");
		out_json_str(o, w->py_via_type);
		out_printf(o, ",\"object\":\"0x%zx\",\"attribute\":",
		    (size_t)w->py_via);
		out_json_str(o, w->py_via_attr);
		out_puts(o, "}");
	} else
		out_puts(o, "null");
	out_puts(o, ",\"at\":");
	report_json_frame(o, &w->py_at);
	out_puts(o, "}");
}

/*
 * A semaphore has no owner: who holds it is who took it last, a hint
 * ("true" where the report says so).
 */
static const char *
hint(int kind)
{
	return kind == GW_LOCK_SEM ? "true" : "false";
}

static void
json_wait(struct out *o, const struct gw_wait *w)
{
	size_t i;

	out_puts(o, "{\"lock\":");
	json_lock(o, &w->lock);
	out_printf(o, ",\"timed\":%s,\"owners_hint\":%s,\"owners\":[",
	    w->timed ? "true" : "false", hint(w->lock.kind));
	for (i = 0; i < w->nowners; i++) {
		out_printf(o, "%s{\"tid\":%d,\"acquired_at\":", i ? "," : "",
		    (int)w->owners[i]);
		report_json_frame(o, &w->owner_acquired_at[i]);
		out_puts(o, "}");
	}
	out_puts(o, "],\"python\":");
	json_py_wait(o, w);
	out_printf(o, ",\"inferred\":%s,\"note\":", w->inferred ? "true" :
	    "false");
	out_json_str(o, w->note);
	out_puts(o, "}");
}

/* Seconds, or null from outside where no time is known. */
static void
json_seconds(struct out *o, int outside, double v)
{
	if (outside)
		out_puts(o, "null");
	else
		out_printf(o, "%.6f", v);
}

static void
json_addr(struct out *o, uintptr_t a)
{
	if (a != 0)
		out_printf(o, "\"0x%lx\"", (unsigned long)a);
	else
		out_puts(o, "null");
}

static void
json_cs(struct out *o, const struct gw_critical_section *c, size_t i)
{
	out_printf(o, "%s{\"state\":\"%s\",\"object\":", i ? "," : "",
	    gw_cs_state_name(c->state));
	json_addr(o, c->object);
	out_puts(o, ",\"type\":");
	out_json_str(o, c->type);
	out_puts(o, ",\"object2\":");
	json_addr(o, c->object2);
	out_puts(o, ",\"type2\":");
	out_json_str(o, c->type2);
	out_puts(o, "}");
}

static void
json_thread(struct out *o, const struct gw_thread_info *t, int outside)
{
	size_t i;

	out_printf(o, "{\"tid\":%d,\"name\":", (int)t->tid);
	out_json_str(o, t->name);
	out_printf(o, ",\"state\":\"%s\",\"state_seconds\":",
	    gw_thread_state_name(t->state));
	json_seconds(o, outside, t->state_seconds);
	out_puts(o, ",\"gil\":");
	if (t->gil == GW_GIL_NONE)
		out_puts(o, "null");
	else {
		out_printf(o, "{\"state\":\"%s\",\"seconds\":",
		    gw_gil_state_name(t->gil));
		json_seconds(o, outside, t->gil_seconds);
		out_puts(o, "}");
	}
	out_puts(o, ",\"python_state\":");
	if (t->py_state == GW_PYSTATE_NONE)
		out_puts(o, "null");
	else
		out_printf(o, "\"%s\"", gw_py_state_name(t->py_state));
	/* A core has the system call but no kernel state: null. */
	if (outside) {
		out_puts(o, ",\"os\":{\"state\":");
		if (t->os_state != '\0')
			out_printf(o, "\"%c\"", t->os_state);
		else
			out_puts(o, "null");
		out_puts(o, ",\"syscall\":");
		out_json_str(o, t->os_syscall);
		out_puts(o, "}");
	} else
		out_puts(o, ",\"os\":null");
	if (t->realtime != NULL)
		out_printf(o, ",\"realtime\":{\"policy\":\"%s\","
		    "\"priority\":%d}", t->realtime, t->sched_priority);
	out_puts(o, ",\"held\":[");
	for (i = 0; i < t->nheld; i++) {
		out_puts(o, i ? ",{\"lock\":" : "{\"lock\":");
		json_lock(o, &t->held[i].lock);
		out_puts(o, ",\"acquired_at\":");
		report_json_frame(o, &t->held[i].acquired_at);
		out_printf(o, ",\"count\":%u,\"hint\":%s}", t->held[i].count,
		    hint(t->held[i].lock.kind));
	}
	out_puts(o, "],\"critical_sections\":[");
	for (i = 0; i < t->ncritical; i++)
		json_cs(o, &t->critical[i], i);
	out_printf(o, "],\"critical_sections_truncated\":%s",
	    t->critical_truncated ? "true" : "false");
	out_puts(o, ",\"waiting_for\":");
	if (t->waiting != NULL)
		json_wait(o, t->waiting);
	else
		out_puts(o, "null");
	out_printf(o, ",\"stack\":\"%s\",\"stack_note\":",
	    gw_stack_status_name(t->stack_status));
	out_json_str(o, t->stack_note);
	out_puts(o, ",\"frames\":[");
	for (i = 0; i < t->nframes; i++) {
		if (i)
			out_puts(o, ",");
		report_json_frame(o, &t->frames[i]);
	}
	out_printf(o, "],\"frames_truncated\":%s",
	    t->frames_truncated ? "true" : "false");
	report_json_loop(o, t);
	out_puts(o, "}");
}

static void
json_deadlock(struct out *o, const struct gw_deadlock *d)
{
	const struct gw_deadlock_link *l;
	size_t i;

	out_puts(o, "{\"links\":[");
	for (i = 0; i < d->nlinks; i++) {
		l = &d->links[i];
		out_printf(o, "%s{\"tid\":%d,\"waits_for\":", i ? "," : "",
		    (int)l->tid);
		/* A task awaits, a thread waiting for a task's result
		 * waits for a future (result_of): neither locks. */
		if (l->task != 0 || l->result_of != 0)
			out_puts(o, "null");
		else
			json_lock(o, &l->waits_for);
		out_printf(o, ",\"held_by\":%d,\"held_by_hint\":%s,"
		    "\"acquired_at\":", (int)l->held_by,
		    hint(l->waits_for.kind));
		report_json_frame(o, &l->acquired_at);
		report_json_task_link(o, l);
		report_json_result_link(o, l);
		out_puts(o, "}");
	}
	out_puts(o, "]");
	report_json_waiters(o, d);
	out_puts(o, "}");
}

void
report_json_thread(struct out *o, const struct gw_thread_info *t,
    const struct gw_snapshot *s)
{
	json_thread(o, t, s->source != GW_SOURCE_INSIDE);
}

void
report_json(struct out *o, const struct gw_snapshot *s)
{
	size_t i;

	out_printf(o, "{\"gilwatch\":%d,\"pid\":%d,\"command\":", s->version,
	    (int)s->pid);
	out_json_str(o, s->command);
	out_printf(o, ",\"time\":%.6f,\"reason\":\"%s\",\"threads\":[",
	    s->time, report_reason_name(s->reason));
	for (i = 0; i < s->nthreads; i++) {
		if (i)
			out_puts(o, ",");
		json_thread(o, &s->threads[i],
		    s->source != GW_SOURCE_INSIDE);
	}
	out_puts(o, "],\"deadlocks\":[");
	for (i = 0; i < s->ndeadlocks; i++) {
		if (i)
			out_puts(o, ",");
		json_deadlock(o, &s->deadlocks[i]);
	}
	out_printf(o, "],\"source\":\"%s\",\"stopped\":",
	    s->source == GW_SOURCE_OUTSIDE ? "outside" :
	    s->source == GW_SOURCE_CORE ? "core" : "inside");
	if (s->source != GW_SOURCE_INSIDE)
		out_printf(o, "{\"threads\":%zu,\"max_seconds\":%.6f,"
		    "\"total_seconds\":%.6f}", s->stopped_threads,
		    s->stopped_max_seconds, s->stopped_total_seconds);
	else
		out_puts(o, "null");
	if (s->source == GW_SOURCE_CORE) {
		out_puts(o, ",\"core\":{\"file\":");
		out_json_str(o, s->core_file);
		out_printf(o, ",\"signal\":%d}", s->core_signal);
	}
	out_puts(o, ",\"notes\":[");
	for (i = 0; i < s->nnotes; i++) {
		if (i)
			out_puts(o, ",");
		out_json_str(o, s->notes[i]);
	}
	out_puts(o, "]}\n");
}
