/*
 * Arrays that grow as they are filled.  One rule for every list the
 * readers and the reports build: the capacity doubles, so that adding
 * elements one at a time costs a constant time each, amortised.
 */
#ifndef GW_GROW_H
#define GW_GROW_H

#include <stddef.h>

/*
 * Room in v, an array of *cap elements of size bytes (size is not 0),
 * for need of them.  Returns v itself if it has that room, else v
 * reallocated to first elements or twice *cap, whichever is larger,
 * doubled again until need fits, with *cap updated.  NULL when memory
 * runs out or the size would overflow (errno ENOMEM): v and *cap are
 * then unchanged, v still the caller's to free.
 */
void	*grow(void *v, size_t *cap, size_t need, size_t size, size_t first);

#endif /* GW_GROW_H */
