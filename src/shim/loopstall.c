/* Stalled event loops: see loopstall.h. */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "gil.h"
#include "loopstall.h"
#include "out.h"
#include "py-asyncio.h"
#include "py.h"
#include "report.h"
#include "task.h"
#include "thread.h"
#include "monitor.h"

#define LOOP_FRAMES	128	/* deep enough to reach run_forever below
				   a task's coroutine stack */

static struct py_frame *frames;	/* the helper's, LOOP_FRAMES of them */

/* The thread's name as its dump entry gives it, else as known by tid. */
static void
name_of(const struct gw_thread_info *e, pid_t tid, char *buf, size_t len)
{
	if (e != NULL && e->name != NULL)
		snprintf(buf, len, "%s", e->name);
	else
		report_tid_name(tid, buf, len);
}

/* The system call tid is blocked in, as the kernel shows it, or NULL. */
static const char *
kernel_call(pid_t tid, char *buf, size_t len)
{
	struct task k = { .tid = tid };
	const char *name;

	if (task_read(monitor_program(), &k) == -1 || k.syscall < 0 ||
	    k.state == 'R')
		return NULL;
	if ((name = task_syscall_name(k.syscall)) != NULL)
		snprintf(buf, len, "%s", name);
	else
		snprintf(buf, len, "system call %ld", k.syscall);
	return buf;
}

static void
text_report(struct out *o, struct thread *t, double secs, const char *call,
    struct thread *holder, const struct py_frame *f, int n,
    const struct gw_snapshot *s)
{
	const struct gw_thread_info *e = gw_snapshot_thread(s, atomic_load(&t->tid));
	char name[THREAD_PYNAME_MAX], hname[THREAD_PYNAME_MAX], when[32];
	time_t now = time(NULL);
	struct tm tm;
	int i;

	name_of(e, atomic_load(&t->tid), name, sizeof name);
	localtime_r(&now, &tm);
	strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", &tm);
	out_printf(o, "gilwatch loop stall: pid %d, %s\n\n", (int)monitor_program(),
	    when);
	out_printf(o, "The event loop of \"%s\" tid=%d has not come back to "
	    "its selector for %.3fs\n(--loop-stall=%d ms): every other task "
	    "of this loop waits for the running one.\n", name,
	    atomic_load(&t->tid), secs, config.loop_stall_ms);
	if (call != NULL)
		out_printf(o, "   - the thread is in the system call %s\n",
		    call);
	if (holder != NULL) {
		name_of(gw_snapshot_thread(s, atomic_load(&holder->tid)),
		    atomic_load(&holder->tid), hname, sizeof hname);
		out_printf(o, "   - it waits for the GIL, held by \"%s\" "
		    "tid=%d\n", hname, atomic_load(&holder->tid));
	}
	if (e != NULL) {
		/* Its Python frames are in its entry, merged with C's. */
		out_puts(o, "\n");
		report_text_thread(o, e, s);
		return;
	}
	out_puts(o, "  Python stack, innermost first:\n");
	for (i = 0; i < n; i++) {
		if (f[i].flags & PY_FRAME_INVALID) {
			out_printf(o, "    #%-2d <invalid>\n", i);
			break;
		}
		out_printf(o, "    #%-2d %s (%s:%d)\n", i, py_frame_name(&f[i]),
		    f[i].file, f[i].line);
	}
	out_puts(o, "\n");
}

static void
json_report(struct out *o, struct thread *t, double secs, const char *call,
    struct thread *holder, const struct py_frame *f, int n,
    const struct gw_snapshot *s)
{
	const struct gw_thread_info *e = gw_snapshot_thread(s, atomic_load(&t->tid));
	char name[THREAD_PYNAME_MAX];
	int i;

	name_of(e, atomic_load(&t->tid), name, sizeof name);
	out_printf(o, "{\"loop_stall\":{\"pid\":%d,\"tid\":%d,\"name\":",
	    (int)monitor_program(), atomic_load(&t->tid));
	out_json_str(o, name);
	out_printf(o, ",\"seconds\":%.6f,\"limit_ms\":%d,\"syscall\":", secs,
	    config.loop_stall_ms);
	out_json_str(o, call);
	out_puts(o, ",\"gil_holder\":");
	if (holder != NULL)
		out_printf(o, "%d", atomic_load(&holder->tid));
	else
		out_puts(o, "null");
	out_puts(o, ",\"python\":[");
	for (i = 0; i < n && !(f[i].flags & PY_FRAME_INVALID); i++) {
		out_puts(o, i > 0 ? ",{\"function\":" : "{\"function\":");
		out_json_str(o, py_frame_name(&f[i]));
		out_puts(o, ",\"file\":");
		out_json_str(o, f[i].file);
		out_printf(o, ",\"line\":%d}", f[i].line);
	}
	out_puts(o, "],\"thread\":");
	if (e != NULL)
		report_json_thread(o, e, s);
	else
		out_puts(o, "null");
	out_puts(o, "}}\n");
}

/* One stalled loop, its frames f[0..n) read a moment ago. */
static void
report(struct thread *t, uint64_t turn_ns, const struct py_frame *f, int n)
{
	struct gw_snapshot *s;
	struct thread *holder = NULL;
	char callbuf[32];
	const char *call;
	struct out o;

	/* A wait the shim sees says more than the futex under it. */
	call = atomic_load(&t->state) == GW_STATE_RUNNING ?
	    kernel_call(atomic_load(&t->tid), callbuf, sizeof callbuf) : NULL;
	if (atomic_load(&t->gil_state) == GIL_WAITING &&
	    (holder = gil_holder_thread()) == t)
		holder = NULL;
	/* The thread-dump's view of it: its waits, locks and stack. */
	s = snapshot_build(GW_REASON_API, 0, NULL, 0);
	out_init(&o);
	if (config.format == GW_FORMAT_JSON)
		json_report(&o, t, turn_ns / 1e9, call, holder, f, n, s);
	else
		text_report(&o, t, turn_ns / 1e9, call, holder, f, n, s);
	report_out_to_output(&o);
	out_free(&o);
	if (s != NULL)
		snapshot_free(s);
}

