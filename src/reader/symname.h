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

/*
 * Name ip (is_return: look up ip - 1) in dw, through a cache of names
 * by address: the threads of a pool wait alike, and libdw's lookup
 * scans a module's symbols each time (a thousand threads waiting at the
 * same two places name the same frames a thousand times).  0, or -1
 * when in no module.  A cache that could not be allocated (NULL) only
 * makes it slower.  For readers from outside: allocates.
 */
struct symname_cache;
struct symname_cache *symname_cache_new(void);
void	symname_cache_free(struct symname_cache *);
int	symname_lookup(struct symname_cache *, Dwfl *, uintptr_t ip,
	    int is_return, struct symbol *sym);

/* Copy with truncation; dst always ends up terminated. */
void	symname_copy(char *dst, size_t len, const char *src);

/*
 * A function's name as people write it, copied as symname_copy does: a
 * C++ symbol ("_ZN8LockTest8Acquire1Ev") demangled ("LockTest::
 * Acquire1()").  Allocates, as libdw does here: never from a signal
 * handler.
 */
void	symname_function(char *dst, size_t len, const char *name);

#endif /* GW_SYMNAME_H */
