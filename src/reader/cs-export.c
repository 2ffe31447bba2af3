/*
 * A free-threaded CPython's critical sections, as read (py-cs.c), into a
 * snapshot: see py_cs_export in py.h.  Apart from py-cs.c, which the
 * readers driven alone (pyattach) link without an arena.
 */
#include "arena.h"
#include "gilwatch/snapshot.h"
#include "py.h"

struct gw_critical_section *
py_cs_export(const struct py_cs *cs, int n, struct arena *a)
{
	struct gw_critical_section *c;
	int k;

	if (n <= 0 || (c = arena_alloc(a, (size_t)n * sizeof *c)) == NULL)
		return NULL;
	for (k = 0; k < n; k++) {
		c[k].state = (enum gw_cs_state)cs[k].state;
		c[k].object = cs[k].object;
		c[k].type = cs[k].object ? arena_intern(a, cs[k].type) : NULL;
		c[k].object2 = cs[k].object2;
		c[k].type2 = cs[k].object2 ? arena_intern(a, cs[k].type2) :
		    NULL;
	}
	return c;
}
