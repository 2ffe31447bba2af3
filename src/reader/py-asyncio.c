/*
 * asyncio's tasks read from memory: see py-asyncio.h.
 *
 * A task is found in a list (struct llist_node task_node, threaded
 * through every TaskObj of a thread, its head in the thread state); its
 * coroutine (task_coro) is a PyCoroObject whose frame is inside it
 * (gi_iframe).  A coroutine suspended in `await x` is in state
 * FRAME_SUSPENDED_YIELD_FROM with x's iterator on top of its value
 * stack (what _PyGen_yf returns): when that is a coroutine too, it is
 * the next coroutine of the task's stack.  What the task as a whole
 * waits for is its fut_waiter, a future; who waits for a task is its
 * awaited_by, one object or a set of them.
 */
#include <gelf.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "grow.h"
#include "maps.h"
#include "mem.h"
#include "py-asyncio.h"

#define DBG_WORDS	13	/* uint64_t words of .AsyncioDebug */
#define OFF_MAX		(1 << 20)	/* a larger offset or size: garbage */
#define TASK_MAX	4096	/* bytes of a task read at once */
#define SET_MAX		(1L << 22)	/* slots of an awaited_by set */
#define SET_CHUNK	64	/* set entries read at once */
#define WORKER_FRAMES	64	/* frames looked at for an executor's
				   _WorkItem.run */

/* Measured fields (tools/gen-asyncio-offsets). */
static const struct measured {
	int	minor, ft;
	int	fut_state, task_fut_waiter, fut_callback0, func_closure;
} measured[] = {
#include "py-asyncio-offsets.h"
};

/*
 * Slots of _Py_DebugOffsets (uint64_t words from the start of
 * _PyRuntime, the cookie being slot 0) of the fields read here, by
 * minor, from that minor's pycore_debug_offsets.h.
 */
enum { S_FR_SP, S_SET_USED, S_SET_TABLE, S_SET_MASK, S_TUPLE_ITEM,
	S_LONG_TAG, S_LONG_DIGIT, S_GEN_SIZE, S_GI_IFRAME, S_GI_STATE,
	S_LLIST_NEXT, NSLOT };
static const struct {
	int		minor;
	unsigned char	slot[NSLOT];
	signed char	yield_from[2];	/* FRAME_SUSPENDED_YIELD_FROM and
					   (3.15) its _LOCKED variant */
	int		yf_depth;	/* the awaited iterator is at
					   stackpointer[-yf_depth]
					   (genobject.c: _PyGen_yf) */
} dslots[] = {
	{ 14, { 37, 63, 64, 65, 57, 72, 73, 83, 85, 86, 87 }, { -1, -1 },
	    1 },
	{ 15, { 45, 75, 76, 77, 69, 84, 85, 99, 101, 102, 103 }, { 2, 3 },
	    2 },
};

static int
word_offset(uint64_t v, int *out)
{
	if (v >= OFF_MAX)
		return -1;
	*out = (int)v;
	return 0;
}

/* The .AsyncioDebug section of the file mapped from start, its address
 * in the process: 0 when the file has none. */
static uintptr_t
section_in(const struct maps *m, const char *path, uintptr_t start)
{
	Elf *e;
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;
	size_t strndx;
	uintptr_t bias, at = 0;
	const char *name;
	int fd;

	if ((fd = maps_open(m, path)) == -1)
		return 0;
	if ((e = elf_begin(fd, ELF_C_READ_MMAP, NULL)) != NULL &&
	    elf_kind(e) == ELF_K_ELF && elf_getshdrstrndx(e, &strndx) == 0 &&
	    py_elf_bias(e, start, &bias) == 0) {
		while ((scn = elf_nextscn(e, scn)) != NULL) {
			if (gelf_getshdr(scn, &sh) == NULL || (name =
			    elf_strptr(e, strndx, sh.sh_name)) == NULL ||
			    strcmp(name, ".AsyncioDebug") != 0)
				continue;
			if (sh.sh_size >= DBG_WORDS * sizeof(uint64_t))
				at = bias + (uintptr_t)sh.sh_addr;
			break;
		}
	}
	if (e != NULL)
		elf_end(e);
	close(fd);
	return at;
}

