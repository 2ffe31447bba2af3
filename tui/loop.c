/*
 * The one main loop: sample the source every refresh (unless paused),
 * draw the header, the current view and the footer, wait for a key
 * until the next refresh, and hand the key to whoever owns it.
 */
#include <curses.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tui.h"

uint64_t
tui_ms_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int
tui_scroll(int key, int *top, int lines, int h)
{
	int page = h > 1 ? h - 1 : 1, max = lines - h;

	switch (key) {
	case KEY_UP:
	case 'k':
		*top -= 1;
		break;
	case KEY_DOWN:
	case 'j':
		*top += 1;
		break;
	case KEY_PPAGE:
		*top -= page;
		break;
	case KEY_NPAGE:
	case ' ':
		*top += page;
		break;
	case KEY_HOME:
		*top = 0;
		break;
	case KEY_END:
		*top = max;
		break;
	default:
		return KEY_IGNORED;
	}
	if (*top > max)
		*top = max;
	if (*top < 0)
		*top = 0;
	return KEY_DONE;
}

static void
draw(struct tui *t)
{
	char buf[128];
	int y, h;

	crt_erase();
	if (crt_cols() < TUI_MIN_COLS || crt_lines() < TUI_MIN_LINES) {
		snprintf(buf, sizeof buf, "terminal too small (%dx%d, need "
		    "%dx%d); q quits", crt_cols(), crt_lines(), TUI_MIN_COLS,
		    TUI_MIN_LINES);
		crt_put(0, 0, crt_cols(), ROLE_WARN, buf);
		crt_flush();
		return;
	}
	y = header_draw(t, 0);
	h = crt_lines() - 2 - y;
	/* A huge banner leaves the body a few rows at least. */
	if (h < 3) {
		y = crt_lines() - 5;
		h = 3;
	}
	switch (t->view) {
	case VIEW_THREADS:
		threads_draw(t, y, h);
		break;
	case VIEW_TIMELINE:
		timeline_draw(t, y, h);
		break;
	case VIEW_LOCKS:
		locks_draw(t, y, h);
		break;
	case VIEW_BLAME:
		blame_draw(t, y, h);
		break;
	case VIEW_DETAIL:
		detail_draw(t, y, h);
		break;
	case VIEW_HELP:
		help_draw(t, y, h);
		break;
	}
	footer_draw(t);
	crt_flush();
}

static void
toggle(struct tui *t, int view)
{
	t->view = t->view == view ? VIEW_THREADS : view;
}

static void
dump(struct tui *t)
{
	char path[256], err[TUI_MSG_MAX];

	if (t->src->outside) {
		footer_say(t, ROLE_NORMAL, "not under gilwatch: gilwatch dump "
		    "%d reads it from outside", (int)t->src->pid);
		return;
	}
	if (ctl_dump(t->src->pid, path, sizeof path, err, sizeof err) == 0)
		footer_say(t, ROLE_NORMAL, "dump written to %s", path);
	else
		footer_say(t, ROLE_WARN, "no dump: %s", err);
}

static void
reset(struct tui *t)
{
	char err[TUI_MSG_MAX];

	if (t->src->outside) {
		footer_say(t, ROLE_NORMAL, "no statistics to reset: they need "
		    "gilwatch run");
		return;
	}
	if (ctl_reset(t->src->pid, err, sizeof err) == 0)
		footer_say(t, ROLE_NORMAL, "statistics reset in process %d",
		    (int)t->src->pid);
	else
		footer_say(t, ROLE_WARN, "no reset: %s", err);
}

static int
view_key(struct tui *t, int key)
{
	switch (t->view) {
	case VIEW_THREADS:
	case VIEW_TIMELINE:
		return threads_key(t, key);
	case VIEW_LOCKS:
		return locks_key(t, key);
	case VIEW_BLAME:
		return blame_key(t, key);
	case VIEW_DETAIL:
		return detail_key(t, key);
	case VIEW_HELP:
		return help_key(t, key);
	}
	return KEY_IGNORED;
}

static void
handle(struct tui *t, int key)
{
	if (t->editing) {
		threads_key(t, key);
		return;
	}
	t->msg[0] = '\0';
	switch (key) {
	case 'q':
		t->quit = 1;
		break;
	case '?':
		if (t->view == VIEW_HELP)
			t->view = t->back;
		else {
			if (t->view != VIEW_DETAIL)
				t->back = t->view;
			t->view = VIEW_HELP;
			t->help_top = 0;
		}
		break;
	case 27:
		if (t->view == VIEW_HELP || t->view == VIEW_DETAIL)
			t->view = t->back;
		else if (t->view != VIEW_THREADS)
			t->view = VIEW_THREADS;
		else if (t->filter[0] != '\0') {
			t->filter[0] = '\0';
			threads_reorder(t);
			footer_say(t, ROLE_NORMAL, "filter cleared");
		}
		break;
	case 'p':
		t->paused = !t->paused;
		footer_say(t, ROLE_NORMAL, t->paused ? "paused: p resumes" :
		    "resumed");
		break;
	case 'd':
		dump(t);
		break;
	case 'r':
		reset(t);
		break;
	case 'g':
		toggle(t, VIEW_TIMELINE);
		break;
	case 'l':
		toggle(t, VIEW_LOCKS);
		t->lock_top = 0;
		break;
	case 'b':
		toggle(t, VIEW_BLAME);
		t->blame_top = 0;
		break;
	default:
		view_key(t, key);
	}
}

static void
sample(struct tui *t, int *said_end)
{
	source_sample(t->src);
	threads_reorder(t);
	if (source_ended(t->src) && !*said_end) {
		footer_say(t, ROLE_BANNER, "%s; the last frame stays (q quits)",
		    t->src->why);
		*said_end = 1;
	}
}

/*
 * The time to the next sample: the refresh delay, stretched for a
 * read from outside that takes long (many threads), so that reading
 * never takes more than a fifth of the process's and our time.
 */
static uint64_t
interval(const struct tui *t)
{
	uint64_t ms = t->src->read_ns / 1000000 * TUI_READ_SHARE;

	return ms > (uint64_t)t->delay_ms ? ms : (uint64_t)t->delay_ms;
}

int
tui_run(struct shm_reader *rd, pid_t pid, int delay_ms, int loop_stall_ms)
{
	struct source src;
	struct tui t;
	uint64_t next = 0, now;
	int key, said_end = 0;

	source_open(&src, rd, pid, loop_stall_ms);
	memset(&t, 0, sizeof t);
	out_init(&t.stack);
	t.src = &src;
	t.delay_ms = delay_ms;
	if (crt_init() == -1) {
		fprintf(stderr, "gilwatch: top needs a terminal (or --once)\n");
		source_free(&src);
		return 1;
	}
	while (!t.quit && !crt_stop()) {
		now = tui_ms_now();
		if (!t.paused && now >= next) {
			sample(&t, &said_end);
			next = now + interval(&t);
		}
		draw(&t);
		now = tui_ms_now();
		key = crt_key(t.paused ? 1000 : next > now ? (int)(next - now) :
		    0);
		if (key != -1 && key != KEY_RESIZE)
			handle(&t, key);
	}
	crt_done();
	out_free(&t.stack);
	free(t.order);
	source_free(&src);
	return 0;
}
