/*
 * The lock-order report.  Text follows lockdep's layout, so people who
 * know kernel reports read it at once: the banner, the acquisition that
 * closed the cycle, the existing chain with the stack that made each
 * link, then a two-column "possible unsafe locking scenario".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "gil.h"
#include "gilwatch/snapshot.h"
#include "order-report.h"
#include "out.h"
#include "report.h"
#include "stackvar.h"
#include "ulock.h"
#include "share.h"
#include "monitor.h"

#define SCENARIO_COLUMNS	4	/* wider cycles are listed instead */
#define COLUMN_WIDTH		26

void
order_letters(unsigned i, char *buf, size_t len)
{
	char rev[16];
	size_t k = 0, j;

	/* Bijective base 26: A..Z, AA..AZ, BA.., ZZ, AAA.. */
	do {
		rev[k++] = (char)('A' + i % 26);
		i = i / 26;
	} while (i-- > 0 && k < sizeof rev);
	for (j = 0; j < k && j + 1 < len; j++)
		buf[j] = rev[k - 1 - j];
	if (len > 0)
		buf[j < len ? j : len - 1] = '\0';
}

#define LABEL_LEN	96

struct label {
	char	text[LABEL_LEN];
	int	named;
	char	name[LABEL_LEN];	/* the variable's, without "#2" */
};

/* Those of the report under way, one per cyc[i]->from_addr, or NULL. */
static __thread struct label *labels;

static int
label_taken(const struct label *l, int n, const char *text)
{
	int i;

	for (i = 0; i < n; i++)
		if (l[i].named && strcmp(l[i].text, text) == 0)
			return 1;
	return 0;
}

/*
 * A label per lock of the cycle: the variable it is, a global the
 * symbol table knows ("a", "table+64") or a local on a thread's stack
 * ("a", "s.m"); else a letter.  Two locks of one name (the same local
 * of two threads) become "m" and "m#2".  Letters go to the unnamed
 * locks only, in cycle order, skipping any a variable of the cycle is
 * called, so a letter is never taken for a name.  NULL when memory runs
 * out.
 */
static struct label *
label_cycle(struct oedge **cyc, int n)
{
	struct stackvars *sv = stackvars_new();
	struct label *l = calloc((size_t)n, sizeof *l);
	unsigned k = 0;
	size_t len;
	int i, same;

	for (i = 0; l != NULL && i < n; i++) {
		l[i].named = report_lock_var(sv, cyc[i]->from_addr,
		    l[i].name, sizeof l[i].name);
		memcpy(l[i].text, l[i].name, sizeof l[i].text);
		/* Room for the suffix: a clash must end. */
		if ((len = strlen(l[i].text)) > sizeof l[i].text - 12)
			len = sizeof l[i].text - 12;
		for (same = 1; l[i].named && label_taken(l, i, l[i].text);
		    same++)
			snprintf(l[i].text + len, sizeof l[i].text - len,
			    "#%d", same + 1);
	}
	stackvars_free(sv);
	for (i = 0; l != NULL && i < n; i++) {
		if (l[i].named)
			continue;
		do
			order_letters(k++, l[i].text, sizeof l[i].text);
		while (label_taken(l, n, l[i].text));
	}
	return l;
}

static const char *
lock_name(struct oedge **cyc, int n, uintptr_t addr)
{
	int i;

	for (i = 0; i < n && cyc[i]->from_addr != addr; i++)
		;
	return i < n && labels != NULL ? labels[i].text : "?";
}

#define NAME(addr)	lock_name(cyc, n, (addr))

static void
text_lock(struct out *o, int kind, uintptr_t addr, uintptr_t class_site,
    const char *name)
{
	out_printf(o, "%s <0x%zx> (%s), class ", gw_lock_kind_name(kind),
	    (size_t)addr, name);
	report_ip(o, class_site, 1, GW_FORMAT_TEXT);
}

/* Python frame i of the edge, named now, into f (strings in pf). */
static void
edge_py_frame(const struct oedge *e, int i, struct py_frame *pf,
    struct gw_frame *f)
{
	const struct py_runtime *rt = gil_runtime();

	memset(f, 0, sizeof *f);
	if (rt == NULL || py_site_frame(rt, &e->py[i], pf) == -1) {
		f->kind = GW_FRAME_INVALID;
		f->function = "<invalid>";
		return;
	}
	f->kind = GW_FRAME_PYTHON;
	f->function = py_frame_name(pf);
	f->file = pf->file;
	f->line = pf->line;
}

static void
text_stack(struct out *o, const struct oedge *e)
{
	struct py_frame pf;
	struct gw_frame f;
	int i;

	for (i = 0; i < e->stack.depth; i++) {
		out_printf(o, "      #%-2d ", i);
		report_ip(o, e->stack.ip[i], 1, GW_FORMAT_TEXT);
		out_puts(o, "\n");
	}
	for (i = 0; i < e->npy; i++) {
		out_puts(o, i == 0 ? "      in Python: " : "                 ");
		edge_py_frame(e, i, &pf, &f);
		report_text_frame(o, &f);
		out_puts(o, "\n");
	}
}

