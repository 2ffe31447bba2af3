/* Wait-for cycle search: see waitfor.h. */
#include <stddef.h>

#include "waitfor.h"

static int
on_path(const struct wf_frame *frames, int depth, void *node)
{
	int i;

	for (i = 0; i < depth; i++)
		if (frames[i].node == node)
			return 1;
	return 0;
}

/*
 * Depth-first, one frame per node on the current path.  A node already
 * on the path (a cycle not through start) is not entered again, which
 * is what makes the search end.
 */
int
wf_find_cycle(wf_edge_fn edge, void *ctx, void *start,
    struct wf_frame *frames, int max)
{
	int depth = 0, steps = 0, overflow = 0;
	struct wf_frame *f;

	if (max < 1)
		return -1;
	frames[0].node = start;
	frames[0].idx = 0;
	while (depth >= 0) {
		f = &frames[depth];
		if (++steps > WF_MAX_STEPS)
			return -1;
		if (!edge(ctx, f->node, f->idx, &f->edge)) {
			depth--;
			if (depth >= 0)
				frames[depth].idx++;
			continue;
		}
		if (f->edge.to == start)
			return depth + 1;
		if (f->edge.to == NULL || on_path(frames, depth + 1,
		    f->edge.to)) {
			f->idx++;
			continue;
		}
		if (depth + 1 >= max) {
			overflow = 1;
			f->idx++;
			continue;
		}
		depth++;
		frames[depth].node = f->edge.to;
		frames[depth].idx = 0;
	}
	return overflow ? -1 : 0;
}

uint64_t
wf_cycle_signature(const struct wf_frame *frames, int n)
{
	uint64_t h = 1469598103934665603ull;
	int i, k, low = 0;

	for (i = 1; i < n; i++)
		if ((uintptr_t)frames[i].node < (uintptr_t)frames[low].node)
			low = i;
	for (k = 0; k < n; k++) {
		i = (low + k) % n;
		h = (h ^ (uintptr_t)frames[i].node) * 1099511628211ull;
		h = (h ^ frames[i].edge.lock) * 1099511628211ull;
	}
	return h;
}
