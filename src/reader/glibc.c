/*
 * glibc's lock words from outside: see glibc.h.  Every offset used is
 * checked below against the installed headers; the words glibc waits
 * on inside them (which the headers do not say) were read in glibc
 * 2.36's nptl sources and measured live, and only that version is
 * accepted.
 */
#include <errno.h>
#include <fcntl.h>
#include <gnu/libc-version.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/futex.h>

#include "gilwatch/snapshot.h"
#include "glibc.h"
#include "mem.h"
#include "task.h"

#if defined(__x86_64__) && __GLIBC__ == 2 && __GLIBC_MINOR__ == 36
#define GLIBC_KNOWN	1
#define MX_LOCK		0
#define MX_COUNT	4
#define MX_OWNER	8
#define MX_KIND		16
#define RW_READERS	0
#define RW_WRPHASE	8
#define RW_WRITERS	12
#define RW_CUR_WRITER	24
#define RW_SHARED	28
#define RW_FLAGS	48
_Static_assert(offsetof(pthread_mutex_t, __data.__lock) == MX_LOCK, "");
_Static_assert(offsetof(pthread_mutex_t, __data.__count) == MX_COUNT, "");
_Static_assert(offsetof(pthread_mutex_t, __data.__owner) == MX_OWNER, "");
_Static_assert(offsetof(pthread_mutex_t, __data.__kind) == MX_KIND, "");
_Static_assert(offsetof(pthread_rwlock_t, __data.__readers) == RW_READERS,
    "");
_Static_assert(offsetof(pthread_rwlock_t, __data.__wrphase_futex) ==
    RW_WRPHASE, "");
_Static_assert(offsetof(pthread_rwlock_t, __data.__writers_futex) ==
    RW_WRITERS, "");
_Static_assert(offsetof(pthread_rwlock_t, __data.__cur_writer) ==
    RW_CUR_WRITER, "");
_Static_assert(offsetof(pthread_rwlock_t, __data.__shared) == RW_SHARED, "");
_Static_assert(offsetof(pthread_rwlock_t, __data.__flags) == RW_FLAGS, "");
#else
#define GLIBC_KNOWN	0
#endif

#define PI_TID_MASK	0x3fffffffu	/* FUTEX_TID_MASK */
#define RW_WRLOCKED	0x2u		/* __readers bits (pthread_rwlock_common.c) */
#define RW_WRPHASE_BIT	0x1u
#define RW_READER_SHIFT	3
#define COND_SIGNALS	40		/* __g_signals[0] in pthread_cond_t */
#define COND_WREFS	36

/* dev and inode of the libc.so.6 that pid maps, and its path. */
static int
mapped_libc(pid_t pid, unsigned *maj, unsigned *min, unsigned long *ino,
    char *path, size_t len)
{
	char file[64], *line = NULL, *p;
	size_t size = 0;
	int found = 0;
	FILE *fp;

	snprintf(file, sizeof file, "/proc/%d/maps", (int)pid);
	if ((fp = fopen(file, "re")) == NULL)
		return -1;
	while (!found && getline(&line, &size, fp) != -1) {
		if ((p = strchr(line, '/')) == NULL ||
		    strstr(p, "/libc.so.6") == NULL)
			continue;
		p[strcspn(p, "\n")] = '\0';
		if (sscanf(line, "%*x-%*x %*s %*x %x:%x %lu", maj, min,
		    ino) == 3) {
			snprintf(path, len, "%s", p);
			found = 1;
		}
	}
	free(line);
	fclose(fp);
	return found ? 0 : -1;
}

/* Does the file say "release version MAJOR.MINOR."? */
static int
file_is_version(const char *path, const char *want)
{
	char needle[64];
	struct stat st;
	void *m;
	int fd, ok = 0;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	if (fstat(fd, &st) == -1 || st.st_size <= 0 ||
	    (m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd,
	    0)) == MAP_FAILED) {
		close(fd);
		return -1;
	}
	snprintf(needle, sizeof needle, "release version %s.", want);
	ok = memmem(m, (size_t)st.st_size, needle, strlen(needle)) != NULL;
	munmap(m, (size_t)st.st_size);
	close(fd);
	return ok;
}

