/*
 * threading's names of threads, read from interpreter memory: see py.h.
 *
 * A name is an instance attribute (Thread._name), so this reads dicts:
 * sys.modules, a module's globals, threading._active and an instance's
 * attributes, in the layouts of 3.8-3.14 (py-offsets.h).  Keys are
 * looked up as the interpreter looks them up (the same probe sequence
 * over the index table) once their hash is known; a str key's hash is
 * only known after a first scan of the entries has found it by content
 * (the hash secret is per process), and is kept from then on.
 *
 * Everything read is checked (object types, sizes, index ranges) and
 * every loop is bounded by the dict's own size, itself bounded.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mem.h"
#include "py.h"

#define HASH_MODULUS	((1UL << 61) - 1)	/* _PyHASH_MODULUS, 64-bit */
#define PERTURB_SHIFT	5
#define DICT_MIN	8		/* smallest index table */
#define ENTRY_CHUNK	64		/* entries read at a time in a scan */
#define KEY_MAX		32		/* longest key looked for */
#define HEAD_MAX	512		/* object heads read at once */
#define HEADS_AT_ONCE	16		/* keys' heads read in one call */
#define HEAD_SPAN	96		/* a str key's head and bytes */
#define DKIX_EMPTY	(-1)

/* The hash of "_name": -1 until a scan has found it. */
static _Atomic long hash_name = -1;

/* A dict's keys, opened for lookups. */
struct keys {
	uintptr_t	addr;		/* the PyDictKeysObject */
	uintptr_t	indices, entries;
	uintptr_t	values;		/* split: &values[0], else 0 */
	long		size, nentries;
	int		ixw;		/* bytes per index */
	int		esize, ekey, evalue;
	int		ehash;		/* -1: entries without a hash */
};

/* What is looked for. */
struct want {
	const char	*str;		/* a str key, or NULL */
	size_t		 len;
	unsigned long	 ival;		/* else an int key */
	long		 hash;		/* -1: not known */
};

static int
max_off(int a, int b)
{
	return a > b ? a : b;
}

/* Is obj of type type (which must be known)? */
static int
is_type(const struct py_runtime *rt, uintptr_t obj, uintptr_t type)
{
	uintptr_t t;

	return obj != 0 && type != 0 && py_read_ptr(obj +
	    (uintptr_t)rt->off->ob_type, &t) == 0 && t == type;
}

/* is_type, from obj's head when it was read already (NULL: read it). */
static int
is_type_head(const struct py_runtime *rt, uintptr_t obj,
    const unsigned char *head, uintptr_t type)
{
	if (head == NULL)
		return is_type(rt, obj, type);
	return obj != 0 && type != 0 && py_ptr_at(head, rt->off->ob_type) ==
	    type;
}

static int
keys_open(const struct py_runtime *rt, uintptr_t keys, uintptr_t values,
    struct keys *k)
{
	const struct py_offsets *o = rt->off;
	unsigned char b[64];
	int general = 1;

	memset(k, 0, sizeof(*k));
	k->addr = keys;
	if (o->dk_indices <= 0 || (size_t)o->dk_indices > sizeof(b) ||
	    keys == 0 || py_read(keys, b, (size_t)o->dk_indices) == -1)
		return -1;
	if (o->dk_size >= 0) {
		/* <=3.10: the size itself; 1 is the shared empty keys. */
		k->size = py_long_at(b, o->dk_size);
		if (k->size < DICT_MIN || k->size > PY_DICT_MAX ||
		    (k->size & (k->size - 1)) != 0)
			return -1;
		k->ixw = k->size <= 0xff ? 1 : k->size <= 0xffff ? 2 : 4;
	} else {
		int lsize = b[o->dk_log2_size], lbytes =
		    b[o->dk_log2_index_bytes];

		if (lsize < 3 || (1L << lsize) > PY_DICT_MAX ||
		    lbytes < lsize || lbytes > lsize + 3)
			return -1;
		k->size = 1L << lsize;
		k->ixw = 1 << (lbytes - lsize);
		general = b[o->dk_kind] == o->dk_kind_general;
	}
	k->nentries = py_long_at(b, o->dk_nentries);
	if (k->nentries < 0 || k->nentries > k->size)
		return -1;
	k->indices = keys + (uintptr_t)o->dk_indices;
	k->entries = k->indices + (uintptr_t)(k->size * k->ixw);
	k->values = values;
	if (general) {
		k->esize = o->de_size;
		k->ekey = o->de_key;
		k->evalue = o->de_value;
		k->ehash = o->de_hash;
	} else {
		k->esize = o->due_size;
		k->ekey = o->due_key;
		k->evalue = o->due_value;
		k->ehash = -1;
	}
	return k->esize > 0 && k->esize <= 64 ? 0 : -1;
}

