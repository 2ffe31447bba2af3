/*
 * Finding CPython in a process: which version, which offsets, where
 * the GIL is.  The symbols come from the dynamic linker in our own
 * process (py_detect) or from the ELF files another maps (py-attach.c);
 * everything after that is one path.  Nothing is guessed: an unknown version, a debug or a
 * free-threaded build, or a layout that fails a check is refused with a
 * reason in why_not.
 */
#include <dlfcn.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "py.h"
#include "py-offsets.h"

#define NTABLE	(sizeof(py_offsets_table) / sizeof(py_offsets_table[0]))
#define OFF_MAX	(1 << 20)	/* a larger offset from _Py_DebugOffsets
				   is not believed */

/*
 * The entry in use, as adjusted by _Py_DebugOffsets.  One process has
 * one interpreter runtime and the readers read one process at a time
 * (mem.h), so one copy; rt->off points here.
 */
static struct py_offsets detected;

/*
 * The head of _Py_DebugOffsets at offset 0 of _PyRuntime (3.13+), the
 * same in 3.13 and 3.14: a cookie, the version, the free-threading flag.
 */
struct debug_head {
	char		cookie[8];
	uint64_t	version;
	uint64_t	free_threaded;
};

/*
 * _Py_DebugOffsets as CPython 3.13 lays it out: all uint64_t, groups in
 * this order.  Only read when the cookie matches and its version field
 * says 3.13.  3.14 added fields inside the groups: there only the head
 * is read, for the free-threading flag, and the generated table (the
 * same headers' facts, measured) stands alone; py_gil_locate's checks
 * still test it against the live runtime.
 */
struct debug_offsets_313 {
	struct debug_head head;
	struct {
		uint64_t size, finalizing, interpreters_head;
	} runtime;
	struct {
		uint64_t size, id, next, threads_head, gc, imports_modules,
		    sysdict, builtins, ceval_gil, gil_runtime_state,
		    gil_enabled, gil_locked, gil_holder;
	} interp;
	struct {
		uint64_t size, prev, next, interp, current_frame, thread_id,
		    native_thread_id, datastack_chunk, status;
	} thread;
	struct {
		uint64_t size, previous, executable, instr_ptr, localsplus,
		    owner;
	} frame;
	struct {
		uint64_t size, filename, name, qualname, linetable,
		    firstlineno, argcount, localsplusnames, localspluskinds,
		    co_code_adaptive;
	} code;
	struct {
		uint64_t size, ob_type;
	} object;
	uint64_t	type_object[4], tuple[3], list[3], dict[3], float_[2],
			long_[3];
	struct {
		uint64_t size, ob_size, ob_sval;
	} bytes;
	struct {
		uint64_t size, state, length, asciiobject_size;
	} unicode;
	uint64_t	gc[2];
};

_Static_assert(sizeof(struct debug_offsets_313) == 584,
    "_Py_DebugOffsets of 3.13 is 73 uint64_t");

/* Say why not and forget the offsets and the GIL: nothing is guessed. */
static void
refuse(struct py_runtime *rt, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(rt->why_not, sizeof(rt->why_not), fmt, ap);
	va_end(ap);
	rt->off = NULL;
	rt->gil = rt->gil_mutex = rt->gil_cond = 0;
	rt->gil_switch_mutex = rt->gil_switch_cond = 0;
	rt->gil_confirmed = 0;
}

/* Symbols of this process, for py_detect. */
static uintptr_t
self_sym(const char *name, void *arg)
{
	(void)arg;
	return (uintptr_t)dlsym(RTLD_DEFAULT, name);
}

/*
 * Before 3.11 there is only Py_GetVersion(): it formats PY_VERSION and
 * two static strings with PyOS_snprintf into a static buffer and calls
 * nothing else (checked in the 3.8-3.10 builds' machine code), so it
 * needs neither the GIL nor any lock; concurrent callers write the same
 * bytes.
 */
static int
self_version(struct py_runtime *rt, void *arg)
{
	const char *(*getversion)(void);
	const char *s;

	(void)arg;
	*(void **)&getversion = dlsym(RTLD_DEFAULT, "Py_GetVersion");
	if (getversion == NULL || (s = getversion()) == NULL)
		return -1;
	if (sscanf(s, "%d.%d.%d", &rt->major, &rt->minor, &rt->micro) != 3)
		return -1;
	return 0;
}

