/*
 * CPython seen from inside its own process: find the interpreter, its
 * GIL and every thread's Python frames by reading interpreter memory.
 *
 * Nothing here calls the Python C API or needs the GIL; nothing here
 * takes a Python lock.  Memory is read as untrusted: another thread may
 * free or rewrite it while we look, so every read can fail and every
 * structure is checked before it is believed (object types, back links).
 * Garbage gives "<invalid>" or an error, never a crash.
 *
 * Supported: CPython 3.8-3.15 default (GIL) release builds and the
 * free-threaded builds the table has measured (3.13t, 3.14t, 3.15t),
 * x86-64 Linux.  Other builds are refused with a reason, never guessed
 * at.  Offsets come from the generated table py-offsets.h (tools/gen-pyoffsets); on 3.13+
 * the interpreter's own _Py_DebugOffsets take precedence where they
 * overlap (py-debug.c), and a newer minor whose debug offsets check out
 * runs on them alone, with what they lack from the newest table and the
 * parts that rest on it turned off (rt->partial says which).
 */
#ifndef GW_PY_H
#define GW_PY_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Limits, defined here only. */
#define PY_NAME_MAX	128	/* function and qualified names, with NUL */
#define PY_FILE_MAX	256	/* file names, with NUL */
#define PY_WALK_MAX	4096	/* frames looked at per thread, skipped ones
				   included: a cycle ends here */
#define PY_INTERP_MAX	64	/* interpreters followed */
#define PY_THREADS_MAX	4096	/* thread states followed per interpreter */
#define PY_DICT_MAX	(1L << 20)	/* entries: a larger dict is garbage */

/*
 * Offsets of the fields read, for one CPython minor version (generated:
 * see py-offsets.h).  -1 marks a field the version does not have.
 */
struct py_offsets {
	int	major, minor;
	int	micro;			/* first micro this entry is for */
	int	free_threaded;		/* 1: for --disable-gil builds (3.13+),
					   whose objects have a bigger header */

	/* _PyRuntimeState */
	int	rt_initialized;		/* int */
	int	rt_finalizing;		/* PyThreadState * */
	int	rt_interp_head;		/* interpreters.head (newest first) */
	int	rt_interp_main;		/* interpreters.main */
	int	rt_main_interp;		/* _main_interpreter, its storage */
	int	rt_gil;			/* ceval.gil, the GIL itself (<=3.11) */
	int	rt_tstate_current;	/* gilstate.tstate_current (<=3.11) */

	/* PyInterpreterState */
	int	is_next;
	int	is_threads_head;	/* tstate_head, threads.head (3.11+) */
	int	is_ceval_gil;		/* ceval.gil, a pointer (3.12+) */
	int	is_gil;			/* _gil, the interpreter's (3.12+) */

	/* struct _gil_runtime_state */
	int	gil_interval;		/* unsigned long, microseconds */
	int	gil_last_holder;	/* PyThreadState * */
	int	gil_locked;		/* int: -1 uninitialised, 0, 1 */
	int	gil_switch_number;	/* unsigned long */
	int	gil_cond, gil_mutex;	/* pthread_cond_t, pthread_mutex_t */
	int	gil_switch_cond, gil_switch_mutex;
	int	gil_size;

	/* PyThreadState */
	int	ts_next;
	int	ts_interp;
	int	ts_frame;		/* PyFrameObject * (<=3.10) */
	int	ts_cframe;		/* _PyCFrame * (3.10-3.12) */
	int	cf_current_frame;	/* in _PyCFrame (3.11, 3.12) */
	int	ts_current_frame;	/* _PyInterpreterFrame * (3.13+) */
	int	ts_thread_id;		/* unsigned long, pthread_self() */
	int	ts_native_thread_id;	/* unsigned long, gettid() (3.11+) */
	int	ts_status;		/* 32-bit _status word (3.12+) */
	int	ts_status_active;	/* bit of _status.active */
	int	ts_status_holds_gil;	/* bit of _status.holds_gil (3.13) */
	int	ts_holds_gil;		/* int holds_gil (3.14+) */
	int	ts_state;		/* int (3.13+) */
	int	ts_state_attached;	/* its value when attached */

	/* PyFrameObject (<=3.10), _PyInterpreterFrame (3.11+) */
	int	fr_back;		/* f_back, previous */
	int	fr_code;		/* f_code, f_executable (3.13+) */
	int	fr_lasti;		/* int f_lasti (<=3.10) */
	int	fr_lasti_bytes;		/* bytes per unit of f_lasti/instr */
	int	fr_instr;		/* prev_instr, instr_ptr (3.13+) */
	int	fr_owner;		/* char */
	int	fr_owner_generator;	/* owner values */
	int	fr_owner_cstack;	/* this and every higher owner: a
					   frame of C's (3.14: INTERPRETER,
					   CSTACK) */
	int	fr_ref_tags;		/* tag bits of f_executable and the
					   locals (3.14 _PyStackRef), else 0 */

	/* PyCodeObject */
	int	co_firstlineno;		/* int */
	int	co_filename, co_name, co_qualname;	/* str */
	int	co_lines;		/* bytes: co_lnotab, co_linetable */
	int	co_lines_format;	/* PY_LINES_* */
	int	co_firsttraceable;	/* int, in code units (3.11+) */
	int	co_code_adaptive;	/* the bytecode itself (3.11+) */

	/* Objects */
	int	ob_type;
	int	ob_size;		/* PyVarObject */
	int	bytes_sval;		/* PyBytesObject data */
	int	u_length;		/* code points */
	int	u_state;		/* 32-bit state word */
	int	u_ascii_size;		/* compact ASCII data follows this */
	int	u_compact_size;		/* compact non-ASCII data follows */
	int	u_data;			/* legacy strings: data pointer */
	int	u_kind_shift, u_kind_mask;
	int	u_compact_bit, u_ascii_bit;
	int	u_ready_bit;		/* <=3.11: 0 means not ready */

	/* _thread.lock and _thread.RLock (measured on live objects; each
	 * a semaphore or a PyMutex: 3.14+ both PyMutexes, 3.13t's Lock a
	 * PyMutex and its RLock a semaphore) */
	int	lock_sem;		/* sem_t *; -1 (a PyMutex) */
	int	lock_locked;		/* char (a PyMutex: its byte) */
	int	rlock_sem;		/* sem_t *; -1 (a PyMutex) */
	int	rlock_owner;		/* unsigned long, thread_id of owner */
	int	rlock_count;		/* unsigned long (a PyMutex: the level,
					   acquires after the first) */
	int	rlock_locked;		/* a PyMutex RLock: its byte */
	int	mx_parked;		/* PyMutex bit, a thread is parked on
					   it (where a lock is a PyMutex) */

