/*
 * test_table -- table files: syntax errors, most specific key per field,
 * reload on change.
 */
#include "config.h"

#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "diag.h"
#include "ipaddr.h"
#include "log.h"
#include "table.h"

static char	path[64];

/* put -- write the test table file */
static void
put(const char *text)
{
	FILE	*f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

static void
setup(void)
{
	int	fd;

	(void)strlcpy(path, "/tmp/test_table.XXXXXX", sizeof(path));
	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	close(fd);
}

static void
teardown(void)
{
	unlink(path);
}

static const char content[] =
    "# customers\n"
    "alice rcpt_per_hour=900 customer=acme\n"
    "bob@example.com rcpt_per_hour=unlimited\n"
    "@example.com rcpt_per_hour=50 rcpt_per_day=400 customer=\"Example Inc\"\n"
    "192.0.2.0/24 rcpt_per_day=7\n"
    "192.0.2.128/25 rcpt_per_day=8\n"
    "2001:db8::/32 customer=v6net\n";

static const struct {
	const char	*login, *address, *ip, *field;
	int		 rc;
	const char	*want;
} get_cases[] = {
	{ "alice", "alice@example.com", NULL, "rcpt_per_hour", 1, "900" },
	{ "alice", "alice@example.com", NULL, "rcpt_per_day", 1, "400" },
	{ "ALICE", NULL, NULL, "customer", 1, "acme" },
	{ NULL, "bob@example.com", NULL, "rcpt_per_hour", 1, "unlimited" },
	{ NULL, "Bob@Example.COM", NULL, "rcpt_per_day", 1, "400" },
	{ NULL, "carol@example.com", NULL, "customer", 1, "Example Inc" },
	{ NULL, "example.com", NULL, "rcpt_per_hour", 1, "50" },
	{ "dave@example.com", NULL, NULL, "rcpt_per_hour", 1, "50" },
	{ NULL, "x@other.test", "192.0.2.200", "rcpt_per_day", 1, "8" },
	{ NULL, "x@other.test", "192.0.2.1", "rcpt_per_day", 1, "7" },
	{ NULL, "x@example.com", "192.0.2.1", "rcpt_per_day", 1, "400" },
	{ NULL, NULL, "2001:db8:5::1", "customer", 1, "v6net" },
	{ NULL, NULL, "198.51.100.1", "customer", 0, "" },
	{ "nobody", "x@nowhere.test", NULL, "rcpt_per_hour", 0, "" },
};

START_TEST(test_get)
{
	struct diag	 d = DIAG_INIT;
	struct table	*t;
	struct table_query q;
	struct ipaddr	 ip;
	char		 got[64] = "";
	int		 rc;

	put(content);
	t = table_open("customers", path, &d);
	ck_assert_msg(t != NULL, "%s", buf_str(&d.out));
	ck_assert_uint_eq(table_count(t), 6);
	memset(&q, 0, sizeof(q));
	q.login = get_cases[_i].login;
	q.address = get_cases[_i].address;
	if (get_cases[_i].ip != NULL) {
		ck_assert_int_eq(ip_parse(get_cases[_i].ip, strlen(get_cases[_i].ip), &ip), 0);
		q.ip = &ip;
	}
	rc = table_get(t, &q, get_cases[_i].field, got, sizeof(got));
	ck_assert_int_eq(rc, get_cases[_i].rc);
	if (rc == 1)
		ck_assert_str_eq(got, get_cases[_i].want);
	ck_assert_int_eq(table_has(t, &q), get_cases[_i].rc == 1 ||
	    (q.login != NULL && strcmp(q.login, "nobody") != 0) ||
	    (get_cases[_i].ip && strcmp(get_cases[_i].ip, "198.51.100.1") != 0));
	table_free(t);
	diag_free(&d);
}
END_TEST

START_TEST(test_too_long_value)
{
	struct diag	 d = DIAG_INIT;
	struct table	*t;
	struct table_query q = { "alice", NULL, NULL };
	char		 small[3];

	put(content);
	t = table_open("c", path, &d);
	ck_assert_ptr_nonnull(t);
	ck_assert_int_eq(table_get(t, &q, "rcpt_per_hour", small, sizeof(small)), -1);
	table_free(t);
	diag_free(&d);
}
END_TEST

static const struct {
	const char	*text;
	const char	*where;		/* ":LINE:COL: error: " fragment */
	const char	*what;
} bad_cases[] = {
	{ "alice x\n", ":1:7: error:", "field=value" },
	{ "alice x=\"open\n", ":1:", "unterminated" },
	{ "ok a=1\n192.0.2.0/33 a=1\n", ":2:1: error:", "bad key" },
	{ "a a=1\nA a=2\n", ":2:1: error:", "duplicate key" },
	{ "a =1\n", ":1:3: error:", "field=value" },
};

START_TEST(test_bad)
{
	struct diag	 d = DIAG_INIT;
	struct table	*t;

	put(bad_cases[_i].text);
	t = table_open("c", path, &d);
	ck_assert_ptr_null(t);
	ck_assert_msg(strstr(buf_str(&d.out), bad_cases[_i].where) != NULL &&
	    strstr(buf_str(&d.out), bad_cases[_i].what) != NULL, "%s",
	    buf_str(&d.out));
	diag_free(&d);
}
END_TEST

START_TEST(test_long_line)
{
	struct diag	 d = DIAG_INIT;
	struct buf	 b = BUF_INIT;
	int		 i;

	buf_puts(&b, "a f=");
	for (i = 0; i < 5000; i++)
		buf_putc(&b, 'x');
	buf_putc(&b, '\n');
	put(buf_str(&b));
	ck_assert_ptr_null(table_open("c", path, &d));
	ck_assert_ptr_nonnull(strstr(buf_str(&d.out), "longer than"));
	buf_free(&b);
	diag_free(&d);
}
END_TEST

/* bump -- give the file a new mtime and wait for the once-a-second check */
static void
bump(int secs)
{
	struct timespec	ts[2];

	clock_gettime(CLOCK_REALTIME, &ts[0]);
	ts[0].tv_sec += secs;
	ts[1] = ts[0];
	ck_assert_int_eq(utimensat(AT_FDCWD, path, ts, 0), 0);
	sleep(1);
}

START_TEST(test_reload)
{
	struct diag	 d = DIAG_INIT;
	struct table	*t;
	struct table_query q = { "alice", NULL, NULL };
	struct buf	 logs = BUF_INIT;
	char		 got[32];

	log_capture(&logs);
	put("alice n=1\n");
	t = table_open("c", path, &d);
	ck_assert_ptr_nonnull(t);
	ck_assert_int_eq(table_get(t, &q, "n", got, sizeof(got)), 1);
	ck_assert_str_eq(got, "1");
	put("alice n=2\n");
	bump(10);
	ck_assert_int_eq(table_get(t, &q, "n", got, sizeof(got)), 1);
	ck_assert_str_eq(got, "2");
	put("alice n=\"3\n");		/* broken: the old content stays */
	bump(20);
	ck_assert_int_eq(table_get(t, &q, "n", got, sizeof(got)), 1);
	ck_assert_str_eq(got, "2");
	ck_assert_ptr_nonnull(strstr(buf_str(&logs), "old content"));
	table_free(t);
	log_capture(NULL);
	buf_free(&logs);
	diag_free(&d);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("table");
	TCase	*tc = tcase_create("all");
	SRunner	*sr;
	int	 failed;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, test_get, 0, sizeof(get_cases) / sizeof(get_cases[0]));
	tcase_add_test(tc, test_too_long_value);
	tcase_add_loop_test(tc, test_bad, 0, sizeof(bad_cases) / sizeof(bad_cases[0]));
	tcase_add_test(tc, test_long_line);
	tcase_add_test(tc, test_reload);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
