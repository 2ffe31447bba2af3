/*
 * Telling glibc waits apart from outside (glibc.c), on real locks of
 * this process read through the memory source (this process): a waiter
 * that is not there, described by the system call it would show.
 */
#include <criterion/criterion.h>
#include <pthread.h>
#include <semaphore.h>
#include <string.h>
#include <unistd.h>
#include <linux/futex.h>

#include "gilwatch/snapshot.h"
#include "glibc.h"
#include "maps.h"
#include "mem.h"
#include "task.h"

#define WAITER	((pid_t)0x7ffffff0)	/* no real thread: sorts last */

static pid_t tidv[2];
static struct glibc_tids tids = { tidv, 2 };

static void
setup(void)
{
	mem_source_self();
	tidv[0] = gettid();
	tidv[1] = WAITER;
}

TestSuite(glibc, .init = setup);

static struct task
futex_wait(const void *uaddr, int op, unsigned val)
{
	struct task t;

	memset(&t, 0, sizeof t);
	t.tid = WAITER;
	t.state = 'S';
	t.syscall = 202;
	t.args[0] = (uintptr_t)uaddr;
	t.args[1] = (uint64_t)op;
	t.args[2] = val;
	return t;
}

static const char *mutex_fns[] = { "__GI___lll_lock_wait",
    "__pthread_mutex_lock@GLIBC_2.2.5", "worker" };

Test(glibc, mutex_owner_from_the_stack)
{
	pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
	struct task t = futex_wait(&m, FUTEX_WAIT_PRIVATE, 2);
	struct glibc_wait w;

	pthread_mutex_lock(&m);
	cr_assert_eq(glibc_classify(&t, mutex_fns, 3, &tids, &w), 1);
	cr_expect_eq(w.kind, GW_LOCK_MUTEX);
	cr_expect_eq(w.addr, (uintptr_t)&m);
	cr_expect_eq(w.owner, gettid());
	cr_expect_eq(w.count, 1);
	cr_expect_not(w.inferred);
	pthread_mutex_unlock(&m);
}

Test(glibc, recursive_depth)
{
	pthread_mutexattr_t a;
	pthread_mutex_t m;
	struct task t = futex_wait(&m, FUTEX_WAIT_PRIVATE, 2);
	struct glibc_wait w;

	pthread_mutexattr_init(&a);
	pthread_mutexattr_settype(&a, PTHREAD_MUTEX_RECURSIVE);
	pthread_mutex_init(&m, &a);
	pthread_mutex_lock(&m);
	pthread_mutex_lock(&m);
	pthread_mutex_lock(&m);
	glibc_classify(&t, mutex_fns, 3, &tids, &w);
	cr_expect_eq(w.owner, gettid());
	cr_expect_eq(w.count, 3);
}

Test(glibc, internal_lock_is_never_a_mutex)
{
	pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
	const char *fns[] = { "__GI___lll_lock_wait_private", "_int_free",
	    "free" };
	struct task t = futex_wait(&m, FUTEX_WAIT_PRIVATE, 2);
	struct glibc_wait w;

	/* Even with a word that looks like a held mutex's. */
	pthread_mutex_lock(&m);
	glibc_classify(&t, fns, 3, &tids, &w);
	cr_expect_eq(w.kind, GW_LOCK_FUTEX);
	cr_expect_eq(w.owner, 0);
	cr_expect(strstr(w.note, "glibc-internal") != NULL, "%s", w.note);
	pthread_mutex_unlock(&m);
}

Test(glibc, mutex_inferred_without_a_stack)
{
	unsigned words[10] = { 2, 0, 0, 0, 0 };
	struct task t = futex_wait(words, FUTEX_WAIT_PRIVATE, 2);
	struct glibc_wait w;

	words[2] = (unsigned)gettid();	/* __owner */
	glibc_classify(&t, NULL, 0, &tids, &w);
	cr_expect_eq(w.kind, GW_LOCK_MUTEX);
	cr_expect_eq(w.owner, gettid());
	cr_expect(w.inferred);
	/* An owner word that names no thread of the process: no guess. */
	words[2] = 12345;
	glibc_classify(&t, NULL, 0, &tids, &w);
	cr_expect_eq(w.kind, GW_LOCK_FUTEX);
	cr_expect_eq(w.owner, 0);
	cr_expect_not(w.inferred);
}

Test(glibc, pi_owner_from_the_lock_word)
{
	unsigned words[10] = { 0 };
	struct task t = futex_wait(words, FUTEX_LOCK_PI_PRIVATE, 0);
	struct glibc_wait w;

	/* FUTEX_WAITERS set, the owner in the low 30 bits. */
	words[0] = 0x80000000u | (unsigned)gettid();
	glibc_classify(&t, NULL, 0, &tids, &w);
	cr_expect_eq(w.kind, GW_LOCK_MUTEX);
	cr_expect_eq(w.owner, gettid());
	cr_expect_not(w.inferred);
}

