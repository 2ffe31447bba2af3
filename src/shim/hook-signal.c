/* sigaction and signal hooks, and the claims they protect: see sigown.h. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>

#include "hook.h"
#include "msg.h"
#include "share.h"
#include "sigown.h"
#include "stack.h"

#define SIGOWN_MAX	4

struct claim {
	int		 signo;		/* 0: unused or given back */
	struct sigaction program;	/* what the program believes */
	struct sigaction shim;		/* what the kernel has */
	void		(*aside)(int);
};

static GW_SHARED struct claim claims[SIGOWN_MAX];

/* The claim on signo; signo 0 finds a free slot. */
static struct claim *
find(int signo)
{
	int i;

	for (i = 0; i < SIGOWN_MAX; i++)
		if (claims[i].signo == signo)
			return &claims[i];
	return NULL;
}

/*
 * Can the kernel hold the shim's handler while the program believes
 * this?  Not for a handler of the program's, nor for SIGCHLD ignored,
 * which has the kernel reap children.
 */
static int
shim_may_hold(int signo, const struct sigaction *sa)
{
	return sa->sa_handler == SIG_DFL ||
	    (sa->sa_handler == SIG_IGN && signo != SIGCHLD);
}

int
sigown_claim(int signo, void (*handler)(int, siginfo_t *, void *),
    void (*aside)(int))
{
	struct sigaction sa, old;
	struct claim *c;

	if (!hook_ready() || signo <= 0 || find(signo) != NULL ||
	    (c = find(0)) == NULL)
		return -1;
	if (real.sigaction(signo, NULL, &old) == -1 ||
	    !shim_may_hold(signo, &old))
		return -1;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = handler;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	sigemptyset(&sa.sa_mask);
	if (real.sigaction(signo, &sa, NULL) == -1)
		return -1;
	c->program = old;
	c->shim = sa;
	c->aside = aside;
	c->signo = signo;
	return 0;
}

void
sigown_adopt(int signo, void (*aside)(int))
{
	struct claim *c = find(0);

	if (signo <= 0 || c == NULL || find(signo) != NULL)
		return;
	memset(&c->program, 0, sizeof c->program);
	c->program.sa_handler = SIG_DFL;
	if (real.sigaction(signo, NULL, &c->shim) == -1)
		return;
	c->aside = aside;
	c->signo = signo;
}

int
sigown_owns(int signo)
{
	return signo > 0 && find(signo) != NULL;
}

unsigned
sigown_exec_begin(void)
{
	unsigned changed = 0;
	int i;

	if (!hook_ready())
		return 0;
	for (i = 0; i < SIGOWN_MAX; i++)
		if (claims[i].signo > 0 &&
		    claims[i].program.sa_handler == SIG_IGN &&
		    real.sigaction(claims[i].signo, &claims[i].program,
		    NULL) == 0)
			changed |= 1u << i;
	return changed;
}

void
sigown_exec_end(unsigned changed)
{
	int i;

	for (i = 0; i < SIGOWN_MAX; i++)
		if ((changed & (1u << i)) && claims[i].signo > 0)
			real.sigaction(claims[i].signo, &claims[i].shim, NULL);
}

GW_EXPORT int
sigaction(int signo, const struct sigaction *act, struct sigaction *old)
{
	struct claim *c;

	if (!hook_ready())
		return -1;
	if (thread_in_shim() || signo <= 0 || (c = find(signo)) == NULL)
		return real.sigaction(signo, act, old);
	if (old != NULL)
		*old = c->program;
	if (act == NULL)
		return 0;
	c->program = *act;
	if (shim_may_hold(signo, act))
		return 0;
	/* The program takes the signal: it gets exactly what it asked. */
	if (real.sigaction(signo, act, NULL) == -1)
		return -1;
	c->signo = 0;
	c->aside(signo);
	return 0;
}

GW_EXPORT sighandler_t
signal(int signo, sighandler_t handler)
{
	struct sigaction sa, old;

	if (!hook_ready())
		return SIG_ERR;
	if (thread_in_shim() || signo <= 0 || find(signo) == NULL)
		return real.signal(signo, handler);
	/* glibc's signal() has BSD semantics: restart, block while run. */
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = handler;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	sigaddset(&sa.sa_mask, signo);
	if (sigaction(signo, &sa, &old) == -1)
		return SIG_ERR;
	return old.sa_handler;
}

/*
 * For libunwind inside the sampler's handler, which already blocks
 * what libunwind would (stack.h); for everyone else, glibc's
 * sigprocmask, which is pthread_sigmask with errno (no lookup: the shim
 * does not hook pthread_sigmask).
 */
GW_EXPORT int
sigprocmask(int how, const sigset_t *set, sigset_t *old)
{
	int rc;

	if (stack_sampler_mask(how, set, old) == 0)
		return 0;
	if ((rc = pthread_sigmask(how, set, old)) != 0) {
		errno = rc;
		return -1;
	}
	return 0;
}
