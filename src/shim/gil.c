/*
 * GIL tracking: see gil.h.  The markers run inside take_gil/drop_gil,
 * with the GIL's own mutexes held, so the process-wide numbers change
 * one marker at a time; readers on other threads read them racily,
 * which costs at most one event's worth of accuracy.
 */
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "gil-blame.h"
#include "gil-profile.h"
#include "gil.h"
#include "monitor.h"
#include "gilwatch/snapshot.h"
#include "hist.h"
#include "lock.h"
#include "maxval.h"
#include "msg.h"
#include "pages.h"
#include "py.h"
#include "rtpolicy.h"
#include "stack.h"
#include "taskfile.h"
#include "thread.h"
#include "trace.h"
#include "share.h"

#define SLOT_NS		100000000ull	/* one window slot: 100 ms */

/*
 * threading's names are read by each thread itself at a GIL marker,
 * while it holds the GIL: a known name again at most once a second (to
 * follow renames), a name not found yet at once for the first
 * NAME_QUICK markers, then backing off to once a second (a main thread
 * before threading is imported).  A thread with no Python frame is not
 * read at all: a new thread takes the GIL before its Thread runs (and
 * is in threading._active), and lets it go for the last time after,
 * and the read that fails there is some twenty system calls.
 */
#define NAME_REFRESH_NS	1000000000ull
#define NAME_QUICK	4
#define NAME_BACKOFF_NS	1000000ull	/* doubles from here to a second */

static GW_SHARED struct py_runtime rt;
struct py_own_fast gil_own_fast;
int gil_own_by_call;
static void *py_acquire_fn;	/* PyThread_acquire_lock_timed */
static void *park_fn;		/* _PyParkingLot_Park (3.14+) */
static void *event_fn[2];	/* PyEvent_Wait, PyEvent_WaitTimed */
static void *(*py_tstate_current)(void);	/* free-threaded builds:
					   PyThreadState_GetUnchecked */
static GW_SHARED int present;		/* the GIL is followed */
static GW_SHARED int readable;		/* Python threads are read: the GIL is
				   followed, or a free-threaded build */
static GW_SHARED char version[24];
static GW_SHARED char why_not[128];
static GW_SHARED struct gil_departed *departed;	/* threads that ended */

/* The addresses markers compare against; 0 when there is no GIL. */
static GW_SHARED atomic_uintptr_t g_gil, g_mutex, g_cond, g_switch_cond, g_switch_mutex;

static GW_SHARED struct thread *_Atomic holder;
static GW_SHARED _Atomic uint64_t holder_since;		/* ns */
static GW_SHARED atomic_uint nwaiting;
static GW_SHARED _Atomic uint64_t contended_since;	/* ns, while nwaiting > 0 */
static GW_SHARED _Atomic uint64_t switches, forced;
static GW_SHARED atomic_int drop_asked;	/* a waiter asked the holder to drop */
static GW_SHARED uint64_t start_ns;

/* Time held and time contended: totals, and per 100 ms slot. */
struct window {
	_Atomic uint64_t total;
	_Atomic uint64_t slot[GIL_WINDOW_SLOTS];
	_Atomic uint64_t slot_id[GIL_WINDOW_SLOTS];
};

static GW_SHARED struct window held_w, contended_w;
static GW_SHARED _Atomic uint64_t hist_wait[HIST_BUCKETS];
static GW_SHARED _Atomic uint64_t hist_hold[HIST_BUCKETS];

static void
window_add(struct window *w, uint64_t from, uint64_t to)
{
	uint64_t id, end, part;
	size_t i;

	if (to <= from)
		return;
	atomic_fetch_add(&w->total, to - from);
	while (from < to) {
		id = from / SLOT_NS;
		end = (id + 1) * SLOT_NS;
		part = (to < end ? to : end) - from;
		i = id % GIL_WINDOW_SLOTS;
		if (atomic_load(&w->slot_id[i]) != id) {
			atomic_store(&w->slot[i], 0);
			atomic_store(&w->slot_id[i], id);
		}
		atomic_fetch_add(&w->slot[i], part);
		from += part;
	}
}

