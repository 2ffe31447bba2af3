/*
 * The memory source (mem.h): this process, another one, or a core file.
 *
 * process_vm_readv() copies through the kernel and answers EFAULT for
 * unmapped memory instead of raising SIGSEGV, for our own pid as for
 * another's.  For our own, where that call is refused (seccomp filters,
 * kernels without it), we fall back to a check against a cached
 * /proc/self/maps before a plain copy; the cache is refreshed when an
 * address is not found in it, since new mappings are the common reason
 * for a miss.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "mem.h"
#include "procstat.h"
#include "ulock.h"

#define MAPS_MAX	4096	/* readable mappings remembered */
#define PAGE		4096UL	/* mem_cache_begin: readability is per page */
#define PAGES_KEPT	512	/* copies at most: 2 MB */
#define PAGES_KEPT_MIN	64
#define WAYS		4	/* copies a page may be in: see struct kept */

enum { MEM_VM, MEM_MAPS };

static pid_t	self_pid(void);

static atomic_int mode = MEM_VM;
static int self_elsewhere;	/* mem_self_is: never read a copy of ours */
static atomic_int target;		/* another process read, or 0 */
static const struct mem_reader *_Atomic reader;	/* a core, or NULL */
static atomic_int last_error;		/* its last refusal */
static atomic_ulong nreads, ncalls, npages;	/* mem_count */

/*
 * mem_cache_begin's copies, in sets of WAYS slots chosen by a hash of
 * the page address; within a set, the copy used longest ago makes
 * room.  A thread's pages are read close together, so a small table
 * serves it, and memory used again costs less than fresh memory would.
 * One slot a page (direct-mapped) made the count of system calls a
 * matter of where the pages fell: a dump of 100 threads took from 400
 * to 600 of them as two pages of a thread happened to share a slot.
 * The slots apart from the copies, which are mapped in one go with
 * their pages present: a page touched for the first time is a fault,
 * costly in a VM (slots and copies together, each lookup touching a
 * page of its own, cost a dump of ten threads 7 ms more than this).
 */
/*
 * The copies are the calling thread's own: in the shim, where a dump
 * reads its own process, the program's threads read too (the hooks),
 * and must neither see them nor race with the dump over them.
 * kept_busy is set while a read uses them, so that a signal handler
 * that reads from inside one (sigdump.h) goes around them.
 */
static __thread struct kept {
	uintptr_t	 page;		/* 0: empty */
	int		 ok;		/* 0: unreadable when read */
	unsigned long	 used;		/* tick of its last use */
	unsigned char	*data;		/* PAGE bytes of kept_data */
} *kept;
static __thread unsigned long kept_tick;
static __thread unsigned char *kept_data;
static __thread size_t nkept;
static __thread pid_t kept_self;	/* this process, read through them */
static __thread int kept_busy;

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

/*
 * The thread a process is read through: the process's own pid until
 * process_vm_readv says ESRCH of it while the process runs on in other
 * threads (its main thread ended: the kernel finds the memory through
 * the task named); then one of those (procstat_live_task), until it
 * ends in turn.  One word, pid above tid, so that both change at once.
 */
static _Atomic uint64_t via;

static ssize_t
vm_readv(pid_t pid, const struct iovec *local, unsigned long nlocal,
    const struct iovec *remote, unsigned long nremote)
{
	uint64_t v = atomic_load_explicit(&via, memory_order_relaxed);
	pid_t task = (pid_t)(v >> 32) == pid ? (pid_t)(uint32_t)v : pid;
	pid_t live;
	ssize_t n;

	atomic_fetch_add_explicit(&ncalls, 1, memory_order_relaxed);
	n = syscall(SYS_process_vm_readv, task, local, nlocal, remote,
	    nremote, 0UL);
	if (n != -1 || errno != ESRCH)
		return n;
	if ((live = procstat_live_task(pid)) == task) {
		errno = ESRCH;		/* the process is gone */
		return n;
	}
	atomic_store(&via, live == pid ? 0 :
	    (uint64_t)(uint32_t)pid << 32 | (uint32_t)live);
	atomic_fetch_add_explicit(&ncalls, 1, memory_order_relaxed);
	return syscall(SYS_process_vm_readv, live, local, nlocal, remote,
	    nremote, 0UL);
}

