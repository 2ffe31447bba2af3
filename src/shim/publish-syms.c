/*
 * Names for the publisher: code addresses (frames, call sites), data
 * addresses (locks) and threads.  Looking a name up reads ELF and DWARF
 * or /proc and costs microseconds, so names are cached across
 * publications and only a budget of new ones is looked up each time; a
 * frame mentions an address before its name is known, and the name
 * follows in a later frame.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "pages.h"
#include "publish-int.h"
#include "stack.h"

#define SYMS_PROBE	32	/* slots tried, then one is replaced */

/*
 * A slot is small and its name lies apart, in syms (a record taken when
 * a name is first found, kept by the slot when it is replaced): every
 * address a frame mentions takes a slot, most are never looked up (no
 * viewer asks), and slots hashed across the table each touch a page of
 * their own, a fault that costs 10-30 us in a VM.  With the names in
 * them, slots of some 240 bytes made 200 addresses touch nearly 200
 * pages; at 24 bytes the table is 48 pages in all.
 */
struct symslot {
	uintptr_t	addr;
	uint32_t	round;		/* last round that wanted it */
	uint32_t	sym;		/* its record in syms + 1; 0: none */
	uint8_t		data;
	int8_t		self;		/* -1: not asked yet */
	uint8_t		named;		/* looked up (found or not) */
	uint8_t		found;
};

struct nameslot {
	pid_t		tid;		/* 0: empty */
	uint32_t	round;
	uint64_t	read_ns;	/* 0: never read */
	char		name[GW_SHM_NAME_LEN];
};

static struct symslot *slots;		/* SYMS_SLOTS, from pages_map */
static struct gw_shm_sym *syms;		/* SYMS_SLOTS, taken in order */
static uint32_t nsyms;
static uint32_t *wanted;		/* slot indexes wanted this round */
static uint32_t nwanted;
static uint32_t round_no;
static int sym_budget, name_budget;
static uint64_t round_ns;

static struct nameslot *names;
static size_t names_cap;		/* a power of two, or 0 */
static size_t names_used;

void
pubsym_round(uint64_t now, int syms)
{
	round_no++;
	nwanted = 0;
	sym_budget = syms;
	name_budget = NAMES_BUDGET;
	round_ns = now;
}

static size_t
hash_addr(uintptr_t a, int data)
{
	uint64_t h = ((uint64_t)a ^ (uint64_t)data) * 0x9e3779b97f4a7c15ull;

	return (size_t)(h >> 32);
}

/* Give the three tables back, whichever of them were mapped. */
static void
tables_unmap(void)
{
	if (slots != NULL)
		pages_unmap(slots, SYMS_SLOTS * sizeof *slots);
	if (syms != NULL)
		pages_unmap(syms, SYMS_SLOTS * sizeof *syms);
	if (wanted != NULL)
		pages_unmap(wanted, SYMS_SLOTS * sizeof *wanted);
	slots = NULL;
	syms = NULL;
	wanted = NULL;
	nsyms = 0;
}

static struct symslot *
sym_slot(uintptr_t addr, int data)
{
	struct symslot *s;
	size_t i, n, h;
	uint32_t sym;

	if (slots == NULL) {
		slots = pages_map(SYMS_SLOTS * sizeof *slots);
		syms = pages_map(SYMS_SLOTS * sizeof *syms);
		wanted = pages_map(SYMS_SLOTS * sizeof *wanted);
		if (slots == NULL || syms == NULL || wanted == NULL) {
			tables_unmap();
			return NULL;
		}
	}
	h = hash_addr(addr, data);
	for (n = 0; n < SYMS_PROBE; n++) {
		i = (h + n) & (SYMS_SLOTS - 1);
		s = &slots[i];
		if (s->addr == addr && s->data == data)
			return s;
		if (s->addr == 0)
			break;
	}
	if (n == SYMS_PROBE)	/* full around here: replace the first */
		s = &slots[h & (SYMS_SLOTS - 1)];
	sym = s->sym;
	memset(s, 0, sizeof *s);
	s->sym = sym;
	s->addr = addr;
	s->data = (uint8_t)data;
	s->self = -1;
	return s;
}

int
pubsym_is_self(uintptr_t ip)
{
	struct symslot *s = sym_slot(ip, 0);

	if (s == NULL)
		return stack_is_self(ip);
	if (s->self == -1)
		s->self = (int8_t)stack_is_self(ip);
	return s->self;
}

/* Copy src into dst, cut to fit: names are shown, not parsed. */
static void
cut(char *dst, size_t len, const char *src)
{
	size_t n = strnlen(src, len - 1);

	memcpy(dst, src, n);
	dst[n] = '\0';
}

static const char *
base_name(const char *path)
{
	const char *p = strrchr(path, '/');

	return p != NULL ? p + 1 : path;
}

