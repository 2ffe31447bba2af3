/*
 * next_probe.so: a library preloaded after the shim (gilwatch run puts
 * the shim first) that looks functions up with dlsym(RTLD_NEXT), as
 * preloads do, for tests/integration/prog/dlsym_locks.c.
 *
 * next_probe_lookup(name) is dlsym(RTLD_NEXT, name) done from here: for
 * pthread_mutex_lock, which this library does not define, glibc would
 * answer libc's, past the shim.  getpid is wrapped the usual way: its
 * RTLD_NEXT lookup must be relative to this library, or the wrapper
 * would find itself and recurse.
 */
#include <sys/types.h>

#include <dlfcn.h>
#include <unistd.h>

void	*next_probe_lookup(const char *);

void *
next_probe_lookup(const char *name)
{
	return dlsym(RTLD_NEXT, name);
}

pid_t
getpid(void)
{
	static pid_t (*next)(void);

	if (next == NULL)
		*(void **)&next = dlsym(RTLD_NEXT, "getpid");
	return next();
}
