/*
 * dlsym_locks: mutex functions reached through dlsym and dlvsym rather
 * than by the program's own calls, which the dynamic linker binds.
 *
 *	dlsym_locks deadlock HOW	an ABBA deadlock through the pointers
 *	dlsym_locks count		lock m 100 times by each HOW, then end
 *
 * HOW is where the pointers come from:
 *	libc	dlsym(dlopen("libc.so.6"), ...)
 *	pthread	dlsym(dlopen("libpthread.so.0"), ...)
 *	vsym	dlvsym(dlopen("libc.so.6"), ..., "GLIBC_2.2.5")
 *	next	dlsym(RTLD_NEXT, ...)
 *	preload	dlsym(RTLD_NEXT, ...) in a library preloaded after the
 *		shim (tests/integration/preload/next_probe.c)
 *
 * A deadlock the shim does not see hangs: the test's timeout ends it.
 */
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "sample.h"

#define COUNT	100

typedef int	(*mutex_fn)(pthread_mutex_t *);

static const char *const hows[] = { "libc", "pthread", "vsym", "next" };

static mutex_fn	lock_fn, unlock_fn;
static pthread_mutex_t	lock_a = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t	lock_b = PTHREAD_MUTEX_INITIALIZER;
static pthread_barrier_t both_hold;

static void *
look(const char *how, const char *name)
{
	void *(*probe)(const char *);
	void *h = RTLD_NEXT, *fn;

	if (strcmp(how, "preload") == 0) {
		*(void **)&probe = dlsym(RTLD_DEFAULT, "next_probe_lookup");
		if (probe == NULL) {
			fprintf(stderr, "dlsym_locks: next_probe.so is not "
			    "preloaded\n");
			exit(2);
		}
		fn = probe(name);
	} else {
		if (strcmp(how, "pthread") == 0)
			h = dlopen("libpthread.so.0", RTLD_NOW);
		else if (strcmp(how, "next") != 0)
			h = dlopen("libc.so.6", RTLD_NOW);
		if (h == NULL) {
			fprintf(stderr, "dlsym_locks: dlopen: %s\n",
			    dlerror());
			exit(2);
		}
		fn = strcmp(how, "vsym") == 0 ?
		    dlvsym(h, name, "GLIBC_2.2.5") : dlsym(h, name);
	}
	if (fn == NULL) {
		fprintf(stderr, "dlsym_locks: %s %s: %s\n", how, name,
		    dlerror());
		exit(2);
	}
	return fn;
}

static void
resolve(const char *how)
{
	*(void **)&lock_fn = look(how, "pthread_mutex_lock");
	*(void **)&unlock_fn = look(how, "pthread_mutex_unlock");
}

static void *
worker(void *arg)
{
	pthread_mutex_t *first = arg;
	pthread_mutex_t *second = first == &lock_a ? &lock_b : &lock_a;

	sample_thread(first == &lock_a ? "worker-a" : "worker-b");
	lock_fn(first);
	sample_ready_at(&both_hold);
	lock_fn(second);			/* never returns */
	unlock_fn(second);
	unlock_fn(first);
	return NULL;
}

static int
deadlock(const char *how)
{
	pthread_t a, b;

	resolve(how);
	sample_lock(&lock_a, "A");
	sample_lock(&lock_b, "B");
	pthread_barrier_init(&both_hold, NULL, 2);
	if (pthread_create(&a, NULL, worker, &lock_a) != 0 ||
	    pthread_create(&b, NULL, worker, &lock_b) != 0) {
		fprintf(stderr, "dlsym_locks: pthread_create failed\n");
		return 2;
	}
	pthread_join(a, NULL);
	pthread_join(b, NULL);
	printf("dlsym_locks: no deadlock?\n");
	return 1;
}

static int
count(void)
{
	size_t i;
	int n;

	sample_lock(&lock_a, "m");
	for (i = 0; i < sizeof(hows) / sizeof(hows[0]); i++) {
		resolve(hows[i]);
		for (n = 0; n < COUNT; n++) {
			lock_fn(&lock_a);
			unlock_fn(&lock_a);
		}
	}
	return 0;
}

int
main(int argc, char **argv)
{
	sample_pid();
	if (argc == 3 && strcmp(argv[1], "deadlock") == 0)
		return deadlock(argv[2]);
	if (argc == 2 && strcmp(argv[1], "count") == 0)
		return count();
	fprintf(stderr, "usage: dlsym_locks deadlock "
	    "libc|pthread|vsym|next|preload\n"
	    "       dlsym_locks count\n");
	return 2;
}
