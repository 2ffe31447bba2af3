/* Unwinding by call frame rows kept by address: see cfirows.h. */
#include <dwarf.h>
#include <stdlib.h>
#include <string.h>

#include "cfirows.h"
#include "grow.h"

#define NREGS		17	/* x86-64's DWARF registers libdw unwinds:
				   rax..r15, then the return address */
#define SLOTS		4096	/* a hash of addresses to rows: at most
				   SLOTS - 1 kept, past that rows are
				   worked out again */

enum rule_kind {
	RULE_SAME,		/* the register keeps its value */
	RULE_AT,		/* saved at CFA + off */
	RULE_VAL,		/* is CFA + off */
	RULE_REG,		/* is register off's value */
};

struct rule {
	unsigned char	 reg, kind;
	int64_t		 off;
};

/* The row of one address, as libdw's Dwarf_Frame gives it. */
struct row {
	uintptr_t	 pc;		/* the address looked up */
	int		 state;		/* 0: empty slot, 1: usable, -1: ask
					   libdw */
	unsigned char	 cfa_reg;	/* CFA = cfa_reg's value + cfa_off */
	int64_t		 cfa_off;
	unsigned char	 ra;		/* the return address's register */
	unsigned char	 ra_undefined;	/* no caller: the stack ends */
	unsigned char	 nrules;	/* the registers not undefined */
	struct rule	 rules[NREGS];
};

/*
 * Rows kept one after the other, found through slot (their index plus
 * one; 0: free): the few dozen a dump uses fill a page or two, not a
 * table's worth of pages each faulted in.
 */
struct cfirows {
	Dwfl		*dw;
	uint16_t	 slot[SLOTS];
	struct row	*rows;
	size_t		 n, cap;
};

struct cfirows *
cfirows_new(Dwfl *dw)
{
	struct cfirows *c;

	if ((c = calloc(1, sizeof *c)) != NULL)
		c->dw = dw;
	return c;
}

void
cfirows_free(struct cfirows *c)
{
	if (c != NULL)
		free(c->rows);
	free(c);
}

#ifdef __x86_64__
/*
 * One register's rule, from dwarf_frame_register's operations, as
 * libdwfl's handle_cfi reads them: 1 kept in r, 0 undefined (not
 * kept), -1 anything else.
 */
static int
classify(Dwarf_Frame *fr, int regno, struct rule *r)
{
	Dwarf_Op mem[3], *ops;
	size_t nops;

	if (dwarf_frame_register(fr, regno, mem, &ops, &nops) != 0)
		return -1;
	r->reg = (unsigned char)regno;
	r->off = 0;
	if (nops == 0) {
		if (ops == mem)
			return 0;		/* undefined */
		if (ops != NULL)
			return -1;
		r->kind = RULE_SAME;
		return 1;
	}
	if (nops == 1 && ops[0].atom == DW_OP_regx && ops[0].number < NREGS) {
		r->kind = RULE_REG;
		r->off = (int64_t)ops[0].number;
		return 1;
	}
	/* DW_OP_call_frame_cfa [DW_OP_plus_uconst off] [DW_OP_stack_value] */
	if (ops[0].atom != DW_OP_call_frame_cfa)
		return -1;
	ops++;
	nops--;
	if (nops > 0 && ops[0].atom == DW_OP_plus_uconst) {
		r->off = (int64_t)ops[0].number;
		ops++;
		nops--;
	}
	r->kind = RULE_AT;
	if (nops > 0 && ops[0].atom == DW_OP_stack_value) {
		r->kind = RULE_VAL;
		ops++;
		nops--;
	}
	return nops == 0 ? 1 : -1;
}

