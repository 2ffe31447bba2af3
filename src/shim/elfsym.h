/*
 * Symbol lookup in the dynamic symbol table of one loaded object, as
 * dl_iterate_phdr describes it, without dlsym: for the dlsym hook, which
 * must find the real dlsym before it can call any, and must know whether
 * an object defines a name itself (not through its dependencies).
 */
#ifndef GW_ELFSYM_H
#define GW_ELFSYM_H

#include <link.h>
#include <stdint.h>

/*
 * The address of the function `name` the object defines and exports in
 * its default version, or NULL.  Reads DT_GNU_HASH, else DT_HASH; an
 * object with neither defines nothing here.  GNU indirect functions are
 * not resolved: NULL.
 */
void	*elfsym_function(const struct dl_phdr_info *info, const char *name);

/* True when addr lies in one of the object's loaded segments. */
int	 elfsym_contains(const struct dl_phdr_info *info, uintptr_t addr);

#endif /* GW_ELFSYM_H */
