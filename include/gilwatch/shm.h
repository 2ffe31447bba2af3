/*
 * gilwatch shared-memory publication: what `gilwatch top` reads.
 *
 * The shim in a process running under gilwatch keeps a file,
 * <dir>/<pid>.shm, where <dir> is the directory of its control socket
 * ("$XDG_RUNTIME_DIR/gilwatch", else "/tmp/gilwatch-<uid>", mode 0700;
 * see gilwatch(1)).  The file is mode 0600.  Its helper (the monitor
 * process beside it, or a thread of it) rewrites it every
 * GILWATCH_PUBLISH_MS milliseconds (100 by default; 0: no file)
 * and removes it at exit.  Readers map it read-only: nothing a reader
 * does, crashing included, changes anything for the program.
 *
 * Layout: a header, then two slots of slot_size bytes.  The writer fills
 * the slot readers are not told to read, then flips `current` to it, so
 * a reader that copies the current slot in less than one interval never
 * meets the writer.  Each slot has a sequence counter in the header, odd
 * while the slot is written; a reader copies the slot and keeps the copy
 * only if the counter was even and unchanged around the copy (and the
 * layout generation too), otherwise it tries again, a bounded number of
 * times.
 *
 * A slot starts with a struct gw_shm_frame, whose sections (threads,
 * locks, deadlock links, lock-order summaries, symbols) are arrays of
 * fixed-size records at offsets from the slot's start.
 *
 * Growth: when threads outnumber what a slot has room for, the writer
 * makes the generation odd, grows the file (ftruncate, never shrinks
 * it), moves slot 1, updates the layout fields and makes the generation
 * even again.  A reader whose mapping is shorter than file_size maps
 * the file again.  When growing fails, the writer publishes what fits
 * and sets GW_SHM_TRUNC_THREADS.
 *
 * Compatibility: all numbers are in the host's byte order and doubles
 * are IEEE-754 binary64; the file never leaves the machine.  `version`
 * changes when a field changes meaning or place.  Within one version,
 * fields are only ever added at the end of a struct; the header gives
 * the size of each record as written, so a reader steps over records by
 * those sizes, reads the fields it knows and takes the ones it does not
 * find (a shorter record, from an older writer) as zero.  gilwatch
 * reads only the version it was built with: the shim and the command
 * come from one build.  Version 2 added py_wait to struct
 * gw_shm_thread.  Added since, at the ends: the GIL blame sections and
 * the real-time budget (struct gw_shm_frame), a thread's scheduling
 * (struct gw_shm_thread), their record sizes (struct gw_shm_header; 0
 * from a writer without them: no such section).  Version 3 added what
 * stands in for the GIL on a free-threaded CPython: each thread's
 * critical sections (struct gw_shm_thread), the stop-the-world pause
 * under way and the PyMutex contention totals (struct gw_shm_frame).
 * Version 4 added the process's loop-stall threshold to the header,
 * whose size the reader requires whole.
 *
 * Times: *_mono_ns are CLOCK_MONOTONIC nanoseconds, the same clock for
 * every process on the machine; *_real_ns are CLOCK_REALTIME.  An age
 * ("*_ns" of a state) is measured at the frame's mono_ns.
 */
#ifndef GILWATCH_SHM_H
#define GILWATCH_SHM_H

#include <stdint.h>

#define GW_SHM_MAGIC		"gilwshm"	/* 8 bytes with its NUL */
#define GW_SHM_VERSION		4
#define GW_SHM_SUFFIX		".shm"

