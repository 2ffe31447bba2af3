/*
 * Reports from inside the program: thread dumps and deadlock reports to
 * the configured output, one at a time.  The text and JSON writers
 * themselves are shared with the command (src/format/).
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "arena.h"
#include "config.h"
#include "frames.h"
#include "gil.h"
#include "msg.h"
#include "out.h"
#include "py.h"
#include "real.h"
#include "report.h"
#include "stack.h"
#include "stackvar.h"
#include "ulock.h"
#include "thread.h"
#include "trace.h"
#include "share.h"
#include "monitor.h"

/* A frame for ip whose strings live in sym. */
static void
frame_of(struct gw_frame *f, struct symbol *sym, uintptr_t ip, int is_return)
{
	memset(f, 0, sizeof *f);
	f->kind = GW_FRAME_NATIVE;
	f->ip = ip;
	if (ip == 0 || stack_symbolize(ip, is_return, sym) == -1)
		return;
	f->function = sym->function[0] ? sym->function : NULL;
	f->offset = sym->offset;
	f->module = sym->module[0] ? sym->module : NULL;
	f->file = sym->file[0] ? sym->file : NULL;
	f->line = sym->line;
}

void
report_ip(struct out *o, uintptr_t ip, int is_return, enum gw_format fmt)
{
	struct symbol sym;
	struct gw_frame f;

	frame_of(&f, &sym, ip, is_return);
	if (fmt == GW_FORMAT_JSON)
		report_json_frame(o, &f);
	else
		report_text_frame(o, &f);
}

#define OWN_PY_FRAMES	64	/* Python frames merged into a stack */

static const char *
arena_copy(void *a, const char *str)
{
	return arena_str(a, str);
}

static void
stack_frame_out(struct out *o, const struct gw_frame *f, int i,
    enum gw_format fmt)
{
	if (fmt == GW_FORMAT_JSON) {
		out_puts(o, i > 0 ? "," : "");
		report_json_frame(o, f);
		return;
	}
	out_printf(o, "    #%-2d ", i);
	report_text_frame(o, f);
	out_puts(o, "\n");
}

void
report_own_stack(struct out *o, struct thread *t, const struct stack *st,
    enum gw_format fmt)
{
	struct arena a = ARENA_INIT;
	struct gw_frame *nf, *pf, *f, one;
	struct py_frame *py;
	struct symbol *sym, onesym;
	unsigned char *ce;
	size_t n, i;
	int npy = 0, k;

	py = arena_alloc(&a, OWN_PY_FRAMES * sizeof *py);
	pf = arena_alloc(&a, OWN_PY_FRAMES * sizeof *pf);
	ce = arena_alloc(&a, OWN_PY_FRAMES);
	sym = arena_alloc(&a, ((size_t)st->depth + 1) * sizeof *sym);
	nf = arena_alloc(&a, ((size_t)st->depth + 1) * sizeof *nf);
	f = arena_alloc(&a, ((size_t)st->depth + OWN_PY_FRAMES) * sizeof *f);
	if (!a.failed && gil_runtime() != NULL &&
	    (npy = gil_thread_frames(t, py, OWN_PY_FRAMES)) < 0)
		npy = 0;
	if (a.failed) {		/* no memory: the native frames alone */
		for (k = 0; k < st->depth; k++) {
			frame_of(&one, &onesym, st->ip[k], 1);
			stack_frame_out(o, &one, k, fmt);
		}
		arena_free(&a);
		return;
	}
	for (k = 0; k < st->depth; k++)
		frame_of(&nf[k], &sym[k], st->ip[k], 1);
	for (k = 0; k < npy; k++)
		frames_python(&pf[k], &py[k], arena_copy, &a);
	frames_call_ends(ce, py, (size_t)npy);
	n = frames_merge(f, nf, st->depth, pf, ce, (size_t)npy);
	for (i = 0; i < n; i++)
		stack_frame_out(o, &f[i], (int)i, fmt);
	arena_free(&a);
}

int
report_lock_name(uintptr_t addr, char *buf, size_t len)
{
	struct symbol sym;

	buf[0] = '\0';
	if (stack_symbolize(addr, 0, &sym) == -1 || sym.function[0] == '\0')
		return 0;
	if (sym.offset == 0)
		snprintf(buf, len, "%.80s", sym.function);
	else
		snprintf(buf, len, "%.80s+%zu", sym.function,
		    (size_t)sym.offset);
	return 1;
}

int
report_lock_var(struct stackvars *sv, uintptr_t addr, char *buf, size_t len)
{
	return report_lock_name(addr, buf, len) ||
	    stackvars_name(sv, addr, buf, len);
}

/*
 * One report at a time reaches the output, and the process ends only
 * between two: two threads that close two cycles at once must not leave
 * half a report behind when the first one exits.
 */
static GW_SHARED struct ulock output_lock = ULOCK_INIT;

