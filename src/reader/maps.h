/*
 * The files a process maps, wherever they are read from: a live
 * process's /proc/PID/maps, or a core file's NT_FILE note (outside.c
 * fills one from core.h).  The readers that look for an ELF image in a
 * process (py_attach for CPython, glibc_check for libc) take them from
 * here, so that they read a core as they read a live process.
 */
#ifndef GW_MAPS_H
#define GW_MAPS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* One file mapping. */
struct map {
	uintptr_t	 start, end;
	uint64_t	 offset;	/* file offset of start, bytes */
	char		*path;
	unsigned	 dev_major, dev_minor;	/* 0 when not known (a core) */
	unsigned long	 ino;
};

struct maps {
	pid_t		 pid;		/* the process, for messages */
	int		 live;		/* files opened through /proc/PID/root */
	char		*exe;		/* the executable's path, or NULL */
	struct map	*v;		/* in address order */
	size_t		 n;
	uintptr_t	 vdso_start, vdso_end;	/* its "[vdso]", or 0 */
};

/*
 * Read the file mappings and executable of live process pid: 0, or -1
 * with why set.
 */
int	maps_read_pid(pid_t pid, struct maps *m, char *why, size_t len);

/*
 * The text of /proc/PID/maps, NUL-terminated and malloc'd, read in
 * large pieces (stdio reads it a kilobyte at a time, some 150 system
 * calls for a process of a thousand threads): NULL with errno.  Read
 * through a thread that runs (procstat_live_task) when the main thread
 * has ended, as maps_read_pid does.
 */
char	*maps_text(pid_t pid);

/* Does a mapped file's path contain needle? */
int	maps_has(const struct maps *m, const char *needle);

/* Add a mapping (in address order): 0, or -1 when out of memory. */
int	maps_add(struct maps *m, uintptr_t start, uintptr_t end,
	    uint64_t offset, const char *path);

void	maps_free(struct maps *m);

/*
 * Open a mapped file for reading: a live process's own view of it first
 * (/proc/PID/root/path, for a process in a container), then path as
 * named.  A descriptor, or -1.
 */
int	maps_open(const struct maps *m, const char *path);

/* The last component of a path. */
const char	*maps_base(const char *path);

#endif /* GW_MAPS_H */
