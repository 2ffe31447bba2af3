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
#include <string.h>

#include "py.h"

#define HASH_MODULUS	((1UL << 61) - 1)	/* _PyHASH_MODULUS, 64-bit */
#define PERTURB_SHIFT	5
#define DICT_MIN	8		/* smallest index table */
#define ENTRY_CHUNK	16		/* entries read at a time in a scan */
#define KEY_MAX		32		/* longest key looked for */
#define HEAD_MAX	512		/* object heads read at once */
#define DKIX_EMPTY	(-1)

/* Hashes of the keys looked for: -1 until a scan has found them. */
static _Atomic long hash_threading = -1, hash_active = -1, hash_name = -1;

/* A dict's keys, opened for lookups. */
struct keys {
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

static int
keys_open(const struct py_runtime *rt, uintptr_t keys, uintptr_t values,
    struct keys *k)
{
	const struct py_offsets *o = rt->off;
	unsigned char b[64];
	int general = 1;

	memset(k, 0, sizeof(*k));
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
 * below the modulus looked for here, is the value itself).
 */
static int
key_matches(const struct py_runtime *rt, uintptr_t key, long hash,
    struct want *w)
{
	const struct py_offsets *o = rt->off;
	unsigned char b[HEAD_MAX];
	char data[KEY_MAX];
	uint32_t state;
	long khash;

	if (key == 0)
		return 0;
	if (w->str == NULL)
		return hash == w->hash && is_type(rt, key, rt->type_long);
	if (hash != -1 && w->hash != -1 && hash != w->hash)
		return 0;
	if ((size_t)o->u_ascii_size > sizeof(b) ||
	    py_read(key, b, (size_t)o->u_ascii_size) == -1 ||
	    py_ptr_at(b, o->ob_type) != rt->type_unicode ||
	    py_long_at(b, o->u_length) != (long)w->len)
		return 0;
	memcpy(&state, b + o->u_state, sizeof(state));
	if (!(state >> o->u_compact_bit & 1) || !(state >> o->u_ascii_bit & 1))
		return 0;
	khash = py_long_at(b, o->u_hash);
	if (khash != -1 && w->hash != -1 && khash != w->hash)
		return 0;
	if (py_read(key + (uintptr_t)o->u_ascii_size, data, w->len) == -1 ||
	    memcmp(data, w->str, w->len) != 0)
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
static int
keys_probe(const struct py_runtime *rt, const struct keys *k,
    struct want *w, uintptr_t *value)
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
		    key_matches(rt, key, hash, w))
			return *value != 0 ? 0 : -1;
		perturb >>= PERTURB_SHIFT;
		i = (i * 5 + perturb + 1) & mask;
	}
	return -1;
}

/* What keys_each calls for an entry: non-zero stops the walk. */
typedef int	(*entry_fn)(const struct py_runtime *, uintptr_t key,
		    long hash, uintptr_t value, void *arg);

/*
 * Every entry in order, until fn returns non-zero: that value, or 0
 * when fn never did, or -1 on a bad read.  Deleted entries (no key)
 * are passed over.
 */
static int
keys_each(const struct py_runtime *rt, const struct keys *k, entry_fn fn,
    void *arg)
{
	unsigned char b[ENTRY_CHUNK * 64];
	uintptr_t vals[ENTRY_CHUNK], key, value;
	long ix, j, n, hash;
	int rv;

	for (ix = 0; ix < k->nentries; ix += n) {
		n = k->nentries - ix < ENTRY_CHUNK ? k->nentries - ix :
		    ENTRY_CHUNK;
		if (py_read(k->entries + (uintptr_t)(ix * k->esize), b,
		    (size_t)(n * k->esize)) == -1 || (k->values != 0 &&
		    py_read(k->values + (uintptr_t)ix * sizeof(uintptr_t),
		    vals, (size_t)n * sizeof(uintptr_t)) == -1))
			return -1;
		for (j = 0; j < n; j++) {
			key = py_ptr_at(b + j * k->esize, k->ekey);
			hash = k->ehash >= 0 ?
			    py_long_at(b + j * k->esize, k->ehash) : -1;
			value = k->values != 0 ? vals[j] :
			    py_ptr_at(b + j * k->esize, k->evalue);
			if (key != 0 && (rv = fn(rt, key, hash, value, arg)))
				return rv;
		}
	}
	return 0;
}

struct scan {
	struct want	*w;
	uintptr_t	 value;
};

static int
scan_match(const struct py_runtime *rt, uintptr_t key, long hash,
    uintptr_t value, void *arg)
{
	struct scan *s = arg;

	if (!key_matches(rt, key, hash, s->w))
		return 0;
	s->value = value;
	return value != 0 ? 1 : -1;
}

/* Every entry in order, for a key whose hash is not known yet. */
static int
keys_scan(const struct py_runtime *rt, const struct keys *k,
    struct want *w, uintptr_t *value)
{
	struct scan s = { w, 0 };

