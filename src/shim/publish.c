/*
 * Publication for `gilwatch top`: see publish.h.  The helper thread
 * writes a frame every GILWATCH_PUBLISH_MS into <runtime dir>/<pid>.shm
 * (include/gilwatch/shm.h): the process, the GIL, every thread, then
 * the lock sections (publish-locks.c) and the names they mention
 * (publish-syms.c).  It writes straight into the file's mapping and
 * allocates only when the process gains threads.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "config.h"
#include "deadlock.h"
#include "gil.h"
#include "py.h"
#include "ipc.h"
#include "lock.h"
#include "msg.h"
#include "opts.h"
#include "publish-int.h"
#include "procstat.h"
#include "publish.h"
#include "loopstall.h"
#include "rtbudget.h"
#include "rtcycle.h"
#include "shm-read.h"
#include "monitor.h"

#define PUBLISH_INTERVAL_MS	100	/* GILWATCH_PUBLISH_MS; 0: off */
#define PUBLISH_MAX_MS		60000
#define PUBLISH_IDLE_MS		1000	/* when off: the helper's own pace */
#define PUBLISH_COPY_TRIES	100	/* of a record changing under us */

_Static_assert(GIL_NONE == GW_SHM_GIL_NONE &&
    GIL_WAITING == GW_SHM_GIL_WAITING && GIL_HOLDING == GW_SHM_GIL_HOLDING,
    "gil_state is published as it is kept");

static struct {
	struct shm_writer w;
	int		 on;
	int		 interval_ms;
	uint64_t	 next_ns;
	uint64_t	 updates;
	pid_t		 pid;		/* whose file w is */
	atomic_int	 stopped;
	int		 trunc_said;
	int		 watched;	/* a viewer asked: name addresses */
} pub = { .w = { .fd = -1 } };

static uint64_t
clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/*
 * GILWATCH_PUBLISH_MS from the environment the process started with
 * (/proc/PID/environ): getenv could race with the program's setenv, and
 * the helper may be the monitor process.
 */
static int
interval_ms(void)
{
	static const char var[] = "GILWATCH_PUBLISH_MS=";
	const char *errstr;
	char *line = NULL;
	size_t size = 0;
	long long v = PUBLISH_INTERVAL_MS;
	char path[64];
	FILE *fp;

	snprintf(path, sizeof path, "/proc/%d/environ", (int)monitor_program());
	if ((fp = fopen(path, "re")) == NULL)
		return PUBLISH_INTERVAL_MS;
	while (getdelim(&line, &size, '\0', fp) != -1) {
		if (strncmp(line, var, sizeof var - 1) != 0 ||
		    line[sizeof var - 1] == '\0')
			continue;
		v = opts_number(line + sizeof var - 1, 0, PUBLISH_MAX_MS,
		    &errstr);
		if (errstr != NULL) {
			msg_say("GILWATCH_PUBLISH_MS=%.20s is %s; using the "
			    "default", line + sizeof var - 1, errstr);
			v = PUBLISH_INTERVAL_MS;
		}
	}
	free(line);
	fclose(fp);
	return (int)v;
}

/* The command line on one line: a line break in an argument too. */
static void
read_command(char *buf, size_t len)
{
	char *p;

	if (procstat_cmdline(monitor_program(), buf, len) == -1) {
		buf[0] = '\0';
		return;
	}
	for (p = buf; *p != '\0'; p++)
		if (*p == '\n' || *p == '\t')
			*p = ' ';
}

/* When the process started, from its /proc start time. */
static void
read_start(struct shm_proc *p)
{
	char state;

	p->start_real_ns = 0;
	if (shm_proc_start(monitor_program(), &state, &p->start_ticks) == 0)
		p->start_real_ns = procstat_start_real_ns(p->start_ticks);
	if (p->start_real_ns == 0)
		p->start_real_ns = clock_ns(CLOCK_REALTIME);
}

