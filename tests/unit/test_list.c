/*
 * test_list -- list items, matching and list files.
 */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "diag.h"
#include "ipaddr.h"
#include "list.h"

static const char *items[] = {
	"192.0.2.0/24", "2001:db8:100::/48", "198.51.100.7", "postmaster@*",
	"@example.org", "*.example.net", "user@example.com", "Example.EDU",
};

static const struct {
	const char	*in;
	int		 want;
} match_cases[] = {
	{ "192.0.2.99", 1 }, { "192.0.3.1", 0 }, { "198.51.100.7", 1 },
	{ "198.51.100.8", 0 }, { "2001:db8:100:ffff::1", 1 }, { "2001:db8:101::1", 0 },
	{ "postmaster@anything.test", 1 }, { "POSTMASTER@x.y", 1 }, { "abuse@x.y", 0 },
	{ "joe@example.org", 1 }, { "example.org", 1 }, { "joe@sub.example.org", 0 },
	{ "a.example.net", 1 }, { "x@b.c.example.net", 1 }, { "example.net", 0 },
	{ "user@example.com", 1 }, { "USER@EXAMPLE.COM", 1 }, { "other@example.com", 0 },
	{ "example.edu", 1 }, { "x@example.edu", 1 }, { "", 0 },
};

static struct list *
build(void)
{
	struct list	*l = list_new();
	struct buf	 err = BUF_INIT;
	size_t		 i;

	for (i = 0; i < sizeof(items) / sizeof(items[0]); i++)
		ck_assert_int_eq(list_add(l, items[i], strlen(items[i]), &err), 0);
	buf_free(&err);
	return l;
}

START_TEST(test_match)
{
	struct list	*l = build();
	struct ipaddr	 ip;
	int		 got;

	got = list_match_str(l, match_cases[_i].in);
	ck_assert_msg(got == match_cases[_i].want, "%s: got %d", match_cases[_i].in, got);
	if (ip_parse(match_cases[_i].in, strlen(match_cases[_i].in), &ip) == 0)
		ck_assert_int_eq(list_match_ip(l, &ip), match_cases[_i].want);
	list_free(l);
}
END_TEST

static const char *bad_items[] = {
	"192.0.2.0/33", "1.2.3", "foo@@bar", "@", "a@b@c", "*.", "x y",
	"2001:db8::/200", "*@example.com", "",
};

START_TEST(test_bad_items)
{
	struct list	*l = list_new();
	struct buf	 err = BUF_INIT;

	ck_assert_int_eq(list_add(l, bad_items[_i], strlen(bad_items[_i]), &err), -1);
	ck_assert_uint_gt(err.len, 0);
	ck_assert_uint_eq(list_count(l), 0);
	buf_free(&err);
	list_free(l);
}
END_TEST

START_TEST(test_file)
{
	char		 path[] = "/tmp/test_list.XXXXXX";
	int		 fd = mkstemp(path);
	FILE		*f = fdopen(fd, "w");
	struct list	*l = list_new();
	struct diag	 d = DIAG_INIT;
	struct ipaddr	 ip;
	char		 want[256];

	fputs("# comment\n10.0.0.0/8\n\n  abuse@*   # trailing\nbad@@item\n2001:db8::1\n", f);
	fclose(f);
	ck_assert_int_eq(list_load_file(l, path, &d), -1);
	ck_assert_uint_eq(d.errors, 1);
	(void)snprintf(want, sizeof(want), "%s:5:1: error:", path);
	ck_assert_msg(strstr(buf_str(&d.out), want) != NULL, "%s", buf_str(&d.out));
	ck_assert_uint_eq(list_count(l), 3);
	ck_assert(list_match_str(l, "abuse@x.test"));
	ck_assert_int_eq(ip_parse("10.9.9.9", 8, &ip), 0);
	ck_assert(list_match_ip(l, &ip));
	unlink(path);
	diag_free(&d);
	list_free(l);
}
END_TEST

START_TEST(test_large)
{
	struct list	*l = list_new();
	struct buf	 err = BUF_INIT;
	struct ipaddr	 ip;
	char		 s[64];
	int		 i;

	for (i = 0; i < 100000; i++) {
		(void)snprintf(s, sizeof(s), "10.%d.%d.0/24", i / 256 % 256, i % 256);
		ck_assert_int_eq(list_add(l, s, strlen(s), &err), 0);
	}
	ck_assert_uint_eq(list_count(l), 65536);
	ck_assert_int_eq(ip_parse("10.200.3.4", 10, &ip), 0);
	ck_assert(list_match_ip(l, &ip));
	ck_assert_int_eq(ip_parse("11.200.3.4", 10, &ip), 0);
	ck_assert(!list_match_ip(l, &ip));
	buf_free(&err);
	list_free(l);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("list");
	TCase	*tc = tcase_create("all");
	SRunner	*sr;
	int	 failed;

	tcase_add_loop_test(tc, test_match, 0, sizeof(match_cases) / sizeof(match_cases[0]));
	tcase_add_loop_test(tc, test_bad_items, 0, sizeof(bad_items) / sizeof(bad_items[0]));
	tcase_add_test(tc, test_file);
	tcase_add_test(tc, test_large);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
