/*
 * dlsym and dlvsym: a lock function looked up by name must reach the
 * shim's hook, whatever the handle.  The dynamic linker binds the
 * program's own calls to the hooks, since the shim comes first in the
 * global scope; but dlopen("libc.so.6") then dlsym on that handle (what
 * ctypes.CDLL("libc.so.6") does) searches libc alone and hands out
 * libc's pthread_mutex_lock, which would escape the shim.
 *
 * So: a lookup on a handle is done here and a function the shim hooks
 * is replaced by its hook (hook_for says when).  RTLD_DEFAULT lookups,
 * and RTLD_NEXT lookups from an object before the shim, already find the
 * hooks: they go to libc untouched, by the jump in hook-dlsym-entry.S,
 * so that glibc sees the program's caller.  RTLD_NEXT from an object
 * after the shim (a later preload, a library) would find libc's
 * function past the hook: it gets the hook instead.  Never replaced: a
 * lookup by an object that defines the name itself, as a wrapper does
 * that passes the call on (the shim's hook runs before such a wrapper
 * and must not run twice), and so the shim's own lookups (real.c): a
 * hook never gets itself as its real function.
 *
 * The real dlsym and dlvsym are found without dlsym, in the dynamic
 * symbol tables of the objects after the shim (elfsym.c), as
 * dlsym(RTLD_NEXT) would: libc.so.6 from glibc 2.34, libdl.so.2 before.
 */
#include <dlfcn.h>
#include <errno.h>
#include <link.h>
#include <stdatomic.h>
#include <stdint.h>

#include "elfsym.h"
#include "hook.h"
#include "jack.h"

typedef void	*(*dlsym_fn)(void *, const char *);
typedef void	*(*dlvsym_fn)(void *, const char *, const char *);

static _Atomic(dlsym_fn) real_dlsym;
static _Atomic(dlvsym_fn) real_dlvsym;

void	*dlsym_route(void *, const char *, const char *, uintptr_t, void **,
	    int);

/* A walk of the loaded objects, in search order. */
struct walk {
	uintptr_t	 self;		/* an address in the shim */
	int		 after;		/* the shim is behind */
	const char	*name;
	void		*found;		/* find_after_shim: its definition */
	uintptr_t	 caller;	/* place: the code that called */
	void		*fn;		/* place: what the lookup found */
	int		 caller_after;	/* the caller's object is after */
	int		 caller_wraps;	/* it defines name: a wrapper */
	int		 fn_is_next;	/* fn is name's default definition in
					 * an object after the shim */
};

static int
find_after_shim(struct dl_phdr_info *info, size_t size, void *arg)
{
	struct walk *w = arg;

	if (!w->after) {
		w->after = elfsym_contains(info, w->self);
		return 0;
	}
	w->found = elfsym_function(info, w->name);
	return w->found != NULL;
}

/* The first definition of name after the shim: dlsym(RTLD_NEXT, name)
 * done from the shim. */
static void *
next_after_shim(const char *name)
{
	struct walk w = { .self = (uintptr_t)dlsym_route, .name = name };

	dl_iterate_phdr(find_after_shim, &w);
	return w.found;
}

static void
resolve(void)
{
	if (atomic_load_explicit(&real_dlvsym, memory_order_acquire) != NULL)
		return;
	/* Idempotent: two threads racing here store the same values. */
	atomic_store(&real_dlsym, (dlsym_fn)next_after_shim("dlsym"));
	atomic_store(&real_dlvsym, (dlvsym_fn)next_after_shim("dlvsym"));
}

static int
place(struct dl_phdr_info *info, size_t size, void *arg)
{
	struct walk *w = arg;
	int shim = elfsym_contains(info, w->self);

	if (elfsym_contains(info, w->caller)) {
		w->caller_after = w->after;
		w->caller_wraps = shim ||
		    elfsym_function(info, w->name) != NULL;
	}
	if (w->after && w->fn != NULL &&
	    elfsym_contains(info, (uintptr_t)w->fn))
		w->fn_is_next = elfsym_function(info, w->name) == w->fn;
	w->after |= shim;
	return 0;
}

/*
 * The hook to hand caller in place of fn, found by looking name up, or
 * NULL.  fn stands for a hooked function when it is the one the hook
 * calls, or the definition of a hooked name in an object after the shim
 * (libc's, when another preload after the shim wraps it).  A caller
 * whose object defines name itself wraps it and gets what it asked for:
 * the shim's hook runs before it already.  With next, only a caller
 * after the shim gets the hook: one before finds it itself.
 */
static void *
hook_for(void *fn, const char *name, uintptr_t caller, int next)
{
	struct walk w = { .self = (uintptr_t)dlsym_route, .name = name,
	    .caller = caller, .fn = fn };
	void *hook = real_hook_of(fn), *named = real_hook_named(name);

	if (fn == NULL || (hook == NULL && named == NULL))
		return NULL;
	dl_iterate_phdr(place, &w);
	if (w.caller_wraps || (next && !w.caller_after))
		return NULL;
	if (hook == NULL && w.fn_is_next)
		hook = named;
	return hook;
}

static void *
lookup(void *handle, const char *name, const char *version, int versioned)
{
	if (versioned)
		return atomic_load(&real_dlvsym)(handle, name, version);
	return atomic_load(&real_dlsym)(handle, name);
}

void *
dlsym_route(void *handle, const char *name, const char *version,
    uintptr_t caller, void **answer, int versioned)
{
	void *fn, *hook;
	int saved;

	resolve();
	fn = versioned ? (void *)atomic_load(&real_dlvsym) :
	    (void *)atomic_load(&real_dlsym);
	if (fn == NULL) {
		/* No libc dlsym after the shim: cannot happen with glibc. */
		*answer = NULL;
		return NULL;
	}
	if (handle == RTLD_DEFAULT && jack_named(name)) {
		/*
		 * The shim defines it so that linked JACK clients come to
		 * hook-jack.c; a program probing for libjack must still find
		 * nothing when libjack is not loaded (dlerror says so).
		 */
		saved = errno;
		fn = lookup(RTLD_NEXT, name, version, versioned) != NULL ?
		    fn : NULL;
		errno = saved;
		if (fn == NULL)
			*answer = NULL;
		return fn;
	}
	if (handle == RTLD_DEFAULT || !real_ready() ||
	    (handle == RTLD_NEXT && real_hook_named(name) == NULL))
		return fn;
	/* For RTLD_NEXT, what the caller would find, as from the shim. */
	*answer = lookup(handle, name, version, versioned);
	saved = errno;
	hook = hook_for(*answer, name, caller, handle == RTLD_NEXT);
	if (hook == NULL && handle != RTLD_NEXT && jack_named(name))
		hook = jack_hook_for(*answer, lookup(handle, JACK_SAMPLE_RATE,
		    NULL, 0));
	errno = saved;
	if (hook != NULL)
		*answer = hook;
	else if (handle == RTLD_NEXT)
		return fn;
	return NULL;
}
