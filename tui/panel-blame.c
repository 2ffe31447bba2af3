/*
 * The blame view (b): fmt-blame.c's lines as a scrolling page, the
 * selected thread's wait first.
 */
#include "tui.h"

static void
put(void *arg, int role, const char *s)
{
	page_line(arg, role, s);
}

void
blame_draw(struct tui *t, int y, int h)
{
	struct page p = { y + 1, h - 1, t->blame_top, 0, crt_cols() };

	crt_put(y, 0, p.width, ROLE_HEAD, "GIL BLAME: who made threads wait "
	    "for the GIL, and where");
	fmt_blame(t->src, t->sel_tid, put, &p);
	t->blame_lines = p.n;
	t->body_h = p.h;
}

int
blame_key(struct tui *t, int key)
{
	return tui_scroll(key, &t->blame_top, t->blame_lines, t->body_h);
}