/* A dict's keys and (split) values; -1 when dict is not a dict. */
static int
dict_open(const struct py_runtime *rt, uintptr_t dict, struct keys *k)
{
	const struct py_offsets *o = rt->off;
	unsigned char b[64];
	size_t len;
	uintptr_t values;

	len = (size_t)max_off(max_off(o->dict_keys, o->dict_values),
	    o->ob_type) + sizeof(uintptr_t);
	if (dict == 0 || rt->type_dict == 0 || len > sizeof(b) ||
	    py_read(dict, b, len) == -1 ||
	    py_ptr_at(b, o->ob_type) != rt->type_dict)
		return -1;
	values = py_ptr_at(b, o->dict_values);
	/* 3.11+: a PyDictValues holding the array; before, the array. */
	if (values != 0 && o->dv_values >= 0)
		values += (uintptr_t)o->dv_values;
	return keys_open(rt, py_ptr_at(b, o->dict_keys), values, k);
}

/* Entry ix: its key, hash (-1 when the entries have none) and value. */
static int
entry_read(const struct keys *k, long ix, uintptr_t *key, long *hash,
    uintptr_t *value)
{
	unsigned char b[64];

	if (ix < 0 || ix >= k->nentries || py_read(k->entries +
	    (uintptr_t)(ix * k->esize), b, (size_t)k->esize) == -1)
		return -1;
	*key = py_ptr_at(b, k->ekey);
	*hash = k->ehash >= 0 ? py_long_at(b, k->ehash) : -1;
	if (k->values != 0)
		return py_read_ptr(k->values + (uintptr_t)ix *
		    sizeof(uintptr_t), value);
	*value = py_ptr_at(b, k->evalue);
	return 0;
}

/* Slot i of the index table, sign-extended; -2 (a dummy) on a bad read. */
static long
index_read(const struct keys *k, long i)
{
	unsigned char b[8];

	if (py_read(k->indices + (uintptr_t)(i * k->ixw), b,
	    (size_t)k->ixw) == -1)
		return -2;
	switch (k->ixw) {
	case 1:
		return (int8_t)b[0];
	case 2: {
		int16_t v;

		memcpy(&v, b, sizeof(v));
		return v;
	}
	default: {
		int32_t v;

		memcpy(&v, b, sizeof(v));
		return v;
	}
	}
}

/*
 * Is key the one wanted?  hash is the entry's (-1: none stored).  For a
 * str, the key must be a compact ASCII str of the same length and
 * bytes; its hash is then stored in w->hash.  For an int, the key must
 * be an int with the wanted hash (which, for the non-negative values
 * below the modulus looked for here, is the value itself).  head, when
 * not NULL, is the key's str head and w->len bytes after it, read
 * already (keys_each_from).
 */
static int
key_matches(const struct py_runtime *rt, uintptr_t key, long hash,
    const unsigned char *head, struct want *w)
{
	const struct py_offsets *o = rt->off;
	unsigned char b[HEAD_MAX + KEY_MAX];
	const unsigned char *h = head;
	uint32_t state;
	long khash;

	if (key == 0)
		return 0;
	if (w->str == NULL)
		return hash == w->hash && is_type(rt, key, rt->type_long);
	if (hash != -1 && w->hash != -1 && hash != w->hash)
		return 0;
	/* Not read with the others: the head now, its bytes if it matches. */
	if (h == NULL && ((size_t)o->u_ascii_size > HEAD_MAX ||
	    py_read(key, b, (size_t)o->u_ascii_size) == -1))
		return 0;
	if (h == NULL)
		h = b;
	if (py_ptr_at(h, o->ob_type) != rt->type_unicode ||
	    py_long_at(h, o->u_length) != (long)w->len)
		return 0;
	memcpy(&state, h + o->u_state, sizeof(state));
	if (!(state >> o->u_compact_bit & 1) || !(state >> o->u_ascii_bit & 1))
		return 0;
	khash = py_long_at(h, o->u_hash);
	if (khash != -1 && w->hash != -1 && khash != w->hash)
		return 0;
	if (h == b && py_read(key + (uintptr_t)o->u_ascii_size,
	    b + o->u_ascii_size, w->len) == -1)
		return 0;
	if (memcmp(h + o->u_ascii_size, w->str, w->len) != 0)
		return 0;
	if (w->hash == -1)
		w->hash = hash != -1 ? hash : khash;
	return 1;
}

/*
 * The interpreter's own lookup: the probe sequence of the index table.
 * While perturb has bits left the sequence may come back to a slot; once
 * they are shifted out (64 / PERTURB_SHIFT steps at most) i * 5 + 1
 * visits every slot within size steps, so this bound reaches an empty
 * slot whenever the interpreter would.
 */
