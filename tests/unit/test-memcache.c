/*
 * mem.c's page copies (mem_cache_begin, mem_cache_prefetch) over a
 * child process: reads give the same bytes and fail exactly where they
 * fail without the copies (a page unmapped, a read running into it),
 * prefetched or not, and a page read once is not read again, nor are
 * any four pages read together, wherever they fall.
 */
#include <criterion/criterion.h>
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