static void
look_up(struct symslot *s)
{
	struct symbol sym;
	struct gw_shm_sym *out;

	s->named = 1;
	if (stack_symbolize(s->addr, !s->data, &sym) == -1 ||
	    (sym.function[0] == '\0' && sym.module[0] == '\0'))
		return;
	/* Never more records than slots: a replaced slot keeps its own. */
	if (s->sym == 0)
		s->sym = ++nsyms;
	out = &syms[s->sym - 1];
	s->found = 1;
	out->ip = s->addr;
	out->offset = sym.offset;
	out->flags = s->data ? GW_SHM_SYM_DATA : 0;
	out->line = sym.line;
	cut(out->function, sizeof out->function, sym.function);
	cut(out->module, sizeof out->module, base_name(sym.module));
	cut(out->file, sizeof out->file, base_name(sym.file));
}

void
pubsym_want(uintptr_t addr, int data)
{
	struct symslot *s;

	if (addr == 0 || (s = sym_slot(addr, data)) == NULL)
		return;
	if (!s->named && sym_budget > 0) {
		sym_budget--;
		look_up(s);
	}
	if (s->found && s->round != round_no && nwanted < SYMS_SLOTS) {
		s->round = round_no;
		wanted[nwanted++] = (uint32_t)(s - slots);
	}
}

void
pubsym_emit(struct shm_writer *w, struct gw_shm_frame *f)
{
	struct gw_shm_sym *out;
	size_t room;
	uint32_t i, n, max;

	out = shm_writer_room(w, &room);
	max = (uint32_t)(room / sizeof *out);
	for (i = n = 0; i < nwanted && n < max; i++) {
		/* A slot replaced since it was wanted names another. */
		if (slots[wanted[i]].found && slots[wanted[i]].round == round_no)
			out[n++] = syms[slots[wanted[i]].sym - 1];
	}
	if (i < nwanted)
		f->flags |= GW_SHM_TRUNC_SYMS;
	f->syms_off = shm_writer_claim(w, n * sizeof *out);
	f->nsyms = n;
}

static size_t
hash_tid(pid_t tid, size_t cap)
{
	return (size_t)(((uint64_t)(uint32_t)tid * 0x9e3779b97f4a7c15ull)
	    >> 32) & (cap - 1);
}

static struct nameslot *
name_find(pid_t tid, int add)
{
	size_t i;

	if (names_cap == 0)
		return NULL;
	for (i = hash_tid(tid, names_cap);; i = (i + 1) & (names_cap - 1)) {
		if (names[i].tid == tid)
			return &names[i];
		if (names[i].tid == 0)
			break;
	}
	if (!add)
		return NULL;
	names[i].tid = tid;
	names_used++;
	return &names[i];
}

/*
 * Keep the table under half full: a new one, twice the threads, with
 * the names of threads seen in the last few rounds.  The helper thread
 * may allocate; this happens when threads come and go, not per frame.
 */
static void
names_room(void)
{
	struct nameslot *old = names, *s;
	size_t oldcap = names_cap, cap = 64, i;
	size_t want = (size_t)thread_count() * 4;

	if (names_cap != 0 && names_used * 2 < names_cap)
		return;
	while (cap < want || cap < names_used * 2)
		cap *= 2;
	if ((names = calloc(cap, sizeof *names)) == NULL) {
		names = old;
		return;
	}
	names_cap = cap;
	names_used = 0;
	for (i = 0; i < oldcap; i++)
		if (old[i].tid != 0 && old[i].round + 8 >= round_no) {
			s = name_find(old[i].tid, 1);
			*s = old[i];
		}
	free(old);
}

void
pubsym_thread_name(struct thread *t, pid_t tid, char name[GW_SHM_NAME_LEN])
{
	struct nameslot *s;
	char buf[64];

	/* threading's name, cut to fit, when the thread has one. */
	if (thread_pyname(t, buf, sizeof buf) == 0) {
		cut(name, GW_SHM_NAME_LEN, buf);
		return;
	}
	/* Set through pthread_setname_np or prctl: no need for /proc. */
	memcpy(name, t->name, GW_SHM_NAME_LEN);
	name[GW_SHM_NAME_LEN - 1] = '\0';
	if (name[0] != '\0')
		return;
	names_room();
	if ((s = name_find(tid, 1)) == NULL)
		return;
	s->round = round_no;
	if (s->read_ns == 0 || (round_ns - s->read_ns >
	    NAMES_REFRESH_MS * 1000000ull && name_budget-- > 0)) {
		thread_name(t, buf, sizeof buf);
		cut(s->name, sizeof s->name, buf);
		s->read_ns = round_ns;
	}
	memcpy(name, s->name, GW_SHM_NAME_LEN);
}

void
pubsym_reset(void)
{
	tables_unmap();
	nwanted = 0;
	free(names);
	names = NULL;
	names_cap = names_used = 0;
}
