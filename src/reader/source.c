/* The sources of a snapshot read from outside: see source.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"
#include "source.h"

static int
live_threads(struct source *src, struct task **tasks, char *why,
    size_t len)
{
	int n;

	if ((n = (src->runs ? task_list_runs : task_list)(src->pid,
	    tasks)) == -1)
		snprintf(why, len, "cannot read the threads of process %d: "
		    "%s", (int)src->pid, strerror(errno));
	return n;
}

static int
live_stacks_open(struct source *src, char *why, size_t len)
{
	return (src->u = unwind_open(src->pid, &src->maps, why, len)) !=
	    NULL ? 0 : -1;
}

static int
live_stack(struct source *src, const struct task *t,
    struct unwind_stack *st, char *why, size_t len)
{
	return unwind_thread(src->u, t, st, why, len);
}

static int
live_name(struct source *src, uintptr_t ip, int is_return,
    struct symbol *sym)
{
	return unwind_name(src->u, ip, is_return, sym);
}

static void
live_stacks_close(struct source *src)
{
	unwind_close(src->u);
	src->u = NULL;
}

const struct source_ops source_live_ops = {
	1, live_threads, live_stacks_open, live_stack, live_name,
	live_stacks_close,
};

static int
task_cmp(const void *a, const void *b)
{
	const struct task *x = a, *y = b;

	return x->tid < y->tid ? -1 : x->tid > y->tid;
}

/*
 * A core's threads as /proc would show them: no kernel state, no name
 * but the main thread's (the core records only the process name).
 */
static int
core_threads(struct source *src, struct task **tasks, char *why,
    size_t len)
{
	const struct core_thread *ct;
	struct task *t;
	int i, n = core_nthreads(src->core);

	if ((*tasks = calloc((size_t)n + 1, sizeof **tasks)) == NULL) {
		snprintf(why, len, "out of memory");
		return -1;
	}
	for (i = 0; i < n; i++) {
		ct = core_thread(src->core, i);
		t = &(*tasks)[i];
		t->tid = ct->tid;
		if (ct->tid == src->pid)
			snprintf(t->name, sizeof t->name, "%s",
			    core_command(src->core));
		t->syscall = ct->syscall;
		memcpy(t->args, ct->args, sizeof t->args);
		t->sp = ct->sp;
		t->pc = ct->ip;
	}
	qsort(*tasks, (size_t)n, sizeof **tasks, task_cmp);
	return n;
}

static int
core_unwound_cmp(const void *a, const void *b)
{
	const struct core_unwound *x = a, *y = b;

	return x->tid < y->tid ? -1 : x->tid > y->tid;
}

static int
core_unwound(pid_t tid, const uintptr_t *ip, int n, const char *why,
    void *arg)
{
	struct source *src = arg;
	struct core_unwound *u;

	if (src->ncu == (size_t)core_nthreads(src->core))
		return 1;		/* a thread libdw has and the notes not */
	u = &src->cu[src->ncu++];
	u->tid = tid;
	u->st.depth = n > 0 ? n : 0;
	u->st.truncated = n == UNWIND_MAX_FRAMES;
	if (n > 0)
		memcpy(u->st.ip, ip, (size_t)n * sizeof *ip);
	if (why != NULL && (u->why = strdup(why)) == NULL)
		u->why = NULL;
	return 0;
}

/* Every stack at once: see core_stacks for why not one at a time. */
static int
core_stacks_open(struct source *src, char *why, size_t len)
{
	size_t n = (size_t)core_nthreads(src->core);

	if ((src->cu = calloc(n + 1, sizeof *src->cu)) == NULL) {
		snprintf(why, len, "out of memory");
		return -1;
	}
	if (core_stacks(src->core, UNWIND_MAX_FRAMES, core_unwound, src, why,
	    len) == -1) {
		free(src->cu);
		src->cu = NULL;
		return -1;
	}
	qsort(src->cu, src->ncu, sizeof *src->cu, core_unwound_cmp);
	return 0;
}

static int
core_stack_of(struct source *src, const struct task *t,
    struct unwind_stack *st, char *why, size_t len)
{
	struct core_unwound key, *u;

	key.tid = t->tid;
	u = bsearch(&key, src->cu, src->ncu, sizeof *src->cu,
	    core_unwound_cmp);
	memset(st, 0, sizeof *st);
	if (u == NULL || u->st.depth == 0) {
		snprintf(why, len, "%s", u != NULL && u->why != NULL ? u->why :
		    "not unwound");
		return -1;
	}
	*st = u->st;
	return 0;
}

static int
core_name(struct source *src, uintptr_t ip, int is_return,
    struct symbol *sym)
{
	return core_symbolize(src->core, ip, is_return, sym);
}

static void
core_stacks_close(struct source *src)
{
	size_t i;

	for (i = 0; i < src->ncu; i++)
		free(src->cu[i].why);
	free(src->cu);
	src->cu = NULL;
	src->ncu = 0;
}

const struct source_ops source_core_ops = {
	0, core_threads, core_stacks_open, core_stack_of, core_name,
	core_stacks_close,
};
