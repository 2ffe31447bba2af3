/*
 * GIL blame: who made each thread wait for the GIL, and where in the
 * code.  The GIL's markers (gil.h) run one at a time under gil->mutex,
 * so the accounting needs no lock of its own:
 *   - a holder that lets the GIL go while another thread waits reads
 *     its own innermost Python frame (py_own_site: its own frames,
 *     under the GIL, plain loads) and charges that line with the time
 *     it held the GIL while someone waited ("blocking time") and with
 *     the forced switch a waiter asked of it; the hold goes into a
 *     ring of recent contended holds (holder, line, start, end);
 *   - a waiter that takes the GIL walks that ring back to its wait's
 *     start and splits its wait by the holders and their lines: the
 *     exact overlap of its wait with each hold.  What no hold covers is
 *     hand-off (the GIL free, the waiter being woken), or unknown when
 *     the ring no longer reaches back that far.
 * The line charged is where the holder was when it let go: for a
 * forced switch, the line the interpreter was running.
 *
 * Memory is fixed, reserved at start-up: BLAME_SITES lines, BLAME_PCS
 * instructions naming them, BLAME_PAIRS (waiter, holder or line)
 * figures.  What does not fit is counted apart and said once.
 *
 * GILWATCH_BLAME=0 turns the accounting off (blame_on 0): the markers
 * read no frame for it and keep no figure, the reports and gilwatch
 * top leave blame out, and real-time budget misses name no holder.
 * The lines stay nameable (blame_site_of, blame_site_name) for
 * --trace and --gil-profile, which name the lines they see.
 */
#ifndef GW_GIL_BLAME_H
#define GW_GIL_BLAME_H

#include <stdint.h>
#include <sys/types.h>

#include "gilwatch/snapshot.h"

#define BLAME_SITES	4096	/* Python lines (code object, line) */
#define BLAME_PCS	16384	/* instructions, each naming a line */
#define BLAME_PAIRS	32768	/* (waiter, holder) and (waiter, line) */
#define BLAME_RING	4096	/* contended holds remembered */

struct out;
struct thread;
struct py_runtime;

/* Reserve the tables (from gil_init, once a GIL is found). */
void	blame_init(const struct py_runtime *);

/* The accounting is on: the markers read the holder's line for it. */
extern int	blame_on;

/*
 * t, holding the GIL since `since`, lets it go at now; at is its
 * innermost Python line (gil_own_site; NULL: none).  Another thread
 * has waited since contended (0: nobody waited during the hold);
 * forced: a waiter asked t to drop.  Returns the ns t kept the others
 * waiting (0: none), for the profile, blame on or off.
 */
struct py_site;
uint64_t	blame_hold_end(struct thread *t, const struct py_site *at,
	    uint64_t since, uint64_t now, uint64_t contended, int forced);

/*
 * t took the GIL at now after waiting since w0.  *holder and *site get
 * the holder whose hold covered most of the wait and its line
 * (blame_site_name), or 0 and -1 (always when blame is off).
 */
void	blame_wait_end(struct thread *t, uint64_t w0, uint64_t now,
	    pid_t *holder, int *site);

/*
 * The site index of a Python instruction of the calling holder's
 * (gil_own_sites), named now if new; NULL: "no Python frame".  -1 when
 * blame is off.
 */
int	blame_site_of(const struct py_site *);

/* "func (file:line)" of a site index, into buf. */
void	blame_site_name(int site, char *buf, size_t len);

/* The report sections: every line's blocking time, and per waiter
 * (when blame is off, a line saying so). */
void	blame_report_sites(struct out *, enum gw_format);

/*
 * The waiters' figures copied and sorted once for a report (NULL when
 * blame is off or memory runs out: the sections are then left out).
 */
struct blame_view;
struct blame_view	*blame_view_take(void);
void	blame_view_free(struct blame_view *);

/*
 * waiter's wait_ns split by holders and lines, from the view; tid_name
 * names a thread, live or gone, by its TID ("" when unknown).
 */
void	blame_report_thread(struct out *, enum gw_format,
	    const struct blame_view *, pid_t waiter, uint64_t wait_ns,
	    void (*tid_name)(pid_t, char *, size_t));

/*
 * For the publication (publish-blame.c, the helper thread): the sites
 * in use so far, each at a place 0..blame_site_count()-1 (its index:
 * blame_site_at), and a site's figures as they are now.  A site keeps
 * its index and names for good.
 */
struct blame_fig {
	int		 site;		/* its index, for blame_site_name */
	int		 line;		/* 0: not a line (no Python frame) */
	const char	*function, *file;
	uint64_t	 blocking, forced, holds;
};
unsigned	blame_site_count(void);
int	blame_site_at(unsigned place);
void	blame_site_fig(int site, struct blame_fig *);

/*
 * A part of waiter's wait, from the view: kind is a GW_SHM_BLAME_*
 * (gilwatch/shm.h), with the holder's TID or the line's site index.
 * Its `each` biggest holders, biggest first, then as many lines, then
 * hand-off and unknown (when not zero) into parts (room for
 * 2 * each + 2); returns how many.
 */
struct blame_part {
	int		 kind;
	pid_t		 holder;
	int		 site;
	uint64_t	 ns;
};
size_t	blame_waiter_parts(const struct blame_view *, pid_t waiter,
	    struct blame_part *parts, size_t each);

/* Zero the figures (gilwatch top's reset, a fork child). */
void	blame_reset(void);

#endif /* GW_GIL_BLAME_H */
