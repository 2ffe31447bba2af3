/*
 * Reading another process's shared-memory file (include/gilwatch/shm.h):
 * attach read-only, copy frames that no write overlapped, tell when the
 * writer's process has ended, and list the processes that publish.
 *
 * The mapping is never written, locked or waited on: the writer cannot
 * notice a reader, and a reader killed at any point leaves nothing
 * behind.  Everything read from the file is checked before use (sizes,
 * offsets, counts, string ends), so a damaged file gives an error, not
 * a crash.  Not thread safe: one reader per thread.
 */
#ifndef GW_SHM_READ_H
#define GW_SHM_READ_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "gilwatch/shm.h"

#define SHM_READ_TRIES	1000	/* copies tried before EAGAIN */
#define SHM_ERR_MAX	160	/* room for an error message */

/*
 * A consistent copy of one frame, in this reader's record layout
 * (fields a writer did not write are zero), with the process's facts
 * from the header.  Owns its memory: reuse it across shm_read calls,
 * free it with shm_frame_free.
 */
struct shm_frame {
	struct gw_shm_frame	 head;
	pid_t			 pid;
	uint32_t		 interval_ms;
	uint64_t		 start_real_ns;
	uint32_t		 loop_stall_ms;	/* the process's; 0: off */
	char			 command[GW_SHM_COMMAND_LEN];

	struct gw_shm_thread	*threads;
	uint32_t		 nthreads;
	struct gw_shm_lock	*locks;
	uint32_t		 nlocks;
	struct gw_shm_link	*links;
	uint32_t		 nlinks;
	struct gw_shm_order	*orders;
	uint32_t		 norders;
	struct gw_shm_sym	*syms;
	uint32_t		 nsyms;
	struct gw_shm_blame_site *blame_sites;
	uint32_t		 nblame_sites;
	struct gw_shm_blame	*blame;
	uint32_t		 nblame;

	void			*mem;	/* where the arrays live */
	size_t			 memcap;
};

struct shm_reader;

/*
 * Attach to pid's file, looking in both runtime directories (ipc.h).
 * Returns NULL with errno and a sentence in err:
 *   ENOENT  no file (the process does not publish)
 *   EACCES  not ours to read
 *   ENODATA the file is still being made: try again
 *   EPROTO  not a gilwatch file, another version, or truncated
 */
struct shm_reader	*shm_attach(pid_t pid, char *err, size_t errlen);

/* The same for a file named by path (tests). */
struct shm_reader	*shm_attach_path(const char *path, char *err,
			    size_t errlen);

/*
 * Copy the newest frame into f.  Returns 0, or -1 with errno:
 *   EAGAIN  no copy without a concurrent write in SHM_READ_TRIES tries,
 *           or no frame published yet
 *   EPROTO  the frame's contents do not add up
 *   ENOMEM
 * May take a few milliseconds while the writer grows the file.
 */
int	shm_read(struct shm_reader *, struct shm_frame *f);

/* Copies that failed and were retried so far (for tests). */
uint64_t	shm_retries(const struct shm_reader *);

enum shm_life {
	SHM_LIVE,	/* publishing */
	SHM_STALLED,	/* alive, but no new frame for a while (stopped?) */
	SHM_ENDED,	/* the process has ended, or the pid is another's */
};

/*
 * Is the writer still there?  Call after shm_read (which notes when
 * the update counter last moved).  why says what happened, in words.
 */
enum shm_life	shm_life(struct shm_reader *, char *why, size_t len);

/* The pid the file belongs to. */
pid_t	shm_pid(const struct shm_reader *);

void	shm_detach(struct shm_reader *);
void	shm_frame_free(struct shm_frame *);

/* The path of pid's file under runtime directory choice `which`. */
int	shm_path(int which, pid_t pid, char *buf, size_t len);

/* A process that publishes, as shm_list finds it. */
struct shm_entry {
	pid_t	pid;
	char	command[GW_SHM_COMMAND_LEN];
};

/*
 * The live processes of this user that publish, by pid, into
 * out[0..max-1].  Returns how many there are (more than max when they
 * did not all fit), or -1 with errno when no directory can be read.
 * Files left by processes that no longer exist (killed: a normal exit
 * removes its own) are removed on the way.  A live process whose file
 * cannot be read (another version's, or damaged) is listed with a
 * command saying so: shm_attach then tells why.
 */
int	shm_list(struct shm_entry *out, int max);

/*
 * From /proc/PID/stat: the process state letter and its start time
 * (field 22, clock ticks since boot).  0, or -1 with errno.
 */
int	shm_proc_start(pid_t, char *state, uint64_t *start_ticks);

#endif /* GW_SHM_READ_H */
