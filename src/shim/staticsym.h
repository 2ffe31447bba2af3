/*
 * Data objects by name in an ELF file's own symbol table (.symtab: the
 * local symbols that the dynamic one lacks), read from the file with
 * pread and scanned once.  The quick way to a few static names at
 * start-up: pytables_find cost 4.0 / 5.9 M instructions through libdw's
 * per-symbol interface on libpython 3.13 / 3.12, 0.34 / 0.79 M so.  A file without .symtab (stripped, its
 * symbols in a separate debug file) is libdw's to search.  Allocates:
 * for start-up only.
 */
#ifndef GW_STATICSYM_H
#define GW_STATICSYM_H

#include <stdint.h>

#define STATICSYM_CANDIDATES	4	/* objects of one name kept (static
					   names repeat across a library's
					   source files) */

struct staticsym_want {
	const char	*name;
	uintptr_t	 addr[STATICSYM_CANDIDATES];	/* bias + value */
	int		 n;
};

/*
 * Fill every want with the STT_OBJECT symbols of its name in path's
 * .symtab, loaded at bias (dl_phdr_info's dlpi_addr).  0 when the file
 * has a .symtab that was read (whether or not a name is in it), -1 when
 * it has none or cannot be read as one (then every n is 0).
 */
int	staticsym_objects(const char *path, uintptr_t bias,
	    struct staticsym_want *want, int nwant);

#endif /* GW_STATICSYM_H */
