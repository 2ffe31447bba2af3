/* Line numbers from a compressed .debug_line alone: see lines.h. */
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>

#include <gelf.h>
#include <zlib.h>

#include "grow.h"
#include "lines.h"

/* A sequence of rows: the addresses it covers and its line program. */
struct seq {
	uint64_t	 lo, hi;	/* [lo, hi) */
	size_t		 unit;		/* offset of its table in .debug_line */
};

struct lines {
	int		 fd;
	Elf		*elf;
	const unsigned char *line;	/* .debug_line, inflated */
	size_t		 nline;
	void		*line_map;	/* line, when inflated here */
	const char	*line_str;	/* .debug_line_str, or NULL */
	size_t		 nline_str;
	Elf_Scn		*str_scn;	/* .debug_str: inflated when named */
	const char	*str;
	size_t		 nstr;
	uint64_t	 vaddr;
	struct seq	*seq;		/* sorted by lo */
	size_t		 nseq;
	char		 name[1024];	/* the last file named */
};

/* Bounded little-endian reading: a read past the end sets bad. */
struct rd {
	const unsigned char *p, *end;
	int		 bad;
};

static uint64_t
rd_n(struct rd *r, int n)
{
	uint64_t v = 0;
	int i;

	if (r->bad || r->end - r->p < n) {
		r->bad = 1;
		return 0;
	}
	for (i = 0; i < n; i++)
		v |= (uint64_t)r->p[i] << (8 * i);
	r->p += n;
	return v;
}

static uint64_t
rd_uleb(struct rd *r)
{
	uint64_t v = 0;
	int shift = 0;

	while (!r->bad) {
		if (r->p >= r->end) {
			r->bad = 1;
			break;
		}
		if (shift < 64)
			v |= (uint64_t)(*r->p & 0x7f) << shift;
		shift += 7;
		if ((*r->p++ & 0x80) == 0)
			break;
	}
	return v;
}

static int64_t
rd_sleb(struct rd *r)
{
	uint64_t v = 0;
	int shift = 0;
	unsigned char b = 0;

	while (!r->bad) {
		if (r->p >= r->end) {
			r->bad = 1;
			return 0;
		}
		b = *r->p++;
		if (shift < 64)
			v |= (uint64_t)(b & 0x7f) << shift;
		shift += 7;
		if ((b & 0x80) == 0)
			break;
	}
	if (shift < 64 && (b & 0x40))
		v |= ~(uint64_t)0 << shift;
	return (int64_t)v;
}

static void
rd_skip(struct rd *r, uint64_t n)
{
	if (r->bad || (uint64_t)(r->end - r->p) < n)
		r->bad = 1;
	else
		r->p += n;
}

/* A DWARF 5 line table's header: what the rows and names need. */
struct hdr {
	const unsigned char *prog, *end;	/* the line program */
	int		 offset64, addr_size;
	unsigned	 min_inst, line_range, opcode_base;
	int		 line_base;
	const unsigned char *std_len;		/* opcode_base - 1 of them */
	const unsigned char *dir_fmt, *dirs, *file_fmt, *files;
	unsigned	 ndir_fmt, nfile_fmt;
	uint64_t	 ndirs, nfiles;
};

#define DW_FORM_block		0x09
#define DW_FORM_block1		0x0a
#define DW_FORM_data1		0x0b
#define DW_FORM_data2		0x05
#define DW_FORM_data4		0x06
#define DW_FORM_data8		0x07
#define DW_FORM_data16		0x1e
#define DW_FORM_line_strp	0x1f
#define DW_FORM_sdata		0x0d
#define DW_FORM_string		0x08
#define DW_FORM_strp		0x0e
#define DW_FORM_udata		0x0f
#define DW_LNCT_path		1
#define DW_LNCT_directory_index	2

static const char *
str_at(struct lines *l, int form, uint64_t off)
{
	Elf_Data *d;

	if (form == DW_FORM_line_strp)
		return l->line_str != NULL && off < l->nline_str &&
		    memchr(l->line_str + off, '\0', l->nline_str - off) !=
		    NULL ? l->line_str + off : NULL;
	if (l->str == NULL && l->str_scn != NULL) {
		(void)elf_compress(l->str_scn, 0, 0);
		if ((d = elf_getdata(l->str_scn, NULL)) != NULL) {
			l->str = d->d_buf;
			l->nstr = d->d_size;
		}
		l->str_scn = NULL;
	}
	return l->str != NULL && off < l->nstr && memchr(l->str + off, '\0',
	    l->nstr - off) != NULL ? l->str + off : NULL;
}

