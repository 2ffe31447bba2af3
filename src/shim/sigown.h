/*
 * Signals the shim handles (the dump signal, the stack-sampling signal).
 * The shim installs its handler where the program has no handler of its
 * own: the default, or ignored (inherited ignored, as a shell leaves
 * SIGQUIT to a background job, or ignored by the program itself).  It
 * keeps showing the program the disposition it set or inherited (never
 * the shim's), and steps aside the moment the program installs a
 * handler of its own.  A signal the program believes ignored may now
 * interrupt a system call that does not restart (EINTR), but only when
 * someone sends it, asking for a dump.  SIGCHLD ignored reaps children:
 * that one is never taken over.
 */
#ifndef GW_SIGOWN_H
#define GW_SIGOWN_H

/*
 * Install handler for signo if the program has no handler for it.
 * aside runs (once) when the program takes the signal over.  Returns 0,
 * or -1 when a handler is already there (another preload's constructor).
 */
int	sigown_claim(int signo, void (*handler)(int, siginfo_t *, void *),
	    void (*aside)(int signo));

/*
 * Record a claim on a signal whose handler the shim already installed
 * itself (after checking it was the default).
 */
void	sigown_adopt(int signo, void (*aside)(int signo));

/* Is signo still the shim's? */
int	sigown_owns(int signo);

/*
 * Around an exec or a spawn.  The kernel resets a caught signal to the
 * default in the new program, so one the program believes ignored would
 * arrive there as the default (SIGQUIT would then kill it): begin gives
 * the kernel SIG_IGN for those, and returns which, for end to put the
 * shim's handler back after a failed exec or in a spawn's parent.  A
 * signal arriving in between is ignored, as the program believes.
 * Async-signal-safe, and writes no shim memory: a vfork child calls it.
 */
unsigned	sigown_exec_begin(void);
void		sigown_exec_end(unsigned changed);

#endif /* GW_SIGOWN_H */
