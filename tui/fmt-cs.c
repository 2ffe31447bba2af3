/*
 * A free-threaded CPython's critical sections, as lines for the locks
 * view and --once: each thread's sections, innermost first, an object
 * lock held with the threads parked on it, a section being entered
 * with the PyMutex waited for and its holder (gilwatch run sees the
 * park; from outside the parking lot's entry names the PyMutex).
 */
#include <stdio.h>

#include "gilwatch/snapshot.h"
#include "tui.h"

#define ADDR_FMT	"0x%llx"

/*
 * ", waited for by "a" (1), "b" (2)": rows parked on mutex m.  Read
 * from outside the mutex is not known (0): then rows parked on a
 * PyMutex the holder holds, when only one section of it is held.
 */
static size_t
waiters(const struct source *s, pid_t holder, uint64_t m, int only,
    char *buf, size_t len)
{
	const struct gw_shm_thread *t;
	char who[64];
	size_t off = 0;
	uint32_t i, n = 0;

	for (i = 0; (m != 0 || only) && i < s->nrows && off < len; i++) {
		t = s->rows[i].t;
		if (t->state != GW_STATE_BLOCKED ||
		    t->wait_kind != GW_LOCK_PYMUTEX || (m != 0 ?
		    t->wait_addr != m : t->nowners == 0 ||
		    t->owners[0] != holder))
			continue;
		off += (size_t)snprintf(buf + off, len - off, "%s%s",
		    n++ ? ", " : ", waited for by ", fmt_thread(s, t->tid, who,
		    sizeof who));
	}
	return off;
}

/* c, one of t's sections, of which held are held. */
static void
section(const struct source *s, const struct gw_shm_thread *t,
    const struct gw_shm_cs *c, int held, line_fn put, void *arg)
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
		n += (int)waiters(s, t->tid, c->mutex, held == 1, buf + n,
		    sizeof buf - (size_t)n);
		if ((size_t)n < sizeof buf && c->mutex2 != 0)
			waiters(s, t->tid, c->mutex2, 0, buf + n,
			    sizeof buf - (size_t)n);
	}
	put(arg, ROLE_NORMAL, buf);
}

int
fmt_critical(const struct source *s, line_fn put, void *arg)
{
	const struct gw_shm_thread *t;
	char buf[128], who[64];
	uint32_t i, k;
	int lines = 0, held;

	for (i = 0; i < s->nrows; i++) {
		t = s->rows[i].t;
		if (t->ncritical == 0)
			continue;
		if (lines++ == 0)
			put(arg, ROLE_NORMAL, "Critical sections (object locks "
			    "of a free-threaded CPython), innermost first:");
		for (k = held = 0; k < t->ncritical; k++)
			held += t->critical[k].state == GW_CS_HELD;
		for (k = 0; k < t->ncritical; k++)
			section(s, t, &t->critical[k], held, put, arg);
		if (t->critical_more) {
			snprintf(buf, sizeof buf, "  %s and more",
			    fmt_thread(s, t->tid, who, sizeof who));
			put(arg, ROLE_NORMAL, buf);
		}
	}
	return lines;
}