/*
 * One entry of a directory or file table, by its formats: the path
 * (NULL when absent or unreadable) and the directory index.  0, or -1
 * on a form this reader does not know.
 */
static int
entry(struct lines *l, const struct hdr *h, struct rd *r,
    const unsigned char *fmt, unsigned nfmt, const char **path,
    uint64_t *dir)
{
	struct rd f = { fmt, h->prog, 0 };
	uint64_t type, form, v;
	const char *s;
	unsigned i;

	*path = NULL;
	*dir = 0;
	for (i = 0; i < nfmt; i++) {
		type = rd_uleb(&f);
		form = rd_uleb(&f);
		s = NULL;
		v = 0;
		switch (form) {
		case DW_FORM_string:
			s = (const char *)r->p;
			if ((r->p = memchr(r->p, '\0', (size_t)(r->end -
			    r->p))) == NULL) {
				r->bad = 1;
				return -1;
			}
			r->p++;
			break;
		case DW_FORM_line_strp:
		case DW_FORM_strp:
			s = str_at(l, (int)form, rd_n(r, h->offset64 ? 8 : 4));
			break;
		case DW_FORM_udata:
			v = rd_uleb(r);
			break;
		case DW_FORM_sdata:
			v = (uint64_t)rd_sleb(r);
			break;
		case DW_FORM_data1:
			v = rd_n(r, 1);
			break;
		case DW_FORM_data2:
			v = rd_n(r, 2);
			break;
		case DW_FORM_data4:
			v = rd_n(r, 4);
			break;
		case DW_FORM_data8:
			v = rd_n(r, 8);
			break;
		case DW_FORM_data16:
			rd_skip(r, 16);
			break;
		case DW_FORM_block:
			rd_skip(r, rd_uleb(r));
			break;
		case DW_FORM_block1:
			rd_skip(r, rd_n(r, 1));
			break;
		default:
			return -1;
		}
		if (type == DW_LNCT_path)
			*path = s;
		else if (type == DW_LNCT_directory_index)
			*dir = v;
	}
	return f.bad || r->bad ? -1 : 0;
}

/* Skip a table's entry formats: where they start, or NULL. */
static const unsigned char *
formats(struct rd *r, unsigned *n)
{
	const unsigned char *p;
	unsigned i;

	*n = (unsigned)rd_n(r, 1);
	p = r->p;
	for (i = 0; i < *n * 2; i++)
		(void)rd_uleb(r);
	return r->bad ? NULL : p;
}

/* The header of the table at off: 0, or -1 (not DWARF 5, malformed). */
static int
header(struct lines *l, size_t off, struct hdr *h, size_t *next)
{
	struct rd r = { l->line + off, l->line + l->nline, 0 };
	const char *path;
	uint64_t len, hlen, i, dir;

	memset(h, 0, sizeof *h);
	len = rd_n(&r, 4);
	if (len == 0xffffffff) {
		h->offset64 = 1;
		len = rd_n(&r, 8);
	}
	if (r.bad || len > (uint64_t)(r.end - r.p))
		return -1;
	r.end = r.p + len;
	h->end = r.end;
	*next = (size_t)(r.end - l->line);
	if (rd_n(&r, 2) != 5)
		return -1;
	h->addr_size = (int)rd_n(&r, 1);
	(void)rd_n(&r, 1);			/* segment selector size */
	hlen = rd_n(&r, h->offset64 ? 8 : 4);
	if (r.bad || hlen > (uint64_t)(r.end - r.p))
		return -1;
	h->prog = r.p + hlen;
	h->min_inst = (unsigned)rd_n(&r, 1);
	if (rd_n(&r, 1) != 1)			/* VLIW operations: no */
		return -1;
	(void)rd_n(&r, 1);			/* default_is_stmt */
	h->line_base = (signed char)rd_n(&r, 1);
	h->line_range = (unsigned)rd_n(&r, 1);
	h->opcode_base = (unsigned)rd_n(&r, 1);
	h->std_len = r.p;
	rd_skip(&r, h->opcode_base > 0 ? h->opcode_base - 1 : 0);
	if (r.bad || h->line_range == 0 || h->opcode_base == 0 ||
	    (h->addr_size != 4 && h->addr_size != 8))
		return -1;
	r.end = h->prog;			/* the tables end there */
	if ((h->dir_fmt = formats(&r, &h->ndir_fmt)) == NULL)
		return -1;
	h->ndirs = rd_uleb(&r);
	h->dirs = r.p;
	for (i = 0; i < h->ndirs && !r.bad; i++)
		if (entry(l, h, &r, h->dir_fmt, h->ndir_fmt, &path, &dir) ==
		    -1)
			return -1;
	if ((h->file_fmt = formats(&r, &h->nfile_fmt)) == NULL)
		return -1;
	h->nfiles = rd_uleb(&r);
	h->files = r.p;
	return r.bad ? -1 : 0;
}

