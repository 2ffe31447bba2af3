/*
 * Data objects by name from a file's .symtab (staticsym.c), against the
 * truth (the addresses of this program's own static objects) and
 * against libdw (the slow way it replaces in pytables.c); and on files
 * that are not what they claim.
 */
#include <criterion/criterion.h>
#include <elf.h>
#include <elfutils/libdwfl.h>
#include <link.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "symname.h"
#include "staticsym.h"

/*
 * Local objects, which only .symtab names.  (A name twice, as static
 * tables repeat across libpython's files, needs two source files: GCC
 * renames a function's statics "name.0", "name.1".)
 */
__attribute__((used)) static int gw_probe_alpha[3] = { 1, 2, 3 };
__attribute__((used)) static long gw_probe_beta = 4;

static int
program_bias(struct dl_phdr_info *info, size_t size, void *arg)
{
	(void)size;
	*(uintptr_t *)arg = info->dlpi_addr;
	return 1;	/* the first object is the program */
}

static void
want_probes(struct staticsym_want *w)
{
	memset(w, 0, 4 * sizeof *w);
	w[0].name = "gw_probe_alpha";
	w[1].name = "gw_probe_beta";
	w[2].name = "gw_probe_alp";	/* a prefix of one */
	w[3].name = "gw_probe_absent";
}

static int
has(const struct staticsym_want *w, uintptr_t a)
{
	int i;

	for (i = 0; i < w->n; i++)
		if (w->addr[i] == a)
			return 1;
	return 0;
}

Test(staticsym, finds_the_programs_static_objects)
{
	struct staticsym_want w[4];
	uintptr_t bias = 0;

	dl_iterate_phdr(program_bias, &bias);
	want_probes(w);
	cr_assert_eq(staticsym_objects("/proc/self/exe", bias, w, 4), 0);
	cr_assert_eq(w[0].n, 1);
	cr_assert_eq(w[0].addr[0], (uintptr_t)gw_probe_alpha);
	cr_assert_eq(w[1].n, 1);
	cr_assert_eq(w[1].addr[0], (uintptr_t)&gw_probe_beta);
	cr_assert_eq(w[2].n, 0);
	cr_assert_eq(w[3].n, 0);
}

/* libdw's answer for the same names, in the module holding addr. */
static void
dwfl_objects(uintptr_t addr, struct staticsym_want *w, int nw)
{
	Dwfl *dw = dwfl_begin(&symname_callbacks);
	Dwfl_Module *mod;
	GElf_Sym sym;
	GElf_Addr a;
	const char *name;
	int i, k, n;

	cr_assert_not_null(dw);
	dwfl_report_begin(dw);
	cr_assert_eq(dwfl_linux_proc_report(dw, getpid()), 0);
	cr_assert_eq(dwfl_report_end(dw, NULL, NULL), 0);
	cr_assert_not_null(mod = dwfl_addrmodule(dw, addr));
	n = dwfl_module_getsymtab(mod);
	for (i = 1; i < n; i++) {
		name = dwfl_module_getsym_info(mod, i, &sym, &a, NULL, NULL,
		    NULL);
		if (name == NULL || GELF_ST_TYPE(sym.st_info) != STT_OBJECT)
			continue;
		for (k = 0; k < nw; k++)
			if (strcmp(name, w[k].name) == 0 &&
			    w[k].n < STATICSYM_CANDIDATES)
				w[k].addr[w[k].n++] = (uintptr_t)a;
	}
	dwfl_end(dw);
}

Test(staticsym, agrees_with_libdw)
{
	struct staticsym_want fast[4], slow[4];
	uintptr_t bias = 0;
	int k, i;

	dl_iterate_phdr(program_bias, &bias);
	want_probes(fast);
	want_probes(slow);
	cr_assert_eq(staticsym_objects("/proc/self/exe", bias, fast, 4), 0);
	dwfl_objects((uintptr_t)gw_probe_alpha, slow, 4);
	for (k = 0; k < 4; k++) {
		cr_assert_eq(fast[k].n, slow[k].n, "%s", fast[k].name);
		for (i = 0; i < slow[k].n; i++)
			cr_assert(has(&fast[k], slow[k].addr[i]), "%s",
			    fast[k].name);
	}
}

static void
write_file(const char *path, const void *p, size_t len)
{
	FILE *f = fopen(path, "wb");

	cr_assert_not_null(f);
	cr_assert_eq(fwrite(p, 1, len, f), len);
	fclose(f);
}

Test(staticsym, no_symtab_or_no_elf_is_minus_one)
{
	char path[] = "/tmp/gw-symtab-XXXXXX";
	struct staticsym_want w[4];
	Elf64_Ehdr eh;
	int fd = mkstemp(path);

	cr_assert_neq(fd, -1);
	close(fd);
	want_probes(w);
	write_file(path, "not an ELF file at all, not even close to one", 46);
	cr_assert_eq(staticsym_objects(path, 0, w, 4), -1);
	/* A header whose section table lies past the end of the file. */
	memset(&eh, 0, sizeof eh);
	memcpy(eh.e_ident, ELFMAG, SELFMAG);
	eh.e_ident[EI_CLASS] = ELFCLASS64;
	eh.e_shentsize = sizeof(Elf64_Shdr);
	eh.e_shnum = 3;
	eh.e_shoff = 1u << 20;
	write_file(path, &eh, sizeof eh);
	cr_assert_eq(staticsym_objects(path, 0, w, 4), -1);
	cr_assert_eq(w[0].n, 0);
	cr_assert_eq(staticsym_objects("/nonexistent/gw-symtab", 0, w, 4), -1);
	unlink(path);
}

/*
 * A made file: one good symbol, one whose name starts past the string
 * table, one whose name runs to the table's end without its NUL.
 */
