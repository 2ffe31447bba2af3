/*
 * Finding CPython in a process: which version, which offsets, where
 * the GIL is.  The symbols come from the dynamic linker in our own
 * process (py_detect) or from the ELF files another maps (py-attach.c);
 * everything after that is one path.  Offsets come from the generated
 * table and, from 3.13, the interpreter's own _Py_DebugOffsets
 * (py-debug.c), which also carry a newer minor the table does not know.
 * A free-threaded build (3.13+, said by the debug offsets) has table
 * entries of its own: its objects have a bigger header, so every offset
 * past it differs.  Nothing else is guessed: an unknown version without
 * usable debug offsets, a debug build, a free-threaded build of a minor
 * with no free-threaded table, or a layout that fails a check is
 * refused with a reason in why_not.
 */
#include <dlfcn.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "py.h"
#include "py-offsets.h"

#define NTABLE	(sizeof(py_offsets_table) / sizeof(py_offsets_table[0]))

/*
 * The entry in use, as adjusted by _Py_DebugOffsets.  One process has
 * one interpreter runtime and the readers read one process at a time
 * (mem.h), so one copy; rt->off points here.
 */
static struct py_offsets detected;

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
	const char *level;
	uintptr_t p;
	unsigned long hex;

	if ((p = lk->sym("Py_Version", lk->arg)) != 0) {
		if (py_read_ulong(p, &hex) == -1)
			return -1;
		rt->major = (int)(hex >> 24 & 0xff);
		rt->minor = (int)(hex >> 16 & 0xff);
		rt->micro = (int)(hex >> 8 & 0xff);
		/* A pre-release says so in its low byte: level, serial. */
		level = (hex >> 4 & 0xf) == 0xa ? "a" : (hex >> 4 & 0xf) ==
		    0xb ? "b" : (hex >> 4 & 0xf) == 0xc ? "rc" : NULL;
		if (level != NULL)
			snprintf(rt->version, sizeof(rt->version),
			    "%d.%d.%d%s%d", rt->major, rt->minor, rt->micro,
			    level, (int)(hex & 0xf));
		else
			snprintf(rt->version, sizeof(rt->version),
			    "%d.%d.%d", rt->major, rt->minor, rt->micro);
		return 0;
	}
	if (lk->version(rt, lk->arg) == -1)
		return -1;
	snprintf(rt->version, sizeof(rt->version), "%d.%d.%d", rt->major,
	    rt->minor, rt->micro);
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

/* Tests: the minor whose table entry py_detect_with acts as if it had
 * not (py_detect_forget), 0: none. */
static int forgotten;

void
py_detect_forget(int minor)
{
	forgotten = minor;
}

/* The entry for a version and build (ft: free-threaded): the last of
 * its minor whose micro is <= its micro; or, with below, the newest of a
 * minor before it. */
static const struct py_offsets *
offsets_find(int major, int minor, int micro, int ft, int below)
{
	const struct py_offsets *best = NULL;

	for (size_t i = 0; i < NTABLE; i++) {
		const struct py_offsets *t = &py_offsets_table[i];

		if (t->major != major || t->minor == forgotten ||
		    t->free_threaded != ft)
			continue;
		if (below ? t->minor < minor && (best == NULL ||
		    t->minor >= best->minor) : t->minor == minor &&
		    (best == NULL || t->micro <= micro))
			best = t;
	}
	return best;
}

const struct py_offsets *
py_offsets_for(int major, int minor, int micro, int ft)
{
	return offsets_find(major, minor, micro, ft, 0);
}

/*
 * A version without a table of its own (a new minor), whose
 * _Py_DebugOffsets checked out: what they do not give comes from the
 * newest table before it, and the parts that rest on facts that move
 * between minors without the debug offsets saying are turned off.
 */
static void
untabled(struct py_runtime *rt, struct py_offsets *o,
    const struct py_offsets *base)
{
	/* holds_gil moved from a _status bit (3.13) to an int (3.14);
	 * only the debug offsets (3.15+) say where, when they do. */
	o->ts_status_holds_gil = -1;
	/* _thread.lock and RLock layouts, measured on live objects. */
	o->lock_sem = o->lock_locked = o->rlock_sem = o->rlock_owner = -1;
	o->rlock_count = o->rlock_locked = o->mx_parked = -1;
	/* Value stacks, for the locks `with` blocks hold. */
	o->co_stacksize = o->co_nlocalsplus = o->co_exceptiontable = -1;
	o->cf_ml = o->cf_self = o->ml_name = -1;
	o->md_type = o->md_method = o->pk_addr = -1;
	/* tstate->state moved between 3.14 and 3.15. */
	o->ts_state = -1;
	/* _co_firsttraceable has stayed 16 bytes before the bytecode
	 * (3.11-3.15), which the debug offsets place. */
	o->co_firsttraceable = base->co_firsttraceable +
	    o->co_code_adaptive - base->co_code_adaptive;
	/* 3.14 tagged frame slots (_PyStackRef); objects are 16-byte
	 * aligned, so masking the two low bits of a pointer costs nothing
	 * where a new minor has no tags. */
	o->fr_ref_tags |= 3;
	snprintf(rt->partial, sizeof(rt->partial), "CPython %s has no "
	    "table here: frames, thread names and the GIL from its "
	    "_Py_DebugOffsets (the rest as in 3.%d); off: Lock and RLock "
	    "holders, with-block holds, attached state", rt->version,
	    base->minor);
}