	/* Names of threads (py-names.c) */
	int	is_modules;		/* sys.modules, a dict */
	int	fr_localsplus;		/* a frame's first local */
	int	u_hash;			/* a str's cached hash, -1: none */
	int	tp_name;		/* PyTypeObject: const char * */
	int	cell_ref;		/* PyCellObject: its object */
	int	tp_basicsize, tp_dictoffset, tp_flags;
	int	ht_cached_keys;		/* PyHeapTypeObject: shared keys */
	int	tpf_heaptype, tpf_managed_dict, tpf_inline_values;
	int	ob_dict_layout;		/* PY_DICT_* */
	int	ob_managed_dict;	/* bytes before the object (3.11+) */
	int	ob_managed_values;	/* same, the values pointer (3.11) */
	int	ob_inline_values;	/* bytes after the object (3.13+) */
	int	dict_keys, dict_values;	/* PyDictObject ma_keys, ma_values */
	int	dv_values, dv_valid;	/* PyDictValues (3.11+) */
	int	dk_size;		/* Py_ssize_t (<=3.10) */
	int	dk_log2_size, dk_log2_index_bytes, dk_kind;	/* (3.11+) */
	int	dk_nentries, dk_indices;
	int	dk_kind_general;	/* dk_kind of entries with a hash */
	int	de_size, de_hash, de_key, de_value;	/* PyDictKeyEntry */
	int	due_size, due_key, due_value;	/* PyDictUnicodeEntry */
	int	md_dict;		/* PyModuleObject (measured live) */

	/* The live part of a frame's value stack (py-locks.c) */
	int	fr_valuestack;		/* PyObject ** (<=3.10) */
	int	fr_iblock;		/* int: blocks set up (<=3.10) */
	int	fr_blockstack;		/* PyTryBlock[] (<=3.10) */
	int	tb_size, tb_level;	/* PyTryBlock, its int b_level */
	int	co_stacksize;		/* int */
	int	co_nlocalsplus;		/* int: the stack follows (3.11+) */
	int	co_exceptiontable;	/* bytes (3.11+) */
	int	cf_ml, cf_self;		/* PyCFunctionObject: a bound
					   builtin method */
	int	ml_name;		/* PyMethodDef: const char * */
	int	md_type, md_method;	/* PyMethodDescrObject: d_type and
					   d_method, an unbound method
					   (3.14+ `with`) */
	int	pk_addr;		/* 3.14+: bytes before the futex word
					   a parked thread sleeps on where its
					   wait_entry keeps addr, the PyMutex
					   it parks on (measured live) */

	/* Thread states and per-thread bytecode (3.13+, 3.14+) */
	int	ts_state_detached;	/* tstate->state values */
	int	ts_state_suspended;	/* (stopped by a stop-the-world) */
	int	fr_tlbc_index;		/* int32_t: which copy of the code the
					   frame runs (3.14t+) */
	int	co_tlbc;		/* _PyCodeArray *: the copies (3.14t+) */
	int	ca_size, ca_entries;	/* _PyCodeArray: Py_ssize_t, char *[] */

	/* Critical sections (3.13+; used by free-threaded builds) */
	int	ts_critical_section;	/* uintptr_t: innermost, tagged */
	int	cs_prev;		/* PyCriticalSection: uintptr_t */
	int	cs_mutex;		/* PyMutex * */
	int	cs_mutex2;		/* PyCriticalSection2: PyMutex * */
	int	cs_inactive, cs_two_mutexes;	/* tag bits */
	int	ob_mutex;		/* PyMutex in every object's header,
					   which a critical section locks */

	/* Stop-the-world pauses (3.13+) */
	int	rt_stw, is_stw;		/* struct _stoptheworld_state in
					   _PyRuntime, in an interpreter */
	int	stw_requested, stw_world_stopped;	/* bool */
	int	stw_countdown;		/* Py_ssize_t: threads yet to stop */
	int	stw_requester;		/* PyThreadState *, may be NULL */
};

/* Where an instance's attributes are (ob_dict_layout). */
#define PY_DICT_OFFSET		1	/* <=3.10: dict at tp_dictoffset */
#define PY_DICT_MANAGED		2	/* 3.11: values or dict pointer
					   before the object */
#define PY_DICT_TAGGED		3	/* 3.12: one word before it, values
					   tagged with bit 0 */
#define PY_DICT_INLINE		4	/* 3.13+: values after the header,
					   dict pointer before it */

#define PY_LINES_LNOTAB		1	/* 3.8, 3.9 */
#define PY_LINES_310		2	/* 3.10 */
#define PY_LINES_LOCATIONS	3	/* 3.11+ */

/* The interpreter found in this process. */
struct py_runtime {
	int		 major, minor, micro;
	char		 version[24];	/* as Python says it: "3.15.0rc1" */
	const struct py_offsets *off;	/* NULL when unsupported */
	uintptr_t	 runtime;	/* &_PyRuntime */
	uintptr_t	 gil;		/* struct _gil_runtime_state, or 0 */
	uintptr_t	 gil_mutex;	/* addresses inside *gil, or 0 */
	uintptr_t	 gil_cond;
	uintptr_t	 gil_switch_cond;
	uintptr_t	 gil_switch_mutex;
	uintptr_t	 gil_enabled;	/* free-threaded builds: the GIL's int
					   enabled (0: off), else 0 */
	int		 gil_confirmed;	/* gil checked in an initialised
					   runtime, not only predicted */
	int		 free_threaded;
	int		 debug_offsets;	/* _Py_DebugOffsets (3.13+): 0 not
					   used, 1 agree with the table,
					   2 differ from it (they win),
					   3 no table: on their own */
	char		 partial[256];	/* what is off and why, when the
					   version has no table; else "" */
	uintptr_t	 type_code;	/* &PyCode_Type, ... or 0 */
	uintptr_t	 type_unicode;
	uintptr_t	 type_bytes;
	uintptr_t	 type_frame;
	uintptr_t	 type_dict;	/* for py-names.c */
	uintptr_t	 type_long;
	uintptr_t	 type_module;
	uintptr_t	 type_cfunction;	/* for py-locks.c */
	uintptr_t	 type_method_descr;
	struct py_cache	*cache;		/* one dump's copies (py_cache_new),
					   or NULL: read everything afresh */
	int		 pthread_tid;	/* where glibc's struct pthread, which
					   a pthread_t points to, keeps the
					   kernel TID; 0: unknown (inside,
					   where it is not needed) */
	char		 why_not[128];	/* when py_detect failed */
};

