/*
 * One-line messages from the shim to the program's stderr, each starting
 * "gilwatch: ".  Formatted into a stack buffer and written with one
 * write(2), so lines from several threads do not interleave.  Not signal
 * safe (vsnprintf).
 */
#ifndef GW_MSG_H
#define GW_MSG_H

void	msg_say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif /* GW_MSG_H */
