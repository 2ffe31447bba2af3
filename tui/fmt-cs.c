/*
 * A free-threaded CPython's critical sections, as lines for the locks
 * view and --once: each thread's sections, innermost first, an object
 * lock held with the threads parked on it, a section being entered
 * with the PyMutex waited for and its holder (gilwatch run sees the
 * park; from outside the wait is a futex and the holder is not known).
 */
#include <stdio.h>

#include "gilwatch/snapshot.h"
#include "tui.h"

#define ADDR_FMT	"0x%llx"

/* ", waited for by "a" (1), "b" (2)": rows parked on mutex m. */
static size_t
waiters(const struct source *s, uint64_t m, char *buf, size_t len)
{
	const struct gw_shm_thread *t;
	char who[64];
	size_t off = 0;
	uint32_t i, n = 0;

	for (i = 0; m != 0 && i < s->nrows && off < len; i++) {
		t = s->rows[i].t;
		if (t->state != GW_STATE_BLOCKED ||
		    t->wait_kind != GW_LOCK_PYMUTEX || t->wait_addr != m)
			continue;
		off += (size_t)snprintf(buf + off, len - off, "%s%s",
		    n++ ? ", " : ", waited for by ", fmt_thread(s, t->tid, who,
		    sizeof who));
	}
	return off;
}

static void
section(const struct source *s, const struct gw_shm_thread *t,
    const struct gw_shm_cs *c, line_fn put, void *arg)
{
	char buf[1024], who[64], by[64];
	int n;

	n = snprintf(buf, sizeof buf, "  %s ", fmt_thread(s, t->tid, who,
	    sizeof who));
	if (c->state == GW_CS_ENTERING) {
		n += snprintf(buf + n, sizeof buf - (size_t)n, "entering a "
		    "critical section");
		if (t->state == GW_STATE_BLOCKED && t->wait_kind ==
		    GW_LOCK_PYMUTEX)
			n += snprintf(buf + n, sizeof buf - (size_t)n, ": "
			    "waits for pymutex " ADDR_FMT "%s%s",
			    (unsigned long long)t->wait_addr, t->nowners ?
			    " held by " : "", t->nowners ? fmt_thread(s,
			    t->owners[0], by, sizeof by) : "");
		put(arg, ROLE_BLOCKED, buf);
		return;
	}
	n += snprintf(buf + n, sizeof buf - (size_t)n, "%s critical section "
	    "on %s " ADDR_FMT, c->state == GW_CS_SUSPENDED ? "suspended" :
	    "in", c->type[0] != '\0' ? c->type : "object",
	    (unsigned long long)c->object);
	if (c->object2 != 0)
		n += snprintf(buf + n, sizeof buf - (size_t)n, " and %s "
		    ADDR_FMT, c->type2[0] != '\0' ? c->type2 : "object",
		    (unsigned long long)c->object2);
	if (c->state == GW_CS_SUSPENDED)
		n += snprintf(buf + n, sizeof buf - (size_t)n, " (released "
		    "while it is detached)");
	else if ((size_t)n < sizeof buf) {
		n += (int)waiters(s, c->mutex, buf + n, sizeof buf - (size_t)n);
		if ((size_t)n < sizeof buf)
			waiters(s, c->mutex2, buf + n, sizeof buf - (size_t)n);
	}
	put(arg, ROLE_NORMAL, buf);
}

int
fmt_critical(const struct source *s, line_fn put, void *arg)
{
	const struct gw_shm_thread *t;
	char buf[128], who[64];
	uint32_t i, k;
	int lines = 0;

	for (i = 0; i < s->nrows; i++) {
		t = s->rows[i].t;
		if (t->ncritical == 0)
			continue;
		if (lines++ == 0)
			put(arg, ROLE_NORMAL, "Critical sections (object locks "
			    "of a free-threaded CPython), innermost first:");
		for (k = 0; k < t->ncritical; k++)
			section(s, t, &t->critical[k], put, arg);
		if (t->critical_more) {
			snprintf(buf, sizeof buf, "  %s and more",
			    fmt_thread(s, t->tid, who, sizeof who));
			put(arg, ROLE_NORMAL, buf);
		}
	}
	return lines;
}
