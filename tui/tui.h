/*
 * gilwatch top: the live viewer of a process, running under gilwatch or
 * not.
 *
 * The data (source.c: frames read from the process's shared-memory
 * file, or, for a process not started under gilwatch, built from a
 * snapshot read from outside (source-outside.c), with the history
 * derived from them; order.c: the thread list as shown) is apart from the text (fmt.c: every string the viewer
 * shows, for the screen and for --once alike), which is apart from the
 * drawing (crt.c: curses; panel-*.c: one file per part of the screen)
 * and from the one main loop (loop.c).  ctl.c talks to the process over
 * its control socket; once.c prints a single frame without curses.
 */
#ifndef GW_TUI_H
#define GW_TUI_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "gilwatch/shm.h"
#include "cli.h"
#include "out.h"
#include "shm-read.h"

/* Limits, defined here only. */
#define TUI_CELLS	512	/* timeline samples kept per thread */
#define TUI_HIST	32	/* samples kept for the %-over-window columns */
#define TUI_WINDOW_NS	1000000000ull	/* those columns span at least 1 s */
#define TUI_FILTER_MAX	64	/* filter text */
#define TUI_MSG_MAX	256	/* footer message */
#define TUI_MIN_COLS	40	/* smaller: "terminal too small" */
#define TUI_MIN_LINES	10
#define TUI_CTL_TIMEOUT_MS 5000	/* for an answer on the control socket */
#define TUI_WATCH_TIMEOUT_MS 1000	/* for "watch": the view comes first */
#define TUI_READ_SHARE	5	/* a refresh lasts at least 5 reads */

/* What a thread is doing, as the table groups and colours it. */
enum tui_class {
	CLS_DEADLOCK,	/* in a deadlock cycle */
	CLS_BLOCKED,	/* waits for a lock or a thread */
	CLS_GIL_WAIT,	/* waits for the GIL */
	CLS_GIL_HOLD,	/* holds the GIL */
	CLS_RUNNING,	/* runs (no Python: any thread not waiting) */
	CLS_IO,		/* Python thread without the GIL: C, I/O, idle */
	CLS_SLEEPING,	/* waits on a condition variable, or for a
			   notify in Python's Condition.wait */
	CLS_EXITED,
};

/* One timeline cell: what a thread did between two samples. */
enum tui_cell {
	CELL_NONE,	/* not seen (no thread yet) */
	CELL_IDLE,	/* neither held nor waited for the GIL */
	CELL_GIL_WAIT,	/* waited for the GIL most of the time */
	CELL_GIL_SOME,	/* held the GIL for part of the time */
	CELL_GIL_HELD,	/* held the GIL most of the time */
	CELL_BLOCKED,	/* was blocked on a lock when sampled */
	CELL_SLEEP,	/* was waiting on a condition variable */
};

/* A thread's history, kept across samples by TID. */
struct track {
	pid_t		 tid;
	uint64_t	 first;		/* the first sample it was seen in */
	uint64_t	 hold[TUI_HIST];	/* GIL totals per sample, ns */
	uint64_t	 wait[TUI_HIST];
	uint8_t		 cells[TUI_CELLS];	/* enum tui_cell, by sample */
};

/*
 * What a frame read from outside adds to a thread (the shim's frames
 * have no room for it): the kernel's view, and whether the lock kind
 * or owner of its wait is inferred from the lock words alone.
 */
struct os_thread {
	char		 state;		/* 'R', 'S', 'D'...; 0: not known */
	uint8_t		 inferred;
	char		 call[24];	/* its system call, or "" */
};

/* One thread as the table shows it. */
struct row {
	const struct gw_shm_thread *t;	/* in the source's frame */
	const struct os_thread *os;	/* read from outside, else NULL */
	struct track	*tk;
	double		 held, waited;	/* GIL share over the window, or -1 */
	int		 cls;		/* enum tui_class */
};

/* Counts for the header. */
struct tui_counts {
	unsigned	 total, running, gil_wait, blocked, sleeping;
};

