/*
 * The report formats: a struct gw_snapshot written as text or JSON.
 *
 * One writer per format for every snapshot, whether the shim took it
 * inside the program or the command read the process from outside
 * (snapshot->source), so the two reports cannot drift apart.  The
 * writers depend on the snapshot alone: they name nothing and read
 * nothing else.
 */
#ifndef GW_FORMAT_H
#define GW_FORMAT_H

#include "gilwatch/snapshot.h"

struct out;

/* "api", "signal", "request", "deadlock" or "stall". */
const char	*report_reason_name(enum gw_snapshot_reason);

/* Writers, one per format. */
void	report_text(struct out *, const struct gw_snapshot *);
void	report_json(struct out *, const struct gw_snapshot *);

/*
 * One thread's entry of s, as the whole report writes it: for reports
 * about one thread (an event loop's stall, loopstall.h).
 */
void	report_text_thread(struct out *, const struct gw_thread_info *,
	    const struct gw_snapshot *s);
void	report_json_thread(struct out *, const struct gw_thread_info *,
	    const struct gw_snapshot *s);

/* One frame: "func+0x1f (file.c:30) in module", or its JSON object. */
void	report_text_frame(struct out *, const struct gw_frame *);
void	report_json_frame(struct out *, const struct gw_frame *);

/* asyncio (snapshot-asyncio.c): a thread's loop and tasks, after its
 * stack; a deadlock link that is a task, next being the link after it;
 * their JSON members (",\"asyncio\":...", ",\"task\":..."). */
void	report_text_loop(struct out *, const struct gw_thread_info *,
	    const struct gw_snapshot *);
void	report_text_task_link(struct out *, const struct gw_snapshot *,
	    const struct gw_deadlock_link *, const struct gw_deadlock_link *);
void	report_json_loop(struct out *, const struct gw_thread_info *);
void	report_json_task_link(struct out *, const struct gw_deadlock_link *);
/* A thread's link waiting for a task's result (l->result_of), its
 * JSON member (",\"result_of\":..."); under a thread's link of a
 * deadlock with tasks, its loop's running task and its Python stack. */
void	report_text_result_link(struct out *, const struct gw_snapshot *,
	    const struct gw_deadlock_link *);
void	report_json_result_link(struct out *, const struct gw_deadlock_link *);
void	report_text_link_thread(struct out *, const struct gw_snapshot *,
	    pid_t);
/* The tasks a deadlock holds up (gw_deadlock.waiters). */
void	report_text_waiters(struct out *, const struct gw_snapshot *,
	    const struct gw_deadlock *);
void	report_json_waiters(struct out *, const struct gw_deadlock *);

#endif /* GW_FORMAT_H */
