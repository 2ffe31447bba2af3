/*
 * Unit tests for src/reader/lines.c: the line of every address, read
 * from a compressed .debug_line alone, is the one libdw answers from
 * the whole of the debug information, through symname's two paths
 * (symname_lookup with a cache uses lines.c, symname_describe libdw),
 * on this test's own executable compressed by objcopy, and on libc
 * when its separate debug file (libc6-dbg) is installed.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <gelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lines.h"
#include "symname.h"

static const Dwfl_Callbacks offline = {
	.find_elf = dwfl_build_id_find_elf,
	.find_debuginfo = dwfl_build_id_find_debuginfo,
	.section_address = dwfl_offline_section_address,
};

/*
 * The line libdw gives pc in mod (0 when none) against lines.c's for
 * the file at path; every step-th address of the module, and through
 * symname (its bias and its cache) every 64th of those.  How many
 * addresses had a line.
 */
static long
compare(const char *path, uintptr_t step)
{
	struct symname_cache *c;
	struct symbol mine, libdw;
	struct lines *l;
	Dwfl_Module *mod;
	Dwfl_Line *dl;
	Dwarf_Addr start, end, pc, bias;
	const char *debugfile = NULL, *mainfile = NULL, *f, *df;
	Dwfl *dw;
	long n = 0, lines = 0, mismatches = 0;
	int line, dline;

	cr_assert_not_null(dw = dwfl_begin(&offline));
	dwfl_report_begin(dw);
	cr_assert_not_null(mod = dwfl_report_offline(dw, "m", path, -1),
	    "%s: %s", path, dwfl_errmsg(-1));
	cr_assert_eq(dwfl_report_end(dw, NULL, NULL), 0);
	if (dwfl_module_getdwarf(mod, &bias) == NULL) {
		dwfl_end(dw);
		return -1;			/* no debug information */
	}
	cr_assert_not_null(dwfl_module_info(mod, NULL, &start, &end, NULL,
	    NULL, &mainfile, &debugfile));
	/* Read by lines.c, not by libdw on both sides. */
	cr_assert_not_null(l = lines_open(debugfile != NULL ? debugfile :
	    mainfile), "%s: no DWARF 5 line tables in compressed sections",
	    path);
	cr_assert_not_null(c = symname_cache_new());
	for (pc = start; pc < end; pc += step, n++) {
		dline = 0;
		df = "";
		if ((dl = dwfl_module_getsrc(mod, pc)) != NULL &&
		    (df = dwfl_lineinfo(dl, NULL, &dline, NULL, NULL,
		    NULL)) == NULL)
			df = "";
		if (lines_find(l, pc - bias, &f, &line) == -1) {
			f = "";
			line = 0;
		}
		if (strcmp(f, df) != 0 || line != dline) {
			if (mismatches++ < 5)
				cr_log_error("%s+%#lx: %s:%d, libdw %s:%d",
				    path, (unsigned long)(pc - start), f,
				    line, df, dline);
			continue;
		}
		lines += line > 0;
		if (n % 64 != 0 || symname_lookup(c, dw, pc, 0, &mine) == -1)
			continue;
		memset(&libdw, 0, sizeof libdw);
		symname_describe(mod, pc, pc, &libdw);
		cr_assert_str_eq(mine.file, libdw.file, "%s+%#lx", path,
		    (unsigned long)(pc - start));
		cr_assert_eq(mine.line, libdw.line);
	}
	lines_close(l);
	symname_cache_free(c);
	dwfl_end(dw);
	cr_assert_eq(mismatches, 0, "%s: %ld addresses named otherwise than "
	    "libdw names them", path, mismatches);
	return lines;
}

Test(lines, own_executable_compressed)
{
	char exe[4096], tmp[] = "/tmp/gw-lines-XXXXXX", cmd[8400];
	ssize_t n;
	int fd;

	cr_assert_gt(n = readlink("/proc/self/exe", exe, sizeof exe - 1), 0);
	exe[n] = '\0';
	cr_assert_neq(fd = mkstemp(tmp), -1);
	close(fd);
	snprintf(cmd, sizeof cmd, "objcopy --compress-debug-sections=zlib "
	    "'%s' '%s'", exe, tmp);
	cr_assert_eq(system(cmd), 0, "%s", cmd);
	cr_assert_null(lines_open(exe), "uncompressed: libdw's to read");
	cr_assert_gt(compare(tmp, 1), 1000);
	unlink(tmp);
}

