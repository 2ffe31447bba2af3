/*
 * The locks view: the most waited-for locks with their statistics and
 * owners, the call sites that wait and hold most (as the exit report
 * has them), then the lock-order inversions and the deadlock cycles;
 * a free-threaded CPython's critical sections come first.
 * A scrolling list of lines.  Read from outside there are no
 * statistics: the waits of the moment instead, and the cycles.
 */
#include <curses.h>
#include <stdio.h>
#include <string.h>

#include "gilwatch/snapshot.h"
#include "tui.h"

static unsigned
waiting_now(const struct source *s, uint64_t addr)
{
	unsigned i, n = 0;

	for (i = 0; i < s->nrows; i++)
		if (s->rows[i].t->wait_addr == addr &&
		    (s->rows[i].t->state == GW_STATE_BLOCKED ||
		    s->rows[i].t->state == GW_STATE_WAITING))
			n++;
	return n;
}

static void
lock_lines(struct page *p, const struct source *s,
    const struct gw_shm_lock *l)
{
	char buf[512], where[256];
	unsigned n = waiting_now(s, l->addr);
	int i;

	page_line(p, l->owner != 0 || n > 0 ? ROLE_BLOCKED : ROLE_NORMAL,
	    fmt_lock(s, l, buf, sizeof buf));
	if (n > 0 && l->kind != GW_LOCK_COND) {
		snprintf(buf, sizeof buf, "    now: %u thread%s waiting", n,
		    n == 1 ? "" : "s");
		page_line(p, ROLE_BLOCKED, buf);
	}
	if (l->owner != 0 && l->owner_site != 0) {
		snprintf(buf, sizeof buf, "    owner took it at %s",
		    fmt_where(s, l->owner_site, where, sizeof where));
		page_line(p, ROLE_NORMAL, buf);
	}
	for (i = 0; i < GW_SHM_SITES; i++)
		if (l->waiters[i].ip != 0)
			page_line(p, ROLE_NORMAL, fmt_site(s, "waited",
			    &l->waiters[i], buf, sizeof buf));
	for (i = 0; i < GW_SHM_SITES; i++)
		if (l->holders[i].ip != 0)
			page_line(p, ROLE_NORMAL, fmt_site(s, "held  ",
			    &l->holders[i], buf, sizeof buf));
}

static void
put(void *arg, int role, const char *s)
{
	page_line(arg, role, s);
}

/* A free-threaded CPython's critical sections, and a blank line. */
static void
cs_lines(struct page *p, const struct source *s)
{
	if (fmt_critical(s, put, p) > 0)
		page_line(p, ROLE_NORMAL, "");
}

static void
cycle_lines(struct page *p, const struct source *s)
{
	char buf[1024];
	uint32_t i;

	snprintf(buf, sizeof buf, "Deadlock cycles now: %u",
	    s->frame.head.cycles);
	page_line(p, s->frame.head.cycles ? ROLE_BANNER : ROLE_NORMAL, buf);
	for (i = 0; i < s->frame.head.cycles; i++)
		if (fmt_cycle(s, i, buf, sizeof buf) != NULL)
			page_line(p, ROLE_BANNER, buf);
}

/* From outside: every thread waiting now, and what for. */
static void
outside_lines(struct page *p, const struct source *s)
{
	const struct row *r;
	char buf[1024], who[64], state[256];
	uint32_t i, n = 0;

	page_line(p, ROLE_WARN, "Lock statistics, call sites and lock-order "
	    "history need gilwatch run: read from outside, only the waits of "
	    "this moment are known.");
	page_line(p, ROLE_NORMAL, "");
	for (i = 0; i < s->nrows; i++) {
		r = &s->rows[i];
		if (r->t->state != GW_STATE_BLOCKED &&
		    r->t->state != GW_STATE_WAITING &&
		    r->t->state != GW_STATE_JOINING)
			continue;
		if (n++ == 0)
			page_line(p, ROLE_NORMAL, "Waiting now:");
		snprintf(buf, sizeof buf, "  %s: %s", fmt_thread(s, r->t->tid,
		    who, sizeof who), fmt_state(s, r, 0, state,
		    sizeof state));
		page_line(p, r->cls == CLS_DEADLOCK ? ROLE_BANNER :
		    r->cls == CLS_BLOCKED ? ROLE_BLOCKED : ROLE_NORMAL, buf);
	}
	if (n == 0)
		page_line(p, ROLE_NORMAL, "No thread waits for a lock now.");
	page_line(p, ROLE_NORMAL, "");
	cs_lines(p, s);
	cycle_lines(p, s);
}

void
locks_draw(struct tui *t, int y, int h)
{
	struct source *s = t->src;
	const struct shm_frame *f = &s->frame;
	struct page p = { y + 1, h - 1, t->lock_top, 0, crt_cols() };
	char buf[1024];
	uint32_t i;

	if (s->outside) {
		crt_put(y, 0, p.width, ROLE_HEAD, "LOCKS (read from outside)");
		outside_lines(&p, s);
		t->lock_lines = p.n;
		t->body_h = p.h;
		return;
	}
	crt_put(y, 0, p.width, ROLE_HEAD, fmt_lock(s, NULL, buf, sizeof buf));
	/* First: the waits of the moment, above a long list of figures. */
	cs_lines(&p, s);
	snprintf(buf, sizeof buf, "%u of %u locks in use, most waited for "
	    "first", f->nlocks, f->head.locks_total);
	page_line(&p, ROLE_DIM, buf);
	for (i = 0; i < f->nlocks; i++)
		lock_lines(&p, s, &f->locks[i]);
	page_line(&p, ROLE_NORMAL, "");
	snprintf(buf, sizeof buf, "Lock-order inversions: %u%s",
	    f->head.inversions, f->head.inversions > f->norders ?
	    " (the newest listed)" : "");
	page_line(&p, f->head.inversions ? ROLE_WARN : ROLE_NORMAL, buf);
	for (i = 0; i < f->norders; i++) {
		snprintf(buf, sizeof buf, "  %s", f->orders[i].text);
		page_line(&p, ROLE_WARN, buf);
	}
	page_line(&p, ROLE_NORMAL, "");
	cycle_lines(&p, s);
	t->lock_lines = p.n;
	t->body_h = p.h;
}

int
locks_key(struct tui *t, int key)
{
	return tui_scroll(key, &t->lock_top, t->lock_lines, t->body_h);
}
