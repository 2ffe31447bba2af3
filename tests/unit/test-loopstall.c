/* Which Python stacks run inside an event loop's turn (loopstall.h). */
#include <string.h>

#include <criterion/criterion.h>

#include "loopstall.h"
#include "py.h"

static void
frame(struct py_frame *f, const char *func, const char *file, int flags)
{
	memset(f, 0, sizeof *f);
	strcpy(f->function, func);
	strcpy(f->file, file);
	f->flags = flags;
}

#define BASE	"/usr/lib/python3.12/asyncio/base_events.py"

Test(loopstall, task_step_in_run_once)
{
	struct py_frame f[4];

	frame(&f[0], "sleeper", "/srv/app.py", 0);
	frame(&f[1], "_run", "/usr/lib/python3.12/asyncio/events.py", 0);
	frame(&f[2], "_run_once", BASE, 0);
	frame(&f[3], "run_forever", BASE, 0);
	cr_expect(loopstall_in_turn(f, 4));
	cr_expect_not(loopstall_in_turn(f, 2), "only the frames given");
}

Test(loopstall, not_a_loop)
{
	struct py_frame f[2];

	frame(&f[0], "_run_once", "/srv/my/base_events.py", 0);
	frame(&f[1], "_run_once", "/srv/notasyncio/base_events.py", 0);
	cr_expect_not(loopstall_in_turn(f, 2), "another module's _run_once");
	frame(&f[0], "run_forever", BASE, 0);
	frame(&f[1], "main", "/srv/app.py", 0);
	cr_expect_not(loopstall_in_turn(f, 2));
	frame(&f[0], "_run_once", "asyncio/base_events.py", 0);
	cr_expect(loopstall_in_turn(f, 1), "a relative path");
}

Test(loopstall, invalid_frame_ends_the_walk)
{
	struct py_frame f[2];

	frame(&f[0], "???", "???", PY_FRAME_INVALID);
	frame(&f[1], "_run_once", BASE, 0);
	cr_expect_not(loopstall_in_turn(f, 2));
}
