/*
 * Naming code addresses with libdw: one way for every native stack,
 * the shim's (stack.h), a live process's and a core's (core.h), so that
 * a frame reads the same whichever way it was taken.
 */
#ifndef GW_SYMBOL_H
#define GW_SYMBOL_H

#include <stddef.h>
#include <stdint.h>

#include <elfutils/libdwfl.h>

struct symbol {
	char		function[256];	/* "" when unknown */
	uintptr_t	offset;		/* ip - function start */
	char		module[256];	/* "" when unknown */
	char		file[256];	/* "" when no debug info */
	int		line;		/* 0 when no debug info */
};

/*
 * Fill sym for pc in mod: function and offset (from ip, the address as
 * captured: pc is ip - 1 for a return address), the module's file,
 * and the source line where debug information has one.  sym is zeroed
 * first.
 */
void	symbol_describe(Dwfl_Module *mod, uintptr_t pc, uintptr_t ip,
	    struct symbol *sym);

/* Copy with truncation; dst always ends up terminated. */
void	symbol_copy(char *dst, size_t len, const char *src);

#endif /* GW_SYMBOL_H */