static int	keys_probe_ix(const struct py_runtime *, const struct keys *,
		    struct want *, uintptr_t *, long *);

static int
keys_probe(const struct py_runtime *rt, const struct keys *k,
    struct want *w, uintptr_t *value)
{
	long ix;

	return keys_probe_ix(rt, k, w, value, &ix);
}

/*
 * What keys_each calls for an entry: non-zero stops the walk.  head is
 * the first bytes of the key object when the walk was asked to read
 * them, NULL when not (or when they could not be read: fn reads).
 */
typedef int	(*entry_fn)(const struct py_runtime *, uintptr_t key,
		    long hash, uintptr_t value, const unsigned char *head,
		    void *arg);

/* Entry j of a chunk read by keys_each_from. */
static void
entry_at(const struct keys *k, const unsigned char *b, const uintptr_t *vals,
    long j, uintptr_t *key, long *hash, uintptr_t *value)
{
	*key = py_ptr_at(b + j * k->esize, k->ekey);
	*hash = k->ehash >= 0 ? py_long_at(b + j * k->esize, k->ehash) : -1;
	*value = k->values != 0 ? vals[j] :
	    py_ptr_at(b + j * k->esize, k->evalue);
}

/*
 * Entries j..j+n-1 of a chunk, with the first head_len bytes of each key
 * read together (a key is an object of its own, so one read a key was
 * one system call a key: a scan of sys.modules, a hundred).
 */
static int
entries_call(const struct py_runtime *rt, const struct keys *k,
    const unsigned char *b, const uintptr_t *vals, long j, long n,
    size_t head_len, entry_fn fn, void *arg)
{
	unsigned char heads[HEADS_AT_ONCE][HEAD_SPAN];
	struct mem_span sp[HEADS_AT_ONCE];
	uintptr_t key, value;
	long i, hash;
	int rv, at[HEADS_AT_ONCE];
	size_t m = 0;

	for (i = 0; i < n; i++) {
		entry_at(k, b, vals, j + i, &key, &hash, &value);
		at[i] = -1;
		if (head_len == 0 || key == 0)
			continue;
		at[i] = (int)m;
		sp[m].addr = key;
		sp[m].buf = heads[m];
		sp[m++].len = head_len;
	}
	if (m > 0)
		(void)mem_read_spans(sp, m);
	for (i = 0; i < n; i++) {
		entry_at(k, b, vals, j + i, &key, &hash, &value);
		if (key != 0 && (rv = fn(rt, key, hash, value, at[i] >= 0 &&
		    sp[at[i]].ok ? heads[at[i]] : NULL, arg)))
			return rv;
	}
	return 0;
}

/*
 * Every entry from entry from on, in order, until fn returns non-zero:
 * that value, or 0 when fn never did, or -1 on a bad read.  Deleted
 * entries (no key) are passed over.  head_len (at most HEAD_SPAN): the
 * bytes of each key fn is given, 0 for none.
 */
static int
keys_each_from(const struct py_runtime *rt, const struct keys *k, long from,
    size_t head_len, entry_fn fn, void *arg)
{
	unsigned char b[ENTRY_CHUNK * 64];
	uintptr_t vals[ENTRY_CHUNK];
	long ix, j, n, g;
	int rv;

	if (head_len > HEAD_SPAN)
		head_len = 0;
	for (ix = from; ix < k->nentries; ix += n) {
		n = k->nentries - ix < ENTRY_CHUNK ? k->nentries - ix :
		    ENTRY_CHUNK;
		if (py_read(k->entries + (uintptr_t)(ix * k->esize), b,
		    (size_t)(n * k->esize)) == -1 || (k->values != 0 &&
		    py_read(k->values + (uintptr_t)ix * sizeof(uintptr_t),
		    vals, (size_t)n * sizeof(uintptr_t)) == -1))
			return -1;
		for (j = 0; j < n; j += g) {
			g = n - j < HEADS_AT_ONCE ? n - j : HEADS_AT_ONCE;
			if ((rv = entries_call(rt, k, b, vals, j, g, head_len,
			    fn, arg)) != 0)
				return rv;
		}
	}
	return 0;
}

static int
keys_each(const struct py_runtime *rt, const struct keys *k, entry_fn fn,
    void *arg)
{
	return keys_each_from(rt, k, 0, 0, fn, arg);
}

struct scan {
	struct want	*w;
	uintptr_t	 value;
};

static int
scan_match(const struct py_runtime *rt, uintptr_t key, long hash,
    uintptr_t value, const unsigned char *head, void *arg)
{
	struct scan *s = arg;

	if (!key_matches(rt, key, hash, head, s->w))
		return 0;
	s->value = value;
	return value != 0 ? 1 : -1;
}

