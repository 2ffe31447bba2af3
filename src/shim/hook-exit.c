/*
 * _exit and _Exit: a process that ends without exit() (os._exit in a
 * multiprocessing worker, a forked child that skips atexit handlers)
 * runs no destructor, so the exit reports would be lost.  The hook
 * writes them first, then ends the process exactly as libc would.
 */
#include "hook.h"
#include "shim.h"

static _Noreturn void
end_process(int status)
{
	shim_exit_reports();
	/* Resolves real._exit when nothing has yet; else a system call. */
	hook_ready();
	real_exit(status);
}

GW_EXPORT void
_exit(int status)
{
	end_process(status);
}

GW_EXPORT void
_Exit(int status)
{
	end_process(status);
}
