/* A module's symbols, scanned as libdw scans them: see symtab.h. */
#include <stdlib.h>

#include "symtab.h"

/* A symbol libdw would consider, in the table's order. */
struct sym {
	GElf_Addr	 value;		/* as dwfl_module_getsym_info gives it */
	GElf_Xword	 size;
	const char	*name;
	int		 bind;		/* binding_value: higher is better */
};

struct symtab {
	struct sym	*s;
	size_t		 n;
	size_t		 first_global;	/* s[0, first_global) are locals */
};

/* libdwfl's preference: global over weak over local. */
static int
binding(const GElf_Sym *sym)
{
	switch (GELF_ST_BIND(sym->st_info)) {
	case STB_GLOBAL:
		return 3;
	case STB_WEAK:
		return 2;
	case STB_LOCAL:
		return 1;
	default:
		return 0;
	}
}

struct symtab *
symtab_open(Dwfl_Module *mod)
{
#ifdef __x86_64__
	struct symtab *t;
	GElf_Sym sym;
	GElf_Addr value;
	GElf_Word shndx;
	const char *name;
	int n, first, i, type;

	if ((n = dwfl_module_getsymtab(mod)) < 0 ||
	    (first = dwfl_module_getsymtab_first_global(mod)) < 0 ||
	    (t = calloc(1, sizeof *t)) == NULL)
		return NULL;
	if ((t->s = calloc((size_t)n + 1, sizeof *t->s)) == NULL) {
		free(t);
		return NULL;
	}
	/* Symbol 0 is the null one; those that cannot match are left out. */
	for (i = 1; i < n; i++) {
		if (i == first)
			t->first_global = t->n;
		name = dwfl_module_getsym_info(mod, i, &sym, &value, &shndx,
		    NULL, NULL);
		type = GELF_ST_TYPE(sym.st_info);
		if (name == NULL || name[0] == '\0' ||
		    sym.st_shndx == SHN_UNDEF || type == STT_SECTION ||
		    type == STT_FILE || type == STT_TLS)
			continue;
		t->s[t->n].value = value;
		t->s[t->n].size = sym.st_size;
		t->s[t->n].name = name;
		t->s[t->n].bind = binding(&sym);
		t->n++;
	}
	if (first >= n)
		t->first_global = t->n;
	return t;
#else
	return NULL;
#endif
}

void
symtab_close(struct symtab *t)
{
	if (t == NULL)
		return;
	free(t->s);
	free(t);
}

/* libdwfl's search state, as far as it goes here. */
struct search {
	GElf_Addr	 addr;
	const struct sym *closest;
	GElf_Addr	 min_label;
	int		 ask_libdw;
};

/* libdwfl's search_table over s[from, to), with try_sym_value. */
static void
search(struct search *st, const struct sym *s, size_t from, size_t to)
{
	const struct sym *c;
	size_t i;

	for (i = from; i < to && !st->ask_libdw; i++) {
		if (s[i].value > st->addr)
			continue;
		if (s[i].value + s[i].size > st->min_label)
			st->min_label = s[i].value + s[i].size;
		if (s[i].size != 0 && st->addr - s[i].value >= s[i].size)
			continue;
		c = st->closest;
		if (c == NULL || c->value < s[i].value || c->bind < s[i].bind) {
			if (s[i].size != 0)
				st->closest = &s[i];
			else if (c == NULL && s[i].value >= st->min_label)
				st->ask_libdw = 1;	/* a section to compare */
		} else if (s[i].size != 0 && c->value == s[i].value &&
		    ((c->size > s[i].size && c->bind <= s[i].bind) ||
		    (c->size >= s[i].size && c->bind < s[i].bind)))
			st->closest = &s[i];
	}
}

int
symtab_find(const struct symtab *t, GElf_Addr addr, const char **name,
    GElf_Off *off)
{
	struct search st = { addr, NULL, 0, 0 };

	search(&st, t->s, t->first_global, t->n);
	/* The locals when no global has it (the sizeless case asked
	   libdw already). */
	if (st.closest == NULL && t->first_global > 0)
		search(&st, t->s, 0, t->first_global);
	if (st.ask_libdw)
		return -1;
	if (st.closest == NULL)
		return 0;
	*name = st.closest->name;
	*off = addr - st.closest->value;
	return 1;
}