static void
text_scenario(struct out *o, struct oedge **cyc, int n)
{
	int i, k;

	out_puts(o, "\n Possible unsafe locking scenario:\n\n");
	if (n > SCENARIO_COLUMNS) {
		for (i = 0; i < n; i++)
			out_printf(o, "  thread %d: holds %s, waits for %s\n",
			    i + 1, NAME(cyc[i]->from_addr),
			    NAME(cyc[i]->to_addr));
		out_puts(o, "\n *** DEADLOCK ***\n\n");
		return;
	}
	for (i = 0; i < n; i++)
		out_printf(o, "%*s%-*s", i == 0 ? 7 : 0, "", COLUMN_WIDTH,
		    i == 0 ? "thread 1" : i == 1 ? "thread 2" :
		    i == 2 ? "thread 3" : "thread 4");
	out_puts(o, "\n");
	for (i = 0; i < n; i++)
		out_printf(o, "%*s%-*s", i == 0 ? 7 : 0, "", COLUMN_WIDTH,
		    "--------");
	out_puts(o, "\n");
	for (k = 0; k < 2; k++)
		for (i = 0; i < n; i++)
			out_printf(o, "  %*slock(%s);\n", i * COLUMN_WIDTH + 5,
			    "", NAME(k == 0 ? cyc[i]->from_addr :
			    cyc[i]->to_addr));
	out_puts(o, "\n *** DEADLOCK ***\n\n");
}

static void
report_text_cycle(struct out *o, struct thread *t, int view,
    struct oedge **cyc, int n, uintptr_t site)
{
	char name[64];
	int i;

	thread_name(t, name, sizeof name);
	out_puts(o, "\n======================================================\n"
	    "WARNING: possible circular locking dependency detected\n"
	    "------------------------------------------------------\n");
	out_printf(o, "\"%s\" tid=%d is trying to acquire:\n  ", name,
	    atomic_load(&t->tid));
	text_lock(o, cyc[0]->to_kind, cyc[0]->to_addr, cyc[0]->to_class,
	    NAME(cyc[0]->to_addr));
	out_puts(o, "\n  at ");
	report_ip(o, site, 1, GW_FORMAT_TEXT);
	out_puts(o, "\n\nbut already holds:\n  ");
	text_lock(o, cyc[0]->from_kind, cyc[0]->from_addr,
	    cyc[0]->from_class, NAME(cyc[0]->from_addr));
	out_puts(o, "\n\nwhich lock already depends on the new lock.\n");
	if (view == ORDER_VIEW_CLASS)
		out_puts(o, "(class view: these instances never formed a "
		    "cycle, but locks of the same classes did, in another "
		    "order)\n");
	out_puts(o, "\nthe existing dependency chain is:\n\n");
	for (i = n - 1; i >= 0; i--) {
		out_printf(o, "-> #%d (%s after %s) made by \"%s\" tid=%d:\n",
		    i, NAME(cyc[i]->to_addr),
		    NAME(cyc[i]->from_addr), cyc[i]->thread,
		    (int)cyc[i]->tid);
		out_puts(o, "      holding ");
		text_lock(o, cyc[i]->from_kind, cyc[i]->from_addr,
		    cyc[i]->from_class, NAME(cyc[i]->from_addr));
		out_puts(o, "\n      took ");
		text_lock(o, cyc[i]->to_kind, cyc[i]->to_addr,
		    cyc[i]->to_class, NAME(cyc[i]->to_addr));
		out_puts(o, "\n");
		text_stack(o, cyc[i]);
		out_puts(o, "\n");
	}
	text_scenario(o, cyc, n);
}

/* name: the variable's, or null for a lock that has only a letter. */
static void
json_lock(struct out *o, struct oedge **cyc, int n, int kind,
    uintptr_t addr, uintptr_t class_site)
{
	int i;

	out_printf(o, "{\"addr\":\"0x%zx\",\"kind\":\"%s\",\"class\":",
	    (size_t)addr, gw_lock_kind_name(kind));
	report_ip(o, class_site, 1, GW_FORMAT_JSON);
	out_puts(o, ",\"name\":");
	for (i = 0; i < n && cyc[i]->from_addr != addr; i++)
		;
	out_json_str(o, i < n && labels != NULL && labels[i].named ?
	    labels[i].name : NULL);
	out_puts(o, "}");
}

static void
report_json_cycle(struct out *o, struct thread *t, int view,
    struct oedge **cyc, int n, uintptr_t site)
{
	uintptr_t gates[ORDER_GATES];
	struct py_frame pf;
	struct gw_frame f;
	char name[64];
	int i, k, ng;

