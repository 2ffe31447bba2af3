/*
 * Naming code addresses with libdw (see symname.c).  A Dwfl is the
 * caller's: the shim keeps one for its own process, the command one per
 * process it reads from outside.
 */
#ifndef GW_SYMNAME_H
#define GW_SYMNAME_H

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
 * Find ELF files by /proc/PID/maps and separate debug files by build ID
 * only (no debuginfod: no network); every file opened close-on-exec.
 */
extern const Dwfl_Callbacks symname_callbacks;

/* The module holding pc, or NULL (also past the last module's end). */
Dwfl_Module	*symname_module_at(Dwfl *, uintptr_t pc);

/*
 * Fill sym for the code at pc in mod; ip is the address shown (pc + 1
 * for a return address): the offset is counted from it.
 */
void	symname_describe(Dwfl_Module *, uintptr_t pc, uintptr_t ip,
	    struct symbol *sym);

/* Copy with truncation; dst always ends up terminated. */
void	symname_copy(char *dst, size_t len, const char *src);

#endif /* GW_SYMNAME_H */
