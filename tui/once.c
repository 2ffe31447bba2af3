/*
 * `gilwatch top --once`: one frame as plain text on standard output, the
 * same words the dashboard shows, nothing cut: the header, the deadlock
 * cycles and inversions, every thread, a free-threaded CPython's
 * critical sections, the most waited-for locks; or,
 * with --view=blame, the header and the blame view.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tui.h"

#define ONCE_LOCKS	10	/* locks listed */
#define ONCE_POLL_MS	20	/* while waiting for a frame */
#define ONCE_SLACK_MS	1000	/* waited beyond two intervals */

/* Print s without its trailing blanks. */
static void
put(const char *s)
{
	size_t n = strlen(s);

	while (n > 0 && s[n - 1] == ' ')
		n--;
	printf("%.*s\n", (int)n, s);
}

static void
header(struct source *s)
{
	const struct gw_shm_gil *g = &s->frame.head.gil;
	char buf[2048], tail[64];
	uint32_t n;

	fmt_process(s, buf, sizeof buf);
	printf("gilwatch top: %s\n", buf);
	if (source_ended(s))
		printf("ENDED: %s\n", s->why);
	if (fmt_outside(s, buf, sizeof buf) != NULL)
		put(buf);
	put(fmt_gil(s, buf, sizeof buf));
	if (g->present && !s->outside) {
		snprintf(tail, sizeof tail, "1s %3.0f%% 10s %3.0f%%",
		    g->load_1s * 100, g->load_10s * 100);
		put(fmt_meter("GIL load  ", g->load_1s, tail, 60, buf,
		    sizeof buf));
		snprintf(tail, sizeof tail, "1s %3.0f%% 10s %3.0f%%",
		    g->contention_1s * 100, g->contention_10s * 100);
		put(fmt_meter("contention", g->contention_1s, tail, 60, buf,
		    sizeof buf));
	}
	put(fmt_counts(s, buf, sizeof buf));
	if (fmt_pymutex(s, buf, sizeof buf) != NULL)
		put(buf);
	if (fmt_pause(s, buf, sizeof buf) != NULL)
		put(buf);
	for (n = 0; n < s->frame.head.cycles; n++)
		if (fmt_cycle(s, n, buf, sizeof buf) != NULL)
			put(buf);
	if (fmt_all_waiting(s, buf, sizeof buf) != NULL)
		put(buf);
	if (s->frame.head.inversions > 0) {
		printf("Lock-order inversions: %u\n", s->frame.head.inversions);
		for (n = 0; n < s->frame.norders; n++)
			printf("  %s\n", s->frame.orders[n].text);
	}
}

static void
locks(struct source *s)
{
	const struct gw_shm_lock *l;
	char buf[1024];
	uint32_t i;
	int k;

	if (s->frame.nlocks == 0)
		return;
	printf("\nLocks, most waited for first (%u of %u):\n",
	    s->frame.nlocks < ONCE_LOCKS ? s->frame.nlocks : ONCE_LOCKS,
	    s->frame.head.locks_total);
	put(fmt_lock(s, NULL, buf, sizeof buf));
	for (i = 0; i < s->frame.nlocks && i < ONCE_LOCKS; i++) {
		l = &s->frame.locks[i];
		put(fmt_lock(s, l, buf, sizeof buf));
		for (k = 0; k < GW_SHM_SITES; k++)
			if (l->waiters[k].ip != 0)
				put(fmt_site(s, "waited", &l->waiters[k], buf,
				    sizeof buf));
		for (k = 0; k < GW_SHM_SITES; k++)
			if (l->holders[k].ip != 0)
				put(fmt_site(s, "held  ", &l->holders[k], buf,
				    sizeof buf));
	}
}

static void
put_line(void *arg, int role, const char *s)
{
	put(s);
}

/* put_line after an empty line, for the first of them (*arg 0). */
static void
put_paragraph(void *arg, int role, const char *s)
{
	int *first = arg;

	if ((*first)++ == 0)
		printf("\n");
	put(s);
}

int
once_print(struct source *s, int width, int view)
{
	struct cols c;
	uint32_t *idx, n, i;
	int first = 0;
	char buf[2048];

	if (view == VIEW_BLAME) {
		header(s);
		printf("\n");
		fmt_blame(s, 0, put_line, NULL);
		return fflush(stdout) == 0 ? 0 : -1;
	}
	if ((idx = calloc(s->nrows + 1, sizeof *idx)) == NULL) {
		fprintf(stderr, "gilwatch: out of memory\n");
		return -1;
	}
	header(s);
	fmt_columns(s, width, &c);
	printf("\n");
	put(fmt_row(s, NULL, &c, buf, sizeof buf));
	n = order_rows(s, ORDER_STATE, "", idx);
	for (i = 0; i < n; i++)
		put(fmt_row(s, &s->rows[idx[i]], &c, buf, sizeof buf));
	(void)fmt_critical(s, put_paragraph, &first);
	locks(s);
	free(idx);
	return fflush(stdout) == 0 ? 0 : -1;
}

/*
 * A first frame, then a second one for the rates (GIL%, switches/s),
 * each waited for at most two publication intervals and a second.
 * Read from outside, one read is all there is.
 */
int
tui_once(struct shm_reader *rd, pid_t pid, int width, int blame,
    int loop_stall_ms)
{
	struct timespec tick = { 0, ONCE_POLL_MS * 1000000L };
	struct source s;
	uint64_t end;
	int rc, got = 0, status = CLI_EXIT_OK;

	source_open(&s, rd, pid, loop_stall_ms);
	end = tui_ms_now() + 2 * (uint64_t)s.frame.interval_ms + ONCE_SLACK_MS;
	if (s.outside)
		(void)source_sample(&s);
	while (!s.outside) {
		rc = source_sample(&s);
		if (rc == 1 && ++got == 2)
			break;
		if (rc == 1)
			end = tui_ms_now() + 2 * (uint64_t)s.frame.interval_ms +
			    ONCE_SLACK_MS;
		if (source_ended(&s) || tui_ms_now() >= end)
			break;
		nanosleep(&tick, NULL);
	}
	if (!s.have) {
		fprintf(stderr, "gilwatch: %s\n", s.err[0] != '\0' ? s.err :
		    s.why);
		status = CLI_EXIT_ERROR;
	} else if (once_print(&s, width, blame ? VIEW_BLAME :
	    VIEW_THREADS) == -1)
		status = CLI_EXIT_ERROR;
	source_free(&s);
	return status;
}
