/*
 * pyattach PID [REPEAT]: what the CPython readers find in another
 * process, read from outside with nothing stopped (py_attach), as one
 * JSON document on stdout, for tests/integration/test_pyattach.py.
 *
 * Every thread state: its TID, pthread_t, threading name, Python frames
 * (innermost first), the locks its `with` blocks hold, and, when the
 * thread is blocked in a futex wait (/proc/PID/task/TID/syscall), the
 * GIL or the Lock/RLock it waits for and that lock's holder, and the
 * wait py_thread_wait recognises (Condition, join).  With REPEAT, the
 * whole read is done that many times and "read_us" is the best time of
 * one read (for 1000-thread figures).  Exit 1 with {"error": ...} when
 * the process cannot be read.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "py.h"

#define FRAMES	64
#define HELD	16

struct thr {
	struct py_thread t;
	char		 name[PY_NAME_MAX];
	struct py_frame	 frames[FRAMES];
	int		 nframes;
	struct py_lock	 held[HELD];
	int		 nheld;
	uintptr_t	 futex;		/* 0: not in a futex wait */
	int		 gil_wait;
	struct py_lock	 waits;
	int		 waits_found;
	struct py_wait	 pw;
	int		 pw_found;
};

static struct thr *thr;
static int nthr, cap;
static pid_t pid;

static int
collect(const struct py_thread *t, void *arg)
{
	(void)arg;
	if (nthr == cap) {
		cap = cap ? cap * 2 : 64;
		if ((thr = realloc(thr, (size_t)cap * sizeof(*thr))) == NULL)
			exit(2);
	}
	memset(&thr[nthr], 0, sizeof(thr[nthr]));
	thr[nthr++].t = *t;
	return 0;
}

/* The futex word a thread waits on, from /proc: 0 when it is not in a
 * futex wait (syscall 202, op WAIT or WAIT_BITSET). */
static uintptr_t
futex_of(pid_t tid)
{
	char path[64];
	unsigned long nr, addr, op;
	FILE *f;
	int n;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/syscall", (int)pid,
	    (int)tid);
	if ((f = fopen(path, "re")) == NULL)
		return 0;
	n = fscanf(f, "%lu %lx %lx", &nr, &addr, &op);
	fclose(f);
	if (n != 3 || nr != 202 || ((op & 0x7f) != 0 && (op & 0x7f) != 9))
		return 0;
	return addr;
}

static void
json_str(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			printf("\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			printf("\\u%04x", *s);
		else
			putchar(*s);
	}
	putchar('"');
}

static const char *
kind_name(enum py_lock_kind k)
{
	return k == PY_LOCK_RLOCK ? "RLock" : k == PY_LOCK_LOCK ? "Lock" :
	    "none";
}

static pid_t
tid_of(unsigned long thread_id)
{
	for (int i = 0; i < nthr; i++)
		if (thr[i].t.thread_id == thread_id)
			return thr[i].t.tid;
	return 0;
}

static long
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000L + ts.tv_nsec / 1000;
}

/* One whole read: threads, frames, names, locks, waits. */
static int
read_all(const struct py_runtime *rt, struct py_gil_state *gil)
{
	nthr = 0;
	if (py_gil_read(rt, gil) == -1 || py_thread_list(rt, collect,
	    NULL) == -1)
		return -1;
	for (int i = 0; i < nthr; i++) {
		struct thr *x = &thr[i];

		x->nframes = py_tstate_frames(rt, x->t.tstate, x->frames,
		    FRAMES);
		py_tstate_name(rt, x->t.tstate, x->t.thread_id, 0, x->name,
		    sizeof(x->name));
		x->nheld = py_tstate_held(rt, x->t.tstate, x->held, HELD);
		if (x->t.tid != 0)
			x->futex = futex_of(x->t.tid);
		if (x->futex != 0) {
			x->gil_wait = py_gil_waits(rt, x->futex);
			x->waits_found = !x->gil_wait && py_tstate_waits(rt,
			    x->t.tstate, x->futex, &x->waits) == 0;
		}
		if (x->nframes > 0)
			x->pw_found = py_thread_wait(rt, x->t.thread_id,
			    x->frames, x->nframes, &x->pw) == 0;
	}
	return 0;
}

static void
print_lock(const struct py_lock *l)
{
	printf("{\"lock\": \"0x%" PRIxPTR "\", \"kind\": \"%s\", "
	    "\"locked\": %d", l->object, kind_name(l->kind), l->locked);
}

