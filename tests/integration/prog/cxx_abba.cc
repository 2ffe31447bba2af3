/*
 * cxx_abba: the ABBA deadlock of samples/abba.c in C++ member functions,
 * so that a report names them demangled: thread "acquire-1" runs
 * LockTest::Acquire1 (a then b), "acquire-2" LockTest::Acquire2 (b then
 * a); a barrier makes each take its first mutex before either asks for
 * its second.  Never returns; on stderr "gw-sample: ..." lines.
 */
#include <pthread.h>
#include <stdio.h>

#include "sample.h"

class LockTest {
public:
	LockTest();
	void	Acquire1();
	void	Acquire2();

private:
	pthread_mutex_t	 a_, b_;
	pthread_barrier_t both_hold_;
};

LockTest::LockTest()
{
	pthread_mutex_init(&a_, NULL);
	pthread_mutex_init(&b_, NULL);
	pthread_barrier_init(&both_hold_, NULL, 2);
	sample_lock(&a_, "a");
	sample_lock(&b_, "b");
}

void
LockTest::Acquire1()
{
	pthread_mutex_lock(&a_);
	sample_ready_at(&both_hold_);
	pthread_mutex_lock(&b_);		/* never returns */
	pthread_mutex_unlock(&b_);
	pthread_mutex_unlock(&a_);
}

void
LockTest::Acquire2()
{
	pthread_mutex_lock(&b_);
	sample_ready_at(&both_hold_);
	pthread_mutex_lock(&a_);		/* never returns */
	pthread_mutex_unlock(&a_);
	pthread_mutex_unlock(&b_);
}

static void *
run1(void *arg)
{
	sample_thread("acquire-1");
	static_cast<LockTest *>(arg)->Acquire1();
	return NULL;
}

static void *
run2(void *arg)
{
	sample_thread("acquire-2");
	static_cast<LockTest *>(arg)->Acquire2();
	return NULL;
}

int
main()
{
	LockTest test;
	pthread_t t1, t2;

	sample_pid();
	if (pthread_create(&t1, NULL, run1, &test) != 0 ||
	    pthread_create(&t2, NULL, run2, &test) != 0) {
		fprintf(stderr, "cxx_abba: pthread_create failed\n");
		return 1;
	}
	pthread_join(t1, NULL);
	pthread_join(t2, NULL);
	printf("cxx_abba: no deadlock?\n");
	return 1;
}
