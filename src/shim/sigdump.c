/* The dump signal's own dump, without the helper: see sigdump.h. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "config.h"
#include "gil.h"
#include "mem.h"
#include "names.h"
#include "py.h"
#include "sigdump.h"
#include "stack.h"
#include "thread.h"

#define SIGDUMP_PY_FRAMES	32	/* deeper ones are counted, not shown */
#define SIGDUMP_HELD_MAX	64	/* likewise for the locks held */

static char out_path[600];		/* "" for stderr */
static struct py_frame frames[SIGDUMP_PY_FRAMES];
static atomic_int busy;			/* frames[] is in use */

/* A buffer flushed to fd when full: formatting without stdio. */
struct sbuf {
	int	fd;
	size_t	len;
	char	buf[2048];
};

static void
sb_flush(struct sbuf *b)
{
	size_t off = 0;
	ssize_t n;

	while (off < b->len) {
		n = write(b->fd, b->buf + off, b->len - off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		off += (size_t)n;
	}
	b->len = 0;
}

static void
sb_str(struct sbuf *b, const char *s)
{
	for (; *s != '\0'; s++) {
		if (b->len == sizeof b->buf)
			sb_flush(b);
		b->buf[b->len++] = *s;
	}
}

static void
sb_num(struct sbuf *b, unsigned long long v, unsigned base)
{
	char tmp[24];
	int i = sizeof tmp - 1;

	tmp[i] = '\0';
	do
		tmp[--i] = "0123456789abcdef"[v % base];
	while ((v /= base) != 0 && i > 0);
	if (base == 16)
		sb_str(b, "0x");
	sb_str(b, tmp + i);
}

void
sigdump_prepare(void)
{
	out_path[0] = '\0';
	if (config.output[0] != '\0')
		config_expand(config.output, out_path, sizeof out_path);
}

static int
open_output(void)
{
	int fd;

	if (out_path[0] == '\0' ||
	    (fd = open(out_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
	    0644)) == -1)
		return STDERR_FILENO;
	return fd;
}

/* The command line, its NULs as spaces. */
static void
put_command(struct sbuf *b)
{
	char cmd[256];
	ssize_t n, i;
	int fd;

	/* The calling thread's: /proc/self's is empty once the main
	 * thread has ended (pthread_exit in main). */
	if ((fd = open("/proc/thread-self/cmdline", O_RDONLY | O_CLOEXEC)) ==
	    -1)
		return;
	n = read(fd, cmd, sizeof cmd - 1);
	close(fd);
	if (n <= 0)
		return;
	while (n > 0 && cmd[n - 1] == '\0')
		n--;
	for (i = 0; i < n; i++)
		if (cmd[i] == '\0')
			cmd[i] = ' ';
	cmd[n] = '\0';
	sb_str(b, " (");
	sb_str(b, cmd);
	sb_str(b, ")");
}

static void
put_gil(struct sbuf *b, struct thread *t)
{
	if (t == NULL || !gil_in_use())
		return;
	switch (atomic_load(&t->gil_state)) {
	case GIL_HOLDING:
		sb_str(b, ", holds the GIL");
		break;
	case GIL_WAITING:
		sb_str(b, ", waiting for the GIL");
		break;
	default:
		sb_str(b, ", GIL released");
	}
}

/*
 * The locks t holds, read as they are: the signal may have come in the
 * middle of a change (seq odd), which the line says.
 */
static void
put_held(struct sbuf *b, struct thread *t)
{
	const struct held *h = t->held;
	const char *kind;
	uint32_t i, n = t->nheld;

	if (atomic_load(&t->seq) & 1)
		sb_str(b, "   (its locks were changing when the signal came)\n");
	if (h == NULL)
		return;
	for (i = 0; i < n && i < SIGDUMP_HELD_MAX; i++) {
		kind = names_lock_kind(h[i].kind);
		sb_str(b, "   - locked ");
		sb_str(b, kind != NULL ? kind : "lock");
		sb_str(b, " <");
		sb_num(b, h[i].addr, 16);
		sb_str(b, ">\n");
	}
	if (n > SIGDUMP_HELD_MAX) {
		sb_str(b, "   - and ");
		sb_num(b, n - SIGDUMP_HELD_MAX, 10);
		sb_str(b, " more\n");
	}
}

/* Its Python frames, innermost first, numbered from *k. */
static void
put_python(struct sbuf *b, struct thread *t, int *k)
{
	int n, i;

	if (t == NULL || gil_runtime() == NULL)
		return;
	if (!mem_self_lockfree()) {
		sb_str(b, "    (no Python frames: reading memory here takes "
		    "a lock, not safe in a signal handler)\n");
		return;
	}
	if (atomic_exchange(&busy, 1))
		return;
	if ((n = gil_thread_frames(t, frames, SIGDUMP_PY_FRAMES)) <= 0) {
		atomic_store(&busy, 0);
		return;
	}
	for (i = 0; i < n; i++, (*k)++) {
		sb_str(b, "    #");
		sb_num(b, (unsigned)*k, 10);
		sb_str(b, *k < 10 ? "  " : " ");
		if (frames[i].flags & PY_FRAME_INVALID) {
			sb_str(b, "<invalid>\n");
			break;
		}
		sb_str(b, py_frame_name(&frames[i]));
		sb_str(b, " (");
		sb_str(b, frames[i].file);
		sb_str(b, ":");
		sb_num(b, (unsigned)(frames[i].line > 0 ? frames[i].line : 0),
		    10);
		sb_str(b, ") [py]\n");
	}
	if (n > 0 && (frames[n - 1].flags & PY_FRAME_MORE))
		sb_str(b, "    ... (deeper Python frames left out)\n");
	atomic_store(&busy, 0);
}

static void
put_native(struct sbuf *b, void *uc, int k)
{
	struct stack st;
	int i;

	stack_capture_signal(&st, uc);
	for (i = 0; i < st.depth; i++, k++) {
		sb_str(b, "    #");
		sb_num(b, (unsigned)k, 10);
		sb_str(b, k < 10 ? "  " : " ");
		sb_num(b, st.ip[i], 16);
		sb_str(b, "\n");
	}
	if (st.truncated)
		sb_str(b, "    ... (truncated)\n");
}

void
sigdump_write(int signo, void *uc)
{
	struct thread *t = thread_mine;
	struct sbuf b;
	char name[THREAD_PYNAME_MAX];
	pid_t pid = getpid(), tid = gettid();
	int k = 0;

	thread_enter_shim();
	b.fd = open_output();
	b.len = 0;
	name[0] = '\0';
	/* threading's name, as the helper's dumps give it, else comm. */
	if (t == NULL || (thread_pyname(t, name, sizeof name) == -1 &&
	    (!mem_self_lockfree() || gil_runtime() == NULL ||
	    gil_thread_name(t, name, sizeof name) == -1)))
		(void)prctl(PR_GET_NAME, name, 0, 0, 0);
	name[sizeof name - 1] = '\0';

	sb_str(&b, "\ngilwatch thread dump: pid ");
	sb_num(&b, (unsigned)pid, 10);
	put_command(&b);
	sb_str(&b, ", written by the handler of signal ");
	sb_num(&b, (unsigned)signo, 10);
	sb_str(&b, " (no helper thread: a single-threaded program)\n"
	    "(async-signal-safe: the interrupted thread only, native frames "
	    "unnamed; gilwatch dump ");
	sb_num(&b, (unsigned)pid, 10);
	sb_str(&b, " reads it from outside, native frames named; the lock "
	    "statistics come at exit)\n\n\"");
	sb_str(&b, name);
	sb_str(&b, "\" tid=");
	sb_num(&b, (unsigned)tid, 10);
	sb_str(&b, " running (the dump signal's handler)");
	put_gil(&b, t);
	sb_str(&b, "\n");
	if (t != NULL)
		put_held(&b, t);
	put_python(&b, t, &k);
	put_native(&b, uc, k);
	sb_flush(&b);
	if (b.fd != STDERR_FILENO)
		close(b.fd);
	thread_leave_shim();
}
