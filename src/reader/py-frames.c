/*
 * Python threads and their frames, read from interpreter memory.
 *
 * The lists we follow are changed by other threads as we read them, so
 * every link is checked before it is trusted: a thread state must point
 * back at its interpreter, a code object must have the code type, an
 * instruction pointer must lie inside its code.  Whatever fails a check
 * ends that walk with an invalid frame; every loop has a bound, so a
 * cycle built from stale memory ends too.
 *
 * Line numbers are computed as the interpreter computes them for
 * f_lineno, from the code object's line table: co_lnotab (3.8, 3.9),
 * co_linetable pairs (3.10), or the location table (3.11+).
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"
#include "py.h"

#define TABLE_CHUNK	128	/* line table bytes read at a time */
#define TABLE_MAX	(1L << 26)	/* a longer line table is garbage */
#define TABLE_KEEP	(64L << 10)	/* tables up to this size are read
					   whole into a dump's cache */

/* A line table, read a chunk at a time, or whole from a dump's cache. */
struct table {
	uintptr_t	data;
	long		len, pos;	/* bytes in all, next to read */
	long		base, have;	/* buf holds [base, base + have) */
	int		bad;		/* a read failed */
	const unsigned char *all;	/* the whole table (cached), or NULL */
	unsigned char	buf[TABLE_CHUNK];
};

/* A bytes object's data as a dump keeps it (PY_CACHE_BYTES). */
struct kept_bytes {
	long		len;
	unsigned char	data[];
};

static int
table_open(const struct py_runtime *rt, uintptr_t bytes, struct table *t)
{
	const struct py_offsets *o = rt->off;
	unsigned char head[64];
	uintptr_t type;

	memset(t, 0, sizeof(*t));
	if ((size_t)o->bytes_sval > sizeof(head) ||
	    py_read(bytes, head, (size_t)o->bytes_sval) == -1)
		return -1;
	memcpy(&type, head + o->ob_type, sizeof(type));
	memcpy(&t->len, head + o->ob_size, sizeof(t->len));
	if ((rt->type_bytes != 0 && type != rt->type_bytes) ||
	    t->len < 0 || t->len > TABLE_MAX)
		return -1;
	t->data = bytes + (uintptr_t)o->bytes_sval;
	return 0;
}

/*
 * table_open, through the dump's cache when there is one: a table
 * short enough is read whole, once per dump, in one read.
 */
static int
table_open_kept(const struct py_runtime *rt, uintptr_t bytes,
    struct table *t)
{
	struct kept_bytes *k;

	if ((k = py_cache_get(rt, PY_CACHE_BYTES, bytes)) != NULL) {
		memset(t, 0, sizeof(*t));
		t->len = k->len;
		t->all = k->data;
		return 0;
	}
	if (table_open(rt, bytes, t) == -1)
		return -1;
	if (py_cache_of(rt) == NULL || t->len > TABLE_KEEP ||
	    (k = malloc(sizeof(*k) + (size_t)t->len)) == NULL)
		return 0;
	k->len = t->len;
	if (py_read(t->data, k->data, (size_t)t->len) == -1) {
		free(k);
		return 0;
	}
	if ((k = py_cache_put(rt, PY_CACHE_BYTES, bytes, k)) != NULL)
		t->all = k->data;
	return 0;
}

/* The byte at the read position, or -1 at the end or on a failed read. */
static int
peek_byte(struct table *t)
{
	if (t->pos >= t->len || t->bad)
		return -1;
	if (t->all != NULL)
		return t->all[t->pos];
	if (t->pos < t->base || t->pos >= t->base + t->have) {
		t->base = t->pos;
		t->have = t->len - t->pos < TABLE_CHUNK ? t->len - t->pos :
		    TABLE_CHUNK;
		if (py_read(t->data + (uintptr_t)t->base, t->buf,
		    (size_t)t->have) == -1) {
			t->bad = 1;
			return -1;
		}
	}
	return t->buf[t->pos - t->base];
}

static int
next_byte(struct table *t)
{
	int b = peek_byte(t);

	if (b != -1)
		t->pos++;
	return b;
}

/* 3.8, 3.9: (address increment, signed line increment) pairs. */
static int
line_lnotab(struct table *t, int first, long addr)
{
	long a = 0;
	int line = first, ai, li;

	while ((ai = next_byte(t)) != -1 && (li = next_byte(t)) != -1) {
		a += ai;
		if (a > addr)
			break;
		line += (signed char)li;
	}
	return t->bad ? 0 : line;
}

/* 3.10: (byte length, signed line delta) pairs; -128: no line. */
static int
line_310(struct table *t, int first, long addr)
{
	long end = 0;
	int line = first, len, delta;

	while ((len = next_byte(t)) != -1 && (delta = next_byte(t)) != -1) {
		end += len;
		if ((signed char)delta != -128)
			line += (signed char)delta;
		if (addr < end)
			return (signed char)delta == -128 ? 0 : line;
	}
	return 0;
}

/* A 6-bit-chunk varint of the 3.11+ location table. */
static int
varint(struct table *t, unsigned *v)
{
	int b, shift = 0;

	*v = 0;
	do {
		if ((b = next_byte(t)) == -1 || shift > 30)
			return -1;
		*v |= (unsigned)(b & 63) << shift;
		shift += 6;
	} while (b & 64);
	return 0;
}

/*
 * 3.11+: entries start with a byte with bit 7 set: bits 3-6 a code,
 * bits 0-2 the length in code units minus one.  Code 15: no location;
 * 14 and 13: a signed varint line delta (then columns); 10-12: delta
 * code - 10; 0-9: same line.  Columns are skipped by looking for the
 * next entry's start bit.
 */