	thread_name(t, name, sizeof name);
	out_printf(o, "{\"gilwatch\":1,\"pid\":%d,\"reason\":\"lock-order\","
	    "\"view\":\"%s\",\"thread\":{\"tid\":%d,\"name\":", (int)monitor_program(),
	    view == ORDER_VIEW_CLASS ? "class" : "instance",
	    atomic_load(&t->tid));
	out_json_str(o, name);
	out_puts(o, "},\"site\":");
	report_ip(o, site, 1, GW_FORMAT_JSON);
	out_puts(o, ",\"cycle\":[");
	for (i = 0; i < n; i++) {
		out_puts(o, i ? ",{\"from\":" : "{\"from\":");
		json_lock(o, cyc, n, cyc[i]->from_kind, cyc[i]->from_addr,
		    cyc[i]->from_class);
		out_puts(o, ",\"to\":");
		json_lock(o, cyc, n, cyc[i]->to_kind, cyc[i]->to_addr,
		    cyc[i]->to_class);
		out_printf(o, ",\"tid\":%d,\"thread\":", (int)cyc[i]->tid);
		out_json_str(o, cyc[i]->thread);
		out_puts(o, ",\"frames\":[");
		for (k = 0; k < cyc[i]->stack.depth; k++) {
			if (k)
				out_puts(o, ",");
			report_ip(o, cyc[i]->stack.ip[k], 1,
			    GW_FORMAT_JSON);
		}
		out_puts(o, "],\"python_frames\":[");
		for (k = 0; k < cyc[i]->npy; k++) {
			if (k)
				out_puts(o, ",");
			edge_py_frame(cyc[i], k, &pf, &f);
			report_json_frame(o, &f);
		}
		out_puts(o, "]}");
	}
	out_puts(o, "],\"gates\":[");
	ng = order_common_gates(cyc, n, gates);
	for (i = 0; i < ng; i++)
		out_printf(o, "%s\"0x%zx\"", i ? "," : "", (size_t)gates[i]);
	out_puts(o, "]}\n");
}

static GW_SHARED struct ulock summary_lock = ULOCK_INIT;
static GW_SHARED char summaries[ORDER_KEEP_SUMMARIES][160];
static GW_SHARED unsigned nsummaries;

static void
remember(struct thread *t, struct oedge **cyc, int n)
{
	char *s, name[32];
	size_t len = sizeof summaries[0], off;
	int i;

	thread_name(t, name, sizeof name);
	ulock_lock(&summary_lock);
	s = summaries[nsummaries++ % ORDER_KEEP_SUMMARIES];
	off = 0;
	for (i = 0; i <= n && off < len; i++) {
		uintptr_t a = i < n ? cyc[i]->from_addr : cyc[0]->from_addr;

		off += (size_t)snprintf(s + off, len - off, "%s%s",
		    i ? " -> " : "", lock_name(cyc, n, a));
	}
	if (off < len)
		snprintf(s + off, len - off, " (%d locks, by \"%s\" tid=%d)",
		    n, name, atomic_load(&t->tid));
	ulock_unlock(&summary_lock);
}

int
order_summary(unsigned idx, char *buf, size_t len)
{
	int rc = -1;

	ulock_lock(&summary_lock);
	if (idx < nsummaries && idx < ORDER_KEEP_SUMMARIES) {
		snprintf(buf, len, "%s",
		    summaries[(nsummaries - 1 - idx) % ORDER_KEEP_SUMMARIES]);
		rc = 0;
	}
	ulock_unlock(&summary_lock);
	return rc;
}

void
order_report_safe(struct out *o, enum gw_format fmt)
{
	uintptr_t gates[ORDER_KEEP_GATES];
	unsigned n = order_safe(gates, ORDER_KEEP_GATES);
	char name[96];
	int i;

	if (fmt == GW_FORMAT_JSON) {
		out_printf(o, "\"safe_orders\":{\"count\":%u,\"gates\":[",
		    n);
		for (i = 0; i < ORDER_KEEP_GATES && gates[i] != 0; i++)
			out_printf(o, "%s\"0x%zx\"", i ? "," : "",
			    (size_t)gates[i]);
		out_puts(o, "]}");
		return;
	}
	if (n == 0)
		return;
	out_printf(o, "lock orders known safe: %u possible cycle%s, every "
	    "link made under a gate lock (", n, n == 1 ? "" : "s");
	for (i = 0; i < ORDER_KEEP_GATES && gates[i] != 0; i++) {
		out_printf(o, "%s<0x%zx>", i ? ", " : "", (size_t)gates[i]);
		if (report_lock_name(gates[i], name, sizeof name))
			out_printf(o, " (%s)", name);
	}
	out_puts(o, "); not reported as deadlocks\n\n");
}

void
order_report(struct thread *t, int view, struct oedge **cyc, int n,
    uintptr_t site)
{
	struct out o;

	labels = label_cycle(cyc, n);
	remember(t, cyc, n);
	out_init(&o);
	if (config.format == GW_FORMAT_JSON)
		report_json_cycle(&o, t, view, cyc, n, site);
	else
		report_text_cycle(&o, t, view, cyc, n, site);
	free(labels);
	labels = NULL;
	report_final(&o, &config.lock_order);
	out_free(&o);
}

void
order_report_after_fork_child(void)
{
	ulock_init(&summary_lock);
}
