/*
 * The thread list as the table and the timeline show it: the rows that
 * match the filter, sorted by one key, ties by TID so rows stay put.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tui.h"

static const char *names[ORDER_NKEYS] = {
	[ORDER_STATE] = "state",
	[ORDER_TID] = "tid",
	[ORDER_NAME] = "name",
	[ORDER_GIL] = "gil%",
	[ORDER_WAIT] = "wait%",
	[ORDER_AGE] = "age",
	[ORDER_LOCKS] = "locks",
};

/* qsort has no context argument everywhere; the viewer is one thread. */
static const struct source *cmp_src;
static int cmp_key;

const char *
order_name(int key)
{
	return key >= 0 && key < ORDER_NKEYS ? names[key] : "?";
}

static int
cmp_num(double a, double b)
{
	return (a < b) - (a > b);	/* biggest first */
}

static int
by_key(const void *x, const void *y)
{
	const struct row *a = &cmp_src->rows[*(const uint32_t *)x];
	const struct row *b = &cmp_src->rows[*(const uint32_t *)y];
	int c = 0;

	switch (cmp_key) {
	case ORDER_STATE:
		c = (a->cls > b->cls) - (a->cls < b->cls);
		if (c == 0)
			c = cmp_num((double)a->t->state_ns,
			    (double)b->t->state_ns);
		break;
	case ORDER_NAME:
		c = strcmp(a->t->name, b->t->name);
		break;
	case ORDER_GIL:
		c = cmp_num(a->held, b->held);
		break;
	case ORDER_WAIT:
		c = cmp_num(a->waited, b->waited);
		break;
	case ORDER_AGE:
		c = cmp_num((double)a->t->state_ns, (double)b->t->state_ns);
		break;
	case ORDER_LOCKS:
		c = cmp_num(a->t->nheld, b->t->nheld);
		break;
	}
	if (c == 0)
		c = (a->t->tid > b->t->tid) - (a->t->tid < b->t->tid);
	return c;
}

/* Does the row show filter anywhere: TID, name, state, frames? */
static int
matches(const struct source *s, const struct row *r, const char *filter)
{
	char buf[256];

	if (filter[0] == '\0')
		return 1;
	snprintf(buf, sizeof buf, "%d", (int)r->t->tid);
	if (strstr(buf, filter) != NULL || strcasestr(r->t->name, filter) !=
	    NULL || strcasestr(r->t->py_frame, filter) != NULL)
		return 1;
	if (strcasestr(fmt_state(s, r, 0, buf, sizeof buf), filter) != NULL)
		return 1;
	return r->t->nframes > 0 && strcasestr(fmt_sym(s, r->t->frames[0], 0,
	    buf, sizeof buf), filter) != NULL;
}

uint32_t
order_rows(const struct source *s, int key, const char *filter,
    uint32_t *idx)
{
	uint32_t i, n = 0;

	for (i = 0; i < s->nrows; i++)
		if (matches(s, &s->rows[i], filter))
			idx[n++] = i;
	cmp_src = s;
	cmp_key = key;
	qsort(idx, n, sizeof *idx, by_key);
	cmp_src = NULL;
	return n;
}
