/*
 * What the C samples (samples/) and the integration test programs
 * (tests/integration/prog/) share: how they tell a test who they are and
 * when they have reached the state it wants to look at.
 *
 * On stderr, one line each, which tests/integration/gwtest.py
 * sample_info() parses (keep the text exactly so):
 *
 *	gw-sample: pid P		sample_pid()
 *	gw-sample: thread NAME TID	sample_thread(), from that thread
 *	gw-sample: lock NAME 0xADDR	sample_lock()
 *
 * A test that wants to synchronise with a program passes it pipes in the
 * environment instead of sleeping:
 *
 *	GW_READY_FD	sample_ready() writes "ready\n" there once the
 *			program is where the test wants it (next to block)
 *	GW_HOLD_FD	sample_hold() reads it until EOF, so a thread stays
 *			parked until the test closes its end
 *
 * Both do nothing when their variable is unset, so every program also
 * runs on its own.  sample_asleep() tells a program when one of its
 * threads has gone to sleep in a blocking call, so that it can say ready
 * only then.
 */
#ifndef GW_SAMPLE_H
#define GW_SAMPLE_H

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static inline void	sample_pid(void);
static inline void	sample_thread(const char *, ...)
			    __attribute__((__format__(__printf__, 1, 2)));
static inline void	sample_lock(const void *, const char *, ...)
			    __attribute__((__format__(__printf__, 2, 3)));
static inline void	sample_ready(void);
static inline void	sample_ready_at(pthread_barrier_t *);
static inline void	sample_hold(void);
static inline int	sample_asleep(pid_t);

/* "gw-sample: pid P": this process. */
static inline void
sample_pid(void)
{
	fprintf(stderr, "gw-sample: pid %d\n", getpid());
}

/*
 * Name the calling thread (printf-style, cut to the 15 characters a
 * thread name holds) and say "gw-sample: thread NAME TID".
 */
static inline void
sample_thread(const char *fmt, ...)
{
	char name[16];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(name, sizeof(name), fmt, ap);
	va_end(ap);
	pthread_setname_np(pthread_self(), name);
	fprintf(stderr, "gw-sample: thread %s %d\n", name, gettid());
}

/* "gw-sample: lock NAME 0xADDR": the lock at addr, named printf-style. */
static inline void
sample_lock(const void *addr, const char *fmt, ...)
{
	char name[64];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(name, sizeof(name), fmt, ap);
	va_end(ap);
	fprintf(stderr, "gw-sample: lock %s %p\n", name, addr);
}

/* Write "ready\n" to GW_READY_FD, if set. */
static inline void
sample_ready(void)
{
	const char *s = getenv("GW_READY_FD");

	if (s != NULL && write(atoi(s), "ready\n", 6) != 6)
		perror("ready");
}

/*
 * Wait at barrier b with the other threads that meet there; the one
 * thread the barrier picks then says ready (sample_ready()).
 */
static inline void
sample_ready_at(pthread_barrier_t *b)
{
	if (pthread_barrier_wait(b) == PTHREAD_BARRIER_SERIAL_THREAD)
		sample_ready();
}

/* Read GW_HOLD_FD, if set, until EOF (or an error other than EINTR). */
static inline void
sample_hold(void)
{
	const char *s = getenv("GW_HOLD_FD");
	char buf[64];
	ssize_t n;

	if (s == NULL)
		return;
	while ((n = read(atoi(s), buf, sizeof(buf))) != 0)
		if (n == -1 && errno != EINTR)
			break;
}

/* Is thread tid of this process asleep ('S' in /proc)? */
static inline int
sample_asleep(pid_t tid)
{
	char path[64], buf[512], *p;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/self/task/%d/stat", tid);
	if ((f = fopen(path, "r")) == NULL)
		return 0;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	p = strrchr(buf, ')');
	return p != NULL && p[1] == ' ' && p[2] == 'S';
}

#endif /* GW_SAMPLE_H */
