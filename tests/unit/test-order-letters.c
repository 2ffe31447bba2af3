/* Lock labels of the lock-order report: distinct past Z. */
#include <criterion/criterion.h>

#include "order-report.h"

static const char *
label(unsigned i)
{
	static char buf[16];

	order_letters(i, buf, sizeof buf);
	return buf;
}

Test(order_letters, first_alphabet)
{
	cr_assert_str_eq(label(0), "A");
	cr_assert_str_eq(label(1), "B");
	cr_assert_str_eq(label(25), "Z");
}

Test(order_letters, past_z)
{
	cr_assert_str_eq(label(26), "AA");
	cr_assert_str_eq(label(29), "AD");
	cr_assert_str_eq(label(51), "AZ");
	cr_assert_str_eq(label(52), "BA");
	cr_assert_str_eq(label(701), "ZZ");
	cr_assert_str_eq(label(702), "AAA");
}

Test(order_letters, distinct)
{
	char a[16], b[16];
	unsigned i, j;

	for (i = 0; i < 800; i += 7)
		for (j = i + 1; j < 800; j += 13) {
			order_letters(i, a, sizeof a);
			order_letters(j, b, sizeof b);
			cr_assert_str_neq(a, b, "%u and %u", i, j);
		}
}

Test(order_letters, cut)
{
	char buf[2];

	order_letters(26, buf, sizeof buf);
	cr_assert_str_eq(buf, "A");
}
