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
 * frames in place of the innermost run of eval-loop frames (other
 * eval-loop frames are dropped: the Python frames already stand for
 * them); when no eval loop is found (a stripped interpreter) the Python
 * frames come first.  Returns the number written.
 */
size_t	frames_merge(struct gw_frame *out, const struct gw_frame *native,
	    size_t nnative, const struct gw_frame *py, size_t npy);

/*
 * A Python frame (py.h) as a report frame; its strings are copied with
 * copy(arg, str) into the caller's snapshot.
 */
void	frames_python(struct gw_frame *f, const struct py_frame *p,
	    const char *(*copy)(void *arg, const char *str), void *arg);

#endif /* GW_FRAMES_H */