/* Every entry in order from entry from, for a key whose hash is not
 * known yet. */
static int
keys_scan(const struct py_runtime *rt, const struct keys *k, long from,
    struct want *w, uintptr_t *value)
{
	struct scan s = { w, 0 };

	/* Every key is looked at: its head and bytes are read at once. */
	if (keys_each_from(rt, k, from, (size_t)rt->off->u_ascii_size + w->len,
	    scan_match, &s) != 1)
		return -1;
	*value = s.value;
	return 0;
}

/*
 * Where attributes sit in keys that a type's instances share (split
 * dicts): the index of an entry never changes while the keys are
 * shared (they only grow), so within a dump the probe is made once per
 * keys object and attribute, and each instance costs one read, of its
 * own values.  PY_CACHE_ATTR, by the keys' address.
 */
#define ATTRS_KEPT	4

struct kept_attrs {
	int		 n;
	struct {
		char		 name[KEY_MAX + 1];
		long		 ix;
	}		 at[ATTRS_KEPT];
};

static struct kept_attrs *
attrs_kept(const struct py_runtime *rt, const struct keys *k)
{
	struct kept_attrs *ka;

	if (py_cache_of(rt) == NULL || k->values == 0)
		return NULL;
	if ((ka = py_cache_get(rt, PY_CACHE_ATTR, k->addr)) != NULL)
		return ka;
	if ((ka = calloc(1, sizeof(*ka))) == NULL)
		return NULL;
	return py_cache_put(rt, PY_CACHE_ATTR, k->addr, ka);
}

/* The probe, noting the index it found. */
static int
keys_probe_ix(const struct py_runtime *rt, const struct keys *k,
    struct want *w, uintptr_t *value, long *found)
{
	unsigned long mask = (unsigned long)k->size - 1;
	unsigned long perturb = (unsigned long)w->hash;
	unsigned long i = perturb & mask;
	uintptr_t key;
	long n, ix, hash;

	for (n = 0; n < k->size + 64 / PERTURB_SHIFT + 1; n++) {
		ix = index_read(k, (long)i);
		if (ix == DKIX_EMPTY)
			return -1;
		if (ix >= 0 && entry_read(k, ix, &key, &hash, value) == 0 &&
		    key_matches(rt, key, hash, NULL, w)) {
			*found = ix;
			return *value != 0 ? 0 : -1;
		}
		perturb >>= PERTURB_SHIFT;
		i = (i * 5 + perturb + 1) & mask;
	}
	return -1;
}

/*
 * The value of str key `key`: by its hash when *hash knows it, else by
 * a scan of the entries from entry from on, which fills *hash.
 */
static int
keys_get_str(const struct py_runtime *rt, const struct keys *k,
    const char *key, long from, long *hash, uintptr_t *value)
{
	struct want w = { key, strlen(key), 0, *hash };
	struct kept_attrs *ka;
	long ix;
	int i;

	if (w.len > KEY_MAX)
		return -1;
	if ((ka = attrs_kept(rt, k)) != NULL && w.hash != -1) {
		for (i = 0; i < ka->n; i++)
			if (strcmp(ka->at[i].name, key) == 0)
				break;
		if (i < ka->n)
			return ka->at[i].ix < k->nentries &&
			    py_read_ptr(k->values + (uintptr_t)ka->at[i].ix *
			    sizeof(uintptr_t), value) == 0 && *value != 0 ?
			    0 : -1;
		if (keys_probe_ix(rt, k, &w, value, &ix) == -1)
			return -1;
		if (ka->n < ATTRS_KEPT) {
			memcpy(ka->at[ka->n].name, key, w.len + 1);
			ka->at[ka->n++].ix = ix;
		}
		return 0;
	}
	if (w.hash != -1)
		return keys_probe(rt, k, &w, value);
	if (keys_scan(rt, k, from, &w, value) == -1)
		return -1;
	*hash = w.hash;
	return 0;
}

/* dict_open, for lookups of str keys. */
static int
str_dict_open(const struct py_runtime *rt, uintptr_t dict, struct keys *k)
{
	if (rt->off == NULL || rt->type_unicode == 0)
		return -1;
	return dict_open(rt, dict, k);
}

int
py_dict_get_str(const struct py_runtime *rt, uintptr_t dict,
    const char *key, long *hash, uintptr_t *value)
{
	struct keys k;

	if (str_dict_open(rt, dict, &k) == -1)
		return -1;
	return keys_get_str(rt, &k, key, 0, hash, value);
}