/* One thread state, as py_thread_list reports it. */
struct py_thread {
	uintptr_t	 tstate;
	uintptr_t	 interp;
	unsigned long	 thread_id;	/* pthread_t of the thread */
	pid_t		 tid;		/* kernel TID; before 3.11 read
					   through rt->pthread_tid, else 0 */
	int		 attached;	/* 3.13+: state is attached; else -1 */
	int		 state;		/* 3.13+: PY_TS_*, else UNKNOWN */
	int		 holds_gil;	/* 3.13+: holds_gil; else -1 */
};

/* Thread states (struct py_thread.state), as CPython 3.13+ has them;
 * the numbers of enum gw_py_state (snapshot.h). */
#define PY_TS_UNKNOWN		0	/* not read, or shutting down */
#define PY_TS_ATTACHED		1	/* may run Python code */
#define PY_TS_DETACHED		2	/* runs no Python code */
#define PY_TS_SUSPENDED		3	/* detached and held by a
					   stop-the-world pause */

/* One Python frame. */
struct py_frame {
	char		 function[PY_NAME_MAX];	/* co_name */
	char		 qualname[PY_NAME_MAX];	/* co_qualname, "" <3.11 */
	char		 file[PY_FILE_MAX];	/* co_filename */
	int		 line;			/* 0 when unknown */
	int		 flags;
	uintptr_t	 frame;			/* the frame's address */
	uintptr_t	 code;			/* its code object */
};

#define PY_FRAME_INVALID	0x1	/* unreadable or failed a check: the
					   walk stopped here */
#define PY_FRAME_BADSTR		0x2	/* a name was unreadable: "???" */
#define PY_FRAME_MORE		0x4	/* deeper frames were left out */
#define PY_FRAME_CALL_END	0x8	/* the outermost frame of one native
					   eval-loop call (frames.h) */

/* A frame's name as shown: the qualified name where the version has it. */
static inline const char *
py_frame_name(const struct py_frame *f)
{
	return f->qualname[0] != '\0' ? f->qualname : f->function;
}

/* An object pointer from a frame's slot: 3.14's _PyStackRef carries
 * tag bits below the pointer. */
static inline uintptr_t
py_ref(const struct py_offsets *o, uintptr_t v)
{
	return v & ~(uintptr_t)o->fr_ref_tags;
}

/* What the GIL looks like right now (fields read one by one: racy). */
struct py_gil_state {
	int		 locked;	/* -1 uninitialised, 0 free, 1 held */
	unsigned long	 switch_number;
	unsigned long	 interval;	/* microseconds */
	uintptr_t	 last_holder;	/* PyThreadState *, may be 0 */
	unsigned long	 holder_thread_id;	/* of last_holder, or 0 */
	pid_t		 holder_tid;	/* 3.11+ (as py_thread.tid), or 0 */
};

/* Fields of a structure copied out with py_read, at offset off. */
static inline uintptr_t
py_ptr_at(const unsigned char *b, int off)
{
	uintptr_t v;

	__builtin_memcpy(&v, b + off, sizeof(v));
	return v;
}

static inline int
py_int_at(const unsigned char *b, int off)
{
	int v;

	__builtin_memcpy(&v, b + off, sizeof(v));
	return v;
}

static inline long
py_long_at(const unsigned char *b, int off)
{
	long v;

	__builtin_memcpy(&v, b + off, sizeof(v));
	return v;
}

/* py-mem.c */

/*
 * Copy len bytes at addr of the memory source (mem.h: this process or
 * another) into buf.  Returns 0, or -1 when any byte is unreadable (buf
 * is then undefined).  errno is preserved.  Allocates nothing.
 */
int	py_read(uintptr_t addr, void *buf, size_t len);
int	py_read_ptr(uintptr_t addr, uintptr_t *out);
int	py_read_int(uintptr_t addr, int *out);
int	py_read_ulong(uintptr_t addr, unsigned long *out);

/*
 * A str object as UTF-8 in buf (size bytes, NUL-terminated), for the
 * compact ASCII, latin-1, UCS-2 and UCS-4 kinds and ready legacy
 * strings.  Long strings are cut to fit and end in "...".  Returns the
 * length written, or -1 when obj is not a readable str (buf then says
 * "???").  Lone surrogates become '?'.  Allocates nothing;
 * async-signal-safe as py_read is.
 */
int	py_read_str(const struct py_runtime *rt, uintptr_t obj, char *buf,
	    size_t size);

/*
 * A NUL-terminated C string at addr into buf (size bytes), read a
 * chunk at a time so that no read goes far past its end: 0, or -1 when
 * unreadable or longer than buf (buf then holds what was read).
 */
int	py_read_cstr(uintptr_t addr, char *buf, size_t size);

/* The name of obj's type (tp_name: "_thread.lock", "queue.Queue"...):
 * 0, or -1 (buf "") when unreadable. */
int	py_type_name(const struct py_runtime *rt, uintptr_t obj, char *buf,
	    size_t size);

/* py-cache.c */

/*
 * Copies of what one dump reads many times over: code objects and
 * their names and line tables, type names, threading._active, where an
 * attribute sits in keys shared by a type's instances.  A dump of a
 * thousand threads in the same few functions then reads each code
 * object once instead of once per frame.  Set rt->cache to one for the
 * length of one dump, from one thread, and free it after: an address
 * the program frees and reuses must not be named from an old copy.
 * With rt->cache NULL every reader reads afresh (the shim's readers,
 * which run in many threads at once; a dump there sets its own with
 * py_cache_here).  Allocates.
 */
struct py_cache;

struct py_cache	*py_cache_new(void);
void		 py_cache_free(struct py_cache *);

/*
 * The shim's runtime is shared by every thread, so a dump there cannot
 * set rt->cache: c (NULL to stop) serves as rt->cache of any runtime
 * for the calling thread only, until set again.  py_cache_of: the
 * cache a reader of rt uses on this thread, or NULL.
 */
void		 py_cache_here(struct py_cache *c);
struct py_cache	*py_cache_of(const struct py_runtime *rt);