/* Time in the last `span` ns, counting `open_since` as still going. */
static double
window_share(struct window *w, uint64_t now, uint64_t span,
    uint64_t open_since)
{
	uint64_t sum = 0, id, first, last = now / SLOT_NS, from;
	size_t i;

	if (span > now - start_ns)
		span = now - start_ns;
	if (span == 0)
		return 0;
	first = (now - span) / SLOT_NS;
	for (id = first; id <= last; id++) {
		i = id % GIL_WINDOW_SLOTS;
		if (atomic_load(&w->slot_id[i]) == id)
			sum += atomic_load(&w->slot[i]);
	}
	if (open_since != 0) {
		from = open_since > now - span ? open_since : now - span;
		sum += now - from;
	}
	return sum > span ? 1.0 : (double)sum / (double)span;
}

static GW_SHARED _Atomic uint64_t wait_max, hold_max;	/* ns */
static GW_SHARED _Atomic uint64_t wait_sum, hold_sum;	/* ns, of the histograms */

static void
hist_add(_Atomic uint64_t *hist, uint64_t ns)
{
	atomic_fetch_add(&hist[hist_bucket(ns)], 1);
}

static void
publish_addresses(void)
{
	atomic_store(&g_mutex, rt.gil_mutex);
	atomic_store(&g_cond, rt.gil_cond);
	atomic_store(&g_switch_cond, rt.gil_switch_cond);
	atomic_store(&g_switch_mutex, rt.gil_switch_mutex);
	atomic_store(&g_gil, rt.gil);
}

void
gil_init(void)
{
	start_ns = now_ns();
	if (py_detect(&rt) == -1) {
		snprintf(why_not, sizeof why_not, "%s", rt.why_not);
		/* Most processes are not Python: say nothing for those. */
		if (rt.major != 0)
			msg_say("%s; lock tracking goes on without the "
			    "Python parts", rt.why_not);
		return;
	}
	snprintf(version, sizeof version, "%s", rt.version);
	if (rt.partial[0] != '\0')
		msg_say("%s", rt.partial);
	py_acquire_fn = dlsym(RTLD_DEFAULT, "PyThread_acquire_lock_timed");
	if (rt.off != NULL && rt.off->pk_addr > 0)
		park_fn = dlsym(RTLD_DEFAULT, "_PyParkingLot_Park");
	event_fn[0] = dlsym(RTLD_DEFAULT, "PyEvent_Wait");
	event_fn[1] = dlsym(RTLD_DEFAULT, "PyEvent_WaitTimed");
	if (rt.free_threaded) {
		/* Frames, names and thread states are read all the same.
		 * Its GIL is off unless turned back on: it is followed, and
		 * the reports say "no GIL" unless it was (gil_summary). */
		snprintf(why_not, sizeof why_not, "CPython %s, "
		    "free-threaded build: no GIL", version);
		*(void **)&py_tstate_current = dlsym(RTLD_DEFAULT,
		    "PyThreadState_GetUnchecked");
		gil_own_by_call = py_tstate_current != NULL;
		readable = 1;
		if (py_gil_locate(&rt) == -1 || rt.gil_mutex == 0)
			return;
	} else if (py_gil_locate(&rt) == -1 || rt.gil_mutex == 0) {
		snprintf(why_not, sizeof why_not, "CPython %s: the GIL could "
		    "not be located (%.60s)", version, rt.why_not);
		msg_say("%s; lock tracking goes on without the GIL", why_not);
		return;
	}
	present = readable = 1;
	if (!rt.free_threaded)
		py_own_fast_init(rt.off, &gil_own_fast);
	/* Reserved now: threads that end together must share one table. */
	departed = pages_map(GIL_DEPARTED_MAX * sizeof *departed);
	blame_init(&rt);
	publish_addresses();
}

const struct py_runtime *
gil_runtime(void)
{
	return rt.off != NULL ? &rt : NULL;
}

int
gil_is_mutex(uintptr_t addr)
{
	return addr == atomic_load_explicit(&g_mutex, memory_order_relaxed);
}

int
gil_is_internal_mutex(uintptr_t addr)
{
	return addr == atomic_load_explicit(&g_mutex, memory_order_relaxed) ||
	    addr == atomic_load_explicit(&g_switch_mutex,
	    memory_order_relaxed);
}

