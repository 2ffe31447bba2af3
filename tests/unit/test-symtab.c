/*
 * Unit tests for src/reader/symtab.c: the symbol and offset of an
 * address, from the compact table, are the ones libdw's
 * dwfl_module_addrinfo answers, for every module of this test's own
 * process (its executable, libc, libdw, libelf, Criterion...): at the
 * first, second, last and one-past-last byte of every 7th symbol, and
 * at every 4,093rd address of each module (libdw scans all symbols an
 * address: more would take minutes).
 */
#include <criterion/criterion.h>
#include <string.h>
#include <unistd.h>

#include "symname.h"
#include "symtab.h"

struct tally {
	long	 same, asked, mismatches;
};

static void
compare_at(Dwfl_Module *mod, const struct symtab *t, GElf_Addr addr,
    struct tally *n)
{
	const char *name = NULL, *dname, *mname;
	GElf_Off off = 0, doff = 0;
	GElf_Sym es;
	int k;

	dname = dwfl_module_addrinfo(mod, addr, &doff, &es, NULL, NULL, NULL);
	if ((k = symtab_find(t, addr, &name, &off)) == -1) {
		n->asked++;
		return;
	}
	if ((k == 1) != (dname != NULL) || (k == 1 && (strcmp(name,
	    dname) != 0 || off != doff))) {
		dwfl_module_info(mod, NULL, NULL, NULL, NULL, NULL, &mname,
		    NULL);
		if (n->mismatches++ < 5)
			cr_log_error("%s %#lx: %s+%#lx, libdw %s+%#lx", mname,
			    (unsigned long)addr, k == 1 ? name : "-",
			    (unsigned long)off, dname ? dname : "-",
			    (unsigned long)doff);
		return;
	}
	n->same++;
}

static int
each_module(Dwfl_Module *mod, void **userdata, const char *mname,
    Dwarf_Addr start, void *arg)
{
	struct tally *n = arg;
	struct symtab *t;
	Dwarf_Addr end;
	GElf_Addr value, a;
	GElf_Sym sym;
	int i, syms;

	if ((t = symtab_open(mod)) == NULL)
		return DWARF_CB_OK;		/* no symbols: libdw's */
	dwfl_module_info(mod, NULL, NULL, &end, NULL, NULL, NULL, NULL);
	syms = dwfl_module_getsymtab(mod);
	for (i = 1; i < syms; i += 7) {
		if (dwfl_module_getsym_info(mod, i, &sym, &value, NULL, NULL,
		    NULL) == NULL)
			continue;
		compare_at(mod, t, value, n);
		compare_at(mod, t, value + 1, n);
		if (sym.st_size > 1)
			compare_at(mod, t, value + sym.st_size - 1, n);
		compare_at(mod, t, value + sym.st_size, n);
	}
	for (a = start; a < end; a += 4093)
		compare_at(mod, t, a, n);
	symtab_close(t);
	return DWARF_CB_OK;
}

Test(symtab, as_libdw)
{
	struct tally n = { 0, 0, 0 };
	Dwfl *dw;

	cr_assert_not_null(dw = dwfl_begin(&symname_callbacks));
	dwfl_report_begin(dw);
	cr_assert_eq(dwfl_linux_proc_report(dw, getpid()), 0);
	cr_assert_eq(dwfl_report_end(dw, NULL, NULL), 0);
	cr_assert_eq(dwfl_getmodules(dw, each_module, &n, 0), 0);
	dwfl_end(dw);
	cr_log_info("%ld addresses as libdw, %ld left to libdw", n.same,
	    n.asked);
	cr_assert_eq(n.mismatches, 0, "%ld of %ld addresses named otherwise "
	    "than by libdw", n.mismatches, n.same + n.mismatches);
	/* Sizeless symbols nearest send some between functions to libdw. */
	cr_assert_gt(n.same, 10000);
	cr_assert_lt(n.asked, n.same / 4);
}
