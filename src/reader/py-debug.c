/*
 * _Py_DebugOffsets: CPython 3.13+ states the offsets of its own
 * structures at offset 0 of _PyRuntime, for debuggers.  The struct is
 * all uint64_t (the 8-byte cookie counts as one), so a layout is a list
 * of slot numbers; it grew between minors (3.14 added interpreter,
 * frame and object groups, 3.15 thread and type fields), each layout
 * here read from that minor's pycore_debug_offsets.h (3.14, 3.15) or
 * pycore_runtime.h (3.13).
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "py.h"

#define OFF_MAX		(1 << 20)	/* a larger offset or size: not
					   believed */
#define SLOTS_MAX	128		/* uint64_t words read at most */
#define NLAYOUT		3		/* 3.13, 3.14, 3.15 */
#define NONE		((size_t)-1)
#define OFF(f)		offsetof(struct py_offsets, f)

static const struct {
	int	minor;		/* the first minor with this layout */
	int	nslots;		/* its size in uint64_t */
} layouts[NLAYOUT] = { { 13, 73 }, { 14, 95 }, { 15, 111 } };

/* Groups: a field is checked against its group's size. */
enum { G_RUNTIME, G_INTERP, G_THREAD, G_FRAME, G_CODE, G_OBJECT, G_TYPE,
	G_HEAPTYPE, G_DICT, G_BYTES, G_UNICODE, NGROUP };

/*
 * The words read, in each layout's slot numbers (0: the layout lacks
 * it; slot 0 is the cookie).  field NONE: a group's size, or read for
 * the GIL below.
 */
