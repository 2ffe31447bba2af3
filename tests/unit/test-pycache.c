/*
 * py-cache.c, the copies one dump keeps: found by kind and address,
 * kinds apart, kept through growth, one copy per (kind, address), and
 * nothing kept without a cache.
 */
#include <criterion/criterion.h>
#include <pthread.h>
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

static void *
look_from_another_thread(void *arg)
{
	const struct py_runtime *rt = arg;

	return py_cache_get(rt, PY_CACHE_CODE, 1UL << 12);
}

/*
 * The shim's dumps: a cache set for this thread serves a runtime
 * without one (shared by all threads), on this thread only.
 */
Test(pycache, here_serves_this_thread_only)
{
	struct py_runtime rt = { 0 };
	struct py_cache *c = py_cache_new();
	pthread_t th;
	void *seen;
	long *p;

	cr_assert_not_null(c);
	cr_assert_null(py_cache_of(&rt));
	py_cache_here(c);
	cr_assert_eq(py_cache_of(&rt), c);
	cr_assert_not_null(py_cache_put(&rt, PY_CACHE_CODE, 1UL << 12,
	    num(7)));
	p = py_cache_get(&rt, PY_CACHE_CODE, 1UL << 12);
	cr_assert(p != NULL && *p == 7);
	cr_assert_eq(pthread_create(&th, NULL, look_from_another_thread, &rt),
	    0);
	cr_assert_eq(pthread_join(th, &seen), 0);
	cr_assert_null(seen, "another thread saw this thread's cache");
	py_cache_here(NULL);
	cr_assert_null(py_cache_get(&rt, PY_CACHE_CODE, 1UL << 12));
	py_cache_free(c);
}
