/*
 * asyncio tasks in the wait-for graph (taskgraph.c), on snapshots built
 * here, and a loop recognised in a thread's frames (py-asyncio.c).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "arena.h"
#include "gilwatch/snapshot.h"
#include "py-asyncio.h"
#include "taskgraph.h"

#define MAXT	8

static struct arena a = ARENA_INIT;
static struct gw_thread_info ti[3];
static struct gw_loop loop;
static struct gw_task tk[MAXT];
static struct gw_wait waits[3];
static pid_t owners[3];
static uintptr_t by[MAXT][MAXT];

static void
setup(void)
{
	memset(ti, 0, sizeof(ti));
	memset(&loop, 0, sizeof(loop));
	memset(tk, 0, sizeof(tk));
	memset(waits, 0, sizeof(waits));
	memset(by, 0, sizeof(by));
	for (int i = 0; i < 3; i++)
		ti[i].tid = 100 + i;
	ti[0].loop = &loop;
	loop.tasks = tk;
}

static void
teardown(void)
{
	arena_free(&a);
}

static struct gw_task *
task(int i, const char *name)
{
	tk[i].addr = 0x1000 + (uintptr_t)i * 0x100;
	tk[i].name = name;
	tk[i].state = GW_TASK_PENDING;
	if ((size_t)i >= loop.ntasks)
		loop.ntasks = (size_t)i + 1;
	return &tk[i];
}

static void
awaits_task(int i, int j)
{
	tk[i].awaits = GW_AWAIT_TASK;
	tk[i].await_object = tk[j].addr;
	tk[i].await_task = tk[j].addr;
	by[j][tk[j].nawaited_by] = tk[i].addr;
	tk[j].awaited_by = by[j];
	tk[j].nawaited_by++;
}

/* Thread i blocked on a lock thread j holds. */
static void
thread_waits(int i, int j)
{
	owners[i] = ti[j].tid;
	waits[i].lock.addr = 0x5000 + (uintptr_t)i;
	waits[i].owners = &owners[i];
	waits[i].nowners = 1;
	ti[i].waiting = &waits[i];
	ti[i].state = GW_STATE_BLOCKED;
}

/* Task i awaits an executor future worker thread 101 runs, and 101
 * and 102 wait on each other's locks: their own cycle, as outside.c
 * finds it, is *td. */
static struct gw_deadlock_link worker_links[2];

static void
awaits_worker_in_cycle(int i, struct gw_deadlock *td)
{
	tk[i].awaits = GW_AWAIT_EXECUTOR;
	tk[i].await_object = 0x7000;
	tk[i].await_tid = 101;
	thread_waits(1, 2);
	thread_waits(2, 1);
	memset(worker_links, 0, sizeof(worker_links));
	worker_links[0].tid = 101;
	worker_links[0].held_by = 102;
	worker_links[1].tid = 102;
	worker_links[1].held_by = 101;
	memset(td, 0, sizeof(*td));
	td->links = worker_links;
	td->nlinks = 2;
}

static void
find(const struct gw_deadlock *d, size_t nd, const struct gw_deadlock **out,
    size_t *nout)
{
	taskgraph_deadlocks(&a, ti, 3, d, nd, out, nout);
}

TestSuite(taskgraph, .init = setup, .fini = teardown);

Test(taskgraph, two_tasks_awaiting_each_other)
{
	const struct gw_deadlock *d;
	size_t n;

	task(0, "a");
	task(1, "b");
	task(2, "idle");
	awaits_task(0, 1);
	awaits_task(1, 0);
	find(NULL, 0, &d, &n);
	cr_assert_eq(n, 1);
	cr_assert_eq(d[0].nlinks, 2);
	cr_assert_eq(d[0].nwaiters, 0);
	for (size_t i = 0; i < 2; i++) {
		const struct gw_deadlock_link *l = &d[0].links[i];
		const struct gw_deadlock_link *next = &d[0].links[(i + 1) % 2];

		cr_assert_eq(l->tid, 100);
		cr_assert_eq(l->task_awaits, GW_AWAIT_TASK);
		cr_assert_eq(l->waits_for.addr, next->task);
	}
	cr_assert(d[0].links[0].task != d[0].links[1].task);
}