/* Is this mapped file one that may hold the _asyncio module? */
static int
may_hold(const struct maps *m, const char *path)
{
	const char *base = maps_base(path);

	return strncmp(base, "_asyncio.", 9) == 0 ||
	    strncmp(base, "libpython3", 10) == 0 ||
	    (m->exe != NULL && strcmp(path, m->exe) == 0);
}

static int
take_section(struct py_asyncio *a, const uint64_t *w)
{
	int *const to[DBG_WORDS] = { &a->task_size, &a->task_name,
	    &a->task_awaited_by, &a->task_is_task,
	    &a->task_awaited_by_is_set, &a->task_coro, &a->task_node,
	    NULL, &a->is_tasks_head, NULL, &a->ts_running_loop,
	    &a->ts_running_task, &a->ts_tasks_head };

	for (int i = 0; i < DBG_WORDS; i++) {
		int dummy;

		if (word_offset(w[i], to[i] != NULL ? to[i] : &dummy) == -1)
			return -1;
	}
	/* Every task field inside the task, list heads inside their
	 * structures (sizes at words 7 and 9). */
	if (a->task_name >= a->task_size || a->task_coro >= a->task_size ||
	    a->task_node >= a->task_size || a->task_awaited_by >= a->task_size ||
	    a->task_is_task >= a->task_size ||
	    a->is_tasks_head >= (int)w[7] || a->ts_tasks_head >= (int)w[9] ||
	    a->ts_running_loop >= (int)w[9] || a->ts_running_task >= (int)w[9])
		return -1;
	return 0;
}

static int
take_debug(const struct py_runtime *rt, struct py_asyncio *a)
{
	int *const to[NSLOT] = { &a->fr_stackpointer, &a->set_used,
	    &a->set_table, &a->set_mask, &a->tuple_item, &a->long_tag,
	    &a->long_digit, &a->gen_size, &a->gi_iframe, &a->gi_frame_state,
	    &a->llist_next };
	size_t d, n = sizeof(dslots) / sizeof(dslots[0]);
	uint64_t v;

	for (d = 0; d < n && dslots[d].minor != rt->minor; d++)
		;
	if (d == n) {
		/* A newer minor: read in the newest layout, checked. */
		d = n - 1;
	}
	for (int i = 0; i < NSLOT; i++)
		if (py_read(rt->runtime + dslots[d].slot[i] * sizeof(uint64_t),
		    &v, sizeof(v)) == -1 || word_offset(v, to[i]) == -1)
			return -1;
	a->yield_from[0] = dslots[d].yield_from[0];
	a->yield_from[1] = dslots[d].yield_from[1];
	a->yf_depth = dslots[d].yf_depth;
	if (a->gi_iframe >= a->gen_size || a->gi_frame_state >= a->gen_size)
		return -1;
	return 0;
}

static void
take_measured(const struct py_runtime *rt, struct py_asyncio *a)
{
	a->fut_state = a->task_fut_waiter = a->fut_callback0 =
	    a->func_closure = -1;
	for (size_t i = 0; i < sizeof(measured) / sizeof(measured[0]); i++) {
		const struct measured *e = &measured[i];

		if (e->minor != rt->minor || e->ft != rt->free_threaded)
			continue;
		a->fut_state = e->fut_state;
		a->task_fut_waiter = e->task_fut_waiter;
		a->fut_callback0 = e->fut_callback0;
		a->func_closure = e->func_closure;
	}
}

int
py_asyncio_find(const struct py_runtime *rt, const struct maps *m,
    struct py_asyncio *a)
{
	uint64_t w[DBG_WORDS];