/* Limits, defined here only. */
#define GW_SHM_COMMAND_LEN	256	/* the command line, cut to fit */
#define GW_SHM_NAME_LEN		16	/* thread names, as the kernel's */
#define GW_SHM_OWNERS		4	/* holders listed for a waited lock */
#define GW_SHM_HELD		4	/* held locks listed per thread */
#define GW_SHM_FRAMES		16	/* native frames listed per thread */
#define GW_SHM_PYFRAME_LEN	96	/* the top Python frame, as text */
#define GW_SHM_PYTYPE_LEN	32	/* a Python type's name, cut to fit */
#define GW_SHM_PYVIA_LEN	64	/* "Queue.not_empty", cut to fit */
#define GW_SHM_TOP_LOCKS	32	/* locks published: most waited for */
#define GW_SHM_SITES		4	/* call sites per lock, as stats.h */
#define GW_SHM_ORDERS		16	/* lock-order summaries kept */
#define GW_SHM_ORDER_LEN	160	/* one summary, cut to fit */
#define GW_SHM_FUNC_LEN		80	/* symbol names, cut to fit */
#define GW_SHM_MODULE_LEN	48	/* module base names */
#define GW_SHM_FILE_LEN		64	/* source file base names */
#define GW_SHM_BLAME_SITES	32	/* Python lines listed by blocking */
#define GW_SHM_BLAME_PARTS	512	/* parts of waits listed, all
					   waiters together */
#define GW_SHM_BLAME_EACH	4	/* holders, and lines, per waiter */
#define GW_SHM_CS		4	/* critical sections listed per thread */
#define GW_SHM_PAUSE_LEN	512	/* a stop-the-world pause, in words */

/* The file's header: written once, but for the layout fields. */
struct gw_shm_header {
	char		magic[8];	/* GW_SHM_MAGIC */
	uint32_t	version;	/* GW_SHM_VERSION */
	uint32_t	header_size;	/* sizeof(struct gw_shm_header) */
	uint32_t	frame_size;	/* sizeof(struct gw_shm_frame) */
	uint32_t	thread_size;	/* sizeof(struct gw_shm_thread) */
	uint32_t	lock_size;	/* sizeof(struct gw_shm_lock) */
	uint32_t	link_size;	/* sizeof(struct gw_shm_link) */
	uint32_t	order_size;	/* sizeof(struct gw_shm_order) */
	uint32_t	sym_size;	/* sizeof(struct gw_shm_sym) */

	/* The process. */
	int32_t		pid;
	uint32_t	interval_ms;	/* between publications */
	uint64_t	start_ticks;	/* /proc/PID/stat field 22: a reused
					   pid has another */
	uint64_t	start_real_ns;	/* when the process started */
	char		command[GW_SHM_COMMAND_LEN]; /* arguments joined
					   by spaces */

	/*
	 * The layout.  gen is odd while the writer changes the fields
	 * below it; seq[i] is odd while slot i is written.  Read them
	 * with atomic loads (acquire).
	 */
	uint64_t	gen;
	uint64_t	seq[2];
	uint32_t	current;	/* the slot last completed: 0 or 1 */
	uint32_t	stopped;	/* the writer has stopped for good */
	uint64_t	file_size;
	uint64_t	slot_offset[2];	/* from the start of the file */
	uint64_t	slot_size;
	uint64_t	reserved[8];

	uint32_t	blame_site_size;	/* struct gw_shm_blame_site */
	uint32_t	blame_size;	/* struct gw_shm_blame */

	/* The process's settings that top marks against. */
	uint32_t	loop_stall_ms;	/* --loop-stall: a loop turn this
					   long is a stall; 0: off */
	uint32_t	pad;
};

/* struct gw_shm_frame flags: something did not fit. */
#define GW_SHM_TRUNC_THREADS	0x1	/* some threads are left out */
#define GW_SHM_TRUNC_SYMS	0x2	/* some addresses have no name */
#define GW_SHM_TRUNC_LINKS	0x4	/* some deadlock links left out */
/* and a setting: */
#define GW_SHM_BLAME_OFF	0x8	/* GIL blame is off (GILWATCH_BLAME=0) */
#define GW_SHM_HELPER_APART	0x10	/* the writer is a process of its own
					   (the monitor): none of the
					   program's threads is gilwatch's;
					   without it, one is (the helper
					   thread, never published) */