/*
 * Write o; then, when `then` says exit or abort, end the process without
 * letting go of the output, so no other report starts after this one.
 */
void (*report_last_words)(void);
void (*report_end_program)(int, int);

static void
output_write(struct out *o, const struct opts_deadlock *then)
{
	int fd = o != NULL ? config_open_output() : -1;

	if (then != NULL && then->action != OPTS_ACTION_REPORT &&
	    report_last_words != NULL)
		report_last_words();

	ulock_lock(&output_lock);
	if (fd != -1 && out_write(o, fd) == -1)
		msg_say("cannot write the report");
	/* The exit reports are not written on this way out; the trace,
	 * which shows how it came to this, is. */
	if (then != NULL && then->action != OPTS_ACTION_REPORT)
		trace_write();
	/* The monitor's own end would not be the program's. */
	if (then != NULL && then->action != OPTS_ACTION_REPORT &&
	    monitor_is_me() && report_end_program != NULL)
		report_end_program(then->action == OPTS_ACTION_ABORT,
		    then->status);
	if (then != NULL && then->action == OPTS_ACTION_EXIT)
		real_exit(then->status);
	if (then != NULL && then->action == OPTS_ACTION_ABORT)
		abort();
	ulock_unlock(&output_lock);
	if (fd != -1)
		close(fd);
}

void
report_out_to_output(struct out *o)
{
	output_write(o, NULL);
}

void
report_final(struct out *o, const struct opts_deadlock *then)
{
	output_write(o, then);
}

static void
write_snapshot(const struct gw_snapshot *s, int fd, enum gw_format fmt)
{
	struct out o;

	out_init(&o);
	if (fmt == GW_FORMAT_JSON)
		report_json(&o, s);
	else
		report_text(&o, s);
	if (out_write(&o, fd) == -1)
		msg_say("cannot write the report");
	out_free(&o);
}

static void
snapshot_to_output(const struct gw_snapshot *s,
    const struct opts_deadlock *then)
{
	struct out o;

	out_init(&o);
	if (config.format == GW_FORMAT_JSON)
		report_json(&o, s);
	else
		report_text(&o, s);
	output_write(&o, then);
	out_free(&o);
}

void
report_to_output(const struct gw_snapshot *s)
{
	snapshot_to_output(s, NULL);
}

void
report_dump(enum gw_snapshot_reason reason, int fd, enum gw_format fmt)
{
	struct gw_snapshot *s = snapshot_build(reason, 0, NULL, 0);

	if (s == NULL) {
		msg_say("out of memory for a thread dump");
		return;
	}
	if (fd == -1)
		report_to_output(s);
	else
		write_snapshot(s, fd, fmt);
	snapshot_free(s);
}

/*
 * A report for `reason` (a deadlock's with its cycle), then `then`.
 * Without memory for it, `what` alone is said.
 */
static void
report_event(enum gw_snapshot_reason reason, const struct wf_frame *cycle,
    int ncycle, const struct opts_deadlock *then, const char *what)
{
	struct gw_snapshot *s;

	s = snapshot_build(reason, 0, cycle, ncycle);
	if (s == NULL) {
		msg_say("%s (out of memory for the report)", what);
		report_final(NULL, then);
		return;
	}
	snapshot_to_output(s, then);
	snapshot_free(s);
}

static GW_SHARED atomic_uint ndeadlocks, nstalls;

void
report_counts(unsigned *deadlocks, unsigned *stalls)
{
	*deadlocks = atomic_load(&ndeadlocks);
	*stalls = atomic_load(&nstalls);
}

void
report_after_fork_child(void)
{
	atomic_store(&ndeadlocks, 0);
	atomic_store(&nstalls, 0);
	/* The parent's monitor may have held it as the child copied. */
	ulock_init(&output_lock);
}

void
report_deadlock(const struct wf_frame *cycle, int ncycle)
{
	char what[64];

	atomic_fetch_add(&ndeadlocks, 1);
	snprintf(what, sizeof what, "deadlock between %d threads", ncycle);
	if (trace_on)
		trace_mark(TRACE_DEADLOCK, 0, 0, 0, ncycle);
	report_event(GW_REASON_DEADLOCK, cycle, ncycle, &config.on_deadlock,
	    what);
}

void
report_task_deadlock(const struct gw_snapshot *s)
{
	atomic_fetch_add(&ndeadlocks, 1);
	if (trace_on)
		trace_mark(TRACE_DEADLOCK, 0, 0, 0, (int)s->ndeadlocks);
	snapshot_to_output(s, &config.on_deadlock);
}

void
report_stall(int seconds)
{
	char what[80];

	atomic_fetch_add(&nstalls, 1);
	snprintf(what, sizeof what, "stall: every thread has waited %d s "
	    "or more", seconds);
	if (trace_on)
		trace_mark(TRACE_STALL, 0, 0, 0, seconds);
	report_event(GW_REASON_STALL, NULL, 0, &config.on_stall, what);
}