	memset(a, 0, sizeof(*a));
	if (rt->off == NULL || rt->major != 3 || rt->minor < 14) {
		snprintf(a->why, sizeof(a->why), "CPython %s has no asyncio "
		    "debug offsets (3.14+): only loops seen in frames",
		    rt->version);
		return -1;
	}
	elf_version(EV_CURRENT);
	/*
	 * Every mapping of a candidate file at offset 0 is tried: one may
	 * be a copy someone mapped to read the file (libelf's
	 * ELF_C_READ_MMAP does), whose section holds the file's bytes at
	 * the wrong place and fails the checks.
	 */
	for (size_t i = 0; i < m->n && a->task_size == 0; i++) {
		if (m->v[i].offset != 0 || !may_hold(m, m->v[i].path) ||
		    (a->section = section_in(m, m->v[i].path,
		    m->v[i].start)) == 0)
			continue;
		if (py_read(a->section, w, sizeof(w)) == -1 ||
		    take_section(a, w) == -1)
			a->task_size = 0;
	}
	if (a->section == 0) {
		snprintf(a->why, sizeof(a->why), "no .AsyncioDebug section "
		    "mapped: asyncio not imported");
		return -1;
	}
	if (a->task_size == 0 || take_debug(rt, a) == -1) {
		snprintf(a->why, sizeof(a->why), ".AsyncioDebug at %#lx or "
		    "the debug offsets fail a check: tasks not read",
		    (unsigned long)a->section);
		return -1;
	}
	take_measured(rt, a);
	if (a->task_fut_waiter < 0)
		snprintf(a->why, sizeof(a->why), "CPython %s%s: no measured "
		    "future layout (tools/gen-asyncio-offsets): what tasks "
		    "await and their states are not shown", rt->version,
		    rt->free_threaded ? "t" : "");
	a->ok = 1;
	return 0;
}

int
py_asyncio_thread(const struct py_runtime *rt, const struct py_asyncio *a,
    uintptr_t ts, struct py_aloop *l)
{
	memset(l, 0, sizeof(*l));
	l->tstate = ts;
	if (!a->ok || py_read_ptr(ts + (uintptr_t)a->ts_running_loop,
	    &l->loop) == -1 || py_read_ptr(ts +
	    (uintptr_t)a->ts_running_task, &l->running_task) == -1)
		return -1;
	(void)rt;
	return l->loop != 0;
}

/* The walk's buffers, reused task after task. */
struct walk {
	const struct py_runtime	*rt;
	const struct py_asyncio	*a;
	const struct py_athread	*threads;
	size_t			 nthreads;
	struct py_frame		 frames[PYA_CORO_MAX];
	uintptr_t		*by;
	size_t			 nby, by_cap;
	/* concurrent futures the threads are bound to, read once per
	 * walk: those their executor's worker runs, those they wait on */
	struct worker {
		uintptr_t	 cfuture;
		pid_t		 tid;
	}			*workers, *waiters;
	size_t			 nworkers, nwaiters;
	int			 workers_read;
};

static int
is_type(const struct py_runtime *rt, uintptr_t obj, const char *name)
{
	char t[PY_NAME_MAX];

	return obj != 0 && py_type_name(rt, obj, t, sizeof(t)) == 0 &&
	    strcmp(t, name) == 0;
}

/* A small int (a task's deferred name is its counter). */
static int
small_int(const struct py_asyncio *a, uintptr_t obj, unsigned long *v)
{
	uintptr_t tag;
	uint32_t d[2] = { 0, 0 };
	size_t nd;

	if (py_read_ptr(obj + (uintptr_t)a->long_tag, &tag) == -1)
		return -1;
	nd = tag >> 3;
	if (nd > 2 || (tag & 3) == 2 ||	/* negative */
	    (nd > 0 && py_read(obj + (uintptr_t)a->long_digit, d,
	    nd * sizeof(d[0])) == -1))
		return -1;
	*v = (unsigned long)d[0] | (unsigned long)d[1] << 30;
	return 0;
}