/*
 * 3.13+: take every offset the interpreter states itself over the
 * table's (or, without one, over the newest table before it).  0, or
 * -1 refused (why_not says why).
 */
static int
debug_offsets(struct py_runtime *rt, const struct py_offsets *t)
{
	const struct py_offsets *base = t;
	struct py_offsets d;
	char why[96] = "";
	int r;

	if (base == NULL && (base = offsets_find(rt->major, rt->minor,
	    rt->micro, rt->free_threaded, 1)) == NULL) {
		refuse(rt, "CPython %s%s is not supported (3.8-3.15 are%s)",
		    rt->version, rt->free_threaded ? " (free-threaded)" : "",
		    rt->free_threaded ? "; free-threaded: those measured, "
		    "3.13t, 3.14t and 3.15t" : "");
		return -1;
	}
	d = *base;
	if (t == NULL) {
		d.minor = rt->minor;
		d.micro = rt->micro;
		d.ts_holds_gil = -1;
	}
	r = py_debug_offsets(rt, &d, why, sizeof(why));
	if (r != 1 && t == NULL) {
		refuse(rt, "CPython %s is not supported (3.8-3.15 are)%s%s",
		    rt->version, why[0] ? ": " : "", why);
		return -1;
	}
	if (r != 1)
		return 0;	/* the table stands alone */
	/* The GIL's condition variables and mutexes come from the older
	 * table: only where its locked and holder words still are. */
	if (t == NULL && !rt->free_threaded && (d.gil_locked != base->gil_locked ||
	    d.gil_last_holder != base->gil_last_holder)) {
		refuse(rt, "CPython %s is not supported (3.8-3.15 are): its "
		    "GIL is laid out otherwise than 3.%d's", rt->version,
		    base->minor);
		return -1;
	}
	rt->debug_offsets = t == NULL ? 3 : memcmp(&d, t, sizeof(d)) ? 2 : 1;
	if (t == NULL)
		untabled(rt, &d, base);
	detected = d;
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
	if (rt->major == 3 && rt->minor >= 13)
		rt->free_threaded = py_debug_free_threaded(rt) == 1;
	t = rt->major == 3 ? offsets_find(rt->major, rt->minor, rt->micro,
	    rt->free_threaded, 0) : NULL;
	if (t == NULL && (rt->major != 3 || rt->minor < 13)) {
		refuse(rt, "CPython %d.%d.%d is not supported (3.8-3.15 are)",
		    rt->major, rt->minor, rt->micro);
		return -1;
	}
	if (debug_build(lk)) {
		refuse(rt, "CPython %d.%d.%d is a debug build: not supported",
		    rt->major, rt->minor, rt->micro);
		return -1;
	}
	if (t != NULL)
		detected = *t;
	if (rt->minor >= 13 && debug_offsets(rt, t) == -1)
		return -1;
	rt->off = &detected;
	rt->type_code = lk->sym("PyCode_Type", lk->arg);
	rt->type_unicode = lk->sym("PyUnicode_Type", lk->arg);
	rt->type_bytes = lk->sym("PyBytes_Type", lk->arg);
	rt->type_frame = lk->sym("PyFrame_Type", lk->arg);
	rt->type_dict = lk->sym("PyDict_Type", lk->arg);
	rt->type_long = lk->sym("PyLong_Type", lk->arg);
	rt->type_module = lk->sym("PyModule_Type", lk->arg);
	rt->type_cfunction = lk->sym("PyCFunction_Type", lk->arg);
	rt->type_method_descr = lk->sym("PyMethodDescr_Type", lk->arg);
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
	/* Free-threaded builds put int enabled first, ahead of interval:
	 * a table without room for it leaves their GIL unfollowed. */
	if (!rt->free_threaded || o->gil_interval >= (int)sizeof(int))
		gil_set(rt, gil);
	rt->gil_enabled = rt->free_threaded ? rt->gil : 0;
	rt->gil_confirmed = 0;
	if (head == 0 || main == 0)
		return 0;	/* not initialised yet: nothing to check */

	/* Initialised: the layout must hold together. */
	if (!interp_sane(o, head) || !interp_sane(o, main)) {
		refuse(rt, "CPython %d.%d: thread lists fail the check",
		    rt->major, rt->minor);
		return -1;
	}
	if (rt->gil == 0)
		return 1;
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
py_gil_on(const struct py_runtime *rt)
{
	int enabled;

	if (rt->gil == 0)
		return -1;
	if (rt->gil_enabled == 0)
		return 1;
	/* 0 off, INT_MAX on for good, else the number of transient
	 * requests: an extension module being initialised, which every
	 * import of one makes for a moment, is not the GIL turned on. */
	if (py_read_int(rt->gil_enabled, &enabled) == -1 || enabled < 0)
		return -1;
	return enabled == INT_MAX;
}

int
py_gil_waits(const struct py_runtime *rt, uintptr_t addr)
{
	/* glibc x86-64: pthread_mutex_t is 40 bytes, pthread_cond_t 48. */
	return rt->gil != 0 && ((addr >= rt->gil_mutex &&
	    addr < rt->gil_mutex + 40) || (addr >= rt->gil_cond &&
	    addr < rt->gil_cond + 48));
}
