/*
 * The GIL blame sections of a frame (include/gilwatch/shm.h), from
 * gil-blame.c's tables, which the GIL's markers fill with atomic adds:
 * the helper thread reads them with atomic loads and takes no lock, so
 * nothing here can hold up a hook.
 *
 * The recent blocking time of a line is its total now less its total
 * BLAME_RECENT_S seconds ago: the helper keeps, per site, a total a
 * second for that many seconds (allocated at the first publication a
 * viewer sees, in the helper thread).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gil-blame.h"
#include "msg.h"
#include "publish-int.h"

#define BLAME_RECENT_S	5	/* seconds the recent figures span */
#define BLAME_BY_RECENT	8	/* of the lines listed, chosen by recent
				   time when the run's totals leave them
				   out */

#define RECENT_SETS	(BLAME_RECENT_S + 1)

struct cand {
	int		 site;
	uint64_t	 total, recent;
};

static struct {
	uint64_t	(*past)[BLAME_SITES];	/* totals, one set a second */
	uint64_t	 when[RECENT_SETS];
	unsigned	 taken;			/* sets taken so far */
	struct cand	*cand;
	int		 failed;
} rec;

static int
by_total(const void *a, const void *b)
{
	const struct cand *x = a, *y = b;

	return x->total < y->total ? 1 : x->total > y->total ? -1 : 0;
}

static int
by_recent(const void *a, const void *b)
{
	const struct cand *x = a, *y = b;

	return x->recent < y->recent ? 1 : x->recent > y->recent ? -1 : 0;
}

static int
recent_init(void)
{
	if (rec.past != NULL || rec.failed)
		return rec.past != NULL ? 0 : -1;
	rec.past = calloc(RECENT_SETS, sizeof *rec.past);
	rec.cand = calloc(BLAME_SITES, sizeof *rec.cand);
	if (rec.past == NULL || rec.cand == NULL) {
		free(rec.past);
		free(rec.cand);
		rec.past = NULL;
		rec.failed = 1;
		msg_note("no memory for gilwatch top's GIL blame view");
		return -1;
	}
	return 0;
}

/*
 * Fill rec.cand with every site's totals now and over the recent
 * window, keeping the totals as a new set when the last set is a second
 * old; returns how many sites, and in *span what the window spans.
 */
static unsigned
candidates(uint64_t now, uint64_t *span)
{
	unsigned n = blame_site_count(), i, newest, base;
	struct blame_fig fig;
	uint64_t past;
	int take;

	take = rec.taken == 0 || now - rec.when[(rec.taken - 1) %
	    RECENT_SETS] >= 1000000000ull;
	if (take)
		rec.when[rec.taken++ % RECENT_SETS] = now;
	newest = (rec.taken - 1) % RECENT_SETS;
	/* RECENT_SETS is one more: the new set never overwrites base. */
	base = (rec.taken - 1 > BLAME_RECENT_S ? rec.taken - 1 -
	    BLAME_RECENT_S : 0) % RECENT_SETS;
	for (i = 0; i < n; i++) {
		blame_site_fig(blame_site_at(i), &fig);
		if (take)
			rec.past[newest][fig.site] = fig.blocking;
		past = rec.past[base][fig.site];
		rec.cand[i].site = fig.site;
		rec.cand[i].total = fig.blocking;
		/* Less than before: zeroed by a reset since. */
		rec.cand[i].recent = fig.blocking >= past ?
		    fig.blocking - past : fig.blocking;
	}
	*span = now - rec.when[base];
	return n;
}

static void
base_name(char *to, size_t len, const char *path)
{
	const char *b = strrchr(path, '/');

	snprintf(to, len, "%s", b != NULL ? b + 1 : path);
}

/* The lines with the most blocking time, over the run and recently. */
static void
publish_sites(struct shm_writer *w, struct gw_shm_frame *f, uint64_t now)
{
	struct gw_shm_blame_site *out;
	struct blame_fig fig;
	unsigned n, i, k = 0, by_run = GW_SHM_BLAME_SITES - BLAME_BY_RECENT;
	size_t room;

	n = candidates(now, &f->blame_recent_ns);
	qsort(rec.cand, n, sizeof *rec.cand, by_total);
	if (n > by_run)
		qsort(rec.cand + by_run, n - by_run, sizeof *rec.cand,
		    by_recent);
	out = shm_writer_room(w, &room);
	for (i = 0; i < n && k < GW_SHM_BLAME_SITES &&
	    (k + 1) * sizeof *out <= room; i++) {
		if (rec.cand[i].total == 0)
			continue;
		blame_site_fig(rec.cand[i].site, &fig);
		memset(&out[k], 0, sizeof out[k]);
		out[k].blocking_ns = rec.cand[i].total;
		out[k].recent_ns = rec.cand[i].recent;
		out[k].forced = fig.forced;
		out[k].holds = fig.holds;
		out[k].line = fig.line;
		snprintf(out[k].function, sizeof out[k].function, "%s",
		    fig.function);
		base_name(out[k].file, sizeof out[k].file, fig.file);
		k++;
	}
	f->blame_sites_off = shm_writer_claim(w, k * sizeof *out);
	f->nblame_sites = k;
}

/*
 * Each GIL waiter's biggest holders and lines, in frame order, as many
 * waiters as GW_SHM_BLAME_PARTS has room for (some 50).
 */
static void
publish_parts(struct shm_writer *w, struct gw_shm_frame *f,
    const struct gw_shm_thread *threads)
{
	struct blame_part parts[2 * GW_SHM_BLAME_EACH + 2];
	struct gw_shm_blame *out;
	struct blame_fig fig;
	struct blame_view *v;
	size_t room, max, k = 0, n, j;
	uint32_t i;

	if ((v = blame_view_take()) == NULL)
		return;
	out = shm_writer_room(w, &room);
	max = room / sizeof *out;
	if (max > GW_SHM_BLAME_PARTS)
		max = GW_SHM_BLAME_PARTS;
	for (i = 0; i < f->nthreads; i++) {
		if (threads[i].gil_wait_ns == 0)
			continue;
		n = blame_waiter_parts(v, threads[i].tid, parts,
		    GW_SHM_BLAME_EACH);
		if (k + n > max)
			break;	/* a waiter's parts whole, or not at all */
		for (j = 0; j < n; j++, k++) {
			memset(&out[k], 0, sizeof out[k]);
			out[k].waiter = threads[i].tid;
			out[k].kind = (uint8_t)parts[j].kind;
			out[k].holder = parts[j].holder;
			out[k].ns = parts[j].ns;
			if (parts[j].kind != GW_SHM_BLAME_LINE)
				continue;
			blame_site_fig(parts[j].site, &fig);
			out[k].line = fig.line;
			snprintf(out[k].function, sizeof out[k].function, "%s",
			    fig.function);
			base_name(out[k].file, sizeof out[k].file, fig.file);
		}
	}
	blame_view_free(v);
	f->blame_off = shm_writer_claim(w, k * sizeof *out);
	f->nblame = k;
}

void
publish_blame(struct shm_writer *w, struct gw_shm_frame *f, uint64_t now)
{
	const struct gw_shm_thread *threads;

	if (f->gil.present && !blame_on)
		f->flags |= GW_SHM_BLAME_OFF;
	if (!f->gil.present || !blame_on || recent_init() == -1)
		return;
	publish_sites(w, f, now);
	threads = (const void *)(w->base + f->threads_off);
	publish_parts(w, f, threads);
}
