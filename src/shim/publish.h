/*
 * Publication of the shim's state for `gilwatch top`: a shared-memory
 * file that the helper thread rewrites every so often and that other
 * processes read without stopping this one.  The format is in
 * include/gilwatch/shm.h.
 */
#ifndef GW_PUBLISH_H
#define GW_PUBLISH_H

/* Create the file (helper thread, at start and in a fork child). */
void	publish_start(void);

/* Rewrite it if it is due; returns ms until the next update is due. */
int	publish_update(void);

/* Remove it (exit). */
void	publish_stop(void);

#endif /* GW_PUBLISH_H */
