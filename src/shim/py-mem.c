/*
 * Reading our own memory without trusting the pointer.
 *
 * The interpreter's structures change under us (we do not hold the
 * GIL), so a pointer read a moment ago may point at freed, unmapped
 * memory.  process_vm_readv() on our own pid copies through the kernel
 * and answers EFAULT for such memory instead of raising SIGSEGV.  Where
 * that call is refused (seccomp filters, kernels without it) we fall
 * back to a check against a cached /proc/self/maps before a plain copy;
 * the cache is refreshed when an address is not found in it, since new
 * mappings are the common reason for a miss.  That fallback is weaker:
 * memory unmapped or protected after the cache was loaded still looks
 * readable, and the copy faults.
 *
 * Also here: str objects copied out as UTF-8, since names are the only
 * strings we read and they are read through the same checks.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "py.h"
#include "ulock.h"

#define MAPS_MAX	4096	/* readable mappings remembered */
#define STR_CHUNK	64	/* code points copied at a time */
#define STR_LEN_MAX	(1L << 30)	/* longer is not a name: garbage */

enum { MEM_VM, MEM_MAPS };

static atomic_int mode = MEM_VM;

static struct {
	struct ulock	lock;
	int		n;		/* -1: not read yet or overflowed */
	struct range {
		uintptr_t	start, end;
	}		r[MAPS_MAX];
} maps = { ULOCK_INIT, -1, { { 0, 0 } } };

static uintptr_t
hex(const char **s)
{
	uintptr_t v = 0;
	const char *p = *s;

	for (;; p++) {
		if (*p >= '0' && *p <= '9')
			v = v << 4 | (uintptr_t)(*p - '0');
		else if (*p >= 'a' && *p <= 'f')
			v = v << 4 | (uintptr_t)(*p - 'a' + 10);
		else
			break;
	}
	*s = p;
	return v;
}

/*
 * One line of /proc/self/maps: "start-end perms offset dev inode path".
 * Keep readable mappings except [vvar] (readable on paper, but some of
 * its pages fault).
 */
static void
maps_line(const char *s)
{
	uintptr_t start, end;

	start = hex(&s);
	if (*s++ != '-')
		return;
	end = hex(&s);
	if (*s++ != ' ' || *s != 'r')
		return;
	if (strstr(s, "[vvar") != NULL)
		return;
	if (maps.n < 0 || maps.n == MAPS_MAX) {
		maps.n = -1;
		return;
	}
	maps.r[maps.n].start = start;
	maps.r[maps.n].end = end;
	maps.n++;
}

/* Reread /proc/self/maps with open/read only.  Call with maps.lock. */
static void
maps_load(void)
{
	char buf[4096], line[512];
	size_t len = 0;
	ssize_t n;
	int fd;

	maps.n = 0;
	fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
	if (fd == -1) {
		maps.n = -1;
		return;
	}
	while ((n = read(fd, buf, sizeof(buf))) != 0) {
		if (n == -1) {
			if (errno == EINTR)
				continue;
			maps.n = -1;
			break;
		}
		for (ssize_t i = 0; i < n; i++) {
			if (buf[i] != '\n') {
				/* The tail of a long path is not needed. */
				if (len < sizeof(line) - 1)
					line[len++] = buf[i];
				continue;
			}
			line[len] = '\0';
			maps_line(line);
			len = 0;
		}
	}
	close(fd);
}

static int
maps_has(uintptr_t addr, size_t len)
{
	uintptr_t end = addr + len;

	/* A read may straddle adjacent mappings; walk them in order. */
	for (int i = 0; i < maps.n; i++) {
		if (addr < maps.r[i].start || addr >= maps.r[i].end)
			continue;
		if (end <= maps.r[i].end)
			return 1;
		addr = maps.r[i].end;
		i = -1;
	}
	return 0;
}

static int
read_maps(uintptr_t addr, void *buf, size_t len)
{
	int ok;

	ulock_lock(&maps.lock);
	ok = maps.n > 0 && maps_has(addr, len);
	if (!ok) {
		maps_load();
		ok = maps.n > 0 && maps_has(addr, len);
	}
	if (ok)
		memcpy(buf, (const void *)addr, len);
	ulock_unlock(&maps.lock);
	return ok ? 0 : -1;
}

static int
read_vm(uintptr_t addr, void *buf, size_t len)
{
	struct iovec local = { buf, len };
	struct iovec remote = { (void *)addr, len };
	ssize_t n;

	n = syscall(SYS_process_vm_readv, (pid_t)syscall(SYS_getpid),
	    &local, 1UL, &remote, 1UL, 0UL);
	if (n == (ssize_t)len)
		return 0;
	if (n == -1 && (errno == ENOSYS || errno == EPERM)) {
		atomic_store(&mode, MEM_MAPS);
		return read_maps(addr, buf, len);
	}
	return -1;		/* EFAULT, or a partial copy */
}

int
py_read(uintptr_t addr, void *buf, size_t len)
{
	int rv, saved = errno;

	if (len == 0)
		return 0;
	/* The first page is never ours; a wrapped range never valid. */
	if (addr < 4096 || addr + len < addr)
		return -1;
	if (atomic_load_explicit(&mode, memory_order_relaxed) == MEM_VM)
		rv = read_vm(addr, buf, len);
	else
		rv = read_maps(addr, buf, len);
	errno = saved;
	return rv;
}

int
py_read_ptr(uintptr_t addr, uintptr_t *out)
{
	return py_read(addr, out, sizeof(*out));
}

int
py_read_int(uintptr_t addr, int *out)
{
	return py_read(addr, out, sizeof(*out));
}

int
py_read_ulong(uintptr_t addr, unsigned long *out)
{
	return py_read(addr, out, sizeof(*out));
}

void
py_mem_use_maps(int on)
{
	atomic_store(&mode, on ? MEM_MAPS : MEM_VM);
}

void
py_mem_reset(void)
{
	ulock_lock(&maps.lock);
	maps.n = -1;
	ulock_unlock(&maps.lock);
}

void
py_mem_after_fork_child(void)
{
	ulock_init(&maps.lock);
	maps.n = -1;
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
 * least a PyASCIIObject.
 */
static int
str_data(const struct py_runtime *rt, uintptr_t obj, uintptr_t *data,
    int *kind, long *len)
{
	const struct py_offsets *o = rt->off;
	unsigned char head[128];
	uintptr_t type;
	uint32_t state;

	if ((size_t)o->u_ascii_size > sizeof(head) ||
	    py_read(obj, head, (size_t)o->u_ascii_size) == -1)
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
		if (state >> o->u_ascii_bit & 1)
			*data = obj + (uintptr_t)o->u_ascii_size;
		else
			*data = obj + (uintptr_t)o->u_compact_size;
		return 0;
	}
	return py_read_ptr(obj + (uintptr_t)o->u_data, data);
}

int
py_read_str(const struct py_runtime *rt, uintptr_t obj, char *buf,
    size_t size)
{
	unsigned char raw[STR_CHUNK * 4];
	char enc[4];
	uintptr_t data;
	size_t pos = 0, cut = 0;
	long len, done = 0;
	int kind;

	if (size == 0)
		return -1;
	if (rt->off == NULL || str_data(rt, obj, &data, &kind, &len) == -1)
		goto bad;
	while (done < len) {
		long n = len - done < STR_CHUNK ? len - done : STR_CHUNK;

		if (py_read(data + (uintptr_t)(done * kind), raw,
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
