/*
 * frames_merge (frames.c): the Python frames each native eval-loop call
 * ran go in that call's place, so that C between two calls stays between
 * their Python frames.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "frames.h"
#include "gilwatch/snapshot.h"
#include "py.h"

#define MAXF	16

static struct gw_frame out[2 * MAXF];

/*
 * Frames from a spec: a name per frame, "E" an eval-loop frame, a name
 * starting with "py" a Python frame, anything else a native one.
 */
static size_t
frames(struct gw_frame *f, const char *const *names)
{
	size_t n;

	for (n = 0; names[n] != NULL; n++) {
		memset(&f[n], 0, sizeof f[n]);
		f[n].kind = strncmp(names[n], "py", 2) == 0 ?
		    GW_FRAME_PYTHON : GW_FRAME_NATIVE;
		f[n].function = strcmp(names[n], "E") == 0 ?
		    "_PyEval_EvalFrameDefault" : names[n];
	}
	return n;
}

/* The merged frames' names, "E" for an eval-loop frame, joined by " ". */
static const char *
names_of(const struct gw_frame *f, size_t n)
{
	static char buf[512];

	buf[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			strcat(buf, " ");
		strcat(buf, frames_is_eval_loop(&f[i]) ? "E" : f[i].function);
	}
	return buf;
}

static const char *
merge(const char *const *native, const char *const *py,
    const unsigned char *call_end)
{
	struct gw_frame nf[MAXF], pf[MAXF];
	size_t nn = frames(nf, native), np = frames(pf, py);

	return names_of(out, frames_merge(out, nf, nn, pf, call_end, np));
}

/* A sort calling its key: key's call, then list_sort, then outer's. */
Test(frames, each_call_in_its_place)
{
	const char *native[] = { "sleep", "E", "call", "sort", "E", "E",
	    "main", NULL };
	const char *py[] = { "py_key", "py_outer", "py_module", NULL };
	const unsigned char ends[] = { 1, 0, 1 };

	cr_assert_str_eq(merge(native, py, ends),
	    "sleep py_key call sort py_outer py_module main");
}

/* Before 3.11 every frame is a call of its own. */
Test(frames, one_frame_a_call)
{
	const char *native[] = { "sleep", "E", "fast", "E", "fast", "E",
	    "main", NULL };
	const char *py[] = { "py_a", "py_b", "py_c", NULL };
	const unsigned char ends[] = { 1, 1, 1 };

	cr_assert_str_eq(merge(native, py, ends),
	    "sleep py_a fast py_b fast py_c main");
}

/* A native stack cut short: the outermost call seen takes the rest. */
Test(frames, outermost_takes_the_rest)
{
	const char *native[] = { "sleep", "E", "call", "E", NULL };
	const char *py[] = { "py_a", "py_b", "py_c", "py_d", NULL };
	const unsigned char ends[] = { 1, 1, 0, 1 };

	cr_assert_str_eq(merge(native, py, ends),
	    "sleep py_a call py_b py_c py_d");
}

/* Python frames cut short: the calls left over stand for nothing. */
Test(frames, more_calls_than_frames)
{
	const char *native[] = { "sleep", "E", "call", "E", "main", NULL };
	const char *py[] = { "py_a", NULL };
	const unsigned char ends[] = { 1 };

	cr_assert_str_eq(merge(native, py, ends), "sleep py_a call main");
}

/* Without the marks (no call_end), the innermost call takes them all. */
Test(frames, unmarked_all_innermost)
{
	const char *native[] = { "sleep", "E", "call", "E", "main", NULL };
	const char *py[] = { "py_a", "py_b", NULL };

	cr_assert_str_eq(merge(native, py, NULL),
	    "sleep py_a py_b call main");
}

/* No eval loop named (a stripped interpreter): Python frames first. */
Test(frames, no_eval_loop)
{
	const char *native[] = { "0x1", "0x2", NULL };
	const char *py[] = { "py_a", NULL };
	const unsigned char ends[] = { 1 };

	cr_assert_str_eq(merge(native, py, ends), "py_a 0x1 0x2");
}

/* No Python frames: the native ones as they are, eval loop included. */
Test(frames, no_python)
{
	const char *native[] = { "sleep", "E", "main", NULL };
	const char *py[] = { NULL };

	cr_assert_str_eq(merge(native, py, NULL), "sleep E main");
}

/* The marks come from the walk's PY_FRAME_CALL_END. */
Test(frames, call_ends_from_flags)
{
	struct py_frame p[3];
	unsigned char ce[3];

	memset(p, 0, sizeof p);
	p[1].flags = PY_FRAME_CALL_END | PY_FRAME_BADSTR;
	frames_call_ends(ce, p, 3);
	cr_assert(ce[0] == 0 && ce[1] == 1 && ce[2] == 0);
}