/* The GIL, from the shim's GIL tracking (all zero when not present). */
struct gw_shm_gil {
	uint32_t	present;	/* a CPython with a GIL is tracked */
	int32_t		holder;		/* TID holding it now, 0: free */
	uint64_t	holder_ns;	/* held by holder for */
	uint32_t	waiting;	/* threads waiting for it now */
	uint32_t	pad;
	uint64_t	switches;	/* acquisitions so far */
	uint64_t	forced;		/* drop requests (timed-out waits) */
	uint64_t	interval_us;	/* sys.getswitchinterval() */
	double		load_1s, load_10s, load_all;	/* fraction held */
	double		contention_1s, contention_10s, contention_all;
	char		version[16];	/* "3.11.7", "" when not present */
	char		why_not[128];	/* why not present */
};

/* The start of each slot. */
struct gw_shm_frame {
	uint64_t	updates;	/* publications so far, this included */
	uint64_t	mono_ns;	/* when this one was made */
	uint64_t	real_ns;
	uint32_t	used;		/* bytes of the slot in use */
	uint32_t	flags;		/* GW_SHM_TRUNC_* */
	uint32_t	threads_total;	/* threads the shim knows */
	uint32_t	locks_total;	/* locks with any use */
	uint32_t	inversions;	/* lock-order inversions reported */
	uint32_t	cycles;		/* deadlock cycles in links */

	/* Sections: offset from the slot's start, and record count. */
	uint32_t	threads_off, nthreads;	/* struct gw_shm_thread */
	uint32_t	locks_off, nlocks;	/* struct gw_shm_lock */
	uint32_t	links_off, nlinks;	/* struct gw_shm_link */
	uint32_t	orders_off, norders;	/* struct gw_shm_order */
	uint32_t	syms_off, nsyms;	/* struct gw_shm_sym */
	uint32_t	pad;

	struct gw_shm_gil gil;

	/*
	 * GIL blame (gilwatch run's GIL report has it all): the lines that
	 * held the GIL longest while another thread waited (the
	 * GW_SHM_BLAME_SITES - 8 biggest over the run, then the biggest
	 * recently), and the biggest parts of each waiting thread's wait.
	 * Filled from the first viewer on (empty before).
	 */
	uint32_t	blame_sites_off, nblame_sites;	/* gw_shm_blame_site */
	uint32_t	blame_off, nblame;	/* struct gw_shm_blame */
	uint64_t	blame_recent_ns;	/* recent_ns spans this long */

	/* The real-time budget (--rt-budget), 0: off; waits over it by
	 * SCHED_FIFO/RR threads so far, GIL and locks together. */
	uint64_t	rt_budget_ns;
	uint64_t	rt_misses;

	/*
	 * Free-threaded CPython: a stop-the-world pause under way, in the
	 * words of dumps' note (who asked, the attached threads holding it
	 * up), "" when none.  Read while a viewer watches.
	 */
	char		pause[GW_SHM_PAUSE_LEN];

	/* CPython 3.14+: the waits for PyMutexes another thread held
	 * (critical sections' object locks, the interpreter's), all
	 * together, as the lock section counts each. */
	uint32_t	pymutex_locks;	/* PyMutexes waited on so far */
	uint32_t	pad2;
	uint64_t	pymutex_waits;
	uint64_t	pymutex_wait_ns;
	uint64_t	pymutex_wait_max_ns;
};

/* A lock a thread holds. */
struct gw_shm_held {
	uint64_t	addr;
	uint64_t	site;		/* return address of the acquire */
	uint64_t	held_ns;	/* held for; 0 when statistics are off */
	uint32_t	count;		/* recursion depth */
	uint8_t		kind;		/* enum gw_lock_kind (snapshot.h) */
	uint8_t		mode;		/* enum gw_lock_mode */
	uint8_t		py_type;	/* GW_SHM_PYLOCK_* */
	uint8_t		pad;
};

