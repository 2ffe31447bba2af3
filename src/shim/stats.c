/* Contention statistics: see stats.h. */
#include <math.h>
#include <string.h>

#include "gilwatch/snapshot.h"
#include "maxval.h"
#include "stats.h"
#include "share.h"

GW_SHARED int stats_on;
GW_SHARED_DATA unsigned hold_sample = 1;
GW_SHARED_DATA uint64_t hold_exact = UINT64_MAX;
static float hold_log_q;	/* log(1 - 1/hold_sample) */

void
stats_set_hold_sample(unsigned n)
{
	hold_sample = n > 0 ? n : 1;
	hold_exact = hold_sample == 1 ? UINT64_MAX : hold_sample;
	hold_log_q = (float)log1p(-1.0 / hold_sample);
}

uint32_t
stats_hold_gap(uint32_t *state)
{
	uint32_t x = *state;
	float g;

	if (hold_sample == 1)
		return 0;
	/* xorshift32: never 0, so u = x / 2^32 is in (0, 1). */
	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	*state = x;
	/*
	 * The inverse of the distribution: at least k failures with
	 * probability q^k (q = 1 - 1/hold_sample), the chance that u is
	 * at most q^k, that is that log(u) / log(q) is at least k.
	 */
	g = logf((float)x * 0x1p-32f) / hold_log_q;
	return g < 2e9f ? (uint32_t)g : INT32_MAX;
}

/*
 * Count ticks against site in a small table.  When the table is full
 * the site with the least time gives its slot up; racy for shared
 * holders, which only makes the table approximate.
 */
static void
site_add(struct site_stat *tab, uintptr_t site, uint64_t ticks,
    unsigned count, int shared)
{
	struct site_stat *least = &tab[0];
	uintptr_t cur;
	int i;

	for (i = 0; i < STATS_SITES; i++) {
		cur = atomic_load_explicit(&tab[i].site, memory_order_relaxed);
		if (cur == site || cur == 0) {
			if (cur == 0)
				atomic_store_explicit(&tab[i].site, site,
				    memory_order_relaxed);
			stats_add(&tab[i].count, count, shared);
			stats_add(&tab[i].ticks, ticks, shared);
			return;
		}
		if (atomic_load(&tab[i].ticks) < atomic_load(&least->ticks))
			least = &tab[i];
	}
	atomic_store(&least->site, site);
	atomic_store(&least->count, count);
	atomic_store(&least->ticks, ticks);
}

/*
 * A maximum, as stats_add a sum: shared holders raise it with a
 * compare-exchange (raise_max); an exclusive holder's load and store
 * are ordered by the lock, and cost no locked instruction.
 */
static void
stats_raise(_Atomic uint64_t *p, uint64_t v, int shared)
{
	if (shared)
		raise_max(p, v);
	else if (v > atomic_load_explicit(p, memory_order_relaxed))
		atomic_store_explicit(p, v, memory_order_relaxed);
}

void
stats_contended(struct lockstat *s, int mode, int shared, uint64_t wait,
    uintptr_t site)
{
	struct mode_stat *m = &s->m[mode];

	stats_add(&m->contended, 1, shared);
	stats_add(&m->wait_total, wait, shared);
	stats_raise(&m->wait_max, wait, shared);
	site_add(s->waiters, site, wait, 1, shared);
}

void
stats_released(struct lockstat *s, int mode, int shared, uint64_t hold,
    unsigned weight, uintptr_t site)
{
	struct mode_stat *m = &s->m[mode];

	stats_add(&m->hold_total, hold * weight, shared);
	stats_raise(&m->hold_max, hold, shared);
	site_add(s->holders, site, hold * weight, weight, shared);
}

void
stats_hold_bound(struct lockstat *s, int mode, uint64_t lb)
{
	stats_raise(&s->m[mode].hold_max, lb, mode == GW_MODE_SHARED);
}

void
stats_cond_wait(struct lockstat *s, int begin)
{
	if (begin) {
		atomic_fetch_add(&s->cond_waits, 1);
		atomic_fetch_add(&s->cond_waiters, 1);
	} else
		atomic_fetch_sub(&s->cond_waiters, 1);
}

void
stats_cond_signal(struct lockstat *s)
{
	atomic_fetch_add(&s->cond_signals, 1);
	if (atomic_load(&s->cond_waiters) <= 0)
		atomic_fetch_add(&s->cond_lost, 1);
}

void
stats_reset(struct lockstat *s)
{
	int waiters = atomic_load(&s->cond_waiters);

	memset(s, 0, sizeof *s);
	atomic_store(&s->cond_waiters, waiters);
}
