/*
 * asyncio in the reports: under a thread that runs an event loop, its
 * tasks with what each awaits and its coroutine stack; in a deadlock,
 * the links that are tasks.  Text and JSON side by side, so that the
 * two cannot drift apart.
 */
#include <stdio.h>
#include <stdlib.h>

#include "format.h"
#include "out.h"

/* Tasks of every loop of the snapshot by address, to name the tasks a
 * task awaits or is awaited by. */
struct tindex {
	const struct gw_task	**v;
	size_t			  n;
};

static int
by_addr(const void *a, const void *b)
{
	uintptr_t x = (*(const struct gw_task *const *)a)->addr;
	uintptr_t y = (*(const struct gw_task *const *)b)->addr;

	return x < y ? -1 : x > y;
}

static void
tindex_build(struct tindex *ix, const struct gw_snapshot *s)
{
	size_t i, k, n = 0;

	ix->v = NULL;
	ix->n = 0;
	for (i = 0; i < s->nthreads; i++)
		if (s->threads[i].loop != NULL)
			n += s->threads[i].loop->ntasks;
	if (n == 0 || (ix->v = malloc(n * sizeof(*ix->v))) == NULL)
		return;
	for (i = 0; i < s->nthreads; i++)
		for (k = 0; s->threads[i].loop != NULL &&
		    k < s->threads[i].loop->ntasks; k++)
			ix->v[ix->n++] = &s->threads[i].loop->tasks[k];
	qsort(ix->v, ix->n, sizeof(*ix->v), by_addr);
}