/*
 * The running version.  Py_Version (3.11+) is a constant we can read;
 * before it, the way in (lk->version) says.
 */
static int
version_of(struct py_runtime *rt, const struct py_lookup *lk)
{
	uintptr_t p;
	unsigned long hex;

	if ((p = lk->sym("Py_Version", lk->arg)) != 0) {
		if (py_read_ulong(p, &hex) == -1)
			return -1;
		rt->major = (int)(hex >> 24 & 0xff);
		rt->minor = (int)(hex >> 16 & 0xff);
		rt->micro = (int)(hex >> 8 & 0xff);
		return 0;
	}
	if (lk->version(rt, lk->arg) == -1)
		return -1;
	/* Without Py_Version this must be older than 3.11. */
	return rt->major == 3 && rt->minor >= 11 ? -1 : 0;
}

/* Built for debugging: reference-count debugging symbols exist. */
static int
debug_build(const struct py_lookup *lk)
{
	return lk->sym("_Py_RefTotal", lk->arg) != 0 ||
	    lk->sym("_Py_GetGlobalRefTotal", lk->arg) != 0 ||
	    lk->sym("_Py_NegativeRefcount", lk->arg) != 0;
}

static const struct py_offsets *
offsets_find(int major, int minor, int micro)
{
	const struct py_offsets *best = NULL;

	for (size_t i = 0; i < NTABLE; i++) {
		const struct py_offsets *t = &py_offsets_table[i];

		if (t->major == major && t->minor == minor &&
		    (best == NULL || t->micro <= micro))
			best = t;
	}
	return best;
}

/* Take v into *field when it is believable; count the changes. */
static void
take(int *field, uint64_t v, int *changed)
{
	if (v >= OFF_MAX || (int)v == *field)
		return;
	*field = (int)v;
	(*changed)++;
}

/*
 * 3.13+: the interpreter states its own layout.  On 3.13, prefer it
 * where it overlaps with the table; what it does not give (GIL
 * condition variables, bit positions, owner values, the line table
 * format) stays from the table.  Returns 0, or -1 for a free-threaded
 * build.
 */
static int
debug_offsets(struct py_runtime *rt, struct py_offsets *o)
{
	struct debug_offsets_313 d;
	unsigned long want;
	int changed = 0;

	if (py_read(rt->runtime, &d.head, sizeof(d.head)) == -1 ||
	    memcmp(d.head.cookie, "xdebugpy", 8) != 0)
		return 0;
	want = (unsigned long)rt->major << 24 | (unsigned long)rt->minor << 16;
	if ((d.head.version & 0xffff0000UL) != want)
		return 0;
	if (d.head.free_threaded) {
		rt->free_threaded = 1;
		return -1;
	}
	if (rt->minor != 13 || py_read(rt->runtime, &d, sizeof(d)) == -1)
		return 0;
	take(&o->rt_interp_head, d.runtime.interpreters_head, &changed);
	take(&o->rt_finalizing, d.runtime.finalizing, &changed);
	take(&o->is_next, d.interp.next, &changed);
	take(&o->is_threads_head, d.interp.threads_head, &changed);
	take(&o->is_ceval_gil, d.interp.ceval_gil, &changed);
	take(&o->is_gil, d.interp.gil_runtime_state, &changed);
	if (d.interp.gil_locked >= d.interp.gil_runtime_state &&
	    d.interp.gil_holder >= d.interp.gil_runtime_state) {
		take(&o->gil_locked, d.interp.gil_locked -
		    d.interp.gil_runtime_state, &changed);
		take(&o->gil_last_holder, d.interp.gil_holder -
		    d.interp.gil_runtime_state, &changed);
	}
	take(&o->ts_next, d.thread.next, &changed);
	take(&o->ts_interp, d.thread.interp, &changed);
	take(&o->ts_current_frame, d.thread.current_frame, &changed);
	take(&o->ts_thread_id, d.thread.thread_id, &changed);
	take(&o->ts_native_thread_id, d.thread.native_thread_id, &changed);
	take(&o->ts_status, d.thread.status, &changed);
	take(&o->fr_back, d.frame.previous, &changed);
	take(&o->fr_code, d.frame.executable, &changed);
	take(&o->fr_instr, d.frame.instr_ptr, &changed);
	take(&o->fr_owner, d.frame.owner, &changed);
	take(&o->co_filename, d.code.filename, &changed);
	take(&o->co_name, d.code.name, &changed);
	take(&o->co_qualname, d.code.qualname, &changed);
	take(&o->co_lines, d.code.linetable, &changed);
	take(&o->co_firstlineno, d.code.firstlineno, &changed);
	take(&o->co_code_adaptive, d.code.co_code_adaptive, &changed);
	take(&o->ob_type, d.object.ob_type, &changed);
	take(&o->ob_size, d.bytes.ob_size, &changed);
	take(&o->bytes_sval, d.bytes.ob_sval, &changed);
	take(&o->u_state, d.unicode.state, &changed);
	take(&o->u_length, d.unicode.length, &changed);
	take(&o->u_ascii_size, d.unicode.asciiobject_size, &changed);
	rt->debug_offsets = changed ? 2 : 1;
	return 0;
}

