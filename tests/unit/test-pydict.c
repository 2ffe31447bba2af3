/*
 * py-names.c's dict lookups, on dicts built in this process's memory in
 * the 3.8-3.10 layout (keys with a size, entries with a hash) and the
 * 3.11+ one (log2 sizes, str-only entries without a hash).  Entries are
 * placed as CPython places them: at the first free slot of the probe
 * sequence of their hash.
 */
#include <criterion/criterion.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <stddef.h>
#include <sys/mman.h>

#include "mem.h"
#include "py.h"

#define NKEYS		64
#define BIG_SIZE	256	/* 2-byte indices */

/* Stand-ins for the type objects: only their addresses matter. */
static char dict_type, str_type, long_type;

/* An object header as the offsets below say: refcount, type. */
struct head {
	long		refcnt;
	void		*type;
};

/* A compact ASCII str: header, length, hash, state, then the bytes. */
struct str {
	struct head	h;
	long		length;
	long		hash;
	uint32_t	state;
	uint32_t	pad;
	char		data[16];
};

struct dict {
	struct head	h;
	long		used;
	uint64_t	version;
	uintptr_t	keys;
	uintptr_t	values;
};

static struct py_offsets off;
static struct py_runtime rt;
static union {
	unsigned char	b[16384];
	long		align;
} keysbuf;
static struct str strs[NKEYS];
static struct head ints[NKEYS];
static uintptr_t values[NKEYS];
static struct dict d;

static void
setup(int v311)
{
	memset(&off, 0, sizeof off);
	memset(&rt, 0, sizeof rt);
	memset(&keysbuf, 0, sizeof keysbuf);
	off.ob_type = 8;
	off.u_length = offsetof(struct str, length);
	off.u_hash = offsetof(struct str, hash);
	off.u_state = offsetof(struct str, state);
	off.u_ascii_size = offsetof(struct str, data);
	off.u_compact_bit = 5;
	off.u_ascii_bit = 6;
	off.dict_keys = offsetof(struct dict, keys);
	off.dict_values = offsetof(struct dict, values);
	off.de_size = 24;
	off.de_hash = 0;
	off.de_key = 8;
	off.de_value = 16;
	if (v311) {
		off.dk_size = -1;
		off.dk_log2_size = 8;
		off.dk_log2_index_bytes = 9;
		off.dk_kind = 10;
		off.dk_nentries = 24;
		off.dk_indices = 32;
		off.dk_kind_general = 0;
		off.due_size = 16;
		off.due_key = 0;
		off.due_value = 8;
		off.dv_values = 0;
	} else {
		off.dk_size = 8;
		off.dk_log2_size = off.dk_log2_index_bytes = off.dk_kind = -1;
		off.dk_nentries = 32;
		off.dk_indices = 40;
		off.due_size = off.due_key = off.due_value = -1;
		off.dv_values = -1;
	}
	rt.off = &off;
	rt.type_dict = (uintptr_t)&dict_type;
	rt.type_unicode = (uintptr_t)&str_type;
	rt.type_long = (uintptr_t)&long_type;
	memset(&d, 0, sizeof d);
	d.h.type = &dict_type;
	d.keys = (uintptr_t)keysbuf.b;
}

/* A table of size slots, ixw bytes an index, entries of esize bytes. */
struct table {
	long	size;
	int	ixw, esize, v311;
	long	n;
};

static void
table_init(struct table *t, long size, int v311, int general)
{
	int lsize = __builtin_ctzl((unsigned long)size);

	t->size = size;
	t->ixw = size <= 0xff ? 1 : 2;
	t->v311 = v311;
	t->esize = !v311 || general ? 24 : 16;
	t->n = 0;
	if (v311) {
		keysbuf.b[8] = (unsigned char)lsize;
		keysbuf.b[9] = (unsigned char)(lsize +
		    __builtin_ctz((unsigned)t->ixw));
		keysbuf.b[10] = general ? 0 : 1;
	} else
		memcpy(keysbuf.b + 8, &size, sizeof size);
	/* Every slot empty (-1). */
	memset(keysbuf.b + off.dk_indices, 0xff, (size_t)(size * t->ixw));
}

static unsigned char *
entry(struct table *t, long ix)
{
	return keysbuf.b + off.dk_indices + t->size * t->ixw + ix * t->esize;
}

