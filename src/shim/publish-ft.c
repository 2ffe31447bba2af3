/*
 * What stands in for the GIL on a free-threaded CPython, in a published
 * frame: each thread's critical sections, the holder of the object lock
 * a thread parks on to enter one, and the stop-the-world pause under
 * way.  Read as dumps read them (py-cs.c, py-stw.c), while a viewer
 * watches.  See publish-int.h.
 */
#include <stdio.h>
#include <string.h>

#include "gil.h"
#include "publish-int.h"
#include "py.h"

void
publish_cs(struct thread *t, struct gw_shm_thread *r)
{
	const struct py_runtime *rt = gil_runtime();
	struct py_cs cs[GW_SHM_CS];
	int i, n, more = 0;

	if ((n = gil_thread_critical_sections(t, cs, GW_SHM_CS, &more)) <= 0)
		return;
	for (i = 0; i < n; i++) {
		r->critical[i].state = (uint8_t)cs[i].state;
		r->critical[i].object = cs[i].object;
		r->critical[i].object2 = cs[i].object2;
		/* Read at all: the header's mutex offset is known. */
		if (cs[i].object != 0)
			r->critical[i].mutex = cs[i].object +
			    (uintptr_t)rt->off->ob_mutex;
		if (cs[i].object2 != 0)
			r->critical[i].mutex2 = cs[i].object2 +
			    (uintptr_t)rt->off->ob_mutex;
		snprintf(r->critical[i].type, sizeof r->critical[i].type,
		    "%.*s", (int)sizeof r->critical[i].type - 1, cs[i].type);
		snprintf(r->critical[i].type2, sizeof r->critical[i].type2,
		    "%.*s", (int)sizeof r->critical[i].type2 - 1, cs[i].type2);
	}
	r->ncritical = (uint8_t)n;
	r->critical_more = (uint8_t)more;
}

/*
 * The thread whose held critical section locks the PyMutex at m, or 0.
 * A section is held with its objects' mutexes; a mutex taken otherwise
 * names nobody.
 */
static pid_t
cs_holder(const struct gw_shm_thread *th, uint32_t n, uint64_t m)
{
	const struct gw_shm_cs *c;
	uint32_t i;
	int k;

	for (i = 0; i < n; i++)
		for (k = 0; k < th[i].ncritical; k++) {
			c = &th[i].critical[k];
			if (c->state == GW_CS_HELD && (c->mutex == m ||
			    c->mutex2 == m))
				return th[i].tid;
		}
	return 0;
}

/* py_stw_thread_fn over the published threads. */
static const char *
published(const void *list, size_t i, pid_t *tid, int *state)
{
	const struct gw_shm_thread *th = list;

	*tid = th[i].tid;
	*state = th[i].py_state;
	return th[i].name;
}

void
publish_ft(struct gw_shm_frame *f, struct gw_shm_thread *th, uint32_t n)
{
	const struct py_runtime *rt = gil_runtime();
	struct py_stw st;
	uint32_t i;

	if (rt == NULL || !rt->free_threaded)
		return;
	/* Parked on a PyMutex nobody is seen to hold: a section's? */
	for (i = 0; i < n; i++)
		if (th[i].state == GW_STATE_BLOCKED && th[i].wait_kind ==
		    GW_LOCK_PYMUTEX && th[i].wait_addr != 0 &&
		    th[i].nowners == 0 && (th[i].owners[0] = cs_holder(th, n,
		    th[i].wait_addr)) != 0)
			th[i].nowners = 1;
	if (gil_stop_the_world(&st) != 1)
		return;
	py_stw_note(&st, published, th, n, f->pause, sizeof f->pause);
}
