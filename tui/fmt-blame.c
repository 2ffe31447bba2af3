/*
 * The blame view's words, for the screen (panel-blame.c) and --once
 * alike: the Python lines and functions that held the GIL while
 * another thread waited, then each waiting thread's GIL wait split by
 * the threads that held the GIL meanwhile and by their lines.  The
 * figures are the shim's (gil-blame.h), published while a viewer
 * watches; the run's exit report and `gilwatch dump --gil` have them
 * all, this shows the biggest.
 */
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tui.h"

#define BLAME_FUNCS	8	/* functions listed */

char *
fmt_sched(const struct gw_shm_thread *t, char *buf, size_t len)
{
	if (t->sched_policy == SCHED_FIFO)
		snprintf(buf, len, "FIFO %d", (int)t->sched_priority);
	else if (t->sched_policy == SCHED_RR)
		snprintf(buf, len, "RR %d", (int)t->sched_priority);
	else
		buf[0] = '\0';
	return buf;
}

/* "12.345ms": finer than fmt_dur, for figures set side by side. */
static char *
ms(uint64_t ns, char *buf, size_t len)
{
	snprintf(buf, len, "%.3fms", (double)ns / 1e6);
	return buf;
}

/* "spin (prog.py:41)", or the site's own words when it is no line. */
static char *
where(const char *function, const char *file, int line, char *buf,
    size_t len)
{
	if (line == 0)
		snprintf(buf, len, "%s", function);
	else
		snprintf(buf, len, "%s (%s:%d)", function, file, line);
	return buf;
}

/* A function: the lines published, merged by function and file. */
struct func {
	const char	*function, *file;
	uint64_t	 ns, recent, forced;
};

static int
by_ns(const void *a, const void *b)
{
	const struct func *x = a, *y = b;

	return x->ns < y->ns ? 1 : x->ns > y->ns ? -1 : 0;
}

static void
functions(const struct shm_frame *f, line_fn put, void *arg)
{
	struct func fn[GW_SHM_BLAME_SITES];
	const struct gw_shm_blame_site *b;
	char buf[512], a[32], r[32];
	uint32_t i, n = 0, k;

	for (i = 0; i < f->nblame_sites && i < GW_SHM_BLAME_SITES; i++) {
		b = &f->blame_sites[i];
		for (k = 0; k < n; k++)
			if (strcmp(fn[k].function, b->function) == 0 &&
			    strcmp(fn[k].file, b->file) == 0)
				break;
		if (k == n) {
			memset(&fn[n], 0, sizeof fn[n]);
			fn[n].function = b->function;
			fn[n++].file = b->file;
		}
		fn[k].ns += b->blocking_ns;
		fn[k].recent += b->recent_ns;
		fn[k].forced += b->forced;
	}
	qsort(fn, n, sizeof *fn, by_ns);
	put(arg, ROLE_HEAD, "      BLOCKING       RECENT   FORCED  FUNCTION");
	for (i = 0; i < n && i < BLAME_FUNCS; i++) {
		snprintf(buf, sizeof buf, "  %12s %12s %8llu  %s%s%s%s",
		    ms(fn[i].ns, a, sizeof a), ms(fn[i].recent, r, sizeof r),
		    (unsigned long long)fn[i].forced, fn[i].function,
		    fn[i].file[0] != '\0' ? " (" : "", fn[i].file,
		    fn[i].file[0] != '\0' ? ")" : "");
		put(arg, ROLE_NORMAL, buf);
	}
}

