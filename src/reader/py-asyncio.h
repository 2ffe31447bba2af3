/*
 * asyncio seen from memory: for every thread that runs an event loop,
 * the loop, its tasks, what each awaits and the coroutine frames each
 * is suspended in.  Read through mem.h like the other readers, so the
 * same code serves the shim (this process), `gilwatch dump PID` (from
 * outside) and a core file.
 *
 * CPython 3.14 and later describe their asyncio structures for
 * debuggers: the _asyncio module (built in, or a shared object in
 * lib-dynload) has a section .AsyncioDebug, _Py_AsyncioModuleDebugOffsets,
 * with the offsets of a task's name, coroutine, awaited_by and list
 * node, of the per-thread list of tasks, running loop and running task
 * in the thread state, and of the interpreter's list of the tasks of
 * threads that ended.  Coroutine frames, sets and list nodes come from
 * _Py_DebugOffsets (py-debug.c reads the same structure).  What neither
 * states (a task's fut_waiter, a future's state) comes from a table
 * measured on each build (tools/gen-asyncio-offsets), never guessed:
 * a build without an entry shows tasks without them.
 *
 * 3.8-3.13 state nothing of the kind: there a thread runs a loop when
 * its own Python frames are in an event loop's run_forever, and the
 * frames of the coroutine that runs are those above the loop's
 * Handle._run (py_asyncio_frames_loop); no task of theirs is read.
 *
 * Every read is untrusted: a task that fails a check is reported
 * PYA_INVALID (named "<invalid>"), never followed; every list walk is
 * bounded (PYA_TASKS_MAX), and a cycle in a list ends the walk.
 */
#ifndef GW_PY_ASYNCIO_H
#define GW_PY_ASYNCIO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "py.h"

struct maps;

#define PYA_TASKS_MAX	(1 << 20)	/* tasks walked per list: a longer
					   list is taken for a cycle, and
					   the walk says so */
#define PYA_CORO_MAX	64		/* coroutines followed per task */

/*
 * The asyncio layout of one process, found once (py_asyncio_find).
 * Offsets are bytes; -1 marks one not known.
 */
struct py_asyncio {
	int		 ok;		/* tasks can be read */
	char		 why[160];	/* why not, or what is missing */
	uintptr_t	 section;	/* address of .AsyncioDebug */
	/* TaskObj, from .AsyncioDebug */
	int		 task_size;
	int		 task_name, task_awaited_by, task_is_task;
	int		 task_awaited_by_is_set, task_coro, task_node;
	/* the thread state's and the interpreter's */
	int		 ts_running_loop, ts_running_task, ts_tasks_head;
	int		 is_tasks_head;
	/* _Py_DebugOffsets */
	int		 gen_size, gi_iframe, gi_frame_state;	/* PyGenObject */
	int		 fr_stackpointer;		/* _PyInterpreterFrame */
	int		 set_used, set_table, set_mask;	/* PySetObject */
	int		 tuple_item;			/* PyTupleObject */
	int		 long_tag, long_digit;		/* PyLongObject */
	int		 llist_next;
	signed char	 yield_from[2];	/* gi_frame_state of a coroutine
					   suspended in an await (pycore_frame.h
					   of the minor) */
	int		 yf_depth;	/* the awaited iterator is at the
					   frame's stackpointer[-yf_depth] */
	/* measured (py-asyncio-offsets.h); -1 without an entry */
	int		 fut_state;	/* int: PYA_PENDING... */
	int		 task_fut_waiter;	/* PyObject * */
	int		 fut_callback0;	/* PyObject *: the first done
					   callback (an executor future's
					   chain to its concurrent one) */
	int		 func_closure;	/* PyFunctionObject: a tuple */
};

/*
 * Find the asyncio layout of the process the memory source reads, whose
 * CPython rt is and whose files m maps: the .AsyncioDebug section of
 * the mapped _asyncio shared object, or of the interpreter's own image
 * when it is built in.  Returns 0 with a->ok, or -1 with a->why ("before
 * 3.14: no asyncio debug offsets", "_asyncio not loaded", ...).  A
 * program that has not imported asyncio yet has no tasks: that is -1
 * too.  Reads the mapped files (libelf); allocates.  Not for a signal
 * handler.
 */
int	py_asyncio_find(const struct py_runtime *rt, const struct maps *m,
	    struct py_asyncio *a);

/* The event loop a thread runs (3.14+). */
struct py_aloop {
	uintptr_t	 tstate;
	uintptr_t	 loop;		/* the running loop, 0: none */
	uintptr_t	 running_task;	/* the task whose step runs, or 0 */
};

/*
 * The running loop and task of thread state ts: 1 when it runs a loop,
 * 0 when not, -1 when unreadable.  Allocates nothing.
 */
