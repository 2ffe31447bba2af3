/*
 * --gil-profile=FILE (GILWATCH_GIL_PROFILE): the Python stacks that held
 * the GIL while another thread waited, each weighted by that time,
 * written at exit in the folded-stacks format that flamegraph.pl,
 * inferno and speedscope read: one line per stack, outermost frame
 * first, frames joined by ';', a space, the weight in microseconds.
 * A frame is "function (file:line)".
 *
 * The holder walks its own frames as it lets the GIL go (gil-blame.h
 * says why that is safe and cheap); only holds that made a thread wait
 * are walked.  At most PROFILE_STACKS distinct stacks of PROFILE_DEPTH
 * frames (deeper ones keep their innermost frames under a "..." root);
 * the rest is counted apart and said once.
 */
#ifndef GW_GIL_PROFILE_H
#define GW_GIL_PROFILE_H

#include <stdint.h>

#define PROFILE_STACKS	4096
#define PROFILE_DEPTH	64

struct py_site;

/* Is a profile being kept? */
extern int	profile_on;

/* Keep one, to be written to path (%p: the pid) at exit; "" for none. */
void	profile_init(const char *path);

/*
 * The holder of the GIL made others wait ns: charge its stack, ps[0..n)
 * innermost first as gil_own_sites gives it with max PROFILE_DEPTH + 1
 * (n <= 0: no Python frame).
 */
void	profile_hold(const struct py_site *ps, int n, uint64_t ns);

/* Write the file (at exit).  Says in one line when it cannot. */
void	profile_write(void);

/* Zero the weights (gilwatch top's reset, a fork child). */
void	profile_reset(void);

#endif /* GW_GIL_PROFILE_H */
