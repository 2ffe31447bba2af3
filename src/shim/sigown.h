/*
 * Signals the shim handles (the dump signal, the stack-sampling signal)
 * belong to the program first.  The shim installs its handler only
 * where the program left the default, keeps showing the program the
 * disposition it set (never the shim's), and steps aside the moment the
 * program installs a handler of its own or ignores the signal.
 */
#ifndef GW_SIGOWN_H
#define GW_SIGOWN_H

/*
 * Install handler for signo if its disposition is the default.  aside
 * runs (once) when the program takes the signal over.  Returns 0, -1
 * when the program already handles signo, -2 when it ignores it (often
 * inherited: a shell ignores SIGINT and SIGQUIT for background jobs).
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

#endif /* GW_SIGOWN_H */
