/* Arrays that grow (grow.h): room, doubling, exact sizes, failure. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "grow.h"

Test(grow, an_empty_array_gets_its_first_capacity)
{
	size_t cap = 0;
	int *v = grow(NULL, &cap, 1, sizeof *v, 64);

	cr_assert_not_null(v);
	cr_assert_eq(cap, 64);
	v[63] = 7;		/* all of it is the caller's (valgrind/ASan) */
	free(v);
}

Test(grow, an_array_with_room_is_returned_as_it_is)
{
	size_t cap = 0;
	int *v = grow(NULL, &cap, 10, sizeof *v, 16), *w;

	cr_assert_not_null(v);
	w = grow(v, &cap, 16, sizeof *v, 16);
	cr_assert_eq(w, v);
	cr_assert_eq(cap, 16);
	free(w);
}

Test(grow, one_more_than_the_capacity_doubles_it_and_keeps_the_contents)
{
	size_t cap = 0, i;
	int *v = grow(NULL, &cap, 1, sizeof *v, 4);

	for (i = 0; i < 4; i++)
		v[i] = (int)i + 1;
	v = grow(v, &cap, 5, sizeof *v, 4);
	cr_assert_not_null(v);
	cr_assert_eq(cap, 8);
	for (i = 0; i < 4; i++)
		cr_assert_eq(v[i], (int)i + 1);
	free(v);
}

Test(grow, a_large_need_is_met_at_once)
{
	size_t cap = 0;
	char *v = grow(NULL, &cap, 1000, 1, 16);

	cr_assert_not_null(v);
	cr_assert_geq(cap, 1000);
	cr_assert_lt(cap, 2000, "doubled from 16: %zu", cap);
	free(v);
}

Test(grow, first_equal_to_need_sizes_exactly)
{
	size_t cap = 0;
	char *v = grow(NULL, &cap, 300, 1, 300);

	cr_assert_not_null(v);
	cr_assert_eq(cap, 300);
	v = grow(v, &cap, 301, 1, 301);
	cr_assert_eq(cap, 301, "first wins over doubling only when larger");
	free(v);
}

/* A NULL return means no memory, so asking for none still gives room. */
Test(grow, a_need_of_zero_still_returns_memory)
{
	size_t cap = 0;
	void *v = grow(NULL, &cap, 0, 8, 0);

	cr_assert_not_null(v);
	cr_assert_geq(cap, 1);
	free(v);
}

Test(grow, an_overflowing_size_fails_and_keeps_the_array)
{
	size_t cap = 0;
	long *v = grow(NULL, &cap, 2, sizeof *v, 2), *w;

	cr_assert_not_null(v);
	v[1] = 42;
	errno = 0;
	w = grow(v, &cap, SIZE_MAX / 4, sizeof *v, 2);
	cr_assert_null(w);
	cr_assert_eq(errno, ENOMEM);
	cr_assert_eq(cap, 2, "the capacity stays what it was");
	cr_assert_eq(v[1], 42);
	free(v);
}

/* realloc failing (an impossible size, not an overflow) changes nothing. */
Test(grow, a_failed_allocation_keeps_the_capacity)
{
	size_t cap = 0;
	char *v = grow(NULL, &cap, 1, 1, 8), *w;

	cr_assert_not_null(v);
	w = grow(v, &cap, SIZE_MAX / 2, 1, 8);
	cr_assert_null(w);
	cr_assert_eq(cap, 8);
	free(v);
}
