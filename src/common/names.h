/*
 * Names of lock kinds and Python lock types, shared by the shim's reports and the dashboard so
 * the two always say the same word for the same lock.
 */
#ifndef GW_NAMES_H
#define GW_NAMES_H

/* "mutex", "rwlock", ... for an enum gw_lock_kind; NULL when unknown. */
const char	*names_lock_kind(int kind);

/*
 * "threading.Lock", "threading.RLock", "Python lock" for a
 * GW_SHM_PYLOCK_* (gilwatch/shm.h); NULL for none or unknown.
 */
const char	*names_py_lock(int type);

/* The GW_SHM_PYLOCK_* of such a name; GW_SHM_PYLOCK_NONE for NULL. */
int		 names_py_lock_type(const char *name);

#endif /* GW_NAMES_H */
