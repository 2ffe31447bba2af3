/*
 * The shared-memory file: a writer thread publishing as fast as it can
 * (every field a function of the frame's number, the thread count
 * changing so the file grows) and a reader that must never see a frame
 * mixed from two publications; files the reader must refuse; and the
 * real publisher, end to end.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gilwatch/shm.h"
#include "lock.h"
#include "publish.h"
#include "shm-read.h"
#include "shm-write.h"
#include "thread.h"

#define ROUNDS		2000	/* frames the writer publishes */
#define MIN_READS	500	/* consistent frames the reader must get */
#define MAX_THREADS	300	/* beyond the first slot's room: growth */
#define NSYMS		3

static char dir[64], path[128];

static void
setup(void)
{
	snprintf(dir, sizeof dir, "/tmp/gw-test-shm-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/%d.shm", dir, (int)getpid());
}

static void
teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	(void)!system(cmd);
}

TestSuite(shm, .init = setup, .fini = teardown, .timeout = 60);

static uint32_t
nthreads_for(uint64_t u)
{
	return 1 + (uint32_t)(u * 37 % MAX_THREADS);
}

/* Every field of thread i in frame u, as the writer writes it. */
static void
fill(struct gw_shm_thread *t, uint64_t u, uint32_t i)
{
	int k;

	memset(t, 0, sizeof *t);
	t->tid = (int32_t)(u * 1000 + i);
	t->state = (uint8_t)(u % 5);
	t->gil_state = (uint8_t)(u % 3);
	t->nframes = (uint8_t)(u % GW_SHM_FRAMES);
	snprintf(t->name, sizeof t->name, "t%llu", (unsigned long long)u);
	t->state_ns = u * 7 + i;
	t->wait_addr = u ^ 0x5555;
	t->nowners = (uint8_t)(u % GW_SHM_OWNERS);
	for (k = 0; k < GW_SHM_OWNERS; k++) {
		t->owners[k] = (int32_t)(u + (uint64_t)k);
		t->owner_sites[k] = u * 3 + (uint64_t)k;
	}
	t->nheld = (uint32_t)u;
	for (k = 0; k < GW_SHM_HELD; k++)
		t->held[k].addr = u * 11 + (uint64_t)k;
	t->gil_ns = u + 1;
	t->gil_hold_ns = u + 2;
	t->gil_wait_ns = u + 3;
	t->gil_acquired = u + 4;
	for (k = 0; k < GW_SHM_FRAMES; k++)
		t->frames[k] = u + (uint64_t)k;
	snprintf(t->py_frame, sizeof t->py_frame, "f%llu",
	    (unsigned long long)u);
}

/* Frame u; -1 when there is no room (asserted by the caller: the
 * writer runs on a thread of its own). */
static int
publish(struct shm_writer *w, uint64_t u)
{
	struct gw_shm_frame *f;
	struct gw_shm_thread *t;
	struct gw_shm_sym *s;
	uint32_t n = nthreads_for(u), i;
	size_t room;

	if (shm_writer_reserve(w, n) == -1)
		return -1;
	f = shm_writer_begin(w);
	f->updates = u;
	f->mono_ns = u * 2;
	f->gil.holder = (int32_t)u;
	t = shm_writer_room(w, &room);
	if (room < n * sizeof *t + NSYMS * sizeof *s)
		return -1;
	for (i = 0; i < n; i++)
		fill(&t[i], u, i);
	f->threads_off = shm_writer_claim(w, n * sizeof *t);
	f->nthreads = n;
	s = shm_writer_room(w, &room);
	for (i = 0; i < NSYMS; i++) {
		memset(&s[i], 0, sizeof s[i]);
		s[i].ip = u + i;
		snprintf(s[i].function, sizeof s[i].function, "g%llu",
		    (unsigned long long)u);
	}
	f->syms_off = shm_writer_claim(w, NSYMS * sizeof *s);
	f->nsyms = NSYMS;
	shm_writer_commit(w);
	return 0;
}

static struct shm_proc proc = { .pid = 1, .interval_ms = 100,
    .command = "test", .loop_stall_ms = 250 };