/* A process being watched. */
struct source {
	pid_t		 pid;
	struct shm_reader *rd;		/* NULL: read from outside */
	struct shm_frame frame;		/* the newest frame */
	/*
	 * Read from outside (rd NULL): no times, statistics or history in
	 * the frame, only the moment; os[] parallels frame.threads.
	 */
	int		 outside;
	int		 helperless;	/* outside, yet gilwatch is in it: a
					   single-threaded program, whose
					   helper (it publishes) starts with
					   a second thread */
	struct os_thread *os;
	uint32_t	 os_cap;
	uint64_t	 start_ticks;	/* the process's, to tell a reused pid */
	uint64_t	 read_ns;	/* what the last read took */
	int		 have;		/* a frame has been read */
	uint64_t	 samples;	/* frames taken into the history */
	uint64_t	 when[TUI_HIST];	/* their mono_ns, by sample */
	double		 switches_per_s;	/* -1 until two samples */

	struct row	*rows;		/* one per thread of the frame */
	uint32_t	 nrows;		/* 0 while no frame is valid */
	struct track	*tracks[2];	/* [cur]: rows' tracks, by row */
	uint32_t	 ntracks;	/* in tracks[cur] */
	uint32_t	 tracks_cap;
	int		 cur;
	uint32_t	*index;		/* tid hash -> track + 1, 0: empty */
	uint32_t	 index_cap;
	uint32_t	*symidx;	/* syms sorted by address */
	uint32_t	 symidx_cap;

	/* top's --loop-stall in ms (0: off), -1: the process's own. */
	int		 loop_stall_ms;

	struct tui_counts counts;
	int		 life;		/* enum shm_life */
	char		 why[128];	/* what shm_life said */
	char		 err[SHM_ERR_MAX];	/* the last read error */
};

/* source.c */
/*
 * Start reading rd's process, or (rd NULL) pid's from outside; mark
 * loop turns as stalls past loop_stall_ms (0: never; -1: past the
 * process's own --loop-stall).
 */
void	source_open(struct source *, struct shm_reader *rd, pid_t pid,
	    int loop_stall_ms);
/* Start reading rd; tells its process a viewer is here (ctl_watch). */
void	source_init(struct source *, struct shm_reader *);
/*
 * source-outside.c: start reading pid from outside instead (the
 * caller has checked the permissions).  Each sample is one
 * outside_snapshot without native stacks: nothing is stopped.
 */
void	source_init_outside(struct source *, pid_t);
/* Fill s->frame and s->os from a fresh read: 0, or -1 with s->err. */
int	source_read_outside(struct source *);
/*
 * The stack of tid read from outside now, native frames unwound (each
 * thread stopped alone while it is), as ctl_stack gives it.
 */
/* The tasks of tid's loop read from outside now, nothing stopped. */
int	source_tasks_outside(struct source *, pid_t tid, struct out *lines,
	    char *err, size_t errlen);
int	source_stack_outside(struct source *, pid_t tid, struct out *lines,
	    char *err, size_t errlen);
/* Read a frame and update the history: 1 new, 0 none, -1 error (err). */
int	source_sample(struct source *);
void	source_free(struct source *);
const struct row *source_row(const struct source *, pid_t tid);
const struct gw_shm_sym *source_sym(const struct source *, uint64_t addr,
	    int data);
int	source_deadlocked(const struct source *, pid_t tid);
/*
 * The loop-stall threshold in ms, 0: off: top's --loop-stall, else the
 * one the process publishes, else (read from outside) the default;
 * *whose says which, in words.
 */
uint32_t	source_loop_stall(const struct source *, const char **whose);
/* Has r's event-loop turn run past that threshold? */
int	source_loop_stalled(const struct source *, const struct row *r);
int	source_ended(const struct source *);

