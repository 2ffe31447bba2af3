/*
 * py-cache.c, the copies one dump keeps: found by kind and address,
 * kinds apart, kept through growth, one copy per (kind, address), and
 * nothing kept without a cache.
 */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdlib.h>

#include "py.h"

static long *
num(long v)
{
	long *p = malloc(sizeof(*p));

	cr_assert_not_null(p);
	*p = v;
	return p;
}

Test(pycache, kept_by_kind_and_address_through_growth)
{
	struct py_runtime rt = { 0 };
	long *p;

	cr_assert_not_null(rt.cache = py_cache_new());
	/* Addresses that collide in the low bits, past the first size. */
	for (long i = 1; i <= 5000; i++)
		cr_assert_not_null(py_cache_put(&rt, PY_CACHE_CODE,
		    (uintptr_t)i << 12, num(i)));
	cr_assert_not_null(py_cache_put(&rt, PY_CACHE_BYTES, 1UL << 12,
	    num(-1)));
	for (long i = 1; i <= 5000; i++) {
		p = py_cache_get(&rt, PY_CACHE_CODE, (uintptr_t)i << 12);
		cr_assert_not_null(p, "entry %ld lost", i);
		cr_assert_eq(*p, i);
	}
	p = py_cache_get(&rt, PY_CACHE_BYTES, 1UL << 12);
	cr_assert(p != NULL && *p == -1, "kinds must not share a copy");
	cr_assert_null(py_cache_get(&rt, PY_CACHE_TYPE, 1UL << 12));
	cr_assert_null(py_cache_get(&rt, PY_CACHE_CODE, 5001UL << 12));
	cr_assert_null(py_cache_get(&rt, PY_CACHE_CODE, 0));
	py_cache_free(rt.cache);
}

Test(pycache, first_copy_stays)
{
	struct py_runtime rt = { 0 };
	long *p;

	cr_assert_not_null(rt.cache = py_cache_new());
	cr_assert_not_null(py_cache_put(&rt, PY_CACHE_CODE, 0x1000, num(1)));
	cr_assert_null(py_cache_put(&rt, PY_CACHE_CODE, 0x1000, num(2)));
	p = py_cache_get(&rt, PY_CACHE_CODE, 0x1000);
	cr_assert(p != NULL && *p == 1);
	cr_assert_null(py_cache_put(&rt, PY_CACHE_CODE, 0, num(3)));
	py_cache_free(rt.cache);
}

Test(pycache, nothing_kept_without_a_cache)
{
	struct py_runtime rt = { 0 };

	cr_assert_null(py_cache_put(&rt, PY_CACHE_CODE, 0x1000, num(1)));
	cr_assert_null(py_cache_get(&rt, PY_CACHE_CODE, 0x1000));
	py_cache_free(NULL);
}
