/* The public snapshot API: include/gilwatch/snapshot.h. */
#include <errno.h>

#include "hook.h"
#include "out.h"
#include "report.h"

GW_EXPORT struct gw_snapshot *
gw_snapshot_take(int flags)
{
	struct gw_snapshot *s;

	if (!thread_registry_ready()) {
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