static void
task_name(struct walk *w, uintptr_t obj, char *buf, size_t size)
{
	unsigned long n;

	if (py_read_str(w->rt, obj, buf, size) >= 0)
		return;
	if (is_type(w->rt, obj, "int") && small_int(w->a, obj, &n) == 0)
		snprintf(buf, size, "Task-%lu", n);
	else
		snprintf(buf, size, "<invalid>");
}

/*
 * The coroutine stack of a task: from its coroutine down the chain of
 * coroutines each awaits, into w->frames innermost first.
 */
static int
coro_frames(struct walk *w, uintptr_t coro)
{
	const struct py_asyncio *a = w->a;
	struct py_frame chain[PYA_CORO_MAX];
	uintptr_t fp, sp, next;
	signed char state;
	int n = 0;

	while (coro != 0 && n < PYA_CORO_MAX) {
		if (!is_type(w->rt, coro, "coroutine"))
			break;
		fp = coro + (uintptr_t)a->gi_iframe;
		if (py_read(coro + (uintptr_t)a->gi_frame_state, &state, 1) ==
		    -1 || py_frame_at(w->rt, fp, &chain[n]) == -1) {
			chain[n++].flags |= PY_FRAME_INVALID;
			break;
		}
		n++;
		if (state != a->yield_from[0] && state != a->yield_from[1])
			break;
		if (py_read_ptr(fp + (uintptr_t)a->fr_stackpointer, &sp) ==
		    -1 || py_read_ptr(sp - (uintptr_t)a->yf_depth *
		    sizeof(uintptr_t), &next) == -1)
			break;
		coro = py_ref(w->rt->off, next);
	}
	for (int i = 0; i < n; i++)
		w->frames[i] = chain[n - 1 - i];
	return n;
}

static int
by_add(struct walk *w, uintptr_t v)
{
	uintptr_t *p;

	if ((p = grow(w->by, &w->by_cap, w->nby + 1, sizeof(*p), 16)) == NULL)
		return -1;
	w->by = p;
	w->by[w->nby++] = v;
	return 0;
}

/* awaited_by: one object, or a set of them. */
static void
awaited_by(struct walk *w, const unsigned char *t)
{
	const struct py_asyncio *a = w->a;
	uintptr_t by = py_ptr_at(t, a->task_awaited_by), table, e[2 *
	    SET_CHUNK];
	long mask;

	w->nby = 0;
	if (by == 0)
		return;
	if (!t[a->task_awaited_by_is_set]) {
		(void)by_add(w, by);
		return;
	}
	if (py_read(by + (uintptr_t)a->set_mask, &mask, sizeof(mask)) == -1 ||
	    py_read_ptr(by + (uintptr_t)a->set_table, &table) == -1 ||
	    mask < 0 || mask >= SET_MAX)
		return;
	for (long i = 0; i <= mask; i += SET_CHUNK) {
		long k = mask + 1 - i < SET_CHUNK ? mask + 1 - i : SET_CHUNK;

		if (py_read(table + (uintptr_t)i * 2 * sizeof(uintptr_t), e,
		    (size_t)k * 2 * sizeof(uintptr_t)) == -1)
			return;
		/* A setentry is a key and its hash; a deleted one keeps a
		 * dummy key with hash -1, which no object hashes to. */
		for (long j = 0; j < k; j++)
			if (e[2 * j] != 0 && (long)e[2 * j + 1] != -1 &&
			    by_add(w, e[2 * j]) == -1)
				return;
	}
}

/* Does a file name end in asyncio's (or concurrent.futures') module? */
static int
in_module(const struct py_frame *f, const char *tail)
{
	size_t n = strlen(f->file), k = strlen(tail);

	return n >= k && strcmp(f->file + n - k, tail) == 0;
}

/*
 * Is the thread whose frames are f[0..n-1] blocked in
 * concurrent.futures.Future.result, in the Condition.wait it calls
 * (threading.py) and nothing else: the future's self, else 0.
 */
