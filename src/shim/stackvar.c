/*
 * Names of locks on a thread's stack: see stackvar.h.
 *
 * The frame whose area holds the address is found from sampled stack
 * pointers (frame i's area is [sp[i], sp[i + 1]), the caller's stack
 * pointer being the frame's CFA); the variable, from the scopes at that
 * frame's pc.  The path inside it follows the type: struct members by
 * their offsets, array elements by their size.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <dwarf.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>

#include "grow.h"
#include "maps.h"
#include "procstat.h"
#include "stack.h"
#include "stackvar.h"
#include "thread.h"
#include "monitor.h"

#define SAMPLE_TIMEOUT_MS	100	/* a thread that does not answer */
#define RETRY_NS		1000000	/* between tries at a busy thread */
#define RETRY_BUDGET_NS		50000000 /* for all of a set's retries */
#define MAX_DIMENSIONS		8	/* deeper arrays name the first ones */

struct sample {
	uint16_t	depth;
	uintptr_t	ip[STACK_MAX_FRAMES];
	uintptr_t	sp[STACK_MAX_FRAMES];
};

/*
 * A thread whose stack may hold a lock: glibc puts a thread's struct
 * pthread (its pthread_t) at the top of the stack it runs on, so the
 * stack below it, in the same mapping, is its own.
 */
struct owner {
	uintptr_t	 pd;		/* its pthread_t */
	pid_t		 tid;
	int		 tried;		/* sampled, or given up */
	struct sample	*x;		/* its sample, or NULL */
};

struct stackvars {
	int		 taken;		/* the threads were sampled */
	struct sample	*s;		/* every thread's, without maps */
	size_t		 n;
	uint64_t	 budget;	/* ns of retries left (sample) */
	size_t		 sampled;	/* threads asked (stackvars_sampled) */
	int		 indexed;	/* vma and who are built, or failed */
	struct range {
		uintptr_t	 start, end;
	}		*vma;		/* the mappings, in address order */
	size_t		 nvma;
	struct range	 main_stack;	/* the main thread's ([stack]) */
	struct owner	*who;		/* by pd */
	size_t		 nwho;
	struct owner	*main;		/* the main thread's, or NULL */
};

/* A name being built; the first append that does not fit ends it. */
struct path {
	char		*buf;
	size_t		 len, off;
};

static void
path_add(struct path *p, const char *fmt, ...)
{
	va_list ap;
	int k;

	if (p->off >= p->len)
		return;
	va_start(ap, fmt);
	k = vsnprintf(p->buf + p->off, p->len - p->off, fmt, ap);
	va_end(ap);
	p->off = k < 0 ? p->len : p->off + (size_t)k;
}

static int
type_of(Dwarf_Die *die, Dwarf_Die *type)
{
	Dwarf_Attribute a;
	Dwarf_Die t;

	if (dwarf_attr_integrate(die, DW_AT_type, &a) == NULL ||
	    dwarf_formref_die(&a, &t) == NULL)
		return -1;
	return dwarf_peel_type(&t, type) == 0 ? 0 : -1;
}

static int
size_of(Dwarf_Die *type, Dwarf_Word *size)
{
	return dwarf_aggregate_size(type, size) == 0 && *size > 0 ? 0 : -1;
}

/* "__data", "_M_mutex": names C and C++ keep for the implementation. */
static int
reserved(const char *name)
{
	return name[0] == '_' &&
	    (name[1] == '_' || isupper((unsigned char)name[1]));
}

/*
 * The member of struct type holding off: its name after '.', off made
 * relative to it, type becomes its type.  Members with reserved names
 * are the implementation's own: the lock is the thing that holds them.
 */
static int
member_at(Dwarf_Die *type, Dwarf_Word *off, struct path *p)
{
	Dwarf_Attribute a;
	Dwarf_Word moff, msize;
	Dwarf_Die m, mt;
	const char *name;

	if (dwarf_child(type, &m) != 0)
		return -1;
	do {
		if (dwarf_tag(&m) != DW_TAG_member ||
		    dwarf_attr(&m, DW_AT_data_member_location, &a) == NULL ||
		    dwarf_formudata(&a, &moff) != 0 ||
		    type_of(&m, &mt) == -1 || size_of(&mt, &msize) == -1 ||
		    *off < moff || *off >= moff + msize)
			continue;
		if ((name = dwarf_diename(&m)) == NULL || reserved(name))
			return -1;
		path_add(p, ".%s", name);
		*off -= moff;
		*type = mt;
		return 0;
	} while (dwarf_siblingof(&m, &m) == 0);
	return -1;
}