static void
print_thread(const struct thr *x, struct py_holds *holds)
{
	printf("  {\"tid\": %d, \"thread_id\": %lu, \"name\": ", (int)x->t.tid,
	    x->t.thread_id);
	json_str(x->name);
	printf(",\n   \"frames\": [");
	for (int j = 0; j < x->nframes; j++) {
		printf("%s{\"function\": ", j ? ", " : "");
		json_str(py_frame_name(&x->frames[j]));
		printf(", \"file\": ");
		json_str(x->frames[j].file);
		printf(", \"line\": %d, \"flags\": %d}", x->frames[j].line,
		    x->frames[j].flags);
	}
	printf("],\n   \"held\": [");
	for (int j = 0; j < x->nheld; j++) {
		printf("%s", j ? ", " : "");
		print_lock(&x->held[j]);
		printf(", \"frame\": %d, \"inferred\": %s}", x->held[j].frame,
		    x->held[j].kind == PY_LOCK_LOCK ? "true" : "false");
	}
	printf("],\n   \"futex\": ");
	if (x->futex)
		printf("\"0x%" PRIxPTR "\"", x->futex);
	else
		printf("null");
	printf(", \"gil_wait\": %s, \"waits\": ", x->gil_wait ? "true" :
	    "false");
	if (x->waits_found) {
		int inferred;
		unsigned long h = py_lock_holder(&x->waits, holds, nthr,
		    &inferred);

		print_lock(&x->waits);
		printf(", \"holder_tid\": %d, \"holder_inferred\": %s}",
		    h ? (int)tid_of(h) : 0, inferred ? "true" : "false");
	} else
		printf("null");
	printf(",\n   \"py_wait\": ");
	if (x->pw_found) {
		printf("{\"kind\": \"%s\", \"type\": ", x->pw.kind ==
		    PY_WAIT_JOIN ? "join" : "notify");
		json_str(x->pw.type);
		printf(", \"via_type\": ");
		json_str(x->pw.via_type);
		printf(", \"via_attr\": ");
		json_str(x->pw.via_attr);
		printf(", \"joined_tid\": %d}", x->pw.joined ?
		    (int)tid_of(x->pw.joined) : 0);
	} else
		printf("null");
	printf("}");
}

int
main(int argc, char **argv)
{
	struct py_runtime rt;
	struct py_gil_state gil;
	struct py_holds *holds;
	char why[256];
	long best = -1, t0, attach_us;
	int repeat;

	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: pyattach PID [REPEAT]\n");
		return 2;
	}
	pid = (pid_t)atoi(argv[1]);
	repeat = argc == 3 ? atoi(argv[2]) : 1;
	/* Tests: as if the table had no entry for this minor. */
	if (getenv("PYATTACH_FORGET") != NULL)
		py_detect_forget(atoi(getenv("PYATTACH_FORGET")));
	t0 = now_us();
	if (py_attach(pid, &rt, why, sizeof(why)) == -1) {
		printf("{\"error\": ");
		json_str(why);
		printf("}\n");
		return 1;
	}
	attach_us = now_us() - t0;
	for (int r = 0; r < (repeat > 0 ? repeat : 1); r++) {
		t0 = now_us();
		if (read_all(&rt, &gil) == -1) {
			printf("{\"error\": \"the interpreter's lists are "
			    "unreadable\"}\n");
			return 1;
		}
		t0 = now_us() - t0;
		if (best == -1 || t0 < best)
			best = t0;
	}
	if ((holds = calloc((size_t)nthr + 1, sizeof(*holds))) == NULL)
		return 2;
	for (int i = 0; i < nthr; i++) {
		holds[i].thread_id = thr[i].t.thread_id;
		holds[i].locks = thr[i].held;
		holds[i].n = thr[i].nheld > 0 ? thr[i].nheld : 0;
	}
	printf("{\"partial\": ");
	json_str(rt.partial);
	printf(", \"pid\": %d, \"version\": \"%d.%d.%d\", \"attach_us\": %ld, "
	    "\"read_us\": %ld,\n \"gil\": {\"locked\": %d, \"holder_tid\": %d, "
	    "\"holder_thread_id\": %lu},\n \"threads\": [\n", (int)pid,
	    rt.major, rt.minor, rt.micro, attach_us, best, gil.locked,
	    (int)gil.holder_tid, gil.holder_thread_id);
	for (int i = 0; i < nthr; i++) {
		print_thread(&thr[i], holds);
		printf("%s\n", i + 1 < nthr ? "," : "");
	}
	printf(" ]}\n");
	free(holds);
	free(thr);
	return 0;
}
