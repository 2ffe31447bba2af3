/*
 * Unit tests for src/reader/cfirows.c: a thread asleep in a system
 * call, stepped through the rows kept from its stack pointer and
 * program counter, gives libdw's frames (unwind.c with GW_UNWIND_LIBDW,
 * from the same two registers), on a child process whose threads wait
 * in a condition wait, a sleep, a pipe read, and a read under a
 * recursion deeper than the frames kept (truncated).  Every one of
 * them is answered by the rows, not handed to libdw.  And unwind.c's
 * modules, reported from the maps read already, are libdw's.
 */
#include <criterion/criterion.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include "cfirows.h"
#include "maps.h"
#include "mem.h"
#include "symname.h"
#include "task.h"
#include "unwind.h"

#define DEEP	(UNWIND_MAX_FRAMES + 10)

static int hold[2];		/* the child's threads read it */
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;

static void *
in_cond(void *arg)
{
	pthread_mutex_lock(&mu);
	for (;;)
		pthread_cond_wait(&cv, &mu);
	return NULL;
}

static void *
in_sleep(void *arg)
{
	struct timespec ts = { 1000, 0 };

	for (;;)
		nanosleep(&ts, NULL);
	return NULL;
}

static void *
in_read(void *arg)
{
	char c;

	while (read(hold[0], &c, 1) != 0)
		;
	return NULL;
}

/* Not a tail call: each level stays on the stack. */
static int __attribute__((noinline))
deep(int n)
{
	volatile int r;

	r = n == 0 ? (int)(intptr_t)in_read(NULL) : deep(n - 1) + 1;
	return r;
}

static void *
in_deep(void *arg)
{
	return (void *)(intptr_t)deep(DEEP);
}

/*
 * The child: its threads, then "r" on ready, then reads until the test
 * ends.
 */
static void
child(int ready)
{
	void *(*fns[])(void *) = { in_cond, in_sleep, in_read, in_deep,
	    in_cond, in_read };
	pthread_t th;
	size_t i;

	/* Gone with the test, whether it passes or not. */
	close(hold[1]);
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() == 1)
		_exit(1);
	for (i = 0; i < sizeof fns / sizeof fns[0]; i++)
		if (pthread_create(&th, NULL, fns[i], NULL) != 0)
			_exit(1);
	if (write(ready, "r", 1) != 1)
		_exit(1);
	in_read(NULL);
	_exit(0);
}

/* Every thread of pid asleep in a call (bounded wait): their count. */
static int
asleep(pid_t pid, struct task **tasks)
{
	int n, i, k, tries;

	for (tries = 0; tries < 500; tries++) {
		cr_assert_geq(n = task_list_runs(pid, tasks), 0);
		for (i = k = 0; i < n; i++)
			k += (*tasks)[i].syscall >= 0 && (*tasks)[i].runs != 0;
		if (n == 7 && k == n)
			return n;
		free(*tasks);
		usleep(10000);		/* polling /proc, not synchronising */
	}
	cr_assert_fail("the child's threads did not all go to sleep");
	return 0;
}

static int
read_word(uintptr_t addr, uint64_t *val, void *arg)
{
	return mem_read(addr, val, sizeof *val);
}

