/*
 * A growing text buffer for reports: printf-style appends, JSON string
 * quoting, then one write.  Allocation failure is sticky (out->failed)
 * and later appends do nothing, so callers check once at the end.
 */
#ifndef GW_OUT_H
#define GW_OUT_H

#include <stddef.h>
#include <stdint.h>

struct out {
	char	*buf;
	size_t	 len;
	size_t	 cap;
	int	 failed;
	int	 stream;	/* out_stream: written out as it fills */
	int	 fd;
	int	 error;		/* a write's errno when streaming, or 0 */
};

void	out_init(struct out *);
/*
 * Write to fd whenever the buffer holds OUT_STREAM_CHUNK bytes rather
 * than all at the end: a report of a thousand threads is megabytes, and
 * each fresh page a buffer grows by costs a fault.  out_write writes the
 * rest and says whether any write failed.  What the buffer holds is
 * then only the tail of the report.
 */
void	out_stream(struct out *, int fd);
void	out_free(struct out *);
void	out_printf(struct out *, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
void	out_puts(struct out *, const char *s);
/* v in decimal: what out_printf's "%lu" gives, without its cost (a
 * report's hottest lines are a frame's, a thousand stacks deep; traces
 * and metrics files are mostly numbers). */
void	out_putu(struct out *, unsigned long v);
/* v in hexadecimal, as "%lx" (a native frame's offset). */
void	out_putx(struct out *, unsigned long v);
/* s as a JSON string with quotes; NULL gives null. */
void	out_json_str(struct out *, const char *s);
/*
 * Length of the valid UTF-8 sequence at p, or 0 when it is not one:
 * names and paths come from the program and need not be text.
 */
size_t	out_utf8_len(const unsigned char *p);
/* Write all of buf to fd, retrying on EINTR and short writes. */
int	out_write_all(int fd, const char *buf, size_t len);
/* Write everything to fd; 0, or -1 with errno (failed gives ENOMEM). */
int	out_write(struct out *, int fd);

#endif /* GW_OUT_H */
