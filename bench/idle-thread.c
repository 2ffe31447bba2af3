/*
 * Preload that starts one idle thread, as the shim's helper does: it
 * turns off glibc's single-thread shortcuts, which is what the shim's
 * overhead should be weighed against.
 */
#include <pthread.h>
#include <unistd.h>

static void *
idle(void *arg)
{
	for (;;)
		pause();
	return NULL;
}

__attribute__((constructor)) static void
start_idle(void)
{
	pthread_t t;

	if (pthread_create(&t, NULL, idle, NULL) == 0)
		pthread_detach(t);
}
