/*
 * One thread in full: its state, the GIL, what it waits for and who
 * holds that, the locks it holds and where it took each, the frames
 * published with its wait, and its whole stack (Python frames merged)
 * from a thread dump the process writes when the view opens.  Read
 * from outside, unwinding stops threads: only when f asks for it.
 */
#include <curses.h>
#include <stdio.h>
#include <string.h>

#include "gilwatch/snapshot.h"
#include "tui.h"

static void
fetch(struct tui *t)
{
	out_free(&t->stack);
	t->stack_err[0] = '\0';
	if (source_ended(t->src)) {
		snprintf(t->stack_err, sizeof t->stack_err, "%s",
		    t->src->why);
		return;
	}
	if (t->detail_tasks ? (t->src->outside ?
	    source_tasks_outside(t->src, t->detail_tid, &t->stack,
	    t->stack_err, sizeof t->stack_err) : ctl_tasks(t->src->pid,
	    t->detail_tid, &t->stack, t->stack_err, sizeof t->stack_err)) :
	    (t->src->outside ? source_stack_outside(t->src, t->detail_tid,
	    &t->stack, t->stack_err, sizeof t->stack_err) :
	    ctl_stack(t->src->pid, t->detail_tid, &t->stack, t->stack_err,
	    sizeof t->stack_err)) == -1)
		out_free(&t->stack);
}

void
detail_open(struct tui *t, pid_t tid)
{
	if (t->view != VIEW_DETAIL && t->view != VIEW_HELP)
		t->back = t->view;
	t->view = VIEW_DETAIL;
	t->detail_tid = tid;
	t->detail_top = 0;
	t->detail_tasks = 0;
	if (!t->src->outside) {
		fetch(t);
		return;
	}
	out_free(&t->stack);
	snprintf(t->stack_err, sizeof t->stack_err, "not unwound from "
	    "outside unless asked: f unwinds it, stopping each thread alone "
	    "for a moment");
}

/*
 * The tasks of the thread's asyncio loop in place of its stack: read
 * at once, from outside too, where it stops nothing.
 */
void
detail_open_tasks(struct tui *t, pid_t tid)
{
	detail_open(t, tid);
	t->detail_tasks = 1;
	fetch(t);
}

/*
 * The turn its event loop is in (hook-select.c), live, against the
 * loop-stall threshold (source_loop_stall).
 */
static void
loop_line(struct page *p, const struct source *s, const struct row *r)
{
	char buf[256], d[32], mark[96];
	const char *whose;
	uint32_t ms = source_loop_stall(s, &whose);

	if (r->t->loop_turn_ns == 0)
		return;
	if (ms == 0)
		snprintf(mark, sizeof mark, " (no stall marked: %s is off)",
		    whose);
	else if (source_loop_stalled(s, r))
		snprintf(mark, sizeof mark, " (a loop stall: over %u ms, %s)",
		    ms, whose);
	else
		mark[0] = '\0';
	snprintf(buf, sizeof buf, "Event loop: in a turn for %s without "
	    "coming back to epoll%s", fmt_dur(r->t->loop_turn_ns, d,
	    sizeof d), mark);
	page_line(p, source_loop_stalled(s, r) ? ROLE_WARN : ROLE_NORMAL,
	    buf);
}

static void
gil_lines(struct page *p, const struct source *s, const struct row *r)
{
	const struct gw_shm_thread *th = r->t;
	char buf[512], a[32], b[32], c[16], d[16];

	if (!s->frame.head.gil.present)
		return;
	if (s->outside) {
		snprintf(buf, sizeof buf, "GIL: %s (times and shares need "
		    "gilwatch run)", th->gil_state == GW_SHM_GIL_HOLDING ?
		    "holds it" : th->gil_state == GW_SHM_GIL_WAITING ?
		    "waits for it" : "neither holds nor waits");
		page_line(p, ROLE_NORMAL, buf);
		return;
	}
	snprintf(buf, sizeof buf, "GIL: %s; held %s in all, waited %s in "
	    "all, %llu acquisitions; over the window held %s, waited %s",
	    th->gil_state == GW_SHM_GIL_HOLDING ? "holds it" :
	    th->gil_state == GW_SHM_GIL_WAITING ? "waits for it" :
	    "neither holds nor waits", fmt_dur(th->gil_hold_ns, a, sizeof a),
	    fmt_dur(th->gil_wait_ns, b, sizeof b),
	    (unsigned long long)th->gil_acquired,
	    fmt_pct(r->held, c, sizeof c), fmt_pct(r->waited, d, sizeof d));
	page_line(p, ROLE_NORMAL, buf);
}

