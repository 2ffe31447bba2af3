/*
 * gilwatch top: watch a process live, running under gilwatch or not.
 *
 * This file finds the process (given, or the one or the chosen one of
 * those that publish), checks that it may be read and attaches to its
 * shared-memory file, or, for a process not started under gilwatch,
 * checks that it may be read from outside; it says in one line why not
 * when it cannot.  The viewer itself is in tui/.
 */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "args.h"
#include "cli.h"
#include "ipc.h"
#include "opts.h"
#include "procstat.h"
#include "shm-read.h"

#define TOP_DELAY_MIN	0.1	/* seconds between refreshes */
#define TOP_DELAY_MAX	3600.0
#define TOP_ONCE_WIDTH	160	/* columns of --once's thread table, when
				   neither COLUMNS nor a terminal says */
#define TOP_WIDTH_MIN	40
#define TOP_WIDTH_MAX	1000
#define TOP_LIST_MAX	256	/* processes offered to choose from */
#define TOP_READY_TRIES	100	/* a file not made yet: tries, 20 ms apart */

static int	cmd_top_exec(int, char **);

const struct cmd_entry cmd_top_entry = {
	.name = "top",
	.usage = "[-d SECONDS] [--once [--view=threads|blame]] "
	    "[--loop-stall=MS|off] [PID]",
	.summary = "Watch the threads, the GIL and the locks of PID live, "
	    "read from outside when it was not started under gilwatch "
	    "(without PID: choose among the programs run by gilwatch).",
	.exec = cmd_top_exec,
};

static const struct option cmd_top_options[] = {
	{ "delay",	required_argument,	NULL, 'd' },
	{ "once",	no_argument,		NULL, 'o' },
	{ "view",	required_argument,	NULL, 'v' },
	{ "loop-stall",	required_argument,	NULL, 'L' },
	{ "help",	no_argument,		NULL, 'h' },
	{ NULL,		0,			NULL, 0 }
};

static const struct args_spec cmd_top_args = {
	.cmd = "top",
	.shortopts = "d:h",
	.longopts = cmd_top_options,
};

/* "1", "0.1", "2.5": seconds -> ms; -1 when out of range. */
static int
cmd_top_delay(const char *s)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0' || !isfinite(v) ||
	    v < TOP_DELAY_MIN - 1e-9 || v > TOP_DELAY_MAX)
		return -1;
	return (int)(v * 1000 + 0.5);
}

/*
 * --once's width: COLUMNS when it is a number (as a shell sets it),
 * else the terminal's on standard output, else TOP_ONCE_WIDTH.
 */
static int
cmd_top_width(void)
{
	const char *v = getenv("COLUMNS"), *errstr = NULL;
	struct winsize ws;
	long long n;

	if (v != NULL && *v != '\0') {
		n = opts_number(v, TOP_WIDTH_MIN, TOP_WIDTH_MAX, &errstr);
		if (errstr == NULL)
			return (int)n;
	}
	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 &&
	    ws.ws_col >= TOP_WIDTH_MIN)
		return ws.ws_col > TOP_WIDTH_MAX ? TOP_WIDTH_MAX : ws.ws_col;
	return TOP_ONCE_WIDTH;
}

/* Has pid the shim, and is publishing not turned off? */
static int
cmd_top_publishes(pid_t pid)
{
	char v[32];

	if (proc_maps_has(pid, "libgilwatch") != 1)
		return 0;
	return proc_getenv(pid, "GILWATCH_PUBLISH_MS", v, sizeof v) != 1 ||
	    strcmp(v, "0") != 0;
}

/* Why pid has no file we can read (errno and err from shm_attach). */
static void
cmd_top_unreadable(pid_t pid, int err, const char *msg)
{
	char v[32];

	if (err == EACCES) {
		cli_error("no permission to read the state of process %d: %s",
		    (int)pid, msg);
		return;
	}
	if (err != ENOENT) {
		cli_error("%s", msg);
		return;
	}
	if (proc_why_silent(pid))
		return;
	if (proc_getenv(pid, "GILWATCH_PUBLISH_MS", v, sizeof v) == 1 &&
	    strcmp(v, "0") == 0)
		cli_error("process %d does not publish its state "
		    "(GILWATCH_PUBLISH_MS=0)", (int)pid);
	else
		cli_error("%s", msg);
}

/*
 * 0 with *rd the reader of pid's file, or with *rd NULL when pid has no
 * shim and is to be read from outside; -1 after saying why neither.
 */
