/*
 * gilwatch frame-snapshot API.
 *
 * A snapshot is a copy, taken at one moment, of what every thread of the
 * process is doing: its state, the locks it holds, the lock it waits for
 * and who holds that, and its frames.  It is built by libgilwatch.so, so
 * these calls work only in a process where the library is loaded
 * (LD_PRELOAD or linked).  The snapshot owns all of its memory; nothing in
 * it points into live program state.
 *
 * Not async-signal-safe: take snapshots from ordinary code.  The calls are
 * thread safe; several snapshots may exist at once.
 */
#ifndef GILWATCH_SNAPSHOT_H
#define GILWATCH_SNAPSHOT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * 2: gw_lock_info.name.  3: asyncio tasks (gw_thread_info.loop and its
 * tasks), critical sections, links through tasks (gw_deadlock_link's
 * task and result_of), Python locks named (gw_lock_info.py_type):
 * structures grew, so a program built against 2 must be rebuilt.
 */
#define GW_SNAPSHOT_VERSION 3

enum gw_frame_kind {
	GW_FRAME_NATIVE,	/* a machine-code frame (libunwind) */
	GW_FRAME_PYTHON,	/* an interpreter frame (function, file, line) */
	GW_FRAME_INVALID,	/* memory that could not be read sanely */
};

struct gw_frame {
	enum gw_frame_kind kind;
	uintptr_t	 ip;		/* native: instruction address */
	const char	*function;	/* NULL when unknown */
	uintptr_t	 offset;	/* native: ip - function start */
	const char	*module;	/* shared object or executable path */
	const char	*file;		/* source file, NULL when unknown */
	int		 line;		/* 0 when unknown */
};

enum gw_lock_kind {
	GW_LOCK_MUTEX,
	GW_LOCK_RWLOCK,
	GW_LOCK_SPIN,
	GW_LOCK_SEM,
	GW_LOCK_COND,
	GW_LOCK_THREAD,		/* pthread_join waits on a thread */
	GW_LOCK_GIL,
	GW_LOCK_FUTEX,		/* read from outside: a futex word whose
				   primitive could not be told */
	GW_LOCK_PYMUTEX,	/* CPython 3.14+ PyMutex, seen only when
				   a thread parks on it: no holder */
};

enum gw_lock_mode {
	GW_MODE_EXCLUSIVE,	/* mutex, spin, semaphore, rwlock write */
	GW_MODE_SHARED,		/* rwlock read */
};

enum gw_thread_state {
	GW_STATE_RUNNING,	/* not inside any call gilwatch watches */
	GW_STATE_BLOCKED,	/* waits to acquire a lock */
	GW_STATE_WAITING,	/* waits on a condition variable */
	GW_STATE_JOINING,	/* waits in pthread_join */
	GW_STATE_EXITED,	/* finished, not yet joined */
};

struct gw_lock_info {
	uintptr_t	 addr;
	enum gw_lock_kind kind;
	enum gw_lock_mode mode;
	struct gw_frame	 first_seen;	/* where gilwatch first saw the lock */
	const char	*name;		/* the variable it is ("a", "s.m"): a
					   global, or a local on a thread's
					   stack; NULL for a heap lock */
	/*
	 * A lock of Python code (kind GW_LOCK_SEM: what a threading.Lock
	 * is made of, or stands for where it is a PyMutex): its type,
	 * "threading.Lock" or "threading.RLock", or "Python lock" when
	 * only its use from Python is known; NULL for any other lock.
	 */
	const char	*py_type;
	uintptr_t	 py_object;	/* the lock object (its id()), or 0
					   when not known */
};

struct gw_held {
	struct gw_lock_info lock;
	struct gw_frame	 acquired_at;	/* the caller of the acquire */
	unsigned	 count;		/* recursion depth, readers: 1 */
};

/* What Python code waits on, beyond the native lock (CPython only). */
enum gw_py_wait_kind {
	GW_PYWAIT_NONE,		/* not recognised, or not Python */
	GW_PYWAIT_NOTIFY,	/* threading.Condition.wait, and what is
				   built on it (Semaphore, Event, Barrier,
				   queue.Queue...): for a notify */
	GW_PYWAIT_JOIN,		/* threading.Thread.join: for a thread */
};

