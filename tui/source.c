/*
 * The data source: frames from the shared-memory file, or built from a
 * read from outside (source-outside.c), and what the viewer derives
 * from successive frames (GIL shares over a window,
 * timeline cells, switches per second).  No drawing here.
 */
#include <errno.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "gilwatch/snapshot.h"
#include "opts.h"
#include "tui.h"

void
source_open(struct source *s, struct shm_reader *rd, pid_t pid,
    int loop_stall_ms)
{
	if (rd != NULL)
		source_init(s, rd);
	else
		source_init_outside(s, pid);
	s->loop_stall_ms = loop_stall_ms;
}

uint32_t
source_loop_stall(const struct source *s, const char **whose)
{
	if (s->loop_stall_ms >= 0) {
		*whose = "top's --loop-stall";
		return (uint32_t)s->loop_stall_ms;
	}
	/* Read from outside, nothing says what the program would take. */
	if (s->outside) {
		*whose = "--loop-stall's default";
		return OPTS_LOOP_STALL_DEFAULT;
	}
	*whose = "the program's --loop-stall";
	return s->frame.loop_stall_ms;
}

int
source_loop_stalled(const struct source *s, const struct row *r)
{
	const char *whose;
	uint32_t ms = source_loop_stall(s, &whose);

	return ms != 0 && r->t->loop_turn_ns >= (uint64_t)ms * 1000000u;
}

void
source_init(struct source *s, struct shm_reader *rd)
{
	char err[128];

	memset(s, 0, sizeof *s);
	s->rd = rd;
	s->pid = shm_pid(rd);
	s->switches_per_s = -1;
	s->life = SHM_LIVE;
	/* Names then come with the next frame; without an answer (an
	 * older shim, a busy helper) they never do, which is no error. */
	(void)ctl_watch(s->pid, err, sizeof err);
}

void
source_free(struct source *s)
{
	shm_frame_free(&s->frame);
	free(s->rows);
	free(s->tracks[0]);
	free(s->tracks[1]);
	free(s->index);
	free(s->symidx);
	free(s->os);
	if (s->rd != NULL)
		shm_detach(s->rd);
	memset(s, 0, sizeof *s);
}

int
source_ended(const struct source *s)
{
	return s->life == SHM_ENDED;
}

static uint32_t
hash_tid(pid_t tid, uint32_t cap)
{
	return (uint32_t)(((uint64_t)(uint32_t)tid *
	    0x9e3779b97f4a7c15ull) >> 32) & (cap - 1);
}

/* The current tracks by tid: position + 1, or 0 when not there. */
static uint32_t
track_at(const struct source *s, pid_t tid)
{
	uint32_t i, v;

	if (s->index_cap == 0)
		return 0;
	for (i = hash_tid(tid, s->index_cap);; i = (i + 1) &
	    (s->index_cap - 1)) {
		if ((v = s->index[i]) == 0)
			return 0;
		if (v <= s->ntracks && s->tracks[s->cur][v - 1].tid == tid)
			return v;
	}
}

const struct row *
source_row(const struct source *s, pid_t tid)
{
	uint32_t v;

	if ((v = track_at(s, tid)) == 0 || v > s->nrows)
		return NULL;
	return &s->rows[v - 1];
}

int
source_deadlocked(const struct source *s, pid_t tid)
{
	uint32_t i;

	for (i = 0; i < s->frame.nlinks; i++)
		if (s->frame.links[i].tid == tid)
			return 1;
	return 0;
}

static int
sym_cmp(const struct gw_shm_sym *a, uint64_t addr, int data)
{
	int ad = (a->flags & GW_SHM_SYM_DATA) != 0;

	if (a->ip != addr)
		return a->ip < addr ? -1 : 1;
	return ad - data;
}

static const struct shm_frame *sort_frame;	/* for qsort below */

static int
by_sym(const void *x, const void *y)
{
	const struct gw_shm_sym *b = &sort_frame->syms[*(const uint32_t *)y];

	return sym_cmp(&sort_frame->syms[*(const uint32_t *)x], b->ip,
	    (b->flags & GW_SHM_SYM_DATA) != 0);
}