int
gil_is_cond(uintptr_t addr)
{
	return addr == atomic_load_explicit(&g_cond, memory_order_relaxed);
}

int
gil_is_switch_cond(uintptr_t addr)
{
	return addr == atomic_load_explicit(&g_switch_cond,
	    memory_order_relaxed);
}

#define SITE_CACHE	8
#define PY_LOCK_SITES	16

/* Return addresses known to be, or not to be, in one function. */
struct site_cache {
	atomic_uintptr_t	yes[SITE_CACHE], no[SITE_CACHE];
	atomic_uint		next;
};

static struct site_cache acquire_sites, park_sites, event_sites[2];
/* Found after start-up, when Python makes its lock types: shared, for
 * the monitor's deadlock scan (gil_add_python_lock_site). */
static GW_SHARED _Atomic uintptr_t py_lock_site[PY_LOCK_SITES];
static GW_SHARED atomic_int npy_lock_sites;

/* Is site inside fn?  dladdr once per site, while the cache keeps it. */
static int
site_in(struct site_cache *c, uintptr_t site, void *fn)
{
	Dl_info di;
	int i, yes;

	for (i = 0; i < SITE_CACHE; i++) {
		if (atomic_load_explicit(&c->yes[i], memory_order_relaxed) ==
		    site)
			return 1;
		if (atomic_load_explicit(&c->no[i], memory_order_relaxed) ==
		    site)
			return 0;
	}
	yes = dladdr((void *)site, &di) != 0 && di.dli_saddr == fn;
	i = (int)(atomic_fetch_add(&c->next, 1) % SITE_CACHE);
	atomic_store(yes ? &c->yes[i] : &c->no[i], site);
	return yes;
}

void
gil_add_python_lock_site(uintptr_t site)
{
	int n = atomic_load(&npy_lock_sites);

	/* From the thread that wraps the lock types, one at a time. */
	if (n < PY_LOCK_SITES) {
		atomic_store(&py_lock_site[n], site);
		atomic_store(&npy_lock_sites, n + 1);
	}
}

int
gil_is_python_lock_call(uintptr_t site)
{
	int i, n;

	n = atomic_load_explicit(&npy_lock_sites, memory_order_acquire);
	for (i = 0; i < n; i++)
		if (site == atomic_load_explicit(&py_lock_site[i],
		    memory_order_relaxed))
			return 1;
	return py_acquire_fn != NULL && site_in(&acquire_sites, site,
	    py_acquire_fn);
}

atomic_uintptr_t gil_py_sem_take[2];

int
gil_is_python_sem_take(uintptr_t site)
{
	uintptr_t seen;
	int i, saved = errno, in;

	if (gil_python_sem_take_known(site))
		return 1;
	/* dladdr's, once per site: the hooks keep errno (track.h). */
	in = py_acquire_fn != NULL && site_in(&acquire_sites, site,
	    py_acquire_fn);
	errno = saved;
	if (!in)
		return 0;
	for (i = 0; i < 2; i++) {
		seen = 0;
		if (atomic_compare_exchange_strong(&gil_py_sem_take[i],
		    &seen, site) || seen == site)
			break;
	}
	return 1;
}

/*
 * The parking lot's wait_entry holds the semaphore pk_addr bytes after
 * addr, the word parked on; the raw mutexes' waiters (the parking lot's
 * own bucket locks) sleep on semaphores of another struct, so the wait
 * must come from _PyParkingLot_Park.  Frames: this function's caller
 * (the hook), the hook's caller _PySemaphore_Wait, then the park, then
 * the mutex code (_PyMutex_LockTimed), then the call that wanted it.
 */
#define PARK_FRAMES	8

