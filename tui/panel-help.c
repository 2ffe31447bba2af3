/* The help view: every key, and how to read the screen. */
#include <stddef.h>

#include "tui.h"

static const char *text[] = {
	"gilwatch top: a live view of a process, running under gilwatch or",
	"read from outside",
	"",
	"Keys",
	"  q            quit",
	"  Up/Down j/k  move the selection (scroll, in text views)",
	"  PgUp/PgDn    a page up or down; Home/End: first, last",
	"  Enter        the selected thread in full: state, locks, stack",
	"               (the stack comes from a thread dump the process",
	"               writes then; f in that view takes another)",
	"  a            the tasks of the selected thread's asyncio loop:",
	"               name, state, coroutine stack, what each awaits",
	"               (from a dump, or read from outside, nothing",
	"               stopped); a in that view: its stack again",
	"  Esc          back to the previous view; in the table, clear the",
	"               filter",
	"  s            sort by the next key: state, tid, name, gil%,",
	"               wait%, age, locks",
	"  /            filter: threads whose TID, name, state or frame",
	"               holds the text; Enter applies, Esc cancels",
	"  g            the GIL timeline (again: back to the table)",
	"  l            the locks view (again: back to the table)",
	"  b            GIL blame: the Python lines that held the GIL while",
	"               others waited (over the run and the last seconds),",
	"               and each waiting thread's wait by holder and line,",
	"               the selected thread's first (again: the table)",
	"  p            pause or resume the refresh",
	"  d            write a thread dump to ./gilwatch-dump-PID-TIME.txt",
	"  r            reset the statistics in the process (lock and GIL",
	"               numbers start from zero)",
	"  ?            this help",
	"",
	"Thread states",
	"  HOLDS GIL 3ms     holds the GIL, for 3 ms so far",
	"  WAITS GIL 14ms held by 4711",
	"                    waits for the GIL, which thread 4711 holds",
	"  BLOCKED on mutex 0x.. held by 4711 2.3s",
	"                    waits for a lock that thread 4711 holds",
	"  BLOCKED joining 4711 1.2s",
	"                    waits for thread 4711 to end (pthread_join,",
	"                    or Python's Thread.join)",
	"  DEADLOCKED ...    blocked in a deadlock cycle (red banner above)",
	"  ALL THREADS WAITING (yellow, above): every thread has waited 2 s,",
	"                    with no timeout, for another: a hang no lock",
	"                    cycle explains (gilwatch run --stall reports it)",
	"  WAITING on condvar  waits on a condition variable (sleeping)",
	"  WAITING notify Queue.not_empty 1.3s",
	"                    a Python thread in Condition.wait (Queue.get,",
	"                    Event.wait, Semaphore.acquire wait there): the",
	"                    object and attribute holding the Condition, or",
	"                    else its address (sleeping)",
	"  IO/released       a Python thread without the GIL: in C code,",
	"                    I/O or idle",
	"  RUNNING           in none of the calls gilwatch watches",
	"  ..., Python attached (py:attached)",
	"                    free-threaded CPython (no GIL): the thread may",
	"                    run Python code; detached: it runs none;",
	"                    suspended: held by a stop-the-world pause",
	"  ..., in critical section on list 0x.. (cs:list)",
	"                    it holds the list's object lock; entering",
	"                    (cs:entering): it waits for one (BLOCKED on",
	"                    its pymutex); l lists every critical section",
	"",
	"Columns: GIL% and WAIT% are the shares of time the thread held",
	"and waited for the GIL over the last second or refresh; LOCKS",
	"the locks it holds; NATIVE the program's frame where it waits;",
	"SCHED, when a thread is real-time, its policy and priority",
	"(FIFO 5, RR 3). The header counts the waits of real-time threads",
	"over gilwatch run --rt-budget.",
	"",
	"Timeline: one lane per thread, one column per refresh, newest at",
	"the right:  # held the GIL  + held it part of the time",
	"- waited for it  x blocked on a lock  . sleeping  _ other",
	"",
	"Read from outside (a process not started under gilwatch): each",
	"refresh reads it without stopping it.  Only the moment is known:",
	"no ages, no GIL shares or meters, no lock statistics (they need",
	"gilwatch run).  RUNNING (kernel: S in read) is the kernel's word",
	"on a thread that waits for no lock; (inferred): the lock's kind or",
	"holder rests on its words alone.  f in the detail view unwinds",
	"the stack, stopping each thread alone for a moment.",
};

void
help_draw(struct tui *t, int y, int h)
{
	int i, n = (int)(sizeof text / sizeof text[0]);

	if (t->help_top > n - 1)
		t->help_top = n - 1;
	crt_put(y, 0, crt_cols(), ROLE_HEAD, "Help");
	for (i = 0; i < h - 1 && t->help_top + i < n; i++)
		crt_put(y + 1 + i, 0, crt_cols(), ROLE_NORMAL,
		    text[t->help_top + i]);
	t->body_h = h - 1;
}

int
help_key(struct tui *t, int key)
{
	return tui_scroll(key, &t->help_top, (int)(sizeof text /
	    sizeof text[0]), t->body_h);
}
