/* The report buffer and its JSON quoting. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "out.h"

static struct out o;

static void
setup(void)
{
	out_init(&o);
}

static void
teardown(void)
{
	out_free(&o);
}

TestSuite(out, .init = setup, .fini = teardown, .timeout = 5);

Test(out, printf_appends)
{
	out_printf(&o, "a%d", 1);
	out_printf(&o, "-%s", "b");
	cr_assert_str_eq(o.buf, "a1-b");
	cr_assert_eq(o.len, 4);
}

Test(out, grows_past_first_block)
{
	int i;

	for (i = 0; i < 10000; i++)
		out_puts(&o, "0123456789");
	cr_assert_eq(o.len, 100000);
	cr_assert_eq(o.buf[99999], '9');
	cr_assert_not(o.failed);
}

/* out_putu and out_putx write what "%lu" and "%lx" print. */
Test(out, putu_putx_as_printf)
{
	static const unsigned long v[] = { 0, 7, 10, 0x1e8, 355, 4294967296UL,
	    18446744073709551615UL };
	char want[32];
	size_t i;

	for (i = 0; i < sizeof v / sizeof v[0]; i++) {
		out_free(&o);
		out_putu(&o, v[i]);
		snprintf(want, sizeof want, "%lu", v[i]);
		cr_expect_str_eq(o.buf, want);
		out_free(&o);
		out_putx(&o, v[i]);
		snprintf(want, sizeof want, "%lx", v[i]);
		cr_expect_str_eq(o.buf, want);
	}
}

/* A line longer than the room left is formatted again once there is room. */
Test(out, printf_past_room_left)
{
	char big[1000];
	int i;

	memset(big, 'x', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	for (i = 0; i < 50; i++)
		out_printf(&o, "%d:%s;", i, big);
	cr_assert_eq(o.len, 50 * (sizeof big - 1 + 2) + 10 + 40 * 2);
	cr_assert_eq(strlen(o.buf), o.len);
	cr_assert_eq(strncmp(o.buf + o.len - 1003, "49:x", 4), 0);
	cr_assert_eq(o.buf[o.len - 1], ';');
}

/* A streamed report comes out whole and in order, from a small buffer. */
Test(out, stream_writes_as_it_fills)
{
	char line[64], *got;
	size_t want = 0, n = 0;
	ssize_t r;
	int p[2], i;

	cr_assert_eq(pipe(p), 0);
	cr_assert_eq(fcntl(p[0], F_SETFL, O_NONBLOCK), 0);
	cr_assert(fcntl(p[1], F_SETPIPE_SZ, 1 << 20) >= 1 << 20);
	out_stream(&o, p[1]);
	for (i = 0; i < 20000; i++) {
		want += (size_t)snprintf(line, sizeof line, "line %d\n", i);
		out_printf(&o, "line %d\n", i);
	}
	cr_assert_leq(o.cap, 128 * 1024, "the buffer grew to %zu", o.cap);
	cr_assert_eq(out_write(&o, p[1]), 0);
	cr_assert_not_null(got = malloc(want + 1));
	while ((r = read(p[0], got + n, want + 1 - n)) > 0)
		n += (size_t)r;
	cr_assert_eq(n, want);
	got[n] = '\0';
	cr_assert_eq(strncmp(got, "line 0\nline 1\n", 14), 0);
	cr_assert_eq(strcmp(got + n - 11, "line 19999\n"), 0);
	free(got);
	close(p[0]);
	close(p[1]);
}

/* A printf that does not fit what is left is formatted again, whole,
 * after the buffer grows: no piece lost or doubled at the boundary. */
Test(out, printf_across_growth)
{
	char want[16];
	size_t at = 0;
	int i;

	for (i = 0; i < 3000; i++)
		out_printf(&o, "%d,", i % 10 == 0 ? 1000 + i : i);
	cr_assert_not(o.failed);
	for (i = 0; i < 3000; i++) {
		snprintf(want, sizeof want, "%d,", i % 10 == 0 ? 1000 + i : i);
		cr_assert_eq(strncmp(o.buf + at, want, strlen(want)), 0,
		    "at %zu: %s", at, want);
		at += strlen(want);
	}
	cr_assert_eq(o.len, at);
	cr_assert_eq(o.buf[at], '\0');
}

struct quote_case {
	const char *in;
	const char *want;
};

static const struct quote_case quote_cases[] = {
	{ NULL, "null" },
	{ "", "\"\"" },
	{ "plain", "\"plain\"" },
	{ "a\"b", "\"a\\\"b\"" },
	{ "back\\slash", "\"back\\\\slash\"" },
	{ "nl\ntab\t", "\"nl\\ntab\\t\"" },
	{ "\x01\x1f", "\"\\u0001\\u001f\"" },
	{ "caf\xc3\xa9", "\"caf\xc3\xa9\"" },		/* valid UTF-8 kept */
	{ "bad\xff", "\"bad\\ufffd\"" },		/* invalid byte */
	{ "cut\xc3", "\"cut\\ufffd\"" },		/* truncated sequence */
};

Test(out, json_quoting)
{
	size_t i;

	for (i = 0; i < sizeof quote_cases / sizeof quote_cases[0]; i++) {
		out_free(&o);
		out_json_str(&o, quote_cases[i].in);
		cr_expect_str_eq(o.buf, quote_cases[i].want, "case %zu", i);
	}
}

Test(out, write_to_pipe)
{
	char buf[16] = { 0 };
	int p[2];

	cr_assert_eq(pipe(p), 0);
	out_puts(&o, "hello");
	cr_assert_eq(out_write(&o, p[1]), 0);
	cr_assert_eq(read(p[0], buf, sizeof buf), 5);
	cr_assert_str_eq(buf, "hello");
	close(p[0]);
	close(p[1]);
}

Test(out, write_error_is_reported)
{
	int p[2];

	cr_assert_eq(pipe(p), 0);
	close(p[0]);
	signal(SIGPIPE, SIG_IGN);
	out_puts(&o, "x");
	cr_assert_eq(out_write(&o, p[1]), -1);
	close(p[1]);
}

/* Sequences as the metrics' label values and JSON strings need them. */
Test(out, utf8_len)
{
	static const struct {
		const char	*in;
		size_t		 want;
	} cases[] = {
		{ "a", 1 },
		{ "\xc3\xa9", 2 },		/* é */
		{ "\xe2\x82\xac", 3 },		/* € */
		{ "\xf0\x9f\x98\x80", 4 },	/* U+1F600 */
		{ "\xc0\x80", 0 },		/* overlong NUL */
		{ "\xe2\x82", 0 },		/* cut short */
		{ "\x80", 0 },			/* a continuation alone */
		{ "\xf5\x80\x80\x80", 0 },	/* past U+10FFFF */
	};
	size_t i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++)
		cr_expect_eq(out_utf8_len((const unsigned char *)cases[i].in),
		    cases[i].want, "case %zu", i);
}