static int
read_vm(pid_t pid, uintptr_t addr, void *buf, size_t len)
{
	struct iovec local = { buf, len };
	struct iovec remote = { (void *)addr, len };
	ssize_t n;

	n = vm_readv(pid, &local, 1UL, &remote, 1UL);
	if (n == (ssize_t)len)
		return 0;
	if (n == -1 && pid != self_pid() && errno != EFAULT)
		atomic_store(&last_error, errno);
	else if (n == -1 && !self_elsewhere &&
	    (errno == ENOSYS || errno == EPERM)) {
		atomic_store(&mode, MEM_MAPS);
		return read_maps(addr, buf, len);
	}
	return -1;		/* EFAULT, or a partial copy */
}

/*
 * Remembered: a system call for every read doubled the cost of reading
 * this process (a Python thread's name is some 25 reads, each was a
 * getpid and a process_vm_readv).  A fork child forgets it
 * (mem_after_fork_child); a vfork child shares the parent's memory, so
 * the parent's pid reads the same.
 */
static atomic_int pid_kept;

static pid_t
self_pid(void)
{
	pid_t pid = atomic_load_explicit(&pid_kept, memory_order_relaxed);

	if (pid == 0) {
		pid = (pid_t)syscall(SYS_getpid);
		atomic_store_explicit(&pid_kept, pid, memory_order_relaxed);
	}
	return pid;
}

void
mem_source_self(void)
{
	atomic_store(&reader, NULL);
	atomic_store(&target, 0);
	atomic_store(&last_error, 0);
}

void
mem_source_pid(pid_t pid)
{
	atomic_store(&reader, NULL);
	atomic_store(&target, pid == self_pid() ? 0 : pid);
	atomic_store(&last_error, 0);
}

void
mem_source_reader(const struct mem_reader *r)
{
	atomic_store(&target, 0);
	atomic_store(&last_error, 0);
	atomic_store(&reader, r);
}

pid_t
mem_source_target(void)
{
	const struct mem_reader *r = atomic_load(&reader);
	pid_t pid = atomic_load(&target);

	if (r != NULL)
		return r->pid;
	return pid != 0 ? pid : self_pid();
}

int
mem_source_outside(void)
{
	return atomic_load(&target) != 0 || atomic_load(&reader) != NULL;
}

int
mem_error(void)
{
	return atomic_load(&last_error);
}

void
mem_count(struct mem_count *c)
{
	c->reads = atomic_load_explicit(&nreads, memory_order_relaxed);
	c->calls = atomic_load_explicit(&ncalls, memory_order_relaxed);
	c->pages = atomic_load_explicit(&npages, memory_order_relaxed);
}