struct gw_wait {
	struct gw_lock_info lock;
	int		 timed;		/* a timed wait: it ends by itself */
	const pid_t	*owners;	/* threads holding the lock, or for
					   a join the thread joined; none
					   for a notify */
	size_t		 nowners;
	const struct gw_frame *owner_acquired_at; /* one per owner */
	/*
	 * The Python view.  For a notify, lock is the private lock that
	 * Condition.wait blocks on (the waiting thread took it itself).
	 */
	enum gw_py_wait_kind py_kind;
	const char	*py_type;	/* type of py_object: "Condition" */
	uintptr_t	 py_object;	/* the Condition, or the Thread */
	const char	*py_via_type;	/* notify: the object the Condition is
					   an attribute of ("Semaphore"), or
					   NULL */
	uintptr_t	 py_via;
	const char	*py_via_attr;	/* that attribute: "_cond" */
	struct gw_frame	 py_at;		/* the Python line that waits */
	/* Read from outside (gw_snapshot.source): */
	int		 inferred;	/* the kind or owner is inferred from
					   the lock's words alone, no stack
					   confirmed it */
	const char	*note;		/* what could not be known, or NULL */
};

enum gw_stack_status {
	GW_STACK_OK,
	GW_STACK_AT_BLOCK,	/* taken when the thread blocked; still current */
	GW_STACK_SIGNALS_BLOCKED, /* the thread blocks the sampling signal */
	GW_STACK_IN_SYSCALL,	/* a signal would interrupt its system call */
	GW_STACK_TIMEOUT,	/* it did not answer in time */
	GW_STACK_UNAVAILABLE,	/* sampling disabled or not possible */
};

enum gw_gil_state {
	GW_GIL_NONE,		/* no GIL in this process (not CPython) */
	GW_GIL_RELEASED,	/* neither holds nor waits for the GIL */
	GW_GIL_WAITING,		/* waits for the GIL */
	GW_GIL_HOLDING,		/* holds the GIL */
};

/*
 * A Python thread of a free-threaded CPython (3.13t+, no GIL): its
 * thread state's state, which stands in for the GIL there.
 */
enum gw_py_state {
	GW_PYSTATE_NONE,	/* not known: no such thread, or a GIL build */
	GW_PYSTATE_ATTACHED,	/* may run Python code */
	GW_PYSTATE_DETACHED,	/* runs no Python code (blocked, in C) */
	GW_PYSTATE_SUSPENDED,	/* detached and held there by a
				   stop-the-world pause */
};

/* A critical section a thread of a free-threaded CPython is in. */
enum gw_cs_state {
	GW_CS_HELD = 1,		/* its objects are locked by the thread */
	GW_CS_SUSPENDED,	/* released while the thread is detached */
	GW_CS_ENTERING,		/* the thread waits for its lock; the
				   object is recorded once it has it */
};

struct gw_critical_section {
	enum gw_cs_state state;
	uintptr_t	 object;	/* 0 while entering */
	const char	*type;		/* its type's name, or NULL */
	uintptr_t	 object2;	/* a two-object section's other, or 0 */
	const char	*type2;
};

/* An asyncio task (CPython 3.14+: see README, asyncio). */
enum gw_task_state {
	GW_TASK_PENDING,
	GW_TASK_CANCELLED,
	GW_TASK_DONE,
	GW_TASK_UNKNOWN,	/* the build's future layout is not known */
	GW_TASK_INVALID,	/* memory that could not be read sanely */
};

/* What a pending task awaits. */
enum gw_await_kind {
	GW_AWAIT_NONE,		/* nothing: it runs, or is ready to */
	GW_AWAIT_TASK,		/* another task: await_task */
	GW_AWAIT_FUTURE,	/* a future */
	GW_AWAIT_SLEEP,		/* asyncio.sleep */
	GW_AWAIT_EXECUTOR,	/* run_in_executor: worker thread await_tid */
	GW_AWAIT_LOCK,		/* asyncio.Lock, Semaphore, Condition */
	GW_AWAIT_EVENT,		/* asyncio.Event */
	GW_AWAIT_QUEUE,		/* asyncio.Queue */
	GW_AWAIT_GATHER,	/* gather() or a TaskGroup's children */
	GW_AWAIT_UNKNOWN,	/* not readable on this build */
	GW_AWAIT_LOOP,		/* a deadlock's link only: its loop's
				   thread, blocked outside the loop */
};

