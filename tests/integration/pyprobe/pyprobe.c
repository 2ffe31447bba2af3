/*
 * pyprobe.so: libgilwatch's CPython reader (src/reader/py-*.c) on its own,
 * preloaded into an interpreter by tests/integration/test_pyframes.py.
 *
 * At load time it runs py_detect() once, as the shim will, before the
 * interpreter is initialised: "early" in the dump reports what it saw.
 * Everything else happens when the script calls, through ctypes (which
 * drops the GIL for the call: the reader must not need it):
 *
 *   pyprobe_dump(fd)       one JSON object per line on fd: "runtime",
 *                          "early", "gil", one "thread" per thread state
 *                          with its frames innermost first, the same
 *                          and threading's name of it ("name"),
 *                          found by thread id ("by_id"), by TID
 *                          ("by_tid"), and cut to 3 frames ("short"),
 *                          then "end"
 *   pyprobe_dump_maps(fd)  the same, reading through the /proc/self/maps
 *                          check instead of process_vm_readv
 *   pyprobe_dump_denied(fd) the same after a seccomp filter made
 *                          process_vm_readv fail with EPERM for the
 *                          calling thread, for good: the reader must
 *                          notice and fall back by itself
 *   pyprobe_bad_reads()    reads of bad addresses must fail, not crash:
 *                          0, or the number of the first check that broke
 *   pyprobe_thread_name(id, buf, size)  py_thread_name() of the thread
 *                          with that ident: its length, or -1
 *   pyprobe_name_calls(id, calls) the system calls (mem_count) of two
 *                          reads of that name right after
 *                          py_names_forget, into calls[0] and calls[1]:
 *                          the second finds threading._active kept
 *   pyprobe_debug_offsets(fd) one JSON line: the generated table's
 *                          entry for this version and what its
 *                          _Py_DebugOffsets give (py_debug_offsets over
 *                          an entry of -2s), both as arrays in the order
 *                          of struct py_offsets
 *   pyprobe_forget(minor)  py_detect_forget(): the next py_detect acts
 *                          as if the table had no entry for 3.minor
 */
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "mem.h"
#include "py.h"

#define EXPORT		__attribute__((visibility("default")))
#define MAX_FRAMES	256
#define SHORT_FRAMES	3

struct out {
	int	fd;
	size_t	len;
	char	buf[16384];
};

static struct py_runtime early;
static int early_rv;

__attribute__((constructor)) static void
pyprobe_early(void)
{
	early_rv = py_detect(&early);
}

static void
flush(struct out *o)
{
	size_t off = 0;
	ssize_t n;

	while (off < o->len) {
		n = write(o->fd, o->buf + off, o->len - off);
		if (n <= 0)
			break;
		off += (size_t)n;
	}
	o->len = 0;
}

static void
put(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(o->buf + o->len, sizeof(o->buf) - o->len, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(o->buf) - o->len) {
		/* Did not fit: flush and write it again. */
		flush(o);
		va_start(ap, fmt);
		n = vsnprintf(o->buf, sizeof(o->buf), fmt, ap);
		va_end(ap);
		if (n < 0)
			return;
		if ((size_t)n >= sizeof(o->buf))
			n = sizeof(o->buf) - 1;
	}
	o->len += (size_t)n;
}

/* A JSON string: UTF-8 passes through, controls are escaped. */
static void
put_str(struct out *o, const char *s)
{
	put(o, "\"");
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			put(o, "\\%c", c);
		else if (c < 0x20)
			put(o, "\\u%04x", c);
		else
			put(o, "%c", c);
	}
	put(o, "\"");
}

