/*
 * The gilwatch command line: one file per command (cmd-*.c), each
 * exporting a struct cmd_entry listed in cmd_table (main.c).
 */
#ifndef GW_CLI_H
#define GW_CLI_H

#include <stdio.h>
#include <sys/types.h>

/* Exit statuses of every command but run, which exits as its program. */
#define CLI_EXIT_OK	0
#define CLI_EXIT_ERROR	1	/* the command could not do its job */
#define CLI_EXIT_USAGE	2	/* the command line was wrong */
#define CLI_EXIT_DEADLOCK 86	/* dump read from outside found a deadlock
				   (the status of run --on-deadlock=exit) */

/* exec's exit statuses when the program cannot be started, as sh(1). */
#define CLI_EXIT_NOEXEC	126
#define CLI_EXIT_NOTFOUND 127

/* A command. */
struct cmd_entry {
	const char	*name;
	const char	*usage;		/* what follows "gilwatch <name> " */
	const char	*summary;	/* one line for the help text */

	/* argv[0] is the command name; returns the exit status. */
	int		 (*exec)(int argc, char **argv);
};

/* Every command, NULL-terminated, in help order. */
extern const struct cmd_entry *cmd_table[];

extern const struct cmd_entry cmd_run_entry;
extern const struct cmd_entry cmd_dump_entry;
extern const struct cmd_entry cmd_help_entry;
extern const struct cmd_entry cmd_top_entry;

/*
 * main.c: "gilwatch: <message>" on stderr; the usage variant adds the
 * command's usage line and returns CLI_EXIT_USAGE.
 */
void	cli_error(const char *, ...) __attribute__((format(printf, 1, 2)));
int	cli_usage_error(const struct cmd_entry *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));

/* cmd-help.c */
void	cmd_help_usage(FILE *, const struct cmd_entry *);
void	cmd_help_all(FILE *);
const struct cmd_entry *cmd_help_find(const char *);

/*
 * shimpath.c: the absolute, resolved path of libgilwatch.so, from
 * $GILWATCH_LIB, else beside the executable, else in ../lib/gilwatch.
 * Returns 0, or -1 after printing why (and where it looked).
 */
int	shimpath_find(char *, size_t);

/*
 * proc.c: facts about another process from /proc.  Each returns -1 with
 * errno from open(2) or stat(2) when the file cannot be read (ENOENT: no
 * such process).
 */
int	proc_owner(pid_t, uid_t *, gid_t *);	/* owner of /proc/PID */
pid_t	proc_tgid(pid_t);		/* the process a thread id is in */
int	proc_maps_has(pid_t, const char *);	/* 1: a mapping names it */
/*
 * The minor version when the process is CPython 3.12 or later with a
 * single thread (gilwatch's helper has left it for a fork), else 0.
 */
int	proc_python_alone(pid_t);
/*
 * Why a process under gilwatch does not answer, when /proc can tell (no
 * such process, not under gilwatch, a single-threaded CPython 3.12+):
 * says it with cli_error and returns 1; 0 when it cannot tell.
 */
int	proc_why_silent(pid_t);
int	proc_getenv(pid_t, const char *, char *, size_t); /* 1 found, 0 not */
/*
 * pid is a process (not a thread: "VERB the process instead") of ours,
 * or we are root; fills its owner.  Says why not, returns -1.
 */
int	proc_target(pid_t, const char *verb, uid_t *, gid_t *);
/*
 * Look where pid's shim put its files: its XDG_RUNTIME_DIR, not ours,
 * which can differ (sudo, services); as root also take its uid so the
 * directory checks and the shim's peer check pass.
 */
int	proc_become(pid_t, uid_t, gid_t);
/*
 * May we read pid from outside (its /proc syscall files, its memory)?
 * The kernel applies ptrace's rules: same user, not made non-dumpable,
 * Yama's ptrace_scope, CAP_SYS_PTRACE.  0, or -1 after one line naming
 * the rule that refused and the way past it.
 */
int	proc_may_read(pid_t);

/*
 * tui/: the viewer behind gilwatch top (see tui/tui.h).  Each takes an
 * attached reader (shm-read.h) and frees it; each returns the exit
 * status.
 */
struct shm_reader;
struct shm_entry;
/*
 * The viewer, of rd's process, or (rd NULL) of pid read from outside;
 * loop_stall_ms as source_open (tui.h) takes it.
 */
int	tui_run(struct shm_reader *, pid_t, int delay_ms,
	    int loop_stall_ms);	/* until q */
/* One frame: the threads, or with blame the GIL blame view. */
int	tui_once(struct shm_reader *, pid_t, int width, int blame,
	    int loop_stall_ms);
/* Choose among processes on the terminal: the pid, 0 (quit), -1. */
pid_t	pick_run(const struct shm_entry *, int n);

#endif /* GW_CLI_H */