static void
open_writer(struct shm_writer *w, uint32_t cap)
{
	char state;

	proc.pid = getpid();
	cr_assert_eq(shm_proc_start(proc.pid, &state, &proc.start_ticks), 0);
	cr_assert_eq(shm_writer_open(w, path, &proc, cap), 0,
	    "shm_writer_open: %s", strerror(errno));
}

#define PACE_SPINS	20000 	/* the writer waits this long at most for
				   the reader to try again */

struct writer {
	struct shm_writer w;
	atomic_int	 done;
	atomic_ulong	 tries;		/* the reader's, so far */
	uint64_t	 failed;	/* the frame that found no room */
};

static void *
writer_main(void *arg)
{
	struct writer *wr = arg;
	uint64_t u;

	unsigned long seen;
	int spin;

	for (u = 1; u <= ROUNDS; u++) {
		if (publish(&wr->w, u) == -1) {
			wr->failed = u;
			break;
		}
		/*
		 * Keep pace with the reader, so that its copies keep
		 * overlapping our writes instead of one of us running
		 * alone: wait (spinning, bounded) until it has tried once
		 * more.
		 */
		seen = atomic_load(&wr->tries);
		for (spin = 0; spin < PACE_SPINS &&
		    atomic_load(&wr->tries) == seen; spin++)
			__builtin_ia32_pause();
	}
	atomic_store(&wr->done, 1);
	return NULL;
}

/* 0 when f is exactly frame f->head.updates; else what differs. */
static const char *
torn(const struct shm_frame *f)
{
	struct gw_shm_thread want;
	uint64_t u = f->head.updates;
	uint32_t i;

	if (f->head.mono_ns != u * 2 || f->head.gil.holder != (int32_t)u)
		return "frame head";
	if (f->nthreads != nthreads_for(u))
		return "thread count";
	for (i = 0; i < f->nthreads; i++) {
		fill(&want, u, i);
		if (memcmp(&want, &f->threads[i], sizeof want) != 0)
			return "thread record";
	}
	if (f->nsyms != NSYMS)
		return "symbol count";
	for (i = 0; i < NSYMS; i++)
		if (f->syms[i].ip != u + i || strtoull(f->syms[i].function + 1,
		    NULL, 10) != u)
			return "symbol record";
	return NULL;
}

Test(shm, reader_never_sees_a_torn_frame)
{
	struct writer wr;
	struct shm_reader *r;
	struct shm_frame f;
	pthread_t th;
	char err[SHM_ERR_MAX];
	uint64_t reads = 0, distinct = 0, last = 0;
	const char *why;

	memset(&wr, 0, sizeof wr);
	memset(&f, 0, sizeof f);
	open_writer(&wr.w, 64);
	cr_assert_eq(publish(&wr.w, 0), 0);
	r = shm_attach_path(path, err, sizeof err);
	cr_assert_not_null(r, "attach: %s", err);
	cr_assert_eq(pthread_create(&th, NULL, writer_main, &wr), 0);
	while (!atomic_load(&wr.done)) {
		atomic_fetch_add(&wr.tries, 1);
		if (shm_read(r, &f) == -1) {
			cr_assert_eq(errno, EAGAIN, "read: %s",
			    strerror(errno));
			continue;
		}
		why = torn(&f);
		cr_assert_null(why, "frame %llu: torn %s after %llu good "
		    "reads", (unsigned long long)f.head.updates, why,
		    (unsigned long long)reads);
		reads++;
		if (f.head.updates != last)
			distinct++;
		last = f.head.updates;
	}
	pthread_join(th, NULL);
	cr_assert_eq(wr.failed, 0, "no room for frame %llu",
	    (unsigned long long)wr.failed);
	cr_assert_geq(reads, MIN_READS, "only %llu consistent reads",
	    (unsigned long long)reads);
	cr_assert_gt(distinct, 10, "the reader saw %llu frames",
	    (unsigned long long)distinct);
	cr_log_info("%llu consistent reads of %llu frames, %llu retries",
	    (unsigned long long)reads, (unsigned long long)distinct,
	    (unsigned long long)shm_retries(r));
	/* It grew: the last frames have more threads than the first slot. */
	cr_assert_gt(wr.w.cap_threads, 64);
	cr_assert_eq(shm_read(r, &f), 0);
	cr_assert_eq(f.head.updates, ROUNDS);
	cr_assert_null(torn(&f));
	shm_frame_free(&f);
	shm_detach(r);
	shm_writer_stop(&wr.w, 1);
	shm_writer_forget(&wr.w);
}