enum py_cache_kind {
	PY_CACHE_CODE,		/* py-frames.c: a code object, named */
	PY_CACHE_BYTES,		/* py-frames.c: a bytes object's data */
	PY_CACHE_TYPENAME,	/* py-mem.c: a type's tp_name */
	PY_CACHE_ACTIVE,	/* py-names.c: an interpreter's _active */
	PY_CACHE_TYPE,		/* py-names.c: a type's attribute layout */
	PY_CACHE_ATTR,		/* py-names.c: attribute indices in keys */
	PY_CACHE_NAMING,	/* py-names.c: the attribute naming a value */
	PY_CACHE_TSTATE,	/* py-frames.c: a thread state, as listed */
	PY_CACHE_LINE,		/* py-frames.c: an instruction's line */
	PY_CACHE_CONDLOCK,	/* py-wait.c: a Condition's _lock */
};

/* A thread state as py_thread_list read it (PY_CACHE_TSTATE). */
struct py_kept_tstate {
	uintptr_t	 interp;
	unsigned long	 thread_id;
	uintptr_t	 first;		/* its frame, or (3.10-3.12) cframe */
};

/* The copy of kind at addr, or NULL (none, or no cache). */
void	*py_cache_get(const struct py_runtime *rt, int kind, uintptr_t addr);

/* Keep val (malloc'd; the cache frees it) as the copy of kind at addr:
 * val, or NULL when it was not kept (val is then freed). */
void	*py_cache_put(const struct py_runtime *rt, int kind, uintptr_t addr,
	    void *val);

/* py-debug.c */

/*
 * The offsets CPython 3.13+ states in _Py_DebugOffsets at offset 0 of
 * _PyRuntime (rt->runtime; rt->major and minor known), taken into o,
 * whose other fields are left alone: runtime, interpreter, GIL locked
 * and holder, thread state, frame, code, object, type, dict, bytes and
 * str fields, and two implied by them (interpreters.main follows
 * interpreters.head; _main_interpreter ends _PyRuntimeState).  The
 * layouts of 3.13, 3.14 and 3.15 are known; a newer minor is read in
 * the newest, and must pass its checks (every size believable, every
 * offset inside its structure).  A free-threaded build's are taken as
 * well (rt->free_threaded set); its per-thread bytecode fields come
 * with them.  Returns 1 taken, 0 when there are none (no cookie, before
 * 3.13), -1 when they fail a check or are of a layout not known, why
 * saying which.  Allocates nothing.
 */
int	py_debug_offsets(struct py_runtime *rt, struct py_offsets *o,
	    char *why, size_t len);

/* Is this 3.13+ a free-threaded build, as its _Py_DebugOffsets say?
 * 1 yes, 0 no, -1 no debug offsets of its own version. */
int	py_debug_free_threaded(const struct py_runtime *rt);

/* py-detect.c */

/* The generated table's entry py_detect_with starts from for a
 * version and build (ft: free-threaded), or NULL (for tests: compared
 * with py_debug_offsets). */
const struct py_offsets *py_offsets_for(int major, int minor, int micro,
	    int ft);

/* Tests: from now on act as if the table had no entry for 3.minor (a
 * new minor); 0 forgets none. */
void	py_detect_forget(int minor);

/*
 * How py_detect_with finds an interpreter's symbols: sym gives the
 * address of a symbol in the process read (0 when absent); version
 * fills rt->major, minor and micro where Py_Version is absent (before
 * 3.11): 0, or -1 when it cannot tell.
 */
struct py_lookup {
	uintptr_t	(*sym)(const char *name, void *arg);
	int		(*version)(struct py_runtime *rt, void *arg);
	void		*arg;
};

/*
 * py_detect with the symbols of lk, for the process the memory source
 * (mem.h) reads: the one path that chooses the table and checks the
 * layout, from inside (py_detect) and from outside (py_attach).
 */
int	py_detect_with(struct py_runtime *rt, const struct py_lookup *lk);

/*
 * Find CPython in this process and fill rt.  Returns 0 when it is a
 * supported build, -1 otherwise with rt->why_not saying why ("no CPython
 * in this process", "CPython 3.15.0 is not supported", ...).
 * Works before the interpreter is initialised: the version and the
 * offsets are known then, the GIL may only be predicted (see
 * py_gil_locate).  Reads the version from Py_Version (3.11+) or, before
 * 3.11, from Py_GetVersion(), which only formats static strings into a
 * static buffer (no lock, no GIL).  Calls dlsym, which may allocate: call
 * it from initialisation code, once, from one thread, not from a hook.
 */
int	py_detect(struct py_runtime *rt);

/*
 * Locate (again) the main interpreter's GIL and fill rt->gil and the
 * gil_* addresses.  Up to 3.11 the GIL sits at a fixed place in
 * _PyRuntime; from 3.12 it is interpreters.main->ceval.gil, known only
 * once the main interpreter is created: until then rt->gil is the
 * address it will have (the main interpreter's own _gil) and
 * rt->gil_confirmed is 0.  A free-threaded build keeps a GIL that is
 * off unless turned back on (PYTHON_GIL=1, -X gil=1, or an extension
 * module that does not declare itself safe without it): it is located
 * all the same, with rt->gil_enabled saying whether it is on (see
 * py_gil_on).  Returns 1 when
 * confirmed, 0 when predicted, -1 when the layout fails a check
 * (why_not says which).  Not thread
 * safe against itself or py_detect; readers may run concurrently.
 * Allocates nothing.
 */
int	py_gil_locate(struct py_runtime *rt);

/* The kernel TID of the thread whose pthread_t is thread_id, through
 * rt->pthread_tid: 0 when unknown. */
pid_t	py_pthread_tid(const struct py_runtime *rt, unsigned long thread_id);

/*
 * Read the GIL's state.  Returns 0, or -1 when rt->gil is unknown or
 * unreadable.  Allocates nothing; async-signal-safe as py_read is.
 */
int	py_gil_read(const struct py_runtime *rt, struct py_gil_state *st);

/*
 * Is the GIL in use now?  1 on a build with a GIL once located, and on a
 * free-threaded build whose GIL is turned on for good; 0 on a
 * free-threaded build whose GIL is off, or on only while an extension
 * module is initialised; -1 when unknown or unreadable.  Allocates
 * nothing.
 */
int	py_gil_on(const struct py_runtime *rt);

/* py-attach.c */

