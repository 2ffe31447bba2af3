/* Native and Python frames merged: see frames.h. */
#include <string.h>

#include "frames.h"
#include "py.h"

int
frames_is_eval_loop(const struct gw_frame *f)
{
	return f->function != NULL &&
	    (strncmp(f->function, "_PyEval_EvalFrame", 17) == 0 ||
	    strcmp(f->function, "PyEval_EvalFrameEx") == 0);
}

size_t
frames_merge(struct gw_frame *out, const struct gw_frame *native,
    size_t nnative, const struct gw_frame *py, size_t npy)
{
	size_t i, n = 0;
	int merged = 0;

	for (i = 0; i < nnative; i++) {
		if (npy > 0 && frames_is_eval_loop(&native[i])) {
			if (!merged)
				memcpy(out + n, py, npy * sizeof *py);
			n += merged ? 0 : npy;
			merged = 1;
			continue;
		}
		out[n++] = native[i];
	}
	if (npy > 0 && !merged) {
		memmove(out + npy, out, n * sizeof *out);
		memcpy(out, py, npy * sizeof *py);
		n += npy;
	}
	return n;
}

void
frames_python(struct gw_frame *f, const struct py_frame *p,
    const char *(*copy)(void *, const char *), void *arg)
{
	memset(f, 0, sizeof *f);
	if (p->flags & PY_FRAME_INVALID) {
		f->kind = GW_FRAME_INVALID;
		f->function = "<invalid>";
		return;
	}
	f->kind = GW_FRAME_PYTHON;
	f->ip = p->frame;
	f->function = copy(arg, py_frame_name(p));
	f->file = copy(arg, p->file);
	f->line = p->line;
}