/* A valid file with one frame, for the tests to damage. */
static void
make_file(void)
{
	struct shm_writer w;

	open_writer(&w, 64);
	cr_assert_eq(publish(&w, 1), 0);
	shm_writer_forget(&w);
}

static void
patch(off_t at, const void *bytes, size_t len)
{
	int fd = open(path, O_RDWR);

	cr_assert_neq(fd, -1);
	cr_assert_eq(pwrite(fd, bytes, len, at), (ssize_t)len);
	close(fd);
}

static void
refused(const char *what)
{
	struct shm_reader *r;
	char err[SHM_ERR_MAX] = "";

	r = shm_attach_path(path, err, sizeof err);
	cr_assert_null(r, "attached to a file with %s", what);
	cr_assert_eq(errno, EPROTO, "%s: errno %d (%s)", what, errno, err);
	cr_assert_neq(err[0], '\0', "%s: no message", what);
}

Test(shm, good_file_is_accepted)
{
	struct shm_reader *r;
	struct shm_frame f;
	char err[SHM_ERR_MAX];

	memset(&f, 0, sizeof f);
	make_file();
	r = shm_attach_path(path, err, sizeof err);
	cr_assert_not_null(r, "%s", err);
	cr_assert_eq(shm_pid(r), getpid());
	cr_assert_eq(shm_read(r, &f), 0);
	cr_assert_null(torn(&f));
	cr_assert_str_eq(f.command, "test");
	cr_assert_eq(f.loop_stall_ms, 250, "the writer's loop-stall "
	    "threshold, read back: %u", f.loop_stall_ms);
	shm_frame_free(&f);
	shm_detach(r);
}

Test(shm, wrong_magic_is_refused)
{
	make_file();
	patch(0, "notours", 8);
	refused("a wrong magic");
}

Test(shm, other_version_is_refused)
{
	uint32_t v = GW_SHM_VERSION + 1;

	make_file();
	patch(offsetof(struct gw_shm_header, version), &v, sizeof v);
	refused("another version");
}

Test(shm, smaller_records_are_refused)
{
	uint32_t size = sizeof(struct gw_shm_thread) - 8;

	make_file();
	patch(offsetof(struct gw_shm_header, thread_size), &size, sizeof size);
	refused("a thread record smaller than this version's");
}

Test(shm, truncated_file_is_refused)
{
	struct stat st;

	make_file();
	cr_assert_eq(stat(path, &st), 0);
	cr_assert_eq(truncate(path, st.st_size / 2), 0);
	refused("half its length");
	cr_assert_eq(truncate(path, 100), 0);
	refused("less than a header");
}

/* Attach to the file (it must take) and read a frame: shm_read's
 * result. */
static int
read_frame(struct shm_reader **r, struct shm_frame *fr)
{
	char err[SHM_ERR_MAX];

	memset(fr, 0, sizeof *fr);
	*r = shm_attach_path(path, err, sizeof err);
	cr_assert_not_null(*r, "%s", err);
	return shm_read(*r, fr);
}

Test(shm, damaged_section_is_an_error_not_a_crash)
{
	struct shm_writer w;
	struct gw_shm_frame *f;
	struct shm_reader *r;
	struct shm_frame fr;

	open_writer(&w, 64);
	f = shm_writer_begin(&w);
	f->updates = 1;
	f->threads_off = sizeof *f;
	f->nthreads = 1000000;		/* far past the slot */
	shm_writer_commit(&w);
	cr_assert_eq(read_frame(&r, &fr), -1);
	cr_assert_eq(errno, EPROTO);
	shm_detach(r);
	shm_frame_free(&fr);
	shm_writer_forget(&w);
}

/* A frame with one blame line and two parts of a wait; nblame as given
 * (past the slot: damaged). */
