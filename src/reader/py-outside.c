/*
 * The CPython part of reading a process from outside (outside.h).
 *
 * Not there yet: finding the interpreter of another process (py_attach)
 * comes with the CPython readers' outside support.  Until then a Python
 * process gets its native view only, and the header says so.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "outside.h"

/* Does pid run CPython (a libpython, or an executable named python)? */
static int
looks_python(pid_t pid)
{
	char path[64], exe[512], line[1024];
	const char *base;
	ssize_t n;
	FILE *fp;
	int found = 0;

	snprintf(path, sizeof path, "/proc/%d/exe", (int)pid);
	if ((n = readlink(path, exe, sizeof exe - 1)) > 0) {
		exe[n] = '\0';
		base = strrchr(exe, '/');
		if (strncmp(base != NULL ? base + 1 : exe, "python", 6) == 0)
			return 1;
	}
	snprintf(path, sizeof path, "/proc/%d/maps", (int)pid);
	if ((fp = fopen(path, "re")) == NULL)
		return 0;
	while (!found && fgets(line, sizeof line, fp) != NULL)
		found = strstr(line, "/libpython3") != NULL;
	fclose(fp);
	return found;
}

int
py_outside_fill(struct outside *o)
{
	if (looks_python(o->pid))
		snprintf(o->py_note, sizeof o->py_note, "CPython: its GIL, "
		    "thread names and Python frames are not read from outside "
		    "yet (native view only).");
	return 0;
}