/*
 * Find CPython in process pid from outside and fill rt as py_detect
 * does inside, with nothing stopped.  Makes pid the memory source
 * (mem_source_pid): every reader then reads that process.  The
 * interpreter is the executable or a mapped libpython3.X.so (an
 * embedding program) that defines _PyRuntime in its ELF symbol tables
 * (.dynsym or .symtab; a stripped static build keeps it in .dynsym);
 * addresses are moved by the file's load bias.  The version is
 * Py_Version (3.11+); before 3.11 the file name (libpython3.X.so,
 * python3.X), confirmed by the running interpreter's sys.version,
 * which also gives the micro.  Returns 0, or -1 with a one-line reason
 * in why ("not CPython", "CPython 3.X: no table; supported 3.8-3.15",
 * "/proc/PID/maps: Permission denied", ...).  Reads /proc/PID/maps and
 * the mapped files; allocates.  Not for a signal handler.
 */
int	py_attach(pid_t pid, struct py_runtime *rt, char *why, size_t whylen);

/*
 * The same over mappings already read (maps.h): a live process's or a
 * core file's.  The memory source is the caller's to choose.
 */
struct maps;
int	py_attach_maps(const struct maps *m, struct py_runtime *rt,
	    char *why, size_t whylen);

/* The load bias of an ELF file (libelf's Elf) whose file offset 0 is
 * mapped at start: 0 and *bias, or -1. */
struct Elf;
int	py_elf_bias(struct Elf *e, uintptr_t start, uintptr_t *bias);

/* py-frames.c */

/*
 * Call fn for every thread state of every interpreter, newest
 * interpreter first, until fn returns non-zero.  Returns the number of
 * threads reported, or -1 when the runtime is not initialised or its
 * lists are unreadable.  A list that fails a check (tstate->interp not
 * pointing back) is cut there.  Allocates nothing; async-signal-safe as
 * py_read is (and as safe as fn).
 */
int	py_thread_list(const struct py_runtime *rt,
	    int (*fn)(const struct py_thread *, void *), void *arg);

/*
 * The Python frames of one thread, innermost first, into out[0..max-1].
 * The thread is the one whose thread state has thread_id (pthread_t),
 * or, when thread_id is 0, native TID tid (3.11+ only).  A thread with
 * states in several interpreters gives the first (newest interpreter)
 * that has frames: a thread running a subinterpreter has its innermost
 * frames there.  Frames owned by the C stack and frames not started yet
 * are left out, as sys._current_frames() leaves them out.  Returns the
 * number of frames written (a thread with no Python frames gives 0), or
 * -1 when there is no such thread.  The last frame is flagged
 * PY_FRAME_MORE when deeper ones did not fit, PY_FRAME_INVALID when the
 * walk had to stop.  Another thread's frames change while they are read:
 * without the GIL the result for a running thread is a best effort.
 * Costs some 4-5 us per frame (about ten reads) plus the search for the
 * thread; a caller that knows the thread state uses py_tstate_frames.
 * Allocates nothing (1.5 KB of stack, 6 KB in the maps fallback);
 * async-signal-safe as py_read is.
 */
int	py_thread_frames(const struct py_runtime *rt, unsigned long thread_id,
	    pid_t tid, struct py_frame *out, int max);

/* The thread state of the thread py_thread_frames would read: 0, or -1
 * when there is none. */
int	py_thread_tstate(const struct py_runtime *rt, unsigned long thread_id,
	    pid_t tid, uintptr_t *tstate);

/* The state of thread state ts (3.13+): PY_TS_*, UNKNOWN when it cannot
 * be read.  Allocates nothing. */
int	py_tstate_state(const struct py_runtime *rt, uintptr_t ts);

/* The same, for a thread state already found (py_thread_list); -1 when
 * tstate is unreadable. */
int	py_tstate_frames(const struct py_runtime *rt, uintptr_t tstate,
	    struct py_frame *out, int max);

/*
 * The one interpreter frame at fp (3.11+; a generator's or coroutine's
 * own frame, which no thread's chain holds while it is suspended),
 * named as py_tstate_frames names a frame: 0, or -1 with out marked
 * PY_FRAME_INVALID when it is unreadable, not a frame of Python code,
 * or not started.  Allocates nothing.
 */
int	py_frame_at(const struct py_runtime *rt, uintptr_t fp,
	    struct py_frame *out);

/*
 * Before the frames of many threads are read from outside: copy the
 * pages of the innermost frames of thread states ts[0..n-1] (as
 * py_thread_list kept them in rt->cache) a level at a time, each level
 * in one system call (mem_cache_prefetch), so that the walks after it
 * find them there.  At most MEM_PREFETCH_MAX states are looked at.
 */
void	py_tstates_prefetch(const struct py_runtime *rt, const uintptr_t *ts,
	    size_t n);

/*
 * Where the calling thread is in Python, cheaply, to be named later: a
 * code object and the byte offset of the current instruction.  Used to
 * say which Python line took a lock.
 */
struct py_site {
	uintptr_t	 code;
	long		 addr;		/* -1: not started */
};

/*
 * The calling thread's innermost Python frame.  ts must be the caller's
 * own thread state and the caller must hold the GIL: the frames are then
 * its own and cannot change, so they are read with plain loads (no
 * system call).  self is pthread_self(), checked against ts first.
 * Returns 0, or -1 (site unset) when ts is not the caller's or it has
 * no Python frame.  Not for other threads: use py_thread_frames.
 */
int	py_own_site(const struct py_runtime *rt, uintptr_t ts,
	    unsigned long self, struct py_site *site);

/*
 * The same for all of the calling thread's frames, innermost first,
 * into out[0..max-1] (as py_own_site: its own thread state, holding the
 * GIL): the number written, or -1 when ts is not the caller's.
 */
int	py_own_sites(const struct py_runtime *rt, uintptr_t ts,
	    unsigned long self, struct py_site *out, int max);

/*
 * py_own_site's common case at a lower cost, for the hooks that ask at
 * every Python lock taken: the innermost frame, run by its thread, on a
 * build with a GIL of 3.11 or later.  The offsets it needs are copied
 * here, so that each is loaded beside the others rather than behind a
 * pointer to struct py_offsets: every load saved from the chain is a
 * few cycles that the lock's own atomic instruction waits for.
 */
struct py_own_fast {
	int		via;		/* 0: no fast path for this build */
	int		ts_thread_id;
	int		ts_first;	/* the first frame's word in ts, or
					   (PY_OWN_CFRAME) the cframe's */
	int		cf_current_frame;
	int		fr_code, fr_instr, fr_owner;
	int		owner_cstack;	/* this owner and higher: C-owned */
	int		co_code_adaptive;
	uintptr_t	keep;		/* f_executable's tag bits cleared */
};

