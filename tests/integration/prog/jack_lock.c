/*
 * jack_lock SERVER SECONDS: a JACK client in C whose process callback
 * takes mutex m, which thread "holder" keeps for 8 ms at a time (longer
 * than the 5.33 ms period of scripts/jackd-dummy's server).
 *
 * libjack is dlopen()ed RTLD_GLOBAL (no build dependency on it) and
 * jack_set_process_callback is found with dlsym(RTLD_DEFAULT): the way a
 * program linked with -ljack reaches it, so under the shim the shim's
 * definition is called and finds libjack's with dlsym(RTLD_NEXT).
 *
 * On stderr: "gw-sample: ..." lines (the callback's thread as
 * "jack-process" at its first period, the lock as "m").  On stdout:
 * "cycles N".  Exits 0; 3 without libjack or a server, 2 when a call
 * fails.
 */
#include <dlfcn.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "sample.h"

/* From <jack/jack.h>, which the build does not need. */
#define JACK_NO_START_SERVER	0x01
#define JACK_SERVER_NAME	0x04

typedef void	*(*client_open_fn)(const char *, int, int *, ...);
typedef int	(*process_fn)(uint32_t, void *);
typedef int	(*set_process_fn)(void *, process_fn, void *);
typedef int	(*client_fn)(void *);

static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static atomic_int stop;
static atomic_long cycles;

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int
process(uint32_t nframes, void *arg)
{
	if (atomic_fetch_add(&cycles, 1) == 0)
		sample_thread("jack-process");
	pthread_mutex_lock(&m);
	pthread_mutex_unlock(&m);
	return 0;
}

static void *
holder(void *arg)
{
	struct timespec pause = { 0, 2000000 };
	uint64_t t0;

	sample_thread("holder");
	while (!atomic_load(&stop)) {
		pthread_mutex_lock(&m);
		for (t0 = now_ns(); now_ns() - t0 < 8000000;)
			;
		pthread_mutex_unlock(&m);
		nanosleep(&pause, NULL);
	}
	return NULL;
}

static void *
need(void *lib, const char *name)
{
	void *fn = dlsym(lib, name);

	if (fn == NULL) {
		fprintf(stderr, "jack_lock: no %s\n", name);
		exit(3);
	}
	return fn;
}

int
main(int argc, char **argv)
{
	struct timespec run;
	set_process_fn set;
	client_open_fn open_;
	void *lib, *client;
	pthread_t t;
	int status = 0;

	if (argc != 3) {
		fprintf(stderr, "usage: jack_lock SERVER SECONDS\n");
		return 2;
	}
	sample_pid();
	sample_lock(&m, "m");
	if ((lib = dlopen("libjack.so.0", RTLD_NOW | RTLD_GLOBAL)) == NULL) {
		fprintf(stderr, "jack_lock: %s\n", dlerror());
		return 3;
	}
	open_ = (client_open_fn)need(lib, "jack_client_open");
	set = (set_process_fn)need(RTLD_DEFAULT, "jack_set_process_callback");
	client = open_("jack_lock", JACK_NO_START_SERVER | JACK_SERVER_NAME,
	    &status, argv[1]);
	if (client == NULL) {
		fprintf(stderr, "jack_lock: no server %s (status 0x%x)\n",
		    argv[1], status);
		return 3;
	}
	if (set(client, process, NULL) != 0 ||
	    ((client_fn)need(lib, "jack_activate"))(client) != 0) {
		fprintf(stderr, "jack_lock: cannot activate\n");
		return 2;
	}
	if (pthread_create(&t, NULL, holder, NULL) != 0)
		return 2;
	sample_ready();
	run.tv_sec = atoi(argv[2]);
	run.tv_nsec = 0;
	nanosleep(&run, NULL);		/* the run's length, not a sync */
	atomic_store(&stop, 1);
	pthread_join(t, NULL);
	((client_fn)need(lib, "jack_deactivate"))(client);
	((client_fn)need(lib, "jack_client_close"))(client);
	printf("cycles %ld\n", atomic_load(&cycles));
	return 0;
}