Test(taskgraph, a_chain_is_no_deadlock)
{
	const struct gw_deadlock *d;
	size_t n;

	task(0, "a");
	task(1, "b");
	awaits_task(0, 1);
	tk[1].awaits = GW_AWAIT_SLEEP;
	find(NULL, 0, &d, &n);
	cr_assert_eq(n, 0);
}

Test(taskgraph, a_finished_or_running_task_breaks_the_cycle)
{
	const struct gw_deadlock *d;
	size_t n;

	task(0, "a");
	task(1, "b");
	awaits_task(0, 1);
	awaits_task(1, 0);
	tk[1].state = GW_TASK_DONE;
	find(NULL, 0, &d, &n);
	cr_assert_eq(n, 0);
	tk[1].state = GW_TASK_PENDING;
	tk[1].running = 1;
	find(NULL, 0, &d, &n);
	cr_assert_eq(n, 0);
}

Test(taskgraph, through_a_gather)
{
	const struct gw_deadlock *d;
	size_t n;
	uintptr_t gathering = 0x9000;

	/* a awaits gather(b) (a future b's awaited_by names); b awaits a. */
	task(0, "a");
	task(1, "b");
	tk[0].awaits = GW_AWAIT_GATHER;
	tk[0].await_object = gathering;
	by[1][0] = gathering;
	tk[1].awaited_by = by[1];
	tk[1].nawaited_by = 1;
	awaits_task(1, 0);
	find(NULL, 0, &d, &n);
	cr_assert_eq(n, 1);
	cr_assert_eq(d[0].nlinks, 2);
	for (size_t i = 0; i < 2; i++)
		cr_assert_eq(d[0].links[i].task_awaits,
		    d[0].links[i].task == tk[0].addr ? GW_AWAIT_GATHER :
		    GW_AWAIT_TASK);
}

Test(taskgraph, across_a_worker_thread)
{
	const struct gw_deadlock *d;
	struct gw_deadlock td;
	size_t n;

	/* Task a (loop of thread 100) awaits an executor future thread
	 * 101 runs; 101 and 102 wait on each other's locks: a thread
	 * cycle that a is held up by, and b, which awaits a, too. */
	task(0, "a");
	task(1, "b");
	awaits_worker_in_cycle(0, &td);
	awaits_task(1, 0);
	find(&td, 1, &d, &n);
	cr_assert_eq(n, 1);
	cr_assert_eq(d[0].nlinks, 2);
	cr_assert_eq(d[0].nwaiters, 2);
	for (size_t i = 0; i < 2; i++) {
		const struct gw_deadlock_link *w = &d[0].waiters[i];

		if (w->task == tk[0].addr) {
			cr_assert_eq(w->task_awaits, GW_AWAIT_EXECUTOR);
			cr_assert_eq(w->held_by, 101);
		} else {
			cr_assert_eq(w->task, tk[1].addr);
			cr_assert_eq(w->waits_for.addr, tk[0].addr);
		}
	}
}

Test(taskgraph, no_new_report_for_a_thread_only_cycle)
{
	const struct gw_deadlock *d;
	size_t n;

	/*
	 * No edge leads from these threads to a task (none waits for a
	 * task's result), so a cycle of threads alone is the threads' own
	 * report (none given here): a task awaiting into one adds no
	 * deadlock.
	 */
	task(0, "a");
	tk[0].awaits = GW_AWAIT_EXECUTOR;
	tk[0].await_tid = 101;
	thread_waits(1, 1);
	find(NULL, 0, &d, &n);
	cr_assert_eq(n, 0);
}

Test(taskgraph, every_cycle_once)
{
	const struct gw_deadlock *d;
	size_t n;

	task(0, "a");
	task(1, "b");
	task(2, "c");
	awaits_task(0, 1);
	awaits_task(1, 2);
	awaits_task(2, 0);
	find(NULL, 0, &d, &n);
	cr_assert_eq(n, 1);
	cr_assert_eq(d[0].nlinks, 3);
}