int
glibc_check(pid_t pid, char *why, size_t len)
{
	char path[4096], ours[4096], root[4200], built[16];
	unsigned tmaj, tmin, omaj, omin;
	unsigned long tino, oino;

	if (!GLIBC_KNOWN) {
		snprintf(why, len, "gilwatch was built for a glibc or a "
		    "machine whose lock words were not checked (x86-64 glibc "
		    "2.36 only)");
		return -1;
	}
	snprintf(built, sizeof built, "%d.%d", __GLIBC__, __GLIBC_MINOR__);
	if (mapped_libc(pid, &tmaj, &tmin, &tino, path, sizeof path) == -1) {
		snprintf(why, len, "no libc.so.6 mapped in process %d (a "
		    "static program, or another C library): its lock words "
		    "are not read", (int)pid);
		return -1;
	}
	if (strcmp(gnu_get_libc_version(), built) == 0 &&
	    mapped_libc(getpid(), &omaj, &omin, &oino, ours,
	    sizeof ours) == 0 && tmaj == omaj && tmin == omin && tino == oino)
		return 0;
	/* Another file: a container, a chroot, a private glibc. */
	snprintf(root, sizeof root, "/proc/%d/root%s", (int)pid, path);
	switch (file_is_version(root, built)) {
	case 1:
		return 0;
	case 0:
		snprintf(why, len, "process %d uses a glibc other than %s "
		    "(%.200s), whose lock words gilwatch has not checked: "
		    "they are not read", (int)pid, built, path);
		return -1;
	default:
		snprintf(why, len, "cannot read process %d's glibc (%.200s) "
		    "to check its version: lock words are not read",
		    (int)pid, path);
		return -1;
	}
}

static int
rd32(uintptr_t addr, unsigned *v)
{
	return mem_read(addr, v, sizeof *v);
}