static int
line_locations(struct table *t, int first, long addr)
{
	long start = 0;
	int line = first, b;

	while ((b = next_byte(t)) != -1) {
		int code = b >> 3 & 15, none = 0;
		unsigned v;

		if (!(b & 0x80))
			return 0;	/* not an entry start: corrupt */
		if (code == 15)
			none = 1;
		else if (code == 14 || code == 13) {
			if (varint(t, &v) == -1)
				return 0;
			line += v & 1 ? -(int)(v >> 1) : (int)(v >> 1);
		} else if (code >= 10)
			line += code - 10;
		start += ((b & 7) + 1) * 2;
		if (addr < start)
			return none ? 0 : line;
		while ((b = peek_byte(t)) != -1 && !(b & 0x80))
			next_byte(t);
	}
	return 0;
}

/*
 * The fixed parts of a frame and of a code object, each read in one go:
 * a syscall per field would cost more than everything else together.
 */
#define HEAD_MAX	256	/* bytes of either read at once, at most */

struct frame {
	uintptr_t	back;
	uintptr_t	code;
	uintptr_t	instr;		/* 3.11+ */
	int		lasti;		/* <=3.10 */
	int		owner;		/* 3.11+ */
	int		is_entry;	/* 3.11: the first frame its eval-loop
					   call ran */
	int		tlbc_index;	/* 3.14t+: its thread's bytecode copy */
};

struct code {
	uintptr_t	addr;
	uintptr_t	name, qualname, filename, lines;
	long		units;		/* 3.11+: length of the bytecode */
	uintptr_t	tlbc;		/* 3.14t+: _PyCodeArray of copies */
	int		firstlineno;
	int		firsttraceable;	/* 3.11+ */
	int		stacksize;
	int		nlocalsplus;	/* 3.11+ */
	uintptr_t	exceptions;	/* 3.11+: co_exceptiontable */
};

/* How far to read so that a field of size bytes at off is covered. */
static size_t
reach(size_t len, int off, size_t size)
{
	if (off >= 0 && (size_t)off + size > len)
		return (size_t)off + size;
	return len;
}

/* Read the frame at fp; -1 when unreadable or not a frame object. */
static int
frame_read(const struct py_runtime *rt, uintptr_t fp, struct frame *f)
{
	const struct py_offsets *o = rt->off;
	unsigned char b[HEAD_MAX];
	size_t len = 0;

	len = reach(len, o->fr_back, sizeof(uintptr_t));
	len = reach(len, o->fr_code, sizeof(uintptr_t));
	len = reach(len, o->fr_instr, sizeof(uintptr_t));
	len = reach(len, o->fr_lasti, sizeof(int));
	len = reach(len, o->fr_owner, 1);
	len = reach(len, o->fr_tlbc_index, sizeof(int32_t));
	if (o->fr_lasti >= 0)		/* <=3.10: frames are objects */
		len = reach(len, o->ob_type, sizeof(uintptr_t));
	if (len > sizeof(b) || py_read(fp, b, len) == -1)
		return -1;
	memset(f, 0, sizeof(*f));
	f->back = py_ptr_at(b, o->fr_back);
	f->code = py_ref(o, py_ptr_at(b, o->fr_code));
	if (o->fr_lasti >= 0) {
		if (rt->type_frame != 0 &&
		    py_ptr_at(b, o->ob_type) != rt->type_frame)
			return -1;
		f->lasti = py_int_at(b, o->fr_lasti);
	} else {
		f->instr = py_ptr_at(b, o->fr_instr);
		f->owner = (signed char)b[o->fr_owner];
		/* 3.11 only: bool is_entry sits just before char owner. */
		if (rt->minor == 11 && o->fr_owner > 0)
			f->is_entry = b[o->fr_owner - 1] != 0;
		if (o->fr_tlbc_index >= 0)
			f->tlbc_index = py_int_at(b, o->fr_tlbc_index);
	}
	return 0;
}

/* A code object as a dump keeps it (PY_CACHE_CODE): read and named once. */
struct kept_code {
	struct code	 c;
	char		 function[PY_NAME_MAX];
	char		 qualname[PY_NAME_MAX];
	char		 file[PY_FILE_MAX];
	int		 flags;		/* PY_FRAME_BADSTR */
};

static int	code_read_mem(const struct py_runtime *, uintptr_t,
		    struct code *);
static void	code_names(const struct py_runtime *, const struct code *,
		    char *, char *, char *, int *);

/*
 * Read the code object at addr; -1 when unreadable or not code.  With
 * a dump's cache, each code object is read and named once per dump.
 */
static int
code_read(const struct py_runtime *rt, uintptr_t addr, struct code *c)
{
	struct kept_code *k;

	if ((k = py_cache_get(rt, PY_CACHE_CODE, addr)) != NULL) {
		*c = k->c;
		return 0;
	}
	if (code_read_mem(rt, addr, c) == -1)
		return -1;
	if (py_cache_of(rt) == NULL || (k = malloc(sizeof(*k))) == NULL)
		return 0;
	k->c = *c;
	code_names(rt, c, k->function, k->qualname, k->file, &k->flags);
	(void)py_cache_put(rt, PY_CACHE_CODE, addr, k);
	return 0;
}