int
py_dict_get_int(const struct py_runtime *rt, uintptr_t dict,
    unsigned long ival, uintptr_t *value)
{
	struct want w = { NULL, 0, ival, (long)(ival % HASH_MODULUS) };
	struct keys k;

	if (rt->off == NULL || rt->type_long == 0 ||
	    dict_open(rt, dict, &k) == -1 || k.ehash < 0)
		return -1;	/* a dict of str keys only has no int key */
	return keys_probe(rt, &k, &w, value);
}

/* What attrs_open needs of a type, kept per dump (PY_CACHE_TYPE). */
struct kept_type {
	unsigned long	 flags;
	long		 dictoffset;
};

static int
type_read(const struct py_runtime *rt, uintptr_t type, unsigned long *flags,
    long *dictoffset)
{
	const struct py_offsets *o = rt->off;
	unsigned char b[HEAD_MAX];
	struct kept_type *kt;
	size_t len;

	if ((kt = py_cache_get(rt, PY_CACHE_TYPE, type)) != NULL) {
		*flags = kt->flags;
		*dictoffset = kt->dictoffset;
		return 0;
	}
	len = (size_t)max_off(max_off(o->tp_basicsize, o->tp_dictoffset),
	    o->tp_flags) + sizeof(long);
	if (type == 0 || len > sizeof(b) || py_read(type, b, len) == -1)
		return -1;
	memcpy(flags, b + o->tp_flags, sizeof(*flags));
	*dictoffset = py_long_at(b, o->tp_dictoffset);
	if (py_cache_of(rt) != NULL && (kt = malloc(sizeof(*kt))) != NULL) {
		kt->flags = *flags;
		kt->dictoffset = *dictoffset;
		(void)py_cache_put(rt, PY_CACHE_TYPE, type, kt);
	}
	return 0;
}

/*
 * obj's attributes: its dict, or values whose keys its (heap) type
 * shares among instances, by layout.
 */
static int
attrs_open(const struct py_runtime *rt, uintptr_t obj, struct keys *k)
{
	const struct py_offsets *o = rt->off;
	uintptr_t type, dict = 0, values = 0, cached;
	unsigned long flags;
	long dictoffset;
	unsigned char valid;

	if (py_read_ptr(obj + (uintptr_t)o->ob_type, &type) == -1 ||
	    type_read(rt, type, &flags, &dictoffset) == -1)
		return -1;
	if (!(flags & (unsigned long)o->tpf_heaptype))
		return -1;	/* classes of Python code are heap types */
	if (o->ob_dict_layout != PY_DICT_OFFSET && o->tpf_managed_dict > 0 &&
	    (flags & (unsigned long)o->tpf_managed_dict)) {
		uintptr_t before = obj - (uintptr_t)o->ob_managed_dict;

		switch (o->ob_dict_layout) {
		case PY_DICT_MANAGED:
			if (py_read_ptr(obj - (uintptr_t)o->ob_managed_values,
			    &values) == -1)
				return -1;
			if (values == 0 && py_read_ptr(before, &dict) == -1)
				return -1;
			break;
		case PY_DICT_TAGGED:
			if (py_read_ptr(before, &dict) == -1)
				return -1;
			if (dict & 1) {
				values = dict + 1;
				dict = 0;
			}
			break;
		case PY_DICT_INLINE:
			if (py_read_ptr(before, &dict) == -1)
				return -1;
			if (dict != 0 || o->tpf_inline_values <= 0 ||
			    !(flags & (unsigned long)o->tpf_inline_values))
				break;
			values = obj + (uintptr_t)o->ob_inline_values;
			if (py_read(values + (uintptr_t)o->dv_valid, &valid,
			    1) == -1 || !valid)
				return -1;
			break;
		default:
			return -1;
		}
	} else if (dictoffset > 0 && dictoffset < (1L << 20)) {
		if (py_read_ptr(obj + (uintptr_t)dictoffset, &dict) == -1)
			return -1;
	} else
		return -1;
	if (dict != 0)
		return dict_open(rt, dict, k);
	if (values == 0 || py_read_ptr(type + (uintptr_t)o->ht_cached_keys,
	    &cached) == -1)
		return -1;
	return keys_open(rt, cached, values + (uintptr_t)o->dv_values, k);
}

int
py_attr_get(const struct py_runtime *rt, uintptr_t obj, const char *name,
    long *hash, uintptr_t *value)
{
	struct keys k;

	if (rt->off == NULL || rt->type_unicode == 0 || obj == 0 ||
	    attrs_open(rt, obj, &k) == -1)
		return -1;
	return keys_get_str(rt, &k, name, 0, hash, value);
}

/* The attribute of an object naming a value (PY_CACHE_NAMING). */
struct kept_naming {
	uintptr_t	 value;
	char		 name[PY_NAME_MAX];
};

