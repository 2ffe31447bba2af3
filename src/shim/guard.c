/* The in-shim guard: see guard.h. */
#include "guard.h"

__thread int guard_depth;
