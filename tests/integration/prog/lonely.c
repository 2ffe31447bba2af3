/*
 * lonely: a program that never starts a thread.  It takes the mutex
 * `lonely_lock`, says ready and parks on GW_HOLD_FD holding it, then
 * lets it go and exits 0.  gilwatch must leave it single-threaded (no
 * helper thread of its own) and still dump it on the dump signal.
 */
#include <pthread.h>

#include "sample.h"

static pthread_mutex_t lonely_lock = PTHREAD_MUTEX_INITIALIZER;

int
main(void)
{
	sample_pid();
	sample_thread("lonely");
	sample_lock(&lonely_lock, "lonely_lock");
	pthread_mutex_lock(&lonely_lock);
	sample_ready();
	sample_hold();
	pthread_mutex_unlock(&lonely_lock);
	return 0;
}
