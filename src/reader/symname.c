/*
 * Naming code addresses with libdw, the same way for the shim (its own
 * process) and the command (another process read from outside), so a
 * frame reads "function+0xoff (file:line) in module" in both.
 */
#include <dlfcn.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "lines.h"
#include "symname.h"
#include "symtab.h"

/* Copy with truncation; dst always ends up terminated. */
void
symname_copy(char *dst, size_t len, const char *src)
{
	size_t n = strlen(src);

	if (n >= len)
		n = len - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

typedef char	*(*demangle_fn)(const char *, char *, size_t *, int *);

/*
 * The C++ runtime's demangler: the program's own when it has loaded
 * libstdc++, else libstdc++ loaded now, once a C++ name is to be shown
 * (a C++ program that uses nothing of libstdc++ is linked without it).
 * Linking it in would load it into every program the shim watches.
 */
static demangle_fn
demangler(void)
{
	static _Atomic(demangle_fn) fn;
	static atomic_int tried;
	demangle_fn f;
	void *h;

	/* Two threads may both look: a second dlopen only counts up. */
	if ((f = atomic_load(&fn)) != NULL || atomic_exchange(&tried, 1))
		return f;
	if ((f = (demangle_fn)dlsym(RTLD_DEFAULT, "__cxa_demangle")) == NULL &&
	    (h = dlopen("libstdc++.so.6", RTLD_LAZY | RTLD_LOCAL)) != NULL)
		f = (demangle_fn)dlsym(h, "__cxa_demangle");
	atomic_store(&fn, f);
	return f;
}

void
symname_function(char *dst, size_t len, const char *name)
{
	demangle_fn demangle = NULL;
	char *plain;
	int status = -1;

	if (strncmp(name, "_Z", 2) == 0)
		demangle = demangler();
	if (demangle == NULL ||
	    (plain = demangle(name, NULL, NULL, &status)) == NULL) {
		symname_copy(dst, len, name);
		return;
	}
	symname_copy(dst, len, status == 0 ? plain : name);
	free(plain);
}

/*
 * libdwfl keeps open the files it reads, for as long as the Dwfl lives,
 * and opens them without O_CLOEXEC: keep them out of what the program
 * execs.
 */
static int
cloexec(int fd)
{
	if (fd >= 0)
		(void)fcntl(fd, F_SETFD, FD_CLOEXEC);
	return fd;
}

static int
find_elf(Dwfl_Module *mod, void **userdata, const char *modname,
    Dwarf_Addr base, char **file_name, Elf **elfp)
{
	return cloexec(dwfl_linux_proc_find_elf(mod, userdata, modname, base,
	    file_name, elfp));
}

/*
 * Separate debug files are looked for by build ID only, where
 * distribution debug packages put them.  dwfl_standard_find_debuginfo
 * would, failing that, dlopen libdebuginfod and libcurl and perhaps
 * fetch over the network, from inside the program being watched.
 */
static int
find_debuginfo(Dwfl_Module *mod, void **userdata, const char *modname,
    Dwarf_Addr base, const char *file, const char *debuglink,
    GElf_Word crc, char **debugname)
{
	return cloexec(dwfl_build_id_find_debuginfo(mod, userdata, modname,
	    base, file, debuglink, crc, debugname));
}

const Dwfl_Callbacks symname_callbacks = {
	.find_elf = find_elf,
	.find_debuginfo = find_debuginfo,
};

/* dwfl_addrmodule, but past the last module it answers that module. */
Dwfl_Module *
symname_module_at(Dwfl *dw, uintptr_t pc)
{
	Dwfl_Module *mod;
	Dwarf_Addr start, end;

	if ((mod = dwfl_addrmodule(dw, pc)) == NULL ||
	    dwfl_module_info(mod, NULL, &start, &end, NULL, NULL, NULL,
	    NULL) == NULL || pc < start || pc >= end)
		return NULL;
	return mod;
}


#define NAME_CACHE	1024

struct name_entry {
	uintptr_t	 ip;		/* 0: empty */
	int		 is_return;
	int		 found;
	struct symbol	 sym;
};

#define MODULES		64	/* modules with tables of their own */

/* A module's lines.h and symtab.h tables, once looked for. */
struct module_lines {
	Dwfl_Module	*mod;
	struct lines	*l;		/* NULL: libdw's */
	Dwarf_Addr	 bias;
	int		 lines_tried;
	struct symtab	*syms;		/* NULL: libdw's */
};

struct symname_cache {
	struct name_entry e[NAME_CACHE];
	struct module_lines m[MODULES];
	int		 nm;
};

struct symname_cache *
symname_cache_new(void)
{
	return calloc(1, sizeof(struct symname_cache));
}

void
symname_cache_free(struct symname_cache *c)
{
	int i;

	if (c == NULL)
		return;
	for (i = 0; i < c->nm; i++) {
		lines_close(c->m[i].l);
		symtab_close(c->m[i].syms);
	}
	free(c);
}

/*
 * mod's entry, its symbols read (symtab.h) when it is new: NULL when
 * there is no room.
 */
static struct module_lines *
module_entry(struct symname_cache *c, Dwfl_Module *mod)
{
	struct module_lines *m;
	int i;

	for (i = 0; i < c->nm; i++)
		if (c->m[i].mod == mod)
			return &c->m[i];
	if (c->nm == MODULES)
		return NULL;
	m = &c->m[c->nm++];
	m->mod = mod;
	m->syms = symtab_open(mod);
	return m;
}

/*
 * mod's line tables when its debug sections are compressed (lines.h),
 * found once; NULL to ask libdw.  Asked after its symbols, read from
 * the separate debug file, if any, which they found.
 */
static struct module_lines *
module_lines(struct symname_cache *c, Dwfl_Module *mod)
{
	struct module_lines *m;
	const char *mainfile = NULL, *debugfile = NULL;
	Dwarf_Addr bias;
	Elf *elf;

	if ((m = module_entry(c, mod)) == NULL || m->lines_tried)
		return m != NULL && m->l != NULL ? m : NULL;
	m->lines_tried = 1;
	if ((elf = dwfl_module_getelf(mod, &bias)) == NULL ||
	    dwfl_module_info(mod, NULL, NULL, NULL, NULL, NULL, &mainfile,
	    &debugfile) == NULL ||
	    (m->l = lines_open(debugfile != NULL ? debugfile : mainfile)) ==
	    NULL)
		return NULL;
	/* As libdwfl relates a debug file to its module. */
	m->bias = bias + lines_elf_vaddr(elf) - lines_vaddr(m->l);
	return m;
}

/*
 * Fill sym as symname_describe says, the line from c's tables of the
 * module when it has them (lines.h: its debug sections are
 * compressed), else from libdw.
 */
static void
describe(Dwfl_Module *mod, uintptr_t pc, uintptr_t ip, struct symbol *sym,
    struct symname_cache *c)
{
	struct module_lines *ml;
	const char *name, *main_file = NULL;
	GElf_Off off;
	GElf_Sym es;
	Dwarf_Addr mbias;
	Dwfl_Line *line;
	int lineno, found = -1;

	/* The module's symbols scanned here, else libdw's scan. */
	if (c != NULL && (ml = module_entry(c, mod)) != NULL &&
	    ml->syms != NULL)
		found = symtab_find(ml->syms, pc, &name, &off);
	if (found == -1)
		found = (name = dwfl_module_addrinfo(mod, pc, &off, &es, NULL,
		    NULL, NULL)) != NULL;
	if (found == 1) {
		symname_function(sym->function, sizeof sym->function, name);
		sym->offset = off + (ip - pc);
	}
	/* Loads the ELF, if addrinfo has not, so the file name is known. */
	(void)dwfl_module_getelf(mod, &mbias);
	name = dwfl_module_info(mod, NULL, NULL, NULL, NULL, NULL, &main_file,
	    NULL);
	if (main_file != NULL)
		name = main_file;
	if (name != NULL)
		symname_copy(sym->module, sizeof sym->module, name);
	/* After addrinfo, which found a separate debug file if any. */
	if (c != NULL && (ml = module_lines(c, mod)) != NULL) {
		if (lines_find(ml->l, pc - ml->bias, &name, &lineno) == 0) {
			symname_copy(sym->file, sizeof sym->file, name);
			sym->line = lineno;
		}
	} else if ((line = dwfl_module_getsrc(mod, pc)) != NULL &&
	    (name = dwfl_lineinfo(line, NULL, &lineno, NULL, NULL,
	    NULL)) != NULL && lineno > 0) {
		symname_copy(sym->file, sizeof sym->file, name);
		sym->line = lineno;
	}
}

void
symname_describe(Dwfl_Module *mod, uintptr_t pc, uintptr_t ip,
    struct symbol *sym)
{
	describe(mod, pc, ip, sym, NULL);
}

int
symname_lookup(struct symname_cache *c, Dwfl *dw, uintptr_t ip,
    int is_return, struct symbol *sym)
{
	struct name_entry *e = NULL;
	Dwfl_Module *mod;
	uintptr_t pc = is_return && ip > 0 ? ip - 1 : ip;

	if (c != NULL) {
		e = &c->e[(ip >> 2) % NAME_CACHE];
		if (e->ip == ip && e->is_return == is_return) {
			*sym = e->sym;
			return e->found ? 0 : -1;
		}
	}
	memset(sym, 0, sizeof(*sym));
	if ((mod = symname_module_at(dw, pc)) != NULL)
		describe(mod, pc, ip, sym, c);
	if (e != NULL) {
		e->ip = ip;
		e->is_return = is_return;
		e->found = mod != NULL;
		e->sym = *sym;
	}
	return mod != NULL ? 0 : -1;
}