/* Where path's section name lies in the file: 0, or -1. */
static int
section_at(const char *path, const char *name, off_t *off, size_t *len)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;
	size_t shstrndx;
	const char *n;
	Elf *elf;
	int fd, rc = -1;

	elf_version(EV_CURRENT);
	if ((fd = open(path, O_RDONLY)) == -1)
		return -1;
	if ((elf = elf_begin(fd, ELF_C_READ, NULL)) != NULL &&
	    elf_getshdrstrndx(elf, &shstrndx) == 0)
		while ((scn = elf_nextscn(elf, scn)) != NULL)
			if (gelf_getshdr(scn, &sh) != NULL && (n = elf_strptr(elf,
			    shstrndx, sh.sh_name)) != NULL && strcmp(n, name) ==
			    0) {
				*off = (off_t)sh.sh_offset;
				*len = sh.sh_size;
				rc = 0;
				break;
			}
	elf_end(elf);
	close(fd);
	return rc;
}

/*
 * A garbled .debug_line gives no line or some line, never a crash:
 * this executable's, a few bytes overwritten (more each round, at
 * other places), compressed, its text looked up every 251 bytes.
 */
Test(lines, garbled_tables)
{
	char exe[4096], dir[] = "/tmp/gw-lines-XXXXXX", cmd[8800],
	    raw[4200], out[4200];
	struct lines *l;
	const char *f;
	unsigned char b;
	uint64_t a;
	ssize_t n;
	size_t len, i;
	off_t off;
	int fd, round, line, opened = 0;

	cr_assert_gt(n = readlink("/proc/self/exe", exe, sizeof exe - 1), 0);
	exe[n] = '\0';
	cr_assert_not_null(mkdtemp(dir));
	snprintf(raw, sizeof raw, "%s/raw", dir);
	snprintf(out, sizeof out, "%s/out", dir);
	srand(14);
	for (round = 0; round < 8; round++) {
		snprintf(cmd, sizeof cmd, "cp '%s' '%s'", exe, raw);
		cr_assert_eq(system(cmd), 0, "%s", cmd);
		cr_assert_eq(section_at(raw, ".debug_line", &off, &len), 0);
		cr_assert_neq(fd = open(raw, O_WRONLY), -1);
		for (i = 0; i <= (size_t)round; i++) {
			b = (unsigned char)rand();
			cr_assert_eq(pwrite(fd, &b, 1, off + (off_t)((size_t)
			    rand() % len)), 1);
		}
		close(fd);
		snprintf(cmd, sizeof cmd, "objcopy --compress-debug-sections="
		    "zlib '%s' '%s'", raw, out);
		cr_assert_eq(system(cmd), 0, "%s", cmd);
		if ((l = lines_open(out)) == NULL)
			continue;	/* a header it refused: libdw's */
		opened++;
		for (a = 0; a < 0x200000; a += 251)
			(void)lines_find(l, a, &f, &line);
		lines_close(l);
	}
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	(void)system(cmd);
	printf("garbled tables: %d of 8 opened and looked up\n",
	    opened);
	cr_assert_gt(opened, 0, "no garbled table was read at all");
}

/* libc's debug file, where Debian's libc6-dbg puts it (compressed). */
Test(lines, libc_debug_file)
{
	static const char *libc[] = {
		"/lib/x86_64-linux-gnu/libc.so.6", "/lib64/libc.so.6",
	};
	size_t i;
	long n;

	for (i = 0; i < sizeof libc / sizeof libc[0]; i++)
		if (access(libc[i], R_OK) == 0)
			break;
	if (i == sizeof libc / sizeof libc[0] ||
	    access("/usr/lib/debug/.build-id", R_OK) != 0) {
		cr_skip_test("no libc debug file (libc6-dbg): skipped");
		return;
	}
	if ((n = compare(libc[i], 17)) == -1)
		cr_skip_test("no libc debug file (libc6-dbg): skipped");
	else
		printf("libc: %ld addresses with a line, as libdw names "
		    "them\n", n);
}
