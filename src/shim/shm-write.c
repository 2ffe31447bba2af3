/* The shared-memory file's writing side: see shm-write.h and shm.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "shm-write.h"

#define SHM_PAGE	4096

_Static_assert(sizeof(struct gw_shm_header) <= SHM_PAGE,
    "the header fits its page");
_Static_assert(sizeof(struct gw_shm_frame) % 8 == 0 &&
    sizeof(struct gw_shm_thread) % 8 == 0 &&
    sizeof(struct gw_shm_lock) % 8 == 0 &&
    sizeof(struct gw_shm_link) % 8 == 0 &&
    sizeof(struct gw_shm_order) % 8 == 0 &&
    sizeof(struct gw_shm_sym) % 8 == 0 &&
    sizeof(struct gw_shm_blame_site) % 8 == 0 &&
    sizeof(struct gw_shm_blame) % 8 == 0,
    "records keep 8-byte alignment back to back");

static size_t
round_up(size_t n, size_t to)
{
	return (n + to - 1) / to * to;
}

size_t
shm_slot_size(uint32_t cap)
{
	size_t n;

	if (cap < SHM_MIN_THREADS)
		cap = SHM_MIN_THREADS;
	n = sizeof(struct gw_shm_frame) +
	    (size_t)cap * (sizeof(struct gw_shm_thread) +
	    sizeof(struct gw_shm_link)) +
	    GW_SHM_TOP_LOCKS * sizeof(struct gw_shm_lock) +
	    GW_SHM_ORDERS * sizeof(struct gw_shm_order) +
	    GW_SHM_BLAME_SITES * sizeof(struct gw_shm_blame_site) +
	    GW_SHM_BLAME_PARTS * sizeof(struct gw_shm_blame) +
	    (SHM_SYMS_BASE + (size_t)cap / 2) * sizeof(struct gw_shm_sym);
	return round_up(n, SHM_PAGE);
}

static void
store_release(uint64_t *p, uint64_t v)
{
	__atomic_store_n(p, v, __ATOMIC_RELEASE);
}

/* Bump gen: odd before a layout change, even after it. */
static void
gen_bump(struct gw_shm_header *h)
{
	uint64_t g = __atomic_load_n(&h->gen, __ATOMIC_RELAXED);

	__atomic_store_n(&h->gen, g + 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

static void
fill_header(struct gw_shm_header *h, const struct shm_proc *p,
    size_t slot, size_t len)
{
	h->version = GW_SHM_VERSION;
	h->header_size = sizeof *h;
	h->frame_size = sizeof(struct gw_shm_frame);
	h->thread_size = sizeof(struct gw_shm_thread);
	h->lock_size = sizeof(struct gw_shm_lock);
	h->link_size = sizeof(struct gw_shm_link);
	h->order_size = sizeof(struct gw_shm_order);
	h->sym_size = sizeof(struct gw_shm_sym);
	h->blame_site_size = sizeof(struct gw_shm_blame_site);
	h->blame_size = sizeof(struct gw_shm_blame);
	h->pid = p->pid;
	h->interval_ms = p->interval_ms;
	h->start_ticks = p->start_ticks;
	h->start_real_ns = p->start_real_ns;
	h->loop_stall_ms = p->loop_stall_ms;
	snprintf(h->command, sizeof h->command, "%s",
	    p->command != NULL ? p->command : "");
	h->file_size = len;
	h->slot_offset[0] = SHM_PAGE;
	h->slot_offset[1] = SHM_PAGE + slot;
	h->slot_size = slot;
	/* Last: a reader that sees the magic sees the rest. */
	__atomic_thread_fence(__ATOMIC_RELEASE);
	memcpy(h->magic, GW_SHM_MAGIC, sizeof h->magic);
}

int
shm_writer_open(struct shm_writer *w, const char *path,
    const struct shm_proc *p, uint32_t cap)
{
	size_t slot = shm_slot_size(cap), len = SHM_PAGE + 2 * slot;
	void *m;
	int saved;

	memset(w, 0, sizeof *w);
	w->fd = -1;
	if (snprintf(w->path, sizeof w->path, "%s", path) >=
	    (int)sizeof w->path) {
		errno = ENAMETOOLONG;
		return -1;
	}
	/* Unlink, never truncate: a reader may still map the old one. */
	if (unlink(path) == -1 && errno != ENOENT)
		return -1;
	w->fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	    0600);
	if (w->fd == -1)
		return -1;
	if (ftruncate(w->fd, (off_t)len) == -1 ||
	    (m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, w->fd,
	    0)) == MAP_FAILED) {
		saved = errno;
		unlink(path);
		close(w->fd);
		w->fd = -1;
		errno = saved;
		return -1;
	}
	w->hdr = m;
	w->map_len = len;
	w->cap_threads = cap < SHM_MIN_THREADS ? SHM_MIN_THREADS : cap;
	w->pid = p->pid;
	fill_header(w->hdr, p, slot, len);
	return 0;
}

