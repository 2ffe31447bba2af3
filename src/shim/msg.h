/*
 * One-line messages from the shim to the program's stderr, each starting
 * "gilwatch: ".  Formatted into a stack buffer and written with one
 * write(2), so lines from several threads do not interleave.  Not signal
 * safe (vsnprintf).
 */
#ifndef GW_MSG_H
#define GW_MSG_H

void	msg_say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * A note every process of a run would repeat (the dump signal is not
 * gilwatch's, a setting is bad, no socket can be made): said only by
 * the process `gilwatch run` started, whose pid it passes in
 * GILWATCH_RUN_PID, and by the programs that process execs (they keep
 * its pid).  Its children, and their children, stay quiet.  Without
 * GILWATCH_RUN_PID (the shim preloaded by hand) every process speaks.
 */
void	msg_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The pid GILWATCH_RUN_PID names (config.c reads it); 0: none. */
void	msg_set_run_pid(long pid);

/* The monitor process speaks for its program, whose pid that is. */
void	msg_speak_for(long pid);

#endif /* GW_MSG_H */
