/*
 * libdw, libelf and zlib for the shim, loaded at their first use.
 *
 * The shim names code addresses (libdw), reads ELF files (libelf) and
 * inflates their compressed sections (zlib) only for a report, a dump
 * or the monitor's publication: most runs of a program never do.
 * Linked as NEEDED libraries, the three and the libraries libdw needs
 * (liblzma, libbz2) were mapped and relocated at every start of every
 * program, a millisecond or more where a page fault costs 10-30 us.
 * So the shim is not linked to them: each function of theirs it calls
 * is defined here, hidden (the shim's default), under its own name and
 * with its own prototype, and calls the library's function, found by
 * dlopen and dlsym on the first call.  The code that calls them is the
 * same in the shim and in the command, which links the libraries.
 *
 * Where a first call may come from: a report or dump being written,
 * the public snapshot API, the monitor.  Never from a signal handler
 * (none of those paths is signal safe).  dlopen takes the loader's
 * lock, as the dladdr those paths already call does.
 *
 * Not in libgwcore.a: the unit tests link the libraries themselves,
 * and test-lazylib links this file alone.
 */
#include <dlfcn.h>
#include <stdatomic.h>
#include <stddef.h>

#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>
#include <gelf.h>
#include <libelf.h>
#include <zlib.h>

#include "msg.h"

enum lib { LIB_DW, LIB_ELF, LIB_Z, NLIBS };

static const char *const lib_file[NLIBS] = {
	"libdw.so.1", "libelf.so.1", "libz.so.1"
};

/* The function name of lib, or NULL (said once a library). */
static void *
lazy_sym(enum lib lib, const char *name)
{
	static void *_Atomic handle[NLIBS];
	static atomic_int said[NLIBS];
	void *h = atomic_load(&handle[lib]), *fn;

	if (h == NULL) {
		/* Two first calls at once open it twice: one more reference. */
		h = dlopen(lib_file[lib], RTLD_NOW | RTLD_LOCAL);
		if (h == NULL) {
			if (atomic_exchange(&said[lib], 1) == 0)
				msg_say("cannot load %s, so no names or lines "
				    "in reports: %s", lib_file[lib], dlerror());
			return NULL;
		}
		atomic_store(&handle[lib], h);
	}
	if ((fn = dlsym(h, name)) == NULL && atomic_exchange(&said[lib], 1) == 0)
		msg_say("%s has no %s", lib_file[lib], name);
	return fn;
}

/*
 * In the stand-in for name, a function of lib: f, the library's, found
 * once; else return fail, the library's own way of saying it failed
 * (nothing for a function that returns nothing).
 */
