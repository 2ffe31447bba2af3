/*
 * Where a snapshot read from outside (outside.c) takes its threads,
 * their system calls and stacks, and the mapped files: a live process
 * (/proc, libdw stopping one thread at a time) or a core file (its
 * notes, libdw over its memory).  The rest of the assembly is one path
 * for both.
 */
#ifndef GW_SOURCE_H
#define GW_SOURCE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "maps.h"
#include "symname.h"
#include "task.h"
#include "unwind.h"

struct source;
struct core;

struct source_ops {
	int	 stops;		/* unwinding stops the threads */
	/* Every thread, sorted by tid: the count, or -1 with why set. */
	int	(*threads)(struct source *, struct task **, char *, size_t);
	/* Ready to unwind: 0, or -1 with why set. */
	int	(*stacks_open)(struct source *, char *, size_t);
	int	(*stack)(struct source *, const struct task *,
		    struct unwind_stack *, char *, size_t);
	int	(*name)(struct source *, uintptr_t ip, int is_return,
		    struct symbol *);
	void	(*stacks_close)(struct source *);
};

/* A core's thread unwound, until its turn comes (core_stacks). */
struct core_unwound {
	pid_t		 tid;
	struct unwind_stack st;
	char		*why;		/* NULL when unwound */
};

struct source {
	const struct source_ops *ops;
	pid_t		 pid;
	struct core	*core;		/* a core's */
	struct core_unwound *cu;	/* its stacks, sorted by tid */
	size_t		 ncu;
	struct unwind	*u;		/* a live process's, once open */
	struct maps	 maps;
	int		 stacks;	/* stacks_open succeeded */
	int		 runs;		/* stacks to come: threads read with
					   their run counts */
};

/* The two kinds; set ops, pid (and core) and maps before use. */
extern const struct source_ops source_live_ops;
extern const struct source_ops source_core_ops;

#endif /* GW_SOURCE_H */
