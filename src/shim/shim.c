/*
 * Start-up and fork handling of libgilwatch.so.  The order of start-up
 * matters: real functions first (every hook needs them), then settings,
 * tables, the registry, and last the helper thread, which may take a
 * dump at once.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

#include "config.h"
#include "deadlock.h"
#include "stall.h"
#include "loopstall.h"
#include "dump.h"
#include "hook.h"
#include "hook-pylock.h"
#include "lock.h"
#include "clock.h"
#include "gil-profile.h"
#include "gil.h"
#include "rtbudget.h"
#include "rtcycle.h"
#include "holdwarn.h"
#include "metrics.h"
#include "monitor.h"
#include "py.h"
#include "mem.h"
#include "msg.h"
#include "out.h"
#include "report.h"
#include "order.h"
#include "order-report.h"
#include "share.h"
#include "shim.h"
#include "sigown.h"
#include "stack.h"
#include "stats.h"
#include "trace.h"


#define EXIT_REPORT_WAIT_MS	5000	/* for the helper, at _exit */
#define LAST_METRICS_WAIT_MS	2000	/* and before --on-deadlock=exit */

static atomic_int initialised;
static pid_t shim_pid;		/* the process the exit reports are for */
static atomic_int final_done;	/* they were written, or are being */

static void
sampler_aside(int signo)
{
	stack_sampler_disable();
	msg_note("the program handles signal %d, which gilwatch used to "
	    "sample stacks: running threads are dumped without stacks",
	    signo);
}

/*
 * --on-deadlock or --on-stall ends the process with no exit reports:
 * the metrics say what ended it.  Written by the helper, or here when
 * this is the helper (or there is none: this thread ends with the
 * process anyway).
 */
static void
last_metrics(void)
{
	if (dump_on_helper(metrics_write, LAST_METRICS_WAIT_MS) == -1)
		metrics_write();
}

/* The helper leaves first: it may be unwinding, which the gate waits
 * for. */
static void
fork_prepare(void)
{
	dump_fork_prepare();
	stack_fork_prepare();
	/*
	 * Until the child has its own copy of the tables, its hooks (in
	 * atfork handlers that run before ours) must not write them: they
	 * are the parent's.  The forking thread passes through until then,
	 * in the parent as well.
	 */
	thread_enter_shim();
	share_fork_prepare();
}

/*
 * A helper that left for the fork comes back at the next mutex lock
 * that takes the full path (dump_resume_if_paused): the forking thread,
 * the only one, forgets the locks it took lately, so its next is one.
 */
static void
fork_parent(void)
{
	struct thread *t;

	share_fork_parent();
	thread_leave_shim();	/* fork_prepare's */
	stack_fork_done();
	dump_fork_parent();
	if (atomic_load(&dump_helper_resume) && (t = thread_peek()) != NULL)
		thread_recent_clear(t);
}

/*
 * A thread ends: gil.c closes its GIL interval, tracking drops the GIL
 * it still held, then the registry frees its record.
 */
static void
thread_ending(struct thread *t)
{
	if (gil_thread_exit(t))
		event_releasing(t, gil_address());
	if (trace_on)
		trace_thread_exit(t);
}

static void
after_fork_child(void)
{
	/* First: until then the child's writes are its parent's too. */
	share_after_fork_child();
	thread_leave_shim();	/* fork_prepare's */
	stack_fork_done();
	shim_pid = getpid();
	atomic_store(&final_done, 0);
	thread_after_fork_child();
	clock_init();
	deadlock_reset();
	stall_reset();
	loopstall_reset();
	gil_after_fork_child();
	rt_reset();	/* the parent's misses and cycles are its own */
	report_after_fork_child();
	rt_cycle_reset();
	mem_after_fork_child();
	order_after_fork_child();
	order_report_after_fork_child();
	stack_symbols_reset();
	trace_after_fork_child();
	metrics_after_fork_child();
	dump_after_fork_child();
}

__attribute__((constructor)) static void
shim_init(void)
{
	real_resolve();
	if (!real_ready())
		return;
	thread_enter_shim();
	shim_pid = getpid();
	config_load();
	/* Before any table: they are carved from what it shares. */
	if (config.monitor)
		share_init();
	clock_init();
	stats_on = config.stats;
	holdwarn_init(config.hold_warn_ms);
	rt_init(config.rt_budget_ms);
	trace_init(config.trace, config.trace_lock_wait_ms,
	    config.trace_events);
	/* A long-hold warning needs every hold timed. */
	stats_set_hold_sample(config.hold_warn_ms > 0 ? 1 : config.hold_sample);
	if (lock_table_init(config.lock_slots) == -1)
		msg_say("no memory for the lock table: lock details are off");
	thread_registry_init(thread_ending);
	if (config.sample_signal > 0) {
		if (stack_sampler_install(config.sample_signal) == 0)
			sigown_adopt(config.sample_signal, sampler_aside);
		else
			msg_note("signal %d is the program's: running threads "
			    "are dumped without stacks", config.sample_signal);
	}
	gil_init();
	/* The interpreter's data is read through the kernel there. */
	if (gil_runtime() != NULL)
		monitor_leave_out((const void *)gil_runtime()->runtime);
	pylock_hooks_install();
	if (gil_address() != 0)
		profile_init(config.gil_profile);
	else if (config.gil_profile[0] != '\0')
		msg_say("no GIL here: no GIL profile (%s)", config.gil_profile);
	metrics_init(config.metrics, config.metrics_interval_s);
	if (config.metrics[0] != '\0')
		report_last_words = last_metrics;
	if (!config.lock_order_off)
		order_enable();
	report_end_program = dump_end_program;
	thread_last_exit = dump_quit;
	thread_create_hook = dump_need_helper;
	dump_start();
	pthread_atfork(fork_prepare, fork_parent, after_fork_child);
	atomic_store(&initialised, 1);
	thread_leave_shim();
	thread_self();
	/* Last: the monitor's copy of the shim is the one start-up made. */
	thread_enter_shim();
	dump_prefork();
	thread_leave_shim();
}

/* Only one thread writes them, only once, and never a vfork child. */
static int
claim_final(void)
{
	int expect = 0;

	return atomic_load(&initialised) && getpid() == shim_pid &&
	    atomic_compare_exchange_strong(&final_done, &expect, 1);
}

static void
final_reports(void)
{
	thread_enter_shim();
	dump_stop();
	if (config.report && config.stats)
		report_locks_to_output(1);
	if (config.report)
		report_gil_to_output();
	profile_write();
	trace_write();
	metrics_write();
	thread_leave_shim();
}

void
shim_exit_reports(void)
{
	if (claim_final() &&
	    dump_on_helper(final_reports, EXIT_REPORT_WAIT_MS) == -1)
		final_reports();
}

/* The monitor, when there is one, writes them: the publication and the
 * metrics are its. */
__attribute__((destructor)) static void
shim_fini(void)
{
	if (claim_final() && (!dump_monitor_runs() ||
	    dump_on_helper(final_reports, EXIT_REPORT_WAIT_MS) == -1))
		final_reports();
}
