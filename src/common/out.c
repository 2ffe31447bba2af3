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

#define OUT_STREAM_CHUNK	(64 * 1024)

void
out_stream(struct out *o, int fd)
{
	o->stream = 1;
	o->fd = fd;
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
	/* Streaming: what is there goes out, and the room is used again. */
	if (o->stream && o->len > 0) {
		if (o->error == 0 && out_write_all(o->fd, o->buf, o->len) == -1)
			o->error = errno != 0 ? errno : EIO;
		o->len = 0;
		o->buf[0] = '\0';
		if (more + 1 <= o->cap)
			return 1;
	}
	cap = o->cap ? o->cap : o->stream ? OUT_STREAM_CHUNK : 4096;
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

	/*
	 * Formatted once straight into the room left, and again only when
	 * it did not fit: measuring first formatted every line twice (a
	 * fifth of a thousand-thread dump's instructions).
	 */
	if (!reserve(o, 256))
		return;
	va_start(ap, fmt);
	n = vsnprintf(o->buf + o->len, o->cap - o->len, fmt, ap);
	va_end(ap);
	if (n < 0) {
		o->buf[o->len] = '\0';
		return;
	}
	if ((size_t)n >= o->cap - o->len) {
		if (!reserve(o, (size_t)n)) {
			o->buf[o->len] = '\0';
			return;
		}
		va_start(ap, fmt);
		vsnprintf(o->buf + o->len, (size_t)n + 1, fmt, ap);
		va_end(ap);
	}
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
out_putu(struct out *o, unsigned long v)
{
	char buf[24], *p = buf + sizeof buf;

	*--p = '\0';
	do
		*--p = (char)('0' + v % 10);
	while ((v /= 10) != 0);
	out_puts(o, p);
}

void
out_putx(struct out *o, unsigned long v)
{
	char buf[24], *p = buf + sizeof buf;

	*--p = '\0';
	do
		*--p = "0123456789abcdef"[v & 0xf];
	while ((v >>= 4) != 0);
	out_puts(o, p);
}

size_t
out_utf8_len(const unsigned char *p)
{
	size_t n, i;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		n = 2;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		n = 3;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		n = 4;
	else
		return 0;
	for (i = 1; i < n; i++)
		if ((p[i] & 0xc0) != 0x80)
			return 0;
	return n;
}

static void
append(struct out *o, const unsigned char *p, size_t n)
{
	if (!reserve(o, n))
		return;
	memcpy(o->buf + o->len, p, n);
	o->len += n;
	o->buf[o->len] = '\0';
}

/* Printable ASCII but for the quote and the backslash: copied as is. */
static int
json_plain(unsigned char c)
{
	return c >= 0x20 && c < 0x7f && c != '"' && c != '\\';
}

void
out_json_str(struct out *o, const char *s)
{
	const unsigned char *p, *run;
	size_t n;

	if (s == NULL) {
		out_puts(o, "null");
		return;
	}
	out_puts(o, "\"");
	for (p = (const unsigned char *)s; *p != '\0'; p += n) {
		/* A run of plain bytes in one copy: most strings are one. */
		for (run = p; json_plain(*p); p++)
			continue;
		if (p > run)
			append(o, run, (size_t)(p - run));
		if (*p == '\0')
			break;
		n = 1;
		if (*p == '"')
			out_puts(o, "\\\"");
		else if (*p == '\\')
			out_puts(o, "\\\\");
		else if (*p == '\n')
			out_puts(o, "\\n");
		else if (*p == '\t')
			out_puts(o, "\\t");
		else if (*p < 0x20 || *p == 0x7f)
			out_printf(o, "\\u%04x", *p);
		else if ((n = out_utf8_len(p)) == 0) {
			out_puts(o, "\\ufffd");
			n = 1;
		} else
			append(o, p, n);
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
	if (o->error != 0) {
		errno = o->error;
		return -1;
	}
	return out_write_all(fd, o->buf, o->len);
}
