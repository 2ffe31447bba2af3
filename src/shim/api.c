/* The public snapshot API: include/gilwatch/snapshot.h. */
#include <errno.h>

#include "hook.h"
#include "out.h"
#include "report.h"

extern int shim_initialised(void);

GW_EXPORT struct gw_snapshot *
gw_snapshot_take(int flags)
{
	struct gw_snapshot *s;

	if (!shim_initialised()) {
		errno = ENODEV;
		return NULL;
	}
	thread_enter_shim();
	s = snapshot_build(GW_REASON_API, flags, NULL, 0);
	thread_leave_shim();
	return s;
}

GW_EXPORT void
gw_snapshot_free(struct gw_snapshot *s)
{
	snapshot_free(s);
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

GW_EXPORT int
gw_snapshot_write(const struct gw_snapshot *s, int fd, enum gw_format fmt)
{
	struct out o;
	int rc;

	out_init(&o);
	if (fmt == GW_FORMAT_JSON)
		report_json(&o, s);
	else
		report_text(&o, s);
	rc = out_write(&o, fd);
	out_free(&o);
	return rc;
}

GW_EXPORT const char *
gw_lock_kind_name(enum gw_lock_kind k)
{
	static const char *names[] = {
		[GW_LOCK_MUTEX] = "mutex",
		[GW_LOCK_RWLOCK] = "rwlock",
		[GW_LOCK_SPIN] = "spinlock",
		[GW_LOCK_SEM] = "semaphore",
		[GW_LOCK_COND] = "condvar",
		[GW_LOCK_THREAD] = "thread",
		[GW_LOCK_GIL] = "gil",
	};

	return k <= GW_LOCK_GIL ? names[k] : "?";
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
