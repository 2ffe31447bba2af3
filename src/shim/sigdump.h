/*
 * The thread dump written by the dump signal's handler itself, for a
 * process without gilwatch's helper thread (a single-threaded program:
 * the helper starts with the program's first thread, dump.h).
 *
 * Everything here is async-signal-safe, as faulthandler is: no malloc,
 * no stdio, no lock the interrupted code may hold.  So the dump is the
 * interrupted thread's own: its name and TID, its GIL state, the locks
 * it holds (addresses and kinds), its Python frames (read through
 * mem_read with process_vm_readv, which takes no lock), and its native
 * return addresses, unnamed (naming reads ELF and DWARF files and
 * allocates).  The dump says what it leaves out, and that `gilwatch
 * dump PID` gives the full report.  It is text whatever --format says:
 * the JSON writer works on a snapshot, which allocates.
 */
#ifndef GW_SIGDUMP_H
#define GW_SIGDUMP_H

/*
 * Where the dump goes, worked out ahead (a --output path's %p needs the
 * pid): at start-up and again in a fork child.  Not signal safe.
 */
void	sigdump_prepare(void);

/* Write the dump; uc is the handler's ucontext.  Async-signal-safe. */
void	sigdump_write(int signo, void *uc);

#endif /* GW_SIGDUMP_H */