/* Read the code object at addr, uncached. */
static int
code_read_mem(const struct py_runtime *rt, uintptr_t addr, struct code *c)
{
	const struct py_offsets *o = rt->off;
	unsigned char b[HEAD_MAX];
	size_t len = 0;

	len = reach(len, o->ob_type, sizeof(uintptr_t));
	len = reach(len, o->co_firstlineno, sizeof(int));
	len = reach(len, o->co_filename, sizeof(uintptr_t));
	len = reach(len, o->co_name, sizeof(uintptr_t));
	len = reach(len, o->co_qualname, sizeof(uintptr_t));
	len = reach(len, o->co_lines, sizeof(uintptr_t));
	len = reach(len, o->co_firsttraceable, sizeof(int));
	len = reach(len, o->co_stacksize, sizeof(int));
	len = reach(len, o->co_nlocalsplus, sizeof(int));
	len = reach(len, o->co_exceptiontable, sizeof(uintptr_t));
	len = reach(len, o->co_tlbc, sizeof(uintptr_t));
	if (o->co_code_adaptive >= 0)	/* 3.11+: a PyVarObject */
		len = reach(len, o->ob_size, sizeof(long));
	if (len > sizeof(b) || py_read(addr, b, len) == -1)
		return -1;
	if (rt->type_code != 0 && py_ptr_at(b, o->ob_type) != rt->type_code)
		return -1;
	memset(c, 0, sizeof(*c));
	c->addr = addr;
	c->firstlineno = py_int_at(b, o->co_firstlineno);
	c->filename = py_ptr_at(b, o->co_filename);
	c->name = py_ptr_at(b, o->co_name);
	c->lines = py_ptr_at(b, o->co_lines);
	if (o->co_qualname >= 0)
		c->qualname = py_ptr_at(b, o->co_qualname);
	if (o->co_stacksize >= 0)
		c->stacksize = py_int_at(b, o->co_stacksize);
	if (o->co_nlocalsplus >= 0)
		c->nlocalsplus = py_int_at(b, o->co_nlocalsplus);
	if (o->co_exceptiontable >= 0)
		c->exceptions = py_ptr_at(b, o->co_exceptiontable);
	if (o->co_tlbc >= 0)
		c->tlbc = py_ptr_at(b, o->co_tlbc);
	if (o->co_code_adaptive >= 0) {
		memcpy(&c->units, b + o->ob_size, sizeof(c->units));
		c->firsttraceable = py_int_at(b, o->co_firsttraceable);
	}
	return 0;
}

/* The line of byte offset addr in code (addr < 0: not started yet). */
static int
code_line(const struct py_runtime *rt, const struct code *c, long addr)
{
	struct table t;
	uintptr_t at = 0;
	int line = 0, *kept;

	if (addr < 0)
		return c->firstlineno;
	/*
	 * 3.11+: the instruction's own address (its bytes lie in the code
	 * object) names its line for the dump; a thousand threads parked
	 * at one place decode the table once, not a thousand times.
	 */
	if (rt->off->co_code_adaptive >= 0) {
		at = c->addr + (uintptr_t)rt->off->co_code_adaptive +
		    (uintptr_t)addr;
		if ((kept = py_cache_get(rt, PY_CACHE_LINE, at)) != NULL)
			return *kept;
	}
	if (table_open_kept(rt, c->lines, &t) == -1)
		return 0;
	switch (rt->off->co_lines_format) {
	case PY_LINES_LNOTAB:
		line = line_lnotab(&t, c->firstlineno, addr);
		break;
	case PY_LINES_310:
		line = line_310(&t, c->firstlineno, addr);
		break;
	case PY_LINES_LOCATIONS:
		line = line_locations(&t, c->firstlineno, addr);
		break;
	}
	if (at != 0 && line > 0 && py_cache_of(rt) != NULL &&
	    (kept = malloc(sizeof *kept)) != NULL) {
		*kept = line;
		(void)py_cache_put(rt, PY_CACHE_LINE, at, kept);
	}
	return line;
}

static void
frame_invalid(struct py_frame *f, uintptr_t frame)
{
	memset(f, 0, sizeof(*f));
	memcpy(f->function, "<invalid>", sizeof("<invalid>"));
	f->flags = PY_FRAME_INVALID;
	f->frame = frame;
}

/* The names of code c (each PY_NAME_MAX or PY_FILE_MAX bytes). */
static void
code_names(const struct py_runtime *rt, const struct code *c,
    char *function, char *qualname, char *file, int *flags)
{
	*flags = 0;
	qualname[0] = '\0';
	if (py_read_str(rt, c->name, function, PY_NAME_MAX) == -1)
		*flags |= PY_FRAME_BADSTR;
	if (rt->off->co_qualname >= 0 && py_read_str(rt, c->qualname,
	    qualname, PY_NAME_MAX) == -1)
		*flags |= PY_FRAME_BADSTR;
	if (py_read_str(rt, c->filename, file, PY_FILE_MAX) == -1)
		*flags |= PY_FRAME_BADSTR;
}

static void
frame_fill(const struct py_runtime *rt, struct py_frame *f, uintptr_t frame,
    const struct code *c, long addr)
{
	const struct kept_code *k;

	memset(f, 0, sizeof(*f));
	f->frame = frame;
	f->code = c->addr;
	f->line = code_line(rt, c, addr);
	if ((k = py_cache_get(rt, PY_CACHE_CODE, c->addr)) != NULL) {
		memcpy(f->function, k->function, sizeof(f->function));
		memcpy(f->qualname, k->qualname, sizeof(f->qualname));
		memcpy(f->file, k->file, sizeof(f->file));
		f->flags = k->flags;
		return;
	}
	code_names(rt, c, f->function, f->qualname, f->file, &f->flags);
}

/*
 * Does a frame with this owner belong to C (3.12+ entry frames, 3.14's
 * interpreter and C stack frames)?  The owner values of C's come last.
 */
static int
c_owned(const struct py_offsets *o, int owner)
{
	return o->fr_owner_cstack >= 0 && owner >= o->fr_owner_cstack;
}

