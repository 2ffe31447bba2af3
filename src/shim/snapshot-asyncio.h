/*
 * asyncio in a snapshot taken inside: see snapshot-asyncio.c.
 */
#ifndef GW_SNAPSHOT_ASYNCIO_H
#define GW_SNAPSHOT_ASYNCIO_H

#include <stddef.h>
#include <stdint.h>

#include "gilwatch/snapshot.h"

struct arena;

/*
 * Fill ti[i].loop for each of the n threads whose thread state is
 * tstate[i] (0: none), on CPython 3.14+ (before, snapshot.c takes a
 * loop from the frames), then add the deadlocks through tasks, and the
 * tasks held up by pub's deadlocks, to pub.  Allocates; not for a
 * signal handler (as snapshots are not).
 */
void	snapshot_asyncio(struct arena *, struct gw_thread_info *ti,
	    const uintptr_t *tstate, size_t n, struct gw_snapshot *pub);

#endif /* GW_SNAPSHOT_ASYNCIO_H */
