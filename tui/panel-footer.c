/*
 * The footer: a message line (what a key did, the filter being typed)
 * and the keys of the current view, on the last two rows.
 */
#include <stdarg.h>
#include <stdio.h>

#include "tui.h"

static const char *keys[] = {
	[VIEW_THREADS] = "q quit  jk/arrows move  Enter detail  a tasks  s sort  "
	    "/ filter  g GIL  l locks  b blame  p pause  d dump  r reset  "
	    "? help",
	[VIEW_TIMELINE] = "q quit  jk/arrows move  Enter detail  s sort  "
	    "/ filter  g table  l locks  p pause  d dump  ? help",
	[VIEW_LOCKS] = "q quit  jk/arrows scroll  Esc back  l table  "
	    "g GIL  p pause  d dump  r reset  ? help",
	[VIEW_BLAME] = "q quit  jk/arrows scroll  Esc back  b table  "
	    "l locks  p pause  d dump  r reset  ? help",
	[VIEW_DETAIL] = "q quit  jk/arrows scroll  f fetch again  a tasks/stack  "
	    "Esc back  ? help",
	[VIEW_HELP] = "q quit  jk/arrows scroll  Esc back",
};

void
footer_say(struct tui *t, int role, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(t->msg, sizeof t->msg, fmt, ap);
	va_end(ap);
	t->msg_role = role;
}

void
footer_draw(struct tui *t)
{
	int y = crt_lines() - 2, width = crt_cols();
	char buf[TUI_MSG_MAX + 64];

	if (t->editing) {
		snprintf(buf, sizeof buf, "filter: %s_  (Enter applies, Esc "
		    "cancels)", t->edit);
		crt_put(y, 0, width, ROLE_WARN, buf);
	} else if (t->msg[0] != '\0')
		crt_put(y, 0, width, t->msg_role, t->msg);
	else if (t->filter[0] != '\0') {
		snprintf(buf, sizeof buf, "filter: %s  (/ then Enter on "
		    "nothing clears it)", t->filter);
		crt_put(y, 0, width, ROLE_DIM, buf);
	} else
		crt_put(y, 0, width, ROLE_NORMAL, "");
	/* From outside a stack is unwound only when asked for. */
	crt_put(y + 1, 0, width, ROLE_KEYS, t->view == VIEW_DETAIL &&
	    t->src->outside ? "q quit  jk/arrows scroll  f unwind the stack  "
	    "Esc back  ? help" : keys[t->view]);
}
