/*
 * Frames of the shim itself (hooks, the thread trampoline) are noise in
 * every report: drop them.  Kept apart from stack.c, which captures and
 * names, because this is a policy of the reports, not of unwinding.
 */
#include <dlfcn.h>
#include <string.h>

#include "stack.h"

int
stack_is_self(uintptr_t ip)
{
	static void *base;
	Dl_info di;

	if (base == NULL && dladdr((void *)&stack_is_self, &di) != 0)
		base = di.dli_fbase;
	return dladdr((void *)ip, &di) != 0 && di.dli_fbase == base;
}

void
stack_strip_self(struct stack *st)
{
	int i, n = 0;

	for (i = 0; i < st->depth; i++)
		if (!stack_is_self(st->ip[i]))
			st->ip[n++] = st->ip[i];
	st->depth = (uint16_t)n;
}
