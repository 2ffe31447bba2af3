/* Reading the shared-memory file: see shm-read.h and gilwatch/shm.h. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "grow.h"
#include "ipc.h"
#include "procstat.h"
#include "shm-read.h"

#define SHM_STALL_MIN_MS	2000	/* no new frame for this long (and
					   ten intervals): stalled */
#define SHM_YIELD_AFTER		16	/* failed copies before yielding */

struct shm_reader {
	int		 fd;
	char		 path[IPC_PATH_MAX];
	const char	*map;
	size_t		 map_len;
	struct gw_shm_header hdr;	/* the fixed fields, checked */

	void		*raw;		/* the last slot copied */
	size_t		 rawcap;
	uint64_t	 retries;

	uint64_t	 last_updates;	/* the counter, and when it moved */
	uint64_t	 last_moved_ns;
};

static void	nul_end(char *, size_t);

static void
say(char *err, size_t len, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || len == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, len, fmt, ap);
	va_end(ap);
}

static uint64_t
mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int
shm_proc_start(pid_t pid, char *state, uint64_t *start)
{
	char buf[1024];
	const char *p;
	unsigned long long v = 0;

	if ((p = procstat_read(pid, buf, sizeof buf)) == NULL)
		return -1;
	*state = *p;
	if ((p = procstat_field(p, 22)) == NULL ||
	    sscanf(p, "%llu", &v) != 1) {
		errno = EIO;
		return -1;
	}
	*start = v;
	return 0;
}

int
shm_path(int which, pid_t pid, char *buf, size_t len)
{
	return ipc_path(which, pid, GW_SHM_SUFFIX, buf, len);
}

/* Is every byte zero?  (A file whose header is not written yet.) */
static int
all_zero(const char *p, size_t n)
{
	while (n-- > 0)
		if (*p++ != 0)
			return 0;
	return 1;
}

/* The header's fixed fields, as far as this reader can trust them. */
static int
check_header(struct shm_reader *r, size_t st_size, char *err, size_t len)
{
	const struct gw_shm_header *h = (const void *)r->map;
	struct gw_shm_header c;
	uint64_t end0, end1;

	if (all_zero(h->magic, sizeof h->magic)) {
		say(err, len, "%s is not ready yet", r->path);
		errno = ENODATA;
		return -1;
	}
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	memcpy(&c, h, sizeof c);
	if (memcmp(c.magic, GW_SHM_MAGIC, sizeof c.magic) != 0) {
		say(err, len, "%s is not a gilwatch file", r->path);
		goto bad;
	}
	if (c.version != GW_SHM_VERSION) {
		say(err, len, "%s has format version %u, another "
		    "gilwatch's; this one reads %d: use the gilwatch that "
		    "started the process", r->path, c.version,
		    GW_SHM_VERSION);
		goto bad;
	}
	if (c.header_size < sizeof c ||
	    c.frame_size < sizeof(struct gw_shm_frame) ||
	    c.thread_size < sizeof(struct gw_shm_thread) ||
	    c.lock_size < sizeof(struct gw_shm_lock) ||
	    c.link_size < sizeof(struct gw_shm_link) ||
	    c.order_size < sizeof(struct gw_shm_order) ||
	    c.sym_size < sizeof(struct gw_shm_sym) ||
	    c.frame_size > (1u << 20) || c.thread_size > (1u << 20) ||
	    c.lock_size > (1u << 20) || c.link_size > (1u << 20) ||
	    c.order_size > (1u << 20) || c.sym_size > (1u << 20) ||
	    (c.blame_site_size != 0 &&
	    c.blame_site_size < sizeof(struct gw_shm_blame_site)) ||
	    (c.blame_size != 0 && c.blame_size < sizeof(struct gw_shm_blame)) ||
	    c.blame_site_size > (1u << 20) || c.blame_size > (1u << 20)) {
		say(err, len, "%s: record sizes do not match version %d",
		    r->path, GW_SHM_VERSION);
		goto bad;
	}
	if (c.file_size > st_size) {
		say(err, len, "%s is truncated (%zu of %llu bytes)", r->path,
		    st_size, (unsigned long long)c.file_size);
		goto bad;
	}
	end0 = c.slot_offset[0] + c.slot_size;
	end1 = c.slot_offset[1] + c.slot_size;
	if (c.slot_offset[0] < c.header_size || c.slot_offset[1] <
	    c.header_size || end0 < c.slot_offset[0] || end0 > c.file_size ||
	    end1 < c.slot_offset[1] || end1 > c.file_size ||
	    c.slot_size < c.frame_size) {
		say(err, len, "%s: its slots lie outside the file", r->path);
		goto bad;
	}
	nul_end(c.command, sizeof c.command);
	r->hdr = c;
	return 0;
bad:
	errno = EPROTO;
	return -1;
}

