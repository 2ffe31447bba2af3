/*
 * py-locks.c on lock objects built in this process's memory in the
 * layouts of the generated table: 3.13's (a sem_t * and a locked byte;
 * an RLock's sem_t *, owner and count), 3.14's (a PyMutex byte; an
 * RLock's _PyRecursiveMutex with its owner and level) and 3.13t's mix
 * of the two (a PyMutex Lock, a semaphore RLock), and a parked waiter's
 * wait_entry (park_arg, addr, then the sem_t it sleeps on).
 */
#include <criterion/criterion.h>
#include <stdint.h>
#include <string.h>

#include "py.h"

/* A type object: only tp_name is read, where the table says. */
struct type {
	unsigned char	b[72];
};

/* Room for any lock object of either layout, zeroed. */
struct obj {
	unsigned char	b[64];
};

/* 3.14's struct wait_entry (Python/parking_lot.c), up to its sem_t. */
struct wait_entry {
	void		*park_arg;
	uintptr_t	 addr;
	unsigned int	 sem[8];	/* glibc sem_t: value word first */
};

static struct py_offsets off;
static struct py_runtime rt;
static struct type lock_type, rlock_type, other_type;
static struct obj lock, rlock, other;

static void
put_ptr(struct obj *o, int at, uintptr_t v)
{
	memcpy(o->b + at, &v, sizeof v);
}

static void
put_name(struct type *t, const char *name)
{
	memcpy(t->b + off.tp_name, &name, sizeof name);
}

static void
setup_build(int minor, int micro, int ft)
{
	const struct py_offsets *t = py_offsets_for(3, minor, micro, ft);

	cr_assert_not_null(t, "3.%d.%d%s has a table", minor, micro,
	    ft ? "t" : "");
	off = *t;
	memset(&rt, 0, sizeof rt);
	rt.major = 3;
	rt.minor = minor;
	rt.micro = micro;
	rt.off = &off;
	cr_assert(off.tp_name > 0 && off.tp_name + 8 <= (int)sizeof(struct
	    type));
	memset(&lock, 0, sizeof lock);
	memset(&rlock, 0, sizeof rlock);
	memset(&other, 0, sizeof other);
	memset(&lock_type, 0, sizeof lock_type);
	memset(&rlock_type, 0, sizeof rlock_type);
	memset(&other_type, 0, sizeof other_type);
	/* tp_name where the table says, inside the stand-in type. */
	put_name(&lock_type, "_thread.lock");
	put_name(&rlock_type, "_thread.RLock");
	put_name(&other_type, "_thread.lockish");
	put_ptr(&lock, off.ob_type, (uintptr_t)&lock_type);
	put_ptr(&rlock, off.ob_type, (uintptr_t)&rlock_type);
	put_ptr(&other, off.ob_type, (uintptr_t)&other_type);
}

static void
setup(int minor)
{
	setup_build(minor, 0, 0);
}

Test(pylocks, mutex_lock_bits)
{
	struct py_lock l;

	setup(14);
	cr_assert_eq(py_lock_read(&rt, (uintptr_t)&lock, &l), 0);
	cr_assert_eq(l.kind, PY_LOCK_LOCK);
	cr_assert_eq(l.locked, 0);
	cr_assert_eq(l.word, (uintptr_t)&lock + (uintptr_t)off.lock_locked,
	    "a 3.14 lock is named by its PyMutex");
	lock.b[off.lock_locked] = 1;
	cr_assert_eq(py_lock_read(&rt, (uintptr_t)&lock, &l), 0);
	cr_assert_eq(l.locked, 1);
	cr_assert_eq(l.parked, 0);
	lock.b[off.lock_locked] = 3;
	cr_assert_eq(py_lock_read(&rt, (uintptr_t)&lock, &l), 0);
	cr_assert_eq(l.locked, 1);
	cr_assert_eq(l.parked, 1);
	/* Parked but unlocked: handed over, nobody holds it. */
	lock.b[off.lock_locked] = 2;
	cr_assert_eq(py_lock_read(&rt, (uintptr_t)&lock, &l), 0);
	cr_assert_eq(l.locked, 0);
}

Test(pylocks, mutex_rlock_owner)
{
	struct py_lock l;

	setup(14);
	put_ptr(&rlock, off.rlock_owner, 0x7f0012345678UL);
	put_ptr(&rlock, off.rlock_count, 2);
	rlock.b[off.rlock_locked] = 1;
	cr_assert_eq(py_lock_read(&rt, (uintptr_t)&rlock, &l), 0);
	cr_assert_eq(l.kind, PY_LOCK_RLOCK);
	cr_assert_eq(l.locked, 1);
	cr_assert_eq(l.owner, 0x7f0012345678UL);
	cr_assert_eq(l.count, 3, "level counts the acquires after the first");
	/* Unlocked: whatever the owner word says, nobody owns it. */
	rlock.b[off.rlock_locked] = 0;
	cr_assert_eq(py_lock_read(&rt, (uintptr_t)&rlock, &l), 0);
	cr_assert_eq(l.locked, 0);
	cr_assert_eq(l.owner, 0);
	cr_assert_eq(l.count, 0);
}