Test(glibc, rwlock_writer_and_reader)
{
	pthread_rwlock_t rw = PTHREAD_RWLOCK_INITIALIZER;
	const char *wr[] = { "__futex_abstimed_wait_common",
	    "pthread_rwlock_wrlock@@GLIBC_2.34" };
	const char *rd[] = { "__futex_abstimed_wait_common",
	    "pthread_rwlock_rdlock@@GLIBC_2.34" };
	struct task t;
	struct glibc_wait w;

	pthread_rwlock_wrlock(&rw);
	t = futex_wait((char *)&rw + 12, 0x189, 3);
	glibc_classify(&t, wr, 2, &tids, &w);
	cr_expect_eq(w.kind, GW_LOCK_RWLOCK);
	cr_expect_eq(w.mode, GW_MODE_EXCLUSIVE);
	cr_expect_eq(w.addr, (uintptr_t)&rw);
	cr_expect_eq(w.owner, gettid());
	t = futex_wait((char *)&rw + 8, 0x189, 3);
	glibc_classify(&t, rd, 2, &tids, &w);
	cr_expect_eq(w.mode, GW_MODE_SHARED);
	cr_expect_eq(w.addr, (uintptr_t)&rw);
	cr_expect_eq(w.owner, gettid());
	pthread_rwlock_unlock(&rw);
	/* Held by two readers: a count, no owner named. */
	pthread_rwlock_rdlock(&rw);
	pthread_rwlock_rdlock(&rw);
	t = futex_wait((char *)&rw + 8, 0x189, 2);
	glibc_classify(&t, wr, 2, &tids, &w);
	cr_expect_eq(w.addr, (uintptr_t)&rw);
	cr_expect_eq(w.owner, 0);
	cr_expect(strstr(w.note, "by 2 thread(s)") != NULL, "%s", w.note);
}

Test(glibc, join_and_semaphore)
{
	const char *join[] = { "__futex_abstimed_wait_common",
	    "__pthread_clockjoin_ex", "pthread_join@@GLIBC_2.34" };
	const char *sem[] = { "do_futex_wait", "__new_sem_wait_slow64",
	    "sem_wait@@GLIBC_2.34" };
	unsigned tidword = (unsigned)gettid();
	sem_t s;
	struct task t;
	struct glibc_wait w;

	t = futex_wait(&tidword, FUTEX_WAIT_BITSET | FUTEX_CLOCK_REALTIME,
	    tidword);
	glibc_classify(&t, join, 3, &tids, &w);
	cr_expect_eq(w.kind, GW_LOCK_THREAD);
	cr_expect_eq(w.state, GW_STATE_JOINING);
	cr_expect_eq(w.owner, gettid());
	/* Without a stack: the word is the value waited for, and a tid. */
	glibc_classify(&t, NULL, 0, &tids, &w);
	cr_expect_eq(w.kind, GW_LOCK_THREAD);
	cr_expect(w.inferred);
	sem_init(&s, 0, 0);
	t = futex_wait(&s, 0x189, 0);
	glibc_classify(&t, sem, 3, &tids, &w);
	cr_expect_eq(w.kind, GW_LOCK_SEM);
	cr_expect_eq(w.owner, 0);
	cr_expect(strstr(w.note, "no owner") != NULL);
	glibc_classify(&t, NULL, 0, &tids, &w);
	cr_expect_eq(w.kind, GW_LOCK_FUTEX);
}

Test(glibc, not_waiting)
{
	struct task t;
	struct glibc_wait w;

	memset(&t, 0, sizeof t);
	t.tid = WAITER;
	t.state = 'S';
	t.syscall = 0;		/* read */
	cr_expect_eq(glibc_classify(&t, NULL, 0, &tids, &w), 0);
	cr_expect_eq(w.kind, -1);
}

Test(glibc, our_own_glibc_is_accepted)
{
	struct maps m;
	char why[256] = "";

	cr_assert_eq(maps_read_pid(getpid(), &m, why, sizeof why), 0, "%s",
	    why);
	cr_expect_eq(glibc_check(&m, why, sizeof why), 0, "%s", why);
	maps_free(&m);
}

/*
 * As from a core: no device or inode to compare, so the version is
 * read from the mapped libc's memory (mem_read, here our own).
 */
Test(glibc, a_glibc_is_known_by_its_version_string)
{
	struct maps m;
	size_t i;
	char why[256] = "";

	cr_assert_eq(maps_read_pid(getpid(), &m, why, sizeof why), 0, "%s",
	    why);
	for (i = 0; i < m.n; i++)
		m.v[i].ino = 0;
	cr_expect_eq(glibc_check(&m, why, sizeof why), 0, "%s", why);
	for (i = 0; i < m.n; i++)
		if (strstr(m.v[i].path, "/libc.so.6") != NULL)
			m.v[i].end = m.v[i].start;	/* nothing to read */
	cr_expect_eq(glibc_check(&m, why, sizeof why), -1);
	cr_expect(strstr(why, "cannot read") != NULL, "%s", why);
	maps_free(&m);
}
