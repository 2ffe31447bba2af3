/* GIL blame: see gil-blame.h. */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "gil-blame.h"
#include "gilwatch/shm.h"
#include "msg.h"
#include "out.h"
#include "pages.h"
#include "py.h"
#include "thread.h"
#include "share.h"

/* Site indexes that name no line. */
#define SITE_NOPY	0	/* the holder had no Python frame */
#define SITE_OTHER	1	/* the table was full */
#define SITE_FIRST	2

struct site {
	uintptr_t	 code;
	int		 line;
	char		 function[PY_NAME_MAX];
	char		 file[PY_FILE_MAX];
	_Atomic uint64_t blocking;	/* ns held while another waited */
	_Atomic uint64_t forced;	/* drops asked of it */
	_Atomic uint64_t holds;		/* contended holds that ended here */
};

struct pc {
	uintptr_t	 code;
	long		 addr;
	int		 site;		/* + 1; 0: empty */
};

/* What a waiter's wait is split by. */
enum pair_kind {
	PAIR_HOLDER = 1,	/* id: the holder's TID */
	PAIR_SITE,		/* id: a site index */
	PAIR_HANDOFF,		/* no holder: the GIL changing hands */
	PAIR_UNKNOWN,		/* before the ring's oldest hold */
};

_Static_assert(PAIR_HOLDER == GW_SHM_BLAME_HOLDER &&
    PAIR_SITE == GW_SHM_BLAME_LINE && PAIR_HANDOFF == GW_SHM_BLAME_HANDOFF &&
    PAIR_UNKNOWN == GW_SHM_BLAME_UNKNOWN, "parts are published as kept");

#define PAIRS_RUN	64	/* slots where one waiter's keys start */

struct pair {
	_Atomic uint64_t key;	/* waiter << 32 | kind << 28 | id; 0: empty */
	_Atomic uint64_t ns;
};

struct hold {
	pid_t		 holder;
	int		 site;
	uint64_t	 start, end;
};

GW_SHARED int blame_on;

static const struct py_runtime *rt;
static struct site *sites;
static struct pc *pcs;
static struct pair *pairs;
static struct hold *ring;
static GW_SHARED atomic_uint nsites;
static GW_SHARED atomic_int *used;		/* site indexes in use, nsites of them */
static GW_SHARED _Atomic uint64_t nholds;		/* holds written to the ring */
static GW_SHARED atomic_int said_sites, said_pairs, said_ring;

void
blame_init(const struct py_runtime *r)
{
	rt = r;
	sites = pages_map(BLAME_SITES * sizeof *sites);
	pcs = pages_map(BLAME_PCS * sizeof *pcs);
	used = pages_map(BLAME_SITES * sizeof *used);
	if (config.blame) {
		pairs = pages_map(BLAME_PAIRS * sizeof *pairs);
		ring = pages_map(BLAME_RING * sizeof *ring);
	}
	if (sites == NULL || pcs == NULL || used == NULL ||
	    (config.blame && (pairs == NULL || ring == NULL))) {
		msg_say("no memory for GIL blame: it is off");
		sites = NULL;
		return;
	}
	blame_on = config.blame;
	snprintf(sites[SITE_NOPY].function, PY_NAME_MAX, "<no Python frame>");
	snprintf(sites[SITE_OTHER].function, PY_NAME_MAX, "<other lines>");
	atomic_store(&used[SITE_NOPY], SITE_NOPY);
	atomic_store(&used[SITE_OTHER], SITE_OTHER);
	atomic_store(&nsites, SITE_FIRST);
}

static unsigned
mix(uint64_t k)
{
	k ^= k >> 33;
	k *= 0xff51afd7ed558ccdull;
	k ^= k >> 33;
	return (unsigned)k;
}

static void
say_once(atomic_int *said, const char *what, unsigned max)
{
	if (atomic_exchange(said, 1) == 0)
		msg_say("GIL blame: more than %u %s; the rest is counted as "
		    "\"other\"", max, what);
}

/* The line of a code object: found, or added (named now, while its
 * code object is sure to live: the holder runs it). */
