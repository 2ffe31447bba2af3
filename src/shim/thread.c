/* The thread registry: see thread.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "lock.h"
#include "pages.h"
#include "rtpolicy.h"
#include "stats.h"
#include "taskfile.h"
#include "thread.h"
#include "ulock.h"
#include "share.h"
#include "monitor.h"

#define THREAD_CHUNK	64	/* records allocated together */

static __thread int tls_internal;	/* a gilwatch thread: never registers */

static GW_SHARED struct thread *_Atomic head;
static GW_SHARED atomic_uint nused;
static GW_SHARED struct ulock grow_lock = ULOCK_INIT;
static pthread_key_t exit_key;
static GW_SHARED atomic_int enabled;
static void (*ending)(struct thread *);

void	(*thread_last_exit)(void);
void	(*thread_create_hook)(void);

uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void
exit_destructor(void *arg)
{
	thread_exit(arg);
}

void
thread_registry_init(void (*on_exit)(struct thread *))
{
	ending = on_exit;
	pthread_key_create(&exit_key, exit_destructor);
	atomic_store(&enabled, 1);
}

static struct thread *
claim_free(void)
{
	struct thread *t;
	int expect;

	for (t = atomic_load(&head); t != NULL; t = t->next) {
		expect = 0;
		if (atomic_load_explicit(&t->in_use, memory_order_relaxed) == 0
		    && atomic_compare_exchange_strong(&t->in_use, &expect, 1))
			return t;
	}
	return NULL;
}

/*
 * A record never used before, claimed (in_use), added at the end of the
 * list, so that walks see threads in the order they came (dumps list
 * them so); NULL when out of memory.  Records are mapped a chunk at a
 * time but joined to the list one by one, as threads come: a record is
 * most of a page, and linking a whole chunk up front touched 64 pages
 * (a fault each, 0.1 ms of start-up in every process).  Under
 * grow_lock, which orders the appends; walkers read next as it is
 * published, after the record's own next.
 */
static struct thread *
fresh_record(void)
{
	/* Shared: a fork child's copy of the list goes with them. */
	static GW_SHARED struct thread *chunk, *tail;
	static GW_SHARED_DATA int used = THREAD_CHUNK;
	struct thread *t;

	if (used == THREAD_CHUNK) {
		if ((t = pages_map(THREAD_CHUNK * sizeof *t)) == NULL)
			return NULL;
		chunk = t;
		used = 0;
	}
	t = &chunk[used++];
	atomic_store(&t->in_use, 1);
	t->next = NULL;
	if (tail == NULL)
		atomic_store(&head, t);
	else
		__atomic_store_n(&tail->next, t, __ATOMIC_RELEASE);
	tail = t;
	return t;
}

/* The floor is the inline array's held[-1]. */
_Static_assert(offsetof(struct thread, inline_held) ==
    offsetof(struct thread, held_floor) + sizeof(struct held),
    "held_floor right below inline_held");

static void
reset_record(struct thread *t)
{
	atomic_store(&t->tid, (int)syscall(SYS_gettid));
	t->self = pthread_self();
	t->name[0] = '\0';
	thread_set_pyname(t, "");
	t->pyname_next = 0;
	atomic_store(&t->py_ts, 0);
	t->pyname_fails = 0;
	t->internal = 0;
	t->held = t->inline_held;
	t->nheld = 0;
	t->cap = THREAD_INLINE_HELD;
	memset(&t->wait, 0, sizeof t->wait);
	atomic_store(&t->sampler_answered, 0);
	atomic_store(&t->py_join_gen, 0);
	atomic_store(&t->sel_left, 0);
	atomic_store(&t->sel_inside, 0);
	t->loop_seen = 0;
	/* Any non-zero seed; threads apart, so their draws differ. */
	t->hold_rng = (uint32_t)atomic_load(&t->tid) * 2654435761u | 1;
	t->hold_skip = stats_hold_gap(&t->hold_rng);
	atomic_store(&t->gil_state, GIL_NONE);
	t->gil_slept = 0;
	t->gil_wait_later = 0;
	atomic_store(&t->gil_hold, 0);
	atomic_store(&t->gil_wait, 0);
	atomic_store(&t->gil_acquired, 0);
	atomic_store(&t->gil_wait_max, 0);
	memset(t->gil_wait_hist, 0, sizeof t->gil_wait_hist);
	t->waited = 0;
	thread_recent_clear(t);
	t->py_lock = NULL;
	t->block_stack.depth = 0;
	t->since_ns = now_ns();
	atomic_store(&t->state, GW_STATE_RUNNING);
}