/*
 * What Python code waits on, in place of the lock it blocks on: a
 * notify on a Condition (through a private lock the thread holds
 * itself), or the end of a Thread.
 */
static void
py_wait_lines(struct page *p, const struct source *s, const struct row *r)
{
	const struct gw_shm_thread *th = r->t;
	char buf[512], what[160], lock[160], who[64], where[256];

	fmt_pywait(&th->py_wait, 1, what, sizeof what);
	if (th->py_wait.kind == GW_SHM_PYWAIT_NOTIFY)
		snprintf(buf, sizeof buf, "Waits for a notify on %s%s", what,
		    th->wait_timed ? " (timed)" : "");
	else if (th->nowners > 0)
		snprintf(buf, sizeof buf, "Waits for %s to end: %s%s", what,
		    fmt_thread(s, th->owners[0], who, sizeof who),
		    th->wait_timed ? " (timed)" : "");
	else
		snprintf(buf, sizeof buf, "Waits for %s to end%s", what,
		    th->wait_timed ? " (timed)" : "");
	page_line(p, r->cls == CLS_DEADLOCK ? ROLE_BANNER :
	    r->cls == CLS_SLEEPING ? ROLE_NORMAL : ROLE_BLOCKED, buf);
	if (th->py_wait.at[0] != '\0') {
		snprintf(buf, sizeof buf, "  at %s", th->py_wait.at);
		page_line(p, ROLE_NORMAL, buf);
	}
	fmt_lockname(s, th->wait_kind, th->wait_py_type,
	    th->wait_addr, lock, sizeof lock);
	if (th->py_wait.kind == GW_SHM_PYWAIT_NOTIFY)
		snprintf(buf, sizeof buf, "  blocked on %s: Condition.wait's "
		    "private lock", lock);
	else if (th->nowners > 0 && th->owner_sites[0] != 0)
		snprintf(buf, sizeof buf, "  blocked on %s, held by %s, taken "
		    "at %s", lock, fmt_thread(s, th->owners[0], who,
		    sizeof who), fmt_where(s, th->owner_sites[0], where,
		    sizeof where));
	else
		snprintf(buf, sizeof buf, "  blocked on %s", lock);
	page_line(p, ROLE_NORMAL, buf);
}

static void
wait_lines(struct page *p, const struct source *s, const struct row *r)
{
	const struct gw_shm_thread *th = r->t;
	char buf[512], lock[160], who[64], where[256];
	int i;

	if (th->state != GW_STATE_BLOCKED && th->state != GW_STATE_WAITING &&
	    th->state != GW_STATE_JOINING)
		return;
	if (th->state == GW_STATE_BLOCKED &&
	    th->py_wait.kind != GW_SHM_PYWAIT_NONE) {
		py_wait_lines(p, s, r);
		return;
	}
	if (th->state == GW_STATE_JOINING)
		snprintf(buf, sizeof buf, "Waits for a thread to end%s",
		    th->wait_timed ? " (timed)" : "");
	else
		snprintf(buf, sizeof buf, "Waits for %s%s", fmt_lockname(s,
		    th->wait_kind, th->wait_py_type, th->wait_addr, lock, sizeof lock),
		    th->wait_timed ? " (timed)" : "");
	page_line(p, r->cls == CLS_DEADLOCK ? ROLE_BANNER : ROLE_BLOCKED, buf);
	for (i = 0; i < th->nowners; i++) {
		if (th->owner_sites[i] != 0)
			snprintf(buf, sizeof buf, "  held by %s, taken at %s",
			    fmt_thread(s, th->owners[i], who, sizeof who),
			    fmt_where(s, th->owner_sites[i], where,
			    sizeof where));
		else
			snprintf(buf, sizeof buf, "  held by %s",
			    fmt_thread(s, th->owners[i], who, sizeof who));
		page_line(p, ROLE_NORMAL, buf);
	}
	if (th->flags & GW_SHM_T_MORE_OWNERS)
		page_line(p, ROLE_NORMAL, "  and by more threads");
}

