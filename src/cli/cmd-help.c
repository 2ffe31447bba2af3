/* gilwatch help [COMMAND]: the usage text, also behind --help. */
#include <stdio.h>
#include <string.h>

#include "args.h"
#include "cli.h"

#define HELP_WIDTH	79	/* fold usage lines before this column */

static int	cmd_help_exec(int, char **);

const struct cmd_entry cmd_help_entry = {
	.name = "help",
	.usage = "[COMMAND]",
	.summary = "Show this help, or the usage of COMMAND.",
	.exec = cmd_help_exec,
};

static const struct option cmd_help_options[] = {
	{ "help",	no_argument,		NULL, 'h' },
	{ NULL,		0,			NULL, 0 }
};

static const struct args_spec cmd_help_args = {
	.cmd = "help",
	.shortopts = "h",
	.longopts = cmd_help_options,
};

/*
 * Print prefix, then text folded at spaces; continuation lines are
 * indented to line up under the first word of text.
 */
static void
cmd_help_fold(FILE *fp, const char *prefix, const char *text)
{
	size_t indent, col, n;

	fputs(prefix, fp);
	indent = col = strlen(prefix);
	while (*text != '\0') {
		n = strcspn(text, " ");
		if (col > indent && col + 1 + n > HELP_WIDTH) {
			fprintf(fp, "\n%*s", (int)indent, "");
			col = indent;
		} else if (col > indent) {
			fputc(' ', fp);
			col++;
		}
		fwrite(text, 1, n, fp);
		col += n;
		text += n;
		text += strspn(text, " ");
	}
	fputc('\n', fp);
}

void
cmd_help_usage(FILE *fp, const struct cmd_entry *entry)
{
	char prefix[64];

	snprintf(prefix, sizeof prefix, "usage: gilwatch %s ", entry->name);
	cmd_help_fold(fp, prefix, entry->usage);
}

void
cmd_help_all(FILE *fp)
{
	const struct cmd_entry **entry;
	char prefix[64];

	fputs("usage: gilwatch COMMAND [ARG ...]\n"
	    "       gilwatch --help | --version\n"
	    "\n"
	    "Commands:\n", fp);
	for (entry = cmd_table; *entry != NULL; entry++) {
		snprintf(prefix, sizeof prefix, "  %s ", (*entry)->name);
		cmd_help_fold(fp, prefix, (*entry)->usage);
		fprintf(fp, "        %s\n", (*entry)->summary);
	}
	fputs("\nSee gilwatch(1) for the options and the environment.\n", fp);
}

const struct cmd_entry *
cmd_help_find(const char *name)
{
	const struct cmd_entry **entry;

	for (entry = cmd_table; *entry != NULL; entry++) {
		if (strcmp((*entry)->name, name) == 0)
			return *entry;
	}
	return NULL;
}

static int
cmd_help_exec(int argc, char **argv)
{
	const struct cmd_entry *entry = NULL;
	int opt;

	optind = 0;
	while ((opt = args_next(&cmd_help_args, argc, argv, NULL)) != -1) {
		if (opt == ARGS_ERROR)
			return CLI_EXIT_USAGE;
		entry = &cmd_help_entry;	/* -h, --help: our own usage */
	}
	if (entry == NULL && optind == argc) {
		cmd_help_all(stdout);
		return CLI_EXIT_OK;
	}
	if (entry == NULL && argc - optind > 1)
		return cli_usage_error(&cmd_help_entry, "too many arguments");
	if (entry == NULL && (entry = cmd_help_find(argv[optind])) == NULL) {
		cli_error("unknown command '%s' (see gilwatch --help)",
		    argv[optind]);
		return CLI_EXIT_USAGE;
	}
	printf("%s\n", entry->summary);
	cmd_help_usage(stdout, entry);
	return CLI_EXIT_OK;
}