struct by_value {
	uintptr_t	 value;
	char		*buf;
	size_t		 size;
	long		 hash;		/* of the key found */
};

static int
value_match(const struct py_runtime *rt, uintptr_t key, long hash,
    uintptr_t value, const unsigned char *head, void *arg)
{
	struct by_value *v = arg;

	if (value != v->value)
		return 0;
	v->hash = hash;
	if (v->buf == NULL)		/* a thread id: an int key */
		return is_type(rt, key, rt->type_long) ? 1 : -1;
	return py_read_str(rt, key, v->buf, v->size) >= 0 ? 1 : -1;
}

int
py_attr_naming(const struct py_runtime *rt, uintptr_t obj, uintptr_t value,
    char *buf, size_t size)
{
	struct by_value v = { value, buf, size, -1 };
	struct kept_naming *kn;
	struct keys k;

	if (size > 0)
		buf[0] = '\0';
	if (rt->off == NULL || rt->type_unicode == 0 || obj == 0 ||
	    value == 0 || size == 0)
		return -1;
	/* Threads waiting on one Queue name its Condition once a dump. */
	if ((kn = py_cache_get(rt, PY_CACHE_NAMING, obj)) != NULL &&
	    kn->value == value && strlen(kn->name) < size) {
		memcpy(buf, kn->name, strlen(kn->name) + 1);
		return (int)strlen(buf);
	}
	if (attrs_open(rt, obj, &k) == -1 ||
	    keys_each(rt, &k, value_match, &v) != 1)
		return -1;
	if (kn == NULL && py_cache_of(rt) != NULL &&
	    (kn = malloc(sizeof(*kn))) != NULL) {
		kn->value = value;
		snprintf(kn->name, sizeof(kn->name), "%s", buf);
		(void)py_cache_put(rt, PY_CACHE_NAMING, obj, kn);
	}
	return (int)strlen(buf);
}

/*
 * A key looked for by name, its hash kept once found.  Until then each
 * lookup reads every key of the dict, one read each: "threading" in
 * sys.modules, looked for at a thread's first GIL takes, is absent
 * until the program imports it, while start-up imports module after
 * module.  A dict's entries are only appended until its keys are
 * replaced, so a lookup that found nothing reads, next time, only the
 * entries added to the same keys since (miss_keys, miss_entries).
 * Keys freed and others made at the same address, with at least as
 * many entries, would have their first entries passed over until the
 * dict's keys are replaced again (as it grows): a name found later.
 */
static struct py_key_cache key_threading = PY_KEY_CACHE_INIT,
    key_active = PY_KEY_CACHE_INIT;

int
py_dict_get_str_kept(const struct py_runtime *rt, uintptr_t dict,
    const char *key, struct py_key_cache *c, uintptr_t *value)
{
	long h = atomic_load_explicit(&c->hash, memory_order_relaxed), from = 0;
	struct keys k;

	if (str_dict_open(rt, dict, &k) == -1)
		return -1;
	if (h == -1 && k.addr == atomic_load_explicit(&c->miss_keys,
	    memory_order_relaxed))
		from = atomic_load_explicit(&c->miss_entries,
		    memory_order_relaxed);
	if (from > k.nentries)		/* other keys at the same address */
		from = 0;
	if (keys_get_str(rt, &k, key, from, &h, value) == 0) {
		atomic_store_explicit(&c->hash, h, memory_order_relaxed);
		return 0;
	}
	if (h == -1) {
		atomic_store_explicit(&c->miss_keys, 0, memory_order_relaxed);
		atomic_store_explicit(&c->miss_entries, k.nentries,
		    memory_order_relaxed);
		atomic_store_explicit(&c->miss_keys, k.addr,
		    memory_order_relaxed);
	}
	return -1;
}

/* thread._name, when it is a str. */
static int
name_of(const struct py_runtime *rt, uintptr_t thread, char *buf,
    size_t size)
{
	long h = atomic_load_explicit(&hash_name, memory_order_relaxed);
	uintptr_t s;

	if (py_attr_get(rt, thread, "_name", &h, &s) == -1)
		return -1;
	atomic_store_explicit(&hash_name, h, memory_order_relaxed);
	return py_read_str(rt, s, buf, size);
}

/*
 * The last threading._active found, by process and interpreter, taken
 * as it is for a second: the way to it (sys.modules, threading's dict)
 * is some fifteen reads, each a system call, at every name looked up;
 * the dict itself lives as long as the module (a fork child's threading
 * empties and refills the same one).  Whoever uses it checks that it is
 * still a dict (dict_open); a program that replaced it would have its
 * threads' names looked up in the old one for a second at most.
 */
#define ACTIVE_TRUST_NS	1000000000ull

