/* Shim messages: see msg.h. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

#include "msg.h"
#include "out.h"

void
msg_say(const char *fmt, ...)
{
	char line[512];
	va_list ap;
	int n, saved = errno;

	n = snprintf(line, sizeof line, "gilwatch: ");
	va_start(ap, fmt);
	n += vsnprintf(line + n, sizeof line - (size_t)n - 1, fmt, ap);
	va_end(ap);
	if (n > (int)sizeof line - 2)
		n = (int)sizeof line - 2;
	line[n++] = '\n';
	out_write_all(STDERR_FILENO, line, (size_t)n);
	errno = saved;
}
