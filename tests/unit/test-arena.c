/* The snapshot arena: zeroed blocks, copies, and shared copies. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "arena.h"

static struct arena a = ARENA_INIT;

static void
teardown(void)
{
	arena_free(&a);
}

TestSuite(arena, .fini = teardown, .timeout = 5);

Test(arena, intern_shares_equal_strings)
{
	char buf[32];
	const char *x, *y, *z;

	strcpy(buf, "Queue.get");
	x = arena_intern(&a, buf);
	strcpy(buf, "Queue.get");
	y = arena_intern(&a, buf);
	z = arena_intern(&a, "Condition.wait");
	cr_assert_str_eq(x, "Queue.get");
	cr_assert_eq(x, y, "equal strings share one copy");
	cr_assert_neq(x, buf, "a copy, not the caller's string");
	cr_assert_str_eq(z, "Condition.wait");
	cr_assert_neq(x, z);
	cr_assert_null(arena_intern(&a, ""));
	cr_assert_null(arena_intern(&a, NULL));
}

/* Past the first table (256 slots, half full): every string still
 * found, none copied twice. */
Test(arena, intern_survives_growth)
{
	const char *first[3000];
	char buf[32];
	int i;

	for (i = 0; i < 3000; i++) {
		snprintf(buf, sizeof buf, "name-%d", i);
		first[i] = arena_intern(&a, buf);
		cr_assert_str_eq(first[i], buf);
	}
	for (i = 0; i < 3000; i++) {
		snprintf(buf, sizeof buf, "name-%d", i);
		cr_assert_eq(arena_intern(&a, buf), first[i], "%s", buf);
	}
	cr_assert_eq(a.nshared, 3000);
	cr_assert_not(a.failed);
}

Test(arena, str_copies_are_not_shared)
{
	const char *x = arena_str(&a, "same"), *y = arena_str(&a, "same");

	cr_assert_str_eq(x, y);
	cr_assert_neq(x, y);
}
