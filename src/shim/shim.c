/*
 * Start-up and fork handling of libgilwatch.so.  The order of start-up
 * matters: real functions first (every hook needs them), then settings,
 * tables, the registry, and last the helper thread, which may take a
 * dump at once.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "config.h"
#include "deadlock.h"
#include "dump.h"
#include "hook.h"
#include "lock.h"
#include "clock.h"
#include "gil.h"
#include "holdwarn.h"
#include "py.h"
#include "msg.h"
#include "out.h"
#include "report.h"
#include "order.h"
#include "sigown.h"
#include "stack.h"


static atomic_int initialised;

static void
sampler_aside(int signo)
{
	stack_sampler_disable();
	msg_say("the program handles signal %d, which gilwatch used to "
	    "sample stacks: running threads are dumped without stacks",
	    signo);
}

static void
after_fork_child(void)
{
	stack_fork_done();
	thread_after_fork_child();
	clock_init();
	deadlock_reset();
	gil_after_fork_child();
	py_mem_after_fork_child();
	order_after_fork_child();
	stack_symbols_reset();
	dump_after_fork_child();
}

__attribute__((constructor)) static void
shim_init(void)
{
	real_resolve();
	if (!real_ready())
		return;
	thread_enter_shim();
	config_load();
	clock_init();
	stats_on = config.stats;
	holdwarn_init(config.hold_warn_ms);
	if (lock_table_init(config.lock_slots) == -1)
		msg_say("no memory for the lock table: lock details are off");
	thread_registry_init();
	if (config.sample_signal > 0) {
		if (stack_sampler_install(config.sample_signal) == 0)
			sigown_adopt(config.sample_signal, sampler_aside);
		else
			msg_say("signal %d is the program's: running threads "
			    "are dumped without stacks", config.sample_signal);
	}
	gil_init();
	if (!config.lock_order_off)
		order_enable();
	thread_last_exit = dump_quit;
	thread_create_hook = dump_need_helper;
	dump_start();
	pthread_atfork(stack_fork_prepare, stack_fork_done, after_fork_child);
	atomic_store(&initialised, 1);
	thread_leave_shim();
	thread_self();
}

__attribute__((destructor)) static void
shim_fini(void)
{
	if (!atomic_load(&initialised))
		return;
	thread_enter_shim();
	dump_stop();
	if (config.report && config.stats)
		report_locks_to_output();
	if (config.report)
		report_gil_to_output();
	thread_leave_shim();
}