int
shm_writer_reserve(struct shm_writer *w, uint32_t nthreads)
{
	struct gw_shm_header *h = w->hdr;
	size_t old = h->slot_size, slot, len;
	uint32_t cap = w->cap_threads;
	char *from, *to;
	void *m;

	if (nthreads <= cap)
		return 0;
	if (nthreads > SHM_MAX_THREADS) {
		errno = EOVERFLOW;
		return -1;
	}
	while (cap < nthreads)
		cap *= 2;
	slot = shm_slot_size(cap);
	len = SHM_PAGE + 2 * slot;
	gen_bump(h);
	if (ftruncate(w->fd, (off_t)len) == -1 ||
	    (m = mremap(h, w->map_len, len, MREMAP_MAYMOVE)) == MAP_FAILED) {
		gen_bump(h);
		return -1;
	}
	w->hdr = h = m;
	w->map_len = len;
	/* Slot 0 stays put and only gets longer; slot 1 moves. */
	if (h->current == 1) {
		from = (char *)h + SHM_PAGE + old;
		to = (char *)h + SHM_PAGE + slot;
		memmove(to, from, ((struct gw_shm_frame *)from)->used);
	}
	h->slot_offset[1] = SHM_PAGE + slot;
	h->slot_size = slot;
	h->file_size = len;
	w->cap_threads = cap;
	__atomic_thread_fence(__ATOMIC_RELEASE);
	gen_bump(h);
	return 0;
}

struct gw_shm_frame *
shm_writer_begin(struct shm_writer *w)
{
	struct gw_shm_header *h = w->hdr;
	uint64_t s;

	w->slot = h->current ^ 1;
	s = __atomic_load_n(&h->seq[w->slot], __ATOMIC_RELAXED);
	__atomic_store_n(&h->seq[w->slot], s + 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	w->base = (char *)h + h->slot_offset[w->slot];
	memset(w->base, 0, sizeof(struct gw_shm_frame));
	w->cursor = sizeof(struct gw_shm_frame);
	return (struct gw_shm_frame *)w->base;
}

void *
shm_writer_room(struct shm_writer *w, size_t *room)
{
	*room = w->hdr->slot_size - w->cursor;
	return w->base + w->cursor;
}

uint32_t
shm_writer_claim(struct shm_writer *w, size_t len)
{
	size_t off = w->cursor;

	w->cursor += round_up(len, 8);
	return (uint32_t)off;
}

void
shm_writer_commit(struct shm_writer *w)
{
	struct gw_shm_header *h = w->hdr;
	uint64_t s = __atomic_load_n(&h->seq[w->slot], __ATOMIC_RELAXED);

	((struct gw_shm_frame *)w->base)->used = (uint32_t)w->cursor;
	store_release(&h->seq[w->slot], s + 1);
	__atomic_store_n(&h->current, w->slot, __ATOMIC_RELEASE);
	w->base = NULL;
}

void
shm_writer_stop(struct shm_writer *w, int remove)
{
	if (w->hdr == NULL)
		return;
	__atomic_store_n(&w->hdr->stopped, 1, __ATOMIC_RELEASE);
	if (remove)
		unlink(w->path);
}

void
shm_writer_forget(struct shm_writer *w)
{
	if (w->hdr != NULL)
		munmap(w->hdr, w->map_len);
	if (w->fd != -1)
		close(w->fd);
	memset(w, 0, sizeof *w);
	w->fd = -1;
}
