/*
 * gilwatch dump: ask the shim inside a running program for a dump, or,
 * for a program not started under gilwatch, read it from outside
 * (src/reader/outside.h) and write the same report; with --core, read
 * a core file the same way.
 *
 * When the socket cannot be reached, /proc tells which of the likely
 * reasons holds (no process, someone else's process, no shim, a shim that
 * does not listen) so the message can say what to do.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gilwatch/snapshot.h>

#include "args.h"
#include "cli.h"
#include "core.h"
#include "format.h"
#include "ipc.h"
#include "opts.h"
#include "out.h"
#include "mem.h"
#include "outside.h"

#define DUMP_TIMEOUT	10	/* seconds to wait for each part of the answer */
#define DUMP_ERROR	"error: "
#define DUMP_ERROR_MAX	1024	/* longest error line kept */

static int	cmd_dump_exec(int, char **);

const struct cmd_entry cmd_dump_entry = {
	.name = "dump",
	.usage = "[--format=text|json] [--no-stacks] "
	    "[--locks [--sort=KEY] [--top=N] | --gil] "
	    "{PID | --core CORE [EXE]}",
	.summary = "Print the threads and locks of PID: asked of gilwatch "
	    "in it, or read from outside; or of a core file.",
	.exec = cmd_dump_exec,
};

static const struct option cmd_dump_options[] = {
	{ "format",	required_argument,	NULL, 'f' },
	{ "core",	required_argument,	NULL, 'c' },
	{ "locks",	no_argument,		NULL, 'l' },
	{ "gil",	no_argument,		NULL, 'g' },
	{ "no-stacks",	no_argument,		NULL, 'n' },
	{ "sort",	required_argument,	NULL, 'S' },
	{ "top",	required_argument,	NULL, 't' },
	{ "help",	no_argument,		NULL, 'h' },
	{ NULL,		0,			NULL, 0 }
};

static const struct args_spec cmd_dump_args = {
	.cmd = "dump",
	.shortopts = "h",
	.longopts = cmd_dump_options,
};

static void
cmd_dump_alarm(int signo)
{
	/* Nothing: the signal is only there to interrupt connect(2). */
}

/* Connect with a bounded wait: connect blocks while the backlog is full. */
static int
cmd_dump_connect(pid_t pid)
{
	struct sigaction sa;
	int fd, err;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = cmd_dump_alarm;	/* no SA_RESTART */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, NULL);
	alarm(DUMP_TIMEOUT);
	fd = ipc_connect(pid);
	err = errno;
	alarm(0);
	errno = err;
	return fd;
}

/* Say why pid has no socket we can reach (errno from ipc_connect). */
static void
cmd_dump_unreachable(pid_t pid)
{
	int err = errno;

	if (err == EINTR) {
		cli_error("process %d did not answer within %d s", (int)pid,
		    DUMP_TIMEOUT);
		return;
	}
	if (err == EPERM) {
		/* ipc_dir's verdict on a directory anyone else could use. */
		cli_error("no permission to reach process %d: its socket "
		    "directory is not private to this user", (int)pid);
		return;
	}
	if (err == EACCES) {
		cli_error("no permission to reach process %d: %s", (int)pid,
		    strerror(err));
		return;
	}
	if (err != ENOENT && err != ECONNREFUSED) {
		cli_error("cannot connect to process %d: %s", (int)pid,
		    strerror(err));
		return;
	}
	if (proc_why_silent(pid))
		return;
	if (err == ENOENT)
		cli_error("gilwatch in process %d is not answering "
		    "(no control socket)", (int)pid);
	else
		cli_error("gilwatch in process %d is not answering "
		    "(control socket refused the connection)", (int)pid);
}

/* Wait for data; 0, or -1 after saying why. */
static int
cmd_dump_wait(int fd, pid_t pid, size_t got)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	int n, minor;

	do
		n = poll(&pfd, 1, DUMP_TIMEOUT * 1000);
	while (n == -1 && errno == EINTR);
	if (n == 1)
		return 0;
	if (n == 0 && got == 0 && (minor = proc_python_alone(pid)) != 0)
		cli_error("process %d did not answer within %d s: gilwatch's "
		    "helper left for a fork (CPython 3.%d) and comes back at "
		    "the program's next blocking call", (int)pid, DUMP_TIMEOUT,
		    minor);
	else if (n == 0 && got == 0)
		cli_error("process %d did not answer within %d s", (int)pid,
		    DUMP_TIMEOUT);
	else if (n == 0)
		cli_error("process %d stopped answering (nothing for %d s)",
		    (int)pid, DUMP_TIMEOUT);
	else
		cli_error("poll: %s", strerror(errno));
	return -1;
}

