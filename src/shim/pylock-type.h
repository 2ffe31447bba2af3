/*
 * Which Python lock a lock record is, for reports and the publication
 * alike, so both name it with the same words.
 */
#ifndef GW_PYLOCK_TYPE_H
#define GW_PYLOCK_TYPE_H

#include <stdint.h>

struct lockrec;

/*
 * GW_SHM_PYLOCK_* (gilwatch/shm.h) of the lock at addr, whose record is
 * rec (NULL: none).  Where a lock is a PyMutex (3.13.1+, 3.14+) the
 * record's address is the lock object, whose type says Lock or RLock,
 * and *object (when not NULL) is set to it; where it is a semaphore
 * (up to 3.13.0) the object is not known, but a Python line of its last
 * acquisition says Python took it.  Reads the object's memory through
 * the reader (a system call): for reports and a watched publication,
 * not for hooks.
 */
int	pylock_type(uintptr_t addr, struct lockrec *rec, uintptr_t *object);

#endif /* GW_PYLOCK_TYPE_H */