/* struct gw_shm_thread flags. */
#define GW_SHM_T_FRAMES_TRUNC	0x1	/* the stack was deeper */
#define GW_SHM_T_MORE_OWNERS	0x2	/* more holders than listed */
#define GW_SHM_T_UNSTABLE	0x4	/* changed too fast to copy: only
					   tid, name and state are valid */
#define GW_SHM_T_SITE_ONLY	0x8	/* frames[0] is the wait's call
					   site, no stack was captured */

/* struct gw_shm_thread gil_state. */
#define GW_SHM_GIL_NONE		0	/* neither holds nor waits for it */
#define GW_SHM_GIL_WAITING	1
#define GW_SHM_GIL_HOLDING	2

/*
 * What Python lock a semaphore or PyMutex is, in struct gw_shm_lock,
 * gw_shm_held, gw_shm_link and a thread's wait; filled while a viewer
 * watches.  PYTHON: Python took it (its last acquisition has a Python
 * line) but the object is not known (a semaphore lock, up to 3.13.0).
 */
#define GW_SHM_PYLOCK_NONE	0
#define GW_SHM_PYLOCK_PYTHON	1	/* "Python lock" */
#define GW_SHM_PYLOCK_LOCK	2	/* threading.Lock */
#define GW_SHM_PYLOCK_RLOCK	3	/* threading.RLock */

/* struct gw_shm_pywait kind. */
#define GW_SHM_PYWAIT_NONE	0	/* not recognised, or not Python */
#define GW_SHM_PYWAIT_NOTIFY	1	/* threading.Condition.wait */
#define GW_SHM_PYWAIT_JOIN	2	/* threading.Thread.join */

/*
 * What a blocked thread's Python code waits on, recognised from its
 * frames as thread dumps recognise it.  threading builds Semaphore,
 * Event, Barrier and queue.Queue on Condition.wait, which blocks on a
 * private lock the waiting thread took itself: NOTIFY names the
 * Condition and what it belongs to instead.  JOIN names the Thread
 * joined.
 */
struct gw_shm_pywait {
	uint8_t		kind;		/* GW_SHM_PYWAIT_* */
	uint8_t		pad[7];
	uint64_t	object;		/* the Condition, or the Thread joined
					   (its address: id() in CPython) */
	char		type[GW_SHM_PYTYPE_LEN];	/* its type's name:
					   "Condition", "Thread" */
	char		via[GW_SHM_PYVIA_LEN];	/* NOTIFY: the object the
					   Condition is an attribute of, as
					   type and attribute
					   ("Queue.not_empty"); "" when none
					   was found, and for JOIN */
	char		at[GW_SHM_PYFRAME_LEN];	/* the Python line that waits,
					   as in py_frame: "Queue.get
					   (queue.py:202)"; "" if unknown */
};

/*
 * A critical section a thread of a free-threaded CPython is in: the
 * object whose lock (its PyMutex, ob_mutex) it holds, had to release
 * while detached, or waits for (entering: the object is not recorded
 * yet; under gilwatch run the thread is blocked on that PyMutex, and
 * owners[] has the thread whose held section has it as mutex).
 */
struct gw_shm_cs {
	uint64_t	object;		/* 0 while entering */
	uint64_t	object2;	/* a two-object section's other, or 0 */
	uint64_t	mutex, mutex2;	/* their PyMutexes, 0: not known (read
					   from outside) */
	uint8_t		state;		/* enum gw_cs_state (snapshot.h) */
	uint8_t		pad[7];
	char		type[GW_SHM_PYTYPE_LEN];	/* its type's name */
	char		type2[GW_SHM_PYTYPE_LEN];
};

/* A thread. */
struct gw_shm_thread {
	int32_t		tid;
	uint8_t		state;		/* enum gw_thread_state (snapshot.h) */
	uint8_t		gil_state;	/* GW_SHM_GIL_* */
	uint8_t		flags;		/* GW_SHM_T_* */
	uint8_t		nframes;	/* valid entries of frames[] */
	char		name[GW_SHM_NAME_LEN];
	uint64_t	state_ns;	/* in state for */

