/*
 * exec_chain: the first image execs itself with argument "child"; the
 * child image relocks a non-recursive mutex.  Under gilwatch the
 * deadlock must be caught in the exec'd image too: the preload and the
 * settings travel through exec.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int
main(int argc, char **argv)
{
	static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;

	if (argc < 2 || strcmp(argv[1], "child") != 0) {
		execl("/proc/self/exe", argv[0], "child", (char *)NULL);
		perror("execl");
		return 2;
	}
	pthread_mutex_lock(&m);
	pthread_mutex_lock(&m);
	return 0;
}
