/*
 * threading.Lock and RLock under CPython 3.14 and later, and 3.13t's
 * Lock (hook-pylock.c).  Up to 3.13 they are semaphores, which the
 * semaphore hooks see (3.13t's RLock too); from 3.14 (3.13t: the Lock)
 * they are PyMutexes, taken with atomic instructions inside libpython.
 * So every call Python makes to their acquire, release, __enter__ and
 * __exit__ goes through a hook instead: CPython looks up
 * a method's C function in its PyMethodDef at each call (method
 * descriptors, bound methods and the specialised calls alike), and the
 * hooks are swapped into _thread's method tables (pytables.h) before
 * any Python code runs.  A Lock is then held, waited for and part of
 * deadlocks as a semaphore is (by its last taker), named by the lock
 * object's address (its id()), as 3.8-3.13's are by their semaphore's.
 *
 * Not seen: C code that takes a Python lock's PyMutex itself (the
 * _PyMutex_* calls of an extension), and a lock's hold and wait when
 * the tables cannot be found (no symbol table): then one message says
 * so, and the rest of gilwatch works.
 */
#ifndef GW_HOOK_PYLOCK_H
#define GW_HOOK_PYLOCK_H

/*
 * Swap the hooks in for the lock types that are PyMutexes in the
 * interpreter found (gil.h): 3.14+, 3.13t's Lock.  At start-up, once
 * gil_init has run, before the interpreter starts (after, its lock
 * types are made).
 */
void	pylock_hooks_install(void);

#endif /* GW_HOOK_PYLOCK_H */