static uintptr_t
result_wait(struct walk *w, const struct py_frame *f, int n)
{
	uintptr_t self;

	if (n < 2 || strcmp(py_frame_name(&f[0]), "Condition.wait") != 0 ||
	    !in_module(&f[0], "/threading.py") ||
	    strcmp(py_frame_name(&f[1]), "Future.result") != 0 ||
	    !in_module(&f[1], "concurrent/futures/_base.py") ||
	    py_frame_local(w->rt, f[1].frame, 0, &self) == -1 ||
	    !is_type(w->rt, self, "Future"))
		return 0;
	return self;
}

/*
 * The concurrent futures the threads are bound to, once per walk: a
 * worker of concurrent.futures' ThreadPoolExecutor runs
 * _WorkItem.run(self), and self.future is the concurrent future it
 * will complete (3.14's WorkerContext.run, above it, is not the one);
 * a thread blocked in Future.result waits for its self.
 */
static void
workers_read(struct walk *w)
{
	struct py_frame f[WORKER_FRAMES];
	uintptr_t self, cf;
	long hash = -1;
	int n;

	w->workers_read = 1;
	if ((w->workers = calloc(w->nthreads ? w->nthreads : 1,
	    sizeof(*w->workers))) == NULL || (w->waiters = calloc(w->nthreads ?
	    w->nthreads : 1, sizeof(*w->waiters))) == NULL)
		return;
	for (size_t i = 0; i < w->nthreads; i++) {
		n = py_tstate_frames(w->rt, w->threads[i].tstate, f,
		    WORKER_FRAMES);
		if ((cf = result_wait(w, f, n)) != 0) {
			w->waiters[w->nwaiters].cfuture = cf;
			w->waiters[w->nwaiters++].tid = w->threads[i].tid;
		}
		for (int j = 0; j < n; j++) {
			if (strcmp(py_frame_name(&f[j]), "_WorkItem.run") != 0 ||
			    !in_module(&f[j], "concurrent/futures/thread.py"))
				continue;
			if (py_frame_local(w->rt, f[j].frame, 0, &self) == 0 &&
			    py_attr_get(w->rt, self, "future", &hash,
			    &cf) == 0) {
				w->workers[w->nworkers].cfuture = cf;
				w->workers[w->nworkers++].tid =
				    w->threads[i].tid;
			}
			break;
		}
	}
}

/*
 * asyncio chains a future to a concurrent.futures one with a done
 * callback that is a closure over the other (futures.py: _chain_future):
 * an asyncio future made by run_in_executor (wrap_future) has as its
 * first done callback the closure that cancels the concurrent future
 * with it, and a task made by run_coroutine_threadsafe the closure that
 * sets the concurrent future's result from its own.  The concurrent
 * future (a concurrent.futures Future) in the cells of fn, the first
 * callback; 0 when there is none.
 */
static uintptr_t
chained_cfuture(struct walk *w, uintptr_t fn)
{
	const struct py_asyncio *a = w->a;
	uintptr_t cells, cell, v;
	long n;

	if (fn == 0 || a->func_closure < 0 || !is_type(w->rt, fn,
	    "function") || py_read_ptr(fn + (uintptr_t)a->func_closure,
	    &cells) == -1 || !is_type(w->rt, cells, "tuple") || py_read(cells +
	    (uintptr_t)w->rt->off->ob_size, &n, sizeof(n)) == -1 ||
	    n < 1 || n > 8)
		return 0;
	for (long i = 0; i < n; i++)
		if (py_read_ptr(cells + (uintptr_t)a->tuple_item +
		    (uintptr_t)i * sizeof(uintptr_t), &cell) == 0 &&
		    is_type(w->rt, cell, "cell") && py_read_ptr(cell +
		    (uintptr_t)w->rt->off->cell_ref, &v) == 0 &&
		    is_type(w->rt, v, "Future"))
			return v;
	return 0;
}

