/* GIL profile in folded stacks: see gil-profile.h. */
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "gil-blame.h"
#include "gil-profile.h"
#include "msg.h"
#include "out.h"
#include "pages.h"
#include "py.h"
#include "thread.h"
#include "share.h"

struct pstack {
	_Atomic uint64_t ns;
	int		 depth;		/* 0: empty */
	int		 cut;		/* deeper frames left out */
	int		 site[PROFILE_DEPTH];	/* outermost first */
};

int profile_on;
static char path[512];
static struct pstack *stacks;
static GW_SHARED _Atomic uint64_t lost_ns;
static GW_SHARED atomic_int said_full;

void
profile_init(const char *p)
{
	if (p == NULL || p[0] == '\0')
		return;
	if ((stacks = pages_map(PROFILE_STACKS * sizeof *stacks)) == NULL) {
		msg_say("no memory for the GIL profile: %s will not be "
		    "written", p);
		return;
	}
	snprintf(path, sizeof path, "%s", p);
	profile_on = 1;
}

static unsigned
hash_sites(const int *site, int n)
{
	uint64_t h = 0xcbf29ce484222325ull;
	int i;

	for (i = 0; i < n; i++) {
		h ^= (uint64_t)(unsigned)site[i];
		h *= 0x100000001b3ull;
	}
	return (unsigned)(h ^ (h >> 32));
}

void
profile_hold(const struct py_site *ps, int n, uint64_t ns)
{
	int site[PROFILE_DEPTH], i, cut;
	unsigned h, k;
	struct pstack *s;

	if (!profile_on || ns == 0)
		return;
	if (n <= 0) {
		n = 1;
		site[0] = blame_site_of(NULL);
		cut = 0;
	} else {
		cut = n > PROFILE_DEPTH;
		if (cut)
			n = PROFILE_DEPTH;
		for (i = 0; i < n; i++)	/* innermost first: reverse */
			site[n - 1 - i] = blame_site_of(&ps[i]);
	}
	h = hash_sites(site, n);
	/* Only markers add stacks, one at a time (gil->mutex). */
	for (k = 0; k < PROFILE_STACKS; k++) {
		s = &stacks[(h + k) % PROFILE_STACKS];
		if (s->depth == 0) {
			memcpy(s->site, site, (size_t)n * sizeof site[0]);
			s->cut = cut;
			atomic_store_explicit((_Atomic int *)&s->depth, n,
			    memory_order_release);
		}
		if (s->depth == n && s->cut == cut &&
		    memcmp(s->site, site, (size_t)n * sizeof site[0]) == 0) {
			atomic_fetch_add_explicit(&s->ns, ns,
			    memory_order_relaxed);
			return;
		}
	}
	atomic_fetch_add(&lost_ns, ns);
	if (atomic_exchange(&said_full, 1) == 0)
		msg_say("GIL profile: more than %u stacks; the time of the "
		    "others is left out of %s", PROFILE_STACKS, path);
}

/* One frame as folded stacks want it: no ';', no line break. */
static void
frame_out(struct out *o, int site)
{
	char name[PY_NAME_MAX + PY_FILE_MAX + 16], *c;

	blame_site_name(site, name, sizeof name);
	for (c = name; *c != '\0'; c++)
		if (*c == ';' || *c == '\n' || *c == '\r')
			*c = ':';
	out_puts(o, name);
}

void
profile_write(void)
{
	char file[600];
	struct pstack *s;
	struct out o;
	uint64_t us;
	unsigned k;
	int i, fd;

	if (!profile_on)
		return;
	config_expand(path, file, sizeof file);
	fd = open(file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd == -1) {
		msg_say("cannot write the GIL profile to %s", file);
		return;
	}
	out_init(&o);
	for (k = 0; k < PROFILE_STACKS; k++) {
		s = &stacks[k];
		us = atomic_load(&s->ns) / 1000;
		if (s->depth == 0 || us == 0)
			continue;
		if (s->cut)
			out_puts(&o, "...;");
		for (i = 0; i < s->depth; i++) {
			if (i > 0)
				out_puts(&o, ";");
			frame_out(&o, s->site[i]);
		}
		out_printf(&o, " %llu\n", (unsigned long long)us);
	}
	if ((us = atomic_load(&lost_ns) / 1000) > 0)
		out_printf(&o, "<stacks not kept> %llu\n",
		    (unsigned long long)us);
	if (out_write(&o, fd) == -1)
		msg_say("cannot write the GIL profile to %s", file);
	out_free(&o);
	close(fd);
}

void
profile_reset(void)
{
	unsigned k;

	if (!profile_on)
		return;
	for (k = 0; k < PROFILE_STACKS; k++)
		atomic_store(&stacks[k].ns, 0);
	atomic_store(&lost_ns, 0);
}
