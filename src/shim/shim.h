/*
 * Start-up, fork and the end of the process (shim.c).
 *
 * Layout: the shim's modules in layers, each including only those
 * below it (tests/integration/test_layout.py guards it):
 *
 *   common, reader, format	(src/: shared with the command)
 *   clock msg config real stats ulock
 *   guard			the in-shim depth
 *   stack thread lock stackvar
 *   gil-blame gil-profile trace rtbudget gil track order deadlock stall
 *	tracking and detection: each returns what it found, none calls
 *	reporting (gil calls blame, profile, trace and rtbudget, not
 *	back)
 *   report report-* order-report holdwarn snapshot publish dump
 *	reporting and publication
 *   event			the findings of tracking, reported
 *   hook-* shim api		the layer above: libc's calls, which
 *				hand tracking's findings to event (the
 *				GIL's markers and a thread's end too)
 */
#ifndef GW_SHIM_H
#define GW_SHIM_H

/*
 * The process is ending through _exit: write the exit reports that the
 * destructor would have written.  Only in the process the shim started
 * in or a fork() child of it (a vfork child shares its parent's memory
 * and has another pid: it writes nothing), and once per process.  The
 * reports are written by the helper thread when there is one, and the
 * caller waits a bounded time: _exit may be called from a signal
 * handler that interrupted a lock the reports need, and the process
 * must end anyway.
 */
void	shim_exit_reports(void);

#endif /* GW_SHIM_H */