#define PY_OWN_CURRENT	1	/* 3.13+: ts->current_frame */
#define PY_OWN_CFRAME	2	/* 3.11, 3.12: ts->cframe->current_frame */

/* Fills f for the layout o (via 0 where the fast path does not apply). */
void	py_own_fast_init(const struct py_offsets *o, struct py_own_fast *f);

/*
 * py_own_site with the offsets in f: 1 with *site set as py_own_site
 * would set it; 0 when the caller must ask py_own_site (no fast path, ts
 * not the caller's, no frame, or an innermost frame the C stack owns).
 */
static inline int
py_own_site_fast(const struct py_own_fast *f, uintptr_t ts,
    unsigned long self, struct py_site *site)
{
	uintptr_t fp, code;

	if (__builtin_expect(f->via == 0 || ts == 0 ||
	    *(const unsigned long *)(ts + (uintptr_t)f->ts_thread_id) != self,
	    0))
		return 0;
	fp = *(const uintptr_t *)(ts + (uintptr_t)f->ts_first);
	if (f->via == PY_OWN_CFRAME && fp != 0)
		fp = *(const uintptr_t *)(fp + (uintptr_t)f->cf_current_frame);
	if (__builtin_expect(fp == 0 ||
	    *(const signed char *)(fp + (uintptr_t)f->fr_owner) >=
	    f->owner_cstack, 0))
		return 0;
	code = *(const uintptr_t *)(fp + (uintptr_t)f->fr_code) & f->keep;
	site->code = code;
	site->addr = (long)(*(const uintptr_t *)(fp + (uintptr_t)f->fr_instr) -
	    (code + (uintptr_t)f->co_code_adaptive));
	return 1;
}

/*
 * The sites of a thread's Python frames, innermost first, as
 * py_tstate_frames walks them, into out[0..max-1]: the number written,
 * or -1 when ts is unreadable.  The walk stops at a frame that fails a
 * check.  Cheap enough to keep with a record made once (a lock-order
 * edge): nothing is named.  Allocates nothing.
 */
int	py_tstate_sites(const struct py_runtime *rt, uintptr_t ts,
	    struct py_site *out, int max);

/*
 * Name a site later, from any thread: the code object is read safely,
 * so one freed since gives -1.
 */
int	py_site_frame(const struct py_runtime *rt, const struct py_site *site,
	    struct py_frame *out);

/*
 * The thread's outermost frame that Python code runs in (C-owned entry
 * frames of 3.12+ are passed over) and its code object, checked to be
 * code: 0, or -1 when there is none or the walk fails a check.
 */
int	py_tstate_outermost(const struct py_runtime *rt, uintptr_t ts,
	    uintptr_t *frame, uintptr_t *code);

/*
 * Local i of a frame (0: self, in a method), its tag bits (3.14) masked
 * off: 0 and *v, or -1 when the version has no such slot or it is
 * unreadable.  The value is not checked: callers check its type.
 */
int	py_frame_local(const struct py_runtime *rt, uintptr_t frame, int i,
	    uintptr_t *v);

/*
 * The value stack of a frame, as py_tstate_stacks gives it: slots
 * base[0..size) (co_stacksize) of which [0, live) are live for certain.
 * Up to 3.10 live is the level of the frame's innermost block (a `with`
 * or `try` records it as it starts); from 3.11 the depth of the
 * exception handler that covers the current instruction.  Neither
 * version saves the stack pointer of a frame that calls C, so slots
 * at or above live may hold values popped long ago.
 */
struct py_stack {
	uintptr_t	 frame;
	int		 index;		/* 0: innermost frame shown */
	uintptr_t	 base;		/* address of slot 0 */
	int		 live;
	int		 size;
};

#define PY_STACK_MAX	4096	/* slots: a larger co_stacksize is garbage */

/*
 * Call fn for each of ts's frames that py_tstate_frames shows,
 * innermost first, until it returns non-zero.  Returns the number of
 * frames given to fn, or -1 when ts is unreadable or the version's
 * stacks are not known (a minor without a table).  Allocates nothing.
 */
int	py_tstate_stacks(const struct py_runtime *rt, uintptr_t ts,
	    int (*fn)(const struct py_runtime *, const struct py_stack *,
	    void *), void *arg);

/* py-names.c */

/*
 * threading's name of a thread (its Thread object's _name, which
 * Thread.name reads and sets), into buf as UTF-8 (as py_read_str).
 * ts is the thread's state and thread_id its pthread_t, checked against
 * ts first.  Found two ways, the first that works:
 *   - threading._active[thread_id], through the sys.modules of ts's
 *     interpreter: every thread threading knows of, MainThread and
 *     Dummy-N threads included;
 *   - the thread's outermost frame, when it is threading's
 *     Thread._bootstrap(self): self is the Thread (a thread between
 *     start and its entry in _active, or after it left it).
 * Returns the length, or -1 (buf "") when the thread has no Thread
 * object or one of the structures fails a check.  Costs some 15-25
 * reads (process_vm_readv) once the keys' hashes are known (they are
 * found once, by a scan of the dicts, then cached), some 15 fewer for
 * a second of the process and interpreter after _active was found (its
 * address is kept, py_names_forget); a thread reading
 * its own name while it holds the GIL sees stable memory, others are
 * read as py_thread_frames reads them.  Allocates nothing;
 * async-signal-safe as py_read is.
 */
int	py_tstate_name(const struct py_runtime *rt, uintptr_t ts,
	    unsigned long thread_id, int main_thread, char *buf, size_t size);

/* The same, for the thread with this pthread_t (searched for as
 * py_thread_frames does). */
int	py_thread_name(const struct py_runtime *rt, unsigned long thread_id,
	    char *buf, size_t size);

/* The next name looked up finds threading._active from sys.modules. */
void	py_names_forget(void);

/*
 * Dicts, as py-names.c reads them (here for tests).  The value of the
 * str key `key` (ASCII) in dict, or of the int key `ival` (>= 0): 0 and
 * *value, or -1 when absent or unreadable.  *hash caches the key's hash
 * across calls: pass a variable holding -1 at first; it is filled once
 * the key is found by a scan and then used to look the key up directly.
 */
int	py_dict_get_str(const struct py_runtime *rt, uintptr_t dict,
	    const char *key, long *hash, uintptr_t *value);