	if (keys_each(rt, k, scan_match, &s) != 1)
		return -1;
	*value = s.value;
	return 0;
}

static int
keys_get_str(const struct py_runtime *rt, const struct keys *k,
    const char *key, long *hash, uintptr_t *value)
{
	struct want w = { key, strlen(key), 0, *hash };

	if (w.len > KEY_MAX)
		return -1;
	if (w.hash != -1)
		return keys_probe(rt, k, &w, value);
	if (keys_scan(rt, k, &w, value) == -1)
		return -1;
	*hash = w.hash;
	return 0;
}

int
py_dict_get_str(const struct py_runtime *rt, uintptr_t dict,
    const char *key, long *hash, uintptr_t *value)
{
	struct keys k;

	if (rt->off == NULL || rt->type_unicode == 0 ||
	    dict_open(rt, dict, &k) == -1)
		return -1;
	return keys_get_str(rt, &k, key, hash, value);
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

/*
 * obj's attributes: its dict, or values whose keys its (heap) type
 * shares among instances, by layout.
 */
static int
attrs_open(const struct py_runtime *rt, uintptr_t obj, struct keys *k)
{
	const struct py_offsets *o = rt->off;
	unsigned char b[HEAD_MAX];
	uintptr_t type, dict = 0, values = 0, cached;
	unsigned long flags;
	long dictoffset;
	size_t len;
	unsigned char valid;

	len = (size_t)max_off(max_off(o->tp_basicsize, o->tp_dictoffset),
	    o->tp_flags) + sizeof(long);
	if (len > sizeof(b) || py_read_ptr(obj + (uintptr_t)o->ob_type,
	    &type) == -1 || type == 0 || py_read(type, b, len) == -1)
		return -1;
	memcpy(&flags, b + o->tp_flags, sizeof(flags));
	dictoffset = py_long_at(b, o->tp_dictoffset);
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
	return keys_get_str(rt, &k, name, hash, value);
}

struct by_value {
	uintptr_t	 value;
	char		*buf;
	size_t		 size;
	long		 hash;		/* of the key found */
};

static int
value_match(const struct py_runtime *rt, uintptr_t key, long hash,
    uintptr_t value, void *arg)
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
	struct keys k;

	if (size > 0)
		buf[0] = '\0';
	if (rt->off == NULL || rt->type_unicode == 0 || obj == 0 ||
	    value == 0 || size == 0 || attrs_open(rt, obj, &k) == -1 ||
	    keys_each(rt, &k, value_match, &v) != 1)
		return -1;
	return (int)strlen(buf);
}

/* A cached hash, used and kept. */
static int
get_cached(const struct py_runtime *rt, uintptr_t dict, const char *key,
    _Atomic long *cache, uintptr_t *value)
{
	long h = atomic_load_explicit(cache, memory_order_relaxed);
	int rv;

	rv = py_dict_get_str(rt, dict, key, &h, value);
	if (rv == 0)
		atomic_store_explicit(cache, h, memory_order_relaxed);
	return rv;
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

/* threading._active of ts's interpreter: {thread_id: Thread}. */
static int
active_dict(const struct py_runtime *rt, uintptr_t ts, uintptr_t *active)
{
	const struct py_offsets *o = rt->off;
	uintptr_t interp, modules, mod, globals;

	if (o->is_modules < 0 || o->md_dict < 0 ||
	    py_read_ptr(ts + (uintptr_t)o->ts_interp, &interp) == -1 ||
	    interp == 0 ||
	    py_read_ptr(interp + (uintptr_t)o->is_modules, &modules) == -1 ||
	    get_cached(rt, modules, "threading", &hash_threading,
	    &mod) == -1 || !is_type(rt, mod, rt->type_module) ||
	    py_read_ptr(mod + (uintptr_t)o->md_dict, &globals) == -1)
		return -1;
	return get_cached(rt, globals, "_active", &hash_active, active);
}

/* threading._active[thread_id] of ts's interpreter. */
static int
from_active(const struct py_runtime *rt, uintptr_t ts,
    unsigned long thread_id, uintptr_t *thread)
{
	uintptr_t active;

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
    unsigned long thread_id, char *buf, size_t size)
{
	unsigned long id;
	uintptr_t thread;

	if (size > 0)
		buf[0] = '\0';
	if (rt->off == NULL || ts == 0 || size == 0 ||
	    py_read_ulong(ts + (uintptr_t)rt->off->ts_thread_id, &id) == -1 ||
	    id != thread_id)
		return -1;
	if (from_active(rt, ts, thread_id, &thread) == 0 &&
	    name_of(rt, thread, buf, size) >= 0)
		return (int)strlen(buf);
	if (from_bootstrap(rt, ts, &thread) == 0 &&
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
	s->len = py_tstate_name(s->rt, t->tstate, s->thread_id, s->buf,
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
