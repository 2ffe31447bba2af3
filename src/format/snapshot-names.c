/*
 * The names used in text and JSON output, and the thread lookup the
 * writers use, part of the public API (include/gilwatch/snapshot.h).
 * Apart from the shim's api.c so the writers can use them in the command
 * too, without pulling in the rest of the API.
 */
#include "gilwatch/snapshot.h"
#include "names.h"

#define GW_EXPORT	__attribute__((visibility("default")))

GW_EXPORT const char *
gw_lock_kind_name(enum gw_lock_kind k)
{
	const char *name = names_lock_kind(k);

	return name != NULL ? name : "?";
}

GW_EXPORT const char *
gw_thread_state_name(enum gw_thread_state s)
{
	static const char *names[] = {
		[GW_STATE_RUNNING] = "running",
		[GW_STATE_BLOCKED] = "blocked",
		[GW_STATE_WAITING] = "waiting",
		[GW_STATE_JOINING] = "joining",
		[GW_STATE_EXITED] = "exited",
	};

	return s <= GW_STATE_EXITED ? names[s] : "?";
}

GW_EXPORT const char *
gw_stack_status_name(enum gw_stack_status s)
{
	static const char *names[] = {
		[GW_STACK_OK] = "ok",
		[GW_STACK_AT_BLOCK] = "at-block",
		[GW_STACK_SIGNALS_BLOCKED] = "signals-blocked",
		[GW_STACK_IN_SYSCALL] = "in-syscall",
		[GW_STACK_TIMEOUT] = "timeout",
		[GW_STACK_UNAVAILABLE] = "unavailable",
	};

	return s <= GW_STACK_UNAVAILABLE ? names[s] : "?";
}

GW_EXPORT const char *
gw_gil_state_name(enum gw_gil_state s)
{
	static const char *names[] = {
		[GW_GIL_NONE] = NULL,
		[GW_GIL_RELEASED] = "released",
		[GW_GIL_WAITING] = "waits",
		[GW_GIL_HOLDING] = "holds",
	};

	return s <= GW_GIL_HOLDING ? names[s] : NULL;
}

GW_EXPORT const char *
gw_py_state_name(enum gw_py_state s)
{
	static const char *names[] = {
		[GW_PYSTATE_NONE] = NULL,
		[GW_PYSTATE_ATTACHED] = "attached",
		[GW_PYSTATE_DETACHED] = "detached",
		[GW_PYSTATE_SUSPENDED] = "suspended",
	};

	return s <= GW_PYSTATE_SUSPENDED ? names[s] : NULL;
}

GW_EXPORT const char *
gw_cs_state_name(enum gw_cs_state s)
{
	static const char *names[] = {
		[GW_CS_HELD] = "held",
		[GW_CS_SUSPENDED] = "suspended",
		[GW_CS_ENTERING] = "entering",
	};

	return s >= GW_CS_HELD && s <= GW_CS_ENTERING ? names[s] : "?";
}

GW_EXPORT const struct gw_thread_info *
gw_snapshot_thread(const struct gw_snapshot *s, pid_t tid)
{
	size_t i;

	for (i = 0; s != NULL && i < s->nthreads; i++)
		if (s->threads[i].tid == tid)
			return &s->threads[i];
	return NULL;
}

GW_EXPORT const char *
gw_task_state_name(enum gw_task_state s)
{
	static const char *names[] = {
		[GW_TASK_PENDING] = "pending",
		[GW_TASK_CANCELLED] = "cancelled",
		[GW_TASK_DONE] = "done",
		[GW_TASK_UNKNOWN] = "unknown",
		[GW_TASK_INVALID] = "invalid",
	};

	return s <= GW_TASK_INVALID ? names[s] : "?";
}

GW_EXPORT const char *
gw_await_kind_name(enum gw_await_kind k)
{
	static const char *names[] = {
		[GW_AWAIT_NONE] = "none",
		[GW_AWAIT_TASK] = "task",
		[GW_AWAIT_FUTURE] = "future",
		[GW_AWAIT_SLEEP] = "sleep",
		[GW_AWAIT_EXECUTOR] = "executor",
		[GW_AWAIT_LOCK] = "lock",
		[GW_AWAIT_EVENT] = "event",
		[GW_AWAIT_QUEUE] = "queue",
		[GW_AWAIT_GATHER] = "gather",
		[GW_AWAIT_UNKNOWN] = "unknown",
		[GW_AWAIT_LOOP] = "loop",
	};

	return k <= GW_AWAIT_LOOP ? names[k] : "?";
}
