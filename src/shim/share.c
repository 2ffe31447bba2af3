/* The shim's memory, shared with its monitor: see share.h. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "msg.h"
#include "procstat.h"
#include "share.h"

#define PAGE		4096u
#define ARENA_MAX	((size_t)64 << 30)	/* reserved, not committed */
#define ARENA_MIN	((size_t)1 << 30)	/* under a tight RLIMIT_AS */

/*
 * The layout, set before the monitor is forked and the same in both;
 * a fork child changes its own.  The memfd holds the shared variables'
 * pages at offset 0, the arena after.
 */
static int	 fd = -1;
static ino_t	 fd_ino;
static uintptr_t data_start;
static size_t	 data_len;
static char	*arena;
static size_t	 arena_len;
static GW_SHARED _Atomic size_t arena_used;	/* both allocate */
static int	 fork_copy = -1;	/* share_fork_prepare's memfd */
static int	 on;

static uintptr_t page_down(uintptr_t a) { return a & ~(uintptr_t)(PAGE - 1); }
static uintptr_t page_up(uintptr_t a) { return page_down(a + PAGE - 1); }

/*
 * The linker's (shared.ld): the GW_SHARED variables, whole pages.  Weak:
 * a unit test linked without the script has none, and shares nothing.
 */
extern char __gw_shared_start[] __attribute__((weak, visibility("hidden")));
extern char __gw_shared_bss[] __attribute__((weak, visibility("hidden")));
extern char __gw_shared_end[] __attribute__((weak, visibility("hidden")));

/* The shared address of a memfd offset. */
static char *
addr_of(off_t off)
{
	if ((size_t)off < data_len)
		return (char *)data_start + off;
	return arena + (off - (off_t)data_len);
}