/*
 * Where the bytecode frame f runs starts, into *base: its code's own
 * (co_code_adaptive); on a free-threaded 3.14+, the copy of the thread
 * that runs it (entry tlbc_index of the code's co_tlbc; entry 0 is the
 * code's own), which its instruction pointer points into.  0, or -1
 * when the copy cannot be read.
 */
static int
bytecode_of(const struct py_runtime *rt, const struct frame *f,
    const struct code *c, uintptr_t *base)
{
	const struct py_offsets *o = rt->off;
	long size;

	*base = f->code + (uintptr_t)o->co_code_adaptive;
	if (o->fr_tlbc_index < 0 || f->tlbc_index == 0)
		return 0;
	if (f->tlbc_index < 0 || c->tlbc == 0 || py_read(c->tlbc +
	    (uintptr_t)o->ca_size, &size, sizeof(size)) == -1 ||
	    f->tlbc_index >= size || py_read_ptr(c->tlbc +
	    (uintptr_t)o->ca_entries + (uintptr_t)f->tlbc_index *
	    sizeof(uintptr_t), base) == -1)
		return -1;
	return 0;
}

/*
 * Should frame f be shown?  1 yes, 0 skip it (owned by C, not started),
 * -1 when it fails a check.  *c and *addr (byte offset of the current
 * instruction, -1 before the first) describe it.
 */
static int
frame_look(const struct py_runtime *rt, const struct frame *f,
    struct code *c, long *addr)
{
	const struct py_offsets *o = rt->off;
	uintptr_t base;

	if (o->fr_lasti >= 0) {
		/* <=3.10: f_lasti -1 means not started: co_firstlineno. */
		if (code_read(rt, f->code, c) == -1)
			return -1;
		*addr = f->lasti < 0 ? -1 : (long)f->lasti * o->fr_lasti_bytes;
		return 1;
	}
	/* 3.12+ entry frames (3.13+: executable None) belong to C. */
	if (c_owned(o, f->owner))
		return 0;
	if (code_read(rt, f->code, c) == -1 || bytecode_of(rt, f, c,
	    &base) == -1)
		return -1;
	*addr = (long)(f->instr - base);
	/* prev_instr may sit one unit before the code, no further. */
	if (*addr < -o->fr_lasti_bytes || *addr > c->units * o->fr_lasti_bytes)
		return -1;
	/* Not started: sys._current_frames() leaves these out too. */
	if (f->owner != o->fr_owner_generator &&
	    *addr < (long)c->firsttraceable * o->fr_lasti_bytes)
		return 0;
	return 1;
}

/* The first frame of a thread state: a frame object or an interpreter
 * frame, by version. */
static int
first_frame(const struct py_runtime *rt, uintptr_t ts, uintptr_t *fp)
{
	const struct py_offsets *o = rt->off;
	const struct py_kept_tstate *k = py_cache_get(rt, PY_CACHE_TSTATE, ts);
	uintptr_t cf;

	if (o->ts_frame >= 0 || o->ts_current_frame >= 0) {
		if (k != NULL) {
			*fp = k->first;
			return 0;
		}
		return py_read_ptr(ts + (uintptr_t)(o->ts_frame >= 0 ?
		    o->ts_frame : o->ts_current_frame), fp);
	}
	if (k != NULL)
		cf = k->first;
	else if (py_read_ptr(ts + (uintptr_t)o->ts_cframe, &cf) == -1)
		return -1;
	if (cf == 0) {
		*fp = 0;
		return 0;
	}
	return py_read_ptr(cf + (uintptr_t)o->cf_current_frame, fp);
}

/* Where a thread state points to its frames (first_frame reads it). */
static ptrdiff_t
frame_field(const struct py_offsets *o)
{
	return o->ts_frame >= 0 ? o->ts_frame : o->ts_current_frame >= 0 ?
	    o->ts_current_frame : o->ts_cframe;
}

void
py_tstates_prefetch(const struct py_runtime *rt, const uintptr_t *ts,
    size_t n)
{
	const struct py_offsets *o = rt->off;
	const struct py_kept_tstate *k;
	uintptr_t a[MEM_PREFETCH_MAX] = { 0 }, cf;
	size_t i, m;

	if (o == NULL || frame_field(o) < 0)
		return;
	if (n > MEM_PREFETCH_MAX)
		n = MEM_PREFETCH_MAX;
	/* The states themselves, where they were not kept (the shim's). */
	for (i = m = 0; i < n; i++)
		if (ts[i] != 0 && py_cache_get(rt, PY_CACHE_TSTATE,
		    ts[i]) == NULL)
			a[m++] = ts[i] + (uintptr_t)frame_field(o);
	mem_cache_prefetch(a, m);
	/* 3.11 and 3.12 reach the frame through a C frame on the stack. */
	if (o->ts_frame < 0 && o->ts_current_frame < 0) {
		for (i = m = 0; i < n; i++) {
			if ((k = py_cache_get(rt, PY_CACHE_TSTATE, ts[i])) !=
			    NULL)
				cf = k->first;
			else if (ts[i] == 0 || py_read_ptr(ts[i] +
			    (uintptr_t)o->ts_cframe, &cf) == -1)
				cf = 0;
			if (cf != 0)
				a[m++] = cf + (uintptr_t)o->cf_current_frame;
		}
		mem_cache_prefetch(a, m);
	}
	/* The innermost frames. */
	for (i = m = 0; i < n; i++)
		if (ts[i] != 0 && first_frame(rt, ts[i], &a[m]) == 0 &&
		    a[m] != 0)
			m++;
	mem_cache_prefetch(a, m);
}

/*
 * What frames_walk calls for each frame shown, innermost first: its
 * address, code and byte offset, or c NULL for one that failed a check
 * (the last).  Returns 0 to go on, 1 to stop.
 */