/* A subrange's element count, 0 when unknown (a flexible array). */
static Dwarf_Word
subrange_count(Dwarf_Die *sr)
{
	Dwarf_Attribute a;
	Dwarf_Word n;

	if (dwarf_attr_integrate(sr, DW_AT_count, &a) != NULL &&
	    dwarf_formudata(&a, &n) == 0)
		return n;
	if (dwarf_attr_integrate(sr, DW_AT_upper_bound, &a) != NULL &&
	    dwarf_formudata(&a, &n) == 0)
		return n + 1;
	return 0;
}

/* The element of array type holding off: "[i]" per dimension. */
static int
element_at(Dwarf_Die *type, Dwarf_Word *off, struct path *p)
{
	Dwarf_Word count[MAX_DIMENSIONS], esize, stride;
	Dwarf_Die sr, et;
	int nd = 0, d, k;

	if (type_of(type, &et) == -1 || size_of(&et, &esize) == -1)
		return -1;
	if (dwarf_child(type, &sr) == 0) {
		do {
			if (dwarf_tag(&sr) == DW_TAG_subrange_type &&
			    nd < MAX_DIMENSIONS)
				count[nd++] = subrange_count(&sr);
		} while (dwarf_siblingof(&sr, &sr) == 0);
	}
	if (nd == 0)
		count[nd++] = 0;
	for (d = 0; d < nd; d++) {
		stride = esize;
		for (k = d + 1; k < nd; k++)
			stride *= count[k] > 0 ? count[k] : 1;
		path_add(p, "[%llu]", (unsigned long long)(*off / stride));
		*off %= stride;
	}
	*type = et;
	return 0;
}

/* Down from the variable to the innermost member or element at off. */
static void
name_inside(Dwarf_Die *type, Dwarf_Word off, struct path *p)
{
	for (;;) {
		switch (dwarf_tag(type)) {
		case DW_TAG_structure_type:
		case DW_TAG_class_type:
			if (member_at(type, &off, p) == 0)
				continue;
			break;
		case DW_TAG_array_type:
			if (element_at(type, &off, p) == 0)
				continue;
			break;
		}
		break;
	}
	if (off != 0)
		path_add(p, "+%llu", (unsigned long long)off);
}

/* The single-operation location of die's attribute at, at rpc. */
static int
location_op(Dwarf_Die *die, unsigned at, Dwarf_Addr rpc, Dwarf_Op *op)
{
	Dwarf_Attribute a;
	Dwarf_Op *expr;
	size_t len;

	if (dwarf_attr_integrate(die, at, &a) == NULL ||
	    dwarf_getlocation_addr(&a, rpc, &expr, &len, 1) != 1 || len != 1)
		return -1;
	*op = expr[0];
	return 0;
}

struct query {
	uintptr_t	 pc, sp, cfa, addr;
	struct path	 p;
};

/* Does variable v (at a frame base of fb) hold the address? */
static int
try_variable(Dwarf_Die *v, Dwarf_Addr rpc, uintptr_t fb, struct query *q)
{
	Dwarf_Word size;
	Dwarf_Die type;
	Dwarf_Op op;
	const char *name;
	uintptr_t at;

	if (location_op(v, DW_AT_location, rpc, &op) == -1 ||
	    op.atom != DW_OP_fbreg || (name = dwarf_diename(v)) == NULL ||
	    type_of(v, &type) == -1 || size_of(&type, &size) == -1)
		return 0;
	at = fb + (uintptr_t)(Dwarf_Sword)op.number;
	if (q->addr < at || q->addr - at >= size)
		return 0;
	path_add(&q->p, "%s", name);
	name_inside(&type, q->addr - at, &q->p);
	return 1;
}

/*
 * The frame base, 0 when its expression is not one we know: gcc's CFA;
 * clang's frame pointer (x86-64 rbp, which the prologue of a function
 * that keeps one leaves 16 bytes below the CFA: the return address and
 * the caller's rbp) or, without one, the stack pointer.
 */
static uintptr_t
frame_base(const Dwarf_Op *op, const struct query *q)
{
	switch (op->atom) {
	case DW_OP_call_frame_cfa:
		return q->cfa;
#ifdef __x86_64__
	case DW_OP_reg6:
		return q->cfa - 16;
	case DW_OP_reg7:
		return q->sp;
#endif
	}
	return 0;
}

