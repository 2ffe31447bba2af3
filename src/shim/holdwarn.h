/*
 * Long holds: a lock held longer than --hold-warn=MS is reported when it
 * is released, with the holder's stack at that moment (like DRD's
 * "Lock on mutex ... was held during N ms").
 */
#ifndef GW_HOLDWARN_H
#define GW_HOLDWARN_H

#include <stdint.h>

#include "thread.h"

/* Set the threshold (hold_warn_ticks, track.h) once at start-up. */
void	holdwarn_init(double ms);

/* t is releasing h after ticks: write the warning. */
void	holdwarn_report(struct thread *t, struct held *h, uint64_t ticks);

#endif /* GW_HOLDWARN_H */
