/*
 * Naming code addresses (symbol.h).
 */
#include <string.h>

#include "symbol.h"

void
symbol_copy(char *dst, size_t len, const char *src)
{
	size_t n = strlen(src);

	if (n >= len)
		n = len - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

void
symbol_describe(Dwfl_Module *mod, uintptr_t pc, uintptr_t ip,
    struct symbol *sym)
{
	const char *name, *main_file = NULL;
	GElf_Off off;
	GElf_Sym es;
	Dwarf_Addr bias;
	Dwfl_Line *line;
	int lineno;

	memset(sym, 0, sizeof *sym);
	if ((name = dwfl_module_addrinfo(mod, pc, &off, &es, NULL, NULL,
	    NULL)) != NULL) {
		symbol_copy(sym->function, sizeof sym->function, name);
		sym->offset = off + (ip - pc);
	}
	/* Loads the ELF, if addrinfo has not, so the file name is known. */
	(void)dwfl_module_getelf(mod, &bias);
	name = dwfl_module_info(mod, NULL, NULL, NULL, NULL, NULL, &main_file,
	    NULL);
	if (main_file != NULL)
		name = main_file;
	if (name != NULL)
		symbol_copy(sym->module, sizeof sym->module, name);
	if ((line = dwfl_module_getsrc(mod, pc)) != NULL &&
	    (name = dwfl_lineinfo(line, NULL, &lineno, NULL, NULL,
	    NULL)) != NULL && lineno > 0) {
		symbol_copy(sym->file, sizeof sym->file, name);
		sym->line = lineno;
	}
}
