/* The in-shim guard: see guard.h. */
#include "guard.h"

__thread int guard_depth;
__thread struct thread *thread_mine;
__thread struct thread *thread_ready;