static int
find_variable(Dwfl_Module *mod, void *arg)
{
	struct query *q = arg;
	Dwarf_Die *cu, *scopes = NULL, *fn = NULL, child;
	Dwarf_Addr bias, rpc;
	Dwarf_Op op;
	uintptr_t fb;
	int n, i, tag, found = 0;

	if ((cu = dwfl_module_addrdie(mod, q->pc, &bias)) == NULL)
		return 0;
	rpc = q->pc - bias;
	if ((n = dwarf_getscopes(cu, rpc, &scopes)) <= 0)
		return 0;
	/* Inlined code's variables are in the frame of the function. */
	for (i = 0; i < n && fn == NULL; i++)
		if (dwarf_tag(&scopes[i]) == DW_TAG_subprogram)
			fn = &scopes[i];
	if (fn == NULL || location_op(fn, DW_AT_frame_base, rpc, &op) == -1 ||
	    (fb = frame_base(&op, q)) == 0) {
		free(scopes);
		return 0;
	}
	for (i = 0; i < n && !found; i++) {
		if (dwarf_child(&scopes[i], &child) != 0)
			continue;
		do {
			tag = dwarf_tag(&child);
			if (tag == DW_TAG_variable ||
			    tag == DW_TAG_formal_parameter)
				found = try_variable(&child, rpc, fb, q);
		} while (!found && dwarf_siblingof(&child, &child) == 0);
	}
	free(scopes);
	return found;
}

int
stackvar_at(uintptr_t pc, uintptr_t sp, uintptr_t cfa, uintptr_t addr,
    char *buf, size_t len)
{
	struct query q = { pc, sp, cfa, addr, { buf, len, 0 } };

	if (len == 0)
		return 0;
	buf[0] = '\0';
	if (stack_with_module(pc, find_variable, &q) == 1)
		return 1;
	buf[0] = '\0';
	return 0;
}

struct stackvars *
stackvars_new(void)
{
	struct stackvars *sv = calloc(1, sizeof(struct stackvars));

	if (sv != NULL)
		sv->budget = RETRY_BUDGET_NS;
	return sv;
}

struct stackvars *
stackvars_new_all(void)
{
	struct stackvars *sv = stackvars_new();

	if (sv != NULL)
		sv->indexed = 1;	/* as if the maps could not be read */
	return sv;
}

size_t
stackvars_sampled(const struct stackvars *sv)
{
	return sv->sampled;
}

void
stackvars_free(struct stackvars *sv)
{
	size_t i;

	if (sv == NULL)
		return;
	for (i = 0; i < sv->nwho; i++)
		free(sv->who[i].x);
	free(sv->who);
	free(sv->vma);
	free(sv->s);
	free(sv);
}

/* Is tid asleep ('S')?  Then the call it is in may last. */
static int
asleep(pid_t tid)
{
	char buf[512], *state = procstat_read(tid, buf, sizeof buf);

	return state != NULL && *state == 'S';
}

/*
 * One thread's stack with its stack pointers.  A thread blocks every
 * signal for a moment in pthread_create (seen: main starting the second
 * thread, whose frame holds the locks, missed 1 report in 30), and may
 * be in a short system call that the signal would interrupt: such a
 * thread is asked again while *budget (ns) lasts; one asleep in such a
 * call (nanosleep, poll) is not.
 */
static int
sample(pid_t tid, struct stack *st, uintptr_t *sp, uint64_t *budget)
{
	struct timespec pause = { 0, RETRY_NS };
	char note[128];
	int rc;

	for (;;) {
		rc = stack_safe_to_sample(tid, note, sizeof note) ?
		    stack_capture_thread_sp(tid, st, sp, SAMPLE_TIMEOUT_MS) :
		    -EINTR;
		if ((rc != -EAGAIN && rc != -EINTR) || *budget < RETRY_NS ||
		    (rc == -EINTR && asleep(tid)))
			return rc;
		*budget -= RETRY_NS;
		nanosleep(&pause, NULL);
	}
}

/* Thread tid's stack with its stack pointers into x: 0, or -1. */
static int
sample_into(struct stackvars *sv, pid_t tid, struct sample *x)
{
	struct stack st;

	sv->sampled++;
	if (sample(tid, &st, x->sp, &sv->budget) != 0 || st.depth < 2)
		return -1;
	x->depth = st.depth;
	memcpy(x->ip, st.ip, st.depth * sizeof st.ip[0]);
	return 0;
}

/*
 * Every thread's stack with its stack pointers, once per set: where the
 * mappings cannot be read, any thread's stack may hold any lock.
 */
static void
take(struct stackvars *sv)
{
	struct thread *t;
	size_t max = thread_count() + 16;

	sv->taken = 1;
	if ((sv->s = calloc(max, sizeof *sv->s)) == NULL)
		return;
	for (t = thread_first(); t != NULL && sv->n < max; t = t->next) {
		if (!atomic_load(&t->in_use) || t->internal)
			continue;
		if (sample_into(sv, atomic_load(&t->tid), &sv->s[sv->n]) == 0)
			sv->n++;
	}
}

