/* Native stacks of another process: see unwind.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "unwind.h"

struct unwind {
	Dwfl		*dw;
	pid_t		 pid;
	struct symname_cache *names;
};

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * Load every module's ELF and call frame information now, with nothing
 * stopped: libdw would otherwise load them while the first thread that
 * needs them is stopped (some 3 ms for libc's).
 */
static int
preload(Dwfl_Module *mod, void **userdata, const char *name,
    Dwarf_Addr start, void *arg)
{
	Dwarf_Addr bias;

	(void)dwfl_module_getelf(mod, &bias);
	(void)dwfl_module_eh_cfi(mod, &bias);
	return DWARF_CB_OK;
}

struct unwind *
unwind_open(pid_t pid, char *why, size_t len)
{
	struct unwind *u;
	int rc;

	if ((u = calloc(1, sizeof *u)) == NULL) {
		snprintf(why, len, "out of memory");
		return NULL;
	}
	u->pid = pid;
	u->names = symname_cache_new();
	if ((u->dw = dwfl_begin(&symname_callbacks)) == NULL)
		goto fail;
	dwfl_report_begin(u->dw);
	rc = dwfl_linux_proc_report(u->dw, pid);
	if (dwfl_report_end(u->dw, NULL, NULL) != 0 || rc != 0)
		goto fail;
	(void)dwfl_getmodules(u->dw, preload, NULL, 0);
	/* Attaches to nothing yet: each thread is stopped when unwound. */
	if ((rc = dwfl_linux_proc_attach(u->dw, pid, false)) != 0) {
		snprintf(why, len, "cannot attach to process %d: %s",
		    (int)pid, rc > 0 ? strerror(rc) : dwfl_errmsg(-1));
		unwind_close(u);
		return NULL;
	}
	return u;
fail:
	snprintf(why, len, "cannot read the modules of process %d: %s",
	    (int)pid, dwfl_errmsg(-1));
	unwind_close(u);
	return NULL;
}

void
unwind_close(struct unwind *u)
{
	if (u == NULL)
		return;
	if (u->dw != NULL)
		dwfl_end(u->dw);
	symname_cache_free(u->names);
	free(u);
}

/* Only the addresses while the thread is stopped: naming comes later. */
static int
frame_cb(Dwfl_Frame *state, void *arg)
{
	struct unwind_stack *st = arg;
	Dwarf_Addr pc;
	bool activation;

	if (!dwfl_frame_pc(state, &pc, &activation) || pc == 0)
		return DWARF_CB_ABORT;
	if (st->depth == UNWIND_MAX_FRAMES) {
		st->truncated = 1;
		return DWARF_CB_ABORT;
	}
	/* A return address names the call: keep it as is, marked later. */
	st->ip[st->depth++] = (uintptr_t)pc;
	return DWARF_CB_OK;
}

int
unwind_thread(struct unwind *u, pid_t tid, struct unwind_stack *st,
    char *why, size_t len)
{
	double t0;
	int rc;

	st->depth = 0;
	st->truncated = 0;
	/*
	 * libdw stops the thread (PTRACE_ATTACH) when it first needs its
	 * registers and lets it go (PTRACE_DETACH) before returning.
	 */
	t0 = now();
	rc = dwfl_getthread_frames(u->dw, tid, frame_cb, st);
	st->stopped = now() - t0;
	if (rc != 0 && st->depth == 0) {
		snprintf(why, len, "cannot unwind: %s", dwfl_errmsg(-1));
		return -1;
	}
	return 0;
}

int
unwind_name(struct unwind *u, uintptr_t ip, int is_return,
    struct symbol *sym)
{
	return symname_lookup(u->names, u->dw, ip, is_return, sym);
}
