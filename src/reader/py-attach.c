/*
 * Finding CPython in another process (py.h: py_attach), with nothing
 * stopped: the symbols py_detect asks the dynamic linker for inside are
 * read here from the ELF files the process maps, moved by their load
 * bias; then py_detect_with chooses the table and checks the layout as
 * it does inside.
 *
 * The interpreter is in the executable (static builds, Debian's among
 * them: _PyRuntime stays in .dynsym after stripping, since python is
 * linked with --export-dynamic) or in a mapped libpython3.X.so (pyenv's
 * shared builds, programs that embed Python).  Other mapped files are
 * not opened.
 */
#include <errno.h>
#include <gelf.h>
#include <libelf.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "maps.h"
#include "mem.h"
#include "py.h"

#define SYM_MAX		16	/* symbols py_detect_with asks for */

/* One ELF file mapped by the process, and what it defines. */
struct image {
	char		 path[PATH_MAX];	/* as mapped */
	uintptr_t	 start;		/* where its file offset 0 is mapped */
	uintptr_t	 bias;		/* address = bias + st_value */
	int		 nsym;
	struct {
		const char	*name;
		uintptr_t	 addr;
	}		 sym[SYM_MAX];
};

/* What py_lookup's callbacks see. */
struct target {
	const struct maps *maps;
	struct image	 img;
};

/* Symbols py_detect_with looks up (py-detect.c), collected in one pass
 * over the tables. */
static const char *const wanted[] = {
	"_PyRuntime", "Py_Version", "_Py_RefTotal", "_Py_GetGlobalRefTotal",
	"_Py_NegativeRefcount", "PyCode_Type", "PyUnicode_Type",
	"PyBytes_Type", "PyFrame_Type", "PyDict_Type", "PyLong_Type",
	"PyModule_Type", "PyCFunction_Type", "PyMethodDescr_Type",
	"_thread_db_pthread_tid",	/* glibc's, for libthread_db */
};

_Static_assert(sizeof(wanted) / sizeof(wanted[0]) <= SYM_MAX,
    "SYM_MAX holds every symbol wanted");

static void
say(char *why, size_t len, const char *fmt, const char *arg)
{
	if (len > 0)
		snprintf(why, len, fmt, arg);
}

static int
is_libc(const char *path)
{
	return strncmp(maps_base(path), "libc.so", 7) == 0 ||
	    strncmp(maps_base(path), "libc-", 5) == 0;
}

/* Is path the kind of file that may hold the interpreter, or libc? */
static int
candidate(const char *path, const char *exe)
{
	return strcmp(path, exe) == 0 || is_libc(path) ||
	    strncmp(maps_base(path), "libpython3", 10) == 0;
}

/*
 * The mapped candidates, in address order: the first mapping of each
 * file at offset 0 says where it starts.  Returns how many.
 */
static int
images(const struct maps *m, struct image *out, int max)
{
	const char *exe = m->exe != NULL ? m->exe : "";
	int count = 0, seen;

	for (size_t i = 0; i < m->n && count < max; i++) {
		const struct map *p = &m->v[i];

		if (p->offset != 0 || !candidate(p->path, exe))
			continue;
		seen = 0;
		for (int j = 0; j < count; j++)
			seen |= strcmp(out[j].path, p->path) == 0;
		if (seen)
			continue;
		memset(&out[count], 0, sizeof(out[count]));
		snprintf(out[count].path, sizeof(out[count].path), "%s",
		    p->path);
		out[count++].start = p->start;
	}
	return count;
}

/* The load bias: the PT_LOAD holding file offset 0 is mapped at start. */
int
py_elf_bias(Elf *e, uintptr_t start, uintptr_t *bias)
{
	GElf_Phdr ph;
	size_t n;

	if (elf_getphdrnum(e, &n) != 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (gelf_getphdr(e, (int)i, &ph) == NULL ||
		    ph.p_type != PT_LOAD || ph.p_offset != 0)
			continue;
		*bias = start - (uintptr_t)ph.p_vaddr;
		return 0;
	}
	return -1;
}