static int
site_of_line(uintptr_t code, const struct py_frame *f)
{
	unsigned h = mix(code ^ ((uint64_t)f->line << 40)), i, n, k;
	struct site *s;

	for (n = 0; n < BLAME_SITES; n++) {
		i = (h + n) % BLAME_SITES;
		if (i < SITE_FIRST)
			continue;
		s = &sites[i];
		if (s->code == code && s->line == f->line)
			return (int)i;
		if (s->code == 0) {
			/* Markers add sites one at a time (gil->mutex). */
			if ((k = atomic_load(&nsites)) >= BLAME_SITES - 1)
				break;
			s->line = f->line;
			snprintf(s->function, sizeof s->function, "%s",
			    py_frame_name(f));
			snprintf(s->file, sizeof s->file, "%s", f->file);
			s->code = code;
			atomic_store(&used[k], (int)i);
			atomic_store_explicit(&nsites, k + 1,
			    memory_order_release);
			return (int)i;
		}
	}
	say_once(&said_sites, "Python lines", BLAME_SITES - SITE_FIRST);
	return SITE_OTHER;
}

/* The line of an instruction of the holder's, cached by instruction. */
static int
site_of_pc(const struct py_site *pp)
{
	struct py_site ps = *pp;
	struct py_frame f;
	unsigned h, n;
	struct pc *p;
	int s;

	h = mix(ps.code ^ ((uint64_t)ps.addr << 32));
	for (n = 0; n < BLAME_PCS; n++) {
		p = &pcs[(h + n) % BLAME_PCS];
		if (p->site != 0 && p->code == ps.code && p->addr == ps.addr)
			return p->site - 1;
		if (p->site == 0)
			break;
	}
	if (py_site_frame(rt, &ps, &f) == -1)
		return SITE_NOPY;
	s = site_of_line(ps.code, &f);
	if (n < BLAME_PCS) {
		p->code = ps.code;
		p->addr = ps.addr;
		p->site = s + 1;
	} else
		say_once(&said_sites, "Python instructions", BLAME_PCS);
	return s;
}

int
blame_site_of(const struct py_site *ps)
{
	if (sites == NULL)
		return -1;
	return ps == NULL ? SITE_NOPY : site_of_pc(ps);
}

static uint64_t
pair_key(pid_t waiter, enum pair_kind kind, unsigned id)
{
	return (uint64_t)(uint32_t)waiter << 32 | (uint64_t)kind << 28 |
	    (id & 0xfffffff);
}

/*
 * Add ns to a waiter's figure; a full table drops it (said once).  A
 * waiter's figures start in a run of slots of its own (the high bits
 * of the slot from the waiter alone), so that its few keys share a
 * page or two instead of touching one each: a page touched for the
 * first time costs a fault, dear in a VM.  Two waiters may meet at an
 * empty slot: one takes it, the other goes on.
 */
static void
pair_add(pid_t waiter, enum pair_kind kind, unsigned id, uint64_t ns)
{
	uint64_t key = pair_key(waiter, kind, id), cur;
	unsigned h = (mix((uint64_t)(uint32_t)waiter) & ~(PAIRS_RUN - 1)) |
	    (mix(key) & (PAIRS_RUN - 1)), n;
	struct pair *p;

	for (n = 0; n < BLAME_PAIRS; n++) {
		p = &pairs[(h + n) % BLAME_PAIRS];
		cur = atomic_load_explicit(&p->key, memory_order_relaxed);
		if (cur == 0 && atomic_compare_exchange_strong_explicit(
		    &p->key, &cur, key, memory_order_relaxed,
		    memory_order_relaxed))
			cur = key;
		if (cur == key) {
			atomic_fetch_add_explicit(&p->ns, ns,
			    memory_order_relaxed);
			return;
		}
	}
	say_once(&said_pairs, "(waiter, holder or line) figures",
	    BLAME_PAIRS);
}