/* Create the file in the first runtime directory that takes it. */
static int
open_file(const struct shm_proc *p)
{
	char dir[IPC_PATH_MAX], path[IPC_PATH_MAX + 32];
	int which, err = ENOENT;

	for (which = 0; which < 2; which++) {
		if (ipc_dir(which, 1, dir, sizeof dir) == -1) {
			if (errno != ENOENT)
				err = errno;
			continue;
		}
		snprintf(path, sizeof path, "%s/%d%s", dir, (int)p->pid,
		    GW_SHM_SUFFIX);
		if (shm_writer_open(&pub.w, path, p,
		    thread_count() * 2) == 0)
			return 0;
		err = errno;
	}
	errno = err;
	return -1;
}

static void publish_frame(int syms);

void
publish_start(void)
{
	struct shm_proc p;
	char command[GW_SHM_COMMAND_LEN];

	/* The helper back from a fork (dump_fork_prepare): same file. */
	if (pub.pid == monitor_program() && !atomic_load(&pub.stopped))
		return;
	if (pub.pid != 0 && pub.pid != monitor_program()) {
		/* A fork child: the file and the caches are the parent's. */
		shm_writer_forget(&pub.w);
		pubsym_reset();
	}
	pub.on = 0;
	pub.updates = 0;
	pub.watched = 0;
	pub.pid = monitor_program();
	atomic_store(&pub.stopped, 0);
	if ((pub.interval_ms = interval_ms()) == 0)
		return;
	memset(&p, 0, sizeof p);
	p.pid = pub.pid;
	p.interval_ms = (uint32_t)pub.interval_ms;
	p.loop_stall_ms = (uint32_t)config.loop_stall_ms;
	read_command(command, sizeof command);
	p.command = command;
	read_start(&p);
	if (open_file(&p) == -1) {
		msg_note("cannot publish for gilwatch top: %s", strerror(errno));
		return;
	}
	pub.on = 1;
	/* At once: a viewer can attach as soon as the process runs. */
	publish_frame(0);
}

int
publish_update(void)
{
	uint64_t now;

	if (!pub.on || atomic_load(&pub.stopped))
		return PUBLISH_IDLE_MS;
	now = now_ns();
	if (now < pub.next_ns)
		return (int)((pub.next_ns - now + 999999) / 1000000);
	publish_frame(pub.watched ? SYMS_BUDGET : 0);
	return pub.interval_ms;
}

int
publish_watched(void)
{
	return pub.watched;
}

void
publish_watch(void)
{
	pub.watched = 1;
	if (pub.on && !atomic_load(&pub.stopped))
		publish_frame(SYMS_WATCH_BUDGET);
}

void
publish_stop(void)
{
	atomic_store(&pub.stopped, 1);
	if (pub.on && pub.pid == monitor_program())
		shm_writer_stop(&pub.w, 1);
}

void
publish_reset(void)
{
	struct lockrec *rec = NULL;

	while ((rec = lock_next(rec)) != NULL)
		stats_reset(&rec->stat);
	gil_reset();
	rt_reset();
	rt_cycle_reset();
}

/* What one thread's record said, copied while nobody changed it. */
struct copy {
	int		 state;
	uint64_t	 since_ns;
	uint32_t	 nheld;
	struct held	 held[GW_SHM_HELD];
	struct waitinfo	 wait;
	unsigned	 wait_gen;	/* t->wait_gen of that wait */
	struct stack	 stack;
	int		 have_stack;
};

static int
copy_thread(struct thread *t, struct copy *c)
{
	unsigned s1, s2, g1, g2;
	uint32_t n, i;
	int tries, st2;

	for (tries = 0; tries < PUBLISH_COPY_TRIES; tries++) {
		s1 = atomic_load_explicit(&t->seq, memory_order_acquire);
		if (s1 & 1)
			continue;
		g1 = atomic_load(&t->wait_gen);
		c->state = atomic_load(&t->state);
		c->since_ns = t->since_ns;
		n = t->nheld;
		if (n > t->cap)
			continue;
		/* The GIL is in gil_state, not among the locks. */
		for (i = c->nheld = 0; i < n; i++) {
			if (t->held[i].kind == GW_LOCK_GIL)
				continue;
			if (c->nheld < GW_SHM_HELD)
				c->held[c->nheld] = t->held[i];
			c->nheld++;
		}
		c->wait = t->wait;
		/* The block stack is current only while the wait lasts. */
		c->have_stack = c->state != GW_STATE_RUNNING &&
		    c->state != GW_STATE_EXITED;
		if (c->have_stack)
			c->stack = t->block_stack;
		atomic_thread_fence(memory_order_acquire);
		st2 = atomic_load(&t->state);
		s2 = atomic_load_explicit(&t->seq, memory_order_relaxed);
		g2 = atomic_load(&t->wait_gen);
		c->wait_gen = g1;
		if (s1 == s2 && g1 == g2 && (!c->have_stack ||
		    st2 != GW_STATE_RUNNING))
			return 0;
	}
	return -1;
}