typedef int	(*frame_fn)(const struct py_runtime *, uintptr_t fp,
		    const struct code *c, long addr, void *arg);

/*
 * Does the eval-loop call that ran the frames walked so far end at f
 * (the frames shown since the last end are one native
 * _PyEval_EvalFrameDefault's)?  Before 3.11 each frame has a call of its
 * own; 3.11 marks the first frame a call ran (is_entry); 3.12 and later
 * put a frame owned by C below it.
 */
static int
ends_call(const struct py_runtime *rt, const struct frame *f, int shown)
{
	const struct py_offsets *o = rt->off;

	if (o->fr_lasti >= 0)
		return shown;
	return f->is_entry || c_owned(o, f->owner);
}

/*
 * Walk ts's frames; -1 when ts is unreadable, 1 when the walk was cut
 * at PY_WALK_MAX frames, else 0.  call_end(arg), when given, is called
 * where an eval-loop call's frames end (ends_call).
 */
static int
frames_walk(const struct py_runtime *rt, uintptr_t ts, frame_fn fn,
    void (*call_end)(void *arg), void *arg)
{
	struct frame f;
	struct code c;
	uintptr_t fp;
	long addr;
	int show;

	if (rt->off == NULL || first_frame(rt, ts, &fp) == -1)
		return -1;
	for (int steps = 0; fp != 0; steps++, fp = f.back) {
		if (steps == PY_WALK_MAX)
			return 1;
		if (frame_read(rt, fp, &f) == -1 ||
		    (show = frame_look(rt, &f, &c, &addr)) == -1) {
			fn(rt, fp, NULL, 0, arg);
			return 0;
		}
		if (show == 1 && fn(rt, fp, &c, addr, arg))
			return 0;
		if (call_end != NULL && ends_call(rt, &f, show == 1))
			call_end(arg);
	}
	return 0;
}

struct fill {
	struct py_frame	*out;
	int		 max, n;
};

static int
fill_one(const struct py_runtime *rt, uintptr_t fp, const struct code *c,
    long addr, void *arg)
{
	struct fill *fl = arg;

	if (c == NULL) {
		if (fl->n == fl->max)
			fl->n--;
		frame_invalid(&fl->out[fl->n++], fp);
		return 1;
	}
	if (fl->n == fl->max) {
		fl->out[fl->n - 1].flags |= PY_FRAME_MORE;
		return 1;
	}
	frame_fill(rt, &fl->out[fl->n++], fp, c, addr);
	return 0;
}

/* The last frame filled is the first its eval-loop call ran. */
static void
fill_call_end(void *arg)
{
	struct fill *fl = arg;

	if (fl->n > 0)
		fl->out[fl->n - 1].flags |= PY_FRAME_CALL_END;
}

int
py_tstate_frames(const struct py_runtime *rt, uintptr_t ts,
    struct py_frame *out, int max)
{
	struct fill fl = { out, max, 0 };
	int rv;

	if (max <= 0 || (rv = frames_walk(rt, ts, fill_one, fill_call_end, &fl)) == -1)
		return -1;
	if (rv == 1 && fl.n > 0)	/* cut at PY_WALK_MAX */
		out[fl.n - 1].flags |= PY_FRAME_MORE;
	return fl.n;
}

int
py_frame_at(const struct py_runtime *rt, uintptr_t fp, struct py_frame *out)
{
	struct frame f;
	struct code c;
	long addr;

	if (rt->off == NULL || frame_read(rt, fp, &f) == -1 ||
	    frame_look(rt, &f, &c, &addr) != 1) {
		frame_invalid(out, fp);
		return -1;
	}
	frame_fill(rt, out, fp, &c, addr);
	return 0;
}

struct sites {
	struct py_site	*out;
	int		 max, n;
};

static int
site_one(const struct py_runtime *rt, uintptr_t fp, const struct code *c,
    long addr, void *arg)
{
	struct sites *ss = arg;

	(void)rt;
	(void)fp;
	if (c == NULL || ss->n == ss->max)
		return 1;
	ss->out[ss->n].code = c->addr;
	ss->out[ss->n++].addr = addr;
	return 0;
}

int
py_tstate_sites(const struct py_runtime *rt, uintptr_t ts,
    struct py_site *out, int max)
{
	struct sites ss = { out, max, 0 };

	if (max <= 0 || frames_walk(rt, ts, site_one, NULL, &ss) == -1)
		return -1;
	return ss.n;
}

int
py_tstate_outermost(const struct py_runtime *rt, uintptr_t ts,
    uintptr_t *frame, uintptr_t *code)
{
	const struct py_offsets *o = rt->off;
	struct frame f;
	uintptr_t fp, type;

	*frame = *code = 0;
	if (o == NULL || first_frame(rt, ts, &fp) == -1)
		return -1;
	for (int steps = 0; fp != 0; steps++, fp = f.back) {
		if (steps == PY_WALK_MAX || frame_read(rt, fp, &f) == -1)
			return -1;
		if (c_owned(o, f.owner))
			continue;
		*frame = fp;
		*code = f.code;
	}
	if (*frame == 0 || py_read_ptr(*code + (uintptr_t)o->ob_type,
	    &type) == -1 || rt->type_code == 0 || type != rt->type_code)
		return -1;
	return 0;
}

/*
 * A dump keeps what it read of each thread state as it listed them
 * (PY_CACHE_TSTATE), for the readers that start from one: its
 * interpreter, its pthread_t, the pointer to its first frame.
 */