static long
slot_get(struct table *t, unsigned long i)
{
	unsigned char *p = keysbuf.b + off.dk_indices + i * (unsigned)t->ixw;
	int16_t v16;

	if (t->ixw == 1)
		return (int8_t)p[0];
	memcpy(&v16, p, sizeof v16);
	return v16;
}

static void
slot_set(struct table *t, unsigned long i, long ix)
{
	unsigned char *p = keysbuf.b + off.dk_indices + i * (unsigned)t->ixw;
	int8_t v8 = (int8_t)ix;
	int16_t v16 = (int16_t)ix;

	if (t->ixw == 1)
		memcpy(p, &v8, 1);
	else
		memcpy(p, &v16, 2);
}

/* CPython's insertion: the first empty slot of the hash's sequence. */
static void
insert(struct table *t, long hash, void *key, uintptr_t value)
{
	unsigned long mask = (unsigned long)t->size - 1;
	unsigned long perturb = (unsigned long)hash, i = perturb & mask;
	unsigned char *e = entry(t, t->n);

	while (slot_get(t, i) != -1) {
		perturb >>= 5;
		i = (i * 5 + perturb + 1) & mask;
	}
	slot_set(t, i, t->n);
	if (t->esize == 24) {
		memcpy(e, &hash, 8);
		memcpy(e + 8, &key, 8);
		memcpy(e + 16, &value, 8);
	} else {
		memcpy(e, &key, 8);
		memcpy(e + 8, &value, 8);
	}
	t->n++;
	memcpy(keysbuf.b + off.dk_nentries, &t->n, sizeof t->n);
}

static struct str *
make_str(int i, const char *s, long hash)
{
	struct str *o = &strs[i];

	memset(o, 0, sizeof *o);
	o->h.type = &str_type;
	o->length = (long)strlen(s);
	o->hash = hash;
	o->state = 1u << 5 | 1u << 6;
	memcpy(o->data, s, strlen(s) + 1);
	return o;
}

/*
 * Thread idents: large, and alike in their low bits (stacks 2 MB apart).
 * In eight slots the fifth takes 11 probe steps to find.
 */
static unsigned long
ident(int i)
{
	return 0x7f0d5ffff6c0ul - (unsigned long)i * 0x200000ul;
}

static void
int_keys(int v311, long size, int n)
{
	struct table t;
	uintptr_t v;
	int i;

	setup(v311);
	table_init(&t, size, v311, 1);
	for (i = 0; i < n; i++) {
		ints[i].type = &long_type;
		insert(&t, (long)ident(i), &ints[i], 1000 + (uintptr_t)i);
	}
	for (i = 0; i < n; i++) {
		cr_assert_eq(py_dict_get_int(&rt, (uintptr_t)&d, ident(i), &v),
		    0, "key %d of %d, size %ld", i, n, size);
		cr_assert_eq(v, 1000 + (uintptr_t)i);
	}
	cr_assert_eq(py_dict_get_int(&rt, (uintptr_t)&d, ident(n), &v), -1);
}

Test(pydict, int_keys_that_collide)
{
	/* Five idents in eight slots: the probe goes past 8 steps. */
	int_keys(0, 8, 5);
	int_keys(1, 8, 5);
	int_keys(0, BIG_SIZE, 170);
	int_keys(1, BIG_SIZE, 170);
}

static void
str_keys(int v311, int general)
{
	static const char *names[] = { "_target", "_name", "_args",
	    "_kwargs", "_daemonic", "_ident", "_native_id" };
	int n = (int)(sizeof names / sizeof names[0]), i;
	struct table t;
	uintptr_t v;
	long h;

	setup(v311);
	table_init(&t, 16, v311, general);
	for (i = 0; i < n; i++)
		insert(&t, 7777 * (long)(i + 1) << 20,
		    make_str(i, names[i], 7777 * (long)(i + 1) << 20),
		    2000 + (uintptr_t)i);
	for (i = 0; i < n; i++) {
		h = -1;		/* found by a scan, which learns the hash */
		cr_assert_eq(py_dict_get_str(&rt, (uintptr_t)&d, names[i],
		    &h, &v), 0, "%s by scan", names[i]);
		cr_assert_eq(v, 2000 + (uintptr_t)i);
		cr_assert_eq(h, 7777 * (long)(i + 1) << 20);
		v = 0;		/* then by the probe */
		cr_assert_eq(py_dict_get_str(&rt, (uintptr_t)&d, names[i],
		    &h, &v), 0, "%s by probe", names[i]);
		cr_assert_eq(v, 2000 + (uintptr_t)i);
	}
	h = -1;
	cr_assert_eq(py_dict_get_str(&rt, (uintptr_t)&d, "_nam", &h, &v), -1);
	h = 12345;	/* a wrong hash finds nothing, and reads no further */
	cr_assert_eq(py_dict_get_str(&rt, (uintptr_t)&d, "_name", &h, &v),
	    -1);
}

