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

/* The first frame of the outermost run of eval-loop frames, or n. */
static size_t
outermost_call(const struct gw_frame *native, size_t n)
{
	size_t i = n;

	while (i > 0 && !frames_is_eval_loop(&native[i - 1]))
		i--;
	if (i == 0)
		return n;
	while (i > 1 && frames_is_eval_loop(&native[i - 2]))
		i--;
	return i - 1;
}

size_t
frames_merge(struct gw_frame *out, const struct gw_frame *native,
    size_t nnative, const struct gw_frame *py, const unsigned char *call_end,
    size_t npy)
{
	size_t i, n = 0, next = 0, end, last;

	last = outermost_call(native, nnative);
	if (last == nnative || npy == 0) {
		memcpy(out, py, npy * sizeof *py);
		memcpy(out + npy, native, nnative * sizeof *native);
		return npy + nnative;
	}
	for (i = 0; i < nnative; i++) {
		if (!frames_is_eval_loop(&native[i])) {
			out[n++] = native[i];
			continue;
		}
		if (i > 0 && frames_is_eval_loop(&native[i - 1]))
			continue;	/* the same call's */
		end = next;
		if (i == last || call_end == NULL)
			end = npy;
		else
			while (end < npy && !call_end[end++])
				;
		memcpy(out + n, py + next, (end - next) * sizeof *py);
		n += end - next;
		next = end;
	}
	return n;
}

void
frames_call_ends(unsigned char *call_end, const struct py_frame *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		call_end[i] = (p[i].flags & PY_FRAME_CALL_END) != 0;
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