static const struct dfield {
	const char	*name;
	int		 group;
	size_t		 field;
	unsigned char	 slot[NLAYOUT];
} dfields[] = {
	{ "runtime_state.size", G_RUNTIME, NONE, { 3, 3, 3 } },
	{ "runtime_state.finalizing", G_RUNTIME, OFF(rt_finalizing),
	    { 4, 4, 4 } },
	{ "runtime_state.interpreters_head", G_RUNTIME, OFF(rt_interp_head),
	    { 5, 5, 5 } },
	{ "interpreter_state.size", G_INTERP, NONE, { 6, 6, 6 } },
	{ "interpreter_state.next", G_INTERP, OFF(is_next), { 8, 8, 8 } },
	{ "interpreter_state.threads_head", G_INTERP, OFF(is_threads_head),
	    { 9, 9, 9 } },
	{ "interpreter_state.imports_modules", G_INTERP, OFF(is_modules),
	    { 11, 12, 12 } },
	{ "interpreter_state.ceval_gil", G_INTERP, OFF(is_ceval_gil),
	    { 14, 15, 15 } },
	{ "interpreter_state.gil_runtime_state", G_INTERP, OFF(is_gil),
	    { 15, 16, 16 } },
	{ "interpreter_state.gil_runtime_state_locked", G_INTERP, NONE,
	    { 17, 18, 18 } },
	{ "interpreter_state.gil_runtime_state_holder", G_INTERP, NONE,
	    { 18, 19, 19 } },
	{ "thread_state.size", G_THREAD, NONE, { 19, 22, 22 } },
	{ "thread_state.next", G_THREAD, OFF(ts_next), { 21, 24, 24 } },
	{ "thread_state.interp", G_THREAD, OFF(ts_interp), { 22, 25, 25 } },
	{ "thread_state.current_frame", G_THREAD, OFF(ts_current_frame),
	    { 23, 26, 26 } },
	{ "thread_state.thread_id", G_THREAD, OFF(ts_thread_id),
	    { 24, 27, 30 } },
	{ "thread_state.native_thread_id", G_THREAD,
	    OFF(ts_native_thread_id), { 25, 28, 31 } },
	{ "thread_state.status", G_THREAD, OFF(ts_status), { 27, 30, 33 } },
	{ "thread_state.holds_gil", G_THREAD, OFF(ts_holds_gil),
	    { 0, 0, 34 } },
	{ "interpreter_frame.size", G_FRAME, NONE, { 28, 31, 39 } },
	{ "interpreter_frame.previous", G_FRAME, OFF(fr_back),
	    { 29, 32, 40 } },
	{ "interpreter_frame.executable", G_FRAME, OFF(fr_code),
	    { 30, 33, 41 } },
	{ "interpreter_frame.instr_ptr", G_FRAME, OFF(fr_instr),
	    { 31, 34, 42 } },
	{ "interpreter_frame.localsplus", G_FRAME, OFF(fr_localsplus),
	    { 32, 35, 43 } },
	{ "interpreter_frame.owner", G_FRAME, OFF(fr_owner), { 33, 36, 44 } },
	{ "code_object.size", G_CODE, NONE, { 34, 39, 47 } },
	{ "code_object.filename", G_CODE, OFF(co_filename), { 35, 40, 48 } },
	{ "code_object.name", G_CODE, OFF(co_name), { 36, 41, 49 } },
	{ "code_object.qualname", G_CODE, OFF(co_qualname), { 37, 42, 50 } },
	{ "code_object.linetable", G_CODE, OFF(co_lines), { 38, 43, 51 } },
	{ "code_object.firstlineno", G_CODE, OFF(co_firstlineno),
	    { 39, 44, 52 } },
	{ "code_object.co_code_adaptive", G_CODE, OFF(co_code_adaptive),
	    { 43, 48, 56 } },
	{ "code_object.co_tlbc", G_CODE, OFF(co_tlbc), { 0, 49, 57 } },
	{ "interpreter_frame.tlbc_index", G_FRAME, OFF(fr_tlbc_index),
	    { 0, 38, 46 } },
	{ "pyobject.size", G_OBJECT, NONE, { 44, 50, 58 } },
	{ "pyobject.ob_type", G_OBJECT, OFF(ob_type), { 45, 51, 59 } },
	{ "type_object.size", G_TYPE, NONE, { 46, 52, 60 } },
	{ "type_object.tp_name", G_TYPE, OFF(tp_name), { 47, 53, 61 } },
	{ "type_object.tp_flags", G_TYPE, OFF(tp_flags), { 49, 55, 63 } },
	{ "type_object.tp_basicsize", G_TYPE, OFF(tp_basicsize),
	    { 0, 0, 64 } },
	{ "type_object.tp_dictoffset", G_TYPE, OFF(tp_dictoffset),
	    { 0, 0, 65 } },
	{ "heap_type_object.size", G_HEAPTYPE, NONE, { 0, 0, 66 } },
	{ "heap_type_object.ht_cached_keys", G_HEAPTYPE, OFF(ht_cached_keys),
	    { 0, 0, 67 } },
	{ "dict_object.size", G_DICT, NONE, { 56, 66, 78 } },
	{ "dict_object.ma_keys", G_DICT, OFF(dict_keys), { 57, 67, 79 } },
	{ "dict_object.ma_values", G_DICT, OFF(dict_values), { 58, 68, 80 } },
	{ "bytes_object.size", G_BYTES, NONE, { 64, 74, 86 } },
	{ "bytes_object.ob_size", G_BYTES, OFF(ob_size), { 65, 75, 87 } },
	{ "bytes_object.ob_sval", G_BYTES, OFF(bytes_sval), { 66, 76, 88 } },
	{ "unicode_object.size", G_UNICODE, NONE, { 67, 77, 89 } },
	{ "unicode_object.state", G_UNICODE, OFF(u_state), { 68, 78, 90 } },
	{ "unicode_object.length", G_UNICODE, OFF(u_length), { 69, 79, 91 } },
	{ "unicode_object.asciiobject_size", G_UNICODE, OFF(u_ascii_size),
	    { 70, 80, 92 } },
	{ "unicode_object.compactunicodeobject_size", G_UNICODE,
	    OFF(u_compact_size), { 0, 0, 93 } },
};

#define NFIELD	(sizeof(dfields) / sizeof(dfields[0]))

/* The dfields index of the GIL's words, read by name once. */
static int
dindex(const char *name)
{
	for (size_t i = 0; i < NFIELD; i++)
		if (strcmp(dfields[i].name, name) == 0)
			return (int)i;
	return -1;
}

static void
set(struct py_offsets *o, size_t field, uint64_t v)
{
	int i = (int)v;

	memcpy((char *)o + field, &i, sizeof(i));
}

/*
 * Check the words of layout l and take them into o: 0, or -1 with why
 * naming the first word that fails.  Every size must be believable and
 * every offset inside its group's size (at its end for a flexible
 * array); a layout read at the wrong slots reads offsets as sizes and
 * sizes as offsets, and fails.
 */
