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

/* main.c */
void	cli_error(const char *, ...) __attribute__((format(printf, 1, 2)));
int	cli_usage_error(const struct cmd_entry *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));

/* cmd-help.c */
void	cmd_help_usage(FILE *, const struct cmd_entry *);
void	cmd_help_all(FILE *);
const struct cmd_entry *cmd_help_find(const char *);

/* shimpath.c */
int	shimpath_find(char *, size_t);

/* proc.c */
int	proc_owner(pid_t, uid_t *, gid_t *);
pid_t	proc_tgid(pid_t);
int	proc_maps_has(pid_t, const char *);
int	proc_getenv(pid_t, const char *, char *, size_t);

#endif /* GW_CLI_H */
