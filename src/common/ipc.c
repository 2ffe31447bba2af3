/* Rendezvous between the CLI and the shim: see ipc.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "ipc.h"

static int
dir_is_private(const char *path)
{
	struct stat st;

	if (lstat(path, &st) == -1)
		return -1;
	if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid() ||
	    (st.st_mode & 077) != 0) {
		errno = EPERM;
		return -1;
	}
	return 0;
}

int
ipc_dir(int which, int create, char *buf, size_t len)
{
	const char *xdg;
	int n;

	if (which == 0) {
		xdg = getenv("XDG_RUNTIME_DIR");
		if (xdg == NULL || xdg[0] != '/') {
			errno = ENOENT;
			return -1;
		}
		n = snprintf(buf, len, "%s/gilwatch", xdg);
	} else
		n = snprintf(buf, len, "/tmp/gilwatch-%u", (unsigned)geteuid());
	if (n < 0 || (size_t)n >= len) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if (create && mkdir(buf, 0700) == -1 && errno != EEXIST)
		return -1;
	return dir_is_private(buf);
}

int
ipc_path(int which, pid_t pid, const char *suffix, char *buf, size_t len)
{
	char dir[IPC_PATH_MAX];
	int n;

	if (ipc_dir(which, 0, dir, sizeof dir) == -1)
		return -1;
	n = snprintf(buf, len, "%s/%d%s", dir, (int)pid, suffix);
	if (n < 0 || (size_t)n >= len) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

int
ipc_sock_path(int which, pid_t pid, char *buf, size_t len)
{
	return ipc_path(which, pid, ".sock", buf, len);
}

/* Fill sa for path; -1 with ENAMETOOLONG when it does not fit. */
static int
sock_addr(struct sockaddr_un *sa, const char *path)
{
	size_t n = strlen(path);

	memset(sa, 0, sizeof *sa);
	sa->sun_family = AF_UNIX;
	if (n >= sizeof sa->sun_path) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(sa->sun_path, path, n);
	return 0;
}

static int
connect_path(const char *path)
{
	struct sockaddr_un sa;
	int fd;

	if (sock_addr(&sa, path) == -1)
		return -1;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -1;
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa) == -1) {
		int saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

int
ipc_connect(pid_t pid)
{
	char path[IPC_PATH_MAX];
	int which, fd, err = ENOENT;

	for (which = 0; which < 2; which++) {
		if (ipc_sock_path(which, pid, path, sizeof path) == -1) {
			if (errno != ENOENT)
				err = errno;
			continue;
		}
		fd = connect_path(path);
		if (fd != -1)
			return fd;
		if (errno != ENOENT)
			err = errno;
	}
	errno = err;
	return -1;
}

int
ipc_listen(pid_t pid, char *path, size_t len)
{
	struct sockaddr_un sa;
	int which, fd;

	for (which = 0; which < 2; which++) {
		char dir[IPC_PATH_MAX];

		if (ipc_dir(which, 1, dir, sizeof dir) == -1)
			continue;
		if (ipc_sock_path(which, pid, path, len) == -1)
			continue;
		if (sock_addr(&sa, path) == -1)
			continue;
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd == -1)
			return -1;
		unlink(path);	/* a stale socket of a dead process with our pid */
		if (bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0 &&
		    listen(fd, 8) == 0)
			return fd;
		close(fd);
	}
	return -1;
}
