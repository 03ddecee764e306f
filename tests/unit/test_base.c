/*
 * test_base -- buf, num, diag and log_escape.
 */
#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "diag.h"
#include "log.h"
#include "num.h"

START_TEST(test_buf_grows)
{
	struct buf	b = BUF_INIT;
	int		i;

	ck_assert_str_eq(buf_str(&b), "");
	for (i = 0; i < 1000; i++)
		buf_puts(&b, "abc");
	ck_assert_uint_eq(b.len, 3000);
	ck_assert_int_eq(b.data[b.len], '\0');
	buf_reset(&b);
	ck_assert_str_eq(buf_str(&b), "");
	buf_printf(&b, "%d-%s", 42, "x");
	buf_putc(&b, '!');
	ck_assert_str_eq(buf_str(&b), "42-x!");
	buf_free(&b);
}
END_TEST

START_TEST(test_buf_release)
{
	struct buf	b = BUF_INIT;
	char		*s;

	s = buf_release(&b);
	ck_assert_str_eq(s, "");
	free(s);
	buf_append(&b, "a\0b", 3);
	ck_assert_uint_eq(b.len, 3);
	s = buf_release(&b);
	ck_assert_int_eq(memcmp(s, "a\0b", 4), 0);
	ck_assert_ptr_null(b.data);
	free(s);
}
END_TEST

static const struct {
	const char	*in;
	uint64_t	 min, max;
	int		 rc;
	uint64_t	 want;
} num_cases[] = {
	{ "0", 0, 10, 0, 0 },
	{ "10", 0, 10, 0, 10 },
	{ "11", 0, 10, -1, 0 },
	{ "", 0, 10, -1, 0 },
	{ "-1", 0, 10, -1, 0 },
	{ "+1", 0, 10, -1, 0 },
	{ " 1", 0, 10, -1, 0 },
	{ "1x", 0, 10, -1, 0 },
	{ "0x10", 0, 100, -1, 0 },
	{ "18446744073709551615", 0, UINT64_MAX, 0, UINT64_MAX },
	{ "18446744073709551616", 0, UINT64_MAX, -1, 0 },
	{ "99999999999999999999999", 0, UINT64_MAX, -1, 0 },
	{ "5", 6, 10, -1, 0 },
};

START_TEST(test_num_parse)
{
	uint64_t	got = 12345;
	int		rc;

	rc = num_parse(num_cases[_i].in, strlen(num_cases[_i].in),
	    num_cases[_i].min, num_cases[_i].max, &got);
	ck_assert_int_eq(rc, num_cases[_i].rc);
	if (rc == 0)
		ck_assert_uint_eq(got, num_cases[_i].want);
}
END_TEST

static const struct {
	const char	*in;
	enum num_unit	 unit;
	int		 rc;
	uint64_t	 want;
} dur_cases[] = {
	{ "5s", NUM_UNIT_REQUIRED, 0, 5 },
	{ "2m", NUM_UNIT_REQUIRED, 0, 120 },
	{ "1h", NUM_UNIT_REQUIRED, 0, 3600 },
	{ "1d", NUM_UNIT_REQUIRED, 0, 86400 },
	{ "5", NUM_UNIT_REQUIRED, -1, 0 },
	{ "5", NUM_UNIT_OPTIONAL, 0, 5 },
	{ "h", NUM_UNIT_OPTIONAL, -1, 0 },
	{ "1w", NUM_UNIT_OPTIONAL, -1, 0 },
	{ "", NUM_UNIT_OPTIONAL, -1, 0 },
	{ "99999999999999999d", NUM_UNIT_OPTIONAL, -1, 0 },
};

START_TEST(test_num_duration)
{
	uint64_t	got = 0;
	int		rc;

	rc = num_parse_duration(dur_cases[_i].in, strlen(dur_cases[_i].in),
	    dur_cases[_i].unit, 0, UINT64_MAX, &got);
	ck_assert_int_eq(rc, dur_cases[_i].rc);
	if (rc == 0)
		ck_assert_uint_eq(got, dur_cases[_i].want);
}
END_TEST

START_TEST(test_num_format_duration)
{
	char	got[16];

	num_format_duration(3600, got, sizeof(got));
	ck_assert_str_eq(got, "1h");
	num_format_duration(86400 * 2, got, sizeof(got));
	ck_assert_str_eq(got, "2d");
	num_format_duration(90, got, sizeof(got));
	ck_assert_str_eq(got, "90s");
	num_format_duration(120, got, sizeof(got));
	ck_assert_str_eq(got, "2m");
}
END_TEST

START_TEST(test_diag_format)
{
	struct diag	d = DIAG_INIT;

	diag_error(&d, "f.rules", 3, 7, "bad %s", "thing");
	diag_error(&d, "f.rules", 0, 0, "no position");
	ck_assert_uint_eq(d.errors, 2);
	ck_assert_str_eq(buf_str(&d.out),
	    "f.rules:3:7: error: bad thing\nf.rules: error: no position\n");
	diag_free(&d);
}
END_TEST

START_TEST(test_diag_cap)
{
	struct diag	d = DIAG_INIT;
	int		i;

	d.max = 3;
	for (i = 0; i < 10; i++)
		diag_error(&d, "f", 1, 1, "e%d", i);
	ck_assert_uint_eq(d.errors, 10);
	ck_assert_ptr_nonnull(strstr(buf_str(&d.out), "too many errors"));
	ck_assert_ptr_null(strstr(buf_str(&d.out), "e5"));
	diag_free(&d);
}
END_TEST

static const struct {
	const char	*in, *want;
} esc_cases[] = {
	{ "plain", "plain" },
	{ "", "\"\"" },
	{ "a b", "\"a b\"" },
	{ "cr\rlf\n", "cr\\x0Dlf\\x0A" },
	{ "q\"x", "\"q\\\"x\"" },
	{ "back\\slash", "back\\\\slash" },
	{ "\xc3\xa9", "\\xC3\\xA9" },
};

START_TEST(test_log_escape)
{
	struct buf	got = BUF_INIT;

	log_escape(&got, esc_cases[_i].in);
	ck_assert_str_eq(buf_str(&got), esc_cases[_i].want);
	buf_free(&got);
}
END_TEST

START_TEST(test_log_capture)
{
	struct buf	got = BUF_INIT;

	log_capture(&got);
	log_info("hello %d", 1);
	log_warn("careful");
	log_capture(NULL);
	ck_assert_str_eq(buf_str(&got), "hello 1\nwarning: careful\n");
	buf_free(&got);
}
END_TEST

static Suite *
base_suite(void)
{
	Suite	*s = suite_create("base");
	TCase	*tc = tcase_create("all");

	tcase_add_test(tc, test_buf_grows);
	tcase_add_test(tc, test_buf_release);
	tcase_add_loop_test(tc, test_num_parse, 0,
	    sizeof(num_cases) / sizeof(num_cases[0]));
	tcase_add_loop_test(tc, test_num_duration, 0,
	    sizeof(dur_cases) / sizeof(dur_cases[0]));
	tcase_add_test(tc, test_num_format_duration);
	tcase_add_test(tc, test_diag_format);
	tcase_add_test(tc, test_diag_cap);
	tcase_add_loop_test(tc, test_log_escape, 0,
	    sizeof(esc_cases) / sizeof(esc_cases[0]));
	tcase_add_test(tc, test_log_capture);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr = srunner_create(base_suite());
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
