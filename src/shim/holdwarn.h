/*
 * Long holds: a lock held longer than --hold-warn=MS is reported when it
 * is released, with the holder's stack at that moment (like DRD's
 * "Lock on mutex ... was held during N ms").
 */
#ifndef GW_HOLDWARN_H
#define GW_HOLDWARN_H

#include <stdint.h>

#include "thread.h"

/* The threshold in clock ticks; 0: off.  Set once at start-up. */
extern uint64_t hold_warn_ticks;

void	holdwarn_init(double ms);

/* t is releasing h after ticks: write the warning. */
void	holdwarn_report(struct thread *t, struct held *h, uint64_t ticks);

#endif /* GW_HOLDWARN_H */