Test(taskgraph, many_tasks)
{
	enum { N = 10000 };
	static struct gw_task many[N];
	static uintptr_t mby[N];
	const struct gw_deadlock *d;
	size_t n;

	/* One task awaits gather() of 9,999 sleeping ones: no cycle, and
	 * no search that grows with the square of the tasks. */
	memset(many, 0, sizeof(many));
	for (int i = 0; i < N; i++) {
		many[i].addr = 0x100000 + (uintptr_t)i * 64;
		many[i].state = GW_TASK_PENDING;
		many[i].awaits = i == 0 ? GW_AWAIT_GATHER : GW_AWAIT_SLEEP;
		many[i].await_object = i == 0 ? 0x9000 : 0x200000 +
		    (uintptr_t)i * 64;
		mby[i] = 0x9000;
		if (i > 0) {
			many[i].awaited_by = &mby[i];
			many[i].nawaited_by = 1;
		}
	}
	loop.tasks = many;
	loop.ntasks = N;
	find(NULL, 0, &d, &n);
	cr_assert_eq(n, 0);
	/* The last one awaits the first: a cycle through the gather. */
	many[N - 1].awaits = GW_AWAIT_TASK;
	many[N - 1].await_task = many[0].addr;
	find(NULL, 0, &d, &n);
	cr_assert_eq(n, 1);
	cr_assert_eq(d[0].nlinks, 2);
}

Test(taskgraph, held_up_nearest_the_cycle_first)
{
	const struct gw_deadlock *d;
	struct gw_deadlock td;
	size_t n;

	/* outer (first in the list) awaits inner, which awaits the
	 * executor future of worker 101, in a cycle with 102. */
	task(0, "outer");
	task(1, "inner");
	awaits_task(0, 1);
	awaits_worker_in_cycle(1, &td);
	find(&td, 1, &d, &n);
	cr_assert_eq(n, 1);
	cr_assert_eq(d[0].nwaiters, 2);
	cr_assert_eq(d[0].waiters[0].task, tk[1].addr);
	cr_assert_eq(d[0].waiters[0].held_by, 101);
	cr_assert_eq(d[0].waiters[1].task, tk[0].addr);
	cr_assert_eq(d[0].waiters[1].waits_for.addr, tk[1].addr);
}

/*
 * The run_coroutine_threadsafe cycle: thread 101 waits in
 * Future.result (a notify: no owner) for the future 0x8000 that task
 * "fetch" of thread 100's loop completes; thread 100, the loop's, is
 * blocked on a lock 101 holds, in the step of task "blocker"; "main"
 * awaits "blocker".
 */
static void
threadsafe_cycle(void)
{
	task(0, "main");
	task(1, "blocker");
	task(2, "fetch");
	awaits_task(0, 1);
	tk[1].running = 1;
	loop.running_task = tk[1].addr;
	tk[2].result_future = 0x8000;
	tk[2].result_waiter = 101;
	thread_waits(0, 1);
	waits[1].lock.addr = 0x6000;
	waits[1].py_kind = GW_PYWAIT_NOTIFY;
	ti[1].waiting = &waits[1];
	ti[1].state = GW_STATE_WAITING;
}

Test(taskgraph, a_thread_waits_for_a_task_whose_loop_waits_for_it)
{
	const struct gw_deadlock *d;
	const struct gw_deadlock_link *l;
	size_t n;

	threadsafe_cycle();
	find(NULL, 0, &d, &n);
	cr_assert_eq(n, 1);
	cr_assert_eq(d[0].nlinks, 3);
	l = d[0].links;
	/* fetch cannot be stepped while its loop's thread is blocked, */
	cr_assert_eq(l[0].task, tk[2].addr);
	cr_assert_str_eq(l[0].task_name, "fetch");
	cr_assert_eq(l[0].task_awaits, GW_AWAIT_LOOP);
	cr_assert_eq(l[0].tid, 100);
	cr_assert_eq(l[0].held_by, 100);
	cr_assert_eq(l[0].waits_for.addr, 0);
	/* which waits for a lock of 101, */
	cr_assert_eq(l[1].task, 0);
	cr_assert_eq(l[1].tid, 100);
	cr_assert_eq(l[1].waits_for.addr, 0x5000);
	cr_assert_eq(l[1].held_by, 101);
	cr_assert_eq(l[1].result_of, 0);
	/* which waits for the result of fetch. */
	cr_assert_eq(l[2].task, 0);
	cr_assert_eq(l[2].tid, 101);
	cr_assert_eq(l[2].result_of, tk[2].addr);
	cr_assert_eq(l[2].waits_for.addr, 0x8000);
	cr_assert_eq(l[2].held_by, 100);
	/* main awaits the running task, its loop's thread: held up
	 * through that thread; blocker is the thread's step, not held. */
	cr_assert_eq(d[0].nwaiters, 1);
	cr_assert_eq(d[0].waiters[0].task, tk[0].addr);
	cr_assert_eq(d[0].waiters[0].task_awaits, GW_AWAIT_LOOP);
	cr_assert_eq(d[0].waiters[0].held_by, 100);
}