static void
held_lines(struct page *p, const struct source *s, const struct row *r)
{
	const struct gw_shm_thread *th = r->t;
	const struct gw_shm_held *h;
	char buf[512], lock[160], where[256], dur[32], cnt[32];
	uint32_t i;

	snprintf(buf, sizeof buf, "Holds %u lock%s", th->nheld,
	    th->nheld == 1 ? "" : "s");
	page_line(p, ROLE_NORMAL, buf);
	for (i = 0; i < th->nheld && i < GW_SHM_HELD; i++) {
		h = &th->held[i];
		cnt[0] = '\0';
		if (h->count > 1)
			snprintf(cnt, sizeof cnt, ", %u times", h->count);
		snprintf(buf, sizeof buf, "  %s%s%s%s%s%s%s",
		    fmt_lockname(s, h->kind, h->py_type, h->addr, lock, sizeof lock),
		    h->mode == GW_MODE_SHARED ? " (read)" : "",
		    h->site != 0 ? ", taken at " : "",
		    h->site != 0 ? fmt_where(s, h->site, where,
		    sizeof where) : "",
		    h->held_ns ? ", held " : "",
		    h->held_ns ? fmt_dur(h->held_ns, dur, sizeof dur) : "",
		    cnt);
		page_line(p, ROLE_NORMAL, buf);
	}
	if (th->nheld > GW_SHM_HELD) {
		snprintf(buf, sizeof buf, "  and %u more (d writes a dump "
		    "with all)", th->nheld - GW_SHM_HELD);
		page_line(p, ROLE_NORMAL, buf);
	}
}

static void
frame_lines(struct page *p, const struct source *s, const struct row *r)
{
	const struct gw_shm_thread *th = r->t;
	char buf[512], where[256];
	int i;

	if (th->nframes == 0)
		return;
	page_line(p, ROLE_NORMAL, th->flags & GW_SHM_T_SITE_ONLY ?
	    "Where it waits (published):" :
	    "Stack when the wait began (published):");
	for (i = 0; i < th->nframes; i++) {
		snprintf(buf, sizeof buf, "  #%-2d %s", i, fmt_where(s,
		    th->frames[i], where, sizeof where));
		page_line(p, ROLE_NORMAL, buf);
	}
	if (th->flags & GW_SHM_T_FRAMES_TRUNC)
		page_line(p, ROLE_NORMAL, "  ... (deeper frames left out)");
}

/* The tasks of its loop, as the dump gives them. */
static void
tasks_lines(struct page *p, struct tui *t)
{
	const char *q, *nl, *end;
	char buf[512];

	if (t->stack_err[0] != '\0') {
		snprintf(buf, sizeof buf, "Tasks: not read (%s; f tries "
		    "again)", t->stack_err);
		page_line(p, ROLE_DIM, buf);
		return;
	}
	if (t->stack.len == 0) {
		page_line(p, ROLE_DIM, "Tasks: none (this thread runs no "
		    "asyncio event loop; a: its stack)");
		return;
	}
	page_line(p, ROLE_NORMAL, t->src->outside ? "Tasks of its asyncio "
	    "loop, read from outside when asked (f: read again, a: the "
	    "stack):" : "Tasks of its asyncio loop, from a thread dump "
	    "taken when asked (f: take another, a: the stack):");
	for (q = t->stack.buf, end = q + t->stack.len; q < end; q = nl + 1) {
		if ((nl = memchr(q, '\n', (size_t)(end - q))) == NULL)
			nl = end;
		snprintf(buf, sizeof buf, "%.*s", (int)(nl - q), q);
		page_line(p, ROLE_NORMAL, buf);
	}
}

