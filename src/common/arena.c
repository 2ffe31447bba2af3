/* An arena for snapshots: see arena.h. */
#include <stdlib.h>
#include <string.h>

#include "arena.h"

#define ARENA_BLOCK	(64 * 1024)

struct arena_block {
	struct arena_block *next;
	size_t		 used;
	size_t		 size;
	char		 data[];
};

void *
arena_alloc(struct arena *a, size_t len)
{
	struct arena_block *b = a->blocks;
	size_t size;
	void *p;

	len = (len + 15) & ~(size_t)15;
	if (b == NULL || b->used + len > b->size) {
		size = len > ARENA_BLOCK ? len : ARENA_BLOCK;
		b = malloc(sizeof *b + size);
		if (b == NULL) {
			a->failed = 1;
			return NULL;
		}
		b->next = a->blocks;
		b->used = 0;
		b->size = size;
		a->blocks = b;
	}
	p = b->data + b->used;
	b->used += len;
	memset(p, 0, len);
	return p;
}

const char *
arena_str(struct arena *a, const char *str)
{
	size_t n;
	char *p;

	if (str == NULL || str[0] == '\0')
		return NULL;
	n = strlen(str) + 1;
	p = arena_alloc(a, n);
	if (p != NULL)
		memcpy(p, str, n);
	return p;
}

static size_t
str_hash(const char *s)
{
	size_t h = 14695981039346656037ULL;

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

/* The table twice as large (open addressing, at most half full). */
static int
intern_grow(struct arena *a)
{
	const char **v;
	size_t cap = a->cap ? a->cap * 2 : 256, i, k;

	if ((v = arena_alloc(a, cap * sizeof *v)) == NULL)
		return -1;
	for (i = 0; i < a->cap; i++) {
		if (a->shared[i] == NULL)
			continue;
		for (k = str_hash(a->shared[i]) & (cap - 1); v[k] != NULL;
		    k = (k + 1) & (cap - 1))
			;
		v[k] = a->shared[i];
	}
	a->shared = v;		/* the old table stays in the arena, unused */
	a->cap = cap;
	return 0;
}

const char *
arena_intern(struct arena *a, const char *str)
{
	size_t k;

	if (str == NULL || str[0] == '\0')
		return NULL;
	if (2 * (a->nshared + 1) > a->cap && intern_grow(a) == -1)
		return NULL;
	for (k = str_hash(str) & (a->cap - 1); a->shared[k] != NULL;
	    k = (k + 1) & (a->cap - 1))
		if (strcmp(a->shared[k], str) == 0)
			return a->shared[k];
	if ((a->shared[k] = arena_str(a, str)) != NULL)
		a->nshared++;
	return a->shared[k];
}

void
arena_free(struct arena *a)
{
	struct arena_block *b, *next;

	for (b = a->blocks; b != NULL; b = next) {
		next = b->next;
		free(b);
	}
	a->blocks = NULL;
	a->shared = NULL;
	a->nshared = a->cap = 0;
}
