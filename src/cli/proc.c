/* What /proc tells about another process: see the proc_* contracts. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "ipc.h"
#include "maps.h"
#include "procstat.h"

static FILE *
proc_open(pid_t pid, const char *file)
{
	char path[64];

	snprintf(path, sizeof path, "/proc/%d/%s", (int)pid, file);
	return fopen(path, "re");
}

int
proc_owner(pid_t pid, uid_t *uid, gid_t *gid)
{
	char path[64];
	struct stat st;

	snprintf(path, sizeof path, "/proc/%d", (int)pid);
	if (stat(path, &st) == -1)
		return -1;
	*uid = st.st_uid;
	*gid = st.st_gid;
	return 0;
}

/* A number from /proc/PID/status ("Tgid", "Threads"), or -1. */
static int
status_field(pid_t pid, const char *field)
{
	FILE *fp;
	char *line = NULL;
	size_t size = 0, len = strlen(field);
	int v = -1;

	if ((fp = proc_open(pid, "status")) == NULL)
		return -1;
	while (getline(&line, &size, fp) != -1)
		if (strncmp(line, field, len) == 0 && line[len] == ':') {
			v = atoi(line + len + 1);
			break;
		}
	free(line);
	fclose(fp);
	return v;
}

pid_t
proc_tgid(pid_t pid)
{
	return status_field(pid, "Tgid");
}

/* The minor of "python3.MINOR" or "libpython3.MINOR" in s, or -1. */
static int
python_minor(const char *s)
{
	const char *p;

	if ((p = strstr(s, "python3.")) == NULL)
		return -1;
	p += strlen("python3.");
	return *p >= '0' && *p <= '9' ? atoi(p) : -1;
}

int
proc_python_alone(pid_t pid)
{
	FILE *fp;
	char *line = NULL, path[64], exe[256];
	size_t size = 0;
	ssize_t n;
	int minor = -1;

	if (procstat_threads(pid) != 1)
		return 0;
	if ((fp = proc_open(pid, "maps")) != NULL) {
		while (minor == -1 && getline(&line, &size, fp) != -1)
			if (strstr(line, "libpython3.") != NULL)
				minor = python_minor(line);
		free(line);
		fclose(fp);
	}
	snprintf(path, sizeof path, "/proc/%d/exe", (int)pid);
	if (minor == -1 && (n = readlink(path, exe, sizeof exe - 1)) > 0) {
		exe[n] = '\0';
		minor = python_minor(exe);
	}
	return minor >= 12 ? minor : 0;
}

int
proc_maps_has(pid_t pid, const char *needle)
{
	char *text;
	int found;

	if ((text = maps_text(pid)) == NULL)
		return -1;
	found = strstr(text, needle) != NULL;
	free(text);
	return found;
}

int
proc_getenv(pid_t pid, const char *name, char *buf, size_t len)
{
	FILE *fp;
	char *var = NULL;
	size_t size = 0, namelen = strlen(name);
	int found = 0;

	if ((fp = proc_open(pid, "environ")) == NULL)
		return -1;
	while (getdelim(&var, &size, '\0', fp) != -1) {
		if (strncmp(var, name, namelen) != 0 || var[namelen] != '=')
			continue;
		if (strlen(var + namelen + 1) >= len) {
			errno = ENAMETOOLONG;
			found = -1;
		} else {
			strcpy(buf, var + namelen + 1);
			found = 1;
		}
		break;
	}
	free(var);
	fclose(fp);
	return found;
}

int
proc_target(pid_t pid, const char *verb, uid_t *uid, gid_t *gid)
{
	pid_t tgid;

	if (kill(pid, 0) == -1 && errno == ESRCH) {
		cli_error("no such process: %d", (int)pid);
		return -1;
	}
	if (proc_owner(pid, uid, gid) == -1) {
		if (errno == ENOENT)
			cli_error("no such process: %d", (int)pid);
		else
			cli_error("/proc/%d: %s", (int)pid, strerror(errno));
		return -1;
	}
	/* /proc/TID exists for threads too, but the shim is per process. */
	if ((tgid = proc_tgid(pid)) > 0 && tgid != pid) {
		cli_error("%d is a thread of process %d; %s %d instead",
		    (int)pid, (int)tgid, verb, (int)tgid);
		return -1;
	}
	if (*uid != geteuid() && geteuid() != 0) {
		cli_error("no permission: process %d belongs to another user "
		    "(uid %d); run gilwatch as that user or as root", (int)pid,
		    (int)*uid);
		return -1;
	}
	return 0;
}

