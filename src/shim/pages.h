/*
 * Memory for the shim's own tables, straight from the kernel: never
 * malloc, which a hook may be called from inside, nor anything that
 * takes a lock of the program's.  Pages are reserved, not committed
 * (MAP_NORESERVE): a table sized for the worst case costs only what is
 * touched.
 */
#ifndef GW_PAGES_H
#define GW_PAGES_H

#include <stddef.h>

/* len bytes of zeroed memory, or NULL. */
void	*pages_map(size_t len);

/* Give back what pages_map gave (the same len): its pages, at least;
 * the addresses are not reused. */
void	 pages_unmap(void *p, size_t len);

#endif /* GW_PAGES_H */