/* The threads holding what t waits for (and where they took it). */
static void
fill_owners(struct thread *t, const struct copy *c,
    struct gw_shm_thread *r)
{
	struct wf_edge e;
	struct thread *u = NULL;
	int k, owner;

	if (c->state == GW_STATE_WAITING)
		return;		/* a condition variable: nobody holds it */
	if (!c->wait.timed) {
		for (k = 0; deadlock_edge(NULL, t, k, &e); k++) {
			if (k == GW_SHM_OWNERS) {
				r->flags |= GW_SHM_T_MORE_OWNERS;
				break;
			}
			r->owners[k] = atomic_load(&((struct thread *)
			    e.to)->tid);
			r->owner_sites[k] = e.site;
			pubsym_want(e.site, 0);
			r->nowners++;
		}
		return;
	}
	if (c->wait.kind == GW_LOCK_THREAD)
		u = thread_by_pthread(c->wait.target);
	else if (c->wait.rec != NULL && c->wait.kind != GW_LOCK_RWLOCK &&
	    (owner = atomic_load(&c->wait.rec->owner)) != 0)
		u = thread_by_tid_hint(owner,
		    atomic_load(&c->wait.rec->owner_thread));
	if (u == NULL)
		return;
	r->owners[0] = atomic_load(&u->tid);
	r->nowners = 1;
}

/*
 * The stack captured when the wait began, when the shim captured one
 * (semaphore waits), else the wait's call site alone: either way the
 * first frame is the program's, which is what a table row shows.
 */
static void
fill_frames(const struct copy *c, struct gw_shm_thread *r)
{
	int i;

	if (!c->have_stack)
		return;
	for (i = 0; i < c->stack.depth && i < STACK_MAX_FRAMES; i++) {
		if (pubsym_is_self(c->stack.ip[i]))
			continue;
		if (r->nframes == GW_SHM_FRAMES) {
			r->flags |= GW_SHM_T_FRAMES_TRUNC;
			break;
		}
		r->frames[r->nframes++] = c->stack.ip[i];
		pubsym_want(c->stack.ip[i], 0);
	}
	if (c->stack.truncated)
		r->flags |= GW_SHM_T_FRAMES_TRUNC;
	if (r->nframes == 0 && c->wait.site != 0) {
		r->frames[r->nframes++] = c->wait.site;
		r->flags |= GW_SHM_T_SITE_ONLY;
		pubsym_want(c->wait.site, 0);
	}
}

/* gil.c keeps its times in now_ns() nanoseconds, like since_ns. */
static void
fill_gil(struct thread *t, struct gw_shm_thread *r, uint64_t now)
{
	uint64_t hold, wait, since;

	r->gil_state = (uint8_t)atomic_load(&t->gil_state);
	since = atomic_load(&t->gil_since);
	if (r->gil_state != GIL_NONE && now > since)
		r->gil_ns = now - since;
	gil_thread_totals(t, &hold, &wait);
	r->gil_hold_ns = hold;
	r->gil_wait_ns = wait;
	r->gil_acquired = atomic_load(&t->gil_acquired);
}

/*
 * Python frames cost some 10 us a thread to read, so each update reads
 * at most PY_TOP_BUDGET threads' top frame, taking turns; the others
 * keep what was read for them last time.  In the first turn of each
 * wait a blocked thread's frames are read a few deeper, to see what its
 * Python code waits on: Barrier waits through Condition.wait,
 * Condition.wait_for and Barrier._wait, and the frame after those is
 * the line that waits.
 */