/* Entry i of a table: its path and directory index, or -1. */
static int
table_entry(struct lines *l, const struct hdr *h, const unsigned char *at,
    const unsigned char *fmt, unsigned nfmt, uint64_t n, uint64_t i,
    const char **path, uint64_t *dir)
{
	struct rd r = { at, h->prog, 0 };
	uint64_t k;

	if (i >= n)
		return -1;
	for (k = 0; k <= i; k++)
		if (entry(l, h, &r, fmt, nfmt, path, dir) == -1)
			return -1;
	return *path != NULL ? 0 : -1;
}

/* File i named as libdw names it, into l->name: 0, or -1. */
static int
file_name(struct lines *l, const struct hdr *h, uint64_t i)
{
	const char *name, *dname;
	uint64_t dir, unused;
	size_t n, dn;

	if (table_entry(l, h, h->files, h->file_fmt, h->nfile_fmt,
	    h->nfiles, i, &name, &dir) == -1)
		return -1;
	n = strlen(name);
	dn = 0;
	if (name[0] != '/') {		/* relative: its directory, a slash */
		if (table_entry(l, h, h->dirs, h->dir_fmt, h->ndir_fmt,
		    h->ndirs, dir, &dname, &unused) == -1 ||
		    (dn = strlen(dname)) + 1 >= sizeof l->name)
			return -1;
		memcpy(l->name, dname, dn);
		l->name[dn++] = '/';
	}
	if (dn + n + 1 > sizeof l->name)
		return -1;
	memcpy(l->name + dn, name, n + 1);
	return 0;
}

/*
 * Run the program of h, calling row() for each row (end: it ends a
 * sequence).  0 when the program was read to its end, else -1.
 */
struct row {
	uint64_t	 addr;
	uint64_t	 file;
	int64_t		 line;
	int		 end;
};

typedef void	(*row_fn)(void *, const struct row *);

static int
run(const struct hdr *h, row_fn fn, void *arg)
{
	struct rd r = { h->prog, h->end, 0 };
	struct row st = { 0, 1, 1, 0 };
	uint64_t n, k;
	unsigned op, adj;

	while (r.p < r.end && !r.bad) {
		op = (unsigned)rd_n(&r, 1);
		if (op >= h->opcode_base) {
			adj = op - h->opcode_base;
			st.addr += (uint64_t)(adj / h->line_range) *
			    h->min_inst;
			st.line += h->line_base + (int)(adj % h->line_range);
			fn(arg, &st);
			continue;
		}
		switch (op) {
		case 0:				/* extended */
			n = rd_uleb(&r);
			if (r.bad || n == 0 || n > (uint64_t)(r.end - r.p))
				return -1;
			op = *r.p;
			if (op == 1) {		/* end_sequence */
				st.end = 1;
				fn(arg, &st);
				st = (struct row){ 0, 1, 1, 0 };
			} else if (op == 2 && n - 1 == (uint64_t)h->addr_size) {
				r.p++;
				st.addr = rd_n(&r, h->addr_size);
				continue;
			}
			r.p += n;
			break;
		case 1:				/* copy */
			fn(arg, &st);
			break;
		case 2:				/* advance_pc */
			st.addr += rd_uleb(&r) * h->min_inst;
			break;
		case 3:				/* advance_line */
			st.line += rd_sleb(&r);
			break;
		case 4:				/* set_file */
			st.file = rd_uleb(&r);
			break;
		case 8:				/* const_add_pc */
			st.addr += (uint64_t)((255 - h->opcode_base) /
			    h->line_range) * h->min_inst;
			break;
		case 9:				/* fixed_advance_pc */
			st.addr += rd_n(&r, 2);
			break;
		default:			/* operands to skip */
			for (k = 0; k < h->std_len[op - 1]; k++)
				(void)rd_uleb(&r);
			break;
		}
	}
	return r.bad ? -1 : 0;
}

