/* JACK's process callback, wrapped into real-time cycles: see jack.h. */
#include <dlfcn.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>

#include "hook.h"
#include "jack.h"
#include "msg.h"
#include "rtcycle.h"

/* libjack's types, as <jack/jack.h> has them (not needed to build). */
typedef int	(*process_fn)(uint32_t nframes, void *arg);
typedef int	(*set_process_fn)(void *client, process_fn, void *arg);
typedef uint32_t	(*sample_rate_fn)(void *client);

/* One per registration; never freed: libjack may call it until exit. */
struct wrapped {
	process_fn	 cb;
	void		*arg;
	uint32_t	 rate;		/* Hz, 0: unknown */
};

/* From a handle lookup (jack_hook_for); else found with RTLD_NEXT. */
static _Atomic(set_process_fn) handle_set;
static _Atomic(sample_rate_fn) handle_rate;

GW_EXPORT int	jack_set_process_callback(void *, process_fn, void *);

void *
jack_hook_for(void *fn, void *rate)
{
	if (fn == NULL)
		return NULL;
	atomic_store(&handle_set, (set_process_fn)fn);
	if (rate != NULL)
		atomic_store(&handle_rate, (sample_rate_fn)rate);
	return (void *)jack_set_process_callback;
}

/* Each period: the program's callback, as one real-time cycle. */
static int
process(uint32_t nframes, void *arg)
{
	struct wrapped *w = arg;
	struct thread *t = thread_self();
	struct rt_cycle c;
	int rc, saved;

	if (t == NULL || t->rt_cycle != NULL)
		return w->cb(nframes, w->arg);
	rt_cycle_source("JACK process callback", nframes, w->rate);
	rt_cycle_begin(t, &c, w->rate != 0 ?
	    (uint64_t)nframes * 1000000000u / w->rate : 0);
	rc = w->cb(nframes, w->arg);
	saved = errno;
	rt_cycle_end(t, &c);
	errno = saved;
	return rc;
}

GW_EXPORT int
jack_set_process_callback(void *client, process_fn cb, void *arg)
{
	set_process_fn set = atomic_load(&handle_set);
	sample_rate_fn rate = atomic_load(&handle_rate);
	struct wrapped *w;
	int rc, saved = errno;

	if (set == NULL) {
		set = (set_process_fn)dlsym(RTLD_NEXT, JACK_SET_PROCESS);
		rate = (sample_rate_fn)dlsym(RTLD_NEXT, JACK_SAMPLE_RATE);
		errno = saved;
	}
	if (set == NULL) {
		/* Only a lookup that found libjack hands this function out. */
		msg_say("%s: libjack not found", JACK_SET_PROCESS);
		return -1;
	}
	if (cb == NULL || (w = calloc(1, sizeof *w)) == NULL) {
		errno = saved;
		return set(client, cb, arg);
	}
	w->cb = cb;
	w->arg = arg;
	w->rate = rate != NULL ? rate(client) : 0;
	errno = saved;
	rc = set(client, process, w);
	if (rc != 0) {
		saved = errno;
		free(w);
		errno = saved;
	}
	return rc;
}