static struct thread *
register_self(void)
{
	struct thread *t;

	if ((t = claim_free()) == NULL) {
		ulock_lock(&grow_lock);
		if ((t = claim_free()) == NULL)
			t = fresh_record();
		ulock_unlock(&grow_lock);
		if (t == NULL)
			return NULL;
	}
	reset_record(t);
	atomic_fetch_add(&nused, 1);
	thread_mine = t;
	thread_enter_shim();
	pthread_setspecific(exit_key, t);
	thread_leave_shim();
	return t;
}

void
thread_recent_clear(struct thread *t)
{
	size_t i;

	for (i = 0; i < sizeof t->recent / sizeof t->recent[0]; i++)
		atomic_store_explicit(&t->recent[i], &lock_none,
		    memory_order_relaxed);
	atomic_store_explicit(&t->last, &lock_none, memory_order_relaxed);
}

int
thread_registry_ready(void)
{
	return atomic_load(&enabled);
}

struct thread *
thread_self_register(void)
{
	if (guard_depth || tls_internal || !atomic_load(&enabled))
		return NULL;
	return register_self();
}

struct thread *
thread_peek(void)
{
	return thread_mine;
}

void
thread_set_internal(void)
{
	tls_internal = 1;
	guard_depth = 1;
	thread_ready = NULL;
	thread_mine = NULL;	/* the monitor's copy of a program thread's */
}

struct thread *
thread_first(void)
{
	return atomic_load(&head);
}

int
thread_ended_policy(pid_t tid, int *prio)
{
	struct thread *t;
	int policy;

	for (t = atomic_load(&head); t != NULL; t = t->next) {
		if (atomic_load(&t->in_use) || atomic_load(&t->tid) != tid)
			continue;
		policy = t->end_policy;
		*prio = t->end_prio;
		/* Not taken over by a new thread while we read. */
		if (!atomic_load(&t->in_use) && atomic_load(&t->tid) == tid)
			return policy;
	}
	return -1;
}

struct thread *
thread_by_tid(pid_t tid)
{
	struct thread *t;

	for (t = atomic_load(&head); t != NULL; t = t->next)
		if (atomic_load(&t->in_use) && atomic_load(&t->tid) == tid)
			return t;
	return NULL;
}

struct thread *
thread_by_tid_hint(pid_t tid, uintptr_t hint)
{
	struct thread *t = (struct thread *)hint;

	/* Records are never freed: a stale hint is still safe to look at. */
	if (t != NULL && atomic_load(&t->in_use) &&
	    atomic_load(&t->tid) == tid)
		return t;
	return thread_by_tid(tid);
}

struct thread *
thread_by_pthread(pthread_t pt)
{
	struct thread *t;

	for (t = atomic_load(&head); t != NULL; t = t->next)
		if (atomic_load(&t->in_use) && pthread_equal(t->self, pt))
			return t;
	return NULL;
}

unsigned
thread_count(void)
{
	return atomic_load(&nused);
}

struct held *
thread_find_held(struct thread *t, uintptr_t addr)
{
	uint32_t i;

	for (i = t->nheld; i > 0; i--)
		if (t->held[i - 1].addr == addr)
			return &t->held[i - 1];
	return NULL;
}

/*
 * The old array is left in place, not unmapped: a reader on another
 * thread may still be copying from it.  Growth doubles, so what is left
 * behind is at most the size of the live array.
 */
int
thread_grow_held(struct thread *t)
{
	struct held *bigger;
	uint32_t cap = t->cap * 2;
	int saved = errno;	/* the hooks' path keeps it */

	/* One more: the floor below held[0] (thread.h), left all 0. */
	bigger = pages_map((cap + 1) * sizeof *bigger);
	if (bigger == NULL) {
		errno = saved;
		return 0;
	}
	bigger++;
	memcpy(bigger, t->held, t->nheld * sizeof *bigger);
	t->held = bigger;
	t->cap = cap;
	return 1;
}

void
thread_set_state(struct thread *t, enum gw_thread_state s)
{
	t->since_ns = now_ns();
	/*
	 * Release: who reads the state reads since_ns with it.  A waiter
	 * that must see other waiters orders the two itself (the fence in
	 * track_wait_begin), so no locked store here.
	 */
	atomic_store_explicit(&t->state, s, memory_order_release);
}

#define PYNAME_TRIES	8	/* copies tried while the owner writes */