static int
cmd_top_attach(pid_t pid, struct shm_reader **rd)
{
	struct timespec tick = { 0, 20000000 };
	char msg[SHM_ERR_MAX];
	uid_t uid;
	gid_t gid;
	int i, e = ENOENT;

	*rd = NULL;
	if (proc_target(pid, "watch", &uid, &gid) == -1)
		return -1;
	/* No shim in it (or its maps are not ours to read): from outside. */
	if (proc_maps_has(pid, "libgilwatch") != 1)
		return proc_may_read(pid);
	if (proc_become(pid, uid, gid) == -1)
		return -1;
	/*
	 * A process just started may not have made its file yet: its shim
	 * does that from a thread of its own, started with the program's
	 * second thread.
	 */
	for (i = 0; i < TOP_READY_TRIES; i++) {
		if ((*rd = shm_attach(pid, msg, sizeof msg)) != NULL)
			return 0;
		if ((e = errno) != ENODATA && (e != ENOENT ||
		    !cmd_top_publishes(pid)))
			break;
		/*
		 * A single-threaded program has no helper, which is what
		 * publishes (it starts with the second thread): from
		 * outside, as any process.
		 */
		if (e == ENOENT && procstat_threads(pid) == 1)
			return proc_may_read(pid);
		nanosleep(&tick, NULL);
	}
	cmd_top_unreadable(pid, e, msg);
	return -1;
}

/* No PID: the one process that publishes, or the user's choice. */
static pid_t
cmd_top_choose(int once)
{
	struct shm_entry e[TOP_LIST_MAX];
	char list[512];
	size_t off = 0;
	pid_t pid;
	int n, i;

	n = shm_list(e, TOP_LIST_MAX);
	if (n <= 0) {
		cli_error("no process is running under gilwatch here; start "
		    "one with: gilwatch run -- CMD");
		return -1;
	}
	if (n == 1)
		return e[0].pid;
	if (n > TOP_LIST_MAX)
		n = TOP_LIST_MAX;
	if (once) {
		for (i = 0; i < n && off < sizeof list; i++)
			off += (size_t)snprintf(list + off, sizeof list - off,
			    "%s%d (%.40s)", i ? ", " : "", (int)e[i].pid,
			    e[i].command);
		cli_error("%d processes run under gilwatch, give one's PID: "
		    "%s", n, list);
		return -1;
	}
	if ((pid = pick_run(e, n)) == -1)
		cli_error("%d processes run under gilwatch and there is no "
		    "terminal to choose on: give a PID", n);
	return pid;
}

static int
cmd_top_exec(int argc, char **argv)
{
	struct shm_reader *rd;
	const char *errstr;
	pid_t pid = 0;
	int opt, once = 0, delay = 1000, blame = 0, view = 0;
	int loop_stall = -1;	/* the program's own */

	optind = 0;
	while ((opt = args_next(&cmd_top_args, argc, argv, NULL)) != -1) {
		switch (opt) {
		case ARGS_ERROR:
			return CLI_EXIT_USAGE;
		case 'h':
			printf("%s\n", cmd_top_entry.summary);
			cmd_help_usage(stdout, &cmd_top_entry);
			return CLI_EXIT_OK;
		case 'd':
			if ((delay = cmd_top_delay(optarg)) == -1)
				return cli_usage_error(&cmd_top_entry,
				    "-d %s: seconds from %.1f to %.0f", optarg,
				    TOP_DELAY_MIN, TOP_DELAY_MAX);
			break;
		case 'o':
			once = 1;
			break;
		case 'v':
			if (strcmp(optarg, "threads") != 0 &&
			    strcmp(optarg, "blame") != 0)
				return cli_usage_error(&cmd_top_entry,
				    "--view=%s: threads or blame", optarg);
			blame = strcmp(optarg, "blame") == 0;
			view = 1;
			break;
		case 'L':
			if ((loop_stall = opts_loop_stall(optarg,
			    &errstr)) == -1)
				return cli_usage_error(&cmd_top_entry,
				    "--loop-stall=%s: %s", optarg, errstr);
			break;
		}
	}
	if (view && !once)
		return cli_usage_error(&cmd_top_entry, "--view goes with "
		    "--once (on the screen, b shows the blame view)");
	if (argc - optind > 1)
		return cli_usage_error(&cmd_top_entry,
		    "unexpected argument '%s'", argv[optind + 1]);
	if (optind < argc) {
		pid = opts_pid(argv[optind], &errstr);
		if (errstr != NULL)
			return cli_usage_error(&cmd_top_entry,
			    "PID '%s' is %s (must be a positive number)",
			    argv[optind], errstr);
	} else if ((pid = cmd_top_choose(once)) <= 0)
		return pid == 0 ? CLI_EXIT_OK : CLI_EXIT_ERROR;
	if (cmd_top_attach(pid, &rd) == -1)
		return CLI_EXIT_ERROR;
	if (once)
		return tui_once(rd, pid, cmd_top_width(), blame, loop_stall);
	return tui_run(rd, pid, delay, loop_stall);
}
