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

void
arena_free(struct arena *a)
{
	struct arena_block *b, *next;

	for (b = a->blocks; b != NULL; b = next) {
		next = b->next;
		free(b);
	}
	a->blocks = NULL;
}