/*
 * The same for a key looked up again and again while it may be absent
 * ("threading" in sys.modules): *c keeps its hash once found and, until
 * then, how far the last lookup read the dict's entries, so that the
 * next reads only those added since (py-names.c).  Start *c as
 * PY_KEY_CACHE_INIT.
 */
struct py_key_cache {
	_Atomic long		hash;		/* -1: not found yet */
	_Atomic uintptr_t	miss_keys;	/* 0: no miss kept */
	_Atomic long		miss_entries;	/* the entries it read */
};
#define PY_KEY_CACHE_INIT	{ -1, 0, 0 }

int	py_dict_get_str_kept(const struct py_runtime *rt, uintptr_t dict,
	    const char *key, struct py_key_cache *c, uintptr_t *value);
int	py_dict_get_int(const struct py_runtime *rt, uintptr_t dict,
	    unsigned long ival, uintptr_t *value);

/* The value of attribute `name` in obj's instance dict, as above. */
int	py_attr_get(const struct py_runtime *rt, uintptr_t obj,
	    const char *name, long *hash, uintptr_t *value);

/*
 * The name of obj's instance attribute whose value is value (the first
 * in the dict's order), into buf as UTF-8: its length, or -1 (buf "")
 * when obj has no instance dict or no such attribute.  A scan of the
 * dict: costs a read per 16 attributes.
 */
int	py_attr_naming(const struct py_runtime *rt, uintptr_t obj,
	    uintptr_t value, char *buf, size_t size);

/*
 * The pthread_t of the threading.Thread object thread, from the key it
 * has in threading._active of ts's interpreter: 0, or -1 when it is not
 * there (not started, or ended) or a structure fails a check.
 */
int	py_thread_ident(const struct py_runtime *rt, uintptr_t ts,
	    uintptr_t thread, unsigned long *thread_id);

/* py-cs.c */

#define PY_CS_MAX	16	/* critical sections read per thread */

/* A critical section a thread is in (free-threaded CPython). */
struct py_cs {
	uintptr_t	 object;	/* the object it locks, 0 while the
					   thread waits to enter it */
	uintptr_t	 object2;	/* a two-object section's other, or 0 */
	char		 type[PY_NAME_MAX];	/* the object's type */
	char		 type2[PY_NAME_MAX];
	int		 state;		/* PY_CS_* */
};

#define PY_CS_HELD	1	/* active: its objects are locked */
#define PY_CS_SUSPENDED	2	/* released while the thread is detached,
				   taken again when it attaches */
#define PY_CS_ENTERING	3	/* being entered: the thread waits for
				   its lock (the object is recorded only
				   once it has it) */

/*
 * The critical sections thread state ts is in, innermost first, into
 * out[0..max-1], following tstate->critical_section and each section's
 * tagged _cs_prev (free-threaded builds only).  Returns how many (0 for
 * none), or -1 when the version has none or ts is unreadable; *more is
 * set when the chain went on past max.  A section that fails a check
 * (an object that is not one) ends the walk.  Allocates nothing.
 */
int	py_tstate_critical_sections(const struct py_runtime *rt,
	    uintptr_t ts, struct py_cs *out, int max, int *more);

/*
 * Does a section in state (PY_CS_*) on object and object2 (0: none)
 * hold the PyMutex at m: is it held, with m one of its objects'
 * ob_mutex?  The thread in it holds m, taken inside libpython.
 */
int	py_cs_holds(const struct py_runtime *rt, int state, uintptr_t object,
	    uintptr_t object2, uintptr_t m);

/*
 * Those n sections as a snapshot gives them (gilwatch/snapshot.h), in
 * arena a with their type names; NULL when n is 0 or memory runs out.
 * Both dumps use it: from outside and from inside (gilwatch run).
 */
struct arena;
struct gw_critical_section;
struct gw_critical_section *py_cs_export(const struct py_cs *cs, int n,
	    struct arena *a);

/* py-stw.c */

/* A stop-the-world pause, as py_stop_the_world reads it. */
struct py_stw {
	int		 requested;	/* asked for: threads are stopping */
	int		 stopped;	/* every thread has stopped */
	int		 global;	/* the runtime's (all interpreters) */
	long		 countdown;	/* threads yet to stop */
	uintptr_t	 requester;	/* its thread state, or 0 */
	pid_t		 requester_tid;	/* its TID, or 0 */
};

/*
 * The stop-the-world pause of the runtime or, without one, of the main
 * interpreter (3.13+): 1 with *st when one is requested or on, 0 when
 * none is, -1 when the version has none or it is unreadable.  Fields
 * read one by one: racy.  Allocates nothing.
 */
int	py_stop_the_world(const struct py_runtime *rt, struct py_stw *st);

/*
 * The i-th of a caller's n threads: its name (NULL: leave it out), with
 * its TID and thread state (PY_TS_*) in *tid and *state.
 */
typedef const char *(*py_stw_thread_fn)(const void *list, size_t i,
	    pid_t *tid, int *state);

/* How that note begins: a reader of notes finds the pause by it. */
#define PY_STW_NOTE_LEAD	"A stop-the-world pause"

/*
 * A dump's note on pause st, into buf: who asked for it (by name when
 * found among the threads) and, while threads are yet to stop, the
 * attached threads other than it that hold it up.  Every reader gives
 * it in these words: dumps from outside and inside, and top.
 */
void	py_stw_note(const struct py_stw *st, py_stw_thread_fn thread,
	    const void *list, size_t n, char *buf, size_t len);

/* py-wait.c */

/* What a thread's Python code waits on, recognised from its frames. */
enum py_wait_kind {
	PY_WAIT_NONE,
	PY_WAIT_NOTIFY,		/* in Condition.wait: for a notify */
	PY_WAIT_JOIN,		/* in Thread.join: for a thread to end */
};

struct py_wait {
	enum py_wait_kind kind;
	uintptr_t	 object;	/* the Condition, or the Thread joined */
	char		 type[PY_NAME_MAX];	/* its type's name */
	uintptr_t	 via;		/* NOTIFY: the object the Condition is
					   an attribute of (a Semaphore, an
					   Event, a Queue...), or 0 */
	char		 via_type[PY_NAME_MAX];
	char		 via_attr[PY_NAME_MAX];	/* that attribute's name */
	unsigned long	 joined;	/* JOIN: pthread_t of the thread
					   joined; 0 when not found */
	int		 at;		/* index of the frame that waits */
	uintptr_t	 lock;		/* NOTIFY: the Condition's own lock
					   (_lock), or 0 */
	int		 lock_parked;	/* NOTIFY, 3.14: a thread parks on the
					   Condition's lock (or it could not
					   be read): maybe this one */
};

