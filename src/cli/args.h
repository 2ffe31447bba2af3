/*
 * A command's options, wherever its user typed them: getopt_long(3) with
 * GNU permutation and gilwatch's error messages.
 */
#ifndef GW_ARGS_H
#define GW_ARGS_H

#include <getopt.h>

/* args_next: the command line is wrong, and stderr says so. */
#define ARGS_ERROR	(-2)

/* How a command takes its options. */
struct args_spec {
	const char		*cmd;		/* "dump": named in errors */
	const char		*shortopts;	/* getopt's, no leading '+'/':' */
	const struct option	*longopts;	/* at most ARGS_LONG_MAX */
	/*
	 * 0: options may come before, between or after the operands
	 * (moved to the end), as GNU tools take them, unless
	 * POSIXLY_CORRECT is set.  1: the first operand ends the options:
	 * what follows is a program's command line (run).  "--" ends the
	 * options either way.
	 */
	int			 in_order;
};

#define ARGS_LONG_MAX	32

/*
 * The next option of argv (argv[0] is the command's name), as
 * getopt_long: its val, with optarg and *longindex (may be NULL) set; -1
 * when there are no more and argv[optind] is the first operand; or
 * ARGS_ERROR after a one-line message on stderr that names the option
 * and "gilwatch CMD --help".  Set optind to 0 before the first call.
 */
int	args_next(const struct args_spec *, int argc, char **argv,
	    int *longindex);

#endif /* GW_ARGS_H */
