/*
 * mem.c's page copies (mem_cache_begin, mem_cache_prefetch) over a
 * child process: reads give the same bytes and fail exactly where they
 * fail without the copies (a page unmapped, a read running into it),
 * prefetched or not, and a page read once is not read again, nor are
 * any four pages read together, wherever they fall.  And mem_read_spans:
 * many small reads in one system call, answering for each span what
 * mem_read would, in another process and in this one, with the copies
 * or without; a span that cannot be read costs one more call, no more.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mem.h"

#define PG	4096

#define WIDE	1024	/* pages of wide, read four at a time */

static unsigned char *area;	/* 3 pages: readable, unmapped, readable */
static unsigned char *wide;
static pid_t child;

/* area: its bytes a pattern of mul, its middle page unmapped. */
static void
make_area(int mul)
{
	area = mmap(NULL, 3 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE |
	    MAP_ANONYMOUS, -1, 0);
	cr_assert(area != MAP_FAILED);
	for (int i = 0; i < 3 * PG; i++)
		area[i] = (unsigned char)(i * mul + i / PG);
	cr_assert_eq(munmap(area + PG, PG), 0);
}

static void
start(void)
{
	int hold[2];
	char c;

	make_area(7);
	wide = mmap(NULL, WIDE * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE |
	    MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	cr_assert(wide != MAP_FAILED);
	cr_assert_eq(pipe(hold), 0);
	if ((child = fork()) == 0) {
		close(hold[1]);
		(void)read(hold[0], &c, 1);	/* until the parent ends */
		_exit(0);
	}
	cr_assert(child > 0);
	close(hold[0]);
	mem_source_pid(child);
}

static void
stop(void)
{
	mem_cache_end();
	mem_source_self();
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	munmap(wide, WIDE * PG);
	munmap(area, 3 * PG);
}

/* Every read of the child at [off, off + len), with the copies. */
static void
same_as_memory(size_t off, size_t len)
{
	unsigned char buf[2 * PG];

	cr_assert_eq(mem_read((uintptr_t)area + off, buf, len), 0,
	    "read at %zu+%zu failed", off, len);
	cr_assert(memcmp(buf, area + off, len) == 0, "bytes at %zu+%zu",
	    off, len);
}

Test(memcache, same_bytes_and_failures, .init = start, .fini = stop)
{
	unsigned char buf[64];
	struct mem_count a, b;

	cr_assert_eq(mem_cache_begin(64), 0);
	same_as_memory(0, 64);
	same_as_memory(PG - 8, 8);
	same_as_memory(2 * PG + 100, 200);
	/* Into the hole, out of it, inside it: as the kernel says. */
	cr_assert_eq(mem_read((uintptr_t)area + PG - 4, buf, 8), -1);
	cr_assert_eq(mem_read((uintptr_t)area + 2 * PG - 4, buf, 8), -1);
	cr_assert_eq(mem_read((uintptr_t)area + PG + 10, buf, 8), -1);
	/* A page read once is copied: no system call for it again. */
	mem_count(&a);
	same_as_memory(16, 32);
	same_as_memory(2 * PG + 1000, 8);
	mem_count(&b);
	cr_assert_eq(b.calls, a.calls);
	cr_assert_eq(b.reads, a.reads + 2);
}

Test(memcache, prefetch_with_a_hole, .init = start, .fini = stop)
{
	uintptr_t want[3];
	unsigned char buf[8];
	struct mem_count a, b;

	cr_assert_eq(mem_cache_begin(64), 0);
	/* The hole in the middle: the kernel stops there, we go on. */
	want[0] = (uintptr_t)area + 40;
	want[1] = (uintptr_t)area + PG + 40;
	want[2] = (uintptr_t)area + 2 * PG + 40;
	mem_count(&a);
	mem_cache_prefetch(want, 3);
	cr_assert_eq(mem_read(want[1], buf, 8), -1);
	same_as_memory(40, 8);
	same_as_memory(2 * PG + 40, 8);
	mem_count(&b);
	cr_assert_leq(b.calls - a.calls, 2, "%lu calls",
	    b.calls - a.calls);
}

Test(memcache, without_it_reads_go_on, .init = start, .fini = stop)
{
	uintptr_t want = (uintptr_t)area;
	struct mem_count a, b;

	mem_cache_prefetch(&want, 1);	/* nothing to do */
	mem_count(&a);
	same_as_memory(0, 8);
	same_as_memory(8, 8);
	mem_count(&b);
	cr_assert_eq(b.calls - a.calls, 2);
}

/*
 * Four pages in use at once (a thread state, its frame, a code object,
 * a waited-on word) stay copied however their addresses hash: with one
 * slot a page, some one group in eleven of any four lost a page to
 * another in a table of 64, and was read again.
 */
Test(memcache, four_pages_together_stay, .init = start, .fini = stop)
{
	struct mem_count a, b;
	unsigned char buf[8];
	unsigned seed = 1;
	uintptr_t at[4];
	int group, i;

	cr_assert_eq(mem_cache_begin(64), 0);
	for (group = 0; group < 200; group++) {
		for (i = 0; i < 4; i++) {
			seed = seed * 1103515245 + 12345;
			at[i] = (uintptr_t)wide + (seed >> 8) % WIDE * PG;
			cr_assert_eq(mem_read(at[i], buf, 8), 0);
		}
		mem_count(&a);
		for (i = 0; i < 4; i++)
			cr_assert_eq(mem_read(at[i] + 64, buf, 8), 0);
		mem_count(&b);
		cr_assert_eq(b.calls, a.calls, "group %d read again", group);
	}
}

/* This process's own memory, read through copies of its pages. */
static void
start_self(void)
{
	make_area(5);
	mem_source_self();
}

static void
stop_self(void)
{
	mem_cache_end();
	munmap(area, 3 * PG);
}

static void *
read_from_another_thread(void *arg)
{
	struct mem_count *c = arg;
	unsigned char buf[8];

	mem_count(&c[0]);
	cr_assert_eq(mem_read((uintptr_t)area + 16, buf, 8), 0);
	mem_count(&c[1]);
	return NULL;
}

/*
 * The shim's dumps: the same bytes and failures as reads one system
 * call each, a page copied once; the copies are this thread's only.
 */
Test(memcache, own_process_same_bytes_and_failures, .init = start_self,
    .fini = stop_self)
{
	unsigned char buf[64], want[64];
	struct mem_count a, b, c[2];
	pthread_t th;
	size_t off[] = { 0, PG - 8, 2 * PG + 100 };
	size_t i;

	for (i = 0; i < 3; i++)
		cr_assert_eq(mem_read((uintptr_t)area + off[i], want, 8), 0);
	cr_assert_eq(mem_cache_begin(64), 0);
	for (i = 0; i < 3; i++) {
		same_as_memory(off[i], 8);
		same_as_memory(off[i], 8);
	}
	cr_assert_eq(mem_read((uintptr_t)area + PG - 4, buf, 8), -1);
	cr_assert_eq(mem_read((uintptr_t)area + PG + 10, buf, 8), -1);
	cr_assert_eq(mem_read((uintptr_t)area + 2 * PG - 4, buf, 8), -1);
	mem_count(&a);
	same_as_memory(24, 40);
	same_as_memory(2 * PG + 8, 16);
	mem_count(&b);
	cr_assert_eq(b.calls, a.calls, "%lu calls", b.calls - a.calls);
	/* Another thread reads as before: one system call. */
	cr_assert_eq(pthread_create(&th, NULL, read_from_another_thread, c),
	    0);
	cr_assert_eq(pthread_join(th, NULL), 0);
	cr_assert_eq(c[1].calls - c[0].calls, 1);
	mem_cache_end();
	mem_count(&a);
	same_as_memory(24, 8);
	mem_count(&b);
	cr_assert_eq(b.calls - a.calls, 1);
}

#define NSPANS	40

/*
 * Spans over area: in its first and last pages, across into the hole,
 * inside it, from it out; bad[] marks the ones mem_read refuses.
 */
static size_t
make_spans(struct mem_span *s, unsigned char (*buf)[64], int *bad)
{
	static const size_t off[NSPANS] = {
		0, 100, 4000, 4090, 4096, 5000, 8191, 8192, 8200, 12000,
		12287, 10, 4032, 20, 8180, 9000, 4100, 300, 12200, 64,
		1, 2, 3, 4, 4095, 8190, 6000, 7000, 8193, 8194,
		9999, 10000, 4030, 4040, 50, 60, 11000, 11100, 12280, 8,
	};
	static const size_t len[NSPANS] = {
		8, 64, 64, 6, 8, 8, 1, 64, 8, 48,
		1, 3, 64, 8, 20, 16, 1, 40, 64, 8,
		1, 1, 1, 1, 1, 2, 8, 8, 8, 8,
		8, 8, 8, 64, 8, 8, 8, 8, 8, 8,
	};
	size_t i;

	for (i = 0; i < NSPANS; i++) {
		s[i].addr = (uintptr_t)area + off[i];
		s[i].buf = buf[i];
		s[i].len = len[i];
		s[i].ok = -1;
		bad[i] = off[i] + len[i] > PG && off[i] < 2 * PG;
	}
	return NSPANS;
}

static void
check_spans(struct mem_span *s, const int *bad, size_t n, size_t done)
{
	size_t i, good = 0;

	for (i = 0; i < n; i++) {
		cr_assert_eq(s[i].ok, !bad[i], "span %zu (+%zu, %zu bytes)",
		    i, (size_t)(s[i].addr - (uintptr_t)area), s[i].len);
		if (!bad[i]) {
			good++;
			cr_assert(memcmp(s[i].buf, (const void *)s[i].addr,
			    s[i].len) == 0, "bytes of span %zu", i);
		}
	}
	cr_assert_eq(done, good);
}

static size_t
nbad(const int *bad, size_t n)
{
	size_t i, k = 0;

	for (i = 0; i < n; i++)
		k += (size_t)bad[i];
	return k;
}

/* The answers, and at most a call for the batch and one for each bad
 * span (a read per span would be forty). */
static void
spans_in_one_call(void)
{
	struct mem_span s[NSPANS];
	unsigned char buf[NSPANS][64];
	int bad[NSPANS];
	struct mem_count c0, c1;
	size_t n = make_spans(s, buf, bad), done;

	mem_count(&c0);
	done = mem_read_spans(s, n);
	mem_count(&c1);
	check_spans(s, bad, n, done);
	cr_assert_leq(c1.calls - c0.calls, 1 + nbad(bad, n),
	    "%lu calls", c1.calls - c0.calls);
	cr_assert_eq(c1.reads - c0.reads, n);
}

Test(memspans, another_process, .init = start, .fini = stop)
{
	spans_in_one_call();
}

Test(memspans, this_process, .init = start_self, .fini = stop_self)
{
	spans_in_one_call();
}

/* All readable: one call. */
Test(memspans, all_good_one_call, .init = start, .fini = stop)
{
	struct mem_span s[8];
	unsigned char buf[8][64];
	struct mem_count c0, c1;
	int i;

	for (i = 0; i < 8; i++) {
		s[i].addr = (uintptr_t)area + (i % 2 ? 2 * PG : 0) +
		    (uintptr_t)i * 100;
		s[i].buf = buf[i];
		s[i].len = 64;
	}
	mem_count(&c0);
	cr_assert_eq(mem_read_spans(s, 8), 8);
	mem_count(&c1);
	cr_assert_eq(c1.calls - c0.calls, 1);
	for (i = 0; i < 8; i++)
		cr_assert(s[i].ok == 1 && memcmp(buf[i], (const void *)
		    s[i].addr, 64) == 0);
}

/* Through the page copies (a dump's): the same answers. */
Test(memspans, with_page_copies, .init = start, .fini = stop)
{
	struct mem_span s[NSPANS];
	unsigned char buf[NSPANS][64];
	int bad[NSPANS];
	size_t n = make_spans(s, buf, bad);

	cr_assert_eq(mem_cache_begin(64), 0);
	check_spans(s, bad, n, mem_read_spans(s, n));
}

/* More spans than one call takes: read one by one, the same answers. */
Test(memspans, more_than_a_call, .init = start_self, .fini = stop_self)
{
	static struct mem_span s[MEM_SPANS_MAX + 1];
	static unsigned char buf[MEM_SPANS_MAX + 1][64];
	int bad[MEM_SPANS_MAX + 1];
	size_t i;

	for (i = 0; i < MEM_SPANS_MAX + 1; i++) {
		s[i].addr = (uintptr_t)area + i * 190;
		s[i].buf = buf[i];
		s[i].len = 8;
		bad[i] = i * 190 + 8 > PG && i * 190 < 2 * PG;
	}
	check_spans(s, bad, MEM_SPANS_MAX + 1, mem_read_spans(s,
	    MEM_SPANS_MAX + 1));
}

/* A process gone: nothing read, the reason kept, no crash. */
Test(memspans, process_gone, .init = start, .fini = stop)
{
	struct mem_span s[NSPANS];
	unsigned char buf[NSPANS][64];
	int bad[NSPANS];
	size_t n = make_spans(s, buf, bad), i;
	pid_t gone;

	if ((gone = fork()) == 0)
		_exit(0);
	cr_assert(gone > 0);
	cr_assert_eq(waitpid(gone, NULL, 0), gone);
	mem_source_pid(gone);
	cr_assert_eq(mem_read_spans(s, n), 0);
	for (i = 0; i < n; i++)
		cr_assert_eq(s[i].ok, 0);
	cr_assert_eq(mem_error(), ESRCH);
	mem_source_pid(child);
}
