/*
 * The thread table: one row per thread, filtered and sorted (order.c),
 * scrolled so the selection stays in view.  Its keys also drive the
 * timeline, which shows the same list.
 */
#include <curses.h>
#include <stdlib.h>
#include <string.h>

#include "tui.h"

void
threads_reorder(struct tui *t)
{
	struct source *s = t->src;
	uint32_t i, cap;
	void *p;

	if (s->nrows > t->order_cap) {
		cap = s->nrows * 2;
		if ((p = realloc(t->order, cap * sizeof *t->order)) == NULL) {
			t->norder = 0;
			return;
		}
		t->order = p;
		t->order_cap = cap;
	}
	t->norder = s->nrows > 0 ? order_rows(s, t->sort, t->filter,
	    t->order) : 0;
	/* The selection stays on its thread while it is there. */
	for (i = 0; i < t->norder; i++)
		if (s->rows[t->order[i]].t->tid == t->sel_tid) {
			t->sel = i;
			return;
		}
	if (t->sel >= t->norder)
		t->sel = t->norder > 0 ? t->norder - 1 : 0;
	t->sel_tid = t->norder > 0 ? s->rows[t->order[t->sel]].t->tid : 0;
}

static int
role_of(const struct row *r)
{
	switch (r->cls) {
	case CLS_DEADLOCK:
		return ROLE_BANNER;
	case CLS_BLOCKED:
		return ROLE_BLOCKED;
	case CLS_GIL_WAIT:
		return ROLE_GILWAIT;
	case CLS_GIL_HOLD:
		return ROLE_HELD;
	case CLS_SLEEPING:
	case CLS_EXITED:
		return ROLE_DIM;
	}
	return ROLE_NORMAL;
}

void
threads_draw(struct tui *t, int y, int h)
{
	struct source *s = t->src;
	const struct row *r;
	struct cols c;
	char buf[1024];
	int width = crt_cols(), i, rows = h - 1;

	fmt_columns(s, width, &c);
	crt_put(y, 0, width, ROLE_HEAD, fmt_row(s, NULL, &c, buf,
	    sizeof buf));
	t->body_h = rows;
	if (t->norder == 0) {
		crt_put(y + 1, 0, width, ROLE_DIM, t->filter[0] != '\0' ?
		    "no thread matches the filter (Esc clears it)" :
		    s->have ? "no threads" : "waiting for the first frame");
		return;
	}
	if (t->sel < t->top)
		t->top = t->sel;
	if (rows > 0 && t->sel >= t->top + (uint32_t)rows)
		t->top = t->sel - (uint32_t)rows + 1;
	if (t->top + (uint32_t)rows > t->norder)
		t->top = t->norder > (uint32_t)rows ? t->norder -
		    (uint32_t)rows : 0;
	for (i = 0; i < rows && t->top + (uint32_t)i < t->norder; i++) {
		r = &s->rows[t->order[t->top + (uint32_t)i]];
		crt_put(y + 1 + i, 0, width, t->top + (uint32_t)i == t->sel ?
		    ROLE_SEL : role_of(r), fmt_row(s, r, &c, buf, sizeof buf));
	}
}

static void
select_at(struct tui *t, long pos)
{
	if (t->norder == 0)
		return;
	if (pos < 0)
		pos = 0;
	if (pos >= (long)t->norder)
		pos = (long)t->norder - 1;
	t->sel = (uint32_t)pos;
	t->sel_tid = t->src->rows[t->order[t->sel]].t->tid;
}

/* Typing a filter: every key goes here until Enter or Esc. */
static int
edit_key(struct tui *t, int key)
{
	size_t n = strlen(t->edit);

	switch (key) {
	case '\n':
	case '\r':
	case KEY_ENTER:
		memcpy(t->filter, t->edit, sizeof t->filter);
		t->editing = 0;
		t->top = 0;
		threads_reorder(t);
		if (t->filter[0] != '\0')
			footer_say(t, ROLE_NORMAL, "%u threads match \"%s\"",
			    t->norder, t->filter);
		else
			footer_say(t, ROLE_NORMAL, "filter cleared");
		break;
	case 27:
		t->editing = 0;
		break;
	case KEY_BACKSPACE:
	case 127:
	case 8:
		if (n > 0)
			t->edit[n - 1] = '\0';
		break;
	default:
		if (key >= ' ' && key < 127 && n + 1 < sizeof t->edit) {
			t->edit[n] = (char)key;
			t->edit[n + 1] = '\0';
		}
	}
	return KEY_DONE;
}

int
threads_key(struct tui *t, int key)
{
	long page = t->body_h > 1 ? t->body_h - 1 : 1;

	if (t->editing)
		return edit_key(t, key);
	switch (key) {
	case KEY_UP:
	case 'k':
		select_at(t, (long)t->sel - 1);
		break;
	case KEY_DOWN:
	case 'j':
		select_at(t, (long)t->sel + 1);
		break;
	case KEY_PPAGE:
		select_at(t, (long)t->sel - page);
		break;
	case KEY_NPAGE:
	case ' ':
		select_at(t, (long)t->sel + page);
		break;
	case KEY_HOME:
		select_at(t, 0);
		break;
	case KEY_END:
		select_at(t, (long)t->norder - 1);
		break;
	case '\n':
	case '\r':
	case KEY_ENTER:
		if (t->norder > 0)
			detail_open(t, t->sel_tid);
		break;
	case 'a':
		if (t->norder > 0)
			detail_open_tasks(t, t->sel_tid);
		break;
	case 's':
		t->sort = (t->sort + 1) % ORDER_NKEYS;
		threads_reorder(t);
		footer_say(t, ROLE_NORMAL, "sorted by %s", order_name(t->sort));
		break;
	case '/':
		t->editing = 1;
		memcpy(t->edit, t->filter, sizeof t->edit);
		break;
	default:
		return KEY_IGNORED;
	}
	return KEY_DONE;
}
