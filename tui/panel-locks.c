/*
 * The locks view: the most waited-for locks with their statistics and
 * owners, the call sites that wait and hold most (as the exit report
 * has them), then the lock-order inversions and the deadlock cycles.
 * A scrolling list of lines.
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

void
locks_draw(struct tui *t, int y, int h)
{
	struct source *s = t->src;
	const struct shm_frame *f = &s->frame;
	struct page p = { y + 1, h - 1, t->lock_top, 0, crt_cols() };
	char buf[1024];
	uint32_t i;

	crt_put(y, 0, p.width, ROLE_HEAD, fmt_lock(s, NULL, buf, sizeof buf));
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
	snprintf(buf, sizeof buf, "Deadlock cycles now: %u", f->head.cycles);
	page_line(&p, f->head.cycles ? ROLE_BANNER : ROLE_NORMAL, buf);
	for (i = 0; i < f->head.cycles; i++)
		if (fmt_cycle(s, i, buf, sizeof buf) != NULL)
			page_line(&p, ROLE_BANNER, buf);
	t->lock_lines = p.n;
	t->body_h = p.h;
}

int
locks_key(struct tui *t, int key)
{
	return tui_scroll(key, &t->lock_top, t->lock_lines, t->body_h);
}