/* The concurrent future fut (an asyncio future) is chained to, or 0. */
static uintptr_t
executor_future(struct walk *w, uintptr_t fut)
{
	uintptr_t fn;

	if (w->a->fut_callback0 < 0 || py_read_ptr(fut +
	    (uintptr_t)w->a->fut_callback0, &fn) == -1)
		return 0;
	return chained_cfuture(w, fn);
}

/* What the task awaits, from its fut_waiter and innermost coroutine. */
static void
classify(struct walk *w, struct py_task *t)
{
	const struct py_frame *in = t->nframes > 0 ? &w->frames[0] : NULL;
	const struct py_asyncio *a = w->a;
	unsigned char is_task;

	if (a->task_fut_waiter < 0) {
		t->await_kind = PYA_AWAIT_UNKNOWN;
		return;
	}
	if (t->waiter == 0) {
		t->await_kind = PYA_AWAIT_NONE;
		return;
	}
	(void)py_type_name(w->rt, t->waiter, t->waiter_type,
	    sizeof(t->waiter_type));
	if (strcmp(t->waiter_type, "_asyncio.Task") == 0 &&
	    py_read(t->waiter + (uintptr_t)a->task_is_task, &is_task, 1) ==
	    0 && is_task == 1) {
		t->await_kind = PYA_AWAIT_TASK;
		t->await_task = t->waiter;
		return;
	}
	if (strcmp(t->waiter_type, "_GatheringFuture") == 0) {
		t->await_kind = PYA_AWAIT_GATHER;
		return;
	}
	t->await_kind = PYA_AWAIT_FUTURE;
	if (in != NULL && in_module(in, "asyncio/tasks.py") &&
	    strcmp(in->function, "sleep") == 0)
		t->await_kind = PYA_AWAIT_SLEEP;
	else if (in != NULL && in_module(in, "asyncio/locks.py"))
		t->await_kind = strcmp(py_frame_name(in), "Event.wait") == 0 ?
		    PYA_AWAIT_EVENT : PYA_AWAIT_LOCK;
	else if (in != NULL && in_module(in, "asyncio/queues.py"))
		t->await_kind = PYA_AWAIT_QUEUE;
	else if (in != NULL && in_module(in, "asyncio/taskgroups.py"))
		t->await_kind = PYA_AWAIT_GATHER;
	else if ((t->await_cfuture = executor_future(w, t->waiter)) != 0) {
		t->await_kind = PYA_AWAIT_EXECUTOR;
		if (!w->workers_read)
			workers_read(w);
		for (size_t i = 0; i < w->nworkers; i++)
			if (w->workers[i].cfuture == t->await_cfuture)
				t->await_tid = w->workers[i].tid;
	}
}

/* Read the task at addr into t (and w's buffers): 0, or -1 when it
 * fails a check (t is then PYA_INVALID, named "<invalid>"). */
static int
task_read(struct walk *w, uintptr_t addr, struct py_task *t)
{
	const struct py_asyncio *a = w->a;
	unsigned char b[TASK_MAX];
	size_t size = (size_t)a->task_size;

	memset(t, 0, sizeof(*t));
	t->task = addr;
	t->frames = w->frames;
	if (size > sizeof(b) || py_read(addr, b, size) == -1 ||
	    b[a->task_is_task] != 1) {
		snprintf(t->name, sizeof(t->name), "<invalid>");
		t->state = PYA_INVALID;
		return -1;
	}
	task_name(w, py_ptr_at(b, a->task_name), t->name, sizeof(t->name));
	t->state = PYA_UNKNOWN;
	if (a->fut_state >= 0 && (size_t)a->fut_state + 4 <= size) {
		int s = py_int_at(b, a->fut_state);

		t->state = s >= PYA_PENDING && s <= PYA_DONE ? s :
		    PYA_INVALID;
	}
	if (a->task_fut_waiter >= 0 && (size_t)a->task_fut_waiter +
	    sizeof(uintptr_t) <= size)
		t->waiter = py_ptr_at(b, a->task_fut_waiter);
	t->nframes = coro_frames(w, py_ptr_at(b, a->task_coro));
	awaited_by(w, b);
	t->awaited_by = w->by;
	t->nawaited_by = w->nby;
	classify(w, t);
	if (a->fut_callback0 >= 0 && (size_t)a->fut_callback0 +
	    sizeof(uintptr_t) <= size && (t->result_cfuture =
	    chained_cfuture(w, py_ptr_at(b, a->fut_callback0))) != 0) {
		if (!w->workers_read)
			workers_read(w);
		for (size_t i = 0; i < w->nwaiters && t->result_waiter == 0;
		    i++)
			if (w->waiters[i].cfuture == t->result_cfuture)
				t->result_waiter = w->waiters[i].tid;
	}
	return 0;
}