uintptr_t
gil_parked_mutex(const void *sem, uintptr_t *site)
{
	struct stack st;
	uintptr_t m;
	int i, k;

	if (park_fn == NULL || rt.off->pk_addr <= 0)
		return 0;
	stack_capture(&st, 0);
	for (i = 0; i < st.depth && i < PARK_FRAMES; i++)
		if (site_in(&park_sites, st.ip[i], park_fn))
			break;
	if (i + 2 >= st.depth || i >= PARK_FRAMES)
		return 0;
	/* An event's wait: its word reads as locked once the event is set
	 * (a join, a stop-the-world), which it may be by now. */
	for (k = 0; k < 2; k++)
		if (event_fn[k] != NULL &&
		    site_in(&event_sites[k], st.ip[i + 1], event_fn[k]))
			return 0;
	/* The entry is on this thread's stack; the word parked on lives
	 * while a thread parks on it. */
	m = *(const uintptr_t *)((uintptr_t)sem - (uintptr_t)rt.off->pk_addr);
	if (m == 0 || (atomic_load_explicit((const _Atomic uint8_t *)m,
	    memory_order_relaxed) & 1) == 0)
		return 0;	/* not a lock held: an event, a once flag */
	*site = st.ip[i + 2];
	return m;
}

/*
 * The calling thread's own thread state, whose frames only it moves:
 * without a GIL its current one, which lives while it runs; else the
 * GIL's last holder while t holds it, kept in t when it took the GIL
 * (gil_acquired: one load here, where every Python lock taken asks).
 * 0: none.
 */
static inline uintptr_t
own_tstate(struct thread *t)
{
	if (py_tstate_current != NULL)
		return (uintptr_t)py_tstate_current();
	if (atomic_load_explicit(&t->gil_state, memory_order_relaxed) !=
	    GIL_HOLDING)
		return 0;
	return atomic_load_explicit(&t->py_ts, memory_order_relaxed);
}

int
gil_own_sites(struct thread *t, struct py_site *out, int max)
{
	uintptr_t ts = own_tstate(t);

	/* t is the caller: its pthread_t is kept, no call for it. */
	return ts == 0 ? -1 : py_own_sites(&rt, ts, (unsigned long)t->self,
	    out, max);
}

int
gil_own_site(struct thread *t, struct py_site *site)
{
	uintptr_t ts = own_tstate(t);

	return ts == 0 ? -1 : py_own_site(&rt, ts, (unsigned long)t->self,
	    site);
}

/*
 * Threading did not start a process's main thread (py_tstate_name).
 * The program's: in the monitor, getpid() is the monitor's own.
 */
static int
main_thread(struct thread *t)
{
	return atomic_load(&t->tid) == monitor_program();
}

/* Whether t runs to a deadline now: in a JACK period, or real-time. */
static int
on_deadline(struct thread *t)
{
	int prio;

	return t->rt_cycle != NULL || rt_is_realtime(rt_policy(0, &prio));
}

/* Called by t holding the GIL, at a marker, when t->pyname_next is due. */
static void
name_refresh(struct thread *t, uint64_t now)
{
	char buf[THREAD_PYNAME_MAX];
	uintptr_t gil = atomic_load(&g_gil), ts;
	struct py_site site;
	uint64_t wait;
	unsigned k;

	if (gil_own_site(t, &site) == -1)
		return;
	/*
	 * A thread on a deadline keeps the name it has once its first
	 * tries are over (a thread turns real-time after it starts, named
	 * by then): a read is 20 to 80 system calls, 0.2-0.8 ms on a VM,
	 * which a JACK client's process callback paid once a second.
	 */
	if ((t->pyname[0] != '\0' || t->pyname_fails >= NAME_QUICK) &&
	    on_deadline(t)) {
		t->pyname_next = UINT64_MAX;
		return;
	}
	/* The GIL struct lives as long as the interpreter: plain load. */
	ts = *(const uintptr_t *)(gil + (uintptr_t)rt.off->gil_last_holder);
	if (py_tstate_name(&rt, ts, (unsigned long)pthread_self(),
	    main_thread(t), buf, sizeof buf) > 0) {
		thread_set_pyname(t, buf);
		t->pyname_fails = 0;
		t->pyname_next = now + NAME_REFRESH_NS;
		return;
	}
	if (++t->pyname_fails <= NAME_QUICK)
		return;
	k = t->pyname_fails - NAME_QUICK;
	wait = k >= 10 ? NAME_REFRESH_NS : NAME_BACKOFF_NS << k;
	t->pyname_next = now + (wait < NAME_REFRESH_NS ? wait :
	    NAME_REFRESH_NS);
}