/*
 * Recognise, in the frames of a thread (py_thread_frames, innermost
 * first; n of them), a wait in threading's Condition.wait or
 * Thread.join, and read the objects involved: the first local (self)
 * of those frames and of the frame that called them.  thread_id is the
 * thread's pthread_t (its interpreter's threading module is read).
 * Returns 0 with w filled, or -1 (w->kind PY_WAIT_NONE) when the frames
 * show neither or an object fails a check.  The caller decides whether
 * the thread really waits there (frames of a running thread move on).
 * Allocates nothing; async-signal-safe as py_read is.
 */
int	py_thread_wait(const struct py_runtime *rt, unsigned long thread_id,
	    const struct py_frame *frames, int n, struct py_wait *w);

/* py-locks.c */

enum py_lock_kind {
	PY_LOCK_NONE,
	PY_LOCK_LOCK,		/* _thread.lock: threading.Lock */
	PY_LOCK_RLOCK,		/* _thread.RLock */
};

/* A Python lock as read from memory (fields read one by one: racy). */
struct py_lock {
	uintptr_t	 object;	/* the lock object */
	enum py_lock_kind kind;
	uintptr_t	 word;		/* the address that names it, which a
					   blocked acquire's futex word leads
					   to: its sem_t (3.8-3.13, 3.13t's
					   RLock: that futex word itself), its
					   PyMutex (3.14+, 3.13t's Lock) */
	int		 locked;
	int		 parked;	/* 3.14+: a thread parks on it */
	unsigned long	 owner;		/* RLock: pthread_t of its owner
					   while locked, else 0 */
	unsigned long	 count;		/* RLock: acquires held */
	int		 frame;		/* py_tstate_held, py_tstate_waits:
					   index of the frame it was found
					   in (0: innermost shown) */
};

/*
 * Read the _thread.lock or _thread.RLock at obj (its type is checked by
 * name): 0, or -1 when obj is neither or unreadable, or the version's
 * lock layouts are not known (a minor without a table).  A PyMutex lock
 * (3.14+, 3.13t's Lock) is locked while its PyMutex's bit 0 is set; a
 * PyMutex RLock's owner is the pthread_t its _PyRecursiveMutex records.
 */
int	py_lock_read(const struct py_runtime *rt, uintptr_t obj,
	    struct py_lock *l);

/*
 * The address a report names l by, the same in and out of the shim:
 * a semaphore lock's semaphore (3.8-3.13, 3.13t's RLock: the shim's sem
 * hooks see that), a PyMutex lock's object (3.14+, 3.13t's Lock: its
 * id(); the shim's method hooks see self).
 */
static inline uintptr_t
py_lock_addr(const struct py_runtime *rt, const struct py_lock *l)
{
	return (l->kind == PY_LOCK_RLOCK ? rt->off->rlock_sem :
	    rt->off->lock_sem) >= 0 ? l->word : l->object;
}

/*
 * The locks thread state ts holds by a `with` block, inferred from the
 * bound __exit__ each such block keeps on its frame's value stack: only
 * slots known to be live count (py_stack), and the lock must be locked.
 * 3.14+: a `with` keeps the unbound __exit__ of the lock's type and,
 * in the next slot, the lock (LOAD_SPECIAL's pair); up to 3.13 the
 * bound __exit__.  Locks taken by a bare acquire() are not seen.  Into
 * out[0..max-1]; returns how many, or -1 when ts is unreadable or the
 * version's locks or stacks are not known.  Costs a read or two per
 * live slot.  Allocates nothing.
 */
int	py_tstate_held(const struct py_runtime *rt, uintptr_t ts,
	    struct py_lock *out, int max);

/*
 * The Lock or RLock a thread blocked in its acquire() waits for, given
 * the futex word it waits on (the uaddr of /proc/PID/task/TID/syscall,
 * futex op WAIT_BITSET): a semaphore lock (up to 3.13, 3.13t's RLock)
 * whose semaphore is that word; a PyMutex lock (3.14+, 3.13t's Lock)
 * whose PyMutex is the addr of the parking lot's wait_entry around that
 * word (a semaphore on the waiter's own stack), found on the value stacks of ts's innermost frames (self of
 * acquire(), the lock or bound __enter__ of a `with`).  Exact: the
 * address must match.  0 with *l, or -1 when no such lock is there (the
 * thread waits on something else).  Allocates nothing.
 */
int	py_tstate_waits(const struct py_runtime *rt, uintptr_t ts,
	    uintptr_t futex, struct py_lock *l);

/*
 * The word a thread sleeping on futex is parked on (the addr of the
 * parking lot's wait_entry around that futex word: a PyMutex, for a
 * critical section's object lock), where locks are PyMutexes (3.13t,
 * 3.14+); else, or when unreadable, 0.
 * One read.
 */
uintptr_t	py_parked_word(const struct py_runtime *rt, uintptr_t futex);

/*
 * Does a thread sleeping on futex wait to take the lock at obj (one the
 * caller knows of: a Condition's _lock)?  As py_tstate_waits, for that
 * one object: 0 with *l, or -1 (no, or unreadable).  One or two reads.
 */
int	py_lock_waited(const struct py_runtime *rt, uintptr_t obj,
	    uintptr_t futex, struct py_lock *l);

/* One thread's locks held by `with` blocks (py_tstate_held). */
struct py_holds {
	unsigned long		 thread_id;	/* its pthread_t */
	const struct py_lock	*locks;
	int			 n;
};

/*
 * Who holds l: an RLock's recorded owner (*inferred 0); for a locked
 * Lock, the one thread of h[0..n-1] whose `with` blocks hold it
 * (*inferred 1).  Returns that thread's pthread_t, or 0 when l is free,
 * nobody is seen holding it (a bare acquire(), a thread we do not
 * read) or more than one thread seems to.
 */
unsigned long py_lock_holder(const struct py_lock *l,
	    const struct py_holds *h, int n, int *inferred);

/*
 * Is addr, the futex word a thread waits on, inside the GIL's mutex or
 * condition variable, so that the thread waits to take the GIL?
 */
int	py_gil_waits(const struct py_runtime *rt, uintptr_t addr);

#endif /* GW_PY_H */
