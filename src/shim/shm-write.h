/*
 * The writing side of the shared-memory file (include/gilwatch/shm.h):
 * the file, its layout, its growth and the sequence counters.  What
 * goes in a frame is the caller's business (publish.c, tests).
 *
 * One writer per file, in one thread.  Nothing here allocates after
 * shm_writer_open but the file's own growth (shm_writer_reserve).
 */
#ifndef GW_SHM_WRITE_H
#define GW_SHM_WRITE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "gilwatch/shm.h"

/*
 * A slot has room for cap_threads threads, as many deadlock links, the
 * top locks and the lock-order lines, and SHM_SYMS_BASE symbols plus
 * one per two threads (stacks parked at one place share their names).
 */
#define SHM_SYMS_BASE	512
#define SHM_MIN_THREADS	64	/* the smallest slot */
#define SHM_MAX_THREADS	(1u << 22) /* a slot's used stays in 32 bits */

struct shm_writer {
	int		 fd;
	char		 path[128];
	struct gw_shm_header *hdr;	/* the mapping */
	size_t		 map_len;
	uint32_t	 cap_threads;	/* room in a slot */
	pid_t		 pid;		/* the process that made the file */

	/* The slot being written, between begin and commit. */
	unsigned	 slot;
	char		*base;
	size_t		 cursor;
};

/* What a new file says about its process. */
struct shm_proc {
	pid_t		 pid;
	uint32_t	 interval_ms;
	uint64_t	 start_ticks;
	uint64_t	 start_real_ns;
	const char	*command;
	uint32_t	 loop_stall_ms;	/* 0: off */
};

/*
 * Create path (mode 0600), replacing a file left there by a process
 * that had our pid, with room for cap_threads threads.  A file someone
 * still has mapped is unlinked, not truncated, so their mapping stays
 * whole.  Returns 0, or -1 with errno.
 */
int	shm_writer_open(struct shm_writer *, const char *path,
	    const struct shm_proc *, uint32_t cap_threads);

/* The size of a slot with room for that many threads. */
size_t	shm_slot_size(uint32_t cap_threads);

/*
 * Make room for nthreads: grow the file (and the slots) when they do
 * not fit.  Call between frames, not between begin and commit.
 * Returns 0, or -1 (no room, the old layout stays) with errno.
 */
int	shm_writer_reserve(struct shm_writer *, uint32_t nthreads);

/*
 * Start a frame in the slot readers are not pointed at.  Returns its
 * head, zeroed; sections are claimed after it with shm_writer_claim.
 */
struct gw_shm_frame	*shm_writer_begin(struct shm_writer *);

/* Free bytes at the cursor, and where they start. */
void	*shm_writer_room(struct shm_writer *, size_t *room);

/*
 * The len bytes at the cursor are part of the frame (written, or about
 * to be before commit); returns their offset from the slot's start.
 * len must not exceed the room.
 */
uint32_t	shm_writer_claim(struct shm_writer *, size_t len);

/* Finish the frame and point readers at it. */
void	shm_writer_commit(struct shm_writer *);

/*
 * Mark the file stopped and, with remove, unlink it.  Leaves the
 * mapping: another thread may still be writing to it (exit).
 */
void	shm_writer_stop(struct shm_writer *, int remove);

/* Unmap and close, without touching the file (a fork child's copy). */
void	shm_writer_forget(struct shm_writer *);

#endif /* GW_SHM_WRITE_H */