#define RESOLVE(lib, type, name, params, fail)				\
	static type (*_Atomic fn) params;				\
	type (*f) params = atomic_load_explicit(&fn,			\
	    memory_order_relaxed);					\
									\
	if (f == NULL) {						\
		if ((f = (type (*) params)lazy_sym(lib, #name)) == NULL)\
			return fail;					\
		atomic_store_explicit(&fn, f, memory_order_relaxed);	\
	}

#define LAZY(lib, type, name, params, args, fail)			\
type									\
name params								\
{									\
	RESOLVE(lib, type, name, params, fail)				\
	return f args;							\
}

#define LAZY_VOID(lib, name, params, args)				\
void									\
name params								\
{									\
	RESOLVE(lib, void, name, params, )				\
	f args;								\
}

/* libdwfl: modules, their symbols and lines. */
LAZY(LIB_DW, Dwfl *, dwfl_begin, (const Dwfl_Callbacks *cb), (cb), NULL)
LAZY_VOID(LIB_DW, dwfl_end, (Dwfl *dw), (dw))
LAZY(LIB_DW, const char *, dwfl_errmsg, (int err), (err),
    "libdw could not be loaded")
LAZY_VOID(LIB_DW, dwfl_report_begin, (Dwfl *dw), (dw))
LAZY(LIB_DW, int, dwfl_report_end, (Dwfl *dw,
    int (*removed)(Dwfl_Module *, void *, const char *, Dwarf_Addr, void *),
    void *arg), (dw, removed, arg), -1)
LAZY(LIB_DW, int, dwfl_linux_proc_report, (Dwfl *dw, pid_t pid),
    (dw, pid), -1)
LAZY(LIB_DW, int, dwfl_linux_proc_find_elf, (Dwfl_Module *mod,
    void **userdata, const char *name, Dwarf_Addr base, char **file,
    Elf **elfp), (mod, userdata, name, base, file, elfp), -1)
LAZY(LIB_DW, int, dwfl_build_id_find_debuginfo, (Dwfl_Module *mod,
    void **userdata, const char *name, Dwarf_Addr base, const char *file,
    const char *debuglink, GElf_Word crc, char **debugfile),
    (mod, userdata, name, base, file, debuglink, crc, debugfile), -1)
LAZY(LIB_DW, Dwfl_Module *, dwfl_addrmodule, (Dwfl *dw, Dwarf_Addr addr),
    (dw, addr), NULL)
LAZY(LIB_DW, const char *, dwfl_module_info, (Dwfl_Module *mod,
    void ***userdata, Dwarf_Addr *start, Dwarf_Addr *end,
    Dwarf_Addr *dwbias, Dwarf_Addr *symbias, const char **mainfile,
    const char **debugfile), (mod, userdata, start, end, dwbias, symbias,
    mainfile, debugfile), NULL)
LAZY(LIB_DW, Elf *, dwfl_module_getelf, (Dwfl_Module *mod, GElf_Addr *bias),
    (mod, bias), NULL)
LAZY(LIB_DW, int, dwfl_module_getsymtab, (Dwfl_Module *mod), (mod), -1)
LAZY(LIB_DW, int, dwfl_module_getsymtab_first_global, (Dwfl_Module *mod),
    (mod), -1)
LAZY(LIB_DW, const char *, dwfl_module_getsym_info, (Dwfl_Module *mod,
    int ndx, GElf_Sym *sym, GElf_Addr *addr, GElf_Word *shndx, Elf **elfp,
    Dwarf_Addr *bias), (mod, ndx, sym, addr, shndx, elfp, bias), NULL)
LAZY(LIB_DW, const char *, dwfl_module_addrinfo, (Dwfl_Module *mod,
    GElf_Addr addr, GElf_Off *off, GElf_Sym *sym, GElf_Word *shndx,
    Elf **elfp, Dwarf_Addr *bias), (mod, addr, off, sym, shndx, elfp, bias),
    NULL)
LAZY(LIB_DW, Dwfl_Line *, dwfl_module_getsrc, (Dwfl_Module *mod,
    Dwarf_Addr addr), (mod, addr), NULL)
LAZY(LIB_DW, const char *, dwfl_lineinfo, (Dwfl_Line *line,
    Dwarf_Addr *addr, int *linep, int *colp, Dwarf_Word *mtime,
    Dwarf_Word *length), (line, addr, linep, colp, mtime, length), NULL)
LAZY(LIB_DW, Dwarf_Die *, dwfl_module_addrdie, (Dwfl_Module *mod,
    Dwarf_Addr addr, Dwarf_Addr *bias), (mod, addr, bias), NULL)

/* libdw: debugging information entries. */
LAZY(LIB_DW, int, dwarf_tag, (Dwarf_Die *die), (die), -1)
LAZY(LIB_DW, const char *, dwarf_diename, (Dwarf_Die *die), (die), NULL)
LAZY(LIB_DW, int, dwarf_child, (Dwarf_Die *die, Dwarf_Die *result),
    (die, result), -1)
LAZY(LIB_DW, int, dwarf_siblingof, (Dwarf_Die *die, Dwarf_Die *result),
    (die, result), -1)
LAZY(LIB_DW, int, dwarf_peel_type, (Dwarf_Die *die, Dwarf_Die *result),
    (die, result), -1)
LAZY(LIB_DW, Dwarf_Attribute *, dwarf_attr, (Dwarf_Die *die,
    unsigned int name, Dwarf_Attribute *result), (die, name, result), NULL)
LAZY(LIB_DW, Dwarf_Attribute *, dwarf_attr_integrate, (Dwarf_Die *die,
    unsigned int name, Dwarf_Attribute *result), (die, name, result), NULL)
LAZY(LIB_DW, Dwarf_Die *, dwarf_formref_die, (Dwarf_Attribute *attr,
    Dwarf_Die *die), (attr, die), NULL)
LAZY(LIB_DW, int, dwarf_formudata, (Dwarf_Attribute *attr, Dwarf_Word *val),
    (attr, val), -1)
LAZY(LIB_DW, int, dwarf_aggregate_size, (Dwarf_Die *die, Dwarf_Word *size),
    (die, size), -1)
LAZY(LIB_DW, int, dwarf_getlocation_addr, (Dwarf_Attribute *attr,
    Dwarf_Addr addr, Dwarf_Op **exprs, size_t *exprlens, size_t nlocs),
    (attr, addr, exprs, exprlens, nlocs), -1)
LAZY(LIB_DW, int, dwarf_getscopes, (Dwarf_Die *cudie, Dwarf_Addr pc,
    Dwarf_Die **scopes), (cudie, pc, scopes), -1)

/* libelf. */
LAZY(LIB_ELF, unsigned int, elf_version, (unsigned int v), (v), EV_NONE)
LAZY(LIB_ELF, Elf *, elf_begin, (int fd, Elf_Cmd cmd, Elf *ref),
    (fd, cmd, ref), NULL)
LAZY(LIB_ELF, int, elf_end, (Elf *elf), (elf), 0)
LAZY(LIB_ELF, Elf_Kind, elf_kind, (Elf *elf), (elf), ELF_K_NONE)
LAZY(LIB_ELF, int, elf_getphdrnum, (Elf *elf, size_t *n), (elf, n), -1)
LAZY(LIB_ELF, int, elf_getshdrstrndx, (Elf *elf, size_t *n), (elf, n), -1)
LAZY(LIB_ELF, Elf_Scn *, elf_nextscn, (Elf *elf, Elf_Scn *scn), (elf, scn),
    NULL)
LAZY(LIB_ELF, Elf_Data *, elf_getdata, (Elf_Scn *scn, Elf_Data *data),
    (scn, data), NULL)
LAZY(LIB_ELF, Elf_Data *, elf_rawdata, (Elf_Scn *scn, Elf_Data *data),
    (scn, data), NULL)
LAZY(LIB_ELF, char *, elf_strptr, (Elf *elf, size_t ndx, size_t off),
    (elf, ndx, off), NULL)
LAZY(LIB_ELF, int, elf_compress, (Elf_Scn *scn, int type,
    unsigned int flags), (scn, type, flags), -1)
LAZY(LIB_ELF, int, gelf_getclass, (Elf *elf), (elf), ELFCLASSNONE)
LAZY(LIB_ELF, GElf_Phdr *, gelf_getphdr, (Elf *elf, int ndx, GElf_Phdr *dst),
    (elf, ndx, dst), NULL)
LAZY(LIB_ELF, GElf_Shdr *, gelf_getshdr, (Elf_Scn *scn, GElf_Shdr *dst),
    (scn, dst), NULL)
LAZY(LIB_ELF, GElf_Chdr *, gelf_getchdr, (Elf_Scn *scn, GElf_Chdr *dst),
    (scn, dst), NULL)

/* zlib: compressed sections. */
LAZY(LIB_Z, int, inflateInit2_, (z_streamp strm, int bits,
    const char *version, int size), (strm, bits, version, size),
    Z_VERSION_ERROR)
LAZY(LIB_Z, int, inflate, (z_streamp strm, int flush), (strm, flush),
    Z_STREAM_ERROR)
LAZY(LIB_Z, int, inflateEnd, (z_streamp strm), (strm), Z_STREAM_ERROR)