static void
publish_blame(struct shm_writer *w, uint32_t nblame)
{
	struct gw_shm_blame_site *bs;
	struct gw_shm_blame *b;
	struct gw_shm_frame *f;
	size_t room;

	f = shm_writer_begin(w);
	f->updates = 1;
	f->rt_budget_ns = 2000000;
	f->rt_misses = 7;
	bs = shm_writer_room(w, &room);
	memset(bs, 0, sizeof *bs);
	bs->blocking_ns = 5;
	bs->recent_ns = 3;
	bs->line = 41;
	/* Unterminated: the reader must end it. */
	memset(bs->function, 'x', sizeof bs->function);
	snprintf(bs->file, sizeof bs->file, "a.py");
	f->blame_sites_off = shm_writer_claim(w, sizeof *bs);
	f->nblame_sites = 1;
	b = shm_writer_room(w, &room);
	memset(b, 0, 2 * sizeof *b);
	b[0].waiter = b[1].waiter = 12;
	b[0].kind = GW_SHM_BLAME_HOLDER;
	b[0].holder = 13;
	b[0].ns = 9;
	b[1].kind = GW_SHM_BLAME_LINE;
	b[1].line = 41;
	snprintf(b[1].function, sizeof b[1].function, "spin");
	f->blame_off = shm_writer_claim(w, 2 * sizeof *b);
	f->nblame = nblame;
	shm_writer_commit(w);
}

Test(shm, blame_sections_read_back)
{
	struct shm_writer w;
	struct shm_reader *r;
	struct shm_frame fr;

	open_writer(&w, 64);
	publish_blame(&w, 2);
	cr_assert_eq(read_frame(&r, &fr), 0);
	cr_assert_eq(fr.head.rt_budget_ns, 2000000);
	cr_assert_eq(fr.head.rt_misses, 7);
	cr_assert_eq(fr.nblame_sites, 1);
	cr_assert_eq(fr.blame_sites[0].blocking_ns, 5);
	cr_assert_eq(fr.blame_sites[0].recent_ns, 3);
	cr_assert_eq(strlen(fr.blame_sites[0].function), GW_SHM_FUNC_LEN - 1);
	cr_assert_str_eq(fr.blame_sites[0].file, "a.py");
	cr_assert_eq(fr.nblame, 2);
	cr_assert_eq(fr.blame[0].holder, 13);
	cr_assert_eq(fr.blame[0].ns, 9);
	cr_assert_str_eq(fr.blame[1].function, "spin");
	cr_assert_eq(fr.blame[1].waiter, 12);
	shm_detach(r);
	shm_frame_free(&fr);
	shm_writer_forget(&w);
}

/*
 * A free-threaded CPython's fields read back: a thread's critical
 * sections (a count past the array is cut to it, unterminated type
 * names are ended), the pause note (ended too), the PyMutex totals.
 */
Test(shm, free_threaded_fields_read_back)
{
	struct gw_shm_thread *t;
	struct gw_shm_frame *f;
	struct shm_writer w;
	struct shm_reader *r;
	struct shm_frame fr;
	size_t room;

	open_writer(&w, 64);
	f = shm_writer_begin(&w);
	f->updates = 1;
	memset(f->pause, 'p', sizeof f->pause);
	f->pymutex_locks = 2;
	f->pymutex_waits = 3;
	f->pymutex_wait_ns = 4;
	f->pymutex_wait_max_ns = 5;
	t = shm_writer_room(&w, &room);
	memset(t, 0, sizeof *t);
	t->tid = 7;
	t->ncritical = GW_SHM_CS + 3;
	t->critical_more = 1;
	t->critical[0].state = GW_CS_HELD;
	t->critical[0].object = 0x1000;
	t->critical[0].mutex = 0x100a;
	memset(t->critical[0].type, 'l', sizeof t->critical[0].type);
	snprintf(t->critical[1].type2, sizeof t->critical[1].type2, "dict");
	f->threads_off = shm_writer_claim(&w, sizeof *t);
	f->nthreads = 1;
	shm_writer_commit(&w);
	cr_assert_eq(read_frame(&r, &fr), 0);
	cr_assert_eq(strlen(fr.head.pause), GW_SHM_PAUSE_LEN - 1);
	cr_assert_eq(fr.head.pymutex_locks, 2);
	cr_assert_eq(fr.head.pymutex_waits, 3);
	cr_assert_eq(fr.head.pymutex_wait_ns, 4);
	cr_assert_eq(fr.head.pymutex_wait_max_ns, 5);
	cr_assert_eq(fr.nthreads, 1);
	t = &fr.threads[0];
	cr_assert_eq(t->ncritical, GW_SHM_CS);
	cr_assert_eq(t->critical_more, 1);
	cr_assert_eq(t->critical[0].state, GW_CS_HELD);
	cr_assert_eq(t->critical[0].object, 0x1000);
	cr_assert_eq(t->critical[0].mutex, 0x100a);
	cr_assert_eq(strlen(t->critical[0].type), GW_SHM_PYTYPE_LEN - 1);
	cr_assert_str_eq(t->critical[1].type2, "dict");
	shm_detach(r);
	shm_frame_free(&fr);
	shm_writer_forget(&w);
}