static void
tstate_keep(const struct py_runtime *rt, uintptr_t ts, const unsigned char *b)
{
	const struct py_offsets *o = rt->off;
	struct py_kept_tstate *k;
	int first;

	if (py_cache_of(rt) == NULL || (k = malloc(sizeof(*k))) == NULL)
		return;
	first = o->ts_frame >= 0 ? o->ts_frame : o->ts_current_frame >= 0 ?
	    o->ts_current_frame : o->ts_cframe;
	k->interp = py_ptr_at(b, o->ts_interp);
	memcpy(&k->thread_id, b + o->ts_thread_id, sizeof(k->thread_id));
	k->first = py_ptr_at(b, first);
	(void)py_cache_put(rt, PY_CACHE_TSTATE, ts, k);
}

/* A tstate->state value as PY_TS_*. */
static int
ts_state(const struct py_offsets *o, int v)
{
	if (v == o->ts_state_attached)
		return PY_TS_ATTACHED;
	if (o->ts_state_detached >= 0 && v == o->ts_state_detached)
		return PY_TS_DETACHED;
	if (o->ts_state_suspended >= 0 && v == o->ts_state_suspended)
		return PY_TS_SUSPENDED;
	return PY_TS_UNKNOWN;
}

int
py_tstate_state(const struct py_runtime *rt, uintptr_t ts)
{
	int v;

	if (rt->off == NULL || rt->off->ts_state < 0 || py_read_int(ts +
	    (uintptr_t)rt->off->ts_state, &v) == -1)
		return PY_TS_UNKNOWN;
	return ts_state(rt->off, v);
}

/* Fill t from thread state ts of interp; -1 when ts fails the check.
 * The fields are read in one go: a thousand threads, a thousand reads. */
#define TSTATE_MAX	1024	/* bytes of a thread state read at once */

static int
thread_read(const struct py_runtime *rt, uintptr_t ts, uintptr_t interp,
    struct py_thread *t, uintptr_t *next)
{
	const struct py_offsets *o = rt->off;
	unsigned char b[TSTATE_MAX];
	uint32_t status;
	size_t len = 0;

	memset(t, 0, sizeof(*t));
	t->attached = t->holds_gil = -1;
	len = reach(len, o->ts_next, sizeof(uintptr_t));
	len = reach(len, o->ts_interp, sizeof(uintptr_t));
	len = reach(len, o->ts_thread_id, sizeof(unsigned long));
	len = reach(len, o->ts_native_thread_id, sizeof(unsigned long));
	len = reach(len, o->ts_state, sizeof(int));
	len = reach(len, o->ts_status, sizeof(status));
	len = reach(len, o->ts_holds_gil, sizeof(int));
	len = reach(len, o->ts_frame, sizeof(uintptr_t));
	len = reach(len, o->ts_current_frame, sizeof(uintptr_t));
	len = reach(len, o->ts_cframe, sizeof(uintptr_t));
	if (len > sizeof(b) || py_read(ts, b, len) == -1 ||
	    py_ptr_at(b, o->ts_interp) != interp)
		return -1;
	*next = py_ptr_at(b, o->ts_next);
	tstate_keep(rt, ts, b);
	memcpy(&t->thread_id, b + o->ts_thread_id, sizeof(t->thread_id));
	if (o->ts_native_thread_id >= 0)
		t->tid = (pid_t)py_long_at(b, o->ts_native_thread_id);
	else
		t->tid = py_pthread_tid(rt, t->thread_id);
	if (o->ts_state >= 0) {
		t->state = ts_state(o, py_int_at(b, o->ts_state));
		t->attached = t->state == PY_TS_ATTACHED;
	}
	if (o->ts_status_holds_gil >= 0) {
		memcpy(&status, b + o->ts_status, sizeof(status));
		t->holds_gil = (int)(status >> o->ts_status_holds_gil & 1);
	} else if (o->ts_holds_gil >= 0)
		t->holds_gil = py_int_at(b, o->ts_holds_gil) != 0;
	t->tstate = ts;
	t->interp = interp;
	return 0;
}

int
py_thread_list(const struct py_runtime *rt,
    int (*fn)(const struct py_thread *, void *), void *arg)
{
	const struct py_offsets *o = rt->off;
	struct py_thread t;
	uintptr_t interp, ts;
	int count = 0;

	if (o == NULL || py_read_ptr(rt->runtime +
	    (uintptr_t)o->rt_interp_head, &interp) == -1 || interp == 0)
		return -1;
	for (int ni = 0; interp != 0 && ni < PY_INTERP_MAX; ni++) {
		if (py_read_ptr(interp + (uintptr_t)o->is_threads_head,
		    &ts) == -1)
			return count > 0 ? count : -1;
		for (int nt = 0; ts != 0 && nt < PY_THREADS_MAX; nt++) {
			if (thread_read(rt, ts, interp, &t, &ts) == -1)
				break;
			count++;
			if (fn(&t, arg))
				return count;
		}
		if (py_read_ptr(interp + (uintptr_t)o->is_next, &interp) == -1)
			break;
	}
	return count;
}

/*
 * One thread may have a thread state in several interpreters.  Take the
 * first (newest interpreter) that has frames: a thread running code in
 * a subinterpreter has its innermost frames there.
 */
struct match {
	const struct py_runtime	*rt;
	unsigned long		 thread_id;
	pid_t			 tid;
	uintptr_t		 tstate;
};

static int
match_thread(const struct py_thread *t, void *arg)
{
	struct match *m = arg;
	uintptr_t fp;

	if (m->thread_id != 0 ? t->thread_id != m->thread_id :
	    (t->tid == 0 || t->tid != m->tid))
		return 0;
	if (m->tstate == 0)
		m->tstate = t->tstate;
	if (first_frame(m->rt, t->tstate, &fp) == 0 && fp != 0) {
		m->tstate = t->tstate;
		return 1;
	}
	return 0;
}