/* The mappings of /proc/self/maps into sv, in address order: 0, -1. */
static int
read_vmas(struct stackvars *sv)
{
	char *text = maps_text(monitor_program()), *line, *nl, *p;
	size_t n = 0, cap = 0;
	struct range *v;

	if (text == NULL)
		return -1;
	for (line = text; *line != '\0'; line = *nl != '\0' ? nl + 1 : nl) {
		nl = strchrnul(line, '\n');
		if ((v = grow(sv->vma, &cap, n + 1, sizeof *v, 1024)) == NULL) {
			free(text);
			return -1;
		}
		sv->vma = v;
		sv->vma[n].start = (uintptr_t)strtoull(line, &p, 16);
		if (*p != '-')
			continue;
		sv->vma[n].end = (uintptr_t)strtoull(p + 1, NULL, 16);
		if (memmem(line, (size_t)(nl - line), "[stack]", 7) != NULL)
			sv->main_stack = sv->vma[n];
		n++;
	}
	free(text);
	sv->nvma = n;
	return 0;
}

static int
by_pd(const void *a, const void *b)
{
	const struct owner *x = a, *y = b;

	return x->pd < y->pd ? -1 : x->pd > y->pd;
}

/*
 * The mappings and the threads by the top of their stacks, once per
 * set; -1 when the mappings cannot be read (take() then).
 */
static int
index_threads(struct stackvars *sv)
{
	struct thread *t;
	size_t max = thread_count() + 16;
	pid_t me = monitor_program();
	size_t i;

	if (sv->indexed)
		return sv->who != NULL ? 0 : -1;
	sv->indexed = 1;
	if (read_vmas(sv) == -1 ||
	    (sv->who = calloc(max, sizeof *sv->who)) == NULL)
		return -1;
	for (t = thread_first(); t != NULL && sv->nwho < max; t = t->next) {
		if (!atomic_load(&t->in_use) || t->internal)
			continue;
		sv->who[sv->nwho].pd = (uintptr_t)t->self;
		sv->who[sv->nwho++].tid = atomic_load(&t->tid);
	}
	qsort(sv->who, sv->nwho, sizeof *sv->who, by_pd);
	for (i = 0; i < sv->nwho; i++)
		if (sv->who[i].tid == me)
			sv->main = &sv->who[i];
	return 0;
}

/* The mapping holding addr, or NULL. */
static const struct range *
vma_of(const struct stackvars *sv, uintptr_t addr)
{
	size_t lo = 0, hi = sv->nvma, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (addr < sv->vma[mid].start)
			hi = mid;
		else if (addr >= sv->vma[mid].end)
			lo = mid + 1;
		else
			return &sv->vma[mid];
	}
	return NULL;
}

/*
 * The thread whose stack may hold addr: the main thread's for its
 * [stack]; else the thread with the lowest pthread_t above addr in the
 * same mapping (threads whose stacks are adjacent, without guard
 * pages, share one).  Any other thread's stack cannot hold addr; this
 * one's holds it if a frame of its sample does.
 */
static struct owner *
owner_of(struct stackvars *sv, uintptr_t addr)
{
	const struct range *v = vma_of(sv, addr);
	size_t lo = 0, hi = sv->nwho, mid;

	if (v == NULL)
		return NULL;
	if (v->start == sv->main_stack.start && v->end == sv->main_stack.end)
		return sv->main;
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (sv->who[mid].pd <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < sv->nwho && sv->who[lo].pd < v->end ? &sv->who[lo] :
	    NULL;
}

/* The variable of x's frame holding addr, as stackvars_name. */
static int
name_in(const struct sample *x, uintptr_t addr, char *buf, size_t len)
{
	int i;

	for (i = 0; i + 1 < x->depth; i++) {
		if (x->sp[i] == 0 || addr < x->sp[i] || addr >= x->sp[i + 1])
			continue;
		/* ip[0] is the instruction itself; the others return
		 * addresses. */
		return stackvar_at(i == 0 ? x->ip[0] : x->ip[i] - 1, x->sp[i],
		    x->sp[i + 1], addr, buf, len);
	}
	return 0;
}

/*
 * Only the thread whose stack may hold addr is asked for its stack,
 * once: a dump of a thousand threads each holding a lock on the heap
 * sent a thousand sampling signals, and looked through every sample
 * for every lock.
 */
int
stackvars_name(struct stackvars *sv, uintptr_t addr, char *buf, size_t len)
{
	struct owner *o;
	size_t k;

	if (len > 0)
		buf[0] = '\0';
	if (sv == NULL)
		return 0;
	if (index_threads(sv) == 0) {
		if ((o = owner_of(sv, addr)) == NULL)
			return 0;
		if (!o->tried) {
			o->tried = 1;
			if ((o->x = malloc(sizeof *o->x)) != NULL &&
			    sample_into(sv, o->tid, o->x) == -1) {
				free(o->x);
				o->x = NULL;
			}
		}
		return o->x != NULL ? name_in(o->x, addr, buf, len) : 0;
	}
	if (!sv->taken)
		take(sv);
	for (k = 0; k < sv->n; k++)
		if (name_in(&sv->s[k], addr, buf, len))
			return 1;
	return 0;
}