int
gil_thread_tstate(struct thread *t, uintptr_t *ts)
{
	unsigned long id;

	if (!readable)
		return -1;
	*ts = atomic_load_explicit(&t->py_ts, memory_order_relaxed);
	if (*ts != 0 && py_read_ulong(*ts + (uintptr_t)rt.off->ts_thread_id,
	    &id) == 0 && id == (unsigned long)t->self)
		return 0;
	return py_thread_tstate(&rt, (unsigned long)t->self, 0, ts);
}

int
gil_thread_frames(struct thread *t, struct py_frame *out, int max)
{
	uintptr_t ts = 0;

	if (gil_thread_tstate(t, &ts) == -1)
		return -1;
	return py_tstate_frames(&rt, ts, out, max);
}

/*
 * Does t, in Condition.wait, wait for a notify?  Up to 3.13 the waiter
 * lock is a semaphore the thread took itself, and it waits on that one
 * (not on the Condition's lock, taken back after); so on 3.14+ when the
 * Python lock hooks are in (hook-pylock.c), which make a wait for a
 * Python lock one on that lock.  Without them 3.14's locks are
 * PyMutexes: a blocked acquire parks on a semaphore of the thread's own,
 * which nobody else holds, whichever lock it is; it waits for a notify
 * unless a thread parks on the Condition's lock (when that thread may
 * be t, taking it back: then no claim is made).
 */
static int
notify_blocked(struct thread *t, const struct waitinfo *w,
    const struct py_wait *pw)
{
	pid_t owner;

	if (w->kind != GW_LOCK_SEM || w->rec == NULL)
		return 0;
	owner = atomic_load(&w->rec->owner);
	if (rt.off->lock_sem >= 0 || gil_is_python_lock_call(w->site))
		return owner == atomic_load(&t->tid);
	return (owner == 0 || owner == atomic_load(&t->tid)) &&
	    !pw->lock_parked;
}

int
gil_thread_wait(struct thread *t, const struct waitinfo *w,
    const struct py_frame *f, int n, struct py_wait *pw)
{
	if (!readable || py_thread_wait(&rt, (unsigned long)t->self, f, n,
	    pw) == -1)
		return -1;
	if (pw->kind == PY_WAIT_NOTIFY && !notify_blocked(t, w, pw)) {
		memset(pw, 0, sizeof *pw);
		return -1;
	}
	return 0;
}

int
gil_thread_py_state(struct thread *t)
{
	uintptr_t ts = 0;

	if (!rt.free_threaded || gil_thread_tstate(t, &ts) == -1)
		return PY_TS_UNKNOWN;
	return py_tstate_state(&rt, ts);
}

int
gil_thread_critical_sections(struct thread *t, struct py_cs *out, int max,
    int *more)
{
	uintptr_t ts = 0;

	if (!rt.free_threaded || gil_thread_tstate(t, &ts) == -1)
		return -1;
	return py_tstate_critical_sections(&rt, ts, out, max, more);
}

int
gil_stop_the_world(struct py_stw *st)
{
	return rt.free_threaded ? py_stop_the_world(&rt, st) : -1;
}

int
gil_thread_name(struct thread *t, char *buf, size_t len)
{
	uintptr_t ts;

	if (len == 0 || gil_thread_tstate(t, &ts) == -1)
		return -1;
	return py_tstate_name(&rt, ts, (unsigned long)t->self,
	    main_thread(t), buf, len) > 0 ? 0 : -1;
}

struct thread *
gil_holder_thread(void)
{
	return atomic_load(&holder);
}

uintptr_t
gil_address(void)
{
	return atomic_load(&g_gil);
}

int
gil_in_use(void)
{
	return present && (!rt.free_threaded || py_gil_on(&rt) == 1);
}

int
gil_mutex_locking(struct thread *t, uintptr_t site)
{
	uint64_t now;

	if (atomic_load(&t->gil_state) != GIL_NONE)
		return 0;	/* the holder, in drop_gil */
	now = now_ns();
	atomic_store(&t->gil_since, now);
	atomic_store(&t->gil_state, GIL_WAITING);
	if (atomic_fetch_add(&nwaiting, 1) == 0)
		atomic_store(&contended_since, now);
	if (atomic_load(&holder) != NULL)
		return GIL_WAIT_NOW;
	t->gil_wait_later = 1;
	t->gil_wait_site = site;
	return GIL_WAIT_LATER;
}