Test(pydict, str_keys)
{
	str_keys(0, 1);
	str_keys(1, 1);
	str_keys(1, 0);
}

Test(pydict, split_values_and_deleted_entries)
{
	struct table t;
	uintptr_t v;
	long h = -1;
	int i;

	setup(1);
	table_init(&t, 8, 1, 0);
	for (i = 0; i < 3; i++) {
		insert(&t, 99 + i, make_str(i, i == 1 ? "_name" : "_x", 99 + i),
		    0);
		values[i] = 3000 + (uintptr_t)i;
	}
	d.values = (uintptr_t)values;
	cr_assert_eq(py_dict_get_str(&rt, (uintptr_t)&d, "_name", &h, &v), 0);
	cr_assert_eq(v, 3001);
	values[1] = 0;		/* deleted from this instance */
	cr_assert_eq(py_dict_get_str(&rt, (uintptr_t)&d, "_name", &h, &v),
	    -1);
}

/*
 * A key looked up while absent: each miss reads only the entries added
 * since the last (an entry rewritten before that point is not read
 * again), other keys or fewer entries at the same address are read
 * whole, and the hash, once found, goes straight to the key.
 */
Test(pydict, kept_lookups_read_only_new_entries)
{
	struct py_key_cache c = PY_KEY_CACHE_INIT;
	struct table t;
	uintptr_t v;
	unsigned char *e0;
	struct str *k0;
	int v311;

	for (v311 = 0; v311 <= 1; v311++) {
		setup(v311);
		table_init(&t, 32, v311, 0);
		insert(&t, 11, make_str(0, "sys", 11), 100);
		insert(&t, 12, make_str(1, "os", 12), 101);
		c = (struct py_key_cache)PY_KEY_CACHE_INIT;
		cr_assert_eq(py_dict_get_str_kept(&rt, (uintptr_t)&d,
		    "threading", &c, &v), -1);
		cr_assert_eq(atomic_load(&c.miss_entries), 2);
		/* Entry 0 turned into the key: not read again. */
		k0 = make_str(2, "threading", 13);
		e0 = entry(&t, 0);
		memcpy(e0 + (t.esize == 24 ? 8 : 0), &k0, sizeof k0);
		cr_assert_eq(py_dict_get_str_kept(&rt, (uintptr_t)&d,
		    "threading", &c, &v), -1, "v311 %d", v311);
		/* An entry added since is. */
		insert(&t, 14, make_str(3, "threading", 14), 103);
		cr_assert_eq(py_dict_get_str_kept(&rt, (uintptr_t)&d,
		    "threading", &c, &v), 0, "v311 %d", v311);
		cr_assert_eq(v, 103);
		cr_assert_eq(atomic_load(&c.hash), 14);
		/* Found by its hash now: the probe meets entry 3 first. */
		cr_assert_eq(py_dict_get_str_kept(&rt, (uintptr_t)&d,
		    "threading", &c, &v), 0);
		cr_assert_eq(v, 103);
	}

	/* Fewer entries at the same address: other keys, read whole. */
	setup(1);
	table_init(&t, 32, 1, 0);
	c = (struct py_key_cache)PY_KEY_CACHE_INIT;
	insert(&t, 11, make_str(0, "sys", 11), 100);
	insert(&t, 12, make_str(1, "os", 12), 101);
	insert(&t, 13, make_str(2, "io", 13), 102);
	cr_assert_eq(py_dict_get_str_kept(&rt, (uintptr_t)&d, "threading",
	    &c, &v), -1);
	table_init(&t, 32, 1, 0);
	insert(&t, 15, make_str(3, "threading", 15), 104);
	cr_assert_eq(py_dict_get_str_kept(&rt, (uintptr_t)&d, "threading",
	    &c, &v), 0);
	cr_assert_eq(v, 104);

	/* Other keys: read whole. */
	setup(1);
	table_init(&t, 32, 1, 0);
	c = (struct py_key_cache)PY_KEY_CACHE_INIT;
	insert(&t, 11, make_str(0, "sys", 11), 100);
	cr_assert_eq(py_dict_get_str_kept(&rt, (uintptr_t)&d, "threading",
	    &c, &v), -1);
	memcpy(&d.keys, &(uintptr_t){ (uintptr_t)keysbuf.b + 8192 },
	    sizeof d.keys);
	memcpy(keysbuf.b + 8192, keysbuf.b, 8192);
	k0 = make_str(1, "threading", 16);
	memcpy(keysbuf.b + 8192 + off.dk_indices + t.size * t.ixw, &k0,
	    sizeof k0);
	cr_assert_eq(py_dict_get_str_kept(&rt, (uintptr_t)&d, "threading",
	    &c, &v), 0);
	cr_assert_eq(v, 100);
}

