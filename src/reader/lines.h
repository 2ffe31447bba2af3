/*
 * Line numbers of a module whose debug sections are compressed, read
 * from its .debug_line alone.  libdw inflates every debug section of a
 * file when it first opens its DWARF (libc6-dbg's are 10 MB inflated,
 * 5.8 MB of them .debug_info, some 70 ms here), only to find the
 * compile unit of an address and then its line table: the line
 * programs themselves (1.3 MB for libc) say which addresses they
 * cover.  The answer is libdw's (dwfl_module_getsrc, dwfl_lineinfo):
 * the last row at or below the address, none when that row ends a
 * sequence; the file named as libdw names it, its directory, a slash
 * and its name unless the name is absolute.  Only DWARF 5 line tables
 * (a version 2-4 table names its files relative to the unit's
 * compilation directory, which only .debug_info has): lines_open
 * declines any other, and the caller asks libdw.  Reads a local file:
 * a malformed one gives no line, never a crash.
 */
#ifndef GW_LINES_H
#define GW_LINES_H

#include <stddef.h>
#include <stdint.h>

struct lines;

/*
 * The line tables of the ELF file at path, for addresses relative to
 * it (its own link-time addresses): NULL when its .debug_line is not
 * compressed (libdw reads it as cheaply), when a table is not DWARF 5,
 * or on any error.
 */
struct lines	*lines_open(const char *path);
void		 lines_close(struct lines *);

/*
 * The line of addr: 0 with *file (valid until the next call) and
 * *line set, or -1 when no table covers it.
 */
int	lines_find(struct lines *, uint64_t addr, const char **file,
	    int *line);

/*
 * Where the first loadable segment of an ELF file starts (p_vaddr
 * aligned down to p_align), as libdwfl takes it to relate a debug
 * file's addresses to its module's: lines_vaddr for the file lines
 * read, lines_elf_vaddr for another (0 when it has none).
 */
uint64_t	lines_vaddr(const struct lines *);
struct Elf;
uint64_t	lines_elf_vaddr(struct Elf *);

#endif /* GW_LINES_H */