uint64_t
loopstall_turn_ns(struct thread *t, uint64_t now)
{
	uint64_t left = atomic_load_explicit(&t->sel_left,
	    memory_order_relaxed);

	if (left == 0 || now < left ||
	    atomic_load_explicit(&t->sel_inside, memory_order_acquire))
		return 0;
	return now - left;
}

int
loopstall_scan(uint64_t now)
{
	uint64_t limit = (uint64_t)config.loop_stall_ms * 1000000u, left, turn;
	struct thread *t;
	int n, coro, ncoro, found = 0;

	if (limit == 0 || gil_runtime() == NULL)
		return 0;
	if (frames == NULL &&
	    (frames = calloc(LOOP_FRAMES, sizeof *frames)) == NULL)
		return 0;
	for (t = thread_first(); t != NULL; t = t->next) {
		if (!atomic_load(&t->in_use) || t->internal ||
		    atomic_load(&t->state) == GW_STATE_EXITED)
			continue;
		left = atomic_load_explicit(&t->sel_left, memory_order_relaxed);
		/* In epoll, never in it, short, or this turn looked at. */
		if ((turn = loopstall_turn_ns(t, now)) < limit ||
		    left == t->loop_seen)
			continue;
		n = gil_thread_frames(t, frames, LOOP_FRAMES);
		if (n <= 0)
			continue;
		/* A torn or cut read (the thread runs Python, or deeper
		 * than LOOP_FRAMES) is tried again at the next look; a
		 * thread in no loop is not read again before its next
		 * epoll. */
		if (py_asyncio_frames_loop(frames, n, &coro, &ncoro) < 0) {
			if (!(frames[n - 1].flags &
			    (PY_FRAME_INVALID | PY_FRAME_MORE)))
				t->loop_seen = left;
			continue;
		}
		/* It may have come back in the meantime. */
		if (atomic_load(&t->sel_inside) ||
		    atomic_load(&t->sel_left) != left)
			continue;
		t->loop_seen = left;
		report(t, turn, frames, n);
		found++;
	}
	return found;
}

#define CYCLES_KEPT	256	/* task deadlocks remembered as reported */
#define CYCLES_COST	10	/* a look waits 10x the last one's cost */

static uint64_t cycles_seen[CYCLES_KEPT];	/* signatures, a ring */
static unsigned cycles_next_slot;
static uint64_t cycles_due;			/* now_ns() of the next look */

/*
 * Which deadlock d is, whatever link it starts at: the sum of a hash of
 * each link (its task, or its thread), 0 when no link is a task (a
 * threads-only cycle, which the deadlock detector reports itself).
 */
static uint64_t
cycle_signature(const struct gw_deadlock *d)
{
	uint64_t sig = 0, v;
	int tasks = 0;
	size_t i;

	for (i = 0; i < d->nlinks; i++) {
		v = d->links[i].task != 0 ? d->links[i].task :
		    (uint64_t)d->links[i].tid;
		tasks |= d->links[i].task != 0;
		v ^= v >> 33;
		v *= 0xff51afd7ed558ccdull;
		v ^= v >> 33;
		sig += v;
	}
	return tasks ? sig | 1 : 0;
}

static int
cycle_reported(uint64_t sig)
{
	unsigned i;

	for (i = 0; i < CYCLES_KEPT; i++)
		if (cycles_seen[i] == sig)
			return 1;
	return 0;
}

/* Has the process waited in epoll (does it run an event loop)? */
static int
has_loop(void)
{
	struct thread *t;

	for (t = thread_first(); t != NULL; t = t->next)
		if (atomic_load(&t->in_use) && !t->internal &&
		    atomic_load_explicit(&t->sel_left, memory_order_relaxed))
			return 1;
	return 0;
}

int
loopstall_cycles(uint64_t now)
{
	const struct py_runtime *rt = gil_runtime();
	struct gw_snapshot *s;
	uint64_t sig, fresh[8];
	size_t i, nfresh = 0;

	if (rt == NULL || rt->major * 100 + rt->minor < 314 ||
	    now < cycles_due || !has_loop())
		return 0;
	/* Tasks only: no stacks, no thread interrupted. */
	s = snapshot_build(GW_REASON_DEADLOCK, GW_SNAP_NO_STACKS, NULL, 0);
	cycles_due = now + (now_ns() - now) * CYCLES_COST;
	for (i = 0; s != NULL && i < s->ndeadlocks; i++)
		if ((sig = cycle_signature(&s->deadlocks[i])) != 0 &&
		    !cycle_reported(sig) && nfresh < sizeof fresh /
		    sizeof fresh[0])
			fresh[nfresh++] = sig;
	snapshot_free(s);
	if (nfresh == 0)
		return 0;
	for (i = 0; i < nfresh; i++) {
		cycles_seen[cycles_next_slot] = fresh[i];
		cycles_next_slot = (cycles_next_slot + 1) % CYCLES_KEPT;
	}
	/* The report, with every stack as a deadlock's has. */
	if ((s = snapshot_build(GW_REASON_DEADLOCK, 0, NULL, 0)) == NULL)
		return 0;
	report_task_deadlock(s);
	snapshot_free(s);
	return (int)nfresh;
}

void
loopstall_reset(void)
{
	memset(cycles_seen, 0, sizeof cycles_seen);
	cycles_next_slot = 0;
	cycles_due = 0;
}