static const struct gw_task *
tindex_find(const struct tindex *ix, uintptr_t addr)
{
	size_t lo = 0, hi = ix->n, mid;

	while (addr != 0 && lo < hi) {
		mid = (lo + hi) / 2;
		if (ix->v[mid]->addr == addr)
			return ix->v[mid];
		if (ix->v[mid]->addr < addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static const char *
task_name(const struct gw_task *t)
{
	return t != NULL && t->name != NULL ? t->name : "?";
}

static void
text_thread_ref(struct out *o, const struct gw_snapshot *s, pid_t tid)
{
	const struct gw_thread_info *t = gw_snapshot_thread(s, tid);

	out_printf(o, "\"%s\" tid=%d", t != NULL && t->name != NULL ?
	    t->name : "?", (int)tid);
}

/* A task's coroutine stack, each frame after lead and its number. */
static void
text_frames(struct out *o, const char *lead, const struct gw_task *t)
{
	for (size_t i = 0; i < t->nframes; i++) {
		out_puts(o, lead);
		out_putu(o, i);
		out_puts(o, i < 10 ? "  " : " ");
		report_text_frame(o, &t->frames[i]);
		out_puts(o, "\n");
	}
}

/* "awaits task "b" <0x..>", "awaits asyncio.sleep", ... */
static void
text_awaits(struct out *o, const struct gw_snapshot *s,
    const struct tindex *ix, enum gw_await_kind k, uintptr_t task,
    pid_t tid)
{
	switch (k) {
	case GW_AWAIT_TASK:
		out_printf(o, "awaits task \"%s\" <0x%zx>",
		    task_name(tindex_find(ix, task)), (size_t)task);
		break;
	case GW_AWAIT_EXECUTOR:
		out_puts(o, "awaits an executor future, ");
		if (tid != 0) {
			out_puts(o, "run by ");
			text_thread_ref(o, s, tid);
		} else
			out_puts(o, "not running on any worker seen");
		break;
	case GW_AWAIT_SLEEP:
		out_puts(o, "awaits asyncio.sleep");
		break;
	case GW_AWAIT_LOCK:
		out_puts(o, "awaits an asyncio lock (Lock, Semaphore, "
		    "Condition)");
		break;
	case GW_AWAIT_EVENT:
		out_puts(o, "awaits an asyncio.Event");
		break;
	case GW_AWAIT_QUEUE:
		out_puts(o, "awaits an asyncio.Queue");
		break;
	case GW_AWAIT_GATHER:
		out_puts(o, "awaits gather() or a TaskGroup");
		break;
	case GW_AWAIT_FUTURE:
		out_puts(o, "awaits a future");
		break;
	case GW_AWAIT_UNKNOWN:
		out_puts(o, "awaits what could not be read on this build");
		break;
	case GW_AWAIT_NONE:
		out_puts(o, "ready to run");
		break;
	case GW_AWAIT_LOOP:
		out_puts(o, "awaits its loop's thread");
		break;
	}
}

static void
text_task(struct out *o, const struct gw_snapshot *s,
    const struct tindex *ix, const struct gw_task *t)
{
	size_t i, shown = 0;

	if (t->addr == 0)
		out_puts(o, "     running coroutine (task not read)\n");
	else {
		out_printf(o, "     task \"%s\" <0x%zx> %s, ", task_name(t),
		    (size_t)t->addr, gw_task_state_name(t->state));
		if (t->running)
			out_puts(o, "running");
		else
			text_awaits(o, s, ix, t->awaits, t->await_task,
			    t->await_tid);
		if (t->await_object != 0 && !t->running)
			out_printf(o, " (%s <0x%zx>)", t->await_type != NULL ?
			    t->await_type : "?", (size_t)t->await_object);
		out_puts(o, "\n");
		if (t->result_waiter != 0) {
			out_puts(o, "       its result awaited by ");
			text_thread_ref(o, s, t->result_waiter);
			out_printf(o, " (concurrent.futures.Future <0x%zx>)\n",
			    (size_t)t->result_future);
		}
	}
	for (i = 0; i < t->nawaited_by; i++) {
		const struct gw_task *by = tindex_find(ix, t->awaited_by[i]);

		if (by == NULL)
			continue;
		out_printf(o, "%s\"%s\"", shown++ ? ", " :
		    "       awaited by ", task_name(by));
	}
	if (shown)
		out_puts(o, "\n");
	text_frames(o, "       #", t);
}

void
report_text_loop(struct out *o, const struct gw_thread_info *th,
    const struct gw_snapshot *s)
{
	const struct gw_loop *l = th->loop;
	struct tindex ix;
	size_t i;

	if (l == NULL)
		return;
	tindex_build(&ix, s);
	if (l->addr != 0)
		out_printf(o, "   asyncio event loop <0x%zx>, %zu task%s",
		    (size_t)l->addr, l->ntasks, l->ntasks == 1 ? "" : "s");
	else
		out_puts(o, "   asyncio event loop (seen in the frames)");
	if (l->running_task != 0)
		out_printf(o, ", running task \"%s\"",
		    task_name(tindex_find(&ix, l->running_task)));
	out_puts(o, ":\n");
	if (l->note != NULL)
		out_printf(o, "     (%s)\n", l->note);
	for (i = 0; i < l->ntasks; i++)
		text_task(o, s, &ix, &l->tasks[i]);
	out_puts(o, "\n");
	free(ix.v);
}

/* The coroutine stack of the task at addr, under a deadlock's link. */
static void
task_stack(struct out *o, const struct gw_snapshot *s, uintptr_t addr)
{
	const struct gw_task *t;
	struct tindex ix;

	tindex_build(&ix, s);
	if ((t = tindex_find(&ix, addr)) != NULL)
		text_frames(o, "    #", t);
	free(ix.v);
}

/* "awaits an executor future run by ...", "awaits task ..." or, for a
 * link to its loop's thread, what it awaits and that it cannot run. */
static void
text_link_awaits(struct out *o, const struct gw_snapshot *s,
    const struct gw_deadlock_link *l, uintptr_t task, pid_t tid)
{
	const struct gw_task *t;
	struct tindex ix;

	switch (l->task_awaits) {
	case GW_AWAIT_EXECUTOR:
		out_puts(o, "awaits an executor future run by ");
		text_thread_ref(o, s, tid);
		break;
	case GW_AWAIT_LOOP:
		tindex_build(&ix, s);
		if ((t = tindex_find(&ix, l->task)) != NULL)
			text_awaits(o, s, &ix, t->awaits, t->await_task,
			    t->await_tid);
		else
			out_puts(o, "pending");
		free(ix.v);
		out_puts(o, ", and cannot be stepped: its loop's thread ");
		text_thread_ref(o, s, tid);
		out_puts(o, " is blocked outside the loop");
		break;
	default:
		tindex_build(&ix, s);
		out_printf(o, "awaits %stask \"%s\" <0x%zx>", l->task_awaits ==
		    GW_AWAIT_GATHER ? "(through gather() or a TaskGroup) " :
		    "", task_name(tindex_find(&ix, task)), (size_t)task);
		free(ix.v);
		break;
	}
}

/* A deadlock's link that is a task (l->task != 0): what it awaits is
 * the next link, next. */
void
report_text_task_link(struct out *o, const struct gw_snapshot *s,
    const struct gw_deadlock_link *l, const struct gw_deadlock_link *next)
{
	out_printf(o, "task \"%s\" <0x%zx> of the loop of ",
	    l->task_name != NULL ? l->task_name : "?", (size_t)l->task);
	text_thread_ref(o, s, l->tid);
	out_puts(o, ":\n  ");
	if (l->task_awaits == GW_AWAIT_TASK || l->task_awaits ==
	    GW_AWAIT_GATHER)
		out_printf(o, "awaits %stask \"%s\" <0x%zx>",
		    l->task_awaits == GW_AWAIT_GATHER ? "(through gather() or "
		    "a TaskGroup) " : "", next->task_name != NULL ?
		    next->task_name : "?", (size_t)next->task);
	else
		text_link_awaits(o, s, l, next->task, next->tid);
	out_puts(o, "\n");
	task_stack(o, s, l->task);
}

/* A deadlock's link that is a thread waiting for a task's result. */
void
report_text_result_link(struct out *o, const struct gw_snapshot *s,
    const struct gw_deadlock_link *l)
{
	struct tindex ix;

	tindex_build(&ix, s);
	text_thread_ref(o, s, l->tid);
	out_printf(o, ":\n  waits for the result of task \"%s\" <0x%zx> of "
	    "the loop of ", task_name(tindex_find(&ix, l->result_of)),
	    (size_t)l->result_of);
	text_thread_ref(o, s, l->held_by);
	out_printf(o, "\n  (concurrent.futures.Future <0x%zx>, in its "
	    "result())\n", (size_t)l->waits_for.addr);
	free(ix.v);
}

/* Under a thread's link in a deadlock with tasks: the task its loop is
 * stepping, and its Python stack. */
void
report_text_link_thread(struct out *o, const struct gw_snapshot *s,
    pid_t tid)
{
	const struct gw_thread_info *t = gw_snapshot_thread(s, tid);
	struct tindex ix;
	size_t i, k = 0;

	if (t == NULL)
		return;
	if (t->loop != NULL && t->loop->running_task != 0) {
		tindex_build(&ix, s);
		out_printf(o, "  in the step of its loop's running task "
		    "\"%s\" <0x%zx>\n", task_name(tindex_find(&ix,
		    t->loop->running_task)), (size_t)t->loop->running_task);
		free(ix.v);
	}
	for (i = 0; i < t->nframes; i++) {
		if (t->frames[i].kind != GW_FRAME_PYTHON)
			continue;
		out_puts(o, "    #");
		out_putu(o, k);
		out_puts(o, k++ < 10 ? "  " : " ");
		report_text_frame(o, &t->frames[i]);
		out_puts(o, "\n");
	}
}

static void
json_task(struct out *o, const struct gw_task *t)
{
	size_t i;

	out_printf(o, "{\"addr\":\"0x%zx\",\"name\":", (size_t)t->addr);
	out_json_str(o, t->name);
	out_printf(o, ",\"state\":\"%s\",\"running\":%s,\"awaits\":",
	    gw_task_state_name(t->state), t->running ? "true" : "false");
	if (t->running || t->awaits == GW_AWAIT_NONE)
		out_puts(o, "null");
	else {
		out_printf(o, "{\"kind\":\"%s\",\"object\":\"0x%zx\","
		    "\"type\":", gw_await_kind_name(t->awaits),
		    (size_t)t->await_object);
		out_json_str(o, t->await_type);
		if (t->await_task != 0)
			out_printf(o, ",\"task\":\"0x%zx\"",
			    (size_t)t->await_task);
		else
			out_puts(o, ",\"task\":null");
		if (t->await_tid != 0)
			out_printf(o, ",\"tid\":%d}", (int)t->await_tid);
		else
			out_puts(o, ",\"tid\":null}");
	}
	if (t->result_waiter != 0)
		out_printf(o, ",\"result\":{\"future\":\"0x%zx\",\"tid\":%d}",
		    (size_t)t->result_future, (int)t->result_waiter);
	else
		out_puts(o, ",\"result\":null");
	out_puts(o, ",\"awaited_by\":[");
	for (i = 0; i < t->nawaited_by; i++)
		out_printf(o, "%s\"0x%zx\"", i ? "," : "",
		    (size_t)t->awaited_by[i]);
	out_puts(o, "],\"frames\":[");
	for (i = 0; i < t->nframes; i++) {
		if (i)
			out_puts(o, ",");
		report_json_frame(o, &t->frames[i]);
	}
	out_puts(o, "]}");
}

void
report_json_loop(struct out *o, const struct gw_thread_info *th)
{
	const struct gw_loop *l = th->loop;
	size_t i;

	out_puts(o, ",\"asyncio\":");
	if (l == NULL) {
		out_puts(o, "null");
		return;
	}
	if (l->addr != 0)
		out_printf(o, "{\"loop\":\"0x%zx\"", (size_t)l->addr);
	else
		out_puts(o, "{\"loop\":null");
	if (l->running_task != 0)
		out_printf(o, ",\"running_task\":\"0x%zx\"",
		    (size_t)l->running_task);
	else
		out_puts(o, ",\"running_task\":null");
	out_puts(o, ",\"note\":");
	out_json_str(o, l->note);
	out_puts(o, ",\"tasks\":[");
	for (i = 0; i < l->ntasks; i++) {
		if (i)
			out_puts(o, ",");
		json_task(o, &l->tasks[i]);
	}
	out_puts(o, "]}");
}

void
report_json_task_link(struct out *o, const struct gw_deadlock_link *l)
{
	out_puts(o, ",\"task\":");
	if (l->task == 0) {
		out_puts(o, "null");
		return;
	}
	out_printf(o, "{\"addr\":\"0x%zx\",\"name\":", (size_t)l->task);
	out_json_str(o, l->task_name);
	out_printf(o, ",\"awaits\":\"%s\"}", gw_await_kind_name(l->task_awaits));
}

void
report_json_result_link(struct out *o, const struct gw_deadlock_link *l)
{
	out_puts(o, ",\"result_of\":");
	if (l->result_of == 0)
		out_puts(o, "null");
	else
		out_printf(o, "{\"task\":\"0x%zx\",\"future\":\"0x%zx\"}",
		    (size_t)l->result_of, (size_t)l->waits_for.addr);
}

/* Is the task (task != 0) or else the thread tid a link of d? */
static int
in_cycle(const struct gw_deadlock *d, uintptr_t task, pid_t tid)
{
	for (size_t i = 0; i < d->nlinks; i++)
		if (task != 0 ? d->links[i].task == task : d->links[i].task ==
		    0 && d->links[i].tid == tid)
			return 1;
	return 0;
}

/* The tasks a deadlock holds up without their being in it: each at
 * the head of a chain of awaits into the cycle, nearest first. */
void
report_text_waiters(struct out *o, const struct gw_snapshot *s,
    const struct gw_deadlock *d)
{
	const struct gw_deadlock_link *l;

	if (d->nwaiters > 0)
		out_puts(o, "asyncio tasks held up by it, each awaiting a "
		    "link of the cycle or a task held up before it:\n");
	for (size_t i = 0; i < d->nwaiters; i++) {
		l = &d->waiters[i];
		out_printf(o, "task \"%s\" <0x%zx> of the loop of ",
		    l->task_name != NULL ? l->task_name : "?",
		    (size_t)l->task);
		text_thread_ref(o, s, l->tid);
		out_puts(o, ":\n  ");
		text_link_awaits(o, s, l, l->waits_for.addr, l->held_by);
		out_puts(o, in_cycle(d, l->waits_for.addr, l->held_by) ?
		    " (in the cycle)\n" : " (held up)\n");
		task_stack(o, s, l->task);
	}
}

void
report_json_waiters(struct out *o, const struct gw_deadlock *d)
{
	const struct gw_deadlock_link *l;

	out_puts(o, ",\"held_up\":[");
	for (size_t i = 0; i < d->nwaiters; i++) {
		l = &d->waiters[i];
		out_printf(o, "%s{\"tid\":%d,\"task\":\"0x%zx\",\"name\":",
		    i ? "," : "", (int)l->tid, (size_t)l->task);
		out_json_str(o, l->task_name);
		out_printf(o, ",\"awaits\":\"%s\"",
		    gw_await_kind_name(l->task_awaits));
		if (l->waits_for.addr != 0)
			out_printf(o, ",\"awaits_task\":\"0x%zx\"",
			    (size_t)l->waits_for.addr);
		if (l->held_by != 0 && l->waits_for.addr == 0)
			out_printf(o, ",\"awaits_tid\":%d", (int)l->held_by);
		out_puts(o, "}");
	}
	out_puts(o, "]");
}
