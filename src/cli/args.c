/*
 * A command's options, wherever its user typed them.
 *
 * getopt_long's optopt cannot say whether a refused option was a short
 * one or a long one with the same val, so getopt is given a copy of the
 * long options whose vals are 256 + their index: an error then names
 * exactly the option the user typed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"

#define ARGS_LONG_VAL	256	/* long option i is ARGS_LONG_VAL + i */

static struct option	args_long[ARGS_LONG_MAX + 1];
static char		args_short[64];

/* Set up args_long and args_short for a new command line. */
static void
args_start(const struct args_spec *spec)
{
	size_t i;

	for (i = 0; spec->longopts[i].name != NULL; i++) {
		if (i == ARGS_LONG_MAX) {
			fprintf(stderr, "gilwatch %s: more than %d options\n",
			    spec->cmd, ARGS_LONG_MAX);
			abort();	/* a programming error */
		}
		args_long[i] = spec->longopts[i];
		args_long[i].flag = NULL;
		args_long[i].val = ARGS_LONG_VAL + (int)i;
	}
	memset(&args_long[i], 0, sizeof args_long[i]);
	snprintf(args_short, sizeof args_short, "%s:%s",
	    spec->in_order ? "+" : "", spec->shortopts);
}

static int
args_error(const struct args_spec *spec, const char *fmt, const char *opt)
{
	fflush(stdout);		/* keep the order of mixed output */
	fprintf(stderr, "gilwatch %s: ", spec->cmd);
	fprintf(stderr, fmt, opt);
	fprintf(stderr, " (see gilwatch %s --help)\n", spec->cmd);
	return ARGS_ERROR;
}

/* How many long options arg ("--NAME[=VALUE]") abbreviates. */
static int
args_prefixes(const struct args_spec *spec, const char *arg)
{
	const struct option *o;
	size_t len;
	int n = 0;

	arg += 2;
	len = strcspn(arg, "=");
	for (o = spec->longopts; o->name != NULL; o++) {
		if (strncmp(o->name, arg, len) == 0)
			n++;
	}
	return n;
}

/* Say what is wrong with the option getopt refused with ret. */
static int
args_refused(const struct args_spec *spec, int ret, char **argv)
{
	char name[64];

	if (optopt >= ARGS_LONG_VAL) {
		snprintf(name, sizeof name, "--%s",
		    spec->longopts[optopt - ARGS_LONG_VAL].name);
		if (ret == ':')
			return args_error(spec, "option '%s' needs a value",
			    name);
		return args_error(spec, "option '%s' takes no value", name);
	}
	if (optopt != 0) {
		snprintf(name, sizeof name, "-%c", optopt);
		if (ret == ':')
			return args_error(spec, "option '%s' needs a value",
			    name);
		return args_error(spec, "unknown option '%s'", name);
	}
	/* An unknown or ambiguous long option, consumed whole. */
	if (args_prefixes(spec, argv[optind - 1]) > 1)
		return args_error(spec, "ambiguous option '%s'",
		    argv[optind - 1]);
	return args_error(spec, "unknown option '%s'", argv[optind - 1]);
}

int
args_next(const struct args_spec *spec, int argc, char **argv,
    int *longindex)
{
	const struct option *o;
	int ret;

	if (optind == 0)
		args_start(spec);
	opterr = 0;
	ret = getopt_long(argc, argv, args_short, args_long, NULL);
	if (ret == '?' || ret == ':')
		return args_refused(spec, ret, argv);
	if (ret < ARGS_LONG_VAL)
		return ret;
	o = &spec->longopts[ret - ARGS_LONG_VAL];
	if (longindex != NULL)
		*longindex = ret - ARGS_LONG_VAL;
	if (o->flag != NULL) {
		*o->flag = o->val;
		return 0;
	}
	return o->val;
}
