/*
 * Core files (core.h).
 *
 * The layout read here is the x86-64 Linux one, the kernel's
 * (fs/binfmt_elf.c) and gdb's (which writes the same notes):
 *
 *   NT_PRSTATUS (one per thread)  struct elf_prstatus: pr_cursig at 12,
 *                                 pr_pid (the tid) at 32, pr_reg (27
 *                                 words, struct user_regs_struct) at 112
 *   NT_PRPSINFO                   struct elf_prpsinfo: pr_pid at 24,
 *                                 pr_fname[16] at 40
 *   NT_FILE                       count, page size, count triples
 *                                 {start, end, page offset}, then count
 *                                 NUL-terminated paths
 *   NT_AUXV                       {type, value} words: AT_ENTRY names
 *                                 the executable among the files
 *
 * Every size and offset comes from the file and is checked before use:
 * libelf refuses a note segment past the end of the file, and memory is
 * read with pread, whose short count on a truncated core is a failed
 * read.  Nothing is mapped (ELF_C_READ, not _MMAP): a core truncated
 * while we read it gives errors, not SIGBUS.
 */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <elf.h>
#include <sys/stat.h>

#include <elfutils/libdwfl.h>

#include "core.h"
#include "grow.h"
#include "mem.h"

#define PRSTATUS_CURSIG	12
#define PRSTATUS_PID	32
#define PRSTATUS_REG	112
#define PRSTATUS_NREG	27
#define PRPSINFO_PID	24
#define PRPSINFO_FNAME	40
#define PRPSINFO_SIZE	56

/* struct user_regs_struct, x86-64: index of each register read. */
enum {
	REG_RBP = 4, REG_R10 = 7, REG_R9 = 8, REG_R8 = 9, REG_RAX = 10,
	REG_RDX = 12, REG_RSI = 13, REG_RDI = 14, REG_ORIG_RAX = 15,
	REG_RIP = 16, REG_RSP = 19,
};

/*
 * The kernel's "restart me" codes (include/linux/errno.h): a thread
 * stopped while blocked in a call (ptrace's stop for gcore, the kill
 * of the other threads for a kernel dump) leaves through the signal
 * path with one of these in rax, before the restart rewinds rip.
 */
#define ERESTARTSYS		512
#define ERESTART_RESTARTBLOCK	516

#define CHECK_PAGE	4096	/* bytes compared to trust a mapped file */

/* A PT_LOAD: memsz bytes at vaddr, the first filesz of them in the core. */
struct seg {
	uintptr_t	 vaddr;
	uint64_t	 memsz;
	uint64_t	 offset, filesz;
};

/* A mapped file, opened when first read: fd -1 not yet, -2 refused. */
struct backing {
	char		*path;
	atomic_int	 fd;
};

struct core {
	int		 fd;
	Elf		*elf;
	pid_t		 pid;
	char		 command[17];
	int		 signo;
	uintptr_t	 entry;		/* AT_ENTRY, or 0 */
	const char	*exe;

	struct seg	*seg;
	int		 nseg;
	size_t		 seg_cap;
	struct core_thread *thr;
	int		 nthr;
	size_t		 thr_cap;
	struct core_file *file;		/* sorted by start */
	int		*file_bk;	/* file[i]'s backing */
	int		 nfile;
	struct backing	*bk;
	int		 nbk;
	size_t		 bk_cap;
	char		*exe_arg;

	struct mem_reader source;	/* mem_source_core */
	Dwfl		*dwfl;
	struct symname_cache *names;
};

