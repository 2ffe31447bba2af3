/*
 * A file's .symtab read with pread: see staticsym.h.  The file is
 * untrusted input (it may not even be the object that was loaded from
 * its name): every offset and size is checked against the file, and
 * every name against the string table, before use.
 */
#include <elf.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "staticsym.h"

/*
 * Symbols read at a time: the string table is read whole (names are
 * looked up at random), the symbols a chunk at a time into one small
 * buffer, which spares the 60 fresh pages (a fault each) a libpython's
 * table would take.
 */
#define CHUNK	512

/* len bytes at off of fd into a new buffer, or NULL. */
static void *
read_part(int fd, uint64_t off, uint64_t len, uint64_t file_size)
{
	char *buf;
	uint64_t got = 0;
	ssize_t n;

	if (len == 0 || off > file_size || len > file_size - off ||
	    (buf = malloc(len)) == NULL)
		return NULL;
	while (got < len) {
		n = pread(fd, buf + got, len - got, (off_t)(off + got));
		if (n <= 0) {
			free(buf);
			return NULL;
		}
		got += (uint64_t)n;
	}
	return buf;
}

/* The symbol table's section and its string table's, or -1. */
static int
find_sections(int fd, uint64_t size, Elf64_Shdr *sym, Elf64_Shdr *str)
{
	Elf64_Ehdr eh;
	Elf64_Shdr *sh;
	int i, found = -1;

	if (pread(fd, &eh, sizeof eh, 0) != (ssize_t)sizeof eh ||
	    memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 ||
	    eh.e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh.e_shentsize != sizeof *sh || eh.e_shnum == 0 ||
	    (sh = read_part(fd, eh.e_shoff, (uint64_t)eh.e_shnum * sizeof *sh,
	    size)) == NULL)
		return -1;
	for (i = 0; i < eh.e_shnum; i++)
		if (sh[i].sh_type == SHT_SYMTAB &&
		    sh[i].sh_entsize == sizeof(Elf64_Sym) &&
		    sh[i].sh_link < eh.e_shnum &&
		    sh[sh[i].sh_link].sh_type == SHT_STRTAB) {
			*sym = sh[i];
			*str = sh[sh[i].sh_link];
			found = 0;
			break;
		}
	free(sh);
	return found;
}

/*
 * Symbol s names name (len long): its string lies wholly inside the
 * table.  The first letter first: most names differ there, and a scan
 * of a libpython's 15000 symbols is most of this module's cost.
 */
static int
named(const Elf64_Sym *s, const char *str, uint64_t strsize,
    const char *name, size_t len)
{
	return s->st_name < strsize && str[s->st_name] == name[0] &&
	    len < strsize - s->st_name &&
	    memcmp(str + s->st_name, name, len + 1) == 0;
}

int
staticsym_objects(const char *path, uintptr_t bias, struct staticsym_want *want,
    int nwant)
{
	Elf64_Shdr symsh, strsh;
	Elf64_Sym *syms = NULL;
	char *str = NULL;
	struct stat st;
	uint64_t i, j, n, nsyms;
	size_t len[nwant > 0 ? nwant : 1];
	int fd, k, rc = -1;

	for (k = 0; k < nwant; k++) {
		want[k].n = 0;
		len[k] = strlen(want[k].name);
	}
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	if (fstat(fd, &st) == -1 || find_sections(fd, (uint64_t)st.st_size,
	    &symsh, &strsh) == -1 ||
	    symsh.sh_offset > (uint64_t)st.st_size ||
	    symsh.sh_size > (uint64_t)st.st_size - symsh.sh_offset ||
	    (syms = malloc(CHUNK * sizeof *syms)) == NULL ||
	    (str = read_part(fd, strsh.sh_offset, strsh.sh_size,
	    (uint64_t)st.st_size)) == NULL)
		goto out;
	nsyms = symsh.sh_size / sizeof *syms;
	/* Symbol 0 is the null symbol: the scan starts at 1 (in chunk 0). */
	for (i = 0; i < nsyms; i += n) {
		n = nsyms - i < CHUNK ? nsyms - i : CHUNK;
		if (pread(fd, syms, n * sizeof *syms, (off_t)(symsh.sh_offset +
		    i * sizeof *syms)) != (ssize_t)(n * sizeof *syms))
			goto out;
		for (j = i == 0 ? 1 : 0; j < n; j++) {
			if (ELF64_ST_TYPE(syms[j].st_info) != STT_OBJECT ||
			    syms[j].st_shndx == SHN_UNDEF)
				continue;
			for (k = 0; k < nwant; k++)
				if (want[k].n < STATICSYM_CANDIDATES &&
				    named(&syms[j], str, strsh.sh_size,
				    want[k].name, len[k]))
					want[k].addr[want[k].n++] =
					    bias + syms[j].st_value;
		}
	}
	rc = 0;
out:
	if (rc == -1)
		for (k = 0; k < nwant; k++)
			want[k].n = 0;
	free(syms);
	free(str);
	close(fd);
	return rc;
}
