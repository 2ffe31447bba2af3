/*
 * What one dump has read once and need not read again: see py.h,
 * py_cache_new.
 *
 * A table of (kind, address) -> a malloc'd copy, open addressing,
 * grown at half full.  Only what was read and checked is put in; a
 * failed read is never remembered, so a thread whose memory moved
 * under us is read again by the next caller.  Entries live until
 * py_cache_free, at the end of the dump: an address freed and reused
 * by the program is never named from an earlier dump's copy.
 */
#include <stdlib.h>

#include "py.h"

#define CACHE_MIN	256		/* slots at first; a power of two */
#define CACHE_MAX	(1UL << 20)	/* entries: past this, stop caching */

struct slot {
	uintptr_t	 addr;		/* 0: empty */
	int		 kind;
	void		*val;
};

struct py_cache {
	struct slot	*s;
	size_t		 size, used;
};

static size_t
hash(uintptr_t addr, int kind, size_t size)
{
	uint64_t h = ((uint64_t)addr ^ (uint64_t)kind << 59) *
	    0x9e3779b97f4a7c15ULL;

	return (size_t)(h >> 20) & (size - 1);
}

struct py_cache *
py_cache_new(void)
{
	struct py_cache *c;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	if ((c->s = calloc(CACHE_MIN, sizeof(*c->s))) == NULL) {
		free(c);
		return NULL;
	}
	c->size = CACHE_MIN;
	return c;
}

void
py_cache_free(struct py_cache *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < c->size; i++)
		free(c->s[i].val);
	free(c->s);
	free(c);
}

/* The cache of this thread's dump in the shim (py_cache_here). */
static __thread struct py_cache *here;

void
py_cache_here(struct py_cache *c)
{
	here = c;
}

struct py_cache *
py_cache_of(const struct py_runtime *rt)
{
	return rt->cache != NULL ? rt->cache : here;
}

void *
py_cache_get(const struct py_runtime *rt, int kind, uintptr_t addr)
{
	struct py_cache *c = py_cache_of(rt);
	size_t i;

	if (c == NULL || addr == 0)
		return NULL;
	for (i = hash(addr, kind, c->size); c->s[i].addr != 0;
	    i = (i + 1) & (c->size - 1))
		if (c->s[i].addr == addr && c->s[i].kind == kind)
			return c->s[i].val;
	return NULL;
}

static void
place(struct slot *s, size_t size, uintptr_t addr, int kind, void *val)
{
	size_t i;

	for (i = hash(addr, kind, size); s[i].addr != 0; i = (i + 1) &
	    (size - 1))
		;
	s[i].addr = addr;
	s[i].kind = kind;
	s[i].val = val;
}

static int
grow(struct py_cache *c)
{
	struct slot *ns;
	size_t i;

	if ((ns = calloc(c->size * 2, sizeof(*ns))) == NULL)
		return -1;
	for (i = 0; i < c->size; i++)
		if (c->s[i].addr != 0)
			place(ns, c->size * 2, c->s[i].addr, c->s[i].kind,
			    c->s[i].val);
	free(c->s);
	c->s = ns;
	c->size *= 2;
	return 0;
}

void *
py_cache_put(const struct py_runtime *rt, int kind, uintptr_t addr,
    void *val)
{
	struct py_cache *c = py_cache_of(rt);

	if (c == NULL || addr == 0 || val == NULL ||
	    py_cache_get(rt, kind, addr) != NULL || c->used >= CACHE_MAX ||
	    ((c->used + 1) * 2 > c->size && grow(c) == -1)) {
		free(val);
		return NULL;
	}
	place(c->s, c->size, addr, kind, val);
	c->used++;
	return val;
}