uint64_t
blame_hold_end(struct thread *t, const struct py_site *at, uint64_t since,
    uint64_t now, uint64_t contended, int forced)
{
	struct site *s;
	struct hold *h;
	uint64_t n, blocking = 0;
	int site;

	if (sites == NULL || contended == 0 || now <= since)
		return 0;
	/* A waiter may stamp its start after our now: no overlap then. */
	if (contended < since)
		contended = since;
	if (contended < now)
		blocking = now - contended;
	if (!blame_on)
		return blocking;
	site = at == NULL ? SITE_NOPY : site_of_pc(at);
	s = &sites[site];
	if (blocking > 0)
		atomic_fetch_add_explicit(&s->blocking, blocking,
		    memory_order_relaxed);
	atomic_fetch_add_explicit(&s->holds, 1, memory_order_relaxed);
	if (forced)
		atomic_fetch_add_explicit(&s->forced, 1, memory_order_relaxed);
	/* Only markers write the ring, one at a time (gil->mutex). */
	n = atomic_load_explicit(&nholds, memory_order_relaxed);
	h = &ring[n % BLAME_RING];
	h->holder = atomic_load_explicit(&t->tid, memory_order_relaxed);
	h->site = site;
	h->start = since;
	h->end = now;
	atomic_store_explicit(&nholds, n + 1, memory_order_release);
	return blocking;
}

void
blame_wait_end(struct thread *t, uint64_t w0, uint64_t now,
    pid_t *holder, int *site)
{
	pid_t me = atomic_load_explicit(&t->tid, memory_order_relaxed);
	uint64_t n, oldest, covered = 0, best = 0, from, to, ov;
	const struct hold *h;
	int reached = 0;

	*holder = 0;
	*site = -1;
	if (!blame_on || now <= w0)
		return;
	n = atomic_load_explicit(&nholds, memory_order_acquire);
	oldest = n > BLAME_RING ? n - BLAME_RING : 0;
	while (n > oldest) {
		h = &ring[--n % BLAME_RING];
		if (h->end <= w0) {
			reached = 1;
			break;
		}
		from = h->start > w0 ? h->start : w0;
		to = h->end < now ? h->end : now;
		if (to <= from)
			continue;
		ov = to - from;
		covered += ov;
		pair_add(me, PAIR_HOLDER, (unsigned)h->holder, ov);
		pair_add(me, PAIR_SITE, (unsigned)h->site, ov);
		if (ov > best) {
			best = ov;
			*holder = h->holder;
			*site = h->site;
		}
	}
	if (!reached && oldest == 0)
		reached = 1;	/* the ring holds every hold there was */
	if (covered >= now - w0)
		return;
	if (reached)
		pair_add(me, PAIR_HANDOFF, 0, now - w0 - covered);
	else {
		say_once(&said_ring, "contended holds in one wait",
		    BLAME_RING);
		pair_add(me, PAIR_UNKNOWN, 0, now - w0 - covered);
	}
}

void
blame_site_name(int site, char *buf, size_t len)
{
	const struct site *s;

	if (sites == NULL || site < 0 || site >= BLAME_SITES) {
		snprintf(buf, len, "?");
		return;
	}
	s = &sites[site];
	if (site < SITE_FIRST)
		snprintf(buf, len, "%s", s->function);
	else
		snprintf(buf, len, "%s (%s:%d)", s->function, s->file, s->line);
}

unsigned
blame_site_count(void)
{
	unsigned n;

	if (sites == NULL)
		return 0;
	n = atomic_load_explicit(&nsites, memory_order_acquire);
	return n < BLAME_SITES ? n : BLAME_SITES;
}

int
blame_site_at(unsigned place)
{
	return atomic_load(&used[place]);
}

void
blame_site_fig(int i, struct blame_fig *f)
{
	const struct site *s = &sites[i];

	f->site = i;
	f->line = i < SITE_FIRST ? 0 : s->line;
	f->function = s->function;
	f->file = s->file;
	f->blocking = atomic_load_explicit(&s->blocking, memory_order_relaxed);
	f->forced = atomic_load_explicit(&s->forced, memory_order_relaxed);
	f->holds = atomic_load_explicit(&s->holds, memory_order_relaxed);
}

void
blame_reset(void)
{
	unsigned i;

	if (sites == NULL)
		return;
	for (i = 0; i < BLAME_SITES; i++) {
		atomic_store(&sites[i].blocking, 0);
		atomic_store(&sites[i].forced, 0);
		atomic_store(&sites[i].holds, 0);
	}
	if (!blame_on)
		return;
	for (i = 0; i < BLAME_PAIRS; i++) {
		atomic_store(&pairs[i].ns, 0);
		atomic_store(&pairs[i].key, 0);
	}
	atomic_store(&nholds, 0);
}