Test(taskgraph, through_the_running_task)
{
	const struct gw_deadlock *d;
	size_t n;

	/* 101 waits for the result of blocker, whose own step is what
	 * blocks the loop's thread on 101's lock. */
	threadsafe_cycle();
	tk[2].result_waiter = 0;
	tk[1].result_future = 0x8000;
	tk[1].result_waiter = 101;
	find(NULL, 0, &d, &n);
	cr_assert_eq(n, 1);
	cr_assert_eq(d[0].nlinks, 3);
	cr_assert_eq(d[0].links[0].task, tk[1].addr);
	cr_assert_eq(d[0].links[2].result_of, tk[1].addr);
}

Test(taskgraph, no_cross_edge_unless_both_wait_for_good)
{
	const struct gw_deadlock *d;
	size_t n;

	/* The loop's thread in a timed wait: it returns by itself. */
	threadsafe_cycle();
	waits[0].timed = 1;
	find(NULL, 0, &d, &n);
	cr_assert_eq(n, 0);
	/* Waiting for the GIL: the holder drops it in time. */
	waits[0].timed = 0;
	waits[0].lock.kind = GW_LOCK_GIL;
	find(NULL, 0, &d, &n);
	cr_assert_eq(n, 0);
	/* The worker in result(timeout=...). */
	waits[0].lock.kind = GW_LOCK_MUTEX;
	waits[1].timed = 1;
	find(NULL, 0, &d, &n);
	cr_assert_eq(n, 0);
	/* The worker not blocked (its frames were read before it woke). */
	waits[1].timed = 0;
	ti[1].waiting = NULL;
	find(NULL, 0, &d, &n);
	cr_assert_eq(n, 0);
	/* fetch done: the future is being completed. */
	ti[1].waiting = &waits[1];
	tk[2].state = GW_TASK_DONE;
	find(NULL, 0, &d, &n);
	cr_assert_eq(n, 0);
	/* And back: the cycle. */
	tk[2].state = GW_TASK_PENDING;
	find(NULL, 0, &d, &n);
	cr_assert_eq(n, 1);
}

/* --- a loop in a thread's frames (before 3.14) ----------------------- */

static struct py_frame fr[8];

static void
frame(int i, const char *fn, const char *file)
{
	snprintf(fr[i].function, sizeof(fr[i].function), "%s", fn);
	snprintf(fr[i].file, sizeof(fr[i].file), "%s", file);
}

Test(frames_loop, the_running_coroutine)
{
	int coro, ncoro;

	memset(fr, 0, sizeof(fr));
	frame(0, "inner", "/app/x.py");
	frame(1, "outer", "/app/x.py");
	frame(2, "_run", "/usr/lib/python3.12/asyncio/events.py");
	frame(3, "_run_once", "/usr/lib/python3.12/asyncio/base_events.py");
	frame(4, "run_forever", "/usr/lib/python3.12/asyncio/base_events.py");
	frame(5, "<module>", "/app/x.py");
	cr_assert_eq(py_asyncio_frames_loop(fr, 6, &coro, &ncoro), 4);
	cr_assert_eq(coro, 0);
	cr_assert_eq(ncoro, 2);
}

Test(frames_loop, idle_and_none)
{
	int coro, ncoro;

	memset(fr, 0, sizeof(fr));
	frame(0, "select", "/usr/lib/python3.12/selectors.py");
	frame(1, "_run_once", "/usr/lib/python3.12/asyncio/base_events.py");
	frame(2, "run_forever", "/usr/lib/python3.12/asyncio/base_events.py");
	cr_assert_eq(py_asyncio_frames_loop(fr, 3, &coro, &ncoro), 2);
	cr_assert_eq(ncoro, 0);
	/* A run_forever of another module is no event loop. */
	frame(2, "run_forever", "/app/server.py");
	cr_assert_eq(py_asyncio_frames_loop(fr, 3, &coro, &ncoro), -1);
	cr_assert_eq(ncoro, 0);
}