struct gw_task {
	uintptr_t	 addr;		/* the Task object */
	const char	*name;
	enum gw_task_state state;
	int		 running;	/* its loop's running task */
	enum gw_await_kind awaits;
	uintptr_t	 await_object;	/* the future it awaits, or 0 */
	const char	*await_type;	/* that future's type, or NULL */
	uintptr_t	 await_task;	/* GW_AWAIT_TASK: the task awaited */
	pid_t		 await_tid;	/* GW_AWAIT_EXECUTOR: the worker, 0 */
	/* A task of run_coroutine_threadsafe: the concurrent.futures
	 * Future its end completes, and a thread blocked in that future's
	 * result() (the first seen), else 0. */
	uintptr_t	 result_future;
	pid_t		 result_waiter;
	const uintptr_t	*awaited_by;	/* tasks and futures awaiting it */
	size_t		 nawaited_by;
	const struct gw_frame *frames;	/* coroutine stack, innermost first */
	size_t		 nframes;
};

/* The event loop a thread runs. */
struct gw_loop {
	uintptr_t	 addr;		/* the loop object; 0 when known only
					   from the thread's frames (<3.14) */
	uintptr_t	 running_task;	/* the task being stepped, or 0 */
	const struct gw_task *tasks;	/* its tasks (3.14+), list order */
	size_t		 ntasks;
	const char	*note;		/* what could not be read, or NULL */
};

struct gw_thread_info {
	pid_t		 tid;
	const char	*name;
	enum gw_thread_state state;
	double		 state_seconds;	/* time in the current state */
	enum gw_gil_state gil;
	double		 gil_seconds;	/* time in the current GIL state */
	const struct gw_held *held;
	size_t		 nheld;
	const struct gw_wait *waiting;	/* NULL unless blocked or joining */
	enum gw_stack_status stack_status;
	const char	*stack_note;	/* why the stack is missing, or NULL */
	const struct gw_frame *frames;	/* innermost first */
	size_t		 nframes;
	int		 frames_truncated;
	/* Read from outside (gw_snapshot.source), else 0 and NULL: */
	char		 os_state;	/* the kernel's state: 'R', 'S', 'D'... */
	const char	*os_syscall;	/* the system call it is in, or NULL */
	/* Scheduling: policy (SCHED_*, -1 unknown) and real-time priority;
	 * realtime names a SCHED_FIFO or SCHED_RR policy, else NULL. */
	int		 sched_policy;
	int		 sched_priority;
	const char	*realtime;
	enum gw_py_state py_state;	/* free-threaded CPython, else NONE */
	/* Its critical sections, innermost first (free-threaded CPython,
	 * read from outside), and whether the chain went on. */
	const struct gw_critical_section *critical;
	size_t		 ncritical;
	int		 critical_truncated;
	const struct gw_loop *loop;	/* the event loop it runs, or NULL */
};

struct gw_deadlock_link {
	pid_t		 tid;		/* this thread ... */
	struct gw_lock_info waits_for;	/* ... waits for this lock ... */
	pid_t		 held_by;	/* ... held by the next link's thread */
	struct gw_frame	 acquired_at;	/* where held_by took it */
	/* An asyncio task of thread tid's loop, not the thread: it awaits
	 * (await kind) the next link, a task or a thread. */
	uintptr_t	 task;		/* 0: this link is the thread */
	const char	*task_name;
	enum gw_await_kind task_awaits;
	/* A thread blocked in concurrent.futures.Future.result on
	 * waits_for.addr (that future): the task whose end completes it
	 * (run_coroutine_threadsafe), the next link; else 0. */
	uintptr_t	 result_of;
};