Test(pylocks, semaphore_layout)
{
	unsigned int sem[8] = { 0 };
	struct py_lock l;

	setup(13);
	put_ptr(&lock, off.lock_sem, (uintptr_t)sem);
	lock.b[off.lock_locked] = 1;
	cr_assert_eq(py_lock_read(&rt, (uintptr_t)&lock, &l), 0);
	cr_assert_eq(l.word, (uintptr_t)sem, "3.13: named by its semaphore");
	cr_assert_eq(l.locked, 1);
	put_ptr(&rlock, off.rlock_sem, (uintptr_t)sem);
	put_ptr(&rlock, off.rlock_owner, 77);
	put_ptr(&rlock, off.rlock_count, 2);
	cr_assert_eq(py_lock_read(&rt, (uintptr_t)&rlock, &l), 0);
	cr_assert_eq(l.owner, 77);
	cr_assert_eq(l.count, 2);
	/* The waiter sleeps on the semaphore itself. */
	cr_assert_eq(py_lock_waited(&rt, (uintptr_t)&lock, (uintptr_t)sem,
	    &l), 0);
	cr_assert_eq(l.object, (uintptr_t)&lock);
	cr_assert_eq(py_lock_waited(&rt, (uintptr_t)&lock,
	    (uintptr_t)&sem[4], &l), -1);
}

Test(pylocks, parked_waiter_names_its_lock)
{
	struct wait_entry e;
	struct py_lock l;

	setup(14);
	cr_assert_eq(off.pk_addr, (int)(offsetof(struct wait_entry, sem) -
	    offsetof(struct wait_entry, addr)), "the measured layout");
	lock.b[off.lock_locked] = 3;
	memset(&e, 0, sizeof e);
	e.addr = (uintptr_t)&lock + (uintptr_t)off.lock_locked;
	cr_assert_eq(py_lock_waited(&rt, (uintptr_t)&lock,
	    (uintptr_t)e.sem, &l), 0);
	cr_assert_eq(l.object, (uintptr_t)&lock);
	cr_assert_eq(l.locked, 1);
	/* Parked on another address (the RLock's mutex): not this lock. */
	e.addr = (uintptr_t)&rlock + (uintptr_t)off.rlock_locked;
	cr_assert_eq(py_lock_waited(&rt, (uintptr_t)&lock,
	    (uintptr_t)e.sem, &l), -1);
	cr_assert_eq(py_lock_waited(&rt, (uintptr_t)&rlock,
	    (uintptr_t)e.sem, &l), 0);
	cr_assert_eq(l.kind, PY_LOCK_RLOCK);
	/* The right address, the wrong type: never a lock. */
	e.addr = (uintptr_t)&other + (uintptr_t)off.lock_locked;
	cr_assert_eq(py_lock_waited(&rt, (uintptr_t)&other,
	    (uintptr_t)e.sem, &l), -1);
}

Test(pylocks, unknown_layout_reads_nothing)
{
	struct wait_entry e;
	struct py_lock l;

	setup(14);
	/* A minor without a table: its lock layouts are not known. */
	off.lock_sem = off.lock_locked = off.rlock_sem = -1;
	off.rlock_owner = off.rlock_count = off.rlock_locked = -1;
	lock.b[16] = 1;
	e.addr = (uintptr_t)&lock + 16;
	cr_assert_eq(py_lock_read(&rt, (uintptr_t)&lock, &l), -1);
	cr_assert_eq(py_lock_waited(&rt, (uintptr_t)&lock,
	    (uintptr_t)e.sem, &l), -1);
	cr_assert_eq(py_tstate_held(&rt, 0x1000, &l, 1), -1);
}

Test(pylocks, holder_of_a_lock)
{
	struct py_lock want, a[1], b[1];
	struct py_holds h[2];
	int inferred;

	setup(14);
	memset(&want, 0, sizeof want);
	want.object = 0x1000;
	want.kind = PY_LOCK_LOCK;
	want.locked = 1;
	a[0] = want;
	b[0] = want;
	b[0].object = 0x2000;
	h[0] = (struct py_holds){ 11, a, 1 };
	h[1] = (struct py_holds){ 22, b, 1 };
	cr_assert_eq(py_lock_holder(&want, h, 2, &inferred), 11);
	cr_assert_eq(inferred, 1);
	/* Two threads seem to hold it: nobody is named. */
	b[0].object = 0x1000;
	cr_assert_eq(py_lock_holder(&want, h, 2, &inferred), 0);
	/* Free: nobody holds it, whatever the stacks say. */
	want.locked = 0;
	cr_assert_eq(py_lock_holder(&want, h, 1, &inferred), 0);
	/* An RLock names its recorded owner, not inferred. */
	want.kind = PY_LOCK_RLOCK;
	want.locked = 1;
	want.owner = 33;
	cr_assert_eq(py_lock_holder(&want, h, 2, &inferred), 33);
	cr_assert_eq(inferred, 0);
}

