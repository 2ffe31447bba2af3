/* gilwatch top's words for what Python code waits on (tui/fmt-py.c). */
#include <criterion/criterion.h>
#include <string.h>

#include "tui.h"

TestSuite(fmt_py, .timeout = 5);

static struct gw_shm_pywait
pywait(int kind, uint64_t object, const char *type, const char *via)
{
	struct gw_shm_pywait w;

	memset(&w, 0, sizeof w);
	w.kind = (uint8_t)kind;
	w.object = object;
	snprintf(w.type, sizeof w.type, "%s", type);
	snprintf(w.via, sizeof w.via, "%s", via);
	return w;
}

static void
check(const struct gw_shm_pywait *w, const char *full, const char *row)
{
	char buf[256];

	cr_assert_str_eq(fmt_pywait(w, 1, buf, sizeof buf), full);
	cr_assert_str_eq(fmt_pywait(w, 0, buf, sizeof buf), row);
}

Test(fmt_py, notify_is_named_by_what_holds_the_condition)
{
	struct gw_shm_pywait w = pywait(GW_SHM_PYWAIT_NOTIFY, 0x7f6d94250510,
	    "Condition", "Queue.not_empty");

	check(&w, "Condition 0x7f6d94250510 (Queue.not_empty)",
	    "Queue.not_empty");
}

Test(fmt_py, notify_on_a_bare_condition_gives_its_address)
{
	struct gw_shm_pywait w = pywait(GW_SHM_PYWAIT_NOTIFY, 0x7f4d5ec9c200,
	    "Condition", "");

	check(&w, "Condition 0x7f4d5ec9c200", "Condition 0x7f4d5ec9c200");
}

Test(fmt_py, join_names_the_thread_object)
{
	struct gw_shm_pywait w = pywait(GW_SHM_PYWAIT_JOIN, 0x7f0b3e84a900,
	    "Thread", "");

	check(&w, "Thread 0x7f0b3e84a900", "Thread 0x7f0b3e84a900");
	/* A join has no via: one left there is not shown. */
	snprintf(w.via, sizeof w.via, "X.y");
	check(&w, "Thread 0x7f0b3e84a900", "Thread 0x7f0b3e84a900");
}

Test(fmt_py, none_and_unknown_type)
{
	struct gw_shm_pywait w = pywait(GW_SHM_PYWAIT_NONE, 0x1234,
	    "Condition", "Queue.not_empty");

	check(&w, "", "");
	w = pywait(GW_SHM_PYWAIT_NOTIFY, 0x1234, "", "");
	check(&w, "object 0x1234", "object 0x1234");
}

Test(fmt_py, cut_to_the_buffer)
{
	struct gw_shm_pywait w = pywait(GW_SHM_PYWAIT_NOTIFY, 0x7f6d94250510,
	    "Condition", "Queue.not_empty");
	char buf[10];

	cr_assert_str_eq(fmt_pywait(&w, 1, buf, sizeof buf), "Condition");
	cr_assert_str_eq(fmt_pywait(&w, 0, buf, sizeof buf), "Queue.not");
}
