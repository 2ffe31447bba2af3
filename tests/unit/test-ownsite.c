/*
 * py_own_site_fast (py.h), the Python line a hook reads at every Python
 * lock taken, against py_own_site, the walk it shortcuts: on thread
 * states and frames built in this process's memory in the layouts of
 * the generated table (3.11 and 3.12 through a cframe, 3.13 and 3.14
 * directly, 3.14 with tagged code references), the fast path must give
 * the walk's answer or hand over (0), never another line.
 */
#include <criterion/criterion.h>
#include <stdint.h>
#include <string.h>

#include "py.h"

#define SELF	0x7f00deadbeefUL

/* Room for any of the structs at any offset of the table. */
struct blob {
	_Alignas(16) unsigned char b[4096];
};

static struct blob ts, cframe, inner, outer, code_a, code_b;
static struct py_runtime rt;
static struct py_own_fast fast;

static void
put_ptr(struct blob *o, int at, uintptr_t v)
{
	cr_assert(at >= 0 && at + sizeof v <= sizeof o->b);
	memcpy(o->b + at, &v, sizeof v);
}

static void
put_byte(struct blob *o, int at, signed char v)
{
	cr_assert(at >= 0 && at < (int)sizeof o->b);
	o->b[at] = (unsigned char)v;
}

/*
 * A thread state for self whose innermost frame runs code_a at byte
 * off_a and was called by a frame running code_b at byte off_b; the
 * innermost frame's owner is given (the C stack's, on 3.12+, makes the
 * walk go on to the next).
 */
static void
build(const struct py_offsets *o, unsigned long self, int owner, long off_a,
    long off_b)
{
	uintptr_t tags = (uintptr_t)o->fr_ref_tags;

	memset(&ts, 0, sizeof ts);
	memset(&cframe, 0, sizeof cframe);
	memset(&inner, 0, sizeof inner);
	memset(&outer, 0, sizeof outer);
	rt.off = o;
	put_ptr(&ts, o->ts_thread_id, self);
	if (o->ts_current_frame >= 0)
		put_ptr(&ts, o->ts_current_frame, (uintptr_t)&inner);
	else {
		put_ptr(&ts, o->ts_cframe, (uintptr_t)&cframe);
		put_ptr(&cframe, o->cf_current_frame, (uintptr_t)&inner);
	}
	/* Tagged references, where the layout has them: both must drop the
	 * tag bits. */
	put_ptr(&inner, o->fr_code, (uintptr_t)&code_a | (tags & 1));
	put_ptr(&inner, o->fr_instr, (uintptr_t)&code_a +
	    (uintptr_t)o->co_code_adaptive + (uintptr_t)off_a);
	put_byte(&inner, o->fr_owner, (signed char)owner);
	put_ptr(&inner, o->fr_back, (uintptr_t)&outer);
	put_ptr(&outer, o->fr_code, (uintptr_t)&code_b);
	put_ptr(&outer, o->fr_instr, (uintptr_t)&code_b +
	    (uintptr_t)o->co_code_adaptive + (uintptr_t)off_b);
	put_byte(&outer, o->fr_owner, 0);
	py_own_fast_init(o, &fast);
}

/*
 * Both ways on the state built: the fast path's answer, when it gives
 * one, is the walk's; and the walk's answer is the one expected.
 * Returns whether the fast path answered.
 */
static int
agree(uintptr_t want_code, long want_addr)
{
	struct py_site slow, quick = { 0 };	/* compared only if answered */
	int rc = py_own_site(&rt, (uintptr_t)&ts, SELF, &slow);
	int answered = py_own_site_fast(&fast, (uintptr_t)&ts, SELF, &quick);

	if (want_code == 0)
		cr_assert_eq(rc, -1);
	else {
		cr_assert_eq(rc, 0);
		cr_assert_eq(slow.code, want_code);
		cr_assert_eq(slow.addr, want_addr);
	}
	if (answered) {
		cr_assert_eq(rc, 0, "the fast path answered where the walk "
		    "found nothing");
		cr_assert_eq(quick.code, slow.code);
		cr_assert_eq(quick.addr, slow.addr);
	}
	return answered;
}

static const struct py_offsets *
layout(int minor)
{
	const struct py_offsets *o = py_offsets_for(3, minor, 0, 0);

	cr_assert_not_null(o, "no 3.%d entry in the table", minor);
	return o;
}

static const int minors[] = { 11, 12, 13, 14 };

Test(ownsite, innermost_frame_answered_fast)
{
	for (size_t i = 0; i < sizeof minors / sizeof *minors; i++) {
		build(layout(minors[i]), SELF, 0, 42, 6);
		cr_assert(agree((uintptr_t)&code_a, 42),
		    "3.%d: no fast answer for a plain frame", minors[i]);
		cr_assert_neq(fast.via, 0);
	}
}

Test(ownsite, another_threads_state_is_refused)
{
	for (size_t i = 0; i < sizeof minors / sizeof *minors; i++) {
		build(layout(minors[i]), SELF + 1, 0, 42, 6);
		cr_assert_not(agree(0, 0));
	}
}

Test(ownsite, no_frame_is_handed_over)
{
	for (size_t i = 0; i < sizeof minors / sizeof *minors; i++) {
		const struct py_offsets *o = layout(minors[i]);

		build(o, SELF, 0, 42, 6);
		if (o->ts_current_frame >= 0)
			put_ptr(&ts, o->ts_current_frame, 0);
		else
			put_ptr(&cframe, o->cf_current_frame, 0);
		cr_assert_not(agree(0, 0));
		/* 3.11-3.12: no cframe at all. */
		if (o->ts_current_frame < 0) {
			put_ptr(&ts, o->ts_cframe, 0);
			cr_assert_not(agree(0, 0));
		}
	}
}

/* 3.12+: an entry frame the C stack owns has no line; the walk takes
 * the next one, and the fast path hands over rather than answer. */
Test(ownsite, c_owned_frame_is_handed_over)
{
	for (size_t i = 0; i < sizeof minors / sizeof *minors; i++) {
		const struct py_offsets *o = layout(minors[i]);

		if (o->fr_owner_cstack < 0)
			continue;
		build(o, SELF, o->fr_owner_cstack, 42, 6);
		cr_assert_not(agree((uintptr_t)&code_b, 6));
	}
}

/* A generator's frame is a thread's like any other: a line of its own. */
Test(ownsite, generator_frame_answered)
{
	for (size_t i = 0; i < sizeof minors / sizeof *minors; i++) {
		const struct py_offsets *o = layout(minors[i]);

		build(o, SELF, o->fr_owner_generator, 10, 6);
		cr_assert(agree((uintptr_t)&code_a, 10));
	}
}

/* Frame objects (3.8-3.10) and free-threaded builds keep the walk. */
Test(ownsite, older_and_free_threaded_layouts_have_none)
{
	const struct py_offsets *o;
	int minor;

	for (minor = 8; minor <= 10; minor++) {
		cr_assert_not_null(o = py_offsets_for(3, minor, 0, 0));
		py_own_fast_init(o, &fast);
		cr_assert_eq(fast.via, 0, "3.%d has a fast path", minor);
	}
	cr_assert_not_null(o = py_offsets_for(3, 14, 0, 1));
	py_own_fast_init(o, &fast);
	cr_assert_eq(fast.via, 0, "3.14t has a fast path");
	py_own_fast_init(NULL, &fast);
	cr_assert_eq(fast.via, 0);
	cr_assert_not(py_own_site_fast(&fast, (uintptr_t)&ts, SELF,
	    &(struct py_site){ 0 }));
}