/* order.c: the rows in display order, after the filter. */
enum order_key {
	ORDER_STATE,	/* deadlocked, blocked, GIL waiters, holders, ... */
	ORDER_TID,
	ORDER_NAME,
	ORDER_GIL,	/* GIL held share */
	ORDER_WAIT,	/* GIL wait share */
	ORDER_AGE,	/* time in state */
	ORDER_LOCKS,	/* locks held */
	ORDER_NKEYS
};
const char	*order_name(int key);
/* The rows matching filter ("" matches all) sorted by key into idx
 * (room for src->nrows); returns how many. */
uint32_t	order_rows(const struct source *, int key, const char *filter,
		    uint32_t *idx);

/* fmt.c: the viewer's words. */
/* A lock's kind, or its Python type (GW_SHM_PYLOCK_*) when it has one. */
const char	*fmt_kind(int kind, int py_type);
char	*fmt_dur(uint64_t ns, char *buf, size_t len);
char	*fmt_pct(double share, char *buf, size_t len);
char	*fmt_sym(const struct source *, uint64_t addr, int data, char *buf,
	    size_t len);
/* A code address with its source line: "f+0x1a (f.c:12)". */
char	*fmt_where(const struct source *, uint64_t ip, char *buf, size_t len);
/* A lock: "mutex 0x5612 (lock_a)", "threading.Lock 0x7f3a". */
char	*fmt_lockname(const struct source *, int kind, int py_type,
	    uint64_t addr, char *buf, size_t len);
/* A thread: "\"name\" (tid)". */
char	*fmt_thread(const struct source *, pid_t tid, char *buf, size_t len);
char	*fmt_state(const struct source *, const struct row *, int compact,
	    char *buf, size_t len);
/*
 * fmt-py.c: what Python code waits on, in full ("Condition 0x7f..
 * (Queue.not_empty)", "Thread 0x7f.."), or, for the table, a notify by
 * what its Condition belongs to ("Queue.not_empty") when that is known;
 * "" for none.
 */
char	*fmt_pywait(const struct gw_shm_pywait *, int full, char *buf,
	    size_t len);
char	*fmt_process(const struct source *, char *buf, size_t len);
char	*fmt_gil(const struct source *, char *buf, size_t len);
char	*fmt_counts(const struct source *, char *buf, size_t len);
/*
 * Free-threaded CPython: the stop-the-world pause under way, in dumps'
 * words; NULL when none.
 */
char	*fmt_pause(const struct source *, char *buf, size_t len);
/*
 * CPython 3.14+ under gilwatch run: the waits for PyMutexes held by
 * another thread, all together ("PyMutex contention: 3 waits on 2
 * mutexes, ..."); NULL when none.
 */
char	*fmt_pymutex(const struct source *, char *buf, size_t len);
/*
 * Read from outside: how, what it cost, and which figures need the
 * program started under gilwatch; NULL for a process under gilwatch.
 */
char	*fmt_outside(const struct source *, char *buf, size_t len);
/* A meter: "label [|||||     ] tail" in width columns. */
char	*fmt_meter(const char *label, double share, const char *tail,
	    int width, char *buf, size_t len);
/* Deadlock cycle n (0, 1, ...) written out; NULL past the last. */
char	*fmt_cycle(const struct source *, uint32_t n, char *buf, size_t len);

/*
 * "ALL THREADS WAITING 12.3s: ..." when every thread has waited at least
 * ALL_WAITING_NS, with no timeout, for another thread of the process
 * (the stall rule, stall-rule.h) and no deadlock cycle says why already;
 * else NULL.
 */
#define ALL_WAITING_NS	2000000000ull
char	*fmt_all_waiting(const struct source *, char *buf, size_t len);
/* The table's columns for a width, and one row (or the titles). */
struct cols {
	int	 tid, name, sched, gil, wait, locks, state, native, python;
};
void	fmt_columns(const struct source *, int width, struct cols *);
char	*fmt_row(const struct source *, const struct row *,
	    const struct cols *, char *buf, size_t len);
/* One lock of the frame as a table line, or the titles (l NULL). */
char	*fmt_lock(const struct source *, const struct gw_shm_lock *,
	    char *buf, size_t len);