static int
write_all(int to, const char *p, size_t len, off_t off)
{
	ssize_t n;

	while (len > 0) {
		if ((n = pwrite(to, p, len, off)) <= 0) {
			if (n == -1 && errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
		off += n;
	}
	return 0;
}

/*
 * Copy the shared variables' pages onto the memfd: those the file gives
 * a value whole, the zeroed ones where a page is resident (the others
 * are zero, as the memfd is).
 */
static int
copy_shared(int to, uintptr_t start, uintptr_t bss, uintptr_t end)
{
	unsigned char vec[256];
	uintptr_t a, b, p;
	size_t i, n;

	for (a = start; a < end; a = b) {
		b = end - a > sizeof vec * PAGE ? a + sizeof vec * PAGE : end;
		n = (b - a) / PAGE;
		if (mincore((void *)a, b - a, vec) == -1)
			memset(vec, 1, n);
		for (i = 0; i < n; i++) {
			p = a + i * PAGE;
			if ((p < bss || (vec[i] & 1)) && write_all(to,
			    (const char *)p, PAGE, (off_t)(p - start)) == -1)
				return -1;
		}
	}
	return 0;
}

static int
map_at(void *where, size_t len, int from, off_t off)
{
	void *p = mmap(where, len, PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_FIXED | MAP_NORESERVE, from, off);

	return p == MAP_FAILED ? -1 : 0;
}

int
share_init(void)
{
	uintptr_t start = (uintptr_t)__gw_shared_start;
	uintptr_t end = (uintptr_t)__gw_shared_end;
	struct stat st;
	sigset_t all, old;
	size_t alen;
	void *a = MAP_FAILED;
	int m, rc = -1;

	if (procstat_threads(getpid()) > 1) {
		msg_note("the program had a thread before gilwatch started: "
		    "its helper is a thread too");
		return -1;
	}
	if (end <= start || start % PAGE != 0 || end % PAGE != 0)
		return -1;
	if ((m = memfd_create("gilwatch", MFD_CLOEXEC)) == -1)
		return -1;
	for (alen = ARENA_MAX; alen >= ARENA_MIN; alen /= 2) {
		if (ftruncate(m, (off_t)(end - start + alen)) == -1)
			continue;
		a = mmap(NULL, alen, PROT_READ | PROT_WRITE,
		    MAP_SHARED | MAP_NORESERVE, m, (off_t)(end - start));
		if (a != MAP_FAILED)
			break;
	}
	if (a == MAP_FAILED || fstat(m, &st) == -1)
		goto out;
	/* A core file of the program has no use for 64 GB of holes. */
	madvise(a, alen, MADV_DONTDUMP);

	/* What the copy carries must be in place before it. */
	fd = m;
	fd_ino = st.st_ino;
	data_start = start;
	data_len = end - start;
	arena = a;
	arena_len = alen;
	atomic_store(&arena_used, 0);
	on = 1;

	/* Nothing of ours may change between the copy and the remap. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	if (copy_shared(m, start, (uintptr_t)__gw_shared_bss, end) == 0 &&
	    map_at((void *)start, end - start, m, 0) == 0)
		rc = 0;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
out:
	if (rc == -1) {
		on = 0;
		fd = -1;
		arena = NULL;
		if (a != MAP_FAILED)
			munmap(a, alen);
		close(m);
		msg_note("cannot share gilwatch's tables with a monitor "
		    "process (%s): its helper is a thread", strerror(errno));
	}
	return rc;
}

int
share_on(void)
{
	return on;
}

void *
share_alloc(size_t len)
{
	size_t at;

	if (!on)
		return NULL;
	len = page_up(len);
	at = atomic_fetch_add(&arena_used, len);
	if (at + len > arena_len || at + len < at)
		return NULL;	/* the space stays taken: nothing reuses it */
	return arena + at;
}

/* Whether fd is still the memfd: a program may close what it did not
 * open, and reuse the number. */
static int
fd_is_ours(void)
{
	struct stat st;

	return fd != -1 && fstat(fd, &st) == 0 && st.st_ino == fd_ino;
}

/*
 * Make [p, p + len) a private copy of what it shows, the way fork made
 * it before sharing; only the first used bytes can hold anything, and
 * of those only the pages the memfd has.
 */
static int
privatise(char *p, size_t len, size_t used)
{
	unsigned char vec[256];
	size_t at, i, n;
	char *copy;

	copy = mmap(NULL, len, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (copy == MAP_FAILED)
		return -1;
	for (at = 0; at < used && at < len; at += n * PAGE) {
		n = (len - at) / PAGE < sizeof vec ? (len - at) / PAGE :
		    sizeof vec;
		/* Not mapped: nothing to copy. */
		if (mincore(p + at, n * PAGE, vec) == -1)
			memset(vec, 0, n);
		for (i = 0; i < n; i++)
			if (vec[i] & 1)
				memcpy(copy + at + i * PAGE, p + at + i * PAGE,
				    PAGE);
	}
	return mremap(copy, len, len, MREMAP_MAYMOVE | MREMAP_FIXED, p) ==
	    MAP_FAILED ? -1 : 0;
}

/*
 * The tables as they are now, onto a new memfd: what a fork child will
 * map.  Taken by the forking thread before the fork, when nothing of it
 * changes and no other prepare handler runs after (ours runs last), so
 * the child's copy is of the moment it was made as far as that thread
 * goes (the GIL it holds, its held locks); other threads run on, and a
 * record of theirs may be copied half-written, which the child frees.
 * -1: no copy (the child makes its memory private another way).
 */
static int
copy_tables(void)
{
	off_t total = (off_t)(data_len + arena_len), off, hole, cut;
	int m;

	if (!fd_is_ours() || (m = memfd_create("gilwatch", MFD_CLOEXEC)) ==
	    -1)
		return -1;
	if (ftruncate(m, total) == -1)
		goto fail;
	for (off = 0; off < total && (off = lseek(fd, off, SEEK_DATA)) != -1;
	    off = hole) {
		if ((hole = lseek(fd, off, SEEK_HOLE)) == -1)
			goto fail;
		while (off < hole) {
			cut = off < (off_t)data_len && hole > (off_t)data_len ?
			    (off_t)data_len : hole;
			if (write_all(m, addr_of(off), (size_t)(cut - off),
			    off) == -1)
				goto fail;
			off = cut;
		}
	}
	return m;
fail:
	close(m);
	return -1;
}

void
share_fork_prepare(void)
{
	int saved = errno;

	fork_copy = on ? copy_tables() : -1;
	errno = saved;
}

void
share_fork_parent(void)
{
	if (fork_copy != -1)
		close(fork_copy);
	fork_copy = -1;
}

int
share_after_fork_child(void)
{
	struct stat st;
	int m = fork_copy;

	if (!on)
		return 0;
	fork_copy = -1;
	if (m == -1 || fstat(m, &st) == -1)
		goto fail;
	if (map_at(arena, arena_len, m, (off_t)data_len) == -1 ||
	    map_at((void *)data_start, data_len, m, 0) == -1)
		goto fail_m;
	madvise(arena, arena_len, MADV_DONTDUMP);
	/* From here on the data is the child's own. */
	close(fd);
	fd = m;
	fd_ino = st.st_ino;
	return 0;
fail_m:
	close(m);
fail:
	/* The parent's tables must not take the child's writes. */
	if (privatise((char *)data_start, data_len, data_len) == -1 ||
	    privatise(arena, arena_len, atomic_load(&arena_used)) == -1)
		_exit(127);	/* half its memory is the parent's */
	madvise(arena, arena_len, MADV_DONTDUMP);
	on = 0;
	return -1;
}
