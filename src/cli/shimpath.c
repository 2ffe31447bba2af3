/* Where is libgilwatch.so?  See shimpath_find in cli.h. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

#define SHIMPATH_NAME	"libgilwatch.so"
#define SHIMPATH_LIBDIR	"lib/gilwatch"	/* under the prefix: see Makefile */

/*
 * Resolve path into buf if it names a regular file.  Returns 0, or -1
 * with errno (ENOENT, EISDIR, ENAMETOOLONG ...).
 */
static int
shimpath_resolve(const char *path, char *buf, size_t len)
{
	struct stat st;
	char *real;

	if ((real = realpath(path, NULL)) == NULL)
		return -1;
	if (stat(real, &st) == -1) {
		free(real);
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		free(real);
		errno = S_ISDIR(st.st_mode) ? EISDIR : EINVAL;
		return -1;
	}
	if (strlen(real) >= len) {
		free(real);
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(buf, real);
	free(real);
	return 0;
}

/* Cut path after its last '/', leaving the directory ("" for "/x"). */
static void
shimpath_dirname(char *path)
{
	char *slash;

	if ((slash = strrchr(path, '/')) != NULL)
		*slash = '\0';
	else
		path[0] = '\0';
}

static int
shimpath_env(const char *env, char *buf, size_t len)
{
	if (shimpath_resolve(env, buf, len) == 0)
		return 0;
	cli_error("GILWATCH_LIB=%s: %s", env, strerror(errno));
	return -1;
}

int
shimpath_find(char *buf, size_t len)
{
	char exe[PATH_MAX], beside[PATH_MAX + 32], installed[PATH_MAX + 32];
	const char *env;
	ssize_t n;

	env = getenv("GILWATCH_LIB");
	if (env != NULL && *env != '\0')
		return shimpath_env(env, buf, len);

	n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (n == -1) {
		cli_error("cannot find libgilwatch.so (/proc/self/exe: %s); "
		    "set GILWATCH_LIB", strerror(errno));
		return -1;
	}
	exe[n] = '\0';

	/* The build tree: gilwatch and the shim side by side in build/. */
	shimpath_dirname(exe);
	snprintf(beside, sizeof beside, "%s/%s", exe, SHIMPATH_NAME);
	if (shimpath_resolve(beside, buf, len) == 0)
		return 0;

	/* Installed: <prefix>/bin/gilwatch, <prefix>/lib/gilwatch/. */
	shimpath_dirname(exe);
	snprintf(installed, sizeof installed, "%s/%s/%s", exe,
	    SHIMPATH_LIBDIR, SHIMPATH_NAME);
	if (shimpath_resolve(installed, buf, len) == 0)
		return 0;

	cli_error("cannot find libgilwatch.so (looked in %s and %s); "
	    "set GILWATCH_LIB", beside, installed);
	return -1;
}
