/*
 * Stop-the-world pauses of CPython 3.13+: see py.h.
 *
 * A thread that needs every other one stopped (the garbage collector of
 * a free-threaded build, fork, sys._current_frames()) sets requested in
 * its interpreter's or the runtime's _stoptheworld_state, asks each
 * attached thread to stop at its next eval breaker, and waits until
 * thread_countdown reaches zero; detached threads are suspended where
 * they are.  A thread that stays attached without reaching an eval
 * breaker (a long C call that keeps its thread state) holds everyone up.
 */
#include <stdio.h>
#include <string.h>

#include "py.h"

/* The pause state at addr (a struct _stoptheworld_state): 1 when one is
 * requested or on, 0 when not, -1 unreadable. */
static int
stw_read(const struct py_runtime *rt, uintptr_t addr, struct py_stw *st)
{
	const struct py_offsets *o = rt->off;
	unsigned char req, stopped;
	unsigned long id;

	if (py_read(addr + (uintptr_t)o->stw_requested, &req, 1) == -1 ||
	    py_read(addr + (uintptr_t)o->stw_world_stopped, &stopped,
	    1) == -1 || py_read(addr + (uintptr_t)o->stw_countdown,
	    &st->countdown, sizeof(st->countdown)) == -1 ||
	    py_read_ptr(addr + (uintptr_t)o->stw_requester,
	    &st->requester) == -1)
		return -1;
	st->requested = req != 0;
	st->stopped = stopped != 0;
	if (!st->requested && !st->stopped)
		return 0;
	if (st->requester != 0 && o->ts_native_thread_id >= 0 &&
	    py_read_ulong(st->requester + (uintptr_t)o->ts_native_thread_id,
	    &id) == 0)
		st->requester_tid = (pid_t)id;
	return 1;
}

int
py_stop_the_world(const struct py_runtime *rt, struct py_stw *st)
{
	const struct py_offsets *o = rt->off;
	uintptr_t interp;
	int r;

	memset(st, 0, sizeof(*st));
	if (o == NULL || o->rt_stw < 0 || o->is_stw < 0)
		return -1;
	if ((r = stw_read(rt, rt->runtime + (uintptr_t)o->rt_stw, st)) != 0) {
		st->global = 1;
		return r;
	}
	memset(st, 0, sizeof(*st));
	if (py_read_ptr(rt->runtime + (uintptr_t)o->rt_interp_main,
	    &interp) == -1 || interp == 0)
		return -1;
	return stw_read(rt, interp + (uintptr_t)o->is_stw, st);
}

void
py_stw_note(const struct py_stw *st, py_stw_thread_fn thread,
    const void *list, size_t n, char *buf, size_t len)
{
	const char *name, *req = NULL;
	size_t i, k, held = 0;
	pid_t tid;
	int state;

	for (i = 0; i < n && req == NULL; i++)
		if ((name = thread(list, i, &tid, &state)) != NULL &&
		    tid == st->requester_tid && tid != 0)
			req = name;
	k = (size_t)snprintf(buf, len, PY_STW_NOTE_LEAD "%s is under way, "
	    "asked for by ", st->global ? " of every interpreter" : "");
	if (req != NULL)
		k += (size_t)snprintf(buf + k, k < len ? len - k : 0,
		    "\"%s\" (tid %d)", req, (int)st->requester_tid);
	else
		k += (size_t)snprintf(buf + k, k < len ? len - k : 0,
		    "an unknown thread");
	if (st->stopped) {
		snprintf(buf + k, k < len ? len - k : 0, ": every other "
		    "thread is stopped.");
		return;
	}
	k += (size_t)snprintf(buf + k, k < len ? len - k : 0, ": %ld "
	    "thread%s yet to stop", st->countdown, st->countdown == 1 ? "" :
	    "s");
	for (i = 0; i < n; i++) {
		if ((name = thread(list, i, &tid, &state)) == NULL ||
		    state != PY_TS_ATTACHED || tid == st->requester_tid)
			continue;
		k += (size_t)snprintf(buf + k, k < len ? len - k : 0,
		    "%s \"%s\" (tid %d)", held++ ? "," : ", held up by", name,
		    (int)tid);
	}
	snprintf(buf + k, k < len ? len - k : 0, ".");
}
