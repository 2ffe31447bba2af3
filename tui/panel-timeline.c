/*
 * The GIL timeline: one lane per thread (the table's list, in its
 * order), one column per sample, newest at the right.  A cell says
 * what the thread did between two samples, from its GIL totals: held
 * the GIL most of the time, part of it, waited for it; or, without the
 * GIL, whether it was blocked or sleeping when sampled.  The glyphs
 * carry the meaning; colour only adds to it.
 */
#include <stdio.h>
#include <string.h>

#include "tui.h"

#define LABEL_W	21	/* "  TID NAME        " before the lanes */

static const struct {
	char	 glyph;
	int	 role;
} look[] = {
	[CELL_NONE] = { ' ', ROLE_NORMAL },
	[CELL_IDLE] = { '_', ROLE_DIM },
	[CELL_GIL_WAIT] = { '-', ROLE_GILWAIT },
	[CELL_GIL_SOME] = { '+', ROLE_HELD },
	[CELL_GIL_HELD] = { '#', ROLE_HELD },
	[CELL_BLOCKED] = { 'x', ROLE_BLOCKED },
	[CELL_SLEEP] = { '.', ROLE_DIM },
};

static const char legend[] = "# held the GIL  + held part of the time  "
    "- waited for it  x blocked on a lock  . sleeping  _ other";

/* The lane of tk over the last w samples, in runs of one role. */
static void
lane(const struct source *s, const struct track *tk, int y, int x, int w)
{
	char run[TUI_CELLS + 1];
	uint64_t now = s->samples - 1, k;
	int i, n = 0, role = -1, at = x, r;
	uint8_t c;

	for (i = 0; i < w; i++) {
		k = now - (uint64_t)(w - 1 - i);
		c = CELL_NONE;
		if (s->samples > 0 && now >= (uint64_t)(w - 1 - i) &&
		    k >= tk->first && now - k < TUI_CELLS)
			c = tk->cells[k % TUI_CELLS];
		if (c > CELL_SLEEP)
			c = CELL_NONE;
		r = look[c].role;
		if (r != role && n > 0) {
			run[n] = '\0';
			crt_put(y, at, n, role, run);
			at += n;
			n = 0;
		}
		role = r;
		run[n++] = look[c].glyph;
	}
	if (n > 0) {
		run[n] = '\0';
		crt_put(y, at, n, role, run);
	}
}

static void
axis(const struct source *s, int y, int w, int width)
{
	char buf[512], left[48], span[32];
	uint64_t now = s->samples - 1, from;
	int n;

	from = s->samples > (uint64_t)w ? s->samples - (uint64_t)w : 0;
	if (s->samples > 1 && now - from >= TUI_HIST)
		from = now - TUI_HIST + 1;	/* times kept that far back */
	if (s->samples > 1)
		snprintf(left, sizeof left, "<- %s (%llu samples)",
		    fmt_dur(s->when[now % TUI_HIST] - s->when[from % TUI_HIST],
		    span, sizeof span), (unsigned long long)(now - from + 1));
	else
		snprintf(left, sizeof left, "<-");
	n = snprintf(buf, sizeof buf, "%*s %-12s %s", 7, "TID", "NAME", left);
	if (n < width - 4)
		snprintf(buf + n, sizeof buf - (size_t)n, "%*s",
		    width - n, "now ->");
	crt_put(y, 0, width, ROLE_HEAD, buf);
}

void
timeline_draw(struct tui *t, int y, int h)
{
	struct source *s = t->src;
	const struct row *r;
	char label[64];
	int width = crt_cols(), w = width - LABEL_W, rows = h - 2, i;

	if (w > TUI_CELLS)
		w = TUI_CELLS;
	if (w < 1)
		w = 1;
	axis(s, y, w, width);
	/* From outside a cell is the state seen at one read: no shares. */
	crt_put(y + h - 1, 0, width, ROLE_DIM, s->outside ?
	    "read from outside: each cell is the state at one refresh  "
	    "+ held the GIL  - waited for it  x blocked  . sleeping  _ other "
	    "(GIL shares need gilwatch run)" : s->frame.head.gil.present ?
	    legend : "no GIL in this process: lanes show locks only  "
	    "x blocked  . sleeping  _ running");
	t->body_h = rows;
	if (t->norder == 0)
		return;
	if (t->sel < t->top)
		t->top = t->sel;
	if (rows > 0 && t->sel >= t->top + (uint32_t)rows)
		t->top = t->sel - (uint32_t)rows + 1;
	for (i = 0; i < rows && t->top + (uint32_t)i < t->norder; i++) {
		r = &s->rows[t->order[t->top + (uint32_t)i]];
		snprintf(label, sizeof label, "%7d %-12.12s ", (int)r->t->tid,
		    r->t->name);
		crt_put(y + 1 + i, 0, LABEL_W, t->top + (uint32_t)i ==
		    t->sel ? ROLE_SEL : ROLE_NORMAL, label);
		lane(s, r->tk, y + 1 + i, LABEL_W, w);
	}
}