#define PY_TOP_BUDGET	64
#define PY_WAIT_FRAMES	4

static unsigned py_turn, py_index, py_count;

/* Is the k-th thread of this update among the ones read this time? */
static int
py_due(unsigned k)
{
	if (py_count <= PY_TOP_BUDGET)
		return 1;
	return (k + py_count - py_turn % py_count) % py_count < PY_TOP_BUDGET;
}

/*
 * "Queue.get (queue.py:202)": the file's base name cut at 40, and the
 * function given the rest of the room, so a long name stays whole.
 */
static void
frame_text(const struct py_frame *pf, char *buf, size_t len)
{
	const char *file = strrchr(pf->file, '/');
	char tail[64];
	int n;

	n = snprintf(tail, sizeof tail, " (%.40s:%d)", file != NULL ?
	    file + 1 : pf->file, pf->line);
	n = (int)len - 1 - n;
	snprintf(buf, len, "%.*s%s", n > 0 ? n : 0, py_frame_name(pf), tail);
}

/*
 * What the blocked thread's Python code waits on, from its frames, into
 * t->py_wait for the wait in c, as dumps read it (gil_thread_wait); a
 * join names the thread joined.
 */
static void
read_wait(struct thread *t, const struct copy *c, const struct py_frame *pf,
    int n)
{
	struct gw_shm_pywait *pw = &t->py_wait;
	struct py_wait w;
	struct thread *u;

	memset(pw, 0, sizeof *pw);
	t->py_wait_joined = 0;
	t->py_wait_gen = c->wait_gen;
	if (n <= 0 || gil_thread_wait(t, &c->wait, pf, n, &w) == -1)
		return;
	/* The frames were read after the copy: still the same wait? */
	if (atomic_load(&t->wait_gen) != c->wait_gen ||
	    atomic_load(&t->state) != GW_STATE_BLOCKED)
		return;
	pw->kind = w.kind == PY_WAIT_NOTIFY ? GW_SHM_PYWAIT_NOTIFY :
	    GW_SHM_PYWAIT_JOIN;
	pw->object = w.object;
	snprintf(pw->type, sizeof pw->type, "%.31s", w.type);
	if (w.via != 0)
		snprintf(pw->via, sizeof pw->via, "%.31s.%.31s", w.via_type,
		    w.via_attr);
	frame_text(&pf[w.at], pw->at, sizeof pw->at);
	if (w.kind == PY_WAIT_JOIN && w.joined != 0 &&
	    (u = thread_by_pthread((pthread_t)w.joined)) != NULL)
		t->py_wait_joined = atomic_load(&u->tid);
}

/*
 * The top Python frame, and what a blocked thread's Python code waits
 * on.  c is the record's copy, NULL when none could be made.  The frame
 * is read in the thread's turn and kept until the next; the wait is
 * read in the first turn the wait is seen in and kept while that wait
 * lasts (a thread's frames do not move while it is blocked, and the
 * next wait may be on another object), so that a thread parked for
 * long costs one deeper read, not one a turn.  Nothing is read before
 * a viewer has come: nobody would see it, and a program with many
 * threads would pay for it all along.
 */
static void
fill_python(struct thread *t, const struct copy *c, struct gw_shm_thread *r)
{
	const struct py_runtime *rt = gil_runtime();
	struct py_frame pf[PY_WAIT_FRAMES];
	char name[64];
	unsigned k = py_index++;
	int n, blocked = c != NULL && c->state == GW_STATE_BLOCKED;
	int fresh = blocked && t->py_wait_gen != c->wait_gen;

	if (rt == NULL || !pub.watched)
		return;
	if (py_due(k)) {
		t->py_state = (uint8_t)gil_thread_py_state(t);
		/* No GIL to take there: no marker has read its name. */
		if (t->py_state != PY_TS_UNKNOWN && gil_thread_name(t, name,
		    sizeof name) == 0)
			snprintf(t->py_name, sizeof t->py_name, "%.*s",
			    (int)sizeof t->py_name - 1, name);
		else
			t->py_name[0] = '\0';
		t->py_top[0] = '\0';
		n = gil_thread_frames(t, pf, fresh ? PY_WAIT_FRAMES : 1);
		if (n >= 1 && !(pf[0].flags & PY_FRAME_INVALID))
			frame_text(&pf[0], t->py_top, sizeof t->py_top);
		if (fresh)
			read_wait(t, c, pf, n);
	}
	snprintf(r->py_frame, sizeof r->py_frame, "%s", t->py_top);
	r->py_state = t->py_state;
	if (t->py_name[0] != '\0')
		memcpy(r->name, t->py_name, sizeof r->name);
	if (c == NULL)
		return;
	if (!blocked)
		t->py_wait.kind = GW_SHM_PYWAIT_NONE;
	else if (t->py_wait_gen == c->wait_gen)
		r->py_wait = t->py_wait;
}