int
mem_cache_begin(size_t pages)
{
	size_t i;

	mem_cache_end();
	/* A table for ten threads costs a tenth of their dump if too big. */
	nkept = pages < PAGES_KEPT_MIN ? PAGES_KEPT_MIN : pages > PAGES_KEPT ?
	    PAGES_KEPT : (pages + WAYS - 1) / WAYS * WAYS;
	kept_data = mmap(NULL, nkept * PAGE, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (kept_data == MAP_FAILED) {
		kept_data = NULL;
		return -1;
	}
	if ((kept = calloc(nkept, sizeof *kept)) == NULL) {
		mem_cache_end();
		return -1;
	}
	for (i = 0; i < nkept; i++)
		kept[i].data = kept_data + i * PAGE;
	kept_tick = 0;
	kept_self = self_pid();
	return 0;
}

void
mem_cache_end(void)
{
	free(kept);
	kept = NULL;
	if (kept_data != NULL)
		munmap(kept_data, nkept * PAGE);
	kept_data = NULL;
}

/*
 * The process the copies are of: another one, or this one where
 * process_vm_readv works (a copy checked against the maps would not
 * be safe to take page by page); 0: read without them.
 */
static pid_t
kept_pid(void)
{
	pid_t pid = atomic_load_explicit(&target, memory_order_relaxed);

	if (kept == NULL || kept_busy)
		return 0;
	if (pid != 0)
		return pid;
	return atomic_load_explicit(&mode, memory_order_relaxed) == MEM_VM ?
	    kept_self : 0;
}

/*
 * The first slot of page p's set: hashed, since the pages read
 * together are often a power of two apart (glibc's per-thread arenas
 * are 64 MB apart, and the word a thread waits on at the same offset
 * in each).
 */
static struct kept *
set_of(uintptr_t p)
{
	size_t sets = nkept / WAYS;

	return &kept[(size_t)(((uint64_t)(p / PAGE) *
	    0x9e3779b97f4a7c15ULL) >> 32) % sets * WAYS];
}

/* The slot holding page p (its use noted), or NULL. */
static struct kept *
find_kept(uintptr_t p)
{
	struct kept *k = set_of(p);
	size_t i;

	for (i = 0; i < WAYS; i++)
		if (k[i].page == p) {
			k[i].used = ++kept_tick;
			return &k[i];
		}
	return NULL;
}

/*
 * The slot page p is to be copied into, its use noted: the least
 * recently used of its set but for taken[0..ntaken-1] (the slots one
 * prefetch fills at once); NULL when all of them are taken.
 */
static struct kept *
make_room(uintptr_t p, struct kept *const *taken, size_t ntaken)
{
	struct kept *k = set_of(p), *best = NULL;
	size_t i, j;

	for (i = 0; i < WAYS; i++) {
		for (j = 0; j < ntaken && taken[j] != &k[i]; j++)
			;
		if (j == ntaken && (best == NULL || k[i].used < best->used))
			best = &k[i];
	}
	if (best != NULL) {
		best->page = p;
		best->ok = 0;
		best->used = ++kept_tick;
	}
	return best;
}

/* The copy of page p of pid, read now unless it is kept: NULL when the
 * page is unreadable. */
static const unsigned char *
page_of(pid_t pid, uintptr_t p)
{
	struct kept *k;

	if ((k = find_kept(p)) == NULL) {
		k = make_room(p, NULL, 0);
		k->ok = read_vm(pid, p, k->data, PAGE) == 0;
		if (k->ok)
			atomic_fetch_add_explicit(&npages, 1,
			    memory_order_relaxed);
	}
	return k->ok ? k->data : NULL;
}

void
mem_cache_prefetch(const uintptr_t *addr, size_t n)
{
	struct iovec local[MEM_PREFETCH_MAX], remote[MEM_PREFETCH_MAX];
	struct kept *k[MEM_PREFETCH_MAX];
	pid_t pid = kept_pid();
	uintptr_t p;
	size_t i, j, m = 0, done;
	ssize_t got;

	if (pid == 0 || atomic_load(&reader) != NULL)
		return;
	kept_busy = 1;
	for (i = 0; i < n && m < MEM_PREFETCH_MAX; i++) {
		p = addr[i] & ~(PAGE - 1);
		if (p < PAGE || find_kept(p) != NULL)
			continue;
		/* A set filled in this call: the page is read when read. */
		if ((k[m] = make_room(p, k, m)) == NULL)
			continue;
		local[m].iov_base = k[m]->data;
		remote[m].iov_base = (void *)p;
		local[m].iov_len = remote[m].iov_len = PAGE;
		m++;
	}
	/* The kernel stops at a page it cannot read: go on after it. */
	for (i = 0; i < m; i += done + 1) {
		atomic_fetch_add_explicit(&ncalls, 1, memory_order_relaxed);
		got = syscall(SYS_process_vm_readv, pid, local + i, m - i,
		    remote + i, m - i, 0UL);
		if (got == -1 && errno != EFAULT) {
			atomic_store(&last_error, errno);
			break;
		}
		done = got > 0 ? (size_t)got / PAGE : 0;
		for (j = i; j < i + done; j++)
			k[j]->ok = 1;
		atomic_fetch_add_explicit(&npages, done, memory_order_relaxed);
	}
	/* What was not read is read again when it is read. */
	for (; i < m; i++)
		k[i]->page = 0;
	kept_busy = 0;
}

/* mem_read through the page copies. */
static int
read_kept(pid_t pid, uintptr_t addr, void *buf, size_t len)
{
	const unsigned char *data;
	unsigned char *out = buf;
	uintptr_t p, at = addr, end = addr + len;
	size_t n;

	for (p = addr & ~(PAGE - 1); p < end; p += PAGE) {
		if ((data = page_of(pid, p)) == NULL)
			return -1;
		n = (end < p + PAGE ? end : p + PAGE) - at;
		memcpy(out, data + (at - p), n);
		out += n;
		at += n;
	}
	return 0;
}

int
mem_read(uintptr_t addr, void *buf, size_t len)
{
	const struct mem_reader *r = atomic_load_explicit(&reader,
	    memory_order_acquire);
	pid_t pid = atomic_load_explicit(&target, memory_order_relaxed), kp;
	int rv, saved = errno;

	if (len == 0)
		return 0;
	/* The first page is never mapped; a wrapped range never valid. */
	if (addr < 4096 || addr + len < addr)
		return -1;
	atomic_fetch_add_explicit(&nreads, 1, memory_order_relaxed);
	if (r != NULL) {
		atomic_fetch_add_explicit(&ncalls, 1, memory_order_relaxed);
		rv = r->read(r->ctx, addr, buf, len);
	}
	else if ((kp = kept_pid()) != 0) {
		kept_busy = 1;
		rv = read_kept(kp, addr, buf, len);
		kept_busy = 0;
	}
	else if (pid != 0)
		rv = read_vm(pid, addr, buf, len);
	else if (atomic_load_explicit(&mode, memory_order_relaxed) == MEM_VM)
		rv = read_vm(self_pid(), addr, buf, len);
	else
		rv = read_maps(addr, buf, len);
	errno = saved;
	return rv;
}

/*
 * The spans s[0..n-1] of pid in one call, n at most MEM_SPANS_MAX.  The
 * kernel copies the remote vectors in order and stops at the first it
 * cannot copy whole, so the count it returns says which spans were read;
 * the span it stopped at is given up, and the call goes on after it.
 * -1 when the kernel refused the calls themselves (errno).
 */
static int
spans_vm(pid_t pid, struct mem_span *s, size_t n)
{
	struct iovec local[MEM_SPANS_MAX], remote[MEM_SPANS_MAX];
	size_t i, from;
	ssize_t got;

	for (i = 0; i < n; i++) {
		local[i].iov_base = s[i].buf;
		remote[i].iov_base = (void *)s[i].addr;
		local[i].iov_len = remote[i].iov_len = s[i].len;
		s[i].ok = 0;
	}
	for (from = 0; from < n; from = i + 1) {
		got = vm_readv(pid, local + from, n - from, remote + from,
		    n - from);
		if (got == -1 && errno != EFAULT)
			return -1;
		for (i = from; i < n && got >= (ssize_t)s[i].len; i++) {
			got -= (ssize_t)s[i].len;
			s[i].ok = 1;
		}
	}
	return 0;
}

/* Can the spans go to the kernel together: no reader, no page copies,
 * read through process_vm_readv, every start one mem_read would try? */
static int
spans_together(const struct mem_span *s, size_t n)
{
	size_t i;

	if (n > MEM_SPANS_MAX || atomic_load_explicit(&reader,
	    memory_order_acquire) != NULL || kept_pid() != 0 ||
	    (atomic_load_explicit(&target, memory_order_relaxed) == 0 &&
	    atomic_load_explicit(&mode, memory_order_relaxed) != MEM_VM))
		return 0;
	for (i = 0; i < n; i++)
		if (s[i].addr < 4096 || s[i].addr + s[i].len < s[i].addr)
			return 0;
	return 1;
}

size_t
mem_read_spans(struct mem_span *s, size_t n)
{
	pid_t pid = atomic_load_explicit(&target, memory_order_relaxed);
	size_t i, done = 0;
	int saved = errno;

	if (spans_together(s, n)) {
		atomic_fetch_add_explicit(&nreads, n, memory_order_relaxed);
		if (spans_vm(pid != 0 ? pid : self_pid(), s, n) == 0) {
			for (i = 0; i < n; i++)
				done += (size_t)s[i].ok;
			errno = saved;
			return done;
		}
		/* Refused: another process says why, this one reads on
		 * without the kernel (read_vm's fallback). */
		if (pid != 0) {
			atomic_store(&last_error, errno);
			errno = saved;
			return 0;
		}
		errno = saved;
	}
	for (i = 0; i < n; i++)
		done += (size_t)(s[i].ok = mem_read(s[i].addr, s[i].buf,
		    s[i].len) == 0);
	return done;
}

int
mem_self_lockfree(void)
{
	return atomic_load(&reader) == NULL && atomic_load(&target) == 0 &&
	    atomic_load(&mode) == MEM_VM;
}

void
mem_use_maps(int on)
{
	atomic_store(&mode, on ? MEM_MAPS : MEM_VM);
}

void
mem_maps_reset(void)
{
	ulock_lock(&maps.lock);
	maps.n = -1;
	ulock_unlock(&maps.lock);
}

void
mem_self_is(pid_t pid)
{
	atomic_store(&pid_kept, pid);
	self_elsewhere = 1;
	atomic_store(&mode, MEM_VM);
}

void
mem_after_fork_child(void)
{
	atomic_store(&pid_kept, 0);
	ulock_init(&maps.lock);
	maps.n = -1;
}