static struct {
	atomic_int		pid;
	_Atomic uintptr_t	interp, active;
	_Atomic uint64_t	until;		/* CLOCK_MONOTONIC ns */
} active_seen;

void
py_names_forget(void)
{
	atomic_store(&active_seen.until, 0);
}

/* threading._active of ts's interpreter: {thread_id: Thread}. */
static int
active_dict(const struct py_runtime *rt, uintptr_t ts, uintptr_t *active)
{
	const struct py_offsets *o = rt->off;
	uintptr_t interp, modules, mod, globals;
	pid_t pid = mem_source_target();
	struct timespec clk;
	uint64_t now, until;

	if (o->is_modules < 0 || o->md_dict < 0 ||
	    py_read_ptr(ts + (uintptr_t)o->ts_interp, &interp) == -1 ||
	    interp == 0)
		return -1;
	clock_gettime(CLOCK_MONOTONIC, &clk);
	now = (uint64_t)clk.tv_sec * 1000000000ull + (uint64_t)clk.tv_nsec;
	/* Its time first and again last: a writer between changed it. */
	if (now < (until = atomic_load(&active_seen.until)) &&
	    atomic_load(&active_seen.pid) == pid &&
	    atomic_load(&active_seen.interp) == interp) {
		*active = atomic_load(&active_seen.active);
		if (atomic_load(&active_seen.until) == until)
			return 0;
	}
	if (py_read_ptr(interp + (uintptr_t)o->is_modules, &modules) == -1 ||
	    py_dict_get_str_kept(rt, modules, "threading", &key_threading,
	    &mod) == -1 || !is_type(rt, mod, rt->type_module) ||
	    py_read_ptr(mod + (uintptr_t)o->md_dict, &globals) == -1 ||
	    py_dict_get_str_kept(rt, globals, "_active", &key_active,
	    active) == -1)
		return -1;
	atomic_store(&active_seen.until, 0);
	atomic_store(&active_seen.pid, pid);
	atomic_store(&active_seen.interp, interp);
	atomic_store(&active_seen.active, *active);
	atomic_store(&active_seen.until, now + ACTIVE_TRUST_NS);
	return 0;
}

/*
 * threading._active of one interpreter as a dump keeps it
 * (PY_CACHE_ACTIVE, by the interpreter's address): its int keys and
 * values, sorted by key, read in one pass over the entries instead of
 * the path from sys.modules and a probe per thread.
 */
struct kept_active {
	long		 n;
	struct ident {
		unsigned long	 id;
		uintptr_t	 thread;
	}		 v[];
};

struct collect_ids {
	struct kept_active *a;
	long		 cap;
};

static int
collect_id(const struct py_runtime *rt, uintptr_t key, long hash,
    uintptr_t value, const unsigned char *head, void *arg)
{
	struct collect_ids *c = arg;

	/* An int key's hash is its value (thread ids are below the
	 * modulus); a key of another type is not a thread's. */
	if (hash <= 0 || value == 0 || c->a->n == c->cap ||
	    !is_type_head(rt, key, head, rt->type_long))
		return 0;
	c->a->v[c->a->n].id = (unsigned long)hash;
	c->a->v[c->a->n++].thread = value;
	return 0;
}

static int
by_id(const void *x, const void *y)
{
	const struct ident *a = x, *b = y;

	return (a->id > b->id) - (a->id < b->id);
}

static const struct kept_active *
active_kept(const struct py_runtime *rt, uintptr_t ts)
{
	struct collect_ids c;
	struct keys k;
	uintptr_t interp, active;
	struct kept_active *a;

	const struct py_kept_tstate *kt = py_cache_get(rt, PY_CACHE_TSTATE, ts);

	if (py_cache_of(rt) == NULL)
		return NULL;
	if (kt != NULL)
		interp = kt->interp;
	else if (py_read_ptr(ts + (uintptr_t)rt->off->ts_interp,
	    &interp) == -1)
		return NULL;
	if ((a = py_cache_get(rt, PY_CACHE_ACTIVE, interp)) != NULL)
		return a;
	if (active_dict(rt, ts, &active) == -1 ||
	    dict_open(rt, active, &k) == -1 || k.ehash < 0 ||
	    (a = malloc(sizeof(*a) + (size_t)k.nentries *
	    sizeof(a->v[0]))) == NULL)
		return NULL;
	a->n = 0;
	c.a = a;
	c.cap = k.nentries;
	/* Each key's type is looked at: read with the others'. */
	if (keys_each_from(rt, &k, 0, (size_t)rt->off->ob_type +
	    sizeof(uintptr_t), collect_id, &c) == -1) {
		free(a);
		return NULL;
	}
	qsort(a->v, (size_t)a->n, sizeof(a->v[0]), by_id);
	return py_cache_put(rt, PY_CACHE_ACTIVE, interp, a);
}

