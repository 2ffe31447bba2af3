/*
 * exec, spawn, system and popen: a signal the shim holds while the
 * program believes it ignored (an inherited SIGQUIT) must reach the new
 * program ignored, as it would without the shim, not reset to the
 * default as a caught signal is.  See sigown_exec_begin.  execl, execle
 * and execlp are built on the others, as libc builds them, because
 * libc's own calls between them do not come back through these hooks.
 */
#include <stdarg.h>
#include <stddef.h>
#include <unistd.h>

#include "hook.h"
#include "sigown.h"

extern char **environ;

/*
 * call, with the ignored signals ignored in the kernel while it runs;
 * errno as the call left it.
 */
#define AROUND(type, call) __extension__ ({				\
	unsigned changed_ = sigown_exec_begin();			\
	type rv_ = (call);						\
	int errno_ = errno;						\
	sigown_exec_end(changed_);					\
	errno = errno_;							\
	rv_;								\
})

/* Every hook here fails as the call would without its function. */
#define READY_OR(fail)	do {						\
	if (!hook_ready()) {						\
		errno = ENOSYS;						\
		return fail;						\
	}								\
} while (0)

GW_EXPORT int
execve(const char *path, char *const argv[], char *const envp[])
{
	READY_OR(-1);
	return AROUND(int, real.execve(path, argv, envp));
}

GW_EXPORT int
execv(const char *path, char *const argv[])
{
	READY_OR(-1);
	return AROUND(int, real.execv(path, argv));
}

GW_EXPORT int
execvp(const char *file, char *const argv[])
{
	READY_OR(-1);
	return AROUND(int, real.execvp(file, argv));
}

GW_EXPORT int
execvpe(const char *file, char *const argv[], char *const envp[])
{
	READY_OR(-1);
	return AROUND(int, real.execvpe(file, argv, envp));
}

GW_EXPORT int
fexecve(int fd, char *const argv[], char *const envp[])
{
	READY_OR(-1);
	return AROUND(int, real.fexecve(fd, argv, envp));
}

GW_EXPORT int
execveat(int dirfd, const char *path, char *const argv[],
    char *const envp[], int flags)
{
	READY_OR(-1);
	return AROUND(int, real.execveat(dirfd, path, argv, envp, flags));
}

GW_EXPORT int
posix_spawn(pid_t *pid, const char *path,
    const posix_spawn_file_actions_t *fa, const posix_spawnattr_t *attr,
    char *const argv[], char *const envp[])
{
	if (!hook_ready())
		return ENOSYS;
	return AROUND(int, real.posix_spawn(pid, path, fa, attr, argv, envp));
}

GW_EXPORT int
posix_spawnp(pid_t *pid, const char *file,
    const posix_spawn_file_actions_t *fa, const posix_spawnattr_t *attr,
    char *const argv[], char *const envp[])
{
	if (!hook_ready())
		return ENOSYS;
	return AROUND(int, real.posix_spawnp(pid, file, fa, attr, argv,
	    envp));
}

/* libc's system ignores SIGQUIT in the caller while it waits anyway. */
GW_EXPORT int
system(const char *command)
{
	READY_OR(-1);
	return AROUND(int, real.system(command));
}

GW_EXPORT FILE *
popen(const char *command, const char *mode)
{
	READY_OR(NULL);
	return AROUND(FILE *, real.popen(command, mode));
}

/* How an execl-style call ends: as execve with environ or its own
 * envp (after the list's NULL), or as execvp. */
enum list_exec { LIST_ENVIRON, LIST_ENVP, LIST_SEARCH };

/* The execl-style list after arg0, up to its NULL: how many, with arg0. */
static size_t
count_args(va_list ap)
{
	va_list c;
	size_t n = 1;

	va_copy(c, ap);
	while (va_arg(c, char *) != NULL)
		n++;
	va_end(c);
	return n;
}

/* The list as an argv, on the stack as libc's execl puts it. */
static int
exec_list(enum list_exec how, const char *file, const char *arg0,
    va_list ap)
{
	size_t n = count_args(ap), i;
	char *argv[n + 1];
	char *const *envp = environ;

	argv[0] = (char *)arg0;
	for (i = 1; i < n; i++)
		argv[i] = va_arg(ap, char *);
	argv[n] = NULL;
	(void)va_arg(ap, char *);	/* the NULL */
	if (how == LIST_ENVP)
		envp = va_arg(ap, char *const *);
	if (how == LIST_SEARCH)
		return execvp(file, argv);
	return execve(file, argv, envp);
}

GW_EXPORT int
execl(const char *path, const char *arg, ...)
{
	va_list ap;
	int rv;

	va_start(ap, arg);
	rv = exec_list(LIST_ENVIRON, path, arg, ap);
	va_end(ap);
	return rv;
}

GW_EXPORT int
execle(const char *path, const char *arg, ...)
{
	va_list ap;
	int rv;

	va_start(ap, arg);
	rv = exec_list(LIST_ENVP, path, arg, ap);
	va_end(ap);
	return rv;
}

GW_EXPORT int
execlp(const char *file, const char *arg, ...)
{
	va_list ap;
	int rv;

	va_start(ap, arg);
	rv = exec_list(LIST_SEARCH, file, arg, ap);
	va_end(ap);
	return rv;
}
