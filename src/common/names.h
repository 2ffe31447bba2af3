/*
 * Names of lock kinds, shared by the shim's reports and the dashboard so
 * the two always say the same word for the same lock.
 */
#ifndef GW_NAMES_H
#define GW_NAMES_H

/* "mutex", "rwlock", ... for an enum gw_lock_kind; NULL when unknown. */
const char	*names_lock_kind(int kind);

#endif /* GW_NAMES_H */
