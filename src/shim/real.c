/*
 * Resolution of the real libc functions.  Each lookup is a named
 * statement rather than a table walk so a missing symbol says which.
 */
#include <sys/syscall.h>

#include <sys/prctl.h>

#include <dlfcn.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdatomic.h>
#include <stddef.h>
#include <string.h>
#include <unistd.h>

#include "real.h"

struct real_fns real;

/* struct real_fns seen as an array of function addresses. */
#define NSLOTS	(sizeof(struct real_fns) / sizeof(void *))
#define SLOT(field)	(offsetof(struct real_fns, field) / sizeof(void *))
_Static_assert(sizeof(struct real_fns) % sizeof(void *) == 0,
    "struct real_fns holds function pointers only");

/*
 * For each slot, the libc name and the function the program reaches by
 * that name: the shim's hook, or NULL when the shim does not define it
 * (its address is then the libc one).  The dlsym hook hands the hook out
 * in place of the libc function.
 */
static struct {
	const char	*name;
	void		*hook;
} slots[NSLOTS];

static atomic_int state;	/* 0 unresolved, 1 resolving, 2 ready */

/*
 * Condition variables have two ABI versions; the default dlsym can hand
 * back the 2.2.5 one, which takes a different object layout.
 */
static void *
lookup_cond(const char *name)
{
	void *p;

	p = dlvsym(RTLD_NEXT, name, "GLIBC_2.3.2");
	if (p == NULL)
		p = dlsym(RTLD_NEXT, name);
	return p;
}

static void
look(size_t slot, const char *name, void *fn, void *hook)
{
	((void **)&real)[slot] = fn;
	slots[slot].name = name;
	slots[slot].hook = hook != fn ? hook : NULL;
}

/* `fn` in the shim is the global definition: the hook, where there is. */
#define LOOK(field, fn)	look(SLOT(field), #fn, dlsym(RTLD_NEXT, #fn), (void *)fn)
#define LOOKC(field, fn) \
	look(SLOT(field), #fn, lookup_cond(#fn), (void *)fn)

void
real_resolve(void)
{
	int expect = 0;

	if (!atomic_compare_exchange_strong(&state, &expect, 1))
		return;
	LOOK(mutex_init, pthread_mutex_init);
	LOOK(mutex_destroy, pthread_mutex_destroy);
	LOOK(mutex_lock, pthread_mutex_lock);
	LOOK(mutex_trylock, pthread_mutex_trylock);
	LOOK(mutex_timedlock, pthread_mutex_timedlock);
	LOOK(mutex_clocklock, pthread_mutex_clocklock);
	LOOK(mutex_unlock, pthread_mutex_unlock);
	LOOK(rwlock_init, pthread_rwlock_init);
	LOOK(rwlock_destroy, pthread_rwlock_destroy);
	LOOK(rwlock_rdlock, pthread_rwlock_rdlock);
	LOOK(rwlock_tryrdlock, pthread_rwlock_tryrdlock);
	LOOK(rwlock_timedrdlock, pthread_rwlock_timedrdlock);
	LOOK(rwlock_clockrdlock, pthread_rwlock_clockrdlock);
	LOOK(rwlock_wrlock, pthread_rwlock_wrlock);
	LOOK(rwlock_trywrlock, pthread_rwlock_trywrlock);
	LOOK(rwlock_timedwrlock, pthread_rwlock_timedwrlock);
	LOOK(rwlock_clockwrlock, pthread_rwlock_clockwrlock);
	LOOK(rwlock_unlock, pthread_rwlock_unlock);
	LOOK(spin_init, pthread_spin_init);
	LOOK(spin_destroy, pthread_spin_destroy);
	LOOK(spin_lock, pthread_spin_lock);
	LOOK(spin_trylock, pthread_spin_trylock);
	LOOK(spin_unlock, pthread_spin_unlock);
	LOOKC(cond_wait, pthread_cond_wait);
	LOOKC(cond_timedwait, pthread_cond_timedwait);
	LOOK(cond_clockwait, pthread_cond_clockwait);
	LOOKC(cond_signal, pthread_cond_signal);
	LOOKC(cond_broadcast, pthread_cond_broadcast);
	LOOK(sem_wait, sem_wait);
	LOOK(sem_trywait, sem_trywait);
	LOOK(sem_timedwait, sem_timedwait);
	LOOK(sem_clockwait, sem_clockwait);
	LOOK(sem_post, sem_post);
	LOOK(sem_init, sem_init);
	LOOK(sem_destroy, sem_destroy);
	LOOK(create, pthread_create);
	LOOK(join, pthread_join);
	LOOK(timedjoin_np, pthread_timedjoin_np);
	LOOK(clockjoin_np, pthread_clockjoin_np);
	LOOK(setname_np, pthread_setname_np);
	LOOK(prctl, prctl);
	LOOK(sigaction, sigaction);
	LOOK(signal, signal);
	LOOK(exit_, _exit);
	LOOK(execve, execve);
	LOOK(execv, execv);
	LOOK(execvp, execvp);
	LOOK(execvpe, execvpe);
	LOOK(fexecve, fexecve);
	LOOK(execveat, execveat);
	LOOK(posix_spawn, posix_spawn);
	LOOK(posix_spawnp, posix_spawnp);
	LOOK(system, system);
	LOOK(popen, popen);
	LOOK(epoll_wait, epoll_wait);
	LOOK(epoll_pwait, epoll_pwait);
	atomic_store(&state, 2);
}

int
real_ready(void)
{
	return atomic_load_explicit(&state, memory_order_acquire) == 2;
}

void *
real_hook_of(void *fn)
{
	size_t i;

	if (fn == NULL || !real_ready())
		return NULL;
	for (i = 0; i < NSLOTS; i++)
		if (((void **)&real)[i] == fn)
			return slots[i].hook;
	return NULL;
}

void *
real_hook_named(const char *name)
{
	size_t i;

	if (!real_ready())
		return NULL;
	for (i = 0; i < NSLOTS; i++)
		if (slots[i].hook != NULL && strcmp(slots[i].name, name) == 0)
			return slots[i].hook;
	return NULL;
}

void
real_exit(int status)
{
	if (real_ready() && real.exit_ != NULL)
		real.exit_(status);
	for (;;)
		syscall(SYS_exit_group, status);
}
