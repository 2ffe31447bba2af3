/* Lock kind names: see names.h. */
#include <stddef.h>
#include <string.h>

#include "gilwatch/shm.h"
#include "gilwatch/snapshot.h"
#include "names.h"

const char *
names_lock_kind(int kind)
{
	static const char *names[] = {
		[GW_LOCK_MUTEX] = "mutex",
		[GW_LOCK_RWLOCK] = "rwlock",
		[GW_LOCK_SPIN] = "spinlock",
		[GW_LOCK_SEM] = "semaphore",
		[GW_LOCK_COND] = "condvar",
		[GW_LOCK_THREAD] = "thread",
		[GW_LOCK_GIL] = "gil",
		[GW_LOCK_FUTEX] = "futex",
		[GW_LOCK_PYMUTEX] = "pymutex",
	};

	return kind >= 0 && kind <= GW_LOCK_PYMUTEX ? names[kind] : NULL;
}

static const char *py_lock_names[] = {
	[GW_SHM_PYLOCK_PYTHON] = "Python lock",
	[GW_SHM_PYLOCK_LOCK] = "threading.Lock",
	[GW_SHM_PYLOCK_RLOCK] = "threading.RLock",
};

const char *
names_py_lock(int type)
{
	return type > GW_SHM_PYLOCK_NONE && type <= GW_SHM_PYLOCK_RLOCK ?
	    py_lock_names[type] : NULL;
}

int
names_py_lock_type(const char *name)
{
	int k;

	for (k = GW_SHM_PYLOCK_PYTHON; name != NULL &&
	    k <= GW_SHM_PYLOCK_RLOCK; k++)
		if (strcmp(name, py_lock_names[k]) == 0)
			return k;
	return GW_SHM_PYLOCK_NONE;
}
