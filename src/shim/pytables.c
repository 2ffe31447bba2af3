/* _thread's lock tables, found by symbol and checked: see pytables.h. */
#include <elfutils/libdwfl.h>
#include <link.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "pytables.h"
#include "symname.h"
#include "staticsym.h"

#define CANDIDATES	STATICSYM_CANDIDATES
#define TABLE_MAX	32	/* entries a table may have, at most */
#define RANGES		8

/* The object that defines _PyRuntime, as loaded. */
struct object {
	uintptr_t	 runtime;
	int		 found;
	const char	*path;		/* its file: "" for the program */
	uintptr_t	 bias;
	uintptr_t	 lo[RANGES], hi[RANGES];	/* its segments */
	int		 writable[RANGES];
	int		 nranges;
	uintptr_t	 relro_lo, relro_hi;
};

enum { LOCK_METHODS, RLOCK_METHODS, LOCK_SLOTS, RLOCK_SLOTS, NWANTED };

static const char *const wanted[NWANTED] = {
	"lock_methods", "rlock_methods", "lock_type_slots", "rlock_type_slots",
};

struct found {
	uintptr_t	 addr[NWANTED][CANDIDATES];
	int		 n[NWANTED];
	int		 locals;	/* local functions: 0, only the dynamic
					   symbol table was found */
};

static int
object_of(struct dl_phdr_info *info, size_t size, void *arg)
{
	struct object *o = arg;
	const ElfW(Phdr) *ph;
	uintptr_t lo, hi;
	int i, in = 0;

	(void)size;
	o->nranges = 0;
	o->relro_lo = o->relro_hi = 0;
	for (i = 0; i < info->dlpi_phnum; i++) {
		ph = &info->dlpi_phdr[i];
		lo = info->dlpi_addr + ph->p_vaddr;
		hi = lo + ph->p_memsz;
		if (ph->p_type == PT_GNU_RELRO) {
			o->relro_lo = lo;
			o->relro_hi = hi;
		}
		if (ph->p_type != PT_LOAD || o->nranges == RANGES)
			continue;
		o->lo[o->nranges] = lo;
		o->hi[o->nranges] = hi;
		o->writable[o->nranges++] = (ph->p_flags & PF_W) != 0;
		in |= o->runtime >= lo && o->runtime < hi;
	}
	if (in) {
		o->path = info->dlpi_name;
		o->bias = info->dlpi_addr;
	}
	return o->found = in;
}

/* [p, p + len) lies in one segment of o; writable: one that stays so. */
static int
inside(const struct object *o, const void *p, size_t len, int writable)
{
	uintptr_t a = (uintptr_t)p;
	int i;

	if (writable && a + len > o->relro_lo && a < o->relro_hi)
		return 0;
	for (i = 0; i < o->nranges; i++)
		if (a >= o->lo[i] && a + len <= o->hi[i] &&
		    (!writable || o->writable[i]))
			return 1;
	return 0;
}

/* Every data object of a wanted name in the module's symbol table. */
static void
collect(Dwfl_Module *mod, struct found *f)
{
	GElf_Sym sym;
	GElf_Addr addr;
	const char *name;
	int i, k, n = dwfl_module_getsymtab(mod);

	for (i = 1; i < n; i++) {
		name = dwfl_module_getsym_info(mod, i, &sym, &addr, NULL, NULL,
		    NULL);
		if (name == NULL)
			continue;
		if (GELF_ST_BIND(sym.st_info) == STB_LOCAL &&
		    GELF_ST_TYPE(sym.st_info) == STT_FUNC)
			f->locals++;
		if (GELF_ST_TYPE(sym.st_info) != STT_OBJECT)
			continue;
		for (k = 0; k < NWANTED; k++)
			if (strcmp(name, wanted[k]) == 0 &&
			    f->n[k] < CANDIDATES)
				f->addr[k][f->n[k]++] = (uintptr_t)addr;
	}
}

/* libdw's way: the object's file or, stripped, its separate debug file. */
static int
symbols_dwfl(uintptr_t runtime, struct found *f, char *why, size_t len)
{
	Dwfl *dw;
	Dwfl_Module *mod;
	const char *file = NULL;
	int rc;

	memset(f, 0, sizeof *f);
	if ((dw = dwfl_begin(&symname_callbacks)) == NULL) {
		snprintf(why, len, "libdw: %s", dwfl_errmsg(-1));
		return -1;
	}
	dwfl_report_begin(dw);
	rc = dwfl_linux_proc_report(dw, getpid());
	if (dwfl_report_end(dw, NULL, NULL) != 0 || rc != 0 ||
	    (mod = dwfl_addrmodule(dw, runtime)) == NULL) {
		snprintf(why, len, "its object is not found in /proc/self/maps");
		dwfl_end(dw);
		return -1;
	}
	collect(mod, f);
	if (f->n[LOCK_METHODS] == 0) {
		dwfl_module_info(mod, NULL, NULL, NULL, NULL, NULL, &file,
		    NULL);
		snprintf(why, len, "%s has no %s", file != NULL ? file :
		    "its object", f->locals ? "lock_methods" : "symbol table");
	}
	dwfl_end(dw);
	return f->n[LOCK_METHODS] == 0 ? -1 : 0;
}

