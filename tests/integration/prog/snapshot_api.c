/*
 * snapshot_api: the public snapshot API (include/gilwatch/snapshot.h)
 * seen from a program.  "holder" holds mutex M while "blocker" blocks on
 * it; main takes a snapshot and checks that blocker is blocked waiting
 * for &M owned by holder's TID and that holder's held list has &M.  Then
 * it writes the snapshot as JSON to stdout.
 *
 * It does not link libgilwatch: the API is looked up with dlsym at run
 * time, and the program exits 3 when it is absent (not preloaded).
 * Checks go to stderr as "ok NAME" / "FAIL NAME ..."; exit 1 if any failed.
 */
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <gilwatch/snapshot.h>

#include "sample.h"

static __typeof__(gw_snapshot_take)	*snap_take;
static __typeof__(gw_snapshot_thread)	*snap_thread;
static __typeof__(gw_snapshot_write)	*snap_write;
static __typeof__(gw_snapshot_free)	*snap_free;
static __typeof__(gw_thread_state_name)	*state_name;
static __typeof__(gw_lock_kind_name)	*kind_name;

static pthread_mutex_t	M = PTHREAD_MUTEX_INITIALIZER;
static pthread_barrier_t held;
static int		release_fd[2];
static atomic_int	holder_tid, blocker_tid;
static int		failures;

static void
check(const char *name, int ok)
{
	if (ok)
		fprintf(stderr, "ok %s\n", name);
	else {
		fprintf(stderr, "FAIL %s\n", name);
		failures++;
	}
}

static void *
resolve(const char *name)
{
	void *p;

	if ((p = dlsym(RTLD_DEFAULT, name)) == NULL) {
		fprintf(stderr, "snapshot_api: %s not found: libgilwatch.so "
		    "is not loaded\n", name);
		exit(3);
	}
	return p;
}

static void *
holder(void *arg)
{
	char c;

	sample_thread("holder");
	atomic_store(&holder_tid, gettid());
	pthread_mutex_lock(&M);
	pthread_barrier_wait(&held);
	while (read(release_fd[0], &c, 1) == -1 && errno == EINTR)
		;
	pthread_mutex_unlock(&M);
	return NULL;
}

static void *
blocker(void *arg)
{
	sample_thread("blocker");
	atomic_store(&blocker_tid, gettid());
	pthread_mutex_lock(&M);
	pthread_mutex_unlock(&M);
	return NULL;
}

/* Take snapshots until blocker shows as blocked; ten seconds at most. */
static int
wait_blocked(pid_t tid)
{
	struct timespec tick = { 0, 10000000 };
	const struct gw_thread_info *t;
	struct gw_snapshot *s;
	int i, blocked = 0;

	for (i = 0; i < 1000 && !blocked; i++) {
		if ((s = snap_take(GW_SNAP_NO_STACKS)) == NULL)
			return 0;
		t = snap_thread(s, tid);
		blocked = t != NULL && t->state == GW_STATE_BLOCKED;
		snap_free(s);
		if (!blocked)
			nanosleep(&tick, NULL);
	}
	return blocked;
}

/* Does one of t's frames name function fn? */
static int
has_frame(const struct gw_thread_info *t, const char *fn)
{
	size_t i;

	for (i = 0; i < t->nframes; i++)
		if (t->frames[i].function != NULL &&
		    strcmp(t->frames[i].function, fn) == 0)
			return 1;
	return 0;
}

static void
check_snapshot(const struct gw_snapshot *s, pid_t htid, pid_t btid)
{
	const struct gw_thread_info *h, *b, *self;
	const struct gw_wait *w;
	uintptr_t m = (uintptr_t)&M;
	size_t i;
	int found = 0;

	check("version", s->version == GW_SNAPSHOT_VERSION);
	check("pid", s->pid == getpid());
	check("no_deadlocks", s->ndeadlocks == 0);
	check("main_thread_present", (self = snap_thread(s, getpid())) != NULL);
	/* Our own stack, taken in the call: it runs through main. */
	if (self != NULL)
		check("main_in_own_frames", has_frame(self, "main"));
	h = snap_thread(s, htid);
	b = snap_thread(s, btid);
	check("holder_present", h != NULL);
	check("blocker_present", b != NULL);
	if (h == NULL || b == NULL)
		return;
	check("holder_name", h->name != NULL && strcmp(h->name, "holder") == 0);
	check("blocker_name", b->name != NULL &&
	    strcmp(b->name, "blocker") == 0);
	check("blocker_blocked", b->state == GW_STATE_BLOCKED);
	check("state_name_blocked", strcmp(state_name(b->state), "blocked") == 0);
	check("blocker_waiting", (w = b->waiting) != NULL);
	if (w != NULL) {
		check("waiting_addr", w->lock.addr == m);
		check("waiting_kind", w->lock.kind == GW_LOCK_MUTEX);
		check("kind_name_mutex",
		    strcmp(kind_name(w->lock.kind), "mutex") == 0);
		check("waiting_untimed", !w->timed);
		check("one_owner", w->nowners == 1);
		check("owner_is_holder", w->nowners >= 1 &&
		    w->owners[0] == htid);
	}
	for (i = 0; i < h->nheld; i++)
		if (h->held[i].lock.addr == m) {
			found = 1;
			check("held_kind", h->held[i].lock.kind ==
			    GW_LOCK_MUTEX);
			check("held_count", h->held[i].count == 1);
		}
	check("holder_holds_M", found);
	check("blocker_holds_nothing", b->nheld == 0);
	check("blocker_in_blocker_frames", has_frame(b, "blocker"));
	check("holder_in_holder_frames", has_frame(h, "holder"));
}

int
main(void)
{
	struct gw_snapshot *s;
	pthread_t ht, bt;

	snap_take = resolve("gw_snapshot_take");
	snap_thread = resolve("gw_snapshot_thread");
	snap_write = resolve("gw_snapshot_write");
	snap_free = resolve("gw_snapshot_free");
	state_name = resolve("gw_thread_state_name");
	kind_name = resolve("gw_lock_kind_name");

	sample_pid();
	sample_lock(&M, "M");
	if (pipe(release_fd) == -1) {
		perror("pipe");
		return 1;
	}
	pthread_barrier_init(&held, NULL, 2);
	if (pthread_create(&ht, NULL, holder, NULL) != 0)
		goto fail;
	pthread_barrier_wait(&held);
	if (pthread_create(&bt, NULL, blocker, NULL) != 0)
		goto fail;
	while (atomic_load(&blocker_tid) == 0)
		sched_yield();

	check("blocker_blocks", wait_blocked(blocker_tid));
	if ((s = snap_take(0)) == NULL) {
		fprintf(stderr, "FAIL gw_snapshot_take: %s\n", strerror(errno));
		return 1;
	}
	check_snapshot(s, holder_tid, blocker_tid);
	check("write_json", snap_write(s, STDOUT_FILENO, GW_FORMAT_JSON) == 0);
	snap_free(s);

	close(release_fd[1]);
	pthread_join(ht, NULL);
	pthread_join(bt, NULL);
	fprintf(stderr, "%s: %d failed\n", failures ? "FAIL" : "ok", failures);
	return failures != 0;
fail:
	fprintf(stderr, "snapshot_api: pthread_create failed\n");
	return 1;
}