static int
take_layout(int l, int ft, const uint64_t *w, struct py_offsets *o,
    char *why, size_t len)
{
	uint64_t size[NGROUP] = { 0 }, v, gil, locked, holder;
	const struct dfield *f;

	for (size_t i = 0; i < NFIELD; i++) {
		f = &dfields[i];
		if (f->slot[l] == 0 || f->field != NONE ||
		    strstr(f->name, ".size") == NULL)
			continue;
		size[f->group] = w[f->slot[l]];
		if (size[f->group] == 0 || size[f->group] >= OFF_MAX)
			goto bad;
	}
	for (size_t i = 0; i < NFIELD; i++) {
		f = &dfields[i];
		if (f->slot[l] == 0)
			continue;
		v = w[f->slot[l]];
		if (v > size[f->group])
			goto bad;
		if (f->field != NONE)
			set(o, f->field, v);
	}
	/* A default build states 0 for the per-thread bytecode it lacks;
	 * 3.13's layout has no word for it, as 3.13t has none. */
	if (!ft || layouts[l].minor < 14) {
		set(o, OFF(co_tlbc), (uint64_t)-1);
		set(o, OFF(fr_tlbc_index), (uint64_t)-1);
	}
	gil = w[dfields[dindex("interpreter_state.gil_runtime_state")].slot[l]];
	locked = w[dfields[dindex(
	    "interpreter_state.gil_runtime_state_locked")].slot[l]];
	holder = w[dfields[dindex(
	    "interpreter_state.gil_runtime_state_holder")].slot[l]];
	if (locked < gil || holder < gil || locked - gil >= 256 ||
	    holder - gil >= 256) {
		snprintf(why, len, "its GIL offsets do not hold together");
		return -1;
	}
	set(o, OFF(gil_locked), locked - gil);
	set(o, OFF(gil_last_holder), holder - gil);
	/*
	 * Not stated but implied: interpreters.main follows
	 * interpreters.head, and _main_interpreter is the last field of
	 * _PyRuntimeState (a comment there says it must stay so).  The
	 * comparison with the generated tables checks both.
	 */
	set(o, OFF(rt_interp_main), w[dfields[dindex(
	    "runtime_state.interpreters_head")].slot[l]] + 8);
	set(o, OFF(rt_main_interp), size[G_RUNTIME] - size[G_INTERP]);
	return 0;
bad:
	snprintf(why, len, "%s reads %llu", f->name,
	    (unsigned long long)w[f->slot[l]]);
	return -1;
}

/* The first three words (cookie, version, free_threaded) into w: 0 when
 * they are the running version's debug offsets, else -1. */
static int
cookie(const struct py_runtime *rt, uint64_t *w)
{
	unsigned long want;

	if (rt->major != 3 || rt->minor < 13 || py_read(rt->runtime, w,
	    3 * sizeof(w[0])) == -1 || memcmp(w, "xdebugpy", 8) != 0)
		return -1;
	want = (unsigned long)rt->major << 24 | (unsigned long)rt->minor << 16;
	return (w[1] & 0xffff0000UL) == want ? 0 : -1;
}

int
py_debug_offsets(struct py_runtime *rt, struct py_offsets *o,
    char *why, size_t len)
{
	uint64_t w[SLOTS_MAX];
	struct py_offsets t;
	int l;

	if (cookie(rt, w) == -1)
		return 0;
	rt->free_threaded = w[2] != 0;
	/* Its own layout; a newer minor is read in the newest, which it
	 * may have kept: the checks say whether it did. */
	for (l = NLAYOUT - 1; layouts[l].minor > rt->minor; l--)
		;
	if (py_read(rt->runtime, w, (size_t)layouts[l].nslots *
	    sizeof(w[0])) == -1) {
		snprintf(why, len, "its _Py_DebugOffsets are unreadable");
		return -1;
	}
	t = *o;
	if (take_layout(l, rt->free_threaded, w, &t, why, len) == -1) {
		if (rt->minor > layouts[l].minor)
			snprintf(why, len, "its _Py_DebugOffsets have a layout "
			    "not known here (known: 3.13-3.%d)",
			    layouts[NLAYOUT - 1].minor);
		return -1;
	}
	*o = t;
	return 1;
}

int
py_debug_free_threaded(const struct py_runtime *rt)
{
	uint64_t w[3];

	return cookie(rt, w) == -1 ? -1 : w[2] != 0;
}

_Static_assert(sizeof(((struct py_offsets *)0)->rt_finalizing) ==
    sizeof(int), "py_offsets fields are int");