Test(pydict, garbage_is_refused)
{
	struct table t;
	uintptr_t v;
	long h = -1, bad = 12;

	setup(0);
	table_init(&t, 8, 0, 1);
	d.h.type = &str_type;	/* not a dict */
	cr_assert_eq(py_dict_get_str(&rt, (uintptr_t)&d, "_name", &h, &v),
	    -1);
	d.h.type = &dict_type;
	memcpy(keysbuf.b + 8, &bad, sizeof bad);	/* not a power of 2 */
	cr_assert_eq(py_dict_get_int(&rt, (uintptr_t)&d, 1, &v), -1);
	table_init(&t, 8, 0, 1);
	t.n = 9;		/* more entries than slots */
	memcpy(keysbuf.b + off.dk_nentries, &t.n, sizeof t.n);
	cr_assert_eq(py_dict_get_int(&rt, (uintptr_t)&d, 1, &v), -1);
	d.keys = 16;		/* unmapped */
	cr_assert_eq(py_dict_get_int(&rt, (uintptr_t)&d, 1, &v), -1);
	cr_assert_eq(py_dict_get_str(&rt, 0, "_name", &h, &v), -1);
}

/*
 * A scan reads the keys' heads together: a dict of 64 str keys is a
 * few system calls, not one a key.  Keys that cannot be read are passed
 * over (one in an unmapped page), a key whose bytes end where its page
 * does is found, and a scan for a longer name, whose reads of that key
 * run into the hole, passes it over and goes on.
 */
Test(pydict, scan_reads_heads_together)
{
	unsigned char *pages = mmap(NULL, 2 * 4096, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct str *edge, *lost;
	struct mem_count c0, c1;
	struct table t;
	char name[16];
	uintptr_t v;
	long h;
	int i;

	cr_assert(pages != MAP_FAILED);
	cr_assert_eq(munmap(pages + 4096, 4096), 0);
	/* "_last": its bytes end where the page ends. */
	edge = (struct str *)(pages + 4096 - offsetof(struct str, data) - 5);
	lost = (struct str *)(pages + 4096);	/* unmapped */
	setup(1);
	table_init(&t, BIG_SIZE, 1, 0);
	for (i = 0; i < NKEYS - 2; i++) {
		snprintf(name, sizeof name, "_k%02d", i);
		insert(&t, 1000 + i, make_str(i, name, 1000 + i),
		    5000 + (uintptr_t)i);
	}
	insert(&t, 3, lost, 7);
	memset(edge, 0, offsetof(struct str, data));
	edge->h.type = &str_type;
	edge->length = 5;
	edge->hash = 4;
	edge->state = 1u << 5 | 1u << 6;
	memcpy(edge->data, "_last", 5);
	insert(&t, 4, edge, 8);

	h = -1;
	mem_count(&c0);
	cr_assert_eq(py_dict_get_str(&rt, (uintptr_t)&d, "_k61", &h, &v), 0);
	mem_count(&c1);
	cr_assert_eq(v, 5061);
	cr_assert_leq(c1.calls - c0.calls, 10, "%lu system calls",
	    c1.calls - c0.calls);
	h = -1;
	cr_assert_eq(py_dict_get_str(&rt, (uintptr_t)&d, "_last", &h, &v), 0);
	cr_assert_eq(v, 8);
	cr_assert_eq(h, 4);
	h = -1;
	cr_assert_eq(py_dict_get_str(&rt, (uintptr_t)&d, "_lastX", &h, &v),
	    -1);
	h = -1;
	cr_assert_eq(py_dict_get_str(&rt, (uintptr_t)&d, "_k00", &h, &v), 0);
	cr_assert_eq(v, 5000);
	munmap(pages, 4096);
}