static void
put_runtime(struct out *o, const char *key, const struct py_runtime *rt,
    int rv)
{
	const struct py_offsets *off = rt->off;
	uintptr_t predicted = 0;

	/* Where the GIL was expected before the interpreter said. */
	if (off != NULL && off->rt_gil < 0)
		predicted = rt->runtime + (uintptr_t)off->rt_main_interp +
		    (uintptr_t)off->is_gil;
	else if (off != NULL)
		predicted = rt->runtime + (uintptr_t)off->rt_gil;
	put(o, "{\"%s\": {\"rv\": %d, \"version\": \"%d.%d.%d\", "
	    "\"supported\": %s, \"runtime\": %lu, \"gil\": %lu, "
	    "\"gil_predicted\": %lu, \"gil_confirmed\": %d, "
	    "\"gil_mutex\": %lu, \"gil_cond\": %lu, \"gil_switch_mutex\": %lu, "
	    "\"gil_switch_cond\": %lu, \"debug_offsets\": %d, "
	    "\"free_threaded\": %d, \"why_not\": ", key, rv, rt->major,
	    rt->minor, rt->micro, off != NULL ? "true" : "false",
	    (unsigned long)rt->runtime, (unsigned long)rt->gil,
	    (unsigned long)predicted, rt->gil_confirmed,
	    (unsigned long)rt->gil_mutex, (unsigned long)rt->gil_cond,
	    (unsigned long)rt->gil_switch_mutex,
	    (unsigned long)rt->gil_switch_cond, rt->debug_offsets,
	    rt->free_threaded);
	put_str(o, rt->why_not);
	put(o, ", \"partial\": ");
	put_str(o, rt->partial);
	put(o, "}}\n");
}

static void
put_frames(struct out *o, const struct py_frame *f, int n)
{
	put(o, "[");
	for (int i = 0; i < n; i++) {
		put(o, "%s{\"function\": ", i ? ", " : "");
		put_str(o, f[i].function);
		put(o, ", \"qualname\": ");
		put_str(o, f[i].qualname);
		put(o, ", \"file\": ");
		put_str(o, f[i].file);
		put(o, ", \"line\": %d, \"flags\": %d}", f[i].line,
		    f[i].flags);
	}
	put(o, "]");
}

struct dump {
	const struct py_runtime	*rt;
	struct out		*o;
	struct py_frame		 frames[MAX_FRAMES];
};

static int
dump_thread(const struct py_thread *t, void *arg)
{
	struct dump *d = arg;
	int n;

	char name[PY_NAME_MAX];

	n = py_tstate_frames(d->rt, t->tstate, d->frames, MAX_FRAMES);
	py_tstate_name(d->rt, t->tstate, t->thread_id, 0, name, sizeof(name));
	put(d->o, "{\"thread\": {\"thread_id\": %lu, \"tid\": %d, "
	    "\"tstate\": %lu, \"attached\": %d, \"holds_gil\": %d, "
	    "\"n\": %d, \"name\": ", t->thread_id, (int)t->tid,
	    (unsigned long)t->tstate, t->attached, t->holds_gil, n);
	put_str(d->o, name);
	put(d->o, ", \"frames\": ");
	put_frames(d->o, d->frames, n < 0 ? 0 : n);
	put(d->o, "}}\n");
	flush(d->o);
	return 0;
}

/* By thread id too, so py_thread_frames itself is tested. */
static int
dump_by_id(const struct py_thread *t, void *arg)
{
	struct dump *d = arg;
	int n;

	n = py_thread_frames(d->rt, t->thread_id, 0, d->frames, MAX_FRAMES);
	put(d->o, "{\"by_id\": {\"thread_id\": %lu, \"n\": %d, \"frames\": ",
	    t->thread_id, n);
	put_frames(d->o, d->frames, n < 0 ? 0 : n);
	put(d->o, "}}\n");
	/* Room for SHORT_FRAMES only: the cut must be flagged. */
	n = py_thread_frames(d->rt, t->thread_id, 0, d->frames, SHORT_FRAMES);
	put(d->o, "{\"short\": {\"thread_id\": %lu, \"n\": %d, "
	    "\"frames\": ", t->thread_id, n);
	put_frames(d->o, d->frames, n < 0 ? 0 : n);
	put(d->o, "}}\n");
	if (t->tid != 0) {
		n = py_thread_frames(d->rt, 0, t->tid, d->frames, MAX_FRAMES);
		put(d->o, "{\"by_tid\": {\"tid\": %d, \"n\": %d, "
		    "\"frames\": ", (int)t->tid, n);
		put_frames(d->o, d->frames, n < 0 ? 0 : n);
		put(d->o, "}}\n");
	}
	flush(d->o);
	return 0;
}