/*
 * Building the index: each sequence's first and end addresses.  The
 * same reading as run() with index_row as its callback, with only the
 * address kept and no call a row: a libc's tables are some 200,000 rows,
 * read on every dump that names a libc frame.
 */
struct index {
	struct lines	*l;
	size_t		 unit;
	int		 open;		/* a sequence has rows */
	uint64_t	 lo;
	size_t		 cap;
	int		 failed;
	unsigned	 base, range, min_inst;	/* special[] is for these */
	uint64_t	 special[256];
};

static void
index_row(struct index *x, uint64_t addr, int end)
{
	struct seq *s;

	if (!x->open || addr < x->lo) {
		x->open = 1;
		x->lo = addr;
	}
	if (!end)
		return;
	x->open = 0;
	if (addr <= x->lo)
		return;				/* covers nothing */
	if ((s = grow(x->l->seq, &x->cap, x->l->nseq + 1, sizeof *s,
	    1024)) == NULL) {
		x->failed = 1;
		return;
	}
	x->l->seq = s;
	s = &x->l->seq[x->l->nseq++];
	s->lo = x->lo;
	s->hi = addr;
	s->unit = x->unit;
}

/* A ULEB128 skipped or read without the bounds struct rd keeps. */
static const unsigned char *
skip_uleb(const unsigned char *p, const unsigned char *end)
{
	while (p < end && (*p & 0x80) != 0)
		p++;
	return p < end ? p + 1 : NULL;
}

static const unsigned char *
get_uleb(const unsigned char *p, const unsigned char *end, uint64_t *v)
{
	int shift = 0;

	*v = 0;
	for (; p < end; p++, shift += 7) {
		if (shift < 64)
			*v |= (uint64_t)(*p & 0x7f) << shift;
		if ((*p & 0x80) == 0)
			return p + 1;
	}
	return NULL;
}

/*
 * The rows of h's program as run() reads them, into the index: 0 when
 * read to its end, else -1.  Lines and files are not followed: only
 * the rows' addresses and ends make sequences.
 */
static int
index_program(const struct hdr *h, struct index *x)
{
	const unsigned char *p = h->prog, *end = h->end;
	uint64_t addr = 0, n, v, *special = x->special, const_add;
	unsigned op, k;

	/* What each special opcode adds to the address: the same for
	   every unit of a file, as a rule. */
	if (x->base != h->opcode_base || x->range != h->line_range ||
	    x->min_inst != h->min_inst) {
		x->base = h->opcode_base;
		x->range = h->line_range;
		x->min_inst = h->min_inst;
		for (op = h->opcode_base; op < 256; op++)
			special[op] = (uint64_t)((op - h->opcode_base) /
			    h->line_range) * h->min_inst;
	}
	const_add = (uint64_t)((255 - h->opcode_base) / h->line_range) *
	    h->min_inst;
	while (p < end) {
		op = *p++;
		if (op >= h->opcode_base) {
			addr += special[op];
			index_row(x, addr, 0);
			continue;
		}
		switch (op) {
		case 0:				/* extended */
			if ((p = get_uleb(p, end, &n)) == NULL || n == 0 ||
			    n > (uint64_t)(end - p))
				return -1;
			if (*p == 1) {		/* end_sequence */
				index_row(x, addr, 1);
				addr = 0;
			} else if (*p == 2 && n - 1 == (uint64_t)h->addr_size) {
				addr = 0;
				for (k = 0; k < (unsigned)h->addr_size; k++)
					addr |= (uint64_t)p[1 + k] << (8 * k);
			}
			p += n;
			break;
		case 1:				/* copy */
			index_row(x, addr, 0);
			break;
		case 2:				/* advance_pc */
			if ((p = get_uleb(p, end, &v)) == NULL)
				return -1;
			addr += v * h->min_inst;
			break;
		case 3:				/* advance_line */
		case 4:				/* set_file */
			if ((p = skip_uleb(p, end)) == NULL)
				return -1;
			break;
		case 8:				/* const_add_pc */
			addr += const_add;
			break;
		case 9:				/* fixed_advance_pc */
			if (end - p < 2)
				return -1;
			addr += (uint64_t)p[0] | (uint64_t)p[1] << 8;
			p += 2;
			break;
		default:			/* operands to skip */
			for (k = 0; k < h->std_len[op - 1]; k++)
				if ((p = skip_uleb(p, end)) == NULL)
					return -1;
			break;
		}
	}
	return 0;
}

