/*
 * JACK clients: the process callback a client registers with
 * jack_set_process_callback is wrapped so that each period is a
 * real-time cycle (rtcycle.h) whose budget is the period: frames per
 * period (the callback's argument) over the sample rate (asked of
 * libjack's jack_get_sample_rate when the callback is registered).  The
 * program's callback is called with its own argument and its result is
 * passed back; registration returns what libjack returns.
 *
 * libjack is reached two ways.  Linked, the program's calls reach the
 * shim's jack_set_process_callback (hook-jack.c), which finds libjack's
 * with dlsym(RTLD_NEXT) at its first call.  Looked up on a handle
 * (Python's cffi dlopen()s libjack, RTLD_LOCAL), the dlsym hook asks
 * jack_hook_for, which keeps libjack's functions from that handle and
 * hands out the shim's.
 */
#ifndef GW_JACK_H
#define GW_JACK_H

#include <string.h>

/* The name the shim wraps, and the one it reads the rate with. */
#define JACK_SET_PROCESS	"jack_set_process_callback"
#define JACK_SAMPLE_RATE	"jack_get_sample_rate"

/* The name a lookup on a handle must give jack_hook_for? */
static inline int
jack_named(const char *name)
{
	return name[0] == 'j' && strcmp(name, JACK_SET_PROCESS) == 0;
}

/*
 * JACK_SET_PROCESS was looked up on a handle and found fn there, and
 * rate (the handle's JACK_SAMPLE_RATE, or NULL): the function to hand
 * out instead, or NULL when fn is NULL (no such function there).
 */
void	*jack_hook_for(void *fn, void *rate);

#endif /* GW_JACK_H */