struct gw_deadlock {
	const struct gw_deadlock_link *links;
	size_t		 nlinks;
	/*
	 * asyncio tasks held up by the cycle without being in it (links
	 * with task set), nearest the cycle first: each awaits
	 * (task_awaits) the task whose address is waits_for.addr, or when
	 * that is 0 the thread held_by (an executor's worker, or for
	 * GW_AWAIT_LOOP its loop's thread, blocked); that is a link of
	 * the cycle or a task listed before it.
	 */
	const struct gw_deadlock_link *waiters;
	size_t		 nwaiters;
};

enum gw_snapshot_reason {
	GW_REASON_API,
	GW_REASON_SIGNAL,
	GW_REASON_REQUEST,
	GW_REASON_DEADLOCK,
	GW_REASON_STALL,	/* every thread waits on another, no timeout */
};

/* Who took the snapshot. */
enum gw_snapshot_source {
	GW_SOURCE_INSIDE,	/* libgilwatch.so, inside the program */
	GW_SOURCE_OUTSIDE,	/* gilwatch dump, reading a process that was
				   not started under gilwatch: no hold or
				   state times (their seconds are 0), no
				   acquisition sites, no statistics */
	GW_SOURCE_CORE,		/* gilwatch dump --core: read from a core
				   file, as from outside, with no kernel
				   states and nothing stopped */
};

struct gw_snapshot {
	int		 version;	/* GW_SNAPSHOT_VERSION */
	pid_t		 pid;
	const char	*command;
	double		 time;		/* seconds since the epoch */
	enum gw_snapshot_reason reason;
	const struct gw_thread_info *threads;
	size_t		 nthreads;
	const struct gw_deadlock *deadlocks;
	size_t		 ndeadlocks;
	enum gw_snapshot_source source;
	/* From outside: what was stopped to unwind native stacks. */
	size_t		 stopped_threads;	/* 0: nothing was stopped */
	double		 stopped_max_seconds;	/* the longest stop */
	double		 stopped_total_seconds;
	const char *const *notes;	/* what could not be read, and why */
	size_t		 nnotes;
	/* From a core file (GW_SOURCE_CORE), else NULL and 0: */
	const char	*core_file;	/* its path */
	int		 core_signal;	/* the signal that killed it, 0 */
	/* From outside or a core: the CPython read ("3.12.1"), or NULL. */
	const char	*python_version;
	/* From outside: the process has gilwatch in it, but no helper
	 * thread to ask (a single-threaded program), else 0. */
	int		 shim_helperless;
};

enum gw_format {
	GW_FORMAT_TEXT,
	GW_FORMAT_JSON,
};

/* Flags for gw_snapshot_take(). */
#define GW_SNAP_NO_STACKS	0x1	/* skip native frames: cheaper */

/*
 * Take a snapshot of every thread.  Returns NULL with errno set when
 * memory runs out or the library is not initialised.  May take up to a
 * few hundred milliseconds with stacks (it asks each running thread for
 * its stack and waits a bounded time for the answer).
 */
struct gw_snapshot *gw_snapshot_take(int flags);

/* Find a thread by TID; NULL if it is not in the snapshot. */
const struct gw_thread_info *gw_snapshot_thread(const struct gw_snapshot *,
    pid_t tid);

/* Write the snapshot to fd.  Returns 0, or -1 with errno from write(2). */
int gw_snapshot_write(const struct gw_snapshot *, int fd, enum gw_format);

/* Free everything the snapshot owns.  NULL is allowed. */
void gw_snapshot_free(struct gw_snapshot *);

/* Names used in text and JSON output. */
const char *gw_lock_kind_name(enum gw_lock_kind);
const char *gw_thread_state_name(enum gw_thread_state);
const char *gw_stack_status_name(enum gw_stack_status);
const char *gw_gil_state_name(enum gw_gil_state);	/* NULL for NONE */
const char *gw_py_state_name(enum gw_py_state);		/* NULL for NONE */
const char *gw_cs_state_name(enum gw_cs_state);
const char *gw_task_state_name(enum gw_task_state);
const char *gw_await_kind_name(enum gw_await_kind);

#ifdef __cplusplus
}
#endif

#endif /* GILWATCH_SNAPSHOT_H */