static int
seq_cmp(const void *a, const void *b)
{
	const struct seq *x = a, *y = b;

	return (x->lo > y->lo) - (x->lo < y->lo);
}

/* The section named name, inflated when compressed, or NULL. */
static Elf_Data *
section(Elf *elf, size_t shstrndx, const char *name, Elf_Scn **scnp,
    int inflate, int *compressed)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;
	const char *n;

	while ((scn = elf_nextscn(elf, scn)) != NULL) {
		if (gelf_getshdr(scn, &sh) == NULL || sh.sh_type == SHT_NOBITS ||
		    (n = elf_strptr(elf, shstrndx, sh.sh_name)) == NULL ||
		    strcmp(n, name) != 0)
			continue;
		if (compressed != NULL)
			*compressed = (sh.sh_flags & SHF_COMPRESSED) != 0;
		if (scnp != NULL)
			*scnp = scn;
		if (!inflate)
			return NULL;
		if ((sh.sh_flags & SHF_COMPRESSED) != 0 &&
		    elf_compress(scn, 0, 0) < 0)
			return NULL;
		return elf_getdata(scn, NULL);
	}
	return NULL;
}

/*
 * A zlib-compressed section inflated into fresh pages, mapped populated:
 * what elf_compress does, without the checksum of the inflated bytes
 * (a malformed table gives no line anyway) and without a fault a page
 * (libc's .debug_line is 1.3 MB inflated).  The mapping, its length in
 * *len, or NULL (another compression, an error: ask libelf).
 */
static void *
inflate_section(Elf *elf, Elf_Scn *scn, size_t *len)
{
	Elf_Data *raw;
	GElf_Chdr ch;
	const unsigned char *in;
	size_t hdr;
	z_stream z;
	void *out;
	int rc;

	if (gelf_getchdr(scn, &ch) == NULL || ch.ch_type != ELFCOMPRESS_ZLIB ||
	    ch.ch_size == 0 || (raw = elf_rawdata(scn, NULL)) == NULL)
		return NULL;
	hdr = gelf_getclass(elf) == ELFCLASS32 ? sizeof(Elf32_Chdr) :
	    sizeof(Elf64_Chdr);
	if (raw->d_size < hdr + 2 || raw->d_size - hdr > UINT_MAX ||
	    ch.ch_size > UINT_MAX)
		return NULL;
	/* A zlib stream: deflate, no preset dictionary, its header checked. */
	in = (const unsigned char *)raw->d_buf + hdr;
	if ((in[0] & 0x0f) != 8 || (in[1] & 0x20) != 0 ||
	    ((unsigned)in[0] << 8 | in[1]) % 31 != 0)
		return NULL;
	if ((out = mmap(NULL, ch.ch_size, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0)) == MAP_FAILED)
		return NULL;
	memset(&z, 0, sizeof z);
	if (inflateInit2(&z, -15) != Z_OK) {
		munmap(out, ch.ch_size);
		return NULL;
	}
	z.next_in = (unsigned char *)in + 2;
	z.avail_in = (uInt)(raw->d_size - hdr - 2);
	z.next_out = out;
	z.avail_out = (uInt)ch.ch_size;
	rc = inflate(&z, Z_FINISH);
	inflateEnd(&z);
	if (rc != Z_STREAM_END || z.total_out != ch.ch_size) {
		munmap(out, ch.ch_size);
		return NULL;
	}
	*len = ch.ch_size;
	return out;
}

uint64_t
lines_elf_vaddr(Elf *elf)
{
	GElf_Phdr ph;
	size_t i, n;

	if (elf == NULL || elf_getphdrnum(elf, &n) != 0)
		return 0;
	for (i = 0; i < n; i++)
		if (gelf_getphdr(elf, (int)i, &ph) != NULL &&
		    ph.p_type == PT_LOAD)
			return ph.p_align > 1 ? ph.p_vaddr & -ph.p_align :
			    ph.p_vaddr;
	return 0;
}

uint64_t
lines_vaddr(const struct lines *l)
{
	return l->vaddr;
}

