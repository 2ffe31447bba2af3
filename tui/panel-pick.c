/*
 * `gilwatch top` without a PID, with several processes to choose from:
 * a list to pick one from.  Ends curses before it returns, so what
 * follows may print errors; the dashboard starts it again.
 */
#include <curses.h>
#include <stdio.h>

#include "tui.h"

pid_t
pick_run(const struct shm_entry *e, int n)
{
	char buf[512];
	int sel = 0, top = 0, i, h, key;

	if (crt_init() == -1)
		return -1;
	for (;;) {
		h = crt_lines() - 3;
		if (sel < top)
			top = sel;
		if (h > 0 && sel >= top + h)
			top = sel - h + 1;
		crt_erase();
		crt_put(0, 0, crt_cols(), ROLE_TITLE, "gilwatch top: processes "
		    "running under gilwatch; Enter watches one");
		crt_put(1, 0, crt_cols(), ROLE_HEAD, "    PID COMMAND");
		for (i = 0; i < h && top + i < n; i++) {
			snprintf(buf, sizeof buf, "%7d %s", (int)e[top + i].pid,
			    e[top + i].command);
			crt_put(2 + i, 0, crt_cols(), top + i == sel ? ROLE_SEL :
			    ROLE_NORMAL, buf);
		}
		crt_put(crt_lines() - 1, 0, crt_cols(), ROLE_KEYS,
		    "q quit  jk/arrows move  Enter watch");
		crt_flush();
		if (crt_stop())
			break;
		key = crt_key(1000);
		switch (key) {
		case 'q':
		case 27:
			crt_done();
			return 0;
		case KEY_UP:
		case 'k':
			sel = sel > 0 ? sel - 1 : 0;
			break;
		case KEY_DOWN:
		case 'j':
			sel = sel < n - 1 ? sel + 1 : sel;
			break;
		case '\n':
		case '\r':
		case KEY_ENTER:
			crt_done();
			return e[sel].pid;
		}
	}
	crt_done();
	return 0;
}