int
gil_acquired(struct thread *t, struct gil_waited *w)
{
	uint64_t now = now_ns(), since;
	int how = GIL_TOOK;

	if (atomic_load(&t->gil_state) == GIL_HOLDING)
		return 0;
	if (atomic_load(&t->gil_state) == GIL_WAITING) {
		since = atomic_load(&t->gil_since);
		atomic_fetch_add(&t->gil_wait, now - since);
		hist_add(hist_wait, now - since);
		atomic_fetch_add(&wait_sum, now - since);
		hist_add(t->gil_wait_hist, now - since);
		raise_max(&t->gil_wait_max, now - since);
		raise_max(&wait_max, now - since);
		w->ns = now - since;
		w->holder = 0;
		w->site = -1;
		if (t->gil_slept)
			blame_wait_end(t, since, now, &w->holder, &w->site);
		if (trace_on)
			trace_gil(t, TRACE_GIL_WAIT, since, now, w->holder,
			    w->site);
		if (atomic_fetch_sub(&nwaiting, 1) == 1)
			window_add(&contended_w, atomic_load(&contended_since),
			    now);
		how |= GIL_WAITED | (t->gil_slept ? GIL_SLEPT : 0) |
		    (t->gil_wait_later ? GIL_UNPUBLISHED : 0);
		t->gil_slept = 0;
		t->gil_wait_later = 0;
	}
	/* Set by take_gil before this marker; the struct outlives us.
	 * Before the state: a holder always has its own (own_tstate). */
	atomic_store_explicit(&t->py_ts, *(const uintptr_t *)(atomic_load(
	    &g_gil) + (uintptr_t)rt.off->gil_last_holder),
	    memory_order_relaxed);
	atomic_store(&t->gil_since, now);
	atomic_store(&t->gil_state, GIL_HOLDING);
	atomic_fetch_add(&t->gil_acquired, 1);
	atomic_store(&holder_since, now);
	atomic_store(&holder, t);
	atomic_fetch_add(&switches, 1);
	return how;
}

void
gil_took_name(struct thread *t)
{
	uint64_t now = atomic_load(&t->gil_since);

	if (now >= t->pyname_next)
		name_refresh(t, now);
}

/*
 * t, the holder, lets the GIL go while others wait: blame its line, and
 * charge its stack in the profile for the time it kept them waiting.
 * Before t's GIL state changes: its frames are read as the holder's.
 * Returns that line for the trace (blame_site_of), or -1.
 */
static int
hold_blamed(struct thread *t, uint64_t since, uint64_t now, int asked)
{
	struct py_site ps[PROFILE_DEPTH + 1];
	const struct py_site *at;
	uint64_t ns;
	int site;

	at = gil_own_site(t, ps) == 0 ? ps : NULL;
	ns = blame_hold_end(t, at, since, now, atomic_load(&contended_since),
	    asked);
	site = trace_on ? blame_site_of(at) : -1;
	if (ns != 0 && profile_on)
		profile_hold(ps, gil_own_sites(t, ps, PROFILE_DEPTH + 1), ns);
	return site;
}

int
gil_released(struct thread *t)
{
	uint64_t now, since;
	int asked, contended, site = -1;

	if (atomic_load(&t->gil_state) != GIL_HOLDING)
		return 0;
	now = now_ns();
	/* Still the holder: drop_gil holds gil->mutex, nobody can take it. */
	if (now >= t->pyname_next)
		name_refresh(t, now);
	since = atomic_load(&t->gil_since);
	asked = atomic_exchange(&drop_asked, 0);
	/* Nothing wants the holder's line: no frame is read. */
	if ((contended = atomic_load(&nwaiting) > 0) &&
	    (blame_on || trace_on || profile_on))
		site = hold_blamed(t, since, now, asked);
	if (trace_on)
		trace_gil(t, TRACE_GIL_HOLD, since, now, contended, site);
	atomic_fetch_add(&t->gil_hold, now - since);
	hist_add(hist_hold, now - since);
	atomic_fetch_add(&hold_sum, now - since);
	raise_max(&hold_max, now - since);
	window_add(&held_w, since, now);
	atomic_store(&t->gil_since, now);
	atomic_store(&t->gil_state, GIL_NONE);
	if (atomic_load(&holder) == t)
		atomic_store(&holder, NULL);
	return 1;
}