int
proc_become(pid_t pid, uid_t uid, gid_t gid)
{
	char xdg[IPC_PATH_MAX];

	switch (proc_getenv(pid, "XDG_RUNTIME_DIR", xdg, sizeof xdg)) {
	case 1:
		setenv("XDG_RUNTIME_DIR", xdg, 1);
		break;
	case 0:
		unsetenv("XDG_RUNTIME_DIR");
		break;
	}
	if (geteuid() != 0 || uid == 0)
		return 0;
	if (setegid(gid) == -1 || seteuid(uid) == -1) {
		cli_error("cannot take the identity of process %d: %s",
		    (int)pid, strerror(errno));
		return -1;
	}
	return 0;
}

int
proc_why_silent(pid_t pid)
{
	int loaded = proc_maps_has(pid, "libgilwatch");

	if (loaded == -1 && errno == ENOENT)
		cli_error("no such process: %d", (int)pid);
	else if (loaded != 1)
		cli_error("process %d is not running under gilwatch; start it "
		    "with: gilwatch run -- CMD", (int)pid);
	else
		return 0;
	return 1;
}

/* Is CAP_SYS_PTRACE (bit 19) in our effective set? */
static int
have_cap_ptrace(void)
{
	FILE *fp;
	char line[256];
	unsigned long long caps = 0;

	if ((fp = fopen("/proc/self/status", "re")) == NULL)
		return 0;
	while (fgets(line, sizeof line, fp) != NULL)
		if (sscanf(line, "CapEff: %llx", &caps) == 1)
			break;
	fclose(fp);
	return (caps >> 19) & 1;
}

int
proc_may_read(pid_t pid)
{
	char path[64];
	struct stat st;
	uid_t owner = (uid_t)-1;
	int fd, scope = 0, err, real;
	ssize_t n;
	char c;
	FILE *fp;

	/*
	 * The kernel's ptrace check on this file comes at the read, not
	 * the open: a process gilwatch may not read opens and then refuses.
	 */
	snprintf(path, sizeof path, "/proc/%d/task/%d/syscall", (int)pid,
	    (int)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) != -1) {
		n = read(fd, &c, 1);
		err = errno;
		close(fd);
		if (n >= 0)
			return 0;
	} else
		err = errno;
	if (err == ENOENT || err == ESRCH) {
		cli_error("no such process: %d", (int)pid);
		return -1;
	}
	if (err != EACCES && err != EPERM) {
		cli_error("cannot read process %d: %s", (int)pid,
		    strerror(err));
		return -1;
	}
	if ((fp = fopen("/proc/sys/kernel/yama/ptrace_scope", "re")) != NULL) {
		if (fscanf(fp, "%d", &scope) != 1)
			scope = 0;
		fclose(fp);
	}
	/*
	 * The files in /proc/PID belong to root while the process is not
	 * dumpable; its status still says whose it is.
	 */
	real = status_field(pid, "Uid");
	snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
	if (stat(path, &st) == 0)
		owner = st.st_uid;
	if (real != -1 && real != (int)geteuid() && geteuid() != 0)
		cli_error("no permission to read process %d: it belongs to "
		    "uid %d (ptrace rule: same user only); run gilwatch as "
		    "that user or as root", (int)pid, real);
	else if (owner == 0 && real != 0)
		cli_error("no permission to read process %d: it is not "
		    "dumpable (prctl PR_SET_DUMPABLE 0, or it changed "
		    "identity); only root with CAP_SYS_PTRACE can read it",
		    (int)pid);
	else if (!have_cap_ptrace() && geteuid() == 0)
		cli_error("no permission to read process %d: gilwatch lacks "
		    "CAP_SYS_PTRACE (containers drop it: docker run "
		    "--cap-add=SYS_PTRACE)", (int)pid);
	else if (scope == 1)
		cli_error("no permission to read process %d: Yama's "
		    "ptrace_scope is 1 (only a parent may read its children); "
		    "run as root, or set /proc/sys/kernel/yama/ptrace_scope "
		    "to 0", (int)pid);
	else if (scope == 2)
		cli_error("no permission to read process %d: Yama's "
		    "ptrace_scope is 2 (CAP_SYS_PTRACE only); run as root",
		    (int)pid);
	else if (scope == 3)
		cli_error("no permission to read process %d: Yama's "
		    "ptrace_scope is 3 (no process may be read until reboot)",
		    (int)pid);
	else
		cli_error("no permission to read process %d: %s, though "
		    "gilwatch is its user, has CAP_SYS_PTRACE and Yama allows "
		    "it: a security module, or the process's own user namespace, "
		    "refuses; run gilwatch inside the process's container",
		    (int)pid, strerror(err));
	return -1;
}
