/*
 * quit_ignored: started with SIGQUIT ignored (a shell's background job),
 * as gilwatch must not change what it sees.  It prints the disposition
 * it inherited and what signal(SIGQUIT, SIG_IGN) returns, says ready and
 * waits for the hold pipe (the test sends SIGQUIT meanwhile, for a
 * dump), prints its disposition again, then starts itself as "child
 * LABEL" in every way a program starts another: fork and execv (the
 * shim comes along), fork and execve without LD_PRELOAD, posix_spawn
 * without it, system(), and last an exec of its own image without it
 * (same pid).  Each child prints what it sees: its sigaction view, and
 * the kernel's, from SigIgn and SigCgt in /proc/self/status.
 */
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sample.h"

extern char **environ;

static const char *
name(void (*h)(int))
{
	if (h == SIG_IGN)
		return "ign";
	if (h == SIG_DFL)
		return "dfl";
	return "handler";
}

static const char *
view(void)
{
	struct sigaction sa;

	if (sigaction(SIGQUIT, NULL, &sa) == -1)
		return "error";
	return name(sa.sa_handler);
}

/* The kernel's disposition of SIGQUIT, from /proc/self/status. */
static const char *
kernel(void)
{
	unsigned long long ign = 0, cgt = 0, bit = 1ull << (SIGQUIT - 1);
	char line[256];
	FILE *f = fopen("/proc/self/status", "r");

	if (f == NULL)
		return "error";
	while (fgets(line, sizeof line, f) != NULL) {
		sscanf(line, "SigIgn: %llx", &ign);
		sscanf(line, "SigCgt: %llx", &cgt);
	}
	fclose(f);
	if (ign & bit)
		return "ign";
	return cgt & bit ? "caught" : "dfl";
}

/* environ without LD_PRELOAD: a child the shim does not come to. */
static char **
bare_env(void)
{
	static char *env[512];
	size_t i, n = 0;

	for (i = 0; environ[i] != NULL && n < 511; i++)
		if (strncmp(environ[i], "LD_PRELOAD=", 11) != 0)
			env[n++] = environ[i];
	env[n] = NULL;
	return env;
}

static void
reap(pid_t pid)
{
	int status;

	if (pid > 0)
		waitpid(pid, &status, 0);
}

static void
fork_exec(char *argv0, char *label, int shim)
{
	char *argv[] = { argv0, "child", label, NULL };
	pid_t pid;

	fflush(stdout);
	if ((pid = fork()) == 0) {
		if (shim)
			execv("/proc/self/exe", argv);
		else
			execve("/proc/self/exe", argv, bare_env());
		_exit(127);
	}
	reap(pid);
}

int
main(int argc, char **argv)
{
	char *spawn_argv[] = { argv[0], "child", "spawn-bare", NULL };
	char self[4096], cmd[4200];
	void (*old)(int);
	ssize_t n;
	pid_t pid;

	if (argc == 3 && strcmp(argv[1], "child") == 0) {
		printf("child %s: view=%s kernel=%s\n", argv[2], view(),
		    kernel());
		return 0;
	}
	printf("parent inherited: %s\n", view());
	old = signal(SIGQUIT, SIG_IGN);
	printf("parent signal() returned: %s\n", name(old));
	fflush(stdout);
	sample_ready();
	sample_hold();
	printf("parent after: %s\n", view());

	fork_exec(argv[0], "fork-exec-shim", 1);
	fork_exec(argv[0], "fork-exec-bare", 0);
	fflush(stdout);
	if (posix_spawn(&pid, "/proc/self/exe", NULL, NULL, spawn_argv,
	    bare_env()) == 0)
		reap(pid);
	if ((n = readlink("/proc/self/exe", self, sizeof self - 1)) == -1)
		return 2;
	self[n] = '\0';
	snprintf(cmd, sizeof cmd, "exec '%s' child system", self);
	if (system(cmd) != 0)
		printf("system failed\n");
	fflush(stdout);
	execle("/proc/self/exe", argv[0], "child", "exec-self-bare",
	    (char *)NULL, bare_env());
	return 127;
}