/* --- Reports ------------------------------------------------------ */

/* Rows of a report section, biggest first. */
struct row {
	int		 site;		/* a site, or -1 */
	pid_t		 tid;		/* a holder, or 0 */
	enum pair_kind	 kind;
	const char	*function, *file;
	int		 line;
	uint64_t	 ns, forced, holds;
};

static int
by_ns(const void *a, const void *b)
{
	const struct row *x = a, *y = b;

	return x->ns < y->ns ? 1 : x->ns > y->ns ? -1 : 0;
}

static void
json_site(struct out *o, const struct row *r, int with_line)
{
	out_puts(o, "\"function\":");
	out_json_str(o, r->function);
	out_puts(o, ",\"file\":");
	out_json_str(o, r->file);
	if (with_line)
		out_printf(o, ",\"line\":%d", r->line);
}

static void
row_site(struct row *r, int i)
{
	r->site = i;
	r->function = sites[i].function;
	r->file = sites[i].file;
	r->line = sites[i].line;
}

/* Sites with blocking time, merged into functions when by_function. */
static size_t
collect_sites(struct row *rows, int by_function)
{
	size_t n = 0, k;
	unsigned j, i, nused = atomic_load_explicit(&nsites,
	    memory_order_acquire);
	uint64_t ns;

	for (j = 0; j < nused && j < BLAME_SITES; j++) {
		i = (unsigned)atomic_load(&used[j]);
		ns = atomic_load(&sites[i].blocking);
		if (ns == 0)
			continue;
		for (k = 0; by_function && k < n; k++)
			if (strcmp(rows[k].function, sites[i].function) == 0 &&
			    strcmp(rows[k].file, sites[i].file) == 0)
				break;
		if (!by_function || k == n) {
			memset(&rows[n], 0, sizeof rows[n]);
			row_site(&rows[n], (int)i);
			k = n++;
		}
		rows[k].ns += ns;
		rows[k].forced += atomic_load(&sites[i].forced);
		rows[k].holds += atomic_load(&sites[i].holds);
	}
	qsort(rows, n, sizeof *rows, by_ns);
	return n;
}

static void
sites_json(struct out *o, const char *key, int by_function)
{
	struct row *rows = calloc(BLAME_SITES, sizeof *rows);
	size_t n, i;

	out_printf(o, "\"%s\":[", key);
	n = rows != NULL ? collect_sites(rows, by_function) : 0;
	for (i = 0; i < n; i++) {
		out_puts(o, i ? ",{" : "{");
		json_site(o, &rows[i], !by_function);
		out_printf(o, ",\"blocking_us\":%.3f,\"forced\":%llu,"
		    "\"holds\":%llu}", (double)rows[i].ns / 1e3,
		    (unsigned long long)rows[i].forced,
		    (unsigned long long)rows[i].holds);
	}
	out_puts(o, "]");
	free(rows);
}

void
blame_report_sites(struct out *o, enum gw_format fmt)
{
	struct row *rows;
	size_t n, i;
	char name[PY_NAME_MAX + PY_FILE_MAX + 16];

	if (!blame_on) {
		if (sites == NULL)
			return;		/* no memory: said at start-up */
		out_puts(o, fmt == GW_FORMAT_JSON ? ",\"blocking\":null" :
		    "\n  blame: off (GILWATCH_BLAME=0)\n");
		return;
	}
	if (fmt == GW_FORMAT_JSON) {
		out_puts(o, ",\"blocking\":{");
		sites_json(o, "lines", 0);
		out_puts(o, ",");
		sites_json(o, "functions", 1);
		out_puts(o, "}");
		return;
	}
	if ((rows = calloc(BLAME_SITES, sizeof *rows)) == NULL)
		return;
	n = collect_sites(rows, 0);
	if (n > 0)
		out_puts(o, "\n  blocking: the Python lines that held the GIL "
		    "while another thread waited\n     blocking ms   forced"
		    "    holds  line\n");
	for (i = 0; i < n && i < (size_t)config.top; i++) {
		blame_site_name(rows[i].site, name, sizeof name);
		out_printf(o, "  %14.3f %8llu %8llu  %s\n",
		    (double)rows[i].ns / 1e6,
		    (unsigned long long)rows[i].forced,
		    (unsigned long long)rows[i].holds, name);
	}
	if (n > (size_t)config.top)
		out_printf(o, "  (%zu more lines: --top=N shows more)\n",
		    n - (size_t)config.top);
	free(rows);
}

