/*
 * Preload that interposes pthread_mutex_lock and unlock and only
 * forwards them: with idle-thread.so beside it, it is the floor any
 * preload shim with a helper thread stands on (a call through the PLT
 * into the shim, one through a pointer into libc, atomic lock
 * instructions), against which gilwatch's own bookkeeping is measured.
 */
#include <dlfcn.h>
#include <pthread.h>

static int (*real_lock)(pthread_mutex_t *);
static int (*real_unlock)(pthread_mutex_t *);

__attribute__((constructor)) static void
resolve(void)
{
	*(void **)&real_lock = dlsym(RTLD_NEXT, "pthread_mutex_lock");
	*(void **)&real_unlock = dlsym(RTLD_NEXT, "pthread_mutex_unlock");
}

int
pthread_mutex_lock(pthread_mutex_t *m)
{
	return real_lock(m);
}

int
pthread_mutex_unlock(pthread_mutex_t *m)
{
	return real_unlock(m);
}