/*
 * The object's own .symtab read directly, which is most of the time
 * (a source build keeps it), else libdw.
 */
static int
symbols(const struct object *o, struct found *f, char *why, size_t len)
{
	struct staticsym_want want[NWANTED];
	const char *path = o->path != NULL && o->path[0] != '\0' ? o->path :
	    "/proc/self/exe";
	int k;

	for (k = 0; k < NWANTED; k++)
		want[k].name = wanted[k];
	if (staticsym_objects(path, o->bias, want, NWANTED) == 0 &&
	    want[LOCK_METHODS].n > 0) {
		memset(f, 0, sizeof *f);
		for (k = 0; k < NWANTED; k++) {
			f->n[k] = want[k].n;
			memcpy(f->addr[k], want[k].addr, sizeof f->addr[k]);
		}
		return 0;
	}
	return symbols_dwfl(o->runtime, f, why, len);
}

/* A string of the object that reads name. */
static int
named(const struct object *o, const char *s, const char *name)
{
	size_t n = strlen(name) + 1;

	return s != NULL && inside(o, s, n, 0) && memcmp(s, name, n) == 0;
}

/*
 * The method table at addr: its entries writable, each name a string of
 * the object; 1 when it has every method of need (NULL-terminated).
 */
static int
methods_ok(const struct object *o, uintptr_t addr,
    const char *const *need)
{
	const struct py_method *m = (const struct py_method *)addr;
	int i, k, has;

	for (k = 0; need[k] != NULL; k++) {
		has = 0;
		for (i = 0; i < TABLE_MAX; i++) {
			if (!inside(o, &m[i], sizeof m[i], 1))
				return 0;
			if (m[i].name == NULL)
				break;
			has |= named(o, m[i].name, need[k]);
		}
		if (i == TABLE_MAX || !has)
			return 0;
	}
	return 1;
}

/*
 * Of the slot tables found, the one whose Py_tp_methods is one of the
 * method tables found that passes the check: its type, filled in t.
 */
static int
pick(const struct object *o, const struct found *f, int slots_k,
    int methods_k, const char *const *need, struct py_lock_type *t)
{
	struct py_type_slot *s;
	int i, j, k;

	for (j = 0; j < f->n[slots_k]; j++) {
		s = (struct py_type_slot *)f->addr[slots_k][j];
		t->methods = NULL;
		t->dealloc = NULL;
		for (i = 0; i < TABLE_MAX; i++) {
			if (!inside(o, &s[i], sizeof s[i], 1) || s[i].slot == 0)
				break;
			if (s[i].slot == PY_TP_DEALLOC)
				t->dealloc = &s[i];
			for (k = 0; s[i].slot == PY_TP_METHODS &&
			    k < f->n[methods_k]; k++)
				if ((uintptr_t)s[i].pfunc ==
				    f->addr[methods_k][k] && methods_ok(o,
				    f->addr[methods_k][k], need))
					t->methods = s[i].pfunc;
		}
		if (t->methods != NULL && t->dealloc != NULL &&
		    inside(o, t->dealloc->pfunc, 1, 0))
			return 0;
	}
	return -1;
}

int
pytables_find(uintptr_t runtime, struct py_lock_type *lock,
    struct py_lock_type *rlock, char *why, size_t len)
{
	static const char *const lock_need[] = {
		"acquire", "release", "__enter__", "__exit__", NULL,
	};
	static const char *const rlock_need[] = {
		"acquire", "release", "__enter__", "__exit__",
		"_acquire_restore", "_release_save", NULL,
	};
	struct object o = { .runtime = runtime };
	struct found f;

	if (dl_iterate_phdr(object_of, &o) == 0 || !o.found) {
		snprintf(why, len, "_PyRuntime is in no loaded object");
		return -1;
	}
	if (symbols(&o, &f, why, len) == -1)
		return -1;
	if (pick(&o, &f, LOCK_SLOTS, LOCK_METHODS, lock_need, lock) == -1 ||
	    pick(&o, &f, RLOCK_SLOTS, RLOCK_METHODS, rlock_need,
	    rlock) == -1) {
		snprintf(why, len, "_thread's lock tables do not look as "
		    "expected");
		return -1;
	}
	return 0;
}