static int
dump(int fd)
{
	static struct py_runtime rt;
	static struct dump d;
	static struct out o;
	struct py_gil_state g;
	int rv, n;

	o.fd = fd;
	o.len = 0;
	rv = py_detect(&rt);
	put_runtime(&o, "runtime", &rt, rv);
	put_runtime(&o, "early", &early, early_rv);
	if (py_gil_read(&rt, &g) == 0)
		put(&o, "{\"gil\": {\"locked\": %d, \"interval\": %lu, "
		    "\"switch_number\": %lu, \"last_holder\": %lu, "
		    "\"holder_thread_id\": %lu, \"holder_tid\": %d}}\n",
		    g.locked, g.interval, g.switch_number,
		    (unsigned long)g.last_holder, g.holder_thread_id,
		    (int)g.holder_tid);
	flush(&o);
	d.rt = &rt;
	d.o = &o;
	n = rv == 0 ? py_thread_list(&rt, dump_thread, &d) : -1;
	if (rv == 0)
		py_thread_list(&rt, dump_by_id, &d);
	put(&o, "{\"end\": {\"threads\": %d}}\n", n);
	flush(&o);
	return rv;
}

EXPORT int
pyprobe_dump(int fd)
{
	return dump(fd);
}

EXPORT int
pyprobe_dump_maps(int fd)
{
	int rv;

	mem_use_maps(1);
	rv = dump(fd);
	mem_use_maps(0);
	return rv;
}

/* process_vm_readv fails with EPERM in this thread from now on. */
static int
deny_vm_readv(void)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
		    offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
		    offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_process_vm_readv, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { sizeof(f) / sizeof(f[0]), f };

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1 ||
	    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) == -1)
		return -1;
	return 0;
}

EXPORT int
pyprobe_dump_denied(int fd)
{
	char c = 0, d;
	struct iovec l = { &d, 1 }, r = { &c, 1 };
	long rv;

	mem_use_maps(0);
	if (deny_vm_readv() == -1) {
		dprintf(fd, "{\"denied\": {\"installed\": 0, \"errno\": %d}}\n",
		    errno);
		return -1;
	}
	rv = syscall(SYS_process_vm_readv, getpid(), &l, 1UL, &r, 1UL, 0UL);
	dprintf(fd, "{\"denied\": {\"installed\": 1, \"readv\": %ld, "
	    "\"errno\": %d}}\n", rv, rv == -1 ? errno : 0);
	return dump(fd);
}