static void
sym_take(struct image *img, const char *name, uintptr_t addr)
{
	for (size_t i = 0; i < sizeof(wanted) / sizeof(wanted[0]); i++) {
		if (strcmp(name, wanted[i]) != 0)
			continue;
		for (int j = 0; j < img->nsym; j++)
			if (img->sym[j].name == wanted[i])
				return;
		img->sym[img->nsym].name = wanted[i];
		img->sym[img->nsym++].addr = addr;
		return;
	}
}

/* Collect the wanted symbols defined in the file's symbol tables. */
static void
syms_read(Elf *e, struct image *img)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;
	GElf_Sym s;
	Elf_Data *d;
	const char *name;

	while ((scn = elf_nextscn(e, scn)) != NULL) {
		if (gelf_getshdr(scn, &sh) == NULL ||
		    (sh.sh_type != SHT_DYNSYM && sh.sh_type != SHT_SYMTAB) ||
		    sh.sh_entsize == 0 || (d = elf_getdata(scn, NULL)) == NULL)
			continue;
		for (size_t i = 0; i < sh.sh_size / sh.sh_entsize; i++) {
			if (gelf_getsym(d, (int)i, &s) == NULL ||
			    s.st_shndx == SHN_UNDEF || s.st_value == 0 ||
			    (name = elf_strptr(e, sh.sh_link, s.st_name)) ==
			    NULL || (name[0] != '_' && name[0] != 'P'))
				continue;
			sym_take(img, name, img->bias + (uintptr_t)s.st_value);
		}
	}
}

/*
 * Read img's file (maps_open: a process in another mount namespace, a
 * container, gives its own file).  0 when it could be read as ELF.
 */
static int
image_read(const struct maps *m, struct image *img)
{
	Elf *e;
	int fd, rv = -1;

	if ((fd = maps_open(m, img->path)) == -1)
		return -1;
	if ((e = elf_begin(fd, ELF_C_READ_MMAP, NULL)) != NULL &&
	    elf_kind(e) == ELF_K_ELF && py_elf_bias(e, img->start, &img->bias) == 0) {
		syms_read(e, img);
		rv = 0;
	}
	if (e != NULL)
		elf_end(e);
	close(fd);
	return rv;
}

static uintptr_t
target_sym(const char *name, void *arg)
{
	struct target *t = arg;

	for (int i = 0; i < t->img.nsym; i++)
		if (strcmp(t->img.sym[i].name, name) == 0)
			return t->img.sym[i].addr;
	return 0;
}

/*
 * Before 3.11: the version its file is named after, libpython3.X.so or
 * python3.X.  py_attach checks it against sys.version afterwards.
 */
static int
target_version(struct py_runtime *rt, void *arg)
{
	struct target *t = arg;
	const char *base = maps_base(t->img.path);
	char rest;

	if (strncmp(base, "lib", 3) == 0)
		base += 3;
	if (sscanf(base, "python%d.%d%c", &rt->major, &rt->minor,
	    &rest) < 2 || rt->major != 3)
		return -1;
	rt->micro = 0;
	return 0;
}

/*
 * sys.version of the running interpreter ("3.10.13 (main, ...)"): 0
 * with its numbers, or -1 when it cannot be read (not initialised).
 */
static int
sys_version(const struct py_runtime *rt, int *major, int *minor,
    int *micro)
{
	const struct py_offsets *o = rt->off;
	long hs = -1, hv = -1;
	uintptr_t interp, mods, sys, dict, v;
	char buf[64];

	if (py_read_ptr(rt->runtime + (uintptr_t)o->rt_interp_main,
	    &interp) == -1 || interp == 0 ||
	    py_read_ptr(interp + (uintptr_t)o->is_modules, &mods) == -1 ||
	    py_dict_get_str(rt, mods, "sys", &hs, &sys) == -1 ||
	    py_read_ptr(sys + (uintptr_t)o->md_dict, &dict) == -1 ||
	    py_dict_get_str(rt, dict, "version", &hv, &v) == -1 ||
	    py_read_str(rt, v, buf, sizeof(buf)) == -1)
		return -1;
	return sscanf(buf, "%d.%d.%d", major, minor, micro) == 3 ? 0 : -1;
}