static void
sites(const struct source *s, line_fn put, void *arg)
{
	const struct shm_frame *f = &s->frame;
	const struct gw_shm_blame_site *b;
	char buf[512], w[256], a[32], r[32], span[32];
	uint32_t i;

	snprintf(buf, sizeof buf, "Python lines that held the GIL while "
	    "another thread waited (blocking time over the run, and RECENT: "
	    "the last %s)", fmt_dur(f->head.blame_recent_ns, span,
	    sizeof span));
	put(arg, ROLE_NORMAL, buf);
	if (f->nblame_sites == 0) {
		put(arg, ROLE_DIM, "  none yet: no thread has waited for the "
		    "GIL while one held it at a Python line");
		return;
	}
	put(arg, ROLE_HEAD, "      BLOCKING       RECENT   FORCED    HOLDS  "
	    "LINE");
	for (i = 0; i < f->nblame_sites; i++) {
		b = &f->blame_sites[i];
		snprintf(buf, sizeof buf, "  %12s %12s %8llu %8llu  %s",
		    ms(b->blocking_ns, a, sizeof a), ms(b->recent_ns, r,
		    sizeof r), (unsigned long long)b->forced,
		    (unsigned long long)b->holds, where(b->function, b->file,
		    b->line, w, sizeof w));
		put(arg, ROLE_NORMAL, buf);
	}
	put(arg, ROLE_NORMAL, "");
	functions(f, put, arg);
}

/* One waiter's parts, which follow each other from blame[first]. */
static void
waiter(const struct source *s, uint32_t first, line_fn put, void *arg)
{
	const struct shm_frame *f = &s->frame;
	const struct gw_shm_blame *b;
	const struct row *r = source_row(s, f->blame[first].waiter);
	uint64_t total = r != NULL ? r->t->gil_wait_ns : 0;
	char buf[512], w[256], who[64], a[32];
	uint32_t i;

	snprintf(buf, sizeof buf, "  %s waited %s for the GIL:",
	    fmt_thread(s, f->blame[first].waiter, who, sizeof who),
	    ms(total, a, sizeof a));
	put(arg, ROLE_GILWAIT, buf);
	for (i = first; i < f->nblame &&
	    f->blame[i].waiter == f->blame[first].waiter; i++) {
		b = &f->blame[i];
		switch (b->kind) {
		case GW_SHM_BLAME_HOLDER:
			snprintf(w, sizeof w, "held by %s",
			    fmt_thread(s, b->holder, who, sizeof who));
			break;
		case GW_SHM_BLAME_LINE:
			snprintf(w, sizeof w, "at ");
			where(b->function, b->file, b->line, w + 3,
			    sizeof w - 3);
			break;
		case GW_SHM_BLAME_HANDOFF:
			snprintf(w, sizeof w, "hand-off (the GIL free, the "
			    "waiter being woken)");
			break;
		default:
			snprintf(w, sizeof w, "unknown (older than the holds "
			    "remembered)");
		}
		snprintf(buf, sizeof buf, "    %12s %5.1f%%  %s",
		    ms(b->ns, a, sizeof a), total > 0 ? 100.0 *
		    (double)b->ns / (double)total : 0.0, w);
		put(arg, ROLE_NORMAL, buf);
	}
}

void
fmt_blame(const struct source *s, pid_t first, line_fn put, void *arg)
{
	const struct shm_frame *f = &s->frame;
	uint32_t i;
	int pass, any = 0;

	if (s->outside || !f->head.gil.present) {
		put(arg, ROLE_WARN, s->outside ? "GIL blame needs gilwatch "
		    "run: read from outside, nobody saw who held the GIL "
		    "while others waited." : "GIL blame: no GIL tracked in "
		    "this process.");
		return;
	}
	if (f->head.flags & GW_SHM_BLAME_OFF) {
		put(arg, ROLE_WARN, "GIL blame is off in this process "
		    "(GILWATCH_BLAME=0, gilwatch run --no-blame).");
		return;
	}
	sites(s, put, arg);
	put(arg, ROLE_NORMAL, "");
	put(arg, ROLE_NORMAL, "Who held the GIL while each thread waited "
	    "for it, over the run, and at which line:");
	/* The thread asked for first, then the others in frame order. */
	for (pass = 0; pass < 2; pass++)
		for (i = 0; i < f->nblame; i++) {
			if (i > 0 && f->blame[i].waiter == f->blame[i - 1].waiter)
				continue;
			if ((f->blame[i].waiter == first) != (pass == 0))
				continue;
			waiter(s, i, put, arg);
			any = 1;
		}
	if (!any)
		put(arg, ROLE_DIM, "  no thread has waited for the GIL yet");
}