/* threading._active[thread_id] of ts's interpreter. */
static int
from_active(const struct py_runtime *rt, uintptr_t ts,
    unsigned long thread_id, uintptr_t *thread)
{
	const struct kept_active *a;
	struct ident key = { thread_id, 0 }, *hit;
	uintptr_t active;

	if ((a = active_kept(rt, ts)) != NULL) {
		if ((hit = bsearch(&key, a->v, (size_t)a->n, sizeof(a->v[0]),
		    by_id)) == NULL)
			return -1;
		*thread = hit->thread;
		return 0;
	}
	if (active_dict(rt, ts, &active) == -1)
		return -1;
	return py_dict_get_int(rt, active, thread_id, thread);
}

/*
 * The key of _active whose value is the Thread: an int, whose hash is
 * its value (thread ids are below the hash modulus).
 */
int
py_thread_ident(const struct py_runtime *rt, uintptr_t ts, uintptr_t thread,
    unsigned long *thread_id)
{
	struct by_value v = { thread, NULL, 0, -1 };
	struct keys k;
	uintptr_t active;

	if (rt->off == NULL || ts == 0 || thread == 0 ||
	    active_dict(rt, ts, &active) == -1 ||
	    dict_open(rt, active, &k) == -1 || k.ehash < 0 ||
	    keys_each(rt, &k, value_match, &v) != 1 || v.hash <= 0)
		return -1;
	*thread_id = (unsigned long)v.hash;
	return 0;
}

/* self of Thread._bootstrap(self), the thread's outermost frame. */
static int
from_bootstrap(const struct py_runtime *rt, uintptr_t ts, uintptr_t *thread)
{
	const struct py_offsets *o = rt->off;
	static const char tail[] = "threading.py";
	uintptr_t frame, code, name, file;
	char buf[PY_FILE_MAX];
	int n;

	if (o->fr_localsplus < 0 ||
	    py_tstate_outermost(rt, ts, &frame, &code) == -1 ||
	    py_read_ptr(code + (uintptr_t)o->co_name, &name) == -1 ||
	    py_read_str(rt, name, buf, sizeof(buf)) == -1 ||
	    strcmp(buf, "_bootstrap") != 0 ||
	    py_read_ptr(code + (uintptr_t)o->co_filename, &file) == -1 ||
	    (n = py_read_str(rt, file, buf, sizeof(buf))) == -1 ||
	    (size_t)n < sizeof(tail) - 1 ||
	    strcmp(buf + n - (sizeof(tail) - 1), tail) != 0)
		return -1;
	return py_frame_local(rt, frame, 0, thread) == -1 || *thread == 0 ?
	    -1 : 0;
}

int
py_tstate_name(const struct py_runtime *rt, uintptr_t ts,
    unsigned long thread_id, int main_thread, char *buf, size_t size)
{
	const struct py_kept_tstate *kt = py_cache_get(rt, PY_CACHE_TSTATE, ts);
	unsigned long id;
	uintptr_t thread;

	if (size > 0)
		buf[0] = '\0';
	if (rt->off == NULL || ts == 0 || size == 0)
		return -1;
	if (kt != NULL)
		id = kt->thread_id;
	else if (py_read_ulong(ts + (uintptr_t)rt->off->ts_thread_id,
	    &id) == -1)
		return -1;
	if (id != thread_id)
		return -1;
	if (from_active(rt, ts, thread_id, &thread) == 0 &&
	    name_of(rt, thread, buf, size) >= 0)
		return (int)strlen(buf);
	/* threading did not start the main thread: no frame walk. */
	if (!main_thread && from_bootstrap(rt, ts, &thread) == 0 &&
	    name_of(rt, thread, buf, size) >= 0)
		return (int)strlen(buf);
	buf[0] = '\0';
	return -1;
}

struct search {
	const struct py_runtime	*rt;
	unsigned long		 thread_id;
	char			*buf;
	size_t			 size;
	int			 len;
};

static int
search_thread(const struct py_thread *t, void *arg)
{
	struct search *s = arg;

	if (t->thread_id != s->thread_id)
		return 0;
	s->len = py_tstate_name(s->rt, t->tstate, s->thread_id, 0, s->buf,
	    s->size);
	return s->len >= 0;
}

int
py_thread_name(const struct py_runtime *rt, unsigned long thread_id,
    char *buf, size_t size)
{
	struct search s = { rt, thread_id, buf, size, -1 };

	if (size > 0)
		buf[0] = '\0';
	if (rt->off == NULL || size == 0 ||
	    py_thread_list(rt, search_thread, &s) == -1)
		return -1;
	return s.len;
}