	/* What it waits for, when state is blocked, waiting or joining. */
	uint64_t	wait_addr;	/* joining: the pthread_t joined */
	uint8_t		wait_kind;	/* enum gw_lock_kind */
	uint8_t		wait_mode;	/* enum gw_lock_mode */
	uint8_t		wait_timed;	/* the wait ends by itself */
	uint8_t		nowners;	/* valid entries of owners[] */
	int32_t		owners[GW_SHM_OWNERS];	/* TIDs holding it */
	uint8_t		py_state;	/* enum gw_py_state (snapshot.h):
					   free-threaded CPython, else 0 */
	uint8_t		wait_py_type;	/* GW_SHM_PYLOCK_* */
	uint8_t		pad[2];
	uint64_t	owner_sites[GW_SHM_OWNERS]; /* where each took it */

	/* What it holds: mutexes, rwlocks, spinlocks, semaphores whose
	 * count it took to zero; not the GIL. */
	uint32_t	nheld;		/* all of them; first GW_SHM_HELD here */
	uint32_t	pad2;
	struct gw_shm_held held[GW_SHM_HELD];

	/* The GIL. */
	uint64_t	gil_ns;		/* in gil_state for (0 for none) */
	uint64_t	gil_hold_ns;	/* total held, current interval too */
	uint64_t	gil_wait_ns;	/* total waited, current interval too */
	uint64_t	gil_acquired;	/* times it took the GIL */

	/*
	 * While the thread waits: the stack captured when the wait
	 * started, innermost first, gilwatch's own frames left out, or
	 * only the wait's call site (GW_SHM_T_SITE_ONLY) when the shim
	 * captured none.  Nothing for a running thread.  Return
	 * addresses: name ip - 1.  Names are in the symbols.
	 */
	uint64_t	frames[GW_SHM_FRAMES];
	char		py_frame[GW_SHM_PYFRAME_LEN]; /* "" until known */

	/*
	 * What its Python code waits on, while state is blocked (else
	 * zero).  Read with py_frame, in the thread's first turn of the
	 * wait, and kept while that wait lasts: known a publication or
	 * more after the wait began.  NOTIFY: the semaphore in wait_addr
	 * is the Condition's private lock, which the thread holds itself;
	 * it has no owners and is left out of held.  JOIN: owners[0] is
	 * the thread joined, also from CPython 3.13, whose join waits on
	 * a semaphore nobody holds (the thread is found by its Thread
	 * object).
	 */
	struct gw_shm_pywait py_wait;

	/* Its scheduling policy (SCHED_*, -1: unknown) and real-time
	 * priority, read while a viewer watches. */
	int32_t		sched_policy;
	int32_t		sched_priority;

	/* An event loop's current turn: for how long the thread has run
	 * since it last came back from epoll_wait (0: it is in epoll, or
	 * never was; under gilwatch run only). */
	uint64_t	loop_turn_ns;

	/* Free-threaded CPython: its critical sections, innermost first,
	 * while a viewer watches; critical_more: the chain went on. */
	uint8_t		ncritical;	/* valid entries of critical[] */
	uint8_t		critical_more;
	uint8_t		pad3[6];
	struct gw_shm_cs critical[GW_SHM_CS];
};

/*
 * A Python line that held the GIL while another thread waited: the
 * time it did (its "blocking time"), over the run and over the last
 * blame_recent_ns, the drops that waiters asked of it, the contended
 * holds that ended there.  Biggest blocking time first.
 */
struct gw_shm_blame_site {
	uint64_t	blocking_ns;
	uint64_t	recent_ns;
	uint64_t	forced;
	uint64_t	holds;
	int32_t		line;		/* 0: not a line ("<no Python
					   frame>", "<other lines>") */
	uint32_t	pad;
	char		function[GW_SHM_FUNC_LEN];
	char		file[GW_SHM_FILE_LEN];	/* base name */
};