int	py_asyncio_thread(const struct py_runtime *rt,
	    const struct py_asyncio *a, uintptr_t ts, struct py_aloop *l);

/* A task's state: CPython's fut_state numbers. */
#define PYA_PENDING	0
#define PYA_CANCELLED	1
#define PYA_DONE	2
#define PYA_UNKNOWN	3	/* not measured for this build */
#define PYA_INVALID	4	/* the object failed a check */

/* What a pending task awaits (py_task.await_kind). */
enum pya_await {
	PYA_AWAIT_NONE,		/* nothing: it runs, or is ready to */
	PYA_AWAIT_TASK,		/* another task (await_task) */
	PYA_AWAIT_FUTURE,	/* a future nothing below tells more of */
	PYA_AWAIT_SLEEP,	/* asyncio.sleep: a timer's future */
	PYA_AWAIT_EXECUTOR,	/* loop.run_in_executor: a future chained
				   to a concurrent.futures one, which the
				   worker thread await_tid runs (0: none
				   found, e.g. still queued) */
	PYA_AWAIT_LOCK,		/* asyncio.Lock, Semaphore, Condition */
	PYA_AWAIT_EVENT,	/* asyncio.Event */
	PYA_AWAIT_QUEUE,	/* asyncio.Queue get or put */
	PYA_AWAIT_GATHER,	/* gather() or a TaskGroup: the tasks whose
				   awaited_by holds this one */
	PYA_AWAIT_UNKNOWN,	/* fut_waiter not measured for this build */
};

/*
 * One task.  Pointers are into the walk's own buffers and live until
 * the callback returns: copy what is kept.
 */
struct py_task {
	uintptr_t	 task;		/* its address: how other tasks name it */
	uintptr_t	 tstate;	/* the thread state whose list has it, 0:
					   the interpreter's (its thread ended) */
	char		 name[PY_NAME_MAX];	/* "<invalid>" when unreadable */
	int		 state;		/* PYA_* */
	int		 running;	/* it is its thread's running task */
	uintptr_t	 waiter;	/* fut_waiter: the future it awaits, 0 */
	char		 waiter_type[PY_NAME_MAX];	/* its type's name */
	enum pya_await	 await_kind;
	uintptr_t	 await_task;	/* PYA_AWAIT_TASK: that task */
	uintptr_t	 await_cfuture;	/* PYA_AWAIT_EXECUTOR: the
					   concurrent.futures.Future */
	pid_t		 await_tid;	/* PYA_AWAIT_EXECUTOR: its worker */
	/* The concurrent.futures.Future the task's end completes (a
	 * task of run_coroutine_threadsafe), and the first thread seen
	 * blocked in that future's result(); 0 and 0 when none. */
	uintptr_t	 result_cfuture;
	pid_t		 result_waiter;
	const uintptr_t	*awaited_by;	/* tasks and futures awaiting it */
	size_t		 nawaited_by;
	const struct py_frame *frames;	/* coroutine frames, innermost first
					   (the awaited coroutine's first),
					   flagged PY_FRAME_INVALID where the
					   chain had to stop */
	int		 nframes;
};

/*
 * Call fn for every task in the list of thread state ts (ts 0: the
 * interpreter interp's list, tasks of threads that ended), in list
 * order, until fn returns non-zero.  A node that is not a task (its
 * is_task byte) or cannot be read gives one task PYA_INVALID and ends
 * the walk; so does a list longer than PYA_TASKS_MAX, with *note
 * saying so (else note is set to NULL).  Returns the number of tasks
 * given to fn, or -1 when the list head is unreadable.  Allocates (the
 * walk's buffers, freed before it returns); a task's await_tid needs
 * the worker threads' frames and is looked for among threads[0..n-1]
 * (thread states and TIDs: py_thread_list's), may be NULL.
 */
struct py_athread {
	uintptr_t	 tstate;
	pid_t		 tid;
};
int	py_asyncio_tasks(const struct py_runtime *rt,
	    const struct py_asyncio *a, uintptr_t ts, uintptr_t interp,
	    const struct py_athread *threads, size_t nthreads,
	    int (*fn)(const struct py_task *, void *), void *arg,
	    const char **note);

/*
 * 3.8-3.13 (and any build without the debug offsets): from a thread's
 * own Python frames (innermost first, n of them), does it run an event
 * loop?  Returns the index of the loop's run_forever frame (asyncio's
 * base_events.py), or -1.  *coro and *ncoro are the frames of the
 * coroutine that runs (those above the Handle._run that stepped it,
 * asyncio's events.py), 0 and 0 when none runs.  Pure: reads nothing.
 */
int	py_asyncio_frames_loop(const struct py_frame *f, int n, int *coro,
	    int *ncoro);

#endif /* GW_PY_ASYNCIO_H */
