/*
 * Start-up, fork and the end of the process (shim.c).
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