int
gil_sleeping(struct thread *t)
{
	t->gil_slept = 1;
	if (!t->gil_wait_later)
		return 0;
	t->gil_wait_later = 0;
	return 1;
}

void
gil_wait_timed_out(struct thread *t)
{
	atomic_fetch_add(&forced, 1);
	atomic_store(&drop_asked, 1);
}

static GW_SHARED atomic_uint ndeparted;

/* Keep t's numbers: it took the GIL and is going away. */
static void
depart(struct thread *t)
{
	struct gil_departed *d;
	unsigned i, k;

	if (departed == NULL)
		return;
	i = atomic_fetch_add(&ndeparted, 1);
	if (i >= GIL_DEPARTED_MAX) {
		atomic_store(&ndeparted, GIL_DEPARTED_MAX);
		i = GIL_DEPARTED_MAX - 1;
		departed[i].tid = 0;
		snprintf(departed[i].name, sizeof departed[i].name, "others");
	} else {
		/* t is the calling thread (its TLS destructor): its comm
		 * is one prctl, where /proc is an open, a read, a close. */
		char comm[TASKFILE_COMM_MAX];

		taskfile_own_comm(comm);
		departed[i].tid = atomic_load(&t->tid);
		thread_name_told(t, comm, departed[i].name,
		    sizeof departed[i].name);
	}
	d = &departed[i];
	d->hold += atomic_load(&t->gil_hold);
	d->wait += atomic_load(&t->gil_wait);
	d->acquired += atomic_load(&t->gil_acquired);
	if (atomic_load(&t->gil_wait_max) > d->wait_max)
		d->wait_max = atomic_load(&t->gil_wait_max);
	for (k = 0; k < HIST_BUCKETS; k++)
		d->hist[k] += atomic_load(&t->gil_wait_hist[k]);
	d->rt_policy = t->end_policy;	/* thread_exit's, just read */
	d->rt_priority = t->end_prio;
}

const struct gil_departed *
gil_departed(unsigned idx)
{
	return departed != NULL && idx < atomic_load(&ndeparted) ?
	    &departed[idx] : NULL;
}

/* A thread that ends while waiting or holding (finalisation). */
int
gil_thread_exit(struct thread *t)
{
	int released = 0;

	if (atomic_load(&t->gil_state) == GIL_HOLDING)
		released = gil_released(t);
	else if (atomic_load(&t->gil_state) == GIL_WAITING &&
	    atomic_fetch_sub(&nwaiting, 1) == 1)
		window_add(&contended_w, atomic_load(&contended_since),
		    now_ns());
	atomic_store(&t->gil_state, GIL_NONE);
	if (atomic_load(&t->gil_acquired) > 0)
		depart(t);
	return released;
}

void
gil_summary(struct gil_summary *s)
{
	struct thread *h = atomic_load(&holder);
	struct py_gil_state st;
	uint64_t now = now_ns(), hs = 0, cs = 0, all;

	memset(s, 0, sizeof *s);
	s->present = gil_in_use();
	s->free_threaded = rt.free_threaded && readable;
	snprintf(s->version, sizeof s->version, "%s", version);
	snprintf(s->why_not, sizeof s->why_not, "%s",
	    why_not[0] ? why_not : "no CPython in this process");
	if (!s->present)
		return;
	if (h != NULL) {
		s->holder = atomic_load(&h->tid);
		s->holder_since = atomic_load(&holder_since);
		hs = s->holder_since;
	}
	s->waiting = atomic_load(&nwaiting);
	if (s->waiting > 0)
		cs = atomic_load(&contended_since);
	s->switches = atomic_load(&switches);
	s->forced = atomic_load(&forced);
	s->load_1s = window_share(&held_w, now, 1000000000ull, hs);
	s->load_10s = window_share(&held_w, now, 10000000000ull, hs);
	s->contention_1s = window_share(&contended_w, now, 1000000000ull, cs);
	s->contention_10s = window_share(&contended_w, now, 10000000000ull,
	    cs);
	all = now - start_ns;
	if (all > 0) {
		s->load_all = (double)(atomic_load(&held_w.total) +
		    (hs ? now - hs : 0)) / (double)all;
		s->contention_all = (double)(atomic_load(&contended_w.total) +
		    (cs ? now - cs : 0)) / (double)all;
	}
	if (py_gil_read(&rt, &st) == 0)
		s->interval_us = st.interval;
}

