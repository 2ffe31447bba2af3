/*
 * coreprobe: a core file read through the readers alone (core.h, and
 * mem.h's core source), printed as one JSON document for
 * tests/integration/test_core.py.
 *
 * Usage: coreprobe CORE [EXE] [ADDR:LEN ...]
 *
 *	{"pid": P, "command": "...", "exe": "...", "signal": S,
 *	 "threads": [{"tid": T, "ip": "0x..", "sp": "0x..", "rax": N,
 *	              "syscall": NR or null, "args": ["0x..", ...],
 *	              "frames": [{"ip": "0x..", "function": "...",
 *	                          "file": "...", "line": N}],
 *	              "stack_error": "..." or null}],
 *	 "files": [{"start": "0x..", "end": "0x..", "offset": N,
 *	            "path": "..."}],
 *	 "reads": [{"addr": "0x..", "hex": "..." or null}]}
 *
 * Each ADDR:LEN (hexadecimal address, decimal length) is read with
 * mem_read.  An unreadable core: one line on stderr, exit 1.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"
#include "mem.h"

#define FRAMES_MAX	64
#define READ_MAX	4096

static void
json_str(const char *s)
{
	putchar('"');
	for (; *s != '\0'; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\')
			printf("\\%c", ch);
		else if (ch < 0x20 || ch >= 0x7f)
			printf("\\u%04x", ch);
		else
			putchar(ch);
	}
	putchar('"');
}

static void
frames(struct core *c, pid_t tid)
{
	uintptr_t ip[FRAMES_MAX];
	char why[CORE_WHY_MAX];
	int n;

	if ((n = core_stack(c, tid, ip, FRAMES_MAX, why, sizeof(why))) < 0) {
		printf(", \"frames\": [], \"stack_error\": ");
		json_str(why);
		return;
	}
	printf(", \"frames\": [");
	for (int i = 0; i < n; i++) {
		struct symbol sym;

		(void)core_symbolize(c, ip[i], i > 0, &sym);
		printf("%s{\"ip\": \"%#lx\", \"function\": ", i ? ", " : "",
		    (unsigned long)ip[i]);
		json_str(sym.function);
		printf(", \"file\": ");
		json_str(sym.file);
		printf(", \"line\": %d}", sym.line);
	}
	printf("], \"stack_error\": null");
}

static void
thread(struct core *c, const struct core_thread *t)
{
	printf("{\"tid\": %d, \"ip\": \"%#lx\", \"sp\": \"%#lx\", "
	    "\"rax\": %lld, \"syscall\": ", (int)t->tid,
	    (unsigned long)t->ip, (unsigned long)t->sp, (long long)t->ret);
	if (t->syscall < 0)
		printf("null, \"args\": []");
	else {
		printf("%ld, \"args\": [", t->syscall);
		for (int i = 0; i < 6; i++)
			printf("%s\"%#llx\"", i ? ", " : "",
			    (unsigned long long)t->args[i]);
		printf("]");
	}
	frames(c, t->tid);
	printf("}");
}

static void
read_one(const char *spec)
{
	unsigned char buf[READ_MAX];
	unsigned long addr;
	size_t len;
	char *end;

	addr = strtoul(spec, &end, 16);
	len = *end == ':' ? strtoul(end + 1, &end, 10) : 0;
	if (*end != '\0' || len == 0 || len > READ_MAX) {
		fprintf(stderr, "coreprobe: bad read %s (ADDR:LEN, LEN at "
		    "most %d)\n", spec, READ_MAX);
		exit(2);
	}
	printf("{\"addr\": \"%#lx\", \"hex\": ", addr);
	if (mem_read(addr, buf, len) != 0) {
		printf("null}");
		return;
	}
	putchar('"');
	for (size_t i = 0; i < len; i++)
		printf("%02x", buf[i]);
	printf("\"}");
}

int
main(int argc, char **argv)
{
	char why[CORE_WHY_MAX];
	const char *exe = NULL;
	struct core *c;
	int i = 2;

	if (argc < 2) {
		fprintf(stderr, "usage: coreprobe CORE [EXE] [ADDR:LEN ...]\n");
		return 2;
	}
	if (argc > 2 && strchr(argv[2], ':') == NULL)
		exe = argv[i++];
	if ((c = core_open(argv[1], exe, why, sizeof(why))) == NULL) {
		fprintf(stderr, "coreprobe: %s\n", why);
		return 1;
	}
	mem_source_core(c);
	printf("{\"pid\": %d, \"command\": ", (int)mem_source_target());
	json_str(core_command(c));
	printf(", \"exe\": ");
	json_str(core_exe(c) != NULL ? core_exe(c) : "");
	printf(", \"signal\": %d, \"threads\": [", core_signal(c));
	for (int t = 0; t < core_nthreads(c); t++) {
		printf("%s", t ? ", " : "");
		thread(c, core_thread(c, t));
	}
	printf("], \"files\": [");
	for (int f = 0; f < core_nfiles(c); f++) {
		const struct core_file *cf = core_file(c, f);

		printf("%s{\"start\": \"%#lx\", \"end\": \"%#lx\", "
		    "\"offset\": %llu, \"path\": ", f ? ", " : "",
		    (unsigned long)cf->start, (unsigned long)cf->end,
		    (unsigned long long)cf->offset);
		json_str(cf->path);
		printf("}");
	}
	printf("], \"reads\": [");
	for (int first = 1; i < argc; i++, first = 0) {
		printf("%s", first ? "" : ", ");
		read_one(argv[i]);
	}
	printf("]}\n");
	mem_source_self();
	core_close(c);
	return 0;
}
