/*
 * Unit tests for src/shim/stackvar.c: a set asks only the thread whose
 * stack may hold a lock, and names what a set that asks every thread
 * (the slow path, where the mappings cannot be read) names.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "stack.h"
#include "stackvar.h"
#include "thread.h"

#define SAMPLE_SIG	(SIGRTMIN + 3)
#define NTHREADS	8

struct pair {
	pthread_mutex_t	first, second;
};

/* What a parked thread shows: the addresses of its locks. */
struct parked {
	pthread_t	 pt;
	uintptr_t	 local, member, heap;
	int		 ready[2], go[2];
};

static pthread_mutex_t global_lock = PTHREAD_MUTEX_INITIALIZER;

static __attribute__((noinline)) void *
parked_body(void *arg)
{
	struct parked *p = arg;
	pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
	struct pair s = { PTHREAD_MUTEX_INITIALIZER,
	    PTHREAD_MUTEX_INITIALIZER };
	pthread_mutex_t *h = malloc(sizeof *h);
	char c;

	(void)thread_self();		/* registered, as a hook would */
	p->local = (uintptr_t)&m;
	p->member = (uintptr_t)&s.second;
	p->heap = (uintptr_t)h;
	if (write(p->ready[1], "r", 1) != 1)
		return NULL;
	while (read(p->go[0], &c, 1) == -1 && errno == EINTR)
		continue;
	__asm__ volatile("" : : "r"(&m), "r"(&s) : "memory");
	free(h);
	return NULL;
}

/* Each name the fast set gives is the slow set's, and right. */
Test(stackvar, asks_only_the_owner_and_names_as_asking_all, .timeout = 60)
{
	struct parked p[NTHREADS];
	struct stackvars *fast, *slow;
	pthread_mutex_t mine = PTHREAD_MUTEX_INITIALIZER;
	char a[160], b[160], c;
	uintptr_t addr[4];
	int i, k;

	cr_assert_eq(stack_sampler_install(SAMPLE_SIG), 0);
	thread_registry_init(NULL);
	cr_assert_not_null(thread_self());
	for (i = 0; i < NTHREADS; i++) {
		memset(&p[i], 0, sizeof p[i]);
		cr_assert_eq(pipe(p[i].ready), 0);
		cr_assert_eq(pipe(p[i].go), 0);
		cr_assert_eq(pthread_create(&p[i].pt, NULL, parked_body,
		    &p[i]), 0);
		cr_assert_eq(read(p[i].ready[0], &c, 1), 1);
	}
	fast = stackvars_new();
	slow = stackvars_new_all();
	cr_assert_not_null(fast);
	cr_assert_not_null(slow);

	/* Nothing on a stack: nobody is asked. */
	cr_assert_eq(stackvars_name(fast, (uintptr_t)&global_lock, a,
	    sizeof a), 0);
	for (i = 0; i < NTHREADS; i++)
		cr_assert_eq(stackvars_name(fast, p[i].heap, a, sizeof a), 0);
	cr_assert_eq(stackvars_sampled(fast), 0, "%zu threads asked",
	    stackvars_sampled(fast));

	for (i = 0; i < NTHREADS; i += 3) {
		addr[0] = p[i].local;
		addr[1] = p[i].member;
		addr[2] = p[i].heap;
		addr[3] = (uintptr_t)&global_lock;
		for (k = 0; k < 4; k++) {
			int x = stackvars_name(fast, addr[k], a, sizeof a);
			int y = stackvars_name(slow, addr[k], b, sizeof b);

			cr_assert_eq(x, y, "thread %d lock %d", i, k);
			cr_assert_str_eq(a, b, "thread %d lock %d", i, k);
		}
		cr_assert_eq(stackvars_name(fast, p[i].local, a, sizeof a), 1);
		cr_assert_str_eq(a, "m");
		cr_assert_eq(stackvars_name(fast, p[i].member, a, sizeof a), 1);
		cr_assert_str_eq(a, "s.second");
	}
	/* The main thread's own stack ([stack], no pthread_t above). */
	cr_assert_eq(stackvars_name(fast, (uintptr_t)&mine, a, sizeof a), 1);
	cr_assert_str_eq(a, "mine");
	cr_assert_eq(stackvars_name(slow, (uintptr_t)&mine, b, sizeof b), 1);
	cr_assert_str_eq(b, "mine");

	/* Threads 0, 3 and 6, and main; the slow set asked everyone. */
	cr_assert_eq(stackvars_sampled(fast), 4, "%zu threads asked",
	    stackvars_sampled(fast));
	cr_assert_geq(stackvars_sampled(slow), NTHREADS + 1);
	stackvars_free(fast);
	stackvars_free(slow);
	for (i = 0; i < NTHREADS; i++) {
		cr_assert_eq(write(p[i].go[1], "g", 1), 1);
		cr_assert_eq(pthread_join(p[i].pt, NULL), 0);
	}
	__asm__ volatile("" : : "r"(&mine) : "memory");
}