Test(shm, damaged_blame_section_is_an_error)
{
	struct shm_writer w;
	struct shm_reader *r;
	struct shm_frame fr;

	open_writer(&w, 64);
	publish_blame(&w, 1000000);
	cr_assert_eq(read_frame(&r, &fr), -1);
	cr_assert_eq(errno, EPROTO);
	shm_detach(r);
	shm_frame_free(&fr);
	shm_writer_forget(&w);
}

Test(shm, writer_without_blame_has_none)
{
	struct shm_writer w;
	struct shm_reader *r;
	struct shm_frame fr;
	uint32_t zero = 0;

	open_writer(&w, 64);
	publish_blame(&w, 2);
	patch(offsetof(struct gw_shm_header, blame_size), &zero, sizeof zero);
	patch(offsetof(struct gw_shm_header, blame_site_size), &zero,
	    sizeof zero);
	cr_assert_eq(read_frame(&r, &fr), 0);
	cr_assert_eq(fr.nblame_sites, 0);
	cr_assert_eq(fr.nblame, 0);
	shm_detach(r);
	shm_frame_free(&fr);
	shm_writer_forget(&w);
}

Test(shm, stopped_writer_is_seen_as_ended)
{
	struct shm_writer w;
	struct shm_reader *r;
	struct shm_frame f;
	char err[SHM_ERR_MAX], why[128];

	memset(&f, 0, sizeof f);
	open_writer(&w, 64);
	cr_assert_eq(publish(&w, 1), 0);
	r = shm_attach_path(path, err, sizeof err);
	cr_assert_not_null(r, "%s", err);
	cr_assert_eq(shm_read(r, &f), 0);
	cr_assert_eq(shm_life(r, why, sizeof why), SHM_LIVE, "%s", why);
	shm_writer_stop(&w, 1);
	cr_assert_eq(access(path, F_OK), -1, "stop removes the file");
	cr_assert_eq(shm_life(r, why, sizeof why), SHM_ENDED);
	cr_assert(strstr(why, "exited") != NULL, "%s", why);
	shm_frame_free(&f);
	shm_detach(r);
	shm_writer_forget(&w);
}

/*
 * The real publisher on this process: it finds the calling thread, by
 * its name, and removes its file when stopped.
 */
Test(shm, publisher_shows_this_thread)
{
	struct shm_reader *r;
	struct shm_frame f;
	struct thread *self;
	char err[SHM_ERR_MAX];
	uint32_t i;
	int found = 0;

	memset(&f, 0, sizeof f);
	cr_assert_eq(setenv("XDG_RUNTIME_DIR", dir, 1), 0);
	cr_assert_eq(lock_table_init(1024), 0);
	thread_registry_init(NULL);
	cr_assert_not_null(self = thread_self());
	thread_name_changed(self, "test-main");
	publish_start();
	r = shm_attach(getpid(), err, sizeof err);
	cr_assert_not_null(r, "%s", err);
	cr_assert_eq(shm_read(r, &f), 0, "read: %s", strerror(errno));
	cr_assert_eq(f.pid, getpid());
	for (i = 0; i < f.nthreads; i++)
		if (f.threads[i].tid == gettid()) {
			found = 1;
			cr_assert_str_eq(f.threads[i].name, "test-main");
			cr_assert_eq(f.threads[i].state, GW_STATE_RUNNING);
		}
	cr_assert(found, "this thread is not in the frame (%u threads)",
	    f.nthreads);
	publish_stop();
	cr_assert_eq(shm_path(0, getpid(), path, sizeof path), 0);
	cr_assert_eq(access(path, F_OK), -1, "publish_stop removes %s",
	    path);
	shm_frame_free(&f);
	shm_detach(r);
}
