/* Shim messages: see msg.h. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

#include "msg.h"
#include "out.h"

static long run_pid;	/* GILWATCH_RUN_PID, 0: every process speaks */
static long speaks_for;	/* the monitor: its program's pid */

static void
say(const char *fmt, va_list ap)
{
	char line[512];
	int n, saved = errno;

	n = snprintf(line, sizeof line, "gilwatch: ");
	n += vsnprintf(line + n, sizeof line - (size_t)n - 1, fmt, ap);
	if (n > (int)sizeof line - 2)
		n = (int)sizeof line - 2;
	line[n++] = '\n';
	out_write_all(STDERR_FILENO, line, (size_t)n);
	errno = saved;
}

void
msg_say(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	say(fmt, ap);
	va_end(ap);
}

void
msg_set_run_pid(long pid)
{
	run_pid = pid;
}

void
msg_speak_for(long pid)
{
	speaks_for = pid;
}

void
msg_note(const char *fmt, ...)
{
	va_list ap;

	if (run_pid != 0 && run_pid != (speaks_for != 0 ? speaks_for :
	    (long)getpid()))
		return;
	va_start(ap, fmt);
	say(fmt, ap);
	va_end(ap);
}
