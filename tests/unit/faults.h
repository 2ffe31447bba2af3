/*
 * Page faults of this process so far, for the tests that bound the
 * pages a structure touches: a first touch of a page is one.
 */
#ifndef GW_TEST_FAULTS_H
#define GW_TEST_FAULTS_H

#include <criterion/criterion.h>
#include <sys/resource.h>

static inline long
faults(void)
{
	struct rusage ru;

	cr_assert_eq(getrusage(RUSAGE_SELF, &ru), 0);
	return ru.ru_minflt + ru.ru_majflt;
}

#endif /* GW_TEST_FAULTS_H */