Test(cfirows, libdw_frames)
{
	struct unwind_stack slow;
	struct task *tasks;
	struct cfirows *rows;
	struct unwind *u;
	uintptr_t ip[UNWIND_MAX_FRAMES];
	char why[256];
	Dwfl *dw;
	pid_t pid;
	int ready[2], n, i, depth, truncated, deepest = 0;
	char c;

	cr_assert_eq(pipe(hold), 0);
	cr_assert_eq(pipe(ready), 0);
	if ((pid = fork()) == 0)
		child(ready[1]);
	cr_assert_gt(pid, 0);
	cr_assert_eq(read(ready[0], &c, 1), 1);
	n = asleep(pid, &tasks);
	mem_source_pid(pid);

	setenv("GW_UNWIND_LIBDW", "1", 1);
	cr_assert_not_null(u = unwind_open(pid, NULL, why, sizeof why), "%s",
	    why);
	unsetenv("GW_UNWIND_LIBDW");
	cr_assert_not_null(dw = dwfl_begin(&symname_callbacks));
	dwfl_report_begin(dw);
	cr_assert_eq(dwfl_linux_proc_report(dw, pid), 0);
	cr_assert_eq(dwfl_report_end(dw, NULL, NULL), 0);
	cr_assert_not_null(rows = cfirows_new(dw));

	for (i = 0; i < n; i++) {
		/* Twice: the rows worked out, then the rows kept. */
		depth = cfirows_unwind(rows, tasks[i].sp, tasks[i].pc,
		    read_word, NULL, ip, UNWIND_MAX_FRAMES, &truncated);
		cr_assert_gt(depth, 0, "thread %d: not answered by the rows",
		    (int)tasks[i].tid);
		cr_assert_eq(cfirows_unwind(rows, tasks[i].sp, tasks[i].pc,
		    read_word, NULL, ip, UNWIND_MAX_FRAMES, &truncated), depth);
		cr_assert_eq(unwind_thread(u, &tasks[i], &slow, why,
		    sizeof why), 0, "%s", why);
		cr_assert_eq(slow.stopped, 0, "thread %d was stopped",
		    (int)tasks[i].tid);
		cr_assert_eq(depth, slow.depth, "thread %d: %d frames, libdw %d",
		    (int)tasks[i].tid, depth, slow.depth);
		cr_assert_eq(truncated, slow.truncated);
		cr_assert_arr_eq(ip, slow.ip, (size_t)depth * sizeof *ip,
		    "thread %d: other frames than libdw's", (int)tasks[i].tid);
		if (depth > deepest)
			deepest = depth;
	}
	cr_assert_eq(deepest, UNWIND_MAX_FRAMES, "no truncated stack");

	for (i = 0; i < n; i++)
		task_release(&tasks[i]);
	cfirows_free(rows);
	dwfl_end(dw);
	unwind_close(u);
	free(tasks);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

/* A module as reported: its name and range. */
static int
module_line(Dwfl_Module *mod, void **userdata, const char *name,
    Dwarf_Addr start, void *arg)
{
	Dwarf_Addr end;

	dwfl_module_info(mod, NULL, NULL, &end, NULL, NULL, NULL, NULL);
	fprintf(arg, "%s %lx %lx\n", name, (unsigned long)start,
	    (unsigned long)end);
	return DWARF_CB_OK;
}

/* The modules of pid as reported by one of the two, as text. */
static char *
modules(pid_t pid, const struct maps *m)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f;
	Dwfl *dw;

	cr_assert_not_null(dw = dwfl_begin(&symname_callbacks));
	dwfl_report_begin(dw);
	cr_assert_eq(m != NULL ? unwind_report_maps(dw, pid, m) :
	    dwfl_linux_proc_report(dw, pid), 0);
	cr_assert_eq(dwfl_report_end(dw, NULL, NULL), 0);
	cr_assert_not_null(f = open_memstream(&text, &len));
	cr_assert_eq(dwfl_getmodules(dw, module_line, f, 0), 0);
	fclose(f);
	dwfl_end(dw);
	return text;
}

/*
 * unwind_report_maps reports the modules dwfl_linux_proc_report does,
 * the vDSO among them, for this process.
 */
Test(cfirows, report_maps_as_libdw)
{
	struct maps m;
	char why[256], *mine, *libdw;

	cr_assert_eq(maps_read_pid(getpid(), &m, why, sizeof why), 0, "%s",
	    why);
	mine = modules(getpid(), &m);
	libdw = modules(getpid(), NULL);
	cr_assert_str_eq(mine, libdw);
	cr_assert_not_null(strstr(mine, "[vdso: "), "%s", mine);
	cr_assert_not_null(strstr(mine, "libc.so"), "%s", mine);
	free(mine);
	free(libdw);
	maps_free(&m);
}