/*
 * The Python view of the wait in owners, as dumps give it: a notify has
 * none (the private lock's owner is the waiter itself); a join has the
 * thread joined when the lock names nobody: from 3.13 a join waits on a
 * semaphore of the interpreter's parking lot, which the deadlock scan
 * ties to the thread joined only once a second, and not for a join
 * with a timeout.
 */
static void
fill_py_owners(struct thread *t, struct gw_shm_thread *r)
{
	switch (r->py_wait.kind) {
	case GW_SHM_PYWAIT_NOTIFY:
		r->nowners = 0;
		r->flags &= (uint8_t)~GW_SHM_T_MORE_OWNERS;
		break;
	case GW_SHM_PYWAIT_JOIN:
		if (r->nowners == 0 && t->py_wait_joined != 0) {
			r->owners[0] = t->py_wait_joined;
			r->owner_sites[0] = 0;
			r->nowners = 1;
		}
		break;
	}
}

static void
fill_thread(struct thread *t, struct gw_shm_thread *r, uint64_t now,
    uint64_t ticks, double tpn)
{
	struct copy c;
	uint32_t i;

	memset(r, 0, sizeof *r);
	r->tid = atomic_load(&t->tid);
	pubsym_thread_name(t, r->tid, r->name);
	/* Two system calls: only for a viewer, who shows it. */
	r->sched_policy = pub.watched ? rt_policy(r->tid,
	    &r->sched_priority) : -1;
	fill_gil(t, r, now);
	r->loop_turn_ns = loopstall_turn_ns(t, now);
	if (pub.watched)
		publish_cs(t, r);
	if (copy_thread(t, &c) == -1) {
		fill_python(t, NULL, r);
		r->state = (uint8_t)atomic_load(&t->state);
		r->flags |= GW_SHM_T_UNSTABLE;
		return;
	}
	fill_python(t, &c, r);
	r->state = (uint8_t)c.state;
	r->state_ns = now > c.since_ns ? now - c.since_ns : 0;
	r->nheld = c.nheld;
	for (i = 0; i < c.nheld && i < GW_SHM_HELD; i++) {
		struct gw_shm_held *h = &r->held[i];

		h->addr = c.held[i].addr;
		h->site = c.held[i].site;
		h->count = c.held[i].count;
		h->kind = c.held[i].kind;
		h->mode = c.held[i].mode;
		h->py_type = publish_py_lock(h->addr, h->kind, NULL);
		if ((c.held[i].flags & HELD_TIMED) && ticks > c.held[i].t0)
			h->held_ns = publish_ns(ticks - c.held[i].t0, tpn);
		pubsym_want(h->site, 0);
		pubsym_want(h->addr, 1);
	}
	/* Condition.wait's private lock: the wait stands for it. */
	r->nheld += publish_sems_held(r->tid, r->py_wait.kind ==
	    GW_SHM_PYWAIT_NOTIFY ? c.wait.addr : 0, r->held + i,
	    i < GW_SHM_HELD ? GW_SHM_HELD - i : 0);
	if (c.state == GW_STATE_BLOCKED || c.state == GW_STATE_WAITING ||
	    c.state == GW_STATE_JOINING) {
		r->wait_addr = c.wait.addr;
		r->wait_kind = c.wait.kind;
		r->wait_mode = c.wait.mode;
		r->wait_timed = c.wait.timed;
		r->wait_py_type = publish_py_lock(c.wait.addr, c.wait.kind,
		    NULL);
		if (c.wait.kind != GW_LOCK_THREAD)
			pubsym_want(c.wait.addr, 1);
		fill_owners(t, &c, r);
		fill_py_owners(t, r);
	}
	fill_frames(&c, r);
}

