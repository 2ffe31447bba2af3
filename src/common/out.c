/* Report buffer: see out.h. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "out.h"

void
out_init(struct out *o)
{
	memset(o, 0, sizeof *o);
}

void
out_free(struct out *o)
{
	free(o->buf);
	out_init(o);
}

static int
reserve(struct out *o, size_t more)
{
	size_t cap;
	char *p;

	if (o->failed)
		return 0;
	if (o->len + more + 1 <= o->cap)
		return 1;
	cap = o->cap ? o->cap : 4096;
	while (cap < o->len + more + 1)
		cap *= 2;
	p = realloc(o->buf, cap);
	if (p == NULL) {
		o->failed = 1;
		return 0;
	}
	o->buf = p;
	o->cap = cap;
	return 1;
}

void
out_printf(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || !reserve(o, (size_t)n))
		return;
	va_start(ap, fmt);
	vsnprintf(o->buf + o->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	o->len += (size_t)n;
}

void
out_puts(struct out *o, const char *s)
{
	size_t n = strlen(s);

	if (!reserve(o, n))
		return;
	memcpy(o->buf + o->len, s, n + 1);
	o->len += n;
}

void
out_json_str(struct out *o, const char *s)
{
	const unsigned char *p;

	if (s == NULL) {
		out_puts(o, "null");
		return;
	}
	out_puts(o, "\"");
	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		switch (*p) {
		case '"':
			out_puts(o, "\\\"");
			break;
		case '\\':
			out_puts(o, "\\\\");
			break;
		case '\n':
			out_puts(o, "\\n");
			break;
		case '\t':
			out_puts(o, "\\t");
			break;
		default:
			if (*p < 0x20 || *p == 0x7f)
				out_printf(o, "\\u%04x", *p);
			else if (reserve(o, 1)) {
				o->buf[o->len++] = (char)*p;
				o->buf[o->len] = '\0';
			}
		}
	}
	out_puts(o, "\"");
}

int
out_write_all(int fd, const char *buf, size_t len)
{
	ssize_t n;

	while (len > 0) {
		n = write(fd, buf, len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

int
out_write(struct out *o, int fd)
{
	if (o->failed) {
		errno = ENOMEM;
		return -1;
	}
	return out_write_all(fd, o->buf, o->len);
}