char	*fmt_site(const struct source *, const char *what,
	    const struct gw_shm_site *, char *buf, size_t len);
/*
 * fmt-blame.c: the blame view as lines, handed one by one to put (the
 * screen's page, or standard output for --once): the Python lines and
 * functions that held the GIL while others waited, then each GIL
 * waiter's wait by holder and line, thread `first`'s first.
 */
typedef void	(*line_fn)(void *arg, int role, const char *s);
void	fmt_blame(const struct source *, pid_t first, line_fn put,
	    void *arg);
/*
 * fmt-cs.c: a free-threaded CPython's critical sections as lines, after
 * a title line (nothing when no thread is in one): each thread's,
 * innermost first, with who waits for each object lock held.  Returns
 * how many threads are in one.
 */
int	fmt_critical(const struct source *, line_fn put, void *arg);
/* A real-time thread's policy and priority ("FIFO 5", "RR 3"), or "". */
char	*fmt_sched(const struct gw_shm_thread *, char *buf, size_t len);
/* Cut s at width columns (bytes; names are ASCII in practice). */
char	*fmt_fit(char *s, int width);

/* loop.c: milliseconds on the monotonic clock, for bounded waits. */
uint64_t	tui_ms_now(void);

/* ctl.c: requests over the control socket (ipc.h). */
/* Send req, collect the answer; 0, or -1 with err. */
int	ctl_request(pid_t, const char *req, struct out *answer, char *err,
	    size_t errlen);
/* Write a text dump to ./gilwatch-dump-PID-TIME.txt, named in path. */
int	ctl_dump(pid_t, char *path, size_t pathlen, char *err, size_t errlen);
int	ctl_reset(pid_t, char *err, size_t errlen);
/*
 * Tell the process a viewer is here: its frames name code and data
 * addresses from now on, and the next one it writes already does.
 */
int	ctl_watch(pid_t, char *err, size_t errlen);
/* The stack of tid from a fresh text dump, one frame a line. */
int	ctl_stack(pid_t, pid_t tid, struct out *lines, char *err,
	    size_t errlen);
/* tid's paragraph of a text dump into lines: 0, or -1 with err. */
/*
 * The tasks of tid's asyncio loop: the paragraph that follows the
 * thread's in a text dump (nothing when it runs no loop), from a fresh
 * dump of the process, or from dump.
 */
int	ctl_tasks(pid_t, pid_t tid, struct out *lines, char *err,
	    size_t errlen);
int	ctl_tasks_of(const struct out *dump, pid_t tid, struct out *lines,
	    char *err, size_t errlen);
int	ctl_stack_of(const struct out *dump, pid_t tid, struct out *lines,
	    char *err, size_t errlen);

/* once.c: one frame as text, for scripts: 0, or -1 (said why); view
 * VIEW_THREADS or VIEW_BLAME. */
int	once_print(struct source *, int width, int view);

/* The viewer's state, shared by the loop and the panels. */
enum tui_view {
	VIEW_THREADS,
	VIEW_TIMELINE,	/* g */
	VIEW_LOCKS,	/* l */
	VIEW_BLAME,	/* b */
	VIEW_DETAIL,	/* Enter */
	VIEW_HELP,	/* ? */
};

struct tui {
	struct source	*src;
	int		 view;
	int		 back;		/* where Esc goes from detail, help */
	int		 delay_ms;
	int		 paused;
	int		 quit;

	/* The thread list, shared by the table and the timeline. */
	int		 sort;		/* enum order_key */
	char		 filter[TUI_FILTER_MAX];
	int		 editing;	/* typing a filter into edit */
	char		 edit[TUI_FILTER_MAX];
	uint32_t	*order;		/* row indexes in display order */
	uint32_t	 norder;
	uint32_t	 order_cap;
	pid_t		 sel_tid;	/* the selection follows its thread */
	uint32_t	 sel, top;	/* positions in order */
	int		 body_h;	/* rows of the last body drawn */

