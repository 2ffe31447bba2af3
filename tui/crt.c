/*
 * The terminal: curses set up and torn down, one attribute per role
 * (colours, or bold/reverse/underline on a monochrome terminal or with
 * NO_COLOR set), clipped writes, keys with a timeout.  A crash puts the
 * terminal back before the default action runs; SIGINT, SIGTERM and
 * SIGHUP ask the loop to stop.
 */
#include <curses.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tui.h"

static int active;
static int colours;
static int roles[ROLE_N];
static volatile sig_atomic_t stop_asked;

static void
on_stop(int signo)
{
	stop_asked = 1;
}

/* Put the terminal back first, then die as we would have. */
static void
on_crash(int signo)
{
	if (active)
		endwin();
	signal(signo, SIG_DFL);
	raise(signo);
}

static void
handlers(void)
{
	static const int crash[] = { SIGSEGV, SIGBUS, SIGABRT, SIGFPE,
	    SIGILL };
	struct sigaction sa;
	size_t i;

	memset(&sa, 0, sizeof sa);
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = on_crash;
	for (i = 0; i < sizeof crash / sizeof crash[0]; i++)
		sigaction(crash[i], &sa, NULL);
	sa.sa_handler = on_stop;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}

static void
set_roles(void)
{
	int i;

	for (i = 0; i < ROLE_N; i++)
		roles[i] = A_NORMAL;
	roles[ROLE_TITLE] = A_BOLD;
	roles[ROLE_HEAD] = A_REVERSE;
	roles[ROLE_KEYS] = A_REVERSE;
	roles[ROLE_SEL] = A_REVERSE | A_BOLD;
	roles[ROLE_BANNER] = A_BOLD | A_REVERSE;
	roles[ROLE_WARN] = A_BOLD;
	roles[ROLE_HELD] = A_BOLD;
	roles[ROLE_GILWAIT] = A_UNDERLINE;
	roles[ROLE_BLOCKED] = A_BOLD;
	roles[ROLE_DIM] = A_DIM;
	colours = getenv("NO_COLOR") == NULL && has_colors() &&
	    start_color() != ERR;
	if (!colours)
		return;
	use_default_colors();
	init_pair(1, COLOR_WHITE, COLOR_RED);
	init_pair(2, COLOR_YELLOW, -1);
	init_pair(3, COLOR_GREEN, -1);
	init_pair(4, COLOR_RED, -1);
	init_pair(5, COLOR_MAGENTA, -1);
	init_pair(6, COLOR_BLACK, COLOR_CYAN);
	init_pair(7, COLOR_CYAN, -1);
	roles[ROLE_TITLE] = A_BOLD | COLOR_PAIR(7);
	roles[ROLE_HEAD] = COLOR_PAIR(6);
	roles[ROLE_KEYS] = COLOR_PAIR(6);
	roles[ROLE_SEL] = A_REVERSE;
	roles[ROLE_BANNER] = A_BOLD | COLOR_PAIR(1);
	roles[ROLE_WARN] = A_BOLD | COLOR_PAIR(2);
	roles[ROLE_HELD] = A_BOLD | COLOR_PAIR(3);
	roles[ROLE_GILWAIT] = COLOR_PAIR(4);
	roles[ROLE_BLOCKED] = A_BOLD | COLOR_PAIR(5);
}

int
crt_init(void)
{
	if (active)
		return 0;
	if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO) ||
	    newterm(NULL, stdout, stdin) == NULL)
		return -1;
	active = 1;
	handlers();
	cbreak();
	noecho();
	nonl();
	keypad(stdscr, TRUE);
	curs_set(0);
	set_escdelay(25);	/* Esc is a key here, not a prefix */
	set_roles();
	return 0;
}

void
crt_done(void)
{
	if (!active)
		return;
	erase();
	refresh();
	endwin();
	active = 0;
}

int
crt_cols(void)
{
	return COLS;
}

int
crt_lines(void)
{
	return LINES;
}

int
crt_color(void)
{
	return colours;
}

void
crt_put(int y, int x, int width, int role, const char *s)
{
	int n = (int)strlen(s), attr;

	if (y < 0 || y >= LINES || x >= COLS || width <= 0)
		return;
	if (x + width > COLS)
		width = COLS - x;
	attr = role >= 0 && role < ROLE_N ? roles[role] : (int)A_NORMAL;
	attrset(attr);
	mvaddnstr(y, x, s, n < width ? n : width);
	if (n < width)
		mvhline(y, x + n, ' ', width - n);
	attrset(A_NORMAL);
}

void
crt_erase(void)
{
	erase();
}

void
crt_flush(void)
{
	refresh();
}

int
crt_key(int timeout_ms)
{
	int ch;

	timeout(timeout_ms < 0 ? 0 : timeout_ms);
	ch = getch();
	return ch == ERR ? -1 : ch;
}

int
crt_stop(void)
{
	return stop_asked;
}

void
page_line(struct page *p, int role, const char *s)
{
	if (p->n >= p->top && p->n < p->top + p->h)
		crt_put(p->y + p->n - p->top, 0, p->width, role, s);
	p->n++;
}
