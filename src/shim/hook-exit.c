/*
 * _exit and _Exit: a process that ends without exit() (os._exit in a
 * multiprocessing worker, a forked child that skips atexit handlers)
 * runs no destructor, so the exit reports would be lost.  The hook
 * writes them first, then ends the process exactly as libc would.
 */
#include "hook.h"
#include "shim.h"

GW_EXPORT void
_exit(int status)
{
	shim_exit_reports();
	hook_ready();
	real_exit(status);
}

GW_EXPORT void
_Exit(int status)
{
	shim_exit_reports();
	hook_ready();
	real_exit(status);
}