/* One pass of bad reads; 0 or the number of the failed check. */
static int
bad_reads(const struct py_runtime *rt)
{
	static const char text[] = "readable";
	char buf[64], *page;
	uintptr_t p;
	int v;

	if (py_read(0, buf, 1) != -1)
		return 1;
	if (py_read(16, buf, 8) != -1)
		return 2;
	if (py_read(UINTPTR_MAX - 4, buf, 8) != -1)
		return 3;
	if (py_read((uintptr_t)0xffff800000000000ULL, buf, 8) != -1)
		return 4;
	page = mmap(NULL, 8192, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (page == MAP_FAILED)
		return 5;
	memset(page, 'x', 8192);
	munmap(page + 4096, 4096);
	if (py_read((uintptr_t)page, buf, 8) != 0 || buf[0] != 'x')
		return 6;
	if (py_read((uintptr_t)page + 4096, buf, 8) != -1)
		return 7;
	/* Straddling into the hole must fail as a whole. */
	if (py_read((uintptr_t)page + 4090, buf, 12) != -1)
		return 8;
	mprotect(page, 4096, PROT_NONE);
	mem_maps_reset();		/* the maps cache cannot see mprotect */
	if (py_read((uintptr_t)page, buf, 8) != -1)
		return 9;
	munmap(page, 4096);
	if (py_read((uintptr_t)text, buf, sizeof(text)) != 0 ||
	    strcmp(buf, text) != 0)
		return 10;
	if (py_read_int((uintptr_t)&v + 1, &v) != 0)
		return 11;
	/* Not a str: a pointer to text, to garbage, to nothing. */
	if (py_read_str(rt, (uintptr_t)text, buf, sizeof(buf)) != -1 ||
	    strcmp(buf, "???") != 0)
		return 12;
	if (py_read_str(rt, (uintptr_t)page, buf, sizeof(buf)) != -1)
		return 13;
	if (py_tstate_frames(rt, (uintptr_t)page, (struct py_frame *)buf,
	    0) != -1)
		return 14;
	p = (uintptr_t)text;
	if (py_read_ptr(p, &p) != 0)
		return 15;
	return 0;
}

EXPORT int
pyprobe_bad_reads(void)
{
	static struct py_runtime rt;
	int rv;

	if (py_detect(&rt) == -1)
		return 100;
	if ((rv = bad_reads(&rt)) != 0)
		return rv;
	mem_use_maps(1);
	rv = bad_reads(&rt);
	mem_use_maps(0);
	return rv == 0 ? 0 : 50 + rv;
}

static struct py_runtime names_rt;
static int names_rv = -1;

EXPORT int
pyprobe_thread_name(unsigned long thread_id, char *buf, size_t size)
{
	if (names_rt.off == NULL)
		names_rv = py_detect(&names_rt);
	if (names_rv == -1)
		return -1;
	return py_thread_name(&names_rt, thread_id, buf, size);
}

EXPORT int
pyprobe_name_calls(unsigned long thread_id, long calls[2])
{
	struct mem_count before, after;
	char buf[64];
	int i;

	/* A first read finds the keys' hashes, by scans. */
	if (pyprobe_thread_name(thread_id, buf, sizeof buf) == -1)
		return -1;
	py_names_forget();
	for (i = 0; i < 2; i++) {
		mem_count(&before);
		if (py_thread_name(&names_rt, thread_id, buf, sizeof buf) == -1)
			return -1;
		mem_count(&after);
		calls[i] = (long)(after.calls - before.calls);
	}
	return 0;
}

static void
put_ints(struct out *o, const struct py_offsets *p)
{
	const int *v = (const int *)(const void *)p;

	put(o, "[");
	for (size_t i = 0; i < sizeof(*p) / sizeof(int); i++)
		put(o, "%s%d", i ? ", " : "", v[i]);
	put(o, "]");
}

EXPORT int
pyprobe_debug_offsets(int fd)
{
	static struct py_runtime rt;
	static struct out o;
	const struct py_offsets *t;
	struct py_offsets d;
	char why[96] = "";
	int r;

	o.fd = fd;
	o.len = 0;
	py_detect(&rt);
	memset(&d, 0xfe, sizeof(d));	/* every int -16843010: not given */
	r = py_debug_offsets(&rt, &d, why, sizeof(why));
	t = py_offsets_for(rt.major, rt.minor, rt.micro, rt.free_threaded);
	put(&o, "{\"rv\": %d, \"why\": ", r);
	put_str(&o, why);
	put(&o, ", \"table\": ");
	if (t != NULL)
		put_ints(&o, t);
	else
		put(&o, "null");
	put(&o, ", \"debug\": ");
	put_ints(&o, &d);
	put(&o, "}\n");
	flush(&o);
	return r;
}

EXPORT void
pyprobe_forget(int minor)
{
	py_detect_forget(minor);
}
