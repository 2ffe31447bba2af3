/*
 * What Python code waits on (struct gw_shm_pywait), in words.  Apart
 * from fmt.c because it needs nothing but the record: the unit tests
 * link it alone (tests/unit/test-fmt-py.c).
 */
#include <stdio.h>

#include "tui.h"

char *
fmt_pywait(const struct gw_shm_pywait *w, int full, char *buf, size_t len)
{
	const char *type = w->type[0] != '\0' ? w->type : "object";

	if (w->kind == GW_SHM_PYWAIT_NONE)
		snprintf(buf, len, "%s", "");
	/* The object the Condition belongs to says more than its address. */
	else if (!full && w->kind == GW_SHM_PYWAIT_NOTIFY && w->via[0] != '\0')
		snprintf(buf, len, "%s", w->via);
	else if (w->kind == GW_SHM_PYWAIT_NOTIFY && w->via[0] != '\0')
		snprintf(buf, len, "%s 0x%llx (%s)", type,
		    (unsigned long long)w->object, w->via);
	else
		snprintf(buf, len, "%s 0x%llx", type,
		    (unsigned long long)w->object);
	return buf;
}
