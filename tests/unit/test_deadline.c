/*
 * test_deadline -- one stage's deadline (milter/deadline.c): the
 * arithmetic of deadline_after and deadline_left_ms, which of a check's
 * own deadline and the stage's ends a wait (deadline_cap), and the cut
 * mark that makes the session answer the stage itself.
 */
#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <time.h>

#include "deadline.h"

static struct timespec
ts(time_t sec, long nsec)
{
	struct timespec	t;

	t.tv_sec = sec;
	t.tv_nsec = nsec;
	return t;
}

/* from + ms, carrying nanoseconds into seconds */
static const struct {
	time_t		 sec;
	long		 nsec;
	unsigned	 ms;
	time_t		 want_sec;
	long		 want_nsec;
} after_cases[] = {
	{ 100, 0, 0, 100, 0 },
	{ 100, 0, 1, 100, 1000000 },
	{ 100, 0, 20000, 120, 0 },
	{ 100, 999000000, 1, 101, 0 },
	{ 100, 999999999, 1500, 102, 499999999 },
	{ 0, 500000000, 600000, 600, 500000000 },
};

START_TEST(test_after)
{
	struct timespec	from = ts(after_cases[_i].sec, after_cases[_i].nsec), got;

	deadline_after(&got, &from, after_cases[_i].ms);
	ck_assert_int_eq(got.tv_sec, after_cases[_i].want_sec);
	ck_assert_int_eq(got.tv_nsec, after_cases[_i].want_nsec);
}
END_TEST

/* the time left, never negative, in milliseconds rounded up */
static const struct {
	time_t		 now_sec;
	long		 now_nsec;
	unsigned	 want;
} left_cases[] = {
	{ 90, 0, 10000 },
	{ 99, 999000000, 1 },
	{ 99, 999500000, 1 },		/* under a millisecond: still some time */
	{ 99, 999999999, 1 },
	{ 100, 0, 0 },			/* at the deadline */
	{ 100, 1, 0 },
	{ 200, 0, 0 },			/* long past */
	{ 98, 250000000, 1750 },
	{ 98, 250000001, 1750 },
	{ 0, 0, 100000 },
};

START_TEST(test_left)
{
	struct deadline	d = { { 100, 0 }, 0 };
	struct timespec	now = ts(left_cases[_i].now_sec, left_cases[_i].now_nsec);

	ck_assert_uint_eq(deadline_left_ms(&d, &now), left_cases[_i].want);
	ck_assert_uint_eq(deadline_left_ms(NULL, &now), ~0u);
}
END_TEST

/* a check's own deadline is capped by the stage's, and says when it was */
static const struct {
	time_t		 own_sec;
	long		 own_nsec;
	int		 want_capped;
	time_t		 want_sec;
	long		 want_nsec;
} cap_cases[] = {
	{ 95, 0, 0, 95, 0 },			/* the check's own ends first */
	{ 100, 0, 0, 100, 0 },			/* equal: the check's own */
	{ 100, 1, 1, 100, 0 },
	{ 160, 0, 1, 100, 0 },			/* dns_timeout 60 s, stage 20 s */
};

START_TEST(test_cap)
{
	struct deadline	d = { { 100, 0 }, 0 };
	struct timespec	own = ts(cap_cases[_i].own_sec, cap_cases[_i].own_nsec);
	struct timespec	none = own;

	ck_assert_int_eq(deadline_cap(&d, &own), cap_cases[_i].want_capped);
	ck_assert_int_eq(own.tv_sec, cap_cases[_i].want_sec);
	ck_assert_int_eq(own.tv_nsec, cap_cases[_i].want_nsec);
	/* no stage: no cap */
	ck_assert_int_eq(deadline_cap(NULL, &none), 0);
	ck_assert_int_eq(none.tv_sec, cap_cases[_i].own_sec);
}
END_TEST

/* a started stage has its time ahead; the cut mark starts clear */
START_TEST(test_start_and_cut)
{
	struct deadline	d;
	struct timespec	now;
	unsigned	left;

	d.cut = 1;
	deadline_start(&d, 20000);
	ck_assert_int_eq(deadline_was_cut(&d), 0);
	ck_assert_int_eq(deadline_passed(&d), 0);
	(void)clock_gettime(CLOCK_MONOTONIC, &now);
	left = deadline_left_ms(&d, &now);
	ck_assert_msg(left > 19000 && left <= 20000, "left %u", left);
	deadline_cut(&d);
	ck_assert_int_eq(deadline_was_cut(&d), 1);
	/* a new stage starts afresh */
	deadline_start(&d, 0);
	ck_assert_int_eq(deadline_was_cut(&d), 0);
	ck_assert_int_eq(deadline_passed(&d), 1);
	/* NULL is no deadline */
	deadline_cut(NULL);
	ck_assert_int_eq(deadline_was_cut(NULL), 0);
	ck_assert_int_eq(deadline_passed(NULL), 0);
}
END_TEST

/* a relative timeout is cut to the time the stage has left */
START_TEST(test_cap_tv)
{
	struct deadline	d;
	struct timeval	tv = { 0, 250000 }, big = { 30, 0 };

	deadline_start(&d, 20000);
	/* 250 ms fits in 20 s: unchanged */
	ck_assert_int_eq(deadline_cap_tv(&d, &tv), 0);
	ck_assert_int_eq(tv.tv_sec, 0);
	ck_assert_int_eq(tv.tv_usec, 250000);
	/* 30 s does not: cut to what is left (at most 20 s) */
	ck_assert_int_eq(deadline_cap_tv(&d, &big), 1);
	ck_assert_msg(big.tv_sec >= 19 && big.tv_sec <= 20, "got %ld s",
	    (long)big.tv_sec);
	/* no stage: no cap */
	big.tv_sec = 30;
	ck_assert_int_eq(deadline_cap_tv(NULL, &big), 0);
	ck_assert_int_eq(big.tv_sec, 30);
	/* no time left */
	deadline_start(&d, 0);
	ck_assert_int_eq(deadline_cap_tv(&d, &tv), -1);
}
END_TEST

#define NELEM(a)	((int)(sizeof(a) / sizeof((a)[0])))

int
main(void)
{
	Suite	*s = suite_create("deadline");
	TCase	*tc = tcase_create("all");
	SRunner	*sr;
	int	 failed;

	tcase_add_loop_test(tc, test_after, 0, NELEM(after_cases));
	tcase_add_loop_test(tc, test_left, 0, NELEM(left_cases));
	tcase_add_loop_test(tc, test_cap, 0, NELEM(cap_cases));
	tcase_add_test(tc, test_start_and_cut);
	tcase_add_test(tc, test_cap_tv);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
