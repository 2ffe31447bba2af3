/*
 * Reading interpreter memory without trusting the pointer: the typed
 * reads of the CPython readers over the memory source (mem.h), and str
 * objects copied out as UTF-8, since names are the only strings we read
 * and they are read through the same checks.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"
#include "py.h"

#define STR_CHUNK	64	/* code points copied at a time */
#define CSTR_CHUNK	16	/* a C string is read this many bytes at a time */
#define STR_LEN_MAX	(1L << 30)	/* longer is not a name: garbage */

int
py_read(uintptr_t addr, void *buf, size_t len)
{
	return mem_read(addr, buf, len);
}

int
py_read_ptr(uintptr_t addr, uintptr_t *out)
{
	return mem_read(addr, out, sizeof(*out));
}

int
py_read_int(uintptr_t addr, int *out)
{
	return mem_read(addr, out, sizeof(*out));
}

int
py_read_ulong(uintptr_t addr, unsigned long *out)
{
	return mem_read(addr, out, sizeof(*out));
}

/* Append code point c as UTF-8 at out; returns its length (1-4). */
static int
utf8_put(uint32_t c, char *out)
{
	if (c < 0x80) {
		out[0] = (char)c;
		return 1;
	}
	if (c < 0x800) {
		out[0] = (char)(0xc0 | c >> 6);
		out[1] = (char)(0x80 | (c & 0x3f));
		return 2;
	}
	if ((c >= 0xd800 && c <= 0xdfff) || c > 0x10ffff) {
		out[0] = '?';	/* lone surrogate (or garbage) */
		return 1;
	}
	if (c < 0x10000) {
		out[0] = (char)(0xe0 | c >> 12);
		out[1] = (char)(0x80 | ((c >> 6) & 0x3f));
		out[2] = (char)(0x80 | (c & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | c >> 18);
	out[1] = (char)(0x80 | ((c >> 12) & 0x3f));
	out[2] = (char)(0x80 | ((c >> 6) & 0x3f));
	out[3] = (char)(0x80 | (c & 0x3f));
	return 4;
}

/*
 * Where the characters of str obj are, and their width; -1 if not a
 * readable, ready str.  The header is read in one go: every str is at
 * least a PyASCIIObject.  With it come the first STR_AHEAD bytes after
 * it where they can be read, into ahead (*nahead of them): a short
 * compact name is then read in one read.
 */
#define STR_AHEAD	64

static int
str_data(const struct py_runtime *rt, uintptr_t obj, uintptr_t *data,
    int *kind, long *len, unsigned char *ahead, size_t *nahead)
{
	const struct py_offsets *o = rt->off;
	unsigned char head[128 + STR_AHEAD];
	size_t hl = (size_t)o->u_ascii_size;
	uintptr_t type;
	uint32_t state;

	*nahead = 0;
	if (hl > 128)
		return -1;
	if (py_read(obj, head, hl + STR_AHEAD) == 0)
		*nahead = STR_AHEAD;
	else if (py_read(obj, head, hl) == -1)
		return -1;
	memcpy(&type, head + o->ob_type, sizeof(type));
	memcpy(len, head + o->u_length, sizeof(*len));
	memcpy(&state, head + o->u_state, sizeof(state));
	if (rt->type_unicode != 0 && type != rt->type_unicode)
		return -1;
	if (*len < 0 || *len > STR_LEN_MAX)
		return -1;
	if (o->u_ready_bit >= 0 && !(state >> o->u_ready_bit & 1))
		return -1;
	*kind = (int)(state >> o->u_kind_shift & (uint32_t)o->u_kind_mask);
	if (*kind != 1 && *kind != 2 && *kind != 4)
		return -1;
	if (state >> o->u_compact_bit & 1) {
		size_t at = state >> o->u_ascii_bit & 1 ? hl :
		    (size_t)o->u_compact_size;

		*data = obj + at;
		if (at >= hl && at - hl < *nahead) {
			*nahead -= at - hl;
			memcpy(ahead, head + at, *nahead);
		} else
			*nahead = 0;
		return 0;
	}
	*nahead = 0;
	return py_read_ptr(obj + (uintptr_t)o->u_data, data);
}

int
py_read_str(const struct py_runtime *rt, uintptr_t obj, char *buf,
    size_t size)
{
	unsigned char raw[STR_CHUNK * 4], ahead[STR_AHEAD];
	char enc[4];
	uintptr_t data;
	size_t pos = 0, cut = 0, nahead;
	long len, done = 0;
	int kind;

	if (size == 0)
		return -1;
	if (rt->off == NULL || str_data(rt, obj, &data, &kind, &len, ahead,
	    &nahead) == -1)
		goto bad;
	while (done < len) {
		long n = len - done < STR_CHUNK ? len - done : STR_CHUNK;

		if (done == 0 && (size_t)(n * kind) <= nahead)
			memcpy(raw, ahead, (size_t)(n * kind));
		else if (py_read(data + (uintptr_t)(done * kind), raw,
		    (size_t)(n * kind)) == -1)
			goto bad;
		for (long i = 0; i < n; i++) {
			uint32_t c;
			int w;

			if (kind == 1)
				c = raw[i];
			else if (kind == 2)
				c = (uint32_t)raw[2 * i] |
				    (uint32_t)raw[2 * i + 1] << 8;
			else
				memcpy(&c, raw + 4 * i, 4);
			w = utf8_put(c, enc);
			if (pos + (size_t)w > size - 1)
				goto truncated;
			memcpy(buf + pos, enc, (size_t)w);
			pos += (size_t)w;
			/* The last place where "..." would still fit. */
			if (pos + 3 <= size - 1)
				cut = pos;
		}
		done += n;
	}
	buf[pos] = '\0';
	return (int)pos;

truncated:
	if (size < 4) {
		buf[cut] = '\0';
		return (int)cut;
	}
	memcpy(buf + cut, "...", 4);
	return (int)cut + 3;
bad:
	if (size >= 4)
		memcpy(buf, "???", 4);
	else
		buf[0] = '\0';
	return -1;
}

int
py_read_cstr(uintptr_t addr, char *buf, size_t size)
{
	size_t len = 0, n;

	while (len + 1 < size) {
		n = CSTR_CHUNK - ((addr + len) % CSTR_CHUNK);
		if (n > size - 1 - len)
			n = size - 1 - len;
		if (py_read(addr + len, buf + len, n) == -1)
			break;
		if (memchr(buf + len, '\0', n) != NULL)
			return 0;
		len += n;
	}
	buf[len] = '\0';
	return -1;
}

int
py_type_name(const struct py_runtime *rt, uintptr_t obj, char *buf,
    size_t size)
{
	const struct py_offsets *o = rt->off;
	uintptr_t type, name;
	char *kept;

	buf[0] = '\0';
	if (obj == 0 || o->tp_name <= 0 ||
	    py_read_ptr(obj + (uintptr_t)o->ob_type, &type) == -1 ||
	    type == 0)
		return -1;
	/* A dump names each type once (PY_CACHE_TYPENAME). */
	if ((kept = py_cache_get(rt, PY_CACHE_TYPENAME, type)) != NULL) {
		if (strlen(kept) >= size)
			return -1;
		memcpy(buf, kept, strlen(kept) + 1);
		return 0;
	}
	if (py_read_ptr(type + (uintptr_t)o->tp_name, &name) == -1 ||
	    name == 0 || py_read_cstr(name, buf, size) == -1 ||
	    buf[0] == '\0') {
		buf[0] = '\0';
		return -1;
	}
	if (py_cache_of(rt) != NULL)
		(void)py_cache_put(rt, PY_CACHE_TYPENAME, type, strdup(buf));
	return 0;
}