static void
say(char *why, size_t len, const char *fmt, ...)
{
	va_list ap;

	if (len == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(why, len, fmt, ap);
	va_end(ap);
}

static uint64_t
word(const unsigned char *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static int
add_thread(struct core *c, const unsigned char *d, size_t len)
{
	const unsigned char *r = d + PRSTATUS_REG;
	struct core_thread *t;
	int32_t tid, sig;
	int64_t nr;

	if (len < PRSTATUS_REG + PRSTATUS_NREG * 8)
		return -1;
	if ((t = grow(c->thr, &c->thr_cap, (size_t)c->nthr + 1,
	    sizeof(*t), 16)) == NULL)
		return -1;
	c->thr = t;
	t = &c->thr[c->nthr++];
	memset(t, 0, sizeof(*t));
	memcpy(&tid, d + PRSTATUS_PID, sizeof(tid));
	sig = 0;
	memcpy(&sig, d + PRSTATUS_CURSIG, 2);
	t->tid = tid;
	t->signo = sig;
	t->ip = word(r + 8 * REG_RIP);
	t->sp = word(r + 8 * REG_RSP);
	t->bp = word(r + 8 * REG_RBP);
	t->ret = (int64_t)word(r + 8 * REG_RAX);
	nr = (int64_t)word(r + 8 * REG_ORIG_RAX);
	/*
	 * orig_rax is -1 unless the thread entered the kernel by a system
	 * call; it keeps the number after the call returned, so only a
	 * restart code in rax says the call was still under way.
	 */
	if (nr >= 0 && t->ret <= -ERESTARTSYS &&
	    t->ret >= -ERESTART_RESTARTBLOCK) {
		t->syscall = (long)nr;
		t->args[0] = word(r + 8 * REG_RDI);
		t->args[1] = word(r + 8 * REG_RSI);
		t->args[2] = word(r + 8 * REG_RDX);
		t->args[3] = word(r + 8 * REG_R10);
		t->args[4] = word(r + 8 * REG_R8);
		t->args[5] = word(r + 8 * REG_R9);
	} else
		t->syscall = -1;
	return 0;
}

static void
read_prpsinfo(struct core *c, const unsigned char *d, size_t len)
{
	int32_t pid;

	if (len < PRPSINFO_SIZE)
		return;
	memcpy(&pid, d + PRPSINFO_PID, sizeof(pid));
	c->pid = pid;
	memcpy(c->command, d + PRPSINFO_FNAME, 16);
	c->command[16] = '\0';
}

static void
read_auxv(struct core *c, const unsigned char *d, size_t len)
{
	for (size_t i = 0; i + 16 <= len; i += 16)
		if (word(d + i) == AT_ENTRY)
			c->entry = word(d + i + 8);
}

static int
backing_of(struct core *c, const char *path)
{
	struct backing *bk;

	for (int i = 0; i < c->nbk; i++)
		if (strcmp(c->bk[i].path, path) == 0)
			return i;
	if ((bk = grow(c->bk, &c->bk_cap, (size_t)c->nbk + 1, sizeof(*bk),
	    16)) == NULL)
		return -1;
	c->bk = bk;
	if ((c->bk[c->nbk].path = strdup(path)) == NULL)
		return -1;
	atomic_init(&c->bk[c->nbk].fd, -1);
	return c->nbk++;
}

/* NT_FILE; -1 when it is garbage. */
static int
read_files(struct core *c, const unsigned char *d, size_t len)
{
	uint64_t count, page;
	const char *s, *end = (const char *)d + len;

	if (c->nfile != 0 || len < 16)
		return -1;		/* one note only */
	count = word(d);
	page = word(d + 8);
	if (page == 0 || (page & (page - 1)) != 0 ||
	    count > (len - 16) / 24)
		return -1;
	if ((c->file = calloc(count + 1, sizeof(*c->file))) == NULL ||
	    (c->file_bk = calloc(count + 1, sizeof(int))) == NULL)
		return -1;
	s = (const char *)d + 16 + count * 24;
	for (uint64_t i = 0; i < count; i++) {
		const unsigned char *e = d + 16 + i * 24;
		struct core_file *f = &c->file[i];
		size_t n = strnlen(s, (size_t)(end - s));
		int b;

		if (s + n == end)
			return -1;	/* unterminated */
		f->start = word(e);
		f->end = word(e + 8);
		if (f->end < f->start || word(e + 16) > UINT64_MAX / page)
			return -1;
		f->offset = word(e + 16) * page;
		if ((b = backing_of(c, s)) < 0)
			return -1;
		c->file_bk[i] = b;
		c->nfile++;
		s += n + 1;
	}
	return 0;
}

static int
read_notes(struct core *c, const GElf_Phdr *ph, char *why, size_t whylen)
{
	Elf_Data *data;
	GElf_Nhdr nh;
	size_t off = 0, next, name_off, desc_off;

	data = elf_getdata_rawchunk(c->elf, (int64_t)ph->p_offset,
	    ph->p_filesz, ELF_T_NHDR);
	if (data == NULL) {
		say(why, whylen, "notes past the end of the file (%s)",
		    elf_errmsg(-1));
		return -1;
	}
	while (off < data->d_size &&
	    (next = gelf_getnote(data, off, &nh, &name_off, &desc_off)) > 0) {
		const unsigned char *desc = (unsigned char *)data->d_buf +
		    desc_off;
		const char *name = (char *)data->d_buf + name_off;
		int rc = 0;

		off = next;
		if (nh.n_namesz != 5 || memcmp(name, "CORE", 5) != 0)
			continue;
		switch (nh.n_type) {
		case NT_PRSTATUS:
			rc = add_thread(c, desc, nh.n_descsz);
			break;
		case NT_PRPSINFO:
			read_prpsinfo(c, desc, nh.n_descsz);
			break;
		case NT_AUXV:
			read_auxv(c, desc, nh.n_descsz);
			break;
		case NT_FILE:
			rc = read_files(c, desc, nh.n_descsz);
			break;
		}
		if (rc != 0) {
			say(why, whylen, "a garbled note (type %#x)",
			    (unsigned)nh.n_type);
			return -1;
		}
	}
	return 0;
}

static int
seg_cmp(const void *a, const void *b)
{
	const struct seg *x = a, *y = b;

	return x->vaddr < y->vaddr ? -1 : x->vaddr > y->vaddr;
}

static int
file_cmp(const void *a, const void *b)
{
	const struct core_file *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

static int
read_segments(struct core *c, char *why, size_t whylen)
{
	struct seg *seg;
	size_t n;

	if (elf_getphdrnum(c->elf, &n) != 0) {
		say(why, whylen, "no program headers (%s)", elf_errmsg(-1));
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		GElf_Phdr ph;

		if (gelf_getphdr(c->elf, (int)i, &ph) == NULL) {
			say(why, whylen, "program header %zu unreadable (%s)",
			    i, elf_errmsg(-1));
			return -1;
		}
		if (ph.p_type == PT_NOTE &&
		    read_notes(c, &ph, why, whylen) != 0)
			return -1;
		if (ph.p_type != PT_LOAD || ph.p_memsz == 0)
			continue;
		if ((seg = grow(c->seg, &c->seg_cap, (size_t)c->nseg + 1,
		    sizeof(*seg), 64)) == NULL) {
			say(why, whylen, "out of memory");
			return -1;
		}
		c->seg = seg;
		c->seg[c->nseg].vaddr = ph.p_vaddr;
		c->seg[c->nseg].memsz = ph.p_memsz;
		c->seg[c->nseg].offset = ph.p_offset;
		c->seg[c->nseg].filesz = ph.p_filesz < ph.p_memsz ?
		    ph.p_filesz : ph.p_memsz;
		c->nseg++;
	}
	qsort(c->seg, (size_t)c->nseg, sizeof(*c->seg), seg_cmp);
	return 0;
}

/* Sort the files by address, each keeping its backing. */
static int
sort_files(struct core *c)
{
	struct pair {
		struct core_file f;
		int		 bk;
	} *p;

	if ((p = calloc((size_t)c->nfile + 1, sizeof(*p))) == NULL)
		return -1;
	for (int i = 0; i < c->nfile; i++) {
		p[i].f = c->file[i];
		p[i].f.path = c->bk[c->file_bk[i]].path;
		p[i].bk = c->file_bk[i];
	}
	qsort(p, (size_t)c->nfile, sizeof(*p), file_cmp);
	for (int i = 0; i < c->nfile; i++) {
		c->file[i] = p[i].f;
		c->file_bk[i] = p[i].bk;
	}
	free(p);
	return 0;
}

/*
 * The executable: the file mapping holding the entry point, else the
 * first one.  A given exe takes its place.
 */
static int
find_exe(struct core *c, const char *exe)
{
	int at = c->nfile > 0 ? 0 : -1;
	char *path;

	for (int i = 0; i < c->nfile; i++)
		if (c->entry >= c->file[i].start && c->entry < c->file[i].end)
			at = i;
	if (at < 0)
		return 0;
	if (exe != NULL) {
		struct backing *b = &c->bk[c->file_bk[at]];

		if ((path = strdup(exe)) == NULL)
			return -1;
		free(b->path);
		b->path = path;
		for (int i = 0; i < c->nfile; i++)
			if (c->file_bk[i] == c->file_bk[at])
				c->file[i].path = path;
	}
	c->exe = c->file[at].path;
	return 0;
}

struct core *
core_open(const char *path, const char *exe, char *why, size_t whylen)
{
	struct core *c;
	GElf_Ehdr eh;
	char err[CORE_WHY_MAX];

	if ((c = calloc(1, sizeof(*c))) == NULL) {
		say(why, whylen, "out of memory");
		return NULL;
	}
	(void)elf_version(EV_CURRENT);
	if ((c->fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		say(why, whylen, "%s: %s", path, strerror(errno));
		free(c);
		return NULL;
	}
	if ((c->elf = elf_begin(c->fd, ELF_C_READ, NULL)) == NULL ||
	    elf_kind(c->elf) != ELF_K_ELF || gelf_getehdr(c->elf, &eh) == NULL) {
		say(why, whylen, "%s: not an ELF file", path);
		goto fail;
	}
	if (eh.e_type != ET_CORE || eh.e_machine != EM_X86_64 ||
	    gelf_getclass(c->elf) != ELFCLASS64) {
		say(why, whylen, "%s: not an x86-64 core file (ELF type %u, "
		    "machine %u)", path, eh.e_type, eh.e_machine);
		goto fail;
	}
	if (read_segments(c, err, sizeof(err)) != 0) {
		say(why, whylen, "%s: %s", path, err);
		goto fail;
	}
	if (c->nthr == 0) {
		say(why, whylen, "%s: no thread in the core (no NT_PRSTATUS "
		    "note): truncated?", path);
		goto fail;
	}
	if (sort_files(c) != 0 || find_exe(c, exe) != 0 ||
	    (exe != NULL && (c->exe_arg = strdup(exe)) == NULL)) {
		say(why, whylen, "out of memory");
		goto fail;
	}
	return c;
fail:
	core_close(c);
	return NULL;
}

void
core_close(struct core *c)
{
	if (c == NULL)
		return;
	if (c->dwfl != NULL)
		dwfl_end(c->dwfl);
	symname_cache_free(c->names);
	for (int i = 0; i < c->nbk; i++) {
		int fd = atomic_load(&c->bk[i].fd);

		if (fd >= 0)
			close(fd);
		free(c->bk[i].path);
	}
	if (c->elf != NULL)
		elf_end(c->elf);
	if (c->fd >= 0)
		close(c->fd);
	free(c->bk);
	free(c->file);
	free(c->file_bk);
	free(c->thr);
	free(c->seg);
	free(c->exe_arg);
	free(c);
}

pid_t
core_pid(const struct core *c)
{
	return c->pid;
}

const char *
core_command(const struct core *c)
{
	return c->command;
}

const char *
core_exe(const struct core *c)
{
	return c->exe;
}

int
core_signal(const struct core *c)
{
	return c->nthr > 0 ? c->thr[0].signo : 0;
}

int
core_nthreads(const struct core *c)
{
	return c->nthr;
}

const struct core_thread *
core_thread(const struct core *c, int i)
{
	return i >= 0 && i < c->nthr ? &c->thr[i] : NULL;
}

int
core_nfiles(const struct core *c)
{
	return c->nfile;
}

const struct core_file *
core_file(const struct core *c, int i)
{
	return i >= 0 && i < c->nfile ? &c->file[i] : NULL;
}

/* The segment holding addr, or NULL. */
static const struct seg *
seg_at(const struct core *c, uintptr_t addr)
{
	int lo = 0, hi = c->nseg;

	while (lo < hi) {
		int mid = lo + (hi - lo) / 2;

		if (c->seg[mid].vaddr <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0 || addr - c->seg[lo - 1].vaddr >= c->seg[lo - 1].memsz)
		return NULL;
	return &c->seg[lo - 1];
}

/* Where the core holds bytes again after addr: the next segment start. */
static uintptr_t
seg_after(const struct core *c, uintptr_t addr)
{
	for (int i = 0; i < c->nseg; i++)
		if (c->seg[i].vaddr > addr)
			return c->seg[i].vaddr;
	return UINTPTR_MAX;
}

static int
file_at(const struct core *c, uintptr_t addr)
{
	int lo = 0, hi = c->nfile;

	while (lo < hi) {
		int mid = lo + (hi - lo) / 2;

		if (c->file[mid].start <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0 || addr >= c->file[lo - 1].end)
		return -1;
	return lo - 1;
}

static int
pread_all(int fd, void *buf, size_t len, uint64_t off)
{
	ssize_t n;

	if (off > (uint64_t)INT64_MAX - len)
		return -1;
	while (len > 0) {
		n = pread(fd, buf, len, (off_t)off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		buf = (char *)buf + n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return 0;
}

/*
 * Is fd the file mapped as backing b?  Where the core holds the page a
 * mapping of it at offset 0 starts with (both writers keep the first
 * page of an ELF file), that page must match; a file that changed since
 * would give wrong bytes, which is worse than none.
 */
static int
backing_matches(const struct core *c, int b, int fd)
{
	unsigned char mine[CHECK_PAGE], theirs[CHECK_PAGE];

	for (int i = 0; i < c->nfile; i++) {
		const struct seg *s;
		uint64_t n;

		if (c->file_bk[i] != b || c->file[i].offset != 0 ||
		    (s = seg_at(c, c->file[i].start)) == NULL ||
		    c->file[i].start - s->vaddr >= s->filesz)
			continue;
		n = s->filesz - (c->file[i].start - s->vaddr);
		if (n > CHECK_PAGE)
			n = CHECK_PAGE;
		if (c->file[i].end - c->file[i].start < n)
			n = c->file[i].end - c->file[i].start;
		if (pread_all(c->fd, theirs, n, s->offset +
		    (c->file[i].start - s->vaddr)) != 0 ||
		    pread_all(fd, mine, n, 0) != 0 ||
		    memcmp(mine, theirs, n) != 0)
			return 0;
	}
	return 1;
}

static int
backing_fd(struct core *c, int b)
{
	int fd = atomic_load(&c->bk[b].fd), want = -1;

	if (fd != -1)
		return fd;
	fd = open(c->bk[b].path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0 && !backing_matches(c, b, fd)) {
		close(fd);
		fd = -1;
	}
	if (fd < 0)
		fd = -2;
	if (!atomic_compare_exchange_strong(&c->bk[b].fd, &want, fd)) {
		if (fd >= 0)
			close(fd);
		fd = want;
	}
	return fd;
}

int
core_file_usable(struct core *c, int i)
{
	return i >= 0 && i < c->nfile && backing_fd(c, c->file_bk[i]) >= 0;
}

int
core_read(struct core *c, uintptr_t addr, void *buf, size_t len)
{
	unsigned char *out = buf;

	if (addr + len < addr)
		return -1;
	while (len > 0) {
		const struct seg *s = seg_at(c, addr);
		uint64_t n;
		int f, fd;

		if (s != NULL && addr - s->vaddr < s->filesz) {
			n = s->filesz - (addr - s->vaddr);
			if (n > len)
				n = len;
			if (pread_all(c->fd, out, n, s->offset +
			    (addr - s->vaddr)) != 0)
				return -1;
		} else if ((f = file_at(c, addr)) >= 0) {
			n = c->file[f].end - addr;
			if (s == NULL && seg_after(c, addr) - addr < n)
				n = seg_after(c, addr) - addr;
			if (n > len)
				n = len;
			if ((fd = backing_fd(c, c->file_bk[f])) < 0 ||
			    pread_all(fd, out, n, c->file[f].offset +
			    (addr - c->file[f].start)) != 0)
				return -1;
		} else
			return -1;
		out += n;
		addr += n;
		len -= n;
	}
	return 0;
}

static int
read_source(void *ctx, uintptr_t addr, void *buf, size_t len)
{
	return core_read(ctx, addr, buf, len);
}

void
mem_source_core(struct core *c)
{
	c->source.read = read_source;
	c->source.ctx = c;
	c->source.pid = c->pid;
	mem_source_reader(&c->source);
}

/*
 * Native stacks, by libdw.  Separate debug files are looked for by
 * build ID only, as in the shim: no network lookup.
 */
static const Dwfl_Callbacks core_callbacks = {
	.find_elf = dwfl_build_id_find_elf,
	.find_debuginfo = dwfl_build_id_find_debuginfo,
};

static Dwfl *
core_dwfl(struct core *c, char *why, size_t whylen)
{
	Dwfl *dw;

	if (c->dwfl != NULL)
		return c->dwfl;
	if ((dw = dwfl_begin(&core_callbacks)) == NULL) {
		say(why, whylen, "libdw: %s", dwfl_errmsg(-1));
		return NULL;
	}
	dwfl_report_begin(dw);
	if (dwfl_core_file_report(dw, c->elf, c->exe_arg) < 0 ||
	    dwfl_report_end(dw, NULL, NULL) != 0 ||
	    dwfl_core_file_attach(dw, c->elf) < 0) {
		say(why, whylen, "libdw: %s", dwfl_errmsg(-1));
		dwfl_end(dw);
		return NULL;
	}
	return c->dwfl = dw;
}

struct frames {
	uintptr_t	*ip;
	int		 n, max;
};

static int
frame_cb(Dwfl_Frame *frame, void *arg)
{
	struct frames *fr = arg;
	Dwarf_Addr pc;

	if (!dwfl_frame_pc(frame, &pc, NULL) || pc == 0)
		return DWARF_CB_ABORT;
	fr->ip[fr->n++] = pc;
	return fr->n < fr->max ? DWARF_CB_OK : DWARF_CB_ABORT;
}

int
core_stack(struct core *c, pid_t tid, uintptr_t *ip, int max, char *why,
    size_t whylen)
{
	struct frames fr = { ip, 0, max };
	Dwfl *dw;

	if (max <= 0)
		return 0;
	if ((dw = core_dwfl(c, why, whylen)) == NULL)
		return -1;
	/* An error after some frames still leaves those frames. */
	if (dwfl_getthread_frames(dw, tid, frame_cb, &fr) == -1 &&
	    fr.n == 0) {
		say(why, whylen, "thread %d: %s", (int)tid, dwfl_errmsg(-1));
		return -1;
	}
	return fr.n;
}

struct all {
	uintptr_t	*ip;
	int		 max;
	int		(*fn)(pid_t, const uintptr_t *, int, const char *,
			    void *);
	void		*arg;
};

static int
thread_cb(Dwfl_Thread *thread, void *arg)
{
	struct all *a = arg;
	struct frames fr = { a->ip, 0, a->max };
	pid_t tid = dwfl_thread_tid(thread);
	char why[CORE_WHY_MAX] = "";

	if (dwfl_thread_getframes(thread, frame_cb, &fr) == -1 &&
	    fr.n == 0) {
		say(why, sizeof(why), "thread %d: %s", (int)tid,
		    dwfl_errmsg(-1));
		return a->fn(tid, a->ip, -1, why, a->arg) != 0 ?
		    DWARF_CB_ABORT : DWARF_CB_OK;
	}
	return a->fn(tid, a->ip, fr.n, NULL, a->arg) != 0 ?
	    DWARF_CB_ABORT : DWARF_CB_OK;
}

int
core_stacks(struct core *c, int max, int (*fn)(pid_t, const uintptr_t *,
    int, const char *, void *), void *arg, char *why, size_t whylen)
{
	struct all a = { NULL, max, fn, arg };
	Dwfl *dw;
	int rc;

	if ((dw = core_dwfl(c, why, whylen)) == NULL)
		return -1;
	if ((a.ip = calloc((size_t)max + 1, sizeof(*a.ip))) == NULL) {
		say(why, whylen, "out of memory");
		return -1;
	}
	rc = dwfl_getthreads(dw, thread_cb, &a);
	free(a.ip);
	if (rc == -1) {
		say(why, whylen, "libdw: %s", dwfl_errmsg(-1));
		return -1;
	}
	return 0;
}

int
core_symbolize(struct core *c, uintptr_t ip, int is_return,
    struct symbol *sym)
{
	Dwfl *dw;

	if ((dw = core_dwfl(c, NULL, 0)) == NULL) {
		memset(sym, 0, sizeof(*sym));
		return -1;
	}
	if (c->names == NULL)
		c->names = symname_cache_new();
	return symname_lookup(c->names, dw, ip, is_return, sym);
}