/* The dump's paragraph for the thread, its first line left out. */
static void
stack_lines(struct page *p, struct tui *t)
{
	const char *q, *nl, *end;
	char buf[512];
	int first = 1;

	page_line(p, ROLE_NORMAL, "");
	if (t->detail_tasks) {
		tasks_lines(p, t);
		return;
	}
	if (t->stack.len == 0) {
		snprintf(buf, sizeof buf, "Stack: none (%s%s)",
		    t->stack_err[0] != '\0' ? t->stack_err : "not fetched",
		    t->src->outside ? "" : "; f tries again");
		page_line(p, ROLE_DIM, buf);
		return;
	}
	page_line(p, ROLE_NORMAL, t->src->outside ? "Stack read from outside "
	    "when f was pressed (f: read again):" : "Stack from a thread "
	    "dump taken when this view opened (f: take another):");
	for (q = t->stack.buf, end = q + t->stack.len; q < end; q = nl + 1) {
		if ((nl = memchr(q, '\n', (size_t)(end - q))) == NULL)
			nl = end;
		if (!first) {
			snprintf(buf, sizeof buf, "%.*s", (int)(nl - q), q);
			page_line(p, ROLE_NORMAL, buf);
		}
		first = 0;
	}
}

void
detail_draw(struct tui *t, int y, int h)
{
	struct source *s = t->src;
	const struct row *r = source_row(s, t->detail_tid);
	struct page p = { y + 1, h - 1, t->detail_top, 0, crt_cols() };
	char buf[1024], state[256], sched[16];
	uint32_t n;

	if (r == NULL) {
		snprintf(buf, sizeof buf, "Thread %d: no longer in the "
		    "process", (int)t->detail_tid);
		crt_put(y, 0, p.width, ROLE_HEAD, buf);
		stack_lines(&p, t);
	} else {
		snprintf(buf, sizeof buf, "Thread %d \"%s\"",
		    (int)r->t->tid, r->t->name);
		crt_put(y, 0, p.width, ROLE_HEAD, buf);
		snprintf(buf, sizeof buf, "State: %s", fmt_state(s, r, 0,
		    state, sizeof state));
		page_line(&p, r->cls == CLS_DEADLOCK ? ROLE_BANNER :
		    ROLE_NORMAL, buf);
		if (fmt_sched(r->t, sched, sizeof sched)[0] != '\0') {
			snprintf(buf, sizeof buf, "Real-time: %s (b: what "
			    "made it wait for the GIL)", sched);
			page_line(&p, ROLE_WARN, buf);
		}
		for (n = 0; r->cls == CLS_DEADLOCK && n < s->frame.head.cycles;
		    n++)
			if (fmt_cycle(s, n, buf, sizeof buf) != NULL &&
			    strstr(buf, state) == NULL)
				page_line(&p, ROLE_BANNER, buf);
		loop_line(&p, s, r);
		gil_lines(&p, s, r);
		wait_lines(&p, s, r);
		held_lines(&p, s, r);
		snprintf(buf, sizeof buf, "Top Python frame: %s",
		    r->t->py_frame[0] != '\0' ? r->t->py_frame :
		    s->outside ? "(none)" : "(not published)");
		page_line(&p, ROLE_NORMAL, buf);
		frame_lines(&p, s, r);
		stack_lines(&p, t);
	}
	t->detail_lines = p.n;
	t->body_h = p.h;
}

int
detail_key(struct tui *t, int key)
{
	if (key == 'f') {
		fetch(t);
		return KEY_DONE;
	}
	if (key == 'a') {
		t->detail_tasks = !t->detail_tasks;
		t->detail_top = 0;
		/* From outside a stack is unwound only when f asks. */
		if (t->detail_tasks || !t->src->outside)
			fetch(t);
		else {
			out_free(&t->stack);
			snprintf(t->stack_err, sizeof t->stack_err, "not "
			    "unwound from outside unless asked: f unwinds it");
		}
		return KEY_DONE;
	}
	return tui_scroll(key, &t->detail_top, t->detail_lines, t->body_h);
}
