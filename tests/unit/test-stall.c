/* The stall rule (stall.h): when a process counts as stalled. */
#include <criterion/criterion.h>

#include "gilwatch/snapshot.h"
#include "stall.h"

#define S	1000000000ull	/* one second in ns */

static struct stall_thread two_waiting[] = {
	{ .waiting = 1, .waited_ns = 3 * S, .which = 1 },
	{ .waiting = 1, .waited_ns = 2 * S, .which = 2 },
};

Test(stall, every_thread_waiting_long_enough)
{
	cr_expect(stall_rule(two_waiting, 2, 3, 1, 2 * S));
}

Test(stall, one_wait_too_short)
{
	cr_expect_not(stall_rule(two_waiting, 2, 3, 1, 2 * S + 1));
}

Test(stall, one_thread_not_waiting)
{
	struct stall_thread t[2] = { two_waiting[0], two_waiting[1] };

	t[1].waiting = 0;
	cr_expect_not(stall_rule(t, 2, 3, 1, S));
}

Test(stall, a_thread_gilwatch_has_not_seen)
{
	/* The kernel counts one more thread than gilwatch knows, besides
	 * its own: that one may be running. */
	cr_expect_not(stall_rule(two_waiting, 2, 4, 1, S));
	/* And fewer: a thread ended between the two counts. */
	cr_expect_not(stall_rule(two_waiting, 2, 2, 1, S));
	/* The kernel's count could not be read. */
	cr_expect_not(stall_rule(two_waiting, 2, -1, 1, S));
}

Test(stall, no_threads_no_stall)
{
	cr_expect_not(stall_rule(two_waiting, 0, 1, 1, S));
}

Test(stall, signature_is_of_the_waits)
{
	struct stall_thread t[2] = { two_waiting[0], two_waiting[1] };
	uint64_t sig = stall_signature(two_waiting, 2);

	/* How long they waited is not part of it: two looks agree. */
	t[0].waited_ns += S;
	cr_expect_eq(stall_signature(t, 2), sig);
	/* A new wait of one thread is a new stall. */
	t[1].which = 3;
	cr_expect_neq(stall_signature(t, 2), sig);
}

Test(stall, which_waits_count)
{
	/* Untimed waits on a lock, a condition or a join. */
	cr_expect(stall_waits(GW_STATE_BLOCKED, 0, 0));
	cr_expect(stall_waits(GW_STATE_WAITING, 0, 0));
	cr_expect(stall_waits(GW_STATE_JOINING, 0, 0));
	/* A timeout ends a wait by itself; a running thread can go on. */
	cr_expect_not(stall_waits(GW_STATE_BLOCKED, 1, 0));
	cr_expect_not(stall_waits(GW_STATE_RUNNING, 0, 0));
	cr_expect_not(stall_waits(GW_STATE_EXITED, 0, 0));
	/* A GIL wait is timed inside CPython, but only the holder ends it. */
	cr_expect(stall_waits(GW_STATE_RUNNING, 0, 1));
}
