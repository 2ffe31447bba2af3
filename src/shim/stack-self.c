/*
 * Frames of the shim itself (hooks, the thread trampoline) are noise in
 * every report: drop them.  Kept apart from stack.c, which captures and
 * names, because this is a policy of the reports, not of unwinding.
 *
 * "Inside the shim" is between the start of its first loaded segment
 * and the end of its last, as dladdr decides (glibc's loader reserves
 * that whole extent for the object; it checks segment by segment only
 * for the rare object loaded in pieces, whose gaps hold no code).
 * dladdr itself scans the module's whole symbol table (for the nearest
 * symbol, even when only the module is wanted): asked for every frame
 * of every thread, it was 363 M instructions of a 1,000-thread dump's
 * 570 M.  So the extent is found once, by dl_iterate_phdr.
 */
#include <dlfcn.h>
#include <link.h>
#include <stdatomic.h>
#include <string.h>

#include "stack.h"

static uintptr_t self_start, self_end;

/*
 * -1: not looked up yet; -2: being looked up (by another thread, which
 * the others do not wait for: they ask dladdr meanwhile); 0: not found
 * (dladdr, always); 1: self_start and self_end hold the extent.
 */
static atomic_int self_known = -1;

/* dl_iterate_phdr's callback: the object that holds our own code. */
static int
find_self(struct dl_phdr_info *info, size_t size, void *arg)
{
	uintptr_t me = (uintptr_t)&stack_is_self, start, end, lo = 0, hi = 0;
	int i, mine = 0;

	(void)size;
	(void)arg;
	for (i = 0; i < info->dlpi_phnum; i++) {
		if (info->dlpi_phdr[i].p_type != PT_LOAD)
			continue;
		start = info->dlpi_addr + info->dlpi_phdr[i].p_vaddr;
		end = start + info->dlpi_phdr[i].p_memsz;
		mine |= me >= start && me < end;
		if (lo == 0 || start < lo)
			lo = start;
		if (end > hi)
			hi = end;
	}
	if (!mine)
		return 0;
	self_start = lo;
	self_end = hi;
	return 1;
}

/* Is the extent known (looked up on first use)?  Else: dladdr. */
static int
extent_known(void)
{
	int k = atomic_load_explicit(&self_known, memory_order_acquire);
	int want = -1;

	if (k != -1 || !atomic_compare_exchange_strong(&self_known, &want, -2))
		return k == 1;
	k = dl_iterate_phdr(find_self, NULL) == 1;
	atomic_store_explicit(&self_known, k, memory_order_release);
	return k;
}

static int
self_by_dladdr(uintptr_t ip)
{
	static void *base;
	Dl_info di;

	if (base == NULL && dladdr((void *)&stack_is_self, &di) != 0)
		base = di.dli_fbase;
	return dladdr((void *)ip, &di) != 0 && di.dli_fbase == base;
}

int
stack_is_self(uintptr_t ip)
{
	if (!extent_known())
		return self_by_dladdr(ip);
	return ip >= self_start && ip < self_end;
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