struct lines *
lines_open(const char *path)
{
	struct lines *l;
	struct index x;
	struct hdr h;
	Elf_Data *d;
	Elf_Scn *scn = NULL;
	size_t shstrndx, off, next;
	int compressed = 0;

	if ((l = calloc(1, sizeof *l)) == NULL)
		return NULL;
	l->fd = -1;
	elf_version(EV_CURRENT);
	if ((l->fd = open(path, O_RDONLY | O_CLOEXEC)) == -1 ||
	    (l->elf = elf_begin(l->fd, ELF_C_READ_MMAP, NULL)) == NULL ||
	    elf_getshdrstrndx(l->elf, &shstrndx) != 0)
		goto fail;
	/* Compressed .debug_info: what libdw would inflate first. */
	(void)section(l->elf, shstrndx, ".debug_info", NULL, 0, &compressed);
	if (!compressed)
		goto fail;
	(void)section(l->elf, shstrndx, ".debug_line", &scn, 0, &compressed);
	if (scn != NULL && compressed &&
	    (l->line_map = inflate_section(l->elf, scn, &l->nline)) != NULL)
		l->line = l->line_map;
	else if ((d = section(l->elf, shstrndx, ".debug_line", NULL, 1,
	    NULL)) != NULL && d->d_buf != NULL) {
		l->line = d->d_buf;
		l->nline = d->d_size;
	} else
		goto fail;
	if ((d = section(l->elf, shstrndx, ".debug_line_str", NULL, 1,
	    NULL)) != NULL) {
		l->line_str = d->d_buf;
		l->nline_str = d->d_size;
	}
	(void)section(l->elf, shstrndx, ".debug_str", &l->str_scn, 0, NULL);
	l->vaddr = lines_elf_vaddr(l->elf);
	memset(&x, 0, sizeof x);
	x.l = l;
	for (off = 0; off < l->nline; off = next) {
		if (header(l, off, &h, &next) == -1)
			goto fail;		/* not all DWARF 5: libdw's */
		x.unit = off;
		x.open = 0;
		if (index_program(&h, &x) == -1 || x.failed)
			goto fail;
	}
	qsort(l->seq, l->nseq, sizeof *l->seq, seq_cmp);
	return l;
fail:
	lines_close(l);
	return NULL;
}

void
lines_close(struct lines *l)
{
	if (l == NULL)
		return;
	if (l->elf != NULL)
		elf_end(l->elf);
	if (l->fd != -1)
		close(l->fd);
	if (l->line_map != NULL)
		munmap(l->line_map, l->nline);
	free(l->seq);
	free(l);
}

/*
 * The row libdw answers: the last at or below addr in the table's
 * rows sorted by address, where at one address a sequence's end comes
 * before the rows and rows keep the program's order.  libdw ends its
 * sorted rows with an end, marking the last row so when it is not: no
 * row at the table's highest address names a line.
 */
struct pick {
	uint64_t	 addr;
	uint64_t	 top;		/* the highest address of any row */
	int		 have;
	struct row	 best;
};

static void
pick_row(void *arg, const struct row *row)
{
	struct pick *p = arg;

	if (row->addr > p->top)
		p->top = row->addr;
	if (row->addr > p->addr || (p->have && (row->addr < p->best.addr ||
	    (row->addr == p->best.addr && row->end && !p->best.end))))
		return;
	p->best = *row;
	p->have = 1;
}

int
lines_find(struct lines *l, uint64_t addr, const char **file, int *line)
{
	struct pick p;
	struct hdr h;
	size_t lo = 0, hi = l->nseq, mid, next;

	/*
	 * The table of the last sequence starting at or below addr, even
	 * past its end: libdwfl takes the unit of the last address range
	 * starting there (.debug_aranges, one range a sequence), so that
	 * the padding after a function is named by the function's last
	 * row.
	 */
	while (lo < hi) {
		mid = (lo + hi) / 2;
		if (l->seq[mid].lo <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0 || header(l, l->seq[lo - 1].unit, &h, &next) == -1)
		return -1;
	memset(&p, 0, sizeof p);
	p.addr = addr;
	if (run(&h, pick_row, &p) == -1 || !p.have || p.best.end ||
	    p.best.addr == p.top ||
	    p.best.line <= 0 || p.best.line > 0x7fffffff ||
	    file_name(l, &h, p.best.file) == -1)
		return -1;
	*file = l->name;
	*line = (int)p.best.line;
	return 0;
}