Test(staticsym, names_outside_the_string_table_are_not_read)
{
	static const char strtab[] = "\0gw_good\0gw_cut";	/* no last NUL */
	struct {
		Elf64_Ehdr	eh;
		Elf64_Shdr	sh[3];
		Elf64_Sym	sym[4];
		char		str[sizeof strtab - 1];
	} f;
	struct staticsym_want w[2] = { { .name = "gw_good" },
	    { .name = "gw_cut" } };
	char path[] = "/tmp/gw-symtab-XXXXXX";
	int fd = mkstemp(path);

	cr_assert_neq(fd, -1);
	close(fd);
	memset(&f, 0, sizeof f);
	memcpy(f.eh.e_ident, ELFMAG, SELFMAG);
	f.eh.e_ident[EI_CLASS] = ELFCLASS64;
	f.eh.e_shentsize = sizeof(Elf64_Shdr);
	f.eh.e_shnum = 3;
	f.eh.e_shoff = offsetof(typeof(f), sh);
	f.sh[1].sh_type = SHT_SYMTAB;
	f.sh[1].sh_entsize = sizeof(Elf64_Sym);
	f.sh[1].sh_link = 2;
	f.sh[1].sh_offset = offsetof(typeof(f), sym);
	f.sh[1].sh_size = sizeof f.sym;
	f.sh[2].sh_type = SHT_STRTAB;
	f.sh[2].sh_offset = offsetof(typeof(f), str);
	f.sh[2].sh_size = sizeof f.str;
	memcpy(f.str, strtab, sizeof f.str);
	f.sym[1].st_name = 1;
	f.sym[1].st_info = ELF64_ST_INFO(STB_LOCAL, STT_OBJECT);
	f.sym[1].st_shndx = 1;
	f.sym[1].st_value = 0x1000;
	f.sym[2].st_name = 1000;
	f.sym[2].st_info = ELF64_ST_INFO(STB_LOCAL, STT_OBJECT);
	f.sym[2].st_shndx = 1;
	f.sym[3].st_name = 9;	/* "gw_cut", unterminated */
	f.sym[3].st_info = ELF64_ST_INFO(STB_LOCAL, STT_OBJECT);
	f.sym[3].st_shndx = 1;
	write_file(path, &f, sizeof f);
	cr_assert_eq(staticsym_objects(path, 0x10000, w, 2), 0);
	cr_assert_eq(w[0].n, 1);
	cr_assert_eq(w[0].addr[0], 0x11000);
	cr_assert_eq(w[1].n, 0);
	unlink(path);
}

/*
 * A made file of 1500 symbols, read in chunks: the name at both sides
 * of a chunk's edge (511 and 512 are in two chunks of 512) and near the
 * end is found, the others, of other names and types, are not.
 */
Test(staticsym, a_table_of_many_chunks)
{
	static const char strtab[] = "\0gw_many\0gw_other";
	enum { NSYM = 1500 };
	struct head {
		Elf64_Ehdr	eh;
		Elf64_Shdr	sh[3];
	} h;
	static Elf64_Sym sym[NSYM];
	struct staticsym_want w = { .name = "gw_many" };
	char path[] = "/tmp/gw-symtab-XXXXXX";
	int fd = mkstemp(path), i;
	FILE *f;

	cr_assert_neq(fd, -1);
	close(fd);
	memset(&h, 0, sizeof h);
	memset(sym, 0, sizeof sym);
	memcpy(h.eh.e_ident, ELFMAG, SELFMAG);
	h.eh.e_ident[EI_CLASS] = ELFCLASS64;
	h.eh.e_shentsize = sizeof(Elf64_Shdr);
	h.eh.e_shnum = 3;
	h.eh.e_shoff = offsetof(struct head, sh);
	h.sh[1].sh_type = SHT_SYMTAB;
	h.sh[1].sh_entsize = sizeof(Elf64_Sym);
	h.sh[1].sh_link = 2;
	h.sh[1].sh_offset = sizeof h;
	h.sh[1].sh_size = sizeof sym;
	h.sh[2].sh_type = SHT_STRTAB;
	h.sh[2].sh_offset = sizeof h + sizeof sym;
	h.sh[2].sh_size = sizeof strtab;
	for (i = 1; i < NSYM; i++) {
		sym[i].st_name = 9;	/* gw_other */
		sym[i].st_info = ELF64_ST_INFO(STB_LOCAL, STT_OBJECT);
		sym[i].st_shndx = 1;
		sym[i].st_value = (Elf64_Addr)i;
	}
	sym[511].st_name = sym[512].st_name = sym[1490].st_name = 1;
	sym[700].st_name = 1;	/* gw_many, but a function */
	sym[700].st_info = ELF64_ST_INFO(STB_LOCAL, STT_FUNC);
	f = fopen(path, "wb");
	cr_assert_not_null(f);
	cr_assert_eq(fwrite(&h, sizeof h, 1, f), 1);
	cr_assert_eq(fwrite(sym, sizeof sym, 1, f), 1);
	cr_assert_eq(fwrite(strtab, sizeof strtab, 1, f), 1);
	fclose(f);
	cr_assert_eq(staticsym_objects(path, 0x1000, &w, 1), 0);
	cr_assert_eq(w.n, 3);
	cr_assert_eq(w.addr[0], 0x1000 + 511);
	cr_assert_eq(w.addr[1], 0x1000 + 512);
	cr_assert_eq(w.addr[2], 0x1000 + 1490);
	/* Cut short: the table runs past the end of the file. */
	cr_assert_eq(truncate(path, (off_t)(sizeof h + sizeof sym / 2)), 0);
	cr_assert_eq(staticsym_objects(path, 0x1000, &w, 1), -1);
	cr_assert_eq(w.n, 0);
	unlink(path);
}
