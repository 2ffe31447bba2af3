/* gilwatch: find the command and run it. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

const struct cmd_entry *cmd_table[] = {
	&cmd_run_entry,
	&cmd_dump_entry,
	&cmd_top_entry,
	&cmd_help_entry,
	NULL
};

static void
cli_verror(const char *fmt, va_list ap)
{
	fflush(stdout);		/* keep the order of mixed output */
	fputs("gilwatch: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void
cli_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	cli_verror(fmt, ap);
	va_end(ap);
}

int
cli_usage_error(const struct cmd_entry *entry, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	cli_verror(fmt, ap);
	va_end(ap);
	cmd_help_usage(stderr, entry);
	return CLI_EXIT_USAGE;
}

int
main(int argc, char **argv)
{
	const struct cmd_entry *entry;
	const char *arg;

	if (argc < 2) {
		cmd_help_all(stderr);
		return CLI_EXIT_USAGE;
	}
	arg = argv[1];
	if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
		cmd_help_all(stdout);
		return CLI_EXIT_OK;
	}
	if (strcmp(arg, "--version") == 0) {
		printf("gilwatch %s\n", GW_VERSION);
		return CLI_EXIT_OK;
	}
	if (arg[0] == '-') {
		cli_error("unknown option '%s' (see gilwatch --help)", arg);
		return CLI_EXIT_USAGE;
	}
	if ((entry = cmd_help_find(arg)) == NULL) {
		cli_error("unknown command '%s' (see gilwatch --help)", arg);
		return CLI_EXIT_USAGE;
	}
	return entry->exec(argc - 1, argv + 1);
}