	int		 lock_top;	/* first line of the locks view */
	int		 lock_lines;	/* its length when last drawn */
	int		 blame_top;	/* the same for the blame view */
	int		 blame_lines;

	pid_t		 detail_tid;
	struct out	 stack;		/* its stack, from a dump */
	char		 stack_err[TUI_MSG_MAX];
	int		 detail_top;
	int		 detail_lines;
	int		 detail_tasks;	/* its loop's tasks, not its stack */

	int		 help_top;

	char		 msg[TUI_MSG_MAX];	/* the footer's message */
	int		 msg_role;
};

/* What a key did (panels' key handlers). */
#define KEY_IGNORED	0
#define KEY_DONE	1

/* Attribute roles: crt.c gives each a colour, or a monochrome look. */
enum crt_role {
	ROLE_NORMAL,
	ROLE_TITLE,	/* the header's first line */
	ROLE_HEAD,	/* column titles */
	ROLE_KEYS,	/* the footer's key list */
	ROLE_SEL,	/* the selected row */
	ROLE_BANNER,	/* the deadlock banner: red */
	ROLE_WARN,	/* lock-order inversions, stalls */
	ROLE_HELD,	/* holds the GIL: green */
	ROLE_GILWAIT,	/* waits for the GIL */
	ROLE_BLOCKED,	/* blocked on a lock */
	ROLE_DIM,	/* sleeping, idle */
	ROLE_N
};

/* crt.c: curses, and the terminal put back whatever way we leave. */
int	crt_init(void);		/* 0, or -1 (no terminal) */
void	crt_done(void);
int	crt_cols(void);
int	crt_lines(void);
int	crt_color(void);	/* colours in use (else monochrome) */
/* s at (y, x), cut or padded to width columns, in role. */
void	crt_put(int y, int x, int width, int role, const char *s);
void	crt_erase(void);
void	crt_flush(void);
/* The next key within timeout_ms, or -1; KEY_RESIZE after a resize. */
int	crt_key(int timeout_ms);
/* SIGINT, SIGTERM or SIGHUP arrived. */
int	crt_stop(void);

/*
 * crt.c: a scrolling page of text lines.  Lines are counted always and
 * drawn only when they fall inside the window (rows y..y+h-1, scrolled
 * down by top lines), so a panel can say how long it is.
 */
struct page {
	int	 y, h, top, n, width;
};
void	page_line(struct page *, int role, const char *s);

/* panel-header.c: the header and the deadlock banner; rows used. */
int	header_draw(struct tui *, int y);

/* panel-footer.c: the message line and the key line, at the bottom. */
void	footer_draw(struct tui *);
void	footer_say(struct tui *, int role, const char *, ...)
	    __attribute__((format(printf, 3, 4)));

/* The body views, each in rows [y, y + h), with their keys. */
void	threads_draw(struct tui *, int y, int h);	/* panel-threads.c */
int	threads_key(struct tui *, int key);
void	threads_reorder(struct tui *);
void	timeline_draw(struct tui *, int y, int h);	/* panel-timeline.c */
void	locks_draw(struct tui *, int y, int h);		/* panel-locks.c */
int	locks_key(struct tui *, int key);
void	blame_draw(struct tui *, int y, int h);		/* panel-blame.c */
int	blame_key(struct tui *, int key);
void	detail_open(struct tui *, pid_t tid);		/* panel-detail.c */
void	detail_open_tasks(struct tui *, pid_t tid);
void	detail_draw(struct tui *, int y, int h);
int	detail_key(struct tui *, int key);
void	help_draw(struct tui *, int y, int h);		/* panel-help.c */
int	help_key(struct tui *, int key);

/* loop.c: scrolling keys for the text views; KEY_DONE moved *top. */
int	tui_scroll(int key, int *top, int lines, int h);

/* panel-pick.c: pick_run, loop.c: tui_run, once.c: tui_once (cli.h). */

#endif /* GW_TUI_H */