/* A PyMutex Lock beside a semaphore RLock: 3.13t's, and 3.13.1+'s. */
static void
mixed_layout(int micro, int ft)
{
	unsigned int sem[8] = { 0 };
	struct wait_entry e;
	struct py_lock l;

	setup_build(13, micro, ft);
	cr_assert_lt(off.lock_sem, 0, "3.13.%d%s: a PyMutex Lock", micro,
	    ft ? "t" : "");
	cr_assert_eq(off.pk_addr, (int)(offsetof(struct wait_entry, sem) -
	    offsetof(struct wait_entry, addr)), "a Lock waiter parks");
	/* The Lock is a PyMutex, named by the object. */
	lock.b[off.lock_locked] = 3;
	cr_assert_eq(py_lock_read(&rt, (uintptr_t)&lock, &l), 0);
	cr_assert_eq(l.kind, PY_LOCK_LOCK);
	cr_assert_eq(l.locked, 1);
	cr_assert_eq(l.parked, 1);
	cr_assert_eq(l.word, (uintptr_t)&lock + (uintptr_t)off.lock_locked);
	cr_assert_eq(py_lock_addr(&rt, &l), (uintptr_t)&lock);
	/* The RLock keeps a semaphore, named by it, and its owner. */
	put_ptr(&rlock, off.rlock_sem, (uintptr_t)sem);
	put_ptr(&rlock, off.rlock_owner, 77);
	put_ptr(&rlock, off.rlock_count, 2);
	cr_assert_eq(py_lock_read(&rt, (uintptr_t)&rlock, &l), 0);
	cr_assert_eq(l.kind, PY_LOCK_RLOCK);
	cr_assert_eq(l.locked, 1);
	cr_assert_eq(l.owner, 77);
	cr_assert_eq(l.count, 2);
	cr_assert_eq(py_lock_addr(&rt, &l), (uintptr_t)sem);
	/* A waiter parked for the Lock and one asleep on the RLock's
	 * semaphore: each names its own lock, never the other. */
	memset(&e, 0, sizeof e);
	e.addr = (uintptr_t)&lock + (uintptr_t)off.lock_locked;
	cr_assert_eq(py_lock_waited(&rt, (uintptr_t)&lock,
	    (uintptr_t)e.sem, &l), 0);
	cr_assert_eq(l.kind, PY_LOCK_LOCK);
	cr_assert_eq(py_lock_waited(&rt, (uintptr_t)&rlock,
	    (uintptr_t)e.sem, &l), -1);
	cr_assert_eq(py_lock_waited(&rt, (uintptr_t)&rlock, (uintptr_t)sem,
	    &l), 0);
	cr_assert_eq(l.kind, PY_LOCK_RLOCK);
	cr_assert_eq(py_lock_waited(&rt, (uintptr_t)&lock, (uintptr_t)sem,
	    &l), -1);
}

Test(pylocks, mixed_layout_of_3_13t)
{
	mixed_layout(0, 1);
}

/* 3.13.1 made the default build's Lock a PyMutex too; 3.13.0's is a
 * semaphore. */
Test(pylocks, mixed_layout_of_3_13_1_on)
{
	mixed_layout(1, 0);
	mixed_layout(11, 0);
	mixed_layout(12, 0);
	mixed_layout(15, 0);
	mixed_layout(99, 0);
}

/* The 3.13 default build's entries by micro: 3.13.0's semaphore Lock,
 * a PyMutex from 3.13.1, the runtime's stop-the-world state 24 bytes on
 * from 3.13.12 (the tags' sources, MOVED in tools/gen-pyoffsets). */
Test(pylocks, table_3_13_by_micro)
{
	const struct py_offsets *t0 = py_offsets_for(3, 13, 0, 0);
	const struct py_offsets *t1 = py_offsets_for(3, 13, 1, 0);
	const struct py_offsets *t11 = py_offsets_for(3, 13, 11, 0);
	const struct py_offsets *t12 = py_offsets_for(3, 13, 12, 0);
	const struct py_offsets *t15 = py_offsets_for(3, 13, 15, 0);

	cr_assert(t0 && t1 && t11 && t12 && t15);
	cr_assert_geq(t0->lock_sem, 0, "3.13.0: a semaphore Lock");
	cr_assert_eq(t0->pk_addr, -1);
	cr_assert_eq(t1, t11, "one layout from 3.13.1 to 3.13.11");
	cr_assert_eq(t12, t15, "one layout from 3.13.12 on");
	cr_assert_neq(t1, t12);
	cr_assert_eq(t1->rt_stw, t0->rt_stw);
	cr_assert_eq(t12->rt_stw, t0->rt_stw + 24);
	cr_assert_eq(t1->lock_locked, t12->lock_locked);
	cr_assert_eq(t1->rlock_sem, t0->rlock_sem, "RLock: a semaphore");
	cr_assert_eq(t12->rlock_sem, t0->rlock_sem);
	cr_assert_eq(py_offsets_for(3, 13, 0, 1)->free_threaded, 1);
}