int
py_detect_with(struct py_runtime *rt, const struct py_lookup *lk)
{
	const struct py_offsets *t;

	memset(rt, 0, sizeof(*rt));
	if ((rt->runtime = lk->sym("_PyRuntime", lk->arg)) == 0) {
		refuse(rt, "no CPython in this process");
		return -1;
	}
	if (version_of(rt, lk) == -1) {
		refuse(rt, "CPython of unknown version");
		return -1;
	}
	if (rt->major != 3 || (t = offsets_find(rt->major, rt->minor,
	    rt->micro)) == NULL) {
		refuse(rt, "CPython %d.%d.%d is not supported (3.8-3.14 are)",
		    rt->major, rt->minor, rt->micro);
		return -1;
	}
	if (debug_build(lk)) {
		refuse(rt, "CPython %d.%d.%d is a debug build: not supported",
		    rt->major, rt->minor, rt->micro);
		return -1;
	}
	detected = *t;
	if (rt->minor >= 13 && debug_offsets(rt, &detected) == -1) {
		refuse(rt, "CPython %d.%d.%d is free-threaded: no GIL, not "
		    "supported", rt->major, rt->minor, rt->micro);
		return -1;
	}
	rt->off = &detected;
	rt->type_code = lk->sym("PyCode_Type", lk->arg);
	rt->type_unicode = lk->sym("PyUnicode_Type", lk->arg);
	rt->type_bytes = lk->sym("PyBytes_Type", lk->arg);
	rt->type_frame = lk->sym("PyFrame_Type", lk->arg);
	rt->type_dict = lk->sym("PyDict_Type", lk->arg);
	rt->type_long = lk->sym("PyLong_Type", lk->arg);
	rt->type_module = lk->sym("PyModule_Type", lk->arg);
	rt->type_cfunction = lk->sym("PyCFunction_Type", lk->arg);
	return py_gil_locate(rt) == -1 ? -1 : 0;
}

int
py_detect(struct py_runtime *rt)
{
	static const struct py_lookup self = { self_sym, self_version, NULL };

	return py_detect_with(rt, &self);
}

/* Does interp look like an interpreter state with a thread list? */
static int
interp_sane(const struct py_offsets *o, uintptr_t interp)
{
	uintptr_t ts, back;

	if (py_read_ptr(interp + (uintptr_t)o->is_threads_head, &ts) == -1)
		return 0;
	if (ts == 0)
		return 1;
	return py_read_ptr(ts + (uintptr_t)o->ts_interp, &back) == 0 &&
	    back == interp;
}

static void
gil_set(struct py_runtime *rt, uintptr_t gil)
{
	const struct py_offsets *o = rt->off;

	rt->gil = gil;
	rt->gil_mutex = gil + (uintptr_t)o->gil_mutex;
	rt->gil_cond = gil + (uintptr_t)o->gil_cond;
	rt->gil_switch_mutex = gil + (uintptr_t)o->gil_switch_mutex;
	rt->gil_switch_cond = gil + (uintptr_t)o->gil_switch_cond;
}

