/* The files a process maps: see maps.h. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "maps.h"
#include "procstat.h"

int
maps_add(struct maps *m, uintptr_t start, uintptr_t end, uint64_t offset,
    const char *path)
{
	struct map *v;

	if ((m->n & (m->n + 1)) == 0 || m->v == NULL) {
		if ((v = realloc(m->v, (2 * m->n + 1) * sizeof *v)) == NULL)
			return -1;
		m->v = v;
	}
	memset(&m->v[m->n], 0, sizeof m->v[m->n]);
	if ((m->v[m->n].path = strdup(path)) == NULL)
		return -1;
	m->v[m->n].start = start;
	m->v[m->n].end = end;
	m->v[m->n].offset = offset;
	m->n++;
	return 0;
}

char *
maps_text(pid_t pid)
{
	char path[64], *buf = NULL, *nbuf;
	size_t len = 0, cap = 0;
	ssize_t n;
	int fd, err;

	snprintf(path, sizeof path, "/proc/%d/maps",
	    (int)procstat_live_task(pid));
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return NULL;
	for (;;) {
		if (cap - len < 16384) {
			cap = cap ? cap * 2 : 65536;
			if ((nbuf = realloc(buf, cap)) == NULL) {
				err = ENOMEM;
				goto fail;
			}
			buf = nbuf;
		}
		if ((n = read(fd, buf + len, cap - len - 1)) == -1) {
			if (errno == EINTR)
				continue;
			err = errno;
			goto fail;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	buf[len] = '\0';
	return buf;
fail:
	free(buf);
	close(fd);
	errno = err;
	return NULL;
}

int
maps_read_pid(pid_t pid, struct maps *m, char *why, size_t len)
{
	char file[64], exe[PATH_MAX], *text, *line, *next, *p;
	unsigned long start, end, off, ino;
	unsigned maj, min;
	ssize_t n;
	int pos, rv = 0;

	memset(m, 0, sizeof *m);
	m->pid = pid;
	m->live = 1;
	snprintf(file, sizeof file, "/proc/%d/exe",
	    (int)procstat_live_task(pid));
	if ((n = readlink(file, exe, sizeof exe - 1)) > 0) {
		exe[n] = '\0';
		m->exe = strdup(exe);
	}
	if ((text = maps_text(pid)) == NULL) {
		snprintf(why, len, "/proc/%d/maps: %s", (int)pid,
		    strerror(errno));
		maps_free(m);
		return -1;
	}
	for (line = text; rv == 0 && *line != '\0'; line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		else
			next = line + strlen(line);
		/*
		 * Only a file's mapping names a path, the only '/' of its
		 * line: the thread stacks and heaps of a process with many
		 * threads, most of its lines, are passed over unparsed.
		 */
		if (strchr(line, '/') == NULL) {
			if ((p = strstr(line, "[vdso]")) != NULL &&
			    p[6] == '\0' && sscanf(line, "%lx-%lx", &start,
			    &end) == 2) {
				m->vdso_start = start;
				m->vdso_end = end;
			}
			continue;
		}
		pos = 0;
		if (sscanf(line, "%lx-%lx %*s %lx %x:%x %lu %n", &start, &end,
		    &off, &maj, &min, &ino, &pos) < 6 || pos == 0 ||
		    line[pos] != '/')
			continue;
		p = line + pos;
		if ((rv = maps_add(m, start, end, off, p)) == 0) {
			m->v[m->n - 1].dev_major = maj;
			m->v[m->n - 1].dev_minor = min;
			m->v[m->n - 1].ino = ino;
		}
	}
	free(text);
	if (rv != 0) {
		snprintf(why, len, "out of memory");
		maps_free(m);
	}
	return rv;
}

int
maps_has(const struct maps *m, const char *needle)
{
	size_t i;

	for (i = 0; i < m->n; i++)
		if (strstr(m->v[i].path, needle) != NULL)
			return 1;
	return 0;
}

void
maps_free(struct maps *m)
{
	size_t i;

	for (i = 0; i < m->n; i++)
		free(m->v[i].path);
	free(m->v);
	free(m->exe);
	memset(m, 0, sizeof *m);
}

int
maps_open(const struct maps *m, const char *path)
{
	char root[PATH_MAX + 32];
	int fd = -1;

	if (m->live) {
		snprintf(root, sizeof root, "/proc/%d/root%s", (int)m->pid,
		    path);
		fd = open(root, O_RDONLY | O_CLOEXEC);
	}
	if (fd == -1)
		fd = open(path, O_RDONLY | O_CLOEXEC);
	return fd;
}

const char *
maps_base(const char *path)
{
	const char *base = strrchr(path, '/');

	return base != NULL ? base + 1 : path;
}