static int
cmd_dump_write(const char *buf, size_t len)
{
	ssize_t n;

	while (len > 0) {
		if ((n = write(STDOUT_FILENO, buf, len)) == -1) {
			if (errno == EINTR)
				continue;
			cli_error("stdout: %s", strerror(errno));
			return -1;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* The answer was an error line: show it as ours. */
static int
cmd_dump_failed(char *line, size_t len)
{
	line[len] = '\0';
	line[strcspn(line, "\r\n")] = '\0';
	cli_error("%s", line);
	return CLI_EXIT_ERROR;
}

/*
 * Copy the answer to stdout.  The start is held back until it shows
 * whether the answer is a dump or an error line for stderr.
 */
static int
cmd_dump_copy(int fd, pid_t pid)
{
	char head[DUMP_ERROR_MAX + 1], buf[65536];
	size_t nhead = 0, plen = strlen(DUMP_ERROR), got = 0;
	ssize_t n;
	int copying = 0;

	for (;;) {
		if (!copying && nhead == DUMP_ERROR_MAX)
			break;		/* an overlong error line: cut it */
		if (cmd_dump_wait(fd, pid, got) == -1)
			return CLI_EXIT_ERROR;
		if (copying)
			n = read(fd, buf, sizeof buf);
		else
			n = read(fd, head + nhead, DUMP_ERROR_MAX - nhead);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			cli_error("reading from process %d: %s", (int)pid,
			    strerror(errno));
			return CLI_EXIT_ERROR;
		}
		if (n == 0)
			break;
		got += (size_t)n;
		if (copying) {
			if (cmd_dump_write(buf, (size_t)n) == -1)
				return CLI_EXIT_ERROR;
			continue;
		}
		nhead += (size_t)n;
		if (nhead < plen)
			continue;
		if (memcmp(head, DUMP_ERROR, plen) == 0) {
			if (memchr(head, '\n', nhead) != NULL)
				break;
			continue;
		}
		if (cmd_dump_write(head, nhead) == -1)
			return CLI_EXIT_ERROR;
		copying = 1;
	}
	if (copying)
		return CLI_EXIT_OK;
	if (nhead >= plen && memcmp(head, DUMP_ERROR, plen) == 0)
		return cmd_dump_failed(head, nhead);
	if (nhead == 0) {
		cli_error("process %d closed the connection without answering",
		    (int)pid);
		return CLI_EXIT_ERROR;
	}
	return cmd_dump_write(head, nhead) == 0 ? CLI_EXIT_OK : CLI_EXIT_ERROR;
}

static int
cmd_dump_request(int fd, pid_t pid, const char *req)
{
	ssize_t n;

	do
		n = send(fd, req, strlen(req), MSG_NOSIGNAL);
	while (n == -1 && errno == EINTR);
	/*
	 * A shim that refuses us may have written its error line and
	 * closed already: go on and read it.
	 */
	if (n == -1 && errno != EPIPE && errno != ECONNRESET) {
		cli_error("writing to process %d: %s", (int)pid,
		    strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * Write the report of s, and free it: 0, CLI_EXIT_DEADLOCK when it
 * shows a deadlock, CLI_EXIT_ERROR when it cannot be written.
 */
static int
cmd_dump_report(struct gw_snapshot *s, int format, int helperless)
{
	struct out o;
	int rv;

	/* For bench/outside-dump and the tests: what the read cost. */
	if (getenv("GW_COUNT_READS") != NULL) {
		struct mem_count c;

		mem_count(&c);
		fprintf(stderr, "gilwatch: %lu memory reads in %lu system "
		    "calls, %lu /proc files, %lu pages copied\n", c.reads,
		    c.calls, task_files(), c.pages);
	}
	s->shim_helperless = helperless;
	out_init(&o);
	out_stream(&o, STDOUT_FILENO);
	if (format == GW_FORMAT_JSON)
		report_json(&o, s);
	else
		report_text(&o, s);
	rv = s->ndeadlocks > 0 ? CLI_EXIT_DEADLOCK : CLI_EXIT_OK;
	if (out_write(&o, STDOUT_FILENO) == -1) {
		cli_error("stdout: %s", strerror(errno));
		rv = CLI_EXIT_ERROR;
	}
	out_free(&o);
	outside_free(s);
	return rv;
}

/*
 * Read pid from outside and write the report (cmd_dump_report); its
 * mappings m, when read already, are taken over.
 */
static int
cmd_dump_outside(pid_t pid, struct maps *m, int format, int flags,
    int helperless)
{
	struct gw_snapshot *s;
	char why[512];

	if (proc_may_read(pid) == -1) {
		if (m != NULL)
			maps_free(m);
		return CLI_EXIT_ERROR;
	}
	if ((s = m != NULL ? outside_snapshot_maps(pid, m, flags, why,
	    sizeof why) : outside_snapshot(pid, flags, why,
	    sizeof why)) == NULL) {
		cli_error("%s", why);
		return CLI_EXIT_ERROR;
	}
	return cmd_dump_report(s, format, helperless);
}

/*
 * The shim in pid has no helper thread listening: a single-threaded
 * program (the helper starts with its second thread), or one whose
 * helper stepped out for a fork.  Read it from outside, which stops
 * no more than a dump of any process does and sends it no signal (a
 * signal would make a sleep or an idle epoll_wait fail with EINTR);
 * the statistics exist only inside it.
 */
static int
cmd_dump_helperless(pid_t pid, int stats, int format, int flags)
{
	if (stats) {
		cli_error("process %d has no gilwatch helper thread to ask "
		    "for its statistics (it is single-threaded: the helper "
		    "starts with its second thread); gilwatch dump %d "
		    "without --locks or --gil reads it from outside",
		    (int)pid, (int)pid);
		return CLI_EXIT_ERROR;
	}
	return cmd_dump_outside(pid, NULL, format, flags, 1);
}

/*
 * The executable of a core must be readable: the core leaves out what
 * the file holds (code, read-only data), and the stacks and CPython's
 * symbols come from it.  0, or the exit status after saying why.
 */
static int
cmd_dump_core_exe(struct core *c, const char *core, const char *exe)
{
	const char *path = core_exe(c);
	int i;

	if (path == NULL) {
		cli_error("%s names no executable (no file mapping holds its "
		    "entry point): give the program's path as EXE", core);
		return CLI_EXIT_ERROR;
	}
	for (i = 0; i < core_nfiles(c); i++)
		if (core_file(c, i)->path == path)
			break;
	if (core_file_usable(c, i))
		return 0;
	if (exe != NULL && access(exe, R_OK) == -1) {
		cli_error("EXE %s: %s", exe, strerror(errno));
		return CLI_EXIT_USAGE;
	}
	if (exe != NULL) {
		cli_error("EXE %s is not the program that dumped %s (its "
		    "first page differs from the core's copy): give that "
		    "program's path", exe, core);
		return CLI_EXIT_USAGE;
	}
	if (access(path, R_OK) == -1)
		cli_error("%s: the executable %s is not there (%s): give its "
		    "path as EXE", core, path, strerror(errno));
	else
		cli_error("%s: the executable %s changed since the core was "
		    "dumped (its first page differs): give the program that "
		    "dumped it as EXE", core, path);
	return CLI_EXIT_ERROR;
}

/* Read a core file and write the report (cmd_dump_report). */
static int
cmd_dump_core(const char *core, const char *exe, int format, int flags)
{
	struct gw_snapshot *s;
	struct core *c;
	char why[512];
	int rv;

	if ((c = core_open(core, exe, why, sizeof why)) == NULL) {
		cli_error("cannot read the core file %s (give a core dumped by "
		    "the kernel or by gcore)", why);
		return CLI_EXIT_ERROR;
	}
	if ((rv = cmd_dump_core_exe(c, core, exe)) != 0) {
		core_close(c);
		return rv;
	}
	if ((s = outside_core_snapshot(c, core, flags, why,
	    sizeof why)) == NULL) {
		cli_error("%s: %s", core, why);
		core_close(c);
		return CLI_EXIT_ERROR;
	}
	rv = cmd_dump_report(s, format, 0);
	core_close(c);
	return rv;
}

static int
cmd_dump_exec(int argc, char **argv)
{
	const char *errstr;
	pid_t pid;
	uid_t uid;
	gid_t gid;
	struct maps m;
	int opt, fd, rv, format = GW_FORMAT_TEXT, locks = 0, gil = 0, top = 0;
	int flags = 0, maps_ok;
	const char *sort = "-", *core = NULL;
	char req[64], why[256];

	optind = 0;
	while ((opt = args_next(&cmd_dump_args, argc, argv, NULL)) != -1) {
		switch (opt) {
		case ARGS_ERROR:
			return CLI_EXIT_USAGE;
		case 'h':
			printf("%s\n", cmd_dump_entry.summary);
			cmd_help_usage(stdout, &cmd_dump_entry);
			return CLI_EXIT_OK;
		case 'f':
			if ((format = opts_format(optarg, &errstr)) == -1)
				return cli_usage_error(&cmd_dump_entry,
				    "--format=%s: %s", optarg, errstr);
			break;
		case 'c':
			core = optarg;
			break;
		case 'l':
			locks = 1;
			break;
		case 'g':
			gil = 1;
			break;
		case 'n':
			flags |= OUTSIDE_NO_STACKS;
			break;
		case 'S':
			if (opts_sort(optarg, &errstr) == -1)
				return cli_usage_error(&cmd_dump_entry,
				    "--sort=%s: %s", optarg, errstr);
			sort = optarg;
			break;
		case 't':
			top = (int)opts_number(optarg, 1, 1000000, &errstr);
			if (errstr != NULL)
				return cli_usage_error(&cmd_dump_entry,
				    "--top=%s: %s", optarg, errstr);
			break;
		}
	}
	if (core != NULL) {
		if (locks || gil)
			return cli_usage_error(&cmd_dump_entry, "--%s needs a "
			    "process started under gilwatch run, not a core "
			    "file: its statistics exist only inside it",
			    locks ? "locks" : "gil");
		if (argc - optind > 1)
			return cli_usage_error(&cmd_dump_entry,
			    "unexpected argument '%s' (--core takes CORE and "
			    "at most an EXE)", argv[optind + 1]);
		return cmd_dump_core(core, optind < argc ? argv[optind] :
		    NULL, format, flags);
	}
	if (optind == argc)
		return cli_usage_error(&cmd_dump_entry, "no PID given");
	if (argc - optind > 1)
		return cli_usage_error(&cmd_dump_entry,
		    "unexpected argument '%s'", argv[optind + 1]);
	pid = opts_pid(argv[optind], &errstr);
	if (errstr != NULL)
		return cli_usage_error(&cmd_dump_entry,
		    "PID '%s' is %s (must be a positive number)",
		    argv[optind], errstr);

	if (proc_target(pid, "dump", &uid, &gid) == -1)
		return CLI_EXIT_ERROR;
	/*
	 * No shim in it (or its maps are not ours to read): from outside,
	 * with the maps read for this look (thousands of lines for as
	 * many threads: not read twice).
	 */
	maps_ok = maps_read_pid(pid, &m, why, sizeof why) == 0;
	if (!maps_ok || !maps_has(&m, "libgilwatch")) {
		if (locks || gil) {
			if (maps_ok)
				maps_free(&m);
			cli_error("--%s needs a process started under gilwatch "
			    "run: process %d was not, and its statistics exist "
			    "only inside it", locks ? "locks" : "gil",
			    (int)pid);
			return CLI_EXIT_ERROR;
		}
		return cmd_dump_outside(pid, maps_ok ? &m : NULL, format,
		    flags, 0);
	}
	maps_free(&m);
	if (proc_become(pid, uid, gid) == -1)
		return CLI_EXIT_ERROR;
	if ((fd = cmd_dump_connect(pid)) == -1 && (errno == ENOENT ||
	    errno == ECONNREFUSED) && kill(pid, 0) == 0)
		return cmd_dump_helperless(pid, locks || gil, format, flags);
	if (fd == -1) {
		cmd_dump_unreachable(pid);
		return CLI_EXIT_ERROR;
	}
	if (gil)
		snprintf(req, sizeof req, "gil %s\n",
		    format == GW_FORMAT_JSON ? "json" : "text");
	else if (locks)
		snprintf(req, sizeof req, "locks %s %s %d\n",
		    format == GW_FORMAT_JSON ? "json" : "text", sort, top);
	else
		snprintf(req, sizeof req, "dump %s\n",
		    format == GW_FORMAT_JSON ? "json" : "text");
	if (cmd_dump_request(fd, pid, req) == -1)
		rv = CLI_EXIT_ERROR;
	else
		rv = cmd_dump_copy(fd, pid);
	close(fd);
	return rv;
}
