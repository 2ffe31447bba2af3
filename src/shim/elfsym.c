/*
 * A dynamic symbol table read in place.  glibc rewrites the addresses in
 * an object's dynamic section to absolute ones when it loads it, except
 * where the section is read-only (the vDSO): an address below the load
 * base is taken as relative.
 */
#include <elf.h>
#include <link.h>
#include <stddef.h>
#include <string.h>

#include "elfsym.h"

struct table {
	const ElfW(Sym)		*sym;
	const char		*str;
	const ElfW(Half)	*versym;	/* NULL: not versioned */
	const uint32_t		*gnu_hash;
	const ElfW(Word)	*sysv_hash;
};

static const void *
absolute(const struct dl_phdr_info *info, ElfW(Addr) a)
{
	return (const void *)(a < info->dlpi_addr ? info->dlpi_addr + a : a);
}

static int
read_table(const struct dl_phdr_info *info, struct table *t)
{
	const ElfW(Dyn) *d = NULL;
	int i;

	memset(t, 0, sizeof *t);
	for (i = 0; i < info->dlpi_phnum; i++)
		if (info->dlpi_phdr[i].p_type == PT_DYNAMIC)
			d = (const void *)(info->dlpi_addr +
			    info->dlpi_phdr[i].p_vaddr);
	if (d == NULL)
		return 0;
	for (; d->d_tag != DT_NULL; d++) {
		switch (d->d_tag) {
		case DT_SYMTAB:
			t->sym = absolute(info, d->d_un.d_ptr);
			break;
		case DT_STRTAB:
			t->str = absolute(info, d->d_un.d_ptr);
			break;
		case DT_VERSYM:
			t->versym = absolute(info, d->d_un.d_ptr);
			break;
		case DT_GNU_HASH:
			t->gnu_hash = absolute(info, d->d_un.d_ptr);
			break;
		case DT_HASH:
			t->sysv_hash = absolute(info, d->d_un.d_ptr);
			break;
		}
	}
	return t->sym != NULL && t->str != NULL &&
	    (t->gnu_hash != NULL || t->sysv_hash != NULL);
}

/* Symbol i, when it is the exported default-version function `name`. */
static void *
match(const struct dl_phdr_info *info, const struct table *t, uint32_t i,
    const char *name)
{
	const ElfW(Sym) *s = &t->sym[i];
	int bind = ELF64_ST_BIND(s->st_info);

	if (s->st_shndx == SHN_UNDEF ||
	    ELF64_ST_TYPE(s->st_info) != STT_FUNC ||
	    (bind != STB_GLOBAL && bind != STB_WEAK) ||
	    ELF64_ST_VISIBILITY(s->st_other) == STV_HIDDEN ||
	    strcmp(t->str + s->st_name, name) != 0)
		return NULL;
	/* Index 0 is local; the high bit marks a version that is not the
	 * default (dlsym@GLIBC_2.2.5 beside dlsym@@GLIBC_2.34). */
	if (t->versym != NULL &&
	    ((t->versym[i] & 0x7fff) == 0 || (t->versym[i] & 0x8000) != 0))
		return NULL;
	return (void *)(info->dlpi_addr + s->st_value);
}

static void *
gnu_lookup(const struct dl_phdr_info *info, const struct table *t,
    const char *name)
{
	const uint32_t *h = t->gnu_hash, *buckets, *chain;
	uint32_t nbuckets = h[0], symoffset = h[1], hash = 5381, i, c;
	const unsigned char *p;
	void *fn;

	for (p = (const unsigned char *)name; *p != '\0'; p++)
		hash = hash * 33 + *p;
	if (nbuckets == 0)
		return NULL;
	/* The Bloom filter (h[2] words of ElfW(Addr)) only saves time. */
	buckets = (const uint32_t *)((const ElfW(Addr) *)&h[4] + h[2]);
	chain = buckets + nbuckets;
	for (i = buckets[hash % nbuckets]; i != 0 && i >= symoffset; i++) {
		c = chain[i - symoffset];
		if ((c | 1) == (hash | 1) &&
		    (fn = match(info, t, i, name)) != NULL)
			return fn;
		if (c & 1)
			break;
	}
	return NULL;
}

static void *
sysv_lookup(const struct dl_phdr_info *info, const struct table *t,
    const char *name)
{
	const ElfW(Word) *h = t->sysv_hash, *chain;
	ElfW(Word) nbuckets = h[0], nchain = h[1], hash = 0, g, i;
	const unsigned char *p;
	void *fn;

	for (p = (const unsigned char *)name; *p != '\0'; p++) {
		hash = (hash << 4) + *p;
		g = hash & 0xf0000000;
		hash ^= g >> 24;
		hash &= ~g;
	}
	if (nbuckets == 0)
		return NULL;
	chain = h + 2 + nbuckets;
	for (i = h[2 + hash % nbuckets]; i != STN_UNDEF && i < nchain;
	    i = chain[i])
		if ((fn = match(info, t, i, name)) != NULL)
			return fn;
	return NULL;
}

void *
elfsym_function(const struct dl_phdr_info *info, const char *name)
{
	struct table t;

	if (!read_table(info, &t))
		return NULL;
	if (t.gnu_hash != NULL)
		return gnu_lookup(info, &t, name);
	return sysv_lookup(info, &t, name);
}

int
elfsym_contains(const struct dl_phdr_info *info, uintptr_t addr)
{
	const ElfW(Phdr) *ph;
	int i;

	for (i = 0; i < info->dlpi_phnum; i++) {
		ph = &info->dlpi_phdr[i];
		if (ph->p_type == PT_LOAD &&
		    addr - info->dlpi_addr - ph->p_vaddr < ph->p_memsz)
			return 1;
	}
	return 0;
}
