/*
 * Critical sections of a free-threaded CPython: see py.h.
 *
 * A thread in Py_BEGIN_CRITICAL_SECTION(op) has pushed a
 * PyCriticalSection (on its C stack) onto tstate->critical_section and
 * holds op->ob_mutex.  The pointer to the innermost section, and each
 * section's _cs_prev, carry tag bits: INACTIVE when the thread detached
 * (the section's mutexes were released, to be taken again when it
 * attaches) and TWO_MUTEXES for a PyCriticalSection2.  A section being
 * entered is pushed before its mutex is locked and records the mutex
 * only once it has it: a thread parked there shows a section with none.
 * Every section below an inactive one is inactive too (detaching
 * suspends the whole chain).
 */
#include <string.h>

#include "py.h"

/* The object whose header holds mutex m, checked by its type's name. */
static int
object_of(const struct py_runtime *rt, uintptr_t m, uintptr_t *obj,
    char *type, size_t size)
{
	*obj = m - (uintptr_t)rt->off->ob_mutex;
	return py_type_name(rt, *obj, type, size);
}

int
py_tstate_critical_sections(const struct py_runtime *rt, uintptr_t ts,
    struct py_cs *out, int max, int *more)
{
	const struct py_offsets *o = rt->off;
	uintptr_t tag, cs, m, m2, tags;
	int n = 0, inactive = 0;

	*more = 0;
	if (o == NULL || o->ts_critical_section < 0 || o->ob_mutex < 0 ||
	    py_read_ptr(ts + (uintptr_t)o->ts_critical_section, &tag) == -1)
		return -1;
	tags = (uintptr_t)(o->cs_inactive | o->cs_two_mutexes);
	while (tag != 0) {
		if (n == max) {
			*more = 1;
			break;
		}
		cs = tag & ~tags;
		inactive |= (tag & (uintptr_t)o->cs_inactive) != 0;
		m2 = 0;
		if (py_read_ptr(cs + (uintptr_t)o->cs_mutex, &m) == -1 ||
		    ((tag & (uintptr_t)o->cs_two_mutexes) && py_read_ptr(cs +
		    (uintptr_t)o->cs_mutex2, &m2) == -1))
			break;
		memset(&out[n], 0, sizeof(out[n]));
		if (m == 0)
			out[n].state = PY_CS_ENTERING;
		else if (object_of(rt, m, &out[n].object, out[n].type,
		    sizeof(out[n].type)) == -1 || (m2 != 0 && object_of(rt,
		    m2, &out[n].object2, out[n].type2,
		    sizeof(out[n].type2)) == -1))
			break;
		else
			out[n].state = inactive ? PY_CS_SUSPENDED : PY_CS_HELD;
		n++;
		if (py_read_ptr(cs + (uintptr_t)o->cs_prev, &tag) == -1)
			break;
	}
	return n;
}

int
py_cs_holds(const struct py_runtime *rt, int state, uintptr_t object,
    uintptr_t object2, uintptr_t m)
{
	uintptr_t off;

	if (rt->off == NULL || rt->off->ob_mutex < 0 || state != PY_CS_HELD)
		return 0;
	off = (uintptr_t)rt->off->ob_mutex;
	return (object != 0 && object + off == m) ||
	    (object2 != 0 && object2 + off == m);
}