/* Map the whole file as it is now; checks that it is as long as it says. */
static int
map_file(struct shm_reader *r, char *err, size_t len)
{
	struct stat st;
	void *m;

	if (fstat(r->fd, &st) == -1) {
		say(err, len, "%s: %s", r->path, strerror(errno));
		return -1;
	}
	if ((size_t)st.st_size < sizeof(struct gw_shm_header)) {
		say(err, len, "%s is truncated (%lld bytes, less than a "
		    "header)", r->path, (long long)st.st_size);
		errno = st.st_size == 0 ? ENODATA : EPROTO;
		return -1;
	}
	m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, r->fd, 0);
	if (m == MAP_FAILED) {
		say(err, len, "%s: mmap: %s", r->path, strerror(errno));
		return -1;
	}
	if (r->map != NULL)
		munmap((void *)r->map, r->map_len);
	r->map = m;
	r->map_len = (size_t)st.st_size;
	return check_header(r, r->map_len, err, len);
}

struct shm_reader *
shm_attach_path(const char *path, char *err, size_t len)
{
	struct shm_reader *r;
	int saved;

	if ((r = calloc(1, sizeof *r)) == NULL) {
		say(err, len, "out of memory");
		return NULL;
	}
	snprintf(r->path, sizeof r->path, "%s", path);
	r->fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (r->fd == -1) {
		saved = errno;
		say(err, len, "%s: %s", path, strerror(saved));
		free(r);
		errno = saved;
		return NULL;
	}
	if (map_file(r, err, len) == -1) {
		saved = errno;
		shm_detach(r);
		errno = saved;
		return NULL;
	}
	r->last_moved_ns = mono_ns();
	return r;
}

struct shm_reader *
shm_attach(pid_t pid, char *err, size_t len)
{
	char path[IPC_PATH_MAX], state;
	struct shm_reader *r;
	uint64_t start;
	int which, e = ENOENT;

	for (which = 0; which < 2; which++) {
		if (shm_path(which, pid, path, sizeof path) == -1)
			continue;
		if ((r = shm_attach_path(path, err, len)) == NULL &&
		    errno != ENOENT) {
			e = errno;
			break;
		}
		if (r == NULL)
			continue;
		/* A file left by an earlier process with this pid (one
		 * killed before it could remove it) is no file of pid's;
		 * nor is one that names another pid (its start time alone
		 * is in ticks of 10 ms, which two processes can share). */
		if ((pid_t)r->hdr.pid != pid || (r->hdr.start_ticks != 0 &&
		    shm_proc_start(pid, &state, &start) == 0 &&
		    start != r->hdr.start_ticks)) {
			shm_detach(r);
			continue;
		}
		return r;
	}
	if (e == ENOENT)
		say(err, len, "process %d publishes no state (no %d%s in the "
		    "runtime directories)", (int)pid, (int)pid, GW_SHM_SUFFIX);
	errno = e;
	return NULL;
}

pid_t
shm_pid(const struct shm_reader *r)
{
	return r->hdr.pid;
}

uint64_t
shm_retries(const struct shm_reader *r)
{
	return r->retries;
}

void
shm_detach(struct shm_reader *r)
{
	if (r == NULL)
		return;
	if (r->map != NULL)
		munmap((void *)r->map, r->map_len);
	if (r->fd != -1)
		close(r->fd);
	free(r->raw);
	free(r);
}