int
py_thread_tstate(const struct py_runtime *rt, unsigned long thread_id,
    pid_t tid, uintptr_t *tstate)
{
	struct match m = { rt, thread_id, tid, 0 };

	if (py_thread_list(rt, match_thread, &m) == -1 || m.tstate == 0)
		return -1;
	*tstate = m.tstate;
	return 0;
}

int
py_thread_frames(const struct py_runtime *rt, unsigned long thread_id,
    pid_t tid, struct py_frame *out, int max)
{
	uintptr_t ts;

	if (py_thread_tstate(rt, thread_id, tid, &ts) == -1)
		return -1;
	return py_tstate_frames(rt, ts, out, max);
}

/*
 * Plain loads from the calling thread's own live structures: it holds
 * the GIL, so nobody else changes its frames and none can be freed
 * under it.  The thread state itself is checked first (it names this
 * thread) so a stale pointer is never followed further.
 */
#define OWN(type, base, off)	(*(const type *)((base) + (uintptr_t)(off)))

static uintptr_t
own_first_frame(const struct py_offsets *o, uintptr_t ts)
{
	uintptr_t cf;

	if (o->ts_frame >= 0)
		return OWN(uintptr_t, ts, o->ts_frame);
	if (o->ts_current_frame >= 0)
		return OWN(uintptr_t, ts, o->ts_current_frame);
	cf = OWN(uintptr_t, ts, o->ts_cframe);
	return cf == 0 ? 0 : OWN(uintptr_t, cf, o->cf_current_frame);
}

/* The bytecode the caller's own frame fp runs (bytecode_of, with plain
 * loads: a copy the thread runs is not freed while it is attached). */
static inline uintptr_t
own_bytecode(const struct py_offsets *o, uintptr_t fp, uintptr_t code)
{
	uintptr_t tlbc;
	int32_t i;

	if (o->fr_tlbc_index < 0 || (i = OWN(int32_t, fp,
	    o->fr_tlbc_index)) == 0)
		return code + (uintptr_t)o->co_code_adaptive;
	tlbc = OWN(uintptr_t, code, o->co_tlbc);
	if (tlbc == 0 || i < 0 || i >= OWN(long, tlbc, o->ca_size))
		return 0;
	return OWN(uintptr_t, tlbc, o->ca_entries + i * (int)sizeof(tlbc));
}

/* The site of the caller's own frame fp into *out: 1, or 0 for a frame
 * the C stack owns (an entry frame: no line of its own). */
static inline int
own_frame_site(const struct py_offsets *o, uintptr_t fp, struct py_site *out)
{
	uintptr_t code = py_ref(o, OWN(uintptr_t, fp, o->fr_code));
	int lasti;

	if (o->fr_lasti >= 0) {
		lasti = OWN(int, fp, o->fr_lasti);
		out->code = code;
		out->addr = lasti < 0 ? -1 : (long)lasti * o->fr_lasti_bytes;
		return 1;
	}
	if (c_owned(o, OWN(signed char, fp, o->fr_owner)))
		return 0;
	out->code = code;
	out->addr = (long)(OWN(uintptr_t, fp, o->fr_instr) -
	    own_bytecode(o, fp, code));
	return 1;
}

int
py_own_sites(const struct py_runtime *rt, uintptr_t ts, unsigned long self,
    struct py_site *out, int max)
{
	const struct py_offsets *o = rt->off;
	uintptr_t fp;
	int steps, n = 0;

	if (o == NULL || ts == 0 ||
	    OWN(unsigned long, ts, o->ts_thread_id) != self)
		return -1;
	fp = own_first_frame(o, ts);
	for (steps = 0; fp != 0 && n < max && steps < PY_WALK_MAX; steps++) {
		n += own_frame_site(o, fp, &out[n]);
		fp = OWN(uintptr_t, fp, o->fr_back);
	}
	return n;
}

/* py_own_site past an innermost frame with no line: the walk. */
static __attribute__((noinline)) int
own_site_walk(const struct py_runtime *rt, uintptr_t ts, unsigned long self,
    struct py_site *site)
{
	return py_own_sites(rt, ts, self, site, 1) == 1 ? 0 : -1;
}

/*
 * Every Python lock a thread takes asks: the innermost frame is most
 * often the one, found without the walk, which is a call of its own so
 * that this path saves no registers.
 */
int
py_own_site(const struct py_runtime *rt, uintptr_t ts, unsigned long self,
    struct py_site *site)
{
	const struct py_offsets *o = rt->off;
	uintptr_t fp;

	if (o == NULL || ts == 0 ||
	    OWN(unsigned long, ts, o->ts_thread_id) != self)
		return -1;
	if ((fp = own_first_frame(o, ts)) != 0 && own_frame_site(o, fp, site))
		return 0;
	return own_site_walk(rt, ts, self, site);
}

void
py_own_fast_init(const struct py_offsets *o, struct py_own_fast *f)
{
	memset(f, 0, sizeof *f);
	/* Frame objects (3.8-3.10), a line index, and a free-threaded
	 * build's per-thread bytecode take py_own_site's way. */
	if (o == NULL || o->ts_frame >= 0 || o->fr_lasti >= 0 ||
	    o->fr_instr < 0 || o->fr_owner < 0 || o->fr_tlbc_index >= 0)
		return;
	if (o->ts_current_frame >= 0) {
		f->ts_first = o->ts_current_frame;
		f->via = PY_OWN_CURRENT;
	} else if (o->ts_cframe >= 0 && o->cf_current_frame >= 0) {
		f->ts_first = o->ts_cframe;
		f->cf_current_frame = o->cf_current_frame;
		f->via = PY_OWN_CFRAME;
	} else
		return;
	f->ts_thread_id = o->ts_thread_id;
	f->fr_code = o->fr_code;
	f->fr_instr = o->fr_instr;
	f->fr_owner = o->fr_owner;
	f->owner_cstack = o->fr_owner_cstack >= 0 ? o->fr_owner_cstack :
	    SCHAR_MAX + 1;
	f->co_code_adaptive = o->co_code_adaptive;
	f->keep = ~(uintptr_t)o->fr_ref_tags;
}

