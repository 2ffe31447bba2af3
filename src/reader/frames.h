/*
 * A thread's stack as reports show it: its native frames with its
 * Python frames in place of the interpreter's eval loop.  The same rule
 * for a snapshot taken inside (the shim) and one read from outside.
 */
#ifndef GW_FRAMES_H
#define GW_FRAMES_H

#include <stddef.h>

#include "gilwatch/snapshot.h"

struct py_frame;

/* Is f a frame of CPython's eval loop (_PyEval_EvalFrame*...)? */
int	frames_is_eval_loop(const struct gw_frame *f);

/*
 * Into out (room for nnative + npy), the native frames with the Python
 * frames in place of the eval-loop frames that ran them: each native
 * eval-loop call (a run of adjacent eval-loop frames) takes the Python
 * frames up to the next one marked in call_end (py.h,
 * PY_FRAME_CALL_END), innermost first, so that C between two calls (a
 * sort calling its key, asyncio's task step running a coroutine) stays
 * between their Python frames.  The outermost call takes whatever is
 * left; call_end NULL gives every Python frame to the innermost call.
 * When no eval loop is found (a stripped interpreter) the Python frames
 * come first.  Returns the number written.
 */
size_t	frames_merge(struct gw_frame *out, const struct gw_frame *native,
	    size_t nnative, const struct gw_frame *py,
	    const unsigned char *call_end, size_t npy);

/* Into call_end[i], whether p[i] ends its eval-loop call, for n frames. */
void	frames_call_ends(unsigned char *call_end, const struct py_frame *p,
	    size_t n);

/*
 * A Python frame (py.h) as a report frame; its strings are copied with
 * copy(arg, str) into the caller's snapshot.
 */
void	frames_python(struct gw_frame *f, const struct py_frame *p,
	    const char *(*copy)(void *arg, const char *str), void *arg);

#endif /* GW_FRAMES_H */
