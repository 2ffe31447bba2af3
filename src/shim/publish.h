/*
 * Publication of the shim's state for `gilwatch top`: a shared-memory
 * file that the helper thread rewrites every so often and that other
 * processes read without stopping this one.  The format is in
 * include/gilwatch/shm.h; GILWATCH_PUBLISH_MS sets the interval (100 ms
 * by default, 0: no file).  Only the helper thread calls these, but for
 * publish_stop (exit, any thread).
 */
#ifndef GW_PUBLISH_H
#define GW_PUBLISH_H

/* Create the file (helper thread, at start and in a fork child). */
void	publish_start(void);

/* Rewrite it if it is due; returns ms until the next update is due. */
int	publish_update(void);

/*
 * A viewer is attached (the control socket's "watch" request): from now
 * on code and data addresses are named in the frames, and a frame with
 * every name it mentions is written at once.  Until the first viewer,
 * frames carry addresses only: naming reads ELF and DWARF (milliseconds
 * of CPU, and some 10 MB of a shared library's debug sections mapped in
 * a CPython process) that a program nobody watches need not pay for.
 */
void	publish_watch(void);

/* Remove it (exit). */
void	publish_stop(void);

/*
 * Zero the statistics: every lock's (stats_reset) and every thread's
 * GIL totals.  For the control socket's "reset" request (gilwatch top's
 * r key); updates racing with it may survive it.
 */
void	publish_reset(void);

#endif /* GW_PUBLISH_H */