/* The row of pc (already less one for a return address) into r. */
static void
work_out(struct cfirows *c, uintptr_t pc, struct row *r)
{
	Dwfl_Module *mod;
	Dwarf_CFI *cfi;
	Dwarf_Frame *fr = NULL;
	Dwarf_Addr bias, start, end;
	Dwarf_Op *ops;
	size_t nops;
	bool signal;
	int ra, regno, k;

	memset(r, 0, sizeof *r);
	r->pc = pc;
	r->state = -1;
	/* As libdwfl's __libdwfl_frame_unwind looks it up, .eh_frame first. */
	if ((mod = dwfl_addrmodule(c->dw, pc)) == NULL ||
	    (cfi = dwfl_module_eh_cfi(mod, &bias)) == NULL ||
	    dwarf_cfi_addrframe(cfi, pc - bias, &fr) != 0)
		return;
	if ((ra = dwarf_frame_info(fr, &start, &end, &signal)) < 0 ||
	    ra >= NREGS || signal ||
	    dwarf_frame_cfa(fr, &ops, &nops) != 0 || nops != 1 ||
	    ops[0].atom != DW_OP_bregx || ops[0].number >= NREGS)
		goto out;
	r->cfa_reg = (unsigned char)ops[0].number;
	r->cfa_off = (int64_t)ops[0].number2;
	r->ra = (unsigned char)ra;
	for (regno = 0; regno < NREGS; regno++) {
		if ((k = classify(fr, regno, &r->rules[r->nrules])) == -1)
			goto out;
		if (k == 1)
			r->nrules++;
		else if (regno == ra)
			r->ra_undefined = 1;
	}
	r->state = 1;
out:
	free(fr);
}

/* pc's row, worked out the first time (valid until the next call). */
static const struct row *
row_at(struct cfirows *c, uintptr_t pc, struct row *scratch)
{
	size_t h = (size_t)((pc * 0x9e3779b97f4a7c15ull) >> 40) % SLOTS, i;
	uint16_t *s;
	struct row *v;

	for (i = 0; i < SLOTS; i++) {
		s = &c->slot[(h + i) % SLOTS];
		if (*s == 0)
			break;
		if (c->rows[*s - 1].pc == pc)
			return &c->rows[*s - 1];
	}
	if (i == SLOTS || c->n == SLOTS - 1)
		goto full;
	if ((v = grow(c->rows, &c->cap, c->n + 1, sizeof *v, 32)) == NULL)
		goto full;
	c->rows = v;
	work_out(c, pc, &c->rows[c->n]);
	*s = (uint16_t)++c->n;
	return &c->rows[c->n - 1];
full:
	work_out(c, pc, scratch);	/* worked out each time */
	return scratch;
}

int
cfirows_unwind(struct cfirows *c, uintptr_t sp, uintptr_t pc,
    cfirows_read_fn read, void *arg, uintptr_t *ip, int max, int *truncated)
{
	const struct row *r;
	struct row scratch;
	uint64_t regs[NREGS], next[NREGS], cfa, v;
	unsigned set, nset;
	int depth = 0, i;
	const struct rule *ru;

	*truncated = 0;
	if (c == NULL)
		return -1;
	set = 1u << 7;			/* rsp: all /proc shows, with pc */
	regs[7] = sp;
	for (;;) {
		if (depth == max) {
			*truncated = 1;
			return depth;
		}
		ip[depth++] = pc;
		/* A return address looks up the call: one byte before. */
		r = row_at(c, depth == 1 ? pc : pc - 1, &scratch);
		if (r->state != 1 || !(set & 1u << r->cfa_reg))
			return -1;
		cfa = regs[r->cfa_reg] + (uint64_t)r->cfa_off;
		nset = 0;
		for (i = 0; i < r->nrules; i++) {
			ru = &r->rules[i];
			switch (ru->kind) {
			case RULE_SAME:
				if (!(set & 1u << ru->reg))
					continue;
				v = regs[ru->reg];
				break;
			case RULE_AT:
				if (read(cfa + (uint64_t)ru->off, &v, arg) != 0)
					continue;
				break;
			case RULE_VAL:
				v = cfa + (uint64_t)ru->off;
				break;
			default:	/* RULE_REG */
				if (!(set & 1u << ru->off))
					continue;
				v = regs[ru->off];
				break;
			}
			next[ru->reg] = v;
			nset |= 1u << ru->reg;
		}
		if (r->ra_undefined)
			return depth;		/* the natural end */
		/* No return address, or 0 (libdw's end too): not natural. */
		if (!(nset & 1u << r->ra) || next[r->ra] == 0)
			return -1;
		pc = (uintptr_t)next[r->ra];
		memcpy(regs, next, sizeof regs);
		set = nset;
	}
}
#else
int
cfirows_unwind(struct cfirows *c, uintptr_t sp, uintptr_t pc,
    cfirows_read_fn read, void *arg, uintptr_t *ip, int max, int *truncated)
{
	*truncated = 0;
	return -1;
}
#endif