void
thread_set_pyname(struct thread *t, const char *name)
{
	if (strncmp(t->pyname, name, sizeof t->pyname - 1) == 0)
		return;
	seq_write_begin(&t->pyname_seq);
	snprintf(t->pyname, sizeof t->pyname, "%s", name);
	seq_write_end(&t->pyname_seq);
}

int
thread_pyname(struct thread *t, char *buf, size_t len)
{
	char copy[THREAD_PYNAME_MAX];
	unsigned s;
	int i;

	buf[0] = '\0';
	for (i = 0; i < PYNAME_TRIES; i++) {
		s = atomic_load_explicit(&t->pyname_seq, memory_order_acquire);
		if (s & 1)
			continue;
		memcpy(copy, t->pyname, sizeof copy);
		atomic_thread_fence(memory_order_acquire);
		if (atomic_load_explicit(&t->pyname_seq,
		    memory_order_relaxed) != s)
			continue;
		copy[sizeof copy - 1] = '\0';
		if (copy[0] == '\0')
			return -1;
		/* A plain copy: a signal handler calls this (sigdump.c). */
		len = len < sizeof copy ? len : sizeof copy;
		memcpy(buf, copy, len);
		buf[len - 1] = '\0';
		return 0;
	}
	return -1;
}

void
thread_name_told(struct thread *t, const char *comm, char *buf, size_t len)
{
	if (thread_pyname(t, buf, len) == 0)
		return;
	if (comm != NULL && comm[0] != '\0')
		snprintf(buf, len, "%s", comm);
	else if (taskfile_read(monitor_program(), atomic_load(&t->tid),
	    TASKFILE_COMM, buf, len) > 0)
		buf[strcspn(buf, "\n")] = '\0';
	else
		snprintf(buf, len, "%s", t->name);
}

void
thread_name(struct thread *t, char *buf, size_t len)
{
	thread_name_told(t, NULL, buf, len);
}

int
thread_given_name(struct thread *t, char *buf, size_t len)
{
	/* Bounded: a rename may be writing it. */
	snprintf(buf, len, "%.*s", (int)sizeof t->name - 1, t->name);
	return buf[0] != '\0' ? 0 : -1;
}

void
thread_name_changed(struct thread *t, const char *name)
{
	snprintf(t->name, sizeof t->name, "%s", name);
}

void
thread_exit(struct thread *t)
{
	if (t == NULL || thread_mine != t)
		return;
	t->end_policy = rt_policy(0, &t->end_prio);
	if (ending != NULL)
		ending(t);
	thread_set_state(t, GW_STATE_EXITED);
	thread_mine = NULL;
	thread_ready = NULL;
	tls_internal = 1;	/* later destructors must not re-register */
	atomic_store(&t->in_use, 0);
	if (atomic_fetch_sub(&nused, 1) == 1 && thread_last_exit != NULL)
		thread_last_exit();
}

void
thread_after_fork_child(void)
{
	struct thread *t;
	unsigned n = 0;

	ulock_init(&grow_lock);
	for (t = atomic_load(&head); t != NULL; t = t->next) {
		if (t == thread_mine) {
			atomic_store(&t->tid, (int)syscall(SYS_gettid));
			t->self = pthread_self();
			n++;
		} else {
			t->end_policy = -1;	/* the parent's, not ended */
			atomic_store(&t->in_use, 0);
		}
	}
	atomic_store(&nused, n);
}

int
thread_copy_wait(struct thread *t, struct wait_copy *c)
{
	unsigned s1, s2;
	int tries;

	for (tries = 0; tries < 100; tries++) {
		s1 = atomic_load_explicit(&t->seq, memory_order_acquire);
		if (s1 & 1)
			continue;
		c->state = atomic_load(&t->state);
		c->since_ns = t->since_ns;
		c->wait = t->wait;
		c->gen = atomic_load(&t->wait_gen);
		atomic_thread_fence(memory_order_acquire);
		s2 = atomic_load_explicit(&t->seq, memory_order_relaxed);
		if (s1 == s2)
			return 0;
	}
	return -1;
}

int
thread_wait_owner(const struct waitinfo *w, const struct thread *t,
    pid_t *owner)
{
	const struct lockrec *rec = w->rec;
	const struct thread *o;

	*owner = 0;
	if (rec == NULL)
		return 0;
	if ((o = (const struct thread *)atomic_load(&rec->owner_thread)) == t)
		return -1;
	if (o != NULL)
		*owner = atomic_load(&o->tid);
	return 0;
}