void
shm_frame_free(struct shm_frame *f)
{
	free(f->mem);
	memset(f, 0, sizeof *f);
}

/* n records of size each at off, inside used?  (No overflow.) */
static int
section_ok(uint32_t off, uint32_t n, uint32_t size, uint32_t frame_size,
    uint32_t used)
{
	if (n == 0)
		return 1;
	if (off < frame_size || off > used || off % 8 != 0)
		return 0;
	return (uint64_t)n * size <= (uint64_t)(used - off);
}

/* End the string in its field, and make control characters '?': what
 * a writer puts there goes to a terminal. */
static void
nul_end(char *s, size_t len)
{
	size_t i;

	s[len - 1] = '\0';
	for (i = 0; i < len && s[i] != '\0'; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			s[i] = '?';
}

/* Copy n records of wsize bytes into our own size, zero-filling. */
static void
copy_records(void *to, size_t ours, const char *from, uint32_t n,
    uint32_t wsize)
{
	size_t take = wsize < ours ? wsize : ours;
	uint32_t i;

	memset(to, 0, (size_t)n * ours);
	for (i = 0; i < n; i++)
		memcpy((char *)to + (size_t)i * ours, from + (size_t)i * wsize,
		    take);
}

/* n records copied to *p in our size; *p moves past them. */
static void *
section(char **p, size_t ours, const char *from, uint32_t n, uint32_t wsize)
{
	void *at = *p;

	copy_records(at, ours, from, n, wsize);
	*p += (size_t)n * ours;
	return at;
}

static int
frame_mem(struct shm_frame *f, size_t need)
{
	void *p;

	if ((p = grow(f->mem, &f->memcap, need, 1, need)) == NULL)
		return -1;
	f->mem = p;
	return 0;
}

static void
seal_cs(struct gw_shm_thread *t)
{
	uint8_t i;

	if (t->ncritical > GW_SHM_CS)
		t->ncritical = GW_SHM_CS;
	for (i = 0; i < t->ncritical; i++) {
		nul_end(t->critical[i].type, sizeof t->critical[i].type);
		nul_end(t->critical[i].type2, sizeof t->critical[i].type2);
	}
}

/* Terminate every string a writer may have left open. */
static void
seal_strings(struct shm_frame *f)
{
	uint32_t i;

	nul_end(f->head.gil.version, sizeof f->head.gil.version);
	nul_end(f->head.gil.why_not, sizeof f->head.gil.why_not);
	nul_end(f->head.pause, sizeof f->head.pause);
	for (i = 0; i < f->nthreads; i++) {
		nul_end(f->threads[i].name, sizeof f->threads[i].name);
		nul_end(f->threads[i].py_frame, sizeof f->threads[i].py_frame);
		nul_end(f->threads[i].py_wait.type,
		    sizeof f->threads[i].py_wait.type);
		nul_end(f->threads[i].py_wait.via,
		    sizeof f->threads[i].py_wait.via);
		nul_end(f->threads[i].py_wait.at,
		    sizeof f->threads[i].py_wait.at);
		if (f->threads[i].nowners > GW_SHM_OWNERS)
			f->threads[i].nowners = GW_SHM_OWNERS;
		if (f->threads[i].nframes > GW_SHM_FRAMES)
			f->threads[i].nframes = GW_SHM_FRAMES;
		seal_cs(&f->threads[i]);
	}
	for (i = 0; i < f->norders; i++)
		nul_end(f->orders[i].text, sizeof f->orders[i].text);
	for (i = 0; i < f->nblame_sites; i++) {
		nul_end(f->blame_sites[i].function,
		    sizeof f->blame_sites[i].function);
		nul_end(f->blame_sites[i].file, sizeof f->blame_sites[i].file);
	}
	for (i = 0; i < f->nblame; i++) {
		nul_end(f->blame[i].function, sizeof f->blame[i].function);
		nul_end(f->blame[i].file, sizeof f->blame[i].file);
	}
	for (i = 0; i < f->nsyms; i++) {
		nul_end(f->syms[i].function, sizeof f->syms[i].function);
		nul_end(f->syms[i].module, sizeof f->syms[i].module);
		nul_end(f->syms[i].file, sizeof f->syms[i].file);
	}
}

/* Turn the raw copy of a slot into f.  -1 (EPROTO) when it is damaged. */
static int
convert(struct shm_reader *r, struct shm_frame *f, uint32_t used)
{
	const struct gw_shm_header *h = &r->hdr;
	const char *raw = r->raw;
	struct gw_shm_frame head;
	size_t need;
	char *p;

	memset(&head, 0, sizeof head);
	memcpy(&head, raw, sizeof head);
	/* A writer without the blame sections. */
	if (h->blame_site_size == 0)
		head.nblame_sites = 0;
	if (h->blame_size == 0)
		head.nblame = 0;
	if (!section_ok(head.threads_off, head.nthreads, h->thread_size,
	    h->frame_size, used) ||
	    !section_ok(head.locks_off, head.nlocks, h->lock_size,
	    h->frame_size, used) ||
	    !section_ok(head.links_off, head.nlinks, h->link_size,
	    h->frame_size, used) ||
	    !section_ok(head.orders_off, head.norders, h->order_size,
	    h->frame_size, used) ||
	    !section_ok(head.syms_off, head.nsyms, h->sym_size,
	    h->frame_size, used) ||
	    !section_ok(head.blame_sites_off, head.nblame_sites,
	    h->blame_site_size, h->frame_size, used) ||
	    !section_ok(head.blame_off, head.nblame, h->blame_size,
	    h->frame_size, used)) {
		errno = EPROTO;
		return -1;
	}
	need = (size_t)head.nthreads * sizeof *f->threads +
	    (size_t)head.nlocks * sizeof *f->locks +
	    (size_t)head.nlinks * sizeof *f->links +
	    (size_t)head.norders * sizeof *f->orders +
	    (size_t)head.nsyms * sizeof *f->syms +
	    (size_t)head.nblame_sites * sizeof *f->blame_sites +
	    (size_t)head.nblame * sizeof *f->blame;
	if (frame_mem(f, need + 8) == -1) {
		errno = ENOMEM;
		return -1;
	}
	f->head = head;
	f->pid = h->pid;
	f->interval_ms = h->interval_ms;
	f->start_real_ns = h->start_real_ns;
	f->loop_stall_ms = h->loop_stall_ms;
	memcpy(f->command, h->command, sizeof f->command);
	p = f->mem;
	f->nthreads = head.nthreads;
	f->threads = section(&p, sizeof *f->threads, raw + head.threads_off,
	    head.nthreads, h->thread_size);
	f->nlocks = head.nlocks;
	f->locks = section(&p, sizeof *f->locks, raw + head.locks_off,
	    head.nlocks, h->lock_size);
	f->nlinks = head.nlinks;
	f->links = section(&p, sizeof *f->links, raw + head.links_off,
	    head.nlinks, h->link_size);
	f->norders = head.norders;
	f->orders = section(&p, sizeof *f->orders, raw + head.orders_off,
	    head.norders, h->order_size);
	f->nsyms = head.nsyms;
	f->syms = section(&p, sizeof *f->syms, raw + head.syms_off,
	    head.nsyms, h->sym_size);
	f->nblame_sites = head.nblame_sites;
	f->blame_sites = section(&p, sizeof *f->blame_sites,
	    raw + head.blame_sites_off, head.nblame_sites, h->blame_site_size);
	f->nblame = head.nblame;
	f->blame = section(&p, sizeof *f->blame, raw + head.blame_off,
	    head.nblame, h->blame_size);
	seal_strings(f);
	return 0;
}

static int
raw_room(struct shm_reader *r, size_t need)
{
	void *p;

	if ((p = grow(r->raw, &r->rawcap, need, 1, need)) == NULL)
		return -1;
	r->raw = p;
	return 0;
}

static uint64_t
load64(const uint64_t *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

/* The file grew: map it again.  -1 when it cannot be. */
static int
remap(struct shm_reader *r)
{
	char err[SHM_ERR_MAX];

	return map_file(r, err, sizeof err);
}

/*
 * One attempt.  1: f holds a consistent frame; 0: a write overlapped,
 * try again; -1: error (errno).
 */
static int
try_copy(struct shm_reader *r, struct shm_frame *f)
{
	const struct gw_shm_header *h = (const void *)r->map;
	uint64_t g1, s1, off, size;
	uint32_t cur, used;

	g1 = load64(&h->gen);
	if (g1 & 1)
		return 0;
	if (__atomic_load_n(&h->file_size, __ATOMIC_RELAXED) > r->map_len) {
		if (remap(r) == -1)
			return -1;
		return 0;
	}
	cur = __atomic_load_n(&h->current, __ATOMIC_ACQUIRE) & 1;
	s1 = load64(&h->seq[cur]);
	if (s1 & 1)
		return 0;
	off = __atomic_load_n(&h->slot_offset[cur], __ATOMIC_RELAXED);
	size = __atomic_load_n(&h->slot_size, __ATOMIC_RELAXED);
	used = 0;
	if (off >= r->hdr.header_size && size >= r->hdr.frame_size &&
	    off + size >= off && off + size <= r->map_len)
		used = __atomic_load_n(&((const struct gw_shm_frame *)
		    (r->map + off))->used, __ATOMIC_RELAXED);
	if (used > size || used < r->hdr.frame_size) {
		/* Only a layout change in progress excuses this. */
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		if (load64(&h->gen) != g1 || load64(&h->seq[cur]) != s1)
			return 0;
		/* Nothing published yet, or a damaged layout. */
		errno = used == 0 && s1 == 0 ? EAGAIN : EPROTO;
		return -1;
	}
	if (raw_room(r, used) == -1) {
		errno = ENOMEM;
		return -1;
	}
	memcpy(r->raw, r->map + off, used);
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	if (__atomic_load_n(&h->seq[cur], __ATOMIC_RELAXED) != s1 ||
	    __atomic_load_n(&h->gen, __ATOMIC_RELAXED) != g1)
		return 0;
	if (convert(r, f, used) == -1)
		return -1;
	return 1;
}

int
shm_read(struct shm_reader *r, struct shm_frame *f)
{
	int tries, rc;

	for (tries = 0; tries < SHM_READ_TRIES; tries++) {
		if (tries >= SHM_YIELD_AFTER)
			sched_yield();	/* let a descheduled writer finish */
		if ((rc = try_copy(r, f)) == -1)
			return -1;
		if (rc == 1) {
			if (f->head.updates != r->last_updates) {
				r->last_updates = f->head.updates;
				r->last_moved_ns = mono_ns();
			}
			return 0;
		}
		r->retries++;
	}
	errno = EAGAIN;
	return -1;
}

enum shm_life
shm_life(struct shm_reader *r, char *why, size_t len)
{
	const struct gw_shm_header *h = (const void *)r->map;
	struct stat st;
	uint64_t start, quiet, limit;
	pid_t pid = r->hdr.pid;
	char state;

	if (__atomic_load_n(&h->stopped, __ATOMIC_ACQUIRE)) {
		say(why, len, "process %d has exited", (int)pid);
		return SHM_ENDED;
	}
	if (kill(pid, 0) == -1 && errno == ESRCH) {
		say(why, len, "process %d is gone", (int)pid);
		return SHM_ENDED;
	}
	if (shm_proc_start(pid, &state, &start) == -1) {
		if (errno == ENOENT) {
			say(why, len, "process %d is gone", (int)pid);
			return SHM_ENDED;
		}
	} else if ((state == 'Z' || state == 'X') &&
	    procstat_live_task(pid) == pid) {
		/* Not a main thread that ended while others run on. */
		say(why, len, "process %d has ended", (int)pid);
		return SHM_ENDED;
	} else if (start != r->hdr.start_ticks) {
		say(why, len, "process %d has ended (the pid is another "
		    "process's now)", (int)pid);
		return SHM_ENDED;
	}
	if (fstat(r->fd, &st) == 0 && st.st_nlink == 0) {
		say(why, len, "process %d removed its file", (int)pid);
		return SHM_ENDED;
	}
	quiet = mono_ns() - r->last_moved_ns;
	limit = (uint64_t)r->hdr.interval_ms * 10;
	if (limit < SHM_STALL_MIN_MS)
		limit = SHM_STALL_MIN_MS;
	if (quiet > limit * 1000000u) {
		say(why, len, "process %d has not published for %.0f s "
		    "(stopped?)", (int)pid, (double)quiet / 1e9);
		return SHM_STALLED;
	}
	say(why, len, "live");
	return SHM_LIVE;
}

/* "<digits>.shm" -> pid, else 0. */
static pid_t
entry_pid(const char *name)
{
	char *end;
	long v;

	if (name[0] < '1' || name[0] > '9')
		return 0;
	errno = 0;
	v = strtol(name, &end, 10);
	if (errno != 0 || v <= 0 || v > INT_MAX ||
	    strcmp(end, GW_SHM_SUFFIX) != 0)
		return 0;
	return (pid_t)v;
}

static int
listed(const struct shm_entry *out, int n, int max, pid_t pid)
{
	int i;

	for (i = 0; i < n && i < max; i++)
		if (out[i].pid == pid)
			return 1;
	return 0;
}

/*
 * A file left behind by a process that was killed: remove it, but only
 * when no process has that pid and the name still leads to the file we
 * looked at (not to a new one made since).  Returns 0 when the process
 * lives, else 1.
 */
static int
sweep(const char *path, pid_t pid, int fd)
{
	struct stat a, b;

	if (kill(pid, 0) == 0 || errno != ESRCH)
		return 0;
	if (fd != -1 && (fstat(fd, &a) == -1 || stat(path, &b) == -1 ||
	    a.st_dev != b.st_dev || a.st_ino != b.st_ino))
		return 1;
	unlink(path);
	return 1;
}

static int
by_pid(const void *a, const void *b)
{
	const struct shm_entry *x = a, *y = b;

	return (x->pid > y->pid) - (x->pid < y->pid);
}

int
shm_list(struct shm_entry *out, int max)
{
	char dir[IPC_PATH_MAX], path[IPC_PATH_MAX + 256 + 2], why[8];
	struct shm_reader *r;
	struct dirent *de;
	DIR *d;
	pid_t pid;
	int which, n = 0, opened = 0;

	for (which = 0; which < 2; which++) {
		if (ipc_dir(which, 0, dir, sizeof dir) == -1 ||
		    (d = opendir(dir)) == NULL)
			continue;
		opened++;
		while ((de = readdir(d)) != NULL) {
			if ((pid = entry_pid(de->d_name)) == 0 ||
			    listed(out, n, max, pid))
				continue;
			snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
			if ((r = shm_attach_path(path, NULL, 0)) == NULL) {
				/*
				 * Another gilwatch version's file, or a
				 * damaged one: listed while its process
				 * lives, so that attaching says why it
				 * cannot be read rather than nothing.
				 */
				if (errno != EPROTO || sweep(path, pid, -1))
					continue;
				if (n < max) {
					out[n].pid = pid;
					snprintf(out[n].command,
					    sizeof out[n].command, "%s",
					    "(its state cannot be read)");
				}
				n++;
				continue;
			}
			if (r->hdr.pid == pid &&
			    shm_life(r, why, sizeof why) != SHM_ENDED) {
				if (n < max) {
					out[n].pid = pid;
					memcpy(out[n].command, r->hdr.command,
					    sizeof out[n].command);
				}
				n++;
			} else
				sweep(path, pid, r->fd);
			shm_detach(r);
		}
		closedir(d);
	}
	if (opened == 0) {
		errno = ENOENT;
		return -1;
	}
	qsort(out, (size_t)(n < max ? n : max), sizeof *out, by_pid);
	return n;
}