/* struct gw_shm_blame kind: what a part of a wait was spent on. */
#define GW_SHM_BLAME_HOLDER	1	/* holder held the GIL */
#define GW_SHM_BLAME_LINE	2	/* a holder held it at this line */
#define GW_SHM_BLAME_HANDOFF	3	/* nobody: the GIL changing hands */
#define GW_SHM_BLAME_UNKNOWN	4	/* too old for the shim's memory */

/*
 * A part of one thread's GIL wait over the run.  A waiter's parts
 * follow each other: its GW_SHM_BLAME_EACH biggest holders, biggest
 * first, then as many lines, then hand-off and unknown.
 */
struct gw_shm_blame {
	int32_t		waiter;		/* TID */
	uint8_t		kind;		/* GW_SHM_BLAME_* */
	uint8_t		pad[3];
	int32_t		holder;		/* HOLDER: its TID */
	int32_t		line;		/* LINE: as in gw_shm_blame_site */
	uint64_t	ns;
	char		function[GW_SHM_FUNC_LEN];	/* LINE */
	char		file[GW_SHM_FILE_LEN];
};

/* A call site with its count and time. */
struct gw_shm_site {
	uint64_t	ip;		/* return address */
	uint64_t	count;
	uint64_t	ns;		/* waited or held there */
};

/* A lock, with its statistics (both modes summed). */
struct gw_shm_lock {
	uint64_t	addr;
	uint8_t		kind;		/* enum gw_lock_kind */
	uint8_t		py_type;	/* GW_SHM_PYLOCK_* */
	uint8_t		pad[2];
	int32_t		owner;		/* TID of the exclusive holder, 0 */
	uint64_t	first_site;	/* where it was first seen */
	uint64_t	owner_site;	/* where the owner took it */
	uint64_t	acquired, contended, owner_changes;
	uint64_t	wait_total_ns, wait_max_ns;
	uint64_t	hold_total_ns, hold_max_ns;
	uint64_t	cond_waits, cond_signals, cond_lost;
	int32_t		cond_waiters;
	uint32_t	pad2;
	struct gw_shm_site waiters[GW_SHM_SITES];
	struct gw_shm_site holders[GW_SHM_SITES];
};

/*
 * One link of a deadlock cycle present now: thread tid waits for lock,
 * which held_by took at site; held_by is the tid of the next link of
 * the same cycle, and the last link leads back to the first.
 */
struct gw_shm_link {
	uint32_t	cycle;		/* 0, 1, ...: links of a cycle follow
					   each other */
	int32_t		tid;
	int32_t		held_by;
	uint8_t		kind;		/* enum gw_lock_kind */
	uint8_t		mode;		/* enum gw_lock_mode wanted */
	uint8_t		py_type;	/* GW_SHM_PYLOCK_* */
	uint8_t		pad;
	uint64_t	lock;
	uint64_t	site;
};

/* A lock-order inversion, as one line (newest first). */
struct gw_shm_order {
	char		text[GW_SHM_ORDER_LEN];
};

/* struct gw_shm_sym flags. */
#define GW_SHM_SYM_DATA		0x1	/* a data address (a lock), named
					   as is, not as ip - 1 */

/*
 * The name of an address the frame mentions (frames, sites, locks).
 * An address without a record has no name yet: names are looked up a
 * few per publication, so a new one may take a few intervals.
 */
struct gw_shm_sym {
	uint64_t	ip;
	uint64_t	offset;		/* from the function's start */
	uint32_t	flags;		/* GW_SHM_SYM_* */
	int32_t		line;		/* 0 when unknown */
	char		function[GW_SHM_FUNC_LEN];	/* "" when unknown */
	char		module[GW_SHM_MODULE_LEN];	/* base name */
	char		file[GW_SHM_FILE_LEN];		/* base name */
};

#endif /* GILWATCH_SHM_H */