static void
publish_threads(struct gw_shm_frame *f, uint64_t now, uint64_t ticks,
    double tpn)
{
	struct gw_shm_thread *out;
	struct thread *t;
	uint32_t n = 0, max = pub.w.cap_threads;
	size_t room;

	/* Whose Python frame is read this time: the next ones round. */
	py_count = py_index;
	py_turn = py_count > PY_TOP_BUDGET ? (py_turn + PY_TOP_BUDGET) %
	    py_count : 0;
	py_index = 0;
	out = shm_writer_room(&pub.w, &room);
	if (room / sizeof *out < max)
		max = (uint32_t)(room / sizeof *out);
	for (t = thread_first(); t != NULL; t = t->next) {
		if (!atomic_load(&t->in_use) || t->internal)
			continue;
		f->threads_total++;
		if (n == max) {
			f->flags |= GW_SHM_TRUNC_THREADS;
			continue;
		}
		fill_thread(t, &out[n++], now, ticks, tpn);
	}
	if (pub.watched)
		publish_ft(f, out, n);
	f->threads_off = shm_writer_claim(&pub.w, n * sizeof *out);
	f->nthreads = n;
}

static void
publish_gil(struct gw_shm_frame *f, uint64_t now)
{
	struct gil_summary s;
	struct gw_shm_gil *g = &f->gil;

	gil_summary(&s);
	g->present = (uint32_t)s.present;
	snprintf(g->version, sizeof g->version, "%s", s.version);
	snprintf(g->why_not, sizeof g->why_not, "%s", s.why_not);
	g->holder = s.holder;
	if (s.holder != 0 && now > s.holder_since)
		g->holder_ns = now - s.holder_since;
	g->waiting = s.waiting;
	g->switches = s.switches;
	g->forced = s.forced;
	g->interval_us = s.interval_us;
	g->load_1s = s.load_1s;
	g->load_10s = s.load_10s;
	g->load_all = s.load_all;
	g->contention_1s = s.contention_1s;
	g->contention_10s = s.contention_10s;
	g->contention_all = s.contention_all;
}

/* The room needed: threads now, and some to spare for new ones. */
static void
make_room(void)
{
	uint32_t n = thread_count();

	if (shm_writer_reserve(&pub.w, n + n / 4 + 8) == 0 || pub.trunc_said)
		return;
	pub.trunc_said = 1;
	msg_say("cannot grow the file for gilwatch top (%s): it shows %u of "
	    "%u threads", strerror(errno), pub.w.cap_threads, n);
}

static void
publish_frame(int syms)
{
	struct gw_shm_frame *f;
	uint64_t ticks, now;
	double tpn;

	make_room();
	/* Calibration may take a few ms in a young process: time after. */
	tpn = clock_ticks_per_ns();
	ticks = clock_ticks();
	now = now_ns();
	pubsym_round(now, syms);
	f = shm_writer_begin(&pub.w);
	f->updates = ++pub.updates;
	f->mono_ns = now;
	f->real_ns = clock_ns(CLOCK_REALTIME);
	if (monitor_is_me())
		f->flags |= GW_SHM_HELPER_APART;
	publish_gil(f, now);
	publish_locks_scan(f);
	publish_threads(f, now, ticks, tpn);
	f->rt_budget_ns = rt_budget_ns;
	f->rt_misses = rt_misses();
	if (pub.watched)
		publish_blame(&pub.w, f, now);
	publish_locks(&pub.w, f, tpn);
	publish_cycles(&pub.w, f);
	publish_orders(&pub.w, f);
	pubsym_emit(&pub.w, f);
	shm_writer_commit(&pub.w);
	pub.next_ns = now + (uint64_t)pub.interval_ms * 1000000u;
}