int
py_gil_locate(struct py_runtime *rt)
{
	const struct py_offsets *o = rt->off;
	uintptr_t head, main, gil = 0;
	int locked;

	if (o == NULL)
		return -1;
	if (py_read_ptr(rt->runtime + (uintptr_t)o->rt_interp_head,
	    &head) == -1 || py_read_ptr(rt->runtime +
	    (uintptr_t)o->rt_interp_main, &main) == -1) {
		refuse(rt, "_PyRuntime is unreadable");
		return -1;
	}
	if (o->rt_gil >= 0)
		gil = rt->runtime + (uintptr_t)o->rt_gil;
	else if (main != 0 && py_read_ptr(main + (uintptr_t)o->is_ceval_gil,
	    &gil) == -1) {
		refuse(rt, "the main interpreter is unreadable");
		return -1;
	}
	/*
	 * 3.12+ before the main interpreter has its GIL: the main
	 * interpreter always lives in _PyRuntime and always owns its GIL,
	 * so we know where the GIL will be.
	 */
	if (gil == 0)
		gil = rt->runtime + (uintptr_t)o->rt_main_interp +
		    (uintptr_t)o->is_gil;
	gil_set(rt, gil);
	rt->gil_confirmed = 0;
	if (head == 0 || main == 0)
		return 0;	/* not initialised yet: nothing to check */

	/* Initialised: the layout must hold together. */
	if (!interp_sane(o, head) || !interp_sane(o, main)) {
		refuse(rt, "CPython %d.%d: thread lists fail the check",
		    rt->major, rt->minor);
		return -1;
	}
	if (py_read_int(gil + (uintptr_t)o->gil_locked, &locked) == -1 ||
	    locked < -1 || locked > 1) {
		refuse(rt, "CPython %d.%d: GIL fails the check", rt->major,
		    rt->minor);
		return -1;
	}
	rt->gil_confirmed = 1;
	return 1;
}

pid_t
py_pthread_tid(const struct py_runtime *rt, unsigned long thread_id)
{
	int tid;

	if (rt->pthread_tid <= 0 || thread_id == 0 ||
	    py_read_int(thread_id + (uintptr_t)rt->pthread_tid, &tid) == -1 ||
	    tid <= 0)
		return 0;
	return (pid_t)tid;
}

int
py_gil_read(const struct py_runtime *rt, struct py_gil_state *st)
{
	const struct py_offsets *o = rt->off;
	unsigned long id;
	uintptr_t g = rt->gil;

	memset(st, 0, sizeof(*st));
	if (o == NULL || g == 0)
		return -1;
	if (py_read_int(g + (uintptr_t)o->gil_locked, &st->locked) == -1 ||
	    py_read_ulong(g + (uintptr_t)o->gil_switch_number,
	    &st->switch_number) == -1 ||
	    py_read_ulong(g + (uintptr_t)o->gil_interval, &st->interval) ==
	    -1 || py_read_ptr(g + (uintptr_t)o->gil_last_holder,
	    &st->last_holder) == -1)
		return -1;
	if (st->last_holder == 0)
		return 0;
	/* The holder may be gone by now: its fields are best effort. */
	if (py_read_ulong(st->last_holder + (uintptr_t)o->ts_thread_id,
	    &st->holder_thread_id) == -1)
		st->holder_thread_id = 0;
	if (o->ts_native_thread_id >= 0 && py_read_ulong(st->last_holder +
	    (uintptr_t)o->ts_native_thread_id, &id) == 0)
		st->holder_tid = (pid_t)id;
	else if (o->ts_native_thread_id < 0)
		st->holder_tid = py_pthread_tid(rt, st->holder_thread_id);
	return 0;
}

int
py_gil_waits(const struct py_runtime *rt, uintptr_t addr)
{
	/* glibc x86-64: pthread_mutex_t is 40 bytes, pthread_cond_t 48. */
	return rt->gil != 0 && ((addr >= rt->gil_mutex &&
	    addr < rt->gil_mutex + 40) || (addr >= rt->gil_cond &&
	    addr < rt->gil_cond + 48));
}
