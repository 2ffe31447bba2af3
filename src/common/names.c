/* Lock kind names: see names.h. */
#include <stddef.h>

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