void
gil_thread_totals(struct thread *t, uint64_t *hold, uint64_t *wait)
{
	int state = atomic_load(&t->gil_state);
	uint64_t since = atomic_load(&t->gil_since), now = now_ns();

	*hold = atomic_load(&t->gil_hold);
	*wait = atomic_load(&t->gil_wait);
	if (state == GIL_HOLDING && now > since)
		*hold += now - since;
	else if (state == GIL_WAITING && now > since)
		*wait += now - since;
}

void
gil_histograms(uint64_t wait[HIST_BUCKETS], uint64_t hold[HIST_BUCKETS],
    uint64_t *wmax, uint64_t *hmax)
{
	unsigned i;

	for (i = 0; i < HIST_BUCKETS; i++) {
		wait[i] = atomic_load(&hist_wait[i]);
		hold[i] = atomic_load(&hist_hold[i]);
	}
	*wmax = atomic_load(&wait_max);
	*hmax = atomic_load(&hold_max);
}

void
gil_hist_sums(uint64_t *wsum, uint64_t *hsum)
{
	*wsum = atomic_load(&wait_sum);
	*hsum = atomic_load(&hold_sum);
}

uint64_t
gil_hold_max_ns(void)
{
	return atomic_load(&hold_max);
}

uint64_t
gil_uptime_ns(void)
{
	return now_ns() - start_ns;
}

static void
thread_zero(struct thread *t, uint64_t now)
{
	atomic_store(&t->gil_hold, 0);
	atomic_store(&t->gil_wait, 0);
	atomic_store(&t->gil_acquired, 0);
	atomic_store(&t->gil_wait_max, 0);
	memset(t->gil_wait_hist, 0, sizeof t->gil_wait_hist);
	if (atomic_load(&t->gil_state) != GIL_NONE)
		atomic_store(&t->gil_since, now);
}

/* Process-wide numbers back to zero, as if tracking started now. */
static void
global_zero(uint64_t now)
{
	start_ns = now;
	atomic_store(&switches, 0);
	atomic_store(&forced, 0);
	memset(&held_w, 0, sizeof held_w);
	memset(&contended_w, 0, sizeof contended_w);
	memset(hist_wait, 0, sizeof hist_wait);
	memset(hist_hold, 0, sizeof hist_hold);
	atomic_store(&wait_max, 0);
	atomic_store(&hold_max, 0);
	atomic_store(&wait_sum, 0);
	atomic_store(&hold_sum, 0);
	atomic_store(&drop_asked, 0);
	blame_reset();
	profile_reset();
	if (atomic_load(&holder) != NULL)
		atomic_store(&holder_since, now);
	if (atomic_load(&nwaiting) > 0)
		atomic_store(&contended_since, now);
}

void
gil_reset(void)
{
	struct thread *t;
	uint64_t now = now_ns();

	global_zero(now);
	atomic_store(&ndeparted, 0);
	if (departed != NULL)
		memset(departed, 0, GIL_DEPARTED_MAX * sizeof *departed);
	for (t = thread_first(); t != NULL; t = t->next)
		if (atomic_load(&t->in_use))
			thread_zero(t, now);
}

void
gil_after_fork_child(void)
{
	struct thread *self = thread_peek();
	uint64_t now = now_ns();

	/* Only the forking thread survives; it may hold the GIL. */
	atomic_store(&nwaiting, 0);
	if (atomic_load(&holder) != self)
		atomic_store(&holder, NULL);
	global_zero(now);
	if (self != NULL)
		thread_zero(self, now);
}
