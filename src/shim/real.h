/*
 * The real libc functions behind every hook, resolved once.
 *
 * real_resolve() runs from the constructor, or from the first hook that
 * fires before it (a dependency's constructor taking a lock).  While it
 * runs, dlsym may itself take locks: such nested calls see real_ready()
 * false and get a pass-through answer (see hook_bootstrap.h).
 */
#ifndef GW_REAL_H
#define GW_REAL_H

#include <sys/epoll.h>

#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <time.h>

struct real_fns {
	int (*mutex_init)(pthread_mutex_t *, const pthread_mutexattr_t *);
	int (*mutex_destroy)(pthread_mutex_t *);
	int (*mutex_lock)(pthread_mutex_t *);
	int (*mutex_trylock)(pthread_mutex_t *);
	int (*mutex_timedlock)(pthread_mutex_t *, const struct timespec *);
	int (*mutex_clocklock)(pthread_mutex_t *, clockid_t,
	    const struct timespec *);
	int (*mutex_unlock)(pthread_mutex_t *);

	int (*rwlock_init)(pthread_rwlock_t *, const pthread_rwlockattr_t *);
	int (*rwlock_destroy)(pthread_rwlock_t *);
	int (*rwlock_rdlock)(pthread_rwlock_t *);
	int (*rwlock_tryrdlock)(pthread_rwlock_t *);
	int (*rwlock_timedrdlock)(pthread_rwlock_t *, const struct timespec *);
	int (*rwlock_clockrdlock)(pthread_rwlock_t *, clockid_t,
	    const struct timespec *);
	int (*rwlock_wrlock)(pthread_rwlock_t *);
	int (*rwlock_trywrlock)(pthread_rwlock_t *);
	int (*rwlock_timedwrlock)(pthread_rwlock_t *, const struct timespec *);
	int (*rwlock_clockwrlock)(pthread_rwlock_t *, clockid_t,
	    const struct timespec *);
	int (*rwlock_unlock)(pthread_rwlock_t *);

	int (*spin_init)(pthread_spinlock_t *, int);
	int (*spin_destroy)(pthread_spinlock_t *);
	int (*spin_lock)(pthread_spinlock_t *);
	int (*spin_trylock)(pthread_spinlock_t *);
	int (*spin_unlock)(pthread_spinlock_t *);

	int (*cond_wait)(pthread_cond_t *, pthread_mutex_t *);
	int (*cond_timedwait)(pthread_cond_t *, pthread_mutex_t *,
	    const struct timespec *);
	int (*cond_clockwait)(pthread_cond_t *, pthread_mutex_t *, clockid_t,
	    const struct timespec *);
	int (*cond_signal)(pthread_cond_t *);
	int (*cond_broadcast)(pthread_cond_t *);

	int (*sem_wait)(sem_t *);
	int (*sem_trywait)(sem_t *);
	int (*sem_timedwait)(sem_t *, const struct timespec *);
	int (*sem_clockwait)(sem_t *, clockid_t, const struct timespec *);
	int (*sem_post)(sem_t *);
	int (*sem_init)(sem_t *, int, unsigned);
	int (*sem_destroy)(sem_t *);

	int (*create)(pthread_t *, const pthread_attr_t *,
	    void *(*)(void *), void *);
	int (*join)(pthread_t, void **);
	int (*timedjoin_np)(pthread_t, void **, const struct timespec *);
	int (*clockjoin_np)(pthread_t, void **, clockid_t,
	    const struct timespec *);
	int (*setname_np)(pthread_t, const char *);
	int (*prctl)(int, unsigned long, unsigned long, unsigned long,
	    unsigned long);
	int (*sigaction)(int, const struct sigaction *, struct sigaction *);
	sighandler_t (*signal)(int, sighandler_t);
	void (*exit_)(int);

	int (*execve)(const char *, char *const[], char *const[]);
	int (*execv)(const char *, char *const[]);
	int (*execvp)(const char *, char *const[]);
	int (*execvpe)(const char *, char *const[], char *const[]);
	int (*fexecve)(int, char *const[], char *const[]);
	int (*execveat)(int, const char *, char *const[], char *const[], int);
	int (*posix_spawn)(pid_t *, const char *,
	    const posix_spawn_file_actions_t *, const posix_spawnattr_t *,
	    char *const[], char *const[]);
	int (*posix_spawnp)(pid_t *, const char *,
	    const posix_spawn_file_actions_t *, const posix_spawnattr_t *,
	    char *const[], char *const[]);
	int (*system)(const char *);
	FILE *(*popen)(const char *, const char *);

	/* An event loop's selector (hook-select.c). */
	int (*epoll_wait)(int, struct epoll_event *, int, int);
	int (*epoll_pwait)(int, struct epoll_event *, int, int,
	    const sigset_t *);
};

extern struct real_fns real;

/*
 * End the process at once, as _exit does, without the exit reports of
 * the _exit hook (the caller has written what it had to say).
 */
_Noreturn void	real_exit(int status);

/* Resolve every pointer.  Idempotent and safe to call from any hook. */
void	real_resolve(void);

/* True once every pointer is set. */
int	real_ready(void);

/*
 * The shim's hook that stands for the libc function fn (an address
 * real_resolve stored), or NULL when fn is none of them or the shim does
 * not hook it.  NULL too before real_ready().
 */
void	*real_hook_of(void *fn);

/* The shim's hook for the libc function called name, or NULL. */
void	*real_hook_named(const char *name);

#endif /* GW_REAL_H */