const struct gw_shm_sym *
source_sym(const struct source *s, uint64_t addr, int data)
{
	uint32_t lo = 0, hi = s->frame.nsyms, mid;
	int c;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		c = sym_cmp(&s->frame.syms[s->symidx[mid]], addr, data != 0);
		if (c == 0)
			return &s->frame.syms[s->symidx[mid]];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* Index the current tracks by tid (the index is under half full). */
static void
reindex(struct source *s)
{
	uint32_t i, h;

	memset(s->index, 0, s->index_cap * sizeof *s->index);
	for (i = 0; i < s->ntracks; i++) {
		for (h = hash_tid(s->tracks[s->cur][i].tid, s->index_cap);
		    s->index[h] != 0; h = (h + 1) & (s->index_cap - 1))
			;
		s->index[h] = i + 1;
	}
}

/* Room for n rows, tracks and index slots.  -1 when out of memory. */
static int
room(struct source *s, uint32_t n)
{
	uint32_t cap = s->tracks_cap ? s->tracks_cap : 64, icap = 64;
	void *p;
	int k;

	while (icap < n * 2 + 2)
		icap *= 2;
	if (icap > s->index_cap) {
		if ((p = realloc(s->index, icap * sizeof *s->index)) == NULL)
			return -1;
		s->index = p;
		s->index_cap = icap;
		reindex(s);
	}
	if (n > s->symidx_cap) {
		if ((p = realloc(s->symidx, n * sizeof *s->symidx)) == NULL)
			return -1;
		s->symidx = p;
		s->symidx_cap = n;
	}
	if (n <= s->tracks_cap && s->rows != NULL)
		return 0;
	while (cap < n)
		cap *= 2;
	if ((p = realloc(s->rows, cap * sizeof *s->rows)) == NULL)
		return -1;
	s->rows = p;
	for (k = 0; k < 2; k++) {
		if ((p = realloc(s->tracks[k], cap * sizeof **s->tracks)) ==
		    NULL)
			return -1;
		s->tracks[k] = p;
	}
	s->tracks_cap = cap;
	return 0;
}

/* The fraction of [from, to] sample-wise that a total grew by. */
static double
share(uint64_t before, uint64_t after, uint64_t span)
{
	if (span == 0 || after < before)	/* reset in between */
		return 0;
	return (double)(after - before) > (double)span ? 1.0 :
	    (double)(after - before) / (double)span;
}

static int
classify(const struct source *s, const struct gw_shm_thread *t)
{
	if (source_deadlocked(s, t->tid))
		return CLS_DEADLOCK;
	if (t->gil_state == GW_SHM_GIL_HOLDING)
		return CLS_GIL_HOLD;
	if (t->gil_state == GW_SHM_GIL_WAITING)
		return CLS_GIL_WAIT;
	switch (t->state) {
	case GW_STATE_BLOCKED:
		/* Condition.wait: a notify, as on a condition variable. */
		return t->py_wait.kind == GW_SHM_PYWAIT_NOTIFY ? CLS_SLEEPING :
		    CLS_BLOCKED;
	case GW_STATE_JOINING:
		return CLS_BLOCKED;
	case GW_STATE_WAITING:
		return CLS_SLEEPING;
	case GW_STATE_EXITED:
		return CLS_EXITED;
	}
	return s->frame.head.gil.present ? CLS_IO : CLS_RUNNING;
}

static void
count(struct source *s, int cls)
{
	s->counts.total++;
	switch (cls) {
	case CLS_DEADLOCK:
	case CLS_BLOCKED:
		s->counts.blocked++;
		break;
	case CLS_GIL_WAIT:
		s->counts.gil_wait++;
		break;
	case CLS_SLEEPING:
		s->counts.sleeping++;
		break;
	case CLS_EXITED:
		break;
	default:
		s->counts.running++;
	}
}

/* The timeline cell for what t did since the previous sample. */
static uint8_t
cell(const struct gw_shm_thread *t, double held, double waited, int cls)
{
	if (held >= 0.5)
		return CELL_GIL_HELD;
	if (held > 0.02 || t->gil_state == GW_SHM_GIL_HOLDING)
		return CELL_GIL_SOME;
	if (waited > 0.02 || t->gil_state == GW_SHM_GIL_WAITING)
		return CELL_GIL_WAIT;
	if (cls == CLS_BLOCKED || cls == CLS_DEADLOCK)
		return CELL_BLOCKED;
	if (cls == CLS_SLEEPING)
		return CELL_SLEEP;
	return CELL_IDLE;
}

/* The sample at least TUI_WINDOW_NS before now, or the oldest kept. */
static uint64_t
window_start(const struct source *s, uint64_t first)
{
	uint64_t now = s->samples - 1, k = now, oldest;

	oldest = s->samples > TUI_HIST ? s->samples - TUI_HIST : 0;
	if (first > oldest)
		oldest = first;
	while (k > oldest && s->when[now % TUI_HIST] -
	    s->when[k % TUI_HIST] < TUI_WINDOW_NS)
		k--;
	return k;
}

/* One row per thread, with its track carried over from the last frame. */
static void
update_rows(struct source *s, int new_sample)
{
	const struct shm_frame *f = &s->frame;
	struct track *old = s->tracks[s->cur], *tk;
	struct row *r;
	uint64_t now = s->samples - 1, k, span;
	uint32_t i, prev;
	int next = s->cur ^ 1;

	memset(&s->counts, 0, sizeof s->counts);
	for (i = 0; i < f->nthreads; i++) {
		r = &s->rows[i];
		r->t = &f->threads[i];
		r->os = s->outside ? &s->os[i] : NULL;
		tk = r->tk = &s->tracks[next][i];
		/* The index still maps tids to the old tracks. */
		if ((prev = track_at(s, r->t->tid)) != 0)
			*tk = old[prev - 1];
		else {
			memset(tk, 0, sizeof *tk);
			tk->tid = r->t->tid;
			tk->first = now;
		}
		r->cls = classify(s, r->t);
		count(s, r->cls);
		if (new_sample) {
			tk->hold[now % TUI_HIST] = r->t->gil_hold_ns;
			tk->wait[now % TUI_HIST] = r->t->gil_wait_ns;
		}
		r->held = r->waited = -1;
		if (tk->first < now && f->head.gil.present) {
			k = window_start(s, tk->first);
			span = s->when[now % TUI_HIST] - s->when[k % TUI_HIST];
			r->held = share(tk->hold[k % TUI_HIST],
			    tk->hold[now % TUI_HIST], span);
			r->waited = share(tk->wait[k % TUI_HIST],
			    tk->wait[now % TUI_HIST], span);
		}
		if (new_sample) {
			double dh = -1, dw = -1;

			if (tk->first < now) {
				span = s->when[now % TUI_HIST] -
				    s->when[(now - 1) % TUI_HIST];
				dh = share(tk->hold[(now - 1) % TUI_HIST],
				    tk->hold[now % TUI_HIST], span);
				dw = share(tk->wait[(now - 1) % TUI_HIST],
				    tk->wait[now % TUI_HIST], span);
			}
			tk->cells[now % TUI_CELLS] = cell(r->t, dh, dw,
			    r->cls);
		}
	}
	s->nrows = s->ntracks = f->nthreads;
	s->cur = next;
	reindex(s);
}

static void
index_syms(struct source *s)
{
	uint32_t i;

	for (i = 0; i < s->frame.nsyms; i++)
		s->symidx[i] = i;
	sort_frame = &s->frame;
	qsort(s->symidx, s->frame.nsyms, sizeof *s->symidx, by_sym);
	sort_frame = NULL;
}

/*
 * A frame from the shared-memory file into s->frame: 1 copied (*fresh:
 * a new one), 0 nothing copied (the process has ended), -1 error.
 */
static int
read_shm(struct source *s, int *fresh)
{
	uint64_t prev_updates = s->frame.head.updates;

	s->life = shm_life(s->rd, s->why, sizeof s->why);
	if (s->life == SHM_ENDED && s->have)
		return 0;
	if (shm_read(s->rd, &s->frame) == -1) {
		snprintf(s->err, sizeof s->err, "cannot read the state of "
		    "process %d: %s", (int)s->pid, strerror(errno));
		return -1;
	}
	*fresh = !s->have || s->frame.head.updates != prev_updates;
	return 1;
}

/* The same read from outside: every read is a new frame. */
static int
read_outside(struct source *s, int *fresh)
{
	if (source_read_outside(s) == -1)
		return s->life == SHM_ENDED && s->have ? 0 : -1;
	*fresh = 1;
	return 1;
}

int
source_sample(struct source *s)
{
	uint64_t prev_switches = s->frame.head.gil.switches;
	uint64_t prev_mono = s->frame.head.mono_ns;
	uint32_t need;
	int fresh = 0, rc;

	if (s->life == SHM_ENDED)
		return 0;
	/* A failed read leaves the frame, and the rows into it, as they
	 * were: the last frame stays on the screen. */
	rc = s->outside ? read_outside(s, &fresh) : read_shm(s, &fresh);
	if (rc <= 0)
		return rc;
	s->err[0] = '\0';
	need = s->frame.nthreads > s->frame.nsyms ? s->frame.nthreads :
	    s->frame.nsyms;
	if (room(s, need + 1) == -1) {
		snprintf(s->err, sizeof s->err, "out of memory");
		s->nrows = 0;	/* they point into the old frame */
		return -1;
	}
	if (fresh) {
		if (s->have && s->frame.head.mono_ns > prev_mono &&
		    s->frame.head.gil.switches >= prev_switches)
			s->switches_per_s = (double)(s->frame.head.gil.switches -
			    prev_switches) * 1e9 /
			    (double)(s->frame.head.mono_ns - prev_mono);
		s->when[s->samples % TUI_HIST] = s->frame.head.mono_ns;
		s->samples++;
	}
	index_syms(s);
	update_rows(s, fresh);
	s->have = 1;
	return fresh;
}
