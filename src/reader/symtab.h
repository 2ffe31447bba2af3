/*
 * A module's symbols in a compact table, read from libdw once, for
 * naming many addresses: libdw's dwfl_module_addrinfo reads the whole
 * symbol table again for each address (libpython's 15,000 symbols,
 * some 2.4 M instructions an address), where this table's scan is a
 * few instructions a symbol.  The answer is libdw's: the same choice
 * among the symbols, in the same order, as libdwfl makes it
 * (dwfl_module_addrsym.c); where that choice would need a sizeless
 * symbol's section (hand-written assembly), or off x86-64, it says to
 * ask libdw.
 */
#ifndef GW_SYMTAB_H
#define GW_SYMTAB_H

#include <elfutils/libdwfl.h>

struct symtab;

/* mod's symbols, or NULL (none, out of memory): ask libdw. */
struct symtab	*symtab_open(Dwfl_Module *mod);
void		 symtab_close(struct symtab *);

/*
 * What dwfl_module_addrinfo(mod, addr, off, ...) answers: 1 with *name
 * (libdw's string, valid while the Dwfl lives) and *off, 0 when it
 * finds nothing, -1 when libdw is to be asked.
 */
int	symtab_find(const struct symtab *, GElf_Addr addr, const char **name,
	    GElf_Off *off);

#endif /* GW_SYMTAB_H */
