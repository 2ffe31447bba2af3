/*
 * The static tables _thread.lock and _thread.RLock are made from in
 * CPython 3.14 and later: their method tables (PyMethodDef
 * lock_methods[] and rlock_methods[]) and type slots (PyType_Slot
 * lock_type_slots[] and rlock_type_slots[]).  They are local symbols,
 * found in the symbol table of the object that defines _PyRuntime
 * (libpython, or the executable), or in its separate debug file, and
 * checked before use: each type's Py_tp_methods slot names its method
 * table, that table has the methods a lock has, and every entry lies
 * in memory that stays writable (outside RELRO), so that a hook may
 * swap a function in.
 */
#ifndef GW_PYTABLES_H
#define GW_PYTABLES_H

#include <stddef.h>
#include <stdint.h>

/* CPython's PyMethodDef and PyType_Slot, as laid out in the stable ABI. */
struct py_method {
	const char	*name;		/* NULL: the end of the table */
	void		*meth;
	int		 flags;
	const char	*doc;
};

struct py_type_slot {
	int		 slot;		/* 0: the end of the table */
	void		*pfunc;
};

#define PY_TP_DEALLOC	52		/* Include/typeslots.h */
#define PY_TP_METHODS	64

struct py_lock_type {
	struct py_method	*methods;
	struct py_type_slot	*dealloc;	/* its Py_tp_dealloc slot */
};

/*
 * Find and check both types' tables in the object that defines
 * runtime (&_PyRuntime).  0, or -1 with a reason in why.  Reads symbol
 * tables from files (the object's own with symtab.c, a separate debug
 * file with libdw: allocates): for start-up only.
 */
int	pytables_find(uintptr_t runtime, struct py_lock_type *lock,
	    struct py_lock_type *rlock, char *why, size_t len);

#endif /* GW_PYTABLES_H */
