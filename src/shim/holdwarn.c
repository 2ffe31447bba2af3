/* Long-hold warnings: see holdwarn.h. */
#include <errno.h>
#include <unistd.h>

#include "clock.h"
#include "config.h"
#include "holdwarn.h"
#include "out.h"
#include "report.h"
#include "track.h"
#include "monitor.h"

static double warn_ms;

void
holdwarn_init(double ms)
{
	warn_ms = ms;
	hold_warn_ticks = ms > 0 ? clock_ms_to_ticks(ms) : 0;
}

void
holdwarn_report(struct thread *t, struct held *h, uint64_t ticks)
{
	struct stack st;
	struct out o;
	char name[64];
	int saved = errno, json = config.format == GW_FORMAT_JSON;
	double ms = clock_ticks_to_ms(ticks);

	thread_enter_shim();
	stack_capture(&st, 0);
	stack_strip_self(&st);
	thread_name(t, name, sizeof name);
	out_init(&o);
	if (json) {
		out_printf(&o, "{\"gilwatch\":1,\"pid\":%d,\"reason\":"
		    "\"long-hold\",\"lock\":{\"addr\":\"0x%zx\",\"kind\":\"%s\"},"
		    "\"held_ms\":%.3f,\"threshold_ms\":%.3f,\"tid\":%d,"
		    "\"thread\":", (int)monitor_program(), (size_t)h->addr,
		    gw_lock_kind_name(h->kind), ms, warn_ms,
		    atomic_load(&t->tid));
		out_json_str(&o, name);
		out_puts(&o, ",\"acquired_at\":");
		report_ip(&o, h->site, 1, GW_FORMAT_JSON);
		out_puts(&o, ",\"frames\":[");
	} else {
		out_printf(&o, "gilwatch: %s <0x%zx> was held for %.1f ms "
		    "(threshold %.1f ms) by \"%s\" tid=%d, acquired at ",
		    gw_lock_kind_name(h->kind), (size_t)h->addr, ms, warn_ms,
		    name, atomic_load(&t->tid));
		report_ip(&o, h->site, 1, GW_FORMAT_TEXT);
		out_puts(&o, "; released at:\n");
	}
	report_own_stack(&o, t, &st, config.format);
	out_puts(&o, json ? "]}\n" : "\n");
	report_out_to_output(&o);
	out_free(&o);
	thread_leave_shim();
	errno = saved;
}