int
py_site_frame(const struct py_runtime *rt, const struct py_site *site,
    struct py_frame *out)
{
	struct code c;

	if (rt->off == NULL || site->code == 0 ||
	    code_read(rt, site->code, &c) == -1)
		return -1;
	frame_fill(rt, out, 0, &c, site->addr);
	return 0;
}

int
py_frame_local(const struct py_runtime *rt, uintptr_t frame, int i,
    uintptr_t *v)
{
	const struct py_offsets *o = rt->off;

	if (o == NULL || o->fr_localsplus < 0 || frame == 0 ||
	    py_read_ptr(frame + (uintptr_t)o->fr_localsplus +
	    (uintptr_t)i * sizeof(uintptr_t), v) == -1)
		return -1;
	*v = py_ref(o, *v);
	return 0;
}

/*
 * 3.11+ exception table varint: 6-bit chunks, most significant first,
 * bit 6 set on every chunk but the last (bit 7 marks an entry's start).
 */
static int
exc_varint(struct table *t, unsigned *v)
{
	int b;

	if ((b = next_byte(t)) == -1)
		return -1;
	*v = (unsigned)b & 63;
	while (b & 64) {
		if ((b = next_byte(t)) == -1 || *v >= 1U << 24)
			return -1;
		*v = *v << 6 | ((unsigned)b & 63);
	}
	return 0;
}

/*
 * 3.11+: the stack depth the handler covering code unit `unit` restores,
 * which every instruction of its range runs above: entries are (start,
 * length, target, depth << 1 | lasti), in code units, sorted and not
 * overlapping (the innermost handler wins).  0 when no handler covers
 * the unit or the table cannot be read.
 */
static int
handler_depth(const struct py_runtime *rt, const struct code *c, long unit)
{
	struct table t;
	unsigned start, len, target, dl;

	if (unit < 0 || c->exceptions == 0 ||
	    table_open_kept(rt, c->exceptions, &t) == -1)
		return 0;
	while (peek_byte(&t) != -1) {
		if (exc_varint(&t, &start) == -1 || exc_varint(&t, &len) == -1 ||
		    exc_varint(&t, &target) == -1 || exc_varint(&t, &dl) == -1)
			return 0;
		if (unit < (long)start)
			return 0;
		if (unit < (long)start + (long)len)
			return (int)(dl >> 1);
	}
	return 0;
}

/*
 * Up to 3.10: the stack level of the frame's innermost block (the
 * level only grows inward), which the stack never goes below while the
 * block is set up; and where the value stack is.
 */
static int
block_level(const struct py_runtime *rt, uintptr_t fp, uintptr_t *base)
{
	const struct py_offsets *o = rt->off;
	int iblock, level;

	if (py_read_ptr(fp + (uintptr_t)o->fr_valuestack, base) == -1 ||
	    py_read_int(fp + (uintptr_t)o->fr_iblock, &iblock) == -1)
		return -1;
	if (iblock <= 0)
		return 0;
	if (iblock > 64 || py_read_int(fp + (uintptr_t)o->fr_blockstack +
	    (uintptr_t)((iblock - 1) * o->tb_size + o->tb_level),
	    &level) == -1)
		return -1;
	return level;
}

struct stacks {
	int		(*fn)(const struct py_runtime *,
			    const struct py_stack *, void *);
	void		*arg;
	int		 n;
};

static int
stack_one(const struct py_runtime *rt, uintptr_t fp, const struct code *c,
    long addr, void *arg)
{
	const struct py_offsets *o = rt->off;
	struct stacks *ss = arg;
	struct py_stack st;

	if (c == NULL)
		return 1;
	memset(&st, 0, sizeof(st));
	st.frame = fp;
	st.index = ss->n++;
	st.size = c->stacksize;
	if (o->fr_valuestack >= 0) {
		if ((st.live = block_level(rt, fp, &st.base)) == -1)
			return 1;
	} else {
		st.base = fp + (uintptr_t)o->fr_localsplus +
		    (uintptr_t)c->nlocalsplus * sizeof(uintptr_t);
		st.live = handler_depth(rt, c, addr < 0 ? -1 :
		    addr / o->fr_lasti_bytes);
	}
	/* A depth beyond the stack's size is garbage: nothing is live. */
	if (st.size < 0 || st.size > PY_STACK_MAX || st.live < 0 ||
	    st.live > st.size)
		st.live = 0;
	if (st.size < 0 || st.size > PY_STACK_MAX)
		st.size = 0;
	return ss->fn(rt, &st, ss->arg);
}

int
py_tstate_stacks(const struct py_runtime *rt, uintptr_t ts,
    int (*fn)(const struct py_runtime *, const struct py_stack *, void *),
    void *arg)
{
	struct stacks ss = { fn, arg, 0 };
	const struct py_offsets *o = rt->off;

	if (o == NULL || o->co_stacksize < 0 || (o->fr_valuestack < 0 &&
	    o->co_exceptiontable < 0))
		return -1;
	if (frames_walk(rt, ts, stack_one, NULL, &ss) == -1)
		return -1;
	return ss.n;
}
