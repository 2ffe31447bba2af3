/*
 * What the shim's epoll hooks cost (hook-select.c): N epoll_wait calls
 * with a zero timeout on an empty epoll set, the cheapest an event loop
 * makes; run bare and under libgilwatch.so, the difference is the hook.
 * Usage: epoll-turn [N]
 */
#include <sys/epoll.h>

#include <stdio.h>
#include <stdlib.h>

#include "bench.h"

int
main(int argc, char **argv)
{
	struct epoll_event ev;
	long i, n = argc > 1 ? atol(argv[1]) : 2000000;
	double t0, t1;
	int fd;

	if (n <= 0 || (fd = epoll_create1(0)) == -1) {
		perror("epoll-turn");
		return 1;
	}
	t0 = now();
	for (i = 0; i < n; i++)
		if (epoll_wait(fd, &ev, 1, 0) != 0) {
			perror("epoll_wait");
			return 1;
		}
	t1 = now();
	printf("%ld epoll_wait calls, %.1f ns/call\n", n, (t1 - t0) / n * 1e9);
	return 0;
}