int
py_asyncio_tasks(const struct py_runtime *rt, const struct py_asyncio *a,
    uintptr_t ts, uintptr_t interp, const struct py_athread *threads,
    size_t nthreads, int (*fn)(const struct py_task *, void *), void *arg,
    const char **note)
{
	struct walk *w;
	struct py_task t;
	uintptr_t head, node, tortoise;
	size_t power = 1, lam = 1;
	int n = 0, stop = 0;

	*note = NULL;
	if (!a->ok)
		return -1;
	head = ts != 0 ? ts + (uintptr_t)a->ts_tasks_head : interp +
	    (uintptr_t)a->is_tasks_head;
	if (py_read_ptr(head + (uintptr_t)a->llist_next, &node) == -1)
		return -1;
	if ((w = calloc(1, sizeof(*w))) == NULL) {
		*note = "out of memory: tasks not read";
		return -1;
	}
	w->rt = rt;
	w->a = a;
	w->threads = threads;
	w->nthreads = nthreads;
	tortoise = head;
	while (node != head && node != 0 && !stop) {
		if (n == PYA_TASKS_MAX) {
			*note = "more tasks than " "1048576: the list was "
			    "cut there (a cycle in it?)";
			break;
		}
		if (node == tortoise) {
			*note = "the task list loops back on itself: cut";
			break;
		}
		/* Brent: move the tortoise to the hare now and then, so
		 * that a loop not through head is met within its length. */
		if (power == lam) {
			tortoise = node;
			power *= 2;
			lam = 0;
		}
		lam++;
		if (task_read(w, node - (uintptr_t)a->task_node, &t) == -1) {
			stop = fn(&t, arg);
			n++;
			*note = "a task failed a check: the list was cut there";
			break;
		}
		t.tstate = ts;
		stop = fn(&t, arg);
		n++;
		if (py_read_ptr(node + (uintptr_t)a->llist_next, &node) == -1) {
			*note = "a task's list node is unreadable: the list "
			    "was cut there";
			break;
		}
	}
	free(w->by);
	free(w->workers);
	free(w->waiters);
	free(w);
	return n;
}

/*
 * The frames of a thread running a loop, innermost first:
 *   ... the coroutine's frames ...
 *   Handle._run              asyncio/events.py (steps a task)
 *   BaseEventLoop._run_once  asyncio/base_events.py
 *   BaseEventLoop.run_forever
 * The task's own step (Task.__step) is C, no frame, from 3.8 on.
 */
int
py_asyncio_frames_loop(const struct py_frame *f, int n, int *coro,
    int *ncoro)
{
	int loop = -1, run = -1;

	*coro = *ncoro = 0;
	for (int i = 0; i < n; i++) {
		if (in_module(&f[i], "asyncio/base_events.py") &&
		    strcmp(f[i].function, "run_forever") == 0) {
			loop = i;
			break;
		}
		if (run < 0 && in_module(&f[i], "asyncio/events.py") &&
		    strcmp(f[i].function, "_run") == 0)
			run = i;
	}
	if (loop >= 0 && run > 0)
		*ncoro = run;
	return loop;
}
