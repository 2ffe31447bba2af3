/* What /proc tells about another process: see the proc_* contracts. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"

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

pid_t
proc_tgid(pid_t pid)
{
	FILE *fp;
	char *line = NULL;
	size_t size = 0;
	int tgid = -1;

	if ((fp = proc_open(pid, "status")) == NULL)
		return -1;
	while (getline(&line, &size, fp) != -1) {
		if (sscanf(line, "Tgid: %d", &tgid) == 1)
			break;
	}
	free(line);
	fclose(fp);
	return tgid;
}

int
proc_maps_has(pid_t pid, const char *needle)
{
	FILE *fp;
	char *line = NULL;
	size_t size = 0;
	int found = 0;

	if ((fp = proc_open(pid, "maps")) == NULL)
		return -1;
	while (!found && getline(&line, &size, fp) != -1)
		found = strstr(line, needle) != NULL;
	free(line);
	fclose(fp);
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