/*
 * Where glibc keeps a thread's TID in its struct pthread: libc says so
 * for libthread_db in _thread_db_pthread_tid, {bits, count, offset}.
 * The interpreter's own image may be libc too (a static link).  0
 * when libc does not say.
 */
static int
pthread_tid(struct image *imgs, int n, struct target *t)
{
	uint32_t d[3];
	uintptr_t a;

	if ((a = target_sym("_thread_db_pthread_tid", t)) == 0)
		for (int i = 0; i < n && a == 0; i++) {
			if (!is_libc(imgs[i].path) ||
			    image_read(t->maps, &imgs[i]) == -1)
				continue;
			t->img = imgs[i];
			a = target_sym("_thread_db_pthread_tid", t);
		}
	if (a == 0 || py_read(a, d, sizeof(d)) == -1 || d[0] != 32 ||
	    d[1] != 1 || d[2] == 0 || d[2] > 4096)
		return 0;
	return (int)d[2];
}

int
py_attach_maps(const struct maps *m, struct py_runtime *rt, char *why,
    size_t whylen)
{
	struct image imgs[8];
	struct target *t;
	int n, found = 0, rv = -1, major, minor, micro;

	memset(rt, 0, sizeof(*rt));
	if (elf_version(EV_CURRENT) == EV_NONE) {
		say(why, whylen, "libelf: %s", elf_errmsg(-1));
		return -1;
	}
	n = images(m, imgs, 8);
	if ((t = calloc(1, sizeof(*t))) == NULL) {
		say(why, whylen, "%s", strerror(errno));
		return -1;
	}
	t->maps = m;
	for (int i = 0; i < n && !found; i++) {
		t->img = imgs[i];
		found = !is_libc(imgs[i].path) &&
		    image_read(m, &t->img) == 0 &&
		    target_sym("_PyRuntime", t) != 0;
	}
	if (!found) {
		say(why, whylen, "%s", "not CPython (no _PyRuntime in the "
		    "executable or a libpython3.X)");
		goto out;
	}
	{
		struct py_lookup lk = { target_sym, target_version, t };

		if (py_detect_with(rt, &lk) == -1) {
			say(why, whylen, "%s", rt->why_not);
			goto out;
		}
	}
	/* A version taken from a file name must be the one running. */
	if (target_sym("Py_Version", t) == 0) {
		if (sys_version(rt, &major, &minor, &micro) == -1 ||
		    major != rt->major || minor != rt->minor) {
			snprintf(rt->why_not, sizeof(rt->why_not), "CPython "
			    "%d.%d by its file name, not confirmed by its "
			    "sys.version", rt->major, rt->minor);
			say(why, whylen, "%s", rt->why_not);
			rt->off = NULL;
			goto out;
		}
		rt->micro = micro;
		snprintf(rt->version, sizeof(rt->version), "%d.%d.%d",
		    major, minor, micro);
	}
	rt->pthread_tid = pthread_tid(imgs, n, t);
	rv = 0;
out:
	if (rv == -1 && mem_error() != 0)
		snprintf(why, whylen, "reading process %d: %s", (int)m->pid,
		    strerror(mem_error()));
	free(t);
	return rv;
}

int
py_attach(pid_t pid, struct py_runtime *rt, char *why, size_t whylen)
{
	struct maps m;
	int rv;

	memset(rt, 0, sizeof(*rt));
	mem_source_pid(pid);
	if (maps_read_pid(pid, &m, why, whylen) == -1)
		return -1;
	rv = py_attach_maps(&m, rt, why, whylen);
	maps_free(&m);
	return rv;
}
