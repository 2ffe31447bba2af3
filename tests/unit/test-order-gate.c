/*
 * The gate rule of the lock-order validator: a cycle every link of which
 * was made under one same lock is counted safe, not reported, until a
 * link of it is made once without that lock.  Driven through
 * order_acquired with a thread record of the test's own.
 */
#include <string.h>

#include <criterion/criterion.h>

#include "gilwatch/snapshot.h"
#include "lock.h"
#include "order.h"
#include "thread.h"

static struct thread t;
static struct order_cycle found;

/* Locks at distinct addresses; each test has its own three. */
static uintptr_t
lock_at(int test, int i)
{
	return 0x7f0000100000u + (uintptr_t)test * 0x10000 +
	    (uintptr_t)i * 0x40;
}

static void
setup(void)
{
	cr_assert_eq(lock_table_init(1024), 0);
	memset(&t, 0, sizeof t);
	t.held = t.inline_held;
	t.cap = THREAD_INLINE_HELD;
	atomic_store(&t.tid, 4242);
	order_enable();
}

/* Take the locks in order, then let them all go; returns the reports. */
static int
nest(const uintptr_t *addr, int n)
{
	struct lockrec *rec;
	struct held *h;
	int i, reports = 0;

	for (i = 0; i < n; i++) {
		rec = lock_get(addr[i], GW_LOCK_MUTEX, addr[i] + 1);
		cr_assert_not_null(rec);
		reports += order_acquired(&t, rec, addr[i], GW_LOCK_MUTEX,
		    GW_MODE_EXCLUSIVE, 0, &found);
		h = thread_push_held(&t);
		cr_assert_not_null(h);
		memset(h, 0, sizeof *h);
		h->addr = addr[i];
		h->rec = rec;
		h->kind = GW_LOCK_MUTEX;
		h->mode = GW_MODE_EXCLUSIVE;
		h->count = 1;
	}
	t.nheld = 0;
	return reports;
}

TestSuite(order_gate, .init = setup);

Test(order_gate, both_orders_under_one_gate_are_counted_not_reported)
{
	uintptr_t g = lock_at(0, 0), a = lock_at(0, 1), b = lock_at(0, 2);
	uintptr_t gates[ORDER_KEEP_GATES];
	unsigned before = order_safe(gates, ORDER_KEEP_GATES);

	cr_assert_eq(nest((uintptr_t[]){ g, a, b }, 3), 0);
	cr_assert_eq(nest((uintptr_t[]){ g, b, a }, 3), 0, "gated: no report");
	cr_assert_eq(order_safe(gates, ORDER_KEEP_GATES), before + 1,
	    "one cycle counted safe, once (not again in the class view)");
	cr_assert_eq(gates[0], g, "the gate is named");
	cr_assert_eq(nest((uintptr_t[]){ g, b, a }, 3), 0, "seen: silent");
	cr_assert_eq(order_safe(gates, ORDER_KEEP_GATES), before + 1);
}

Test(order_gate, a_link_made_without_the_gate_reports_the_cycle)
{
	uintptr_t g = lock_at(1, 0), a = lock_at(1, 1), b = lock_at(1, 2);

	cr_assert_eq(nest((uintptr_t[]){ g, a, b }, 3), 0);
	cr_assert_eq(nest((uintptr_t[]){ g, b, a }, 3), 0);
	cr_assert_eq(nest((uintptr_t[]){ a, b }, 2), 1,
	    "the gate lost: the cycle is reported now");
	cr_assert_eq(found.len, 2);
	cr_assert_eq(found.edge[0]->from_addr, a);
	cr_assert_eq(found.edge[0]->to_addr, b);
	cr_assert_eq(found.edge[1]->from_addr, b);
	cr_assert_eq(found.edge[1]->to_addr, a);
	cr_assert_eq(nest((uintptr_t[]){ a, b }, 2), 0, "reported once");
}

Test(order_gate, no_gate_is_reported_at_once)
{
	uintptr_t a = lock_at(2, 1), b = lock_at(2, 2);

	cr_assert_eq(nest((uintptr_t[]){ a, b }, 2), 0);
	cr_assert_eq(nest((uintptr_t[]){ b, a }, 2), 1);
	cr_assert_eq(found.len, 2);
}

Test(order_gate, two_different_gates_are_no_gate)
{
	uintptr_t g = lock_at(3, 0), h = lock_at(3, 3);
	uintptr_t a = lock_at(3, 1), b = lock_at(3, 2);

	cr_assert_eq(nest((uintptr_t[]){ g, a, b }, 3), 0);
	cr_assert_eq(nest((uintptr_t[]){ h, b, a }, 3), 1,
	    "G and H do not keep each other's paths apart");
}

Test(order_gate, common_gates_of_a_cycle)
{
	struct oedge e1, e2;
	struct oedge *cyc[2] = { &e1, &e2 };
	uintptr_t gates[ORDER_GATES];

	memset(&e1, 0, sizeof e1);
	memset(&e2, 0, sizeof e2);
	e1.gates[0] = 0x10;
	e1.gates[1] = 0x20;
	e1.ngates = 2;
	e2.gates[0] = 0x20;
	e2.ngates = 1;
	cr_assert_eq(order_common_gates(cyc, 2, gates), 1);
	cr_assert_eq(gates[0], 0x20);
	e2.ngates = 0;
	cr_assert_eq(order_common_gates(cyc, 2, gates), 0);
	cr_assert_eq(order_common_gates(cyc, 0, gates), 0);
}
