/*
 * jack_absent: a program that probes for libjack the way optional JACK
 * support does, by name through dlsym(RTLD_DEFAULT), without libjack
 * loaded.  Prints "found" or "absent: DLERROR" and exits 0.  The shim
 * defines jack_set_process_callback itself (hook-jack.c); the program
 * must not see that.
 */
#include <dlfcn.h>
#include <stdio.h>

int
main(void)
{
	const char *err;
	void *fn;

	dlerror();
	fn = dlsym(RTLD_DEFAULT, "jack_set_process_callback");
	if (fn != NULL) {
		printf("found\n");
		return 0;
	}
	err = dlerror();
	printf("absent: %s\n", err != NULL ? "dlerror set" : "no dlerror");
	return 0;
}
