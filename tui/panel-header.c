/*
 * The header: the process (and, read from outside, which figures that
 * leaves out), the GIL holder and meters, the thread counts, a
 * free-threaded CPython's PyMutex contention and stop-the-world pause;
 * then, in red, every deadlock cycle present, and a line about
 * lock-order inversions.
 */
#include <stdio.h>
#include <string.h>

#include "tui.h"

#define BANNER_CYCLES	3	/* cycles written out; the rest counted */
#define BANNER_LINES	3	/* lines per cycle at most */

/* Put text over up to max lines, breaking at spaces.  Rows used. */
static int
wrap(int y, int width, int role, const char *text, int max)
{
	char line[512];
	const char *p = text;
	int used = 0, n, cut;

	while (*p != '\0' && used < max) {
		n = (int)strlen(p);
		cut = n;
		if (n > width) {
			for (cut = width; cut > width / 2 && p[cut] != ' ';
			    cut--)
				;
			if (p[cut] != ' ')
				cut = width;
		}
		if (cut > (int)sizeof line - 1)
			cut = (int)sizeof line - 1;
		memcpy(line, p, (size_t)cut);
		line[cut] = '\0';
		crt_put(y + used++, 0, width, role, line);
		p += cut;
		while (*p == ' ')
			p++;
	}
	return used;
}

static void
title(struct tui *t, int y, int width)
{
	struct source *s = t->src;
	char buf[512], status[200];
	int role = ROLE_TITLE, n;

	status[0] = '\0';
	if (source_ended(s)) {
		snprintf(status, sizeof status, "  ENDED: %s (q quits)",
		    s->why);
		role = ROLE_BANNER;
	} else if (s->err[0] != '\0') {
		snprintf(status, sizeof status, "  %s", s->err);
		role = ROLE_WARN;
	} else if (s->life == SHM_STALLED) {
		snprintf(status, sizeof status, "  STALLED: %s", s->why);
		role = ROLE_WARN;
	} else if (t->paused)
		snprintf(status, sizeof status, "  PAUSED (p resumes)");
	n = snprintf(buf, sizeof buf, "gilwatch top  ");
	fmt_process(s, buf + n, sizeof buf - (size_t)n);
	crt_put(y, 0, width, ROLE_TITLE, buf);
	/* At the right; over the title when it does not fit: it matters
	 * more. */
	if (status[0] != '\0') {
		n = (int)strlen(status);
		crt_put(y, width > n ? width - n : 0, n, role, status);
	}
}

static void
meters(struct source *s, int y, int width)
{
	const struct gw_shm_gil *g = &s->frame.head.gil;
	char tail[64], buf[256];
	int half = width / 2;

	snprintf(tail, sizeof tail, "1s %3.0f%% 10s %3.0f%%",
	    g->load_1s * 100, g->load_10s * 100);
	crt_put(y, 0, half, ROLE_HELD, fmt_meter("GIL load  ", g->load_1s,
	    tail, half - 1, buf, sizeof buf));
	snprintf(tail, sizeof tail, "1s %3.0f%% 10s %3.0f%%",
	    g->contention_1s * 100, g->contention_10s * 100);
	crt_put(y, half, width - half, ROLE_GILWAIT, fmt_meter("contention",
	    g->contention_1s, tail, width - half, buf, sizeof buf));
}

int
header_draw(struct tui *t, int y)
{
	struct source *s = t->src;
	int width = crt_cols(), used = 0;
	char buf[2048];
	uint32_t n;

	title(t, y + used++, width);
	if (fmt_outside(s, buf, sizeof buf) != NULL)
		used += wrap(y + used, width, ROLE_DIM, buf, 2);
	if (!s->have)
		return used;
	crt_put(y + used++, 0, width, s->frame.head.gil.present ?
	    ROLE_NORMAL : ROLE_DIM, fmt_gil(s, buf, sizeof buf));
	if (s->frame.head.gil.present && !s->outside)
		meters(s, y + used++, width);
	crt_put(y + used++, 0, width, ROLE_NORMAL, fmt_counts(s, buf,
	    sizeof buf));
	if (fmt_pymutex(s, buf, sizeof buf) != NULL)
		crt_put(y + used++, 0, width, ROLE_NORMAL, buf);
	if (fmt_pause(s, buf, sizeof buf) != NULL)
		used += wrap(y + used, width, ROLE_WARN, buf, BANNER_LINES);
	for (n = 0; n < s->frame.head.cycles && n < BANNER_CYCLES; n++)
		if (fmt_cycle(s, n, buf, sizeof buf) != NULL)
			used += wrap(y + used, width, ROLE_BANNER, buf,
			    BANNER_LINES);
	if (s->frame.head.cycles > BANNER_CYCLES) {
		snprintf(buf, sizeof buf, "DEADLOCK: and %u more cycles",
		    s->frame.head.cycles - BANNER_CYCLES);
		crt_put(y + used++, 0, width, ROLE_BANNER, buf);
	}
	if (fmt_all_waiting(s, buf, sizeof buf) != NULL)
		used += wrap(y + used, width, ROLE_WARN, buf, BANNER_LINES);
	if (s->frame.head.inversions > 0) {
		snprintf(buf, sizeof buf, "Lock-order inversions: %u "
		    "(l lists them)", s->frame.head.inversions);
		crt_put(y + used++, 0, width, ROLE_WARN, buf);
	}
	return used;
}
