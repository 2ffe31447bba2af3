/*
 * The channel between `gilwatch dump PID` and the shim inside PID.
 *
 * The shim listens on a Unix stream socket named <dir>/<pid>.sock, where
 * <dir> is "$XDG_RUNTIME_DIR/gilwatch" when XDG_RUNTIME_DIR names a
 * directory, else "/tmp/gilwatch-<uid>".  The directory is created with
 * mode 0700 and refused unless it belongs to the user and is private.
 * The shim answers only peers with its own uid (or root).
 *
 * Protocol: the client sends one request line, the shim writes the answer
 * and closes.  Requests: "dump text\n", "dump json\n".  An answer that
 * starts with "error: " is a one-line error.
 */
#ifndef GW_IPC_H
#define GW_IPC_H

#include <stddef.h>
#include <sys/types.h>

#define IPC_PATH_MAX	108	/* sizeof(sun_path) */

/*
 * Write into buf the directory for the given runtime-dir choice: which 0
 * is XDG_RUNTIME_DIR (fails with ENOENT when unset), 1 is /tmp.  With
 * create, make it (0700) if missing.  Checks ownership and mode either
 * way: -1 with errno EPERM when the directory is not private to us.
 */
int	ipc_dir(int which, int create, char *buf, size_t len);

/* pid's file with suffix (".sock", ".shm") under directory `which`. */
int	ipc_path(int which, pid_t pid, const char *suffix, char *buf,
	    size_t len);

/* The socket path of pid under directory choice `which`. */
int	ipc_sock_path(int which, pid_t pid, char *buf, size_t len);

/*
 * Client side: connect to pid's socket, trying each directory choice.
 * Returns a connected fd, or -1 with errno (ENOENT: no socket anywhere).
 */
int	ipc_connect(pid_t pid);

/* Server side: bind and listen on our socket; fills path. -1 on error. */
int	ipc_listen(pid_t pid, char *path, size_t len);

#endif /* GW_IPC_H */