static int
is_tid(const struct glibc_tids *tids, pid_t tid)
{
	size_t lo = 0, hi = tids->n, mid;

	while (lo < hi) {
		mid = (lo + hi) / 2;
		if (tids->tid[mid] == tid)
			return 1;
		if (tids->tid[mid] < tid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

/* What the glibc function on the stack says the wait is. */
enum cat {
	CAT_NONE, CAT_MUTEX, CAT_INTERNAL, CAT_RDLOCK, CAT_WRLOCK, CAT_JOIN,
	CAT_SEM, CAT_COND,
};

/*
 * "___pthread_mutex_lock", "pthread_join@@GLIBC_2.34",
 * "__GI___lll_lock_wait_private" (an internal alias): by its stem.
 */
static enum cat
category(const char *fn)
{
	while (*fn == '_')
		fn++;
	if (strncmp(fn, "GI_", 3) == 0)
		for (fn += 3; *fn == '_'; fn++)
			;
	if (strncmp(fn, "lll_lock_wait_private", 21) == 0)
		return CAT_INTERNAL;
	if (strncmp(fn, "pthread_mutex_", 14) == 0 &&
	    strstr(fn, "lock") != NULL && strstr(fn, "unlock") == NULL)
		return CAT_MUTEX;
	if (strncmp(fn, "pthread_rwlock_", 15) == 0)
		return strstr(fn, "rdlock") != NULL ? CAT_RDLOCK :
		    strstr(fn, "wrlock") != NULL ? CAT_WRLOCK : CAT_NONE;
	if (strncmp(fn, "pthread_", 8) == 0 && strstr(fn, "join") != NULL)
		return CAT_JOIN;
	if (strncmp(fn, "sem_", 4) == 0 || strncmp(fn, "new_sem_wait", 12) ==
	    0 || strncmp(fn, "do_futex_wait", 13) == 0)
		return CAT_SEM;
	if (strncmp(fn, "pthread_cond_", 13) == 0 && strstr(fn, "wait"))
		return CAT_COND;
	return CAT_NONE;
}

static void
note(struct glibc_wait *w, const char *fmt, unsigned a)
{
	snprintf(w->note, sizeof w->note, fmt, a);
}

/* The owner word's tid, checked to be one of the process's threads. */
static void
owner(struct glibc_wait *w, const struct glibc_tids *tids, pid_t self,
    unsigned tid)
{
	if (tid == 0)
		note(w, "unlocked as it was read: its owner let go", 0);
	else if (tid == (unsigned)self && w->kind != GW_LOCK_MUTEX)
		note(w, "its owner word names the waiter itself", 0);
	else if (!is_tid(tids, (pid_t)tid))
		note(w, "its owner, tid %u, is not a thread of this process "
		    "(it ended holding it)", tid);
	else
		w->owner = (pid_t)tid;
}

static void
wait_mutex(struct glibc_wait *w, uintptr_t x, int pi,
    const struct glibc_tids *tids, pid_t self)
{
	unsigned lock, count, own, kind;

	w->kind = GW_LOCK_MUTEX;
	w->addr = x;
	if (rd32(x + MX_LOCK, &lock) == -1 || rd32(x + MX_COUNT, &count) ==
	    -1 || rd32(x + MX_OWNER, &own) == -1 || rd32(x + MX_KIND,
	    &kind) == -1) {
		note(w, "its words could not be read", 0);
		return;
	}
	owner(w, tids, self, pi ? lock & PI_TID_MASK : own);
	/* PTHREAD_MUTEX_RECURSIVE_NP is type 1: __count is the depth. */
	w->count = (kind & 3) == PTHREAD_MUTEX_RECURSIVE && count > 0 ?
	    count : 1;
}

/*
 * A writer waits on __writers_futex while a writer holds the lock, on
 * __wrphase_futex while readers do; which one is told by the words.
 */
static void
wait_rwlock(struct glibc_wait *w, uintptr_t x, int writer,
    const struct glibc_tids *tids, pid_t self)
{
	unsigned readers, cur, flags;
	uintptr_t base = x - RW_WRPHASE;

	w->kind = GW_LOCK_RWLOCK;
	w->mode = writer ? GW_MODE_EXCLUSIVE : GW_MODE_SHARED;
	if (writer && rd32(x - RW_WRITERS + RW_CUR_WRITER, &cur) == 0 &&
	    rd32(x - RW_WRITERS + RW_READERS, &readers) == 0 &&
	    (readers & RW_WRLOCKED) && is_tid(tids, (pid_t)cur))
		base = x - RW_WRITERS;
	/* PREFER_WRITER_NONRECURSIVE readers wait on __readers itself. */
	else if (!writer && rd32(x + RW_FLAGS, &flags) == 0 &&
	    flags == PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP)
		base = x;
	w->addr = base;
	if (rd32(base + RW_READERS, &readers) == -1 ||
	    rd32(base + RW_CUR_WRITER, &cur) == -1) {
		note(w, "its words could not be read", 0);
		return;
	}
	if ((readers & RW_WRPHASE_BIT) && (readers & RW_WRLOCKED) &&
	    cur != 0) {
		owner(w, tids, self, cur);
		w->count = 1;
		return;
	}
	if (readers >> RW_READER_SHIFT > 0)
		note(w, "held for reading by %u thread(s): readers are only "
		    "a count, they cannot be named from outside",
		    readers >> RW_READER_SHIFT);
	else
		note(w, "no holder could be named from its words", 0);
}

static void
wait_join(struct glibc_wait *w, uintptr_t x, const struct glibc_tids *tids,
    pid_t self)
{
	unsigned tid;

	w->kind = GW_LOCK_THREAD;
	w->state = GW_STATE_JOINING;
	w->addr = x;
	if (rd32(x, &tid) == -1)
		note(w, "the thread's tid word could not be read", 0);
	else
		owner(w, tids, self, tid);
}

static void
wait_cond(struct glibc_wait *w, uintptr_t x)
{
	unsigned wrefs;

	w->kind = GW_LOCK_COND;
	w->state = GW_STATE_WAITING;
	/* __g_signals[0] or [1]: the one whose base counts waiters. */
	w->addr = x - COND_SIGNALS;
	if (rd32(x - COND_SIGNALS + COND_WREFS, &wrefs) == 0 &&
	    wrefs >> 3 == 0)
		w->addr = x - COND_SIGNALS - 4;
	note(w, "a condition variable has no owner: a notify ends the wait",
	    0);
}

static void
unknown(struct glibc_wait *w, uintptr_t x, const char *why)
{
	w->kind = GW_LOCK_FUTEX;
	w->addr = x;
	snprintf(w->note, sizeof w->note, "%s", why);
}

/* No stack: only what the words make certain enough. */
static void
infer(struct glibc_wait *w, const struct task *t, uintptr_t x, int cmd,
    int private, const struct glibc_tids *tids)
{
	unsigned word, own, kind, readers, cur;

	w->inferred = 1;
	snprintf(w->note, sizeof w->note, "the kind and holder come from "
	    "the lock's words alone, no native stack confirms them");
	if (cmd == FUTEX_WAIT && t->args[2] == 2 && rd32(x, &word) == 0 &&
	    word == 2 && rd32(x + MX_OWNER, &own) == 0 &&
	    rd32(x + MX_KIND, &kind) == 0 && kind < 0x400 &&
	    own != (unsigned)t->tid && is_tid(tids, (pid_t)own)) {
		wait_mutex(w, x, 0, tids, t->tid);
		return;
	}
	if (cmd == FUTEX_WAIT_BITSET && !private && rd32(x, &word) == 0 &&
	    word == t->args[2] && is_tid(tids, (pid_t)word)) {
		wait_join(w, x, tids, t->tid);
		return;
	}
	if (cmd == FUTEX_WAIT_BITSET && private &&
	    rd32(x - RW_WRITERS + RW_READERS, &readers) == 0 &&
	    (readers & 3) == 3 && rd32(x - RW_WRITERS + RW_CUR_WRITER,
	    &cur) == 0 && cur != (unsigned)t->tid &&
	    is_tid(tids, (pid_t)cur)) {
		wait_rwlock(w, x, 1, tids, t->tid);
		return;
	}
	w->inferred = 0;
	unknown(w, x, "a futex wait: without a native stack gilwatch "
	    "cannot tell a semaphore, condition variable, rwlock or "
	    "glibc-internal lock apart, nor name an owner");
}

int
glibc_classify(const struct task *t, const char *const *fns, int nfns,
    const struct glibc_tids *tids, struct glibc_wait *w)
{
	uintptr_t x = (uintptr_t)t->args[0];
	int i, op = (int)t->args[1], cmd, private;
	enum cat c = CAT_NONE;

	memset(w, 0, sizeof *w);
	w->kind = -1;
	if (t->syscall != 202 || t->state == 'R')
		return 0;
	w->state = GW_STATE_BLOCKED;
	w->mode = GW_MODE_EXCLUSIVE;
	cmd = op & FUTEX_CMD_MASK;
	private = (op & FUTEX_PRIVATE_FLAG) != 0;
	w->timed = (cmd == FUTEX_WAIT || cmd == FUTEX_WAIT_BITSET) &&
	    t->args[3] != 0;
	if (cmd == FUTEX_LOCK_PI || cmd == FUTEX_LOCK_PI2) {
		w->timed = t->args[3] != 0;
		wait_mutex(w, x, 1, tids, t->tid);
		return 1;
	}
	if (cmd != FUTEX_WAIT && cmd != FUTEX_WAIT_BITSET) {
		unknown(w, x, "a futex operation gilwatch does not read");
		return 1;
	}
	for (i = 0; i < nfns && c == CAT_NONE; i++)
		if (fns[i] != NULL)
			c = category(fns[i]);
	switch (c) {
	case CAT_MUTEX:
		wait_mutex(w, x, 0, tids, t->tid);
		break;
	case CAT_INTERNAL:
		unknown(w, x, "a glibc-internal lock (malloc, stdio...): "
		    "glibc records no owner for it");
		break;
	case CAT_RDLOCK:
	case CAT_WRLOCK:
		wait_rwlock(w, x, c == CAT_WRLOCK, tids, t->tid);
		break;
	case CAT_JOIN:
		wait_join(w, x, tids, t->tid);
		break;
	case CAT_SEM:
		w->kind = GW_LOCK_SEM;
		w->addr = x;
		note(w, "a semaphore has no owner: any thread may post it", 0);
		break;
	case CAT_COND:
		wait_cond(w, x);
		break;
	default:
		if (nfns > 0)
			unknown(w, x, "a futex wait outside the glibc lock "
			    "functions gilwatch knows: no owner can be named");
		else
			infer(w, t, x, cmd, private, tids);
		break;
	}
	return 1;
}