struct blame_view {
	size_t		 n;
	struct {
		uint64_t key, ns;
	}		 e[];		/* by key: a waiter's together */
};

static int
by_key(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

struct blame_view *
blame_view_take(void)
{
	struct blame_view *v;
	uint64_t key, ns;
	unsigned i;

	if (!blame_on ||
	    (v = malloc(sizeof *v + BLAME_PAIRS * sizeof v->e[0])) == NULL)
		return NULL;
	v->n = 0;
	for (i = 0; i < BLAME_PAIRS; i++) {
		key = atomic_load_explicit(&pairs[i].key, memory_order_relaxed);
		ns = atomic_load_explicit(&pairs[i].ns, memory_order_relaxed);
		if (key == 0 || ns == 0)
			continue;
		v->e[v->n].key = key;
		v->e[v->n++].ns = ns;
	}
	qsort(v->e, v->n, sizeof v->e[0], by_key);
	return v;
}

void
blame_view_free(struct blame_view *v)
{
	free(v);
}

/* The view's first entry of waiter's (or past them, when none). */
static size_t
view_first(const struct blame_view *v, pid_t waiter)
{
	uint64_t lo = pair_key(waiter, 0, 0);
	size_t a = 0, b = v->n, m;

	while (a < b) {
		m = a + (b - a) / 2;
		if (v->e[m].key < lo)
			a = m + 1;
		else
			b = m;
	}
	return a;
}

/* The waiter's figures, biggest first. */
static size_t
collect_waiter(const struct blame_view *v, pid_t waiter, struct row *rows,
    size_t max)
{
	size_t a = view_first(v, waiter), n = 0;
	unsigned id;

	for (; a < v->n && (pid_t)(v->e[a].key >> 32) == waiter && n < max;
	    a++) {
		memset(&rows[n], 0, sizeof rows[n]);
		rows[n].kind = (enum pair_kind)((v->e[a].key >> 28) & 0xf);
		id = (unsigned)(v->e[a].key & 0xfffffff);
		rows[n].site = -1;
		if (rows[n].kind == PAIR_HOLDER)
			rows[n].tid = (pid_t)id;
		else if (rows[n].kind == PAIR_SITE && id < BLAME_SITES)
			row_site(&rows[n], (int)id);
		else if (rows[n].kind == PAIR_SITE)
			continue;
		rows[n++].ns = v->e[a].ns;
	}
	qsort(rows, n, sizeof *rows, by_ns);
	return n;
}

/* Put p into the n biggest of top[0..each-1], biggest first. */
static void
keep_biggest(struct blame_part *top, size_t *n, size_t each,
    const struct blame_part *p)
{
	size_t i;

	if (*n == each && top[each - 1].ns >= p->ns)
		return;
	i = *n < each ? (*n)++ : each - 1;
	for (; i > 0 && top[i - 1].ns < p->ns; i--)
		top[i] = top[i - 1];
	top[i] = *p;
}

size_t
blame_waiter_parts(const struct blame_view *v, pid_t waiter,
    struct blame_part *parts, size_t each)
{
	struct blame_part p, rest[2];
	size_t a, nh = 0, nl = 0, i;
	unsigned id;

	if (v == NULL || each == 0)
		return 0;
	memset(rest, 0, sizeof rest);
	rest[0].kind = PAIR_HANDOFF;
	rest[1].kind = PAIR_UNKNOWN;
	/* Holders fill parts[0..each), lines parts[each..2 each). */
	for (a = view_first(v, waiter); a < v->n &&
	    (pid_t)(v->e[a].key >> 32) == waiter; a++) {
		memset(&p, 0, sizeof p);
		p.kind = (int)((v->e[a].key >> 28) & 0xf);
		id = (unsigned)(v->e[a].key & 0xfffffff);
		p.ns = v->e[a].ns;
		p.site = -1;
		if (p.kind == PAIR_HOLDER) {
			p.holder = (pid_t)id;
			keep_biggest(parts, &nh, each, &p);
		} else if (p.kind == PAIR_SITE && id < BLAME_SITES) {
			p.site = (int)id;
			keep_biggest(parts + each, &nl, each, &p);
		} else if (p.kind == PAIR_HANDOFF || p.kind == PAIR_UNKNOWN)
			rest[p.kind - PAIR_HANDOFF].ns += p.ns;
	}
	memmove(parts + nh, parts + each, nl * sizeof *parts);
	nh += nl;
	for (i = 0; i < 2; i++)
		if (rest[i].ns > 0)
			parts[nh++] = rest[i];
	return nh;
}

#define WAITER_ROWS	256	/* figures listed per waiter */
#define WAITER_TEXT	3	/* of each kind, in text */

void
blame_report_thread(struct out *o, enum gw_format fmt,
    const struct blame_view *bv, pid_t waiter, uint64_t wait_ns,
    void (*tid_name)(pid_t, char *, size_t))
{
	static const char *kinds[] = { "holders", "lines" };
	uint64_t handoff = 0, unknown = 0;
	char name[PY_NAME_MAX + PY_FILE_MAX + 16];
	struct row *rows;
	size_t n, i;
	int k, shown;

	if (bv == NULL || (rows = calloc(WAITER_ROWS, sizeof *rows)) == NULL)
		return;
	n = collect_waiter(bv, waiter, rows, WAITER_ROWS);
	for (i = 0; i < n; i++) {
		if (rows[i].kind == PAIR_HANDOFF)
			handoff += rows[i].ns;
		else if (rows[i].kind == PAIR_UNKNOWN)
			unknown += rows[i].ns;
	}
	if (fmt == GW_FORMAT_JSON) {
		out_puts(o, ",\"blame\":{");
		for (k = 0; k < 2; k++) {
			out_printf(o, "%s\"%s\":[", k ? "," : "", kinds[k]);
			shown = 0;
			for (i = 0; i < n; i++) {
				if (rows[i].kind != (k ? PAIR_SITE :
				    PAIR_HOLDER))
					continue;
				out_puts(o, shown++ ? ",{" : "{");
				if (k)
					json_site(o, &rows[i], 1);
				else {
					tid_name(rows[i].tid, name,
					    sizeof name);
					out_printf(o, "\"tid\":%d,\"name\":",
					    (int)rows[i].tid);
					out_json_str(o, name);
				}
				out_printf(o, ",\"us\":%.3f}",
				    (double)rows[i].ns / 1e3);
			}
			out_puts(o, "]");
		}
		out_printf(o, ",\"handoff_us\":%.3f,\"unknown_us\":%.3f}",
		    (double)handoff / 1e3, (double)unknown / 1e3);
		free(rows);
		return;
	}
	if (n == 0 || wait_ns == 0) {
		free(rows);
		return;
	}
	tid_name(waiter, name, sizeof name);
	out_printf(o, "  %d %s waited %.3f ms:\n", (int)waiter, name,
	    (double)wait_ns / 1e6);
	for (k = 0; k < 2; k++)
		for (i = 0, shown = 0; i < n && shown < WAITER_TEXT; i++) {
			if (rows[i].kind != (k ? PAIR_SITE : PAIR_HOLDER))
				continue;
			shown++;
			out_printf(o, "    %12.3f ms %5.1f%%  ",
			    (double)rows[i].ns / 1e6,
			    100.0 * (double)rows[i].ns / (double)wait_ns);
			if (k) {
				blame_site_name(rows[i].site, name,
				    sizeof name);
				out_printf(o, "at %s\n", name);
			} else {
				tid_name(rows[i].tid, name, sizeof name);
				out_printf(o, "held by \"%s\" %d\n", name,
				    (int)rows[i].tid);
			}
		}
	if (handoff > 0)
		out_printf(o, "    %12.3f ms %5.1f%%  hand-off (GIL free, the "
		    "waiter being woken)\n", (double)handoff / 1e6,
		    100.0 * (double)handoff / (double)wait_ns);
	if (unknown > 0)
		out_printf(o, "    %12.3f ms %5.1f%%  unknown (older than the "
		    "%u holds remembered)\n", (double)unknown / 1e6,
		    100.0 * (double)unknown / (double)wait_ns, BLAME_RING);
	free(rows);
}
