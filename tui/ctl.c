/*
 * Requests to the watched process over its control socket (ipc.h):
 * a text dump written to a file, a statistics reset, one thread's stack
 * taken from a fresh dump, and "watch" (name addresses from now on).  Every wait is bounded.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "ipc.h"
#include "tui.h"

#define CTL_ERROR	"error: "

static int
fail(char *err, size_t len, const char *what, pid_t pid, int e)
{
	snprintf(err, len, "%s process %d: %s", what, (int)pid, strerror(e));
	return -1;
}

/* Send req, collect the answer for at most timeout_ms. */
static int
exchange(pid_t pid, const char *req, struct out *o, char *err,
    size_t errlen, int timeout_ms)
{
	struct pollfd p;
	uint64_t end = tui_ms_now() + (uint64_t)timeout_ms, now;
	char buf[16384];
	ssize_t n;
	int fd;

	if ((fd = ipc_connect(pid)) == -1)
		return fail(err, errlen, "cannot reach", pid, errno);
	if (send(fd, req, strlen(req), MSG_NOSIGNAL) == -1 &&
	    errno != EPIPE && errno != ECONNRESET) {
		close(fd);
		return fail(err, errlen, "cannot write to", pid, errno);
	}
	p.fd = fd;
	p.events = POLLIN;
	for (;;) {
		if ((now = tui_ms_now()) >= end) {
			close(fd);
			snprintf(err, errlen, "process %d did not answer within "
			    "%.1f s", (int)pid, timeout_ms / 1000.0);
			return -1;
		}
		if (poll(&p, 1, (int)(end - now)) <= 0)
			continue;
		n = read(fd, buf, sizeof buf);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		out_printf(o, "%.*s", (int)n, buf);
	}
	close(fd);
	if (o->failed)
		return fail(err, errlen, "reading from", pid, ENOMEM);
	if (o->len >= sizeof CTL_ERROR - 1 &&
	    strncmp(o->buf, CTL_ERROR, sizeof CTL_ERROR - 1) == 0) {
		snprintf(err, errlen, "process %d: %.*s", (int)pid,
		    (int)strcspn(o->buf, "\n"), o->buf);
		return -1;
	}
	if (o->len == 0) {
		snprintf(err, errlen, "process %d closed the connection "
		    "without answering", (int)pid);
		return -1;
	}
	return 0;
}

int
ctl_request(pid_t pid, const char *req, struct out *o, char *err,
    size_t errlen)
{
	return exchange(pid, req, o, err, errlen, TUI_CTL_TIMEOUT_MS);
}

int
ctl_dump(pid_t pid, char *path, size_t pathlen, char *err, size_t errlen)
{
	struct out o;
	struct tm tm;
	time_t t = time(NULL);
	char stamp[32];
	int fd = -1, i, rc = -1;

	out_init(&o);
	if (ctl_request(pid, "dump text\n", &o, err, errlen) == -1)
		goto done;
	localtime_r(&t, &tm);
	strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &tm);
	/* Two dumps in one second: the second gets "-2", and so on. */
	for (i = 1; i < 100 && fd == -1; i++) {
		if (i == 1)
			snprintf(path, pathlen, "./gilwatch-dump-%d-%s.txt",
			    (int)pid, stamp);
		else
			snprintf(path, pathlen, "./gilwatch-dump-%d-%s-%d.txt",
			    (int)pid, stamp, i);
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
		    0644);
		if (fd == -1 && errno != EEXIST) {
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			goto done;
		}
	}
	if (fd == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(EEXIST));
		goto done;
	}
	if (out_write(&o, fd) == -1)
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
	else
		rc = 0;
	close(fd);
done:
	out_free(&o);
	return rc;
}

/* A request whose answer is "ok": 0, or -1 with err. */
static int
ctl_ok(pid_t pid, const char *word, char *err, size_t errlen,
    int timeout_ms)
{
	struct out o;
	char req[32];
	int rc;

	out_init(&o);
	snprintf(req, sizeof req, "%s\n", word);
	rc = exchange(pid, req, &o, err, errlen, timeout_ms);
	if (rc == 0 && strncmp(o.buf, "ok", 2) != 0) {
		snprintf(err, errlen, "process %d does not know \"%s\" "
		    "(an older gilwatch?)", (int)pid, word);
		rc = -1;
	}
	out_free(&o);
	return rc;
}

int
ctl_reset(pid_t pid, char *err, size_t errlen)
{
	return ctl_ok(pid, "reset", err, errlen, TUI_CTL_TIMEOUT_MS);
}

int
ctl_watch(pid_t pid, char *err, size_t errlen)
{
	return ctl_ok(pid, "watch", err, errlen, TUI_WATCH_TIMEOUT_MS);
}

/*
 * A text dump has one paragraph per thread, opened by a line
 * '"name" tid=N ...' and closed by an empty line.
 */
int
ctl_stack_of(const struct out *dump, pid_t tid, struct out *lines,
    char *err, size_t errlen)
{
	char key[32];
	const char *p, *end, *nl;

	snprintf(key, sizeof key, " tid=%d ", (int)tid);
	for (p = dump->buf, end = dump->buf + dump->len; p < end; p = nl + 1) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		if (*p == '"' && memmem(p, (size_t)(nl - p), key,
		    strlen(key)) != NULL)
			break;
	}
	if (p >= end) {
		snprintf(err, errlen, "thread %d is not in the dump (it has "
		    "ended?)", (int)tid);
		return -1;
	}
	for (; p < end && *p != '\n'; p = nl + 1) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		out_printf(lines, "%.*s\n", (int)(nl - p), p);
	}
	return 0;
}

int
ctl_tasks_of(const struct out *dump, pid_t tid, struct out *lines,
    char *err, size_t errlen)
{
	static const char head[] = "   asyncio event loop";
	struct out para;
	const char *p, *end, *nl;
	int rc;

	out_init(&para);
	if ((rc = ctl_stack_of(dump, tid, &para, err, errlen)) == 0) {
		/* The paragraph that follows the thread's, in the dump. */
		p = memmem(dump->buf, dump->len, para.buf, para.len);
		end = dump->buf + dump->len;
		p = p != NULL ? p + para.len + 1 : end;
		if (p >= end || end - p < (ptrdiff_t)sizeof head - 1 ||
		    memcmp(p, head, sizeof head - 1) != 0)
			p = end;
		for (; p < end && *p != '\n'; p = nl + 1) {
			if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
				nl = end;
			out_printf(lines, "%.*s\n", (int)(nl - p), p);
		}
	}
	out_free(&para);
	return rc;
}

int
ctl_tasks(pid_t pid, pid_t tid, struct out *lines, char *err, size_t errlen)
{
	struct out o;
	int rc = -1;

	out_init(&o);
	if (ctl_request(pid, "dump text\n", &o, err, errlen) == 0)
		rc = ctl_tasks_of(&o, tid, lines, err, errlen);
	out_free(&o);
	return rc;
}

int
ctl_stack(pid_t pid, pid_t tid, struct out *lines, char *err,
    size_t errlen)
{
	struct out o;
	int rc = -1;

	out_init(&o);
	if (ctl_request(pid, "dump text\n", &o, err, errlen) == 0)
		rc = ctl_stack_of(&o, tid, lines, err, errlen);
	out_free(&o);
	return rc;
}
