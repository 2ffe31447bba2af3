/*
 * libdw, libelf and zlib through the shim's stand-ins (lazylib.c), in a
 * program linked to none of the three: each is loaded by the first call
 * of one of its functions, and the call does what the library does.
 */
#include <criterion/criterion.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <elfutils/libdwfl.h>
#include <gelf.h>
#include <libelf.h>
#include <zlib.h>

static int
loaded(const char *lib)
{
	void *h = dlopen(lib, RTLD_NOW | RTLD_NOLOAD);

	if (h == NULL)
		return 0;
	dlclose(h);
	return 1;
}

static const Dwfl_Callbacks callbacks = {
	.find_elf = dwfl_linux_proc_find_elf,
	.find_debuginfo = dwfl_build_id_find_debuginfo,
};

Test(lazylib, libdw_loaded_by_its_first_call)
{
	const char *name;
	Dwfl *dw;
	Dwfl_Module *mod;

	cr_assert(!loaded("libdw.so.1"), "libdw mapped before any call");
	cr_assert(!loaded("libelf.so.1"), "libelf mapped before any call");
	dw = dwfl_begin(&callbacks);
	cr_assert_not_null(dw, "%s", dwfl_errmsg(-1));
	cr_assert(loaded("libdw.so.1"));
	dwfl_report_begin(dw);
	cr_assert_eq(dwfl_linux_proc_report(dw, getpid()), 0);
	cr_assert_eq(dwfl_report_end(dw, NULL, NULL), 0);
	/* The module of a libc function is libc's, through the stand-ins. */
	mod = dwfl_addrmodule(dw, (Dwarf_Addr)(uintptr_t)&strlen);
	cr_assert_not_null(mod);
	name = dwfl_module_info(mod, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
	cr_assert_not_null(strstr(name, "libc"), "module %s", name);
	dwfl_end(dw);
}

Test(lazylib, libelf_reads_this_program)
{
	size_t nphdr = 0, nscn = 0;
	Elf_Scn *scn = NULL;
	Elf *elf;
	int fd;

	cr_assert(!loaded("libelf.so.1"), "libelf mapped before any call");
	cr_assert_neq(elf_version(EV_CURRENT), EV_NONE);
	cr_assert(loaded("libelf.so.1"));
	cr_assert_eq(elf_begin(-1, ELF_C_READ, NULL), NULL);
	fd = open("/proc/self/exe", O_RDONLY);
	cr_assert_geq(fd, 0);
	elf = elf_begin(fd, ELF_C_READ, NULL);
	cr_assert_not_null(elf);
	cr_assert_eq(elf_kind(elf), ELF_K_ELF);
	cr_assert_eq(gelf_getclass(elf), ELFCLASS64);
	cr_assert_eq(elf_getphdrnum(elf, &nphdr), 0);
	cr_assert_gt(nphdr, 0);
	while ((scn = elf_nextscn(elf, scn)) != NULL)
		nscn++;
	cr_assert_gt(nscn, 10, "%zu sections", nscn);
	cr_assert_eq(elf_end(elf), 0);
	close(fd);
}

Test(lazylib, zlib_inflates)
{
	/* zlib.compress(b"gilwatch reads a process from outside\n" * 3) */
	static unsigned char in[] = {
		0x78, 0x9c, 0x4b, 0xcf, 0xcc, 0x29, 0x4f, 0x2c, 0x49, 0xce,
		0x50, 0x28, 0x4a, 0x4d, 0x4c, 0x29, 0x56, 0x48, 0x54, 0x28,
		0x28, 0xca, 0x4f, 0x4e, 0x2d, 0x2e, 0x56, 0x48, 0x2b, 0xca,
		0xcf, 0x55, 0xc8, 0x2f, 0x2d, 0x29, 0xce, 0x4c, 0x49, 0xe5,
		0x4a, 0xa7, 0xa2, 0x2a, 0x00, 0x92, 0x52, 0x2a, 0x58,
	};
	static const char line[] = "gilwatch reads a process from outside\n";
	char out[256];
	z_stream z;
	int i;

	memset(&z, 0, sizeof z);
	cr_assert_eq(inflateInit2(&z, 15), Z_OK);
	z.next_in = in;
	z.avail_in = sizeof in;
	z.next_out = (unsigned char *)out;
	z.avail_out = sizeof out;
	cr_assert_eq(inflate(&z, Z_FINISH), Z_STREAM_END);
	cr_assert_eq(z.total_out, 3 * strlen(line));
	for (i = 0; i < 3; i++)
		cr_assert_eq(memcmp(out + i * strlen(line), line, strlen(line)),
		    0);
	cr_assert_eq(inflateEnd(&z), Z_OK);
}
