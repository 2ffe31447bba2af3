/* Which Python lock a lock record is: see pylock-type.h. */
#include <stdatomic.h>

#include "gilwatch/shm.h"
#include "gil.h"
#include "lock.h"
#include "py.h"
#include "pylock-type.h"

int
pylock_type(uintptr_t addr, struct lockrec *rec, uintptr_t *object)
{
	const struct py_runtime *rt = gil_runtime();
	struct py_lock l;

	if (rt == NULL)
		return GW_SHM_PYLOCK_NONE;
	if (py_lock_read(rt, addr, &l) == 0 && l.object == addr) {
		if (object != NULL)
			*object = l.object;
		return l.kind == PY_LOCK_RLOCK ? GW_SHM_PYLOCK_RLOCK :
		    GW_SHM_PYLOCK_LOCK;
	}
	if (rec != NULL && atomic_load(&rec->py_code) != 0)
		return GW_SHM_PYLOCK_PYTHON;
	return GW_SHM_PYLOCK_NONE;
}
