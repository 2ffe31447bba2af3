/*
 * An arena: many small allocations freed in one go, for a snapshot and
 * the strings it owns (the shim's, and one read from outside).
 * Not thread safe; one owner at a time.
 */
#ifndef GW_ARENA_H
#define GW_ARENA_H

#include <stddef.h>

struct arena_block;

struct arena {
	struct arena_block *blocks;
	int		 failed;	/* an allocation failed */
	const char	**shared;	/* arena_intern's table, or NULL */
	size_t		 nshared, cap;
};

#define ARENA_INIT	{ NULL, 0, NULL, 0, 0 }

/* len zeroed bytes, 16-aligned; NULL (and failed set) without memory. */
void		*arena_alloc(struct arena *, size_t len);

/* A copy of str; NULL for NULL or "" (as for a missing name). */
const char	*arena_str(struct arena *, const char *str);

/*
 * A copy of str shared with every equal string interned before in this
 * arena: for the names a thousand stacks repeat (NULL as arena_str).
 */
const char	*arena_intern(struct arena *, const char *str);

/* Free every block; the arena is empty again. */
void		 arena_free(struct arena *);

#endif /* GW_ARENA_H */
