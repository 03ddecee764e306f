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
	"root.example.", "a:b+c@quoted.test", "::ffff:203.0.113.0/120", "2001:db8:ff::1",
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
	{ "example.org.", 1 }, { "joe@EXAMPLE.ORG.", 1 }, { "user@example.com.", 1 },
	{ "root.example", 1 }, { "x@root.example.", 1 }, { "sub.root.example", 0 },
	{ "a:b+c@quoted.test", 1 }, { "a:b@quoted.test", 0 },
	{ "203.0.113.255", 1 }, { "::ffff:203.0.113.1", 1 }, { "2001:db8:ff::1", 1 },
	{ "2001:db8:ff::2", 0 }, { "example.net.", 0 }, { "x@example.net@a.example.net", 1 },
	{ "@", 0 }, { "x@", 0 }, { ".", 0 }, { "example..org", 0 },
	{ "[192.0.2.1]", 0 }, { "192.0.2.1 ", 0 }, { "user@example.com ", 0 },
	{ "1.2.3.4", 0 }, { "0.0.0.0", 0 }, { "::1", 0 },
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

static const struct {
	const char	*in;
	const char	*want;		/* part of the message */
} bad_items[] = {
	{ "192.0.2.0/33", "IP address or network" },
	{ "192.0.2.0/", "IP address or network" },
	{ "192.0.2.0/-1", "IP address or network" },
	{ "192.0.2.0/24/8", "IP address or network" },
	{ "300.1.2.3", "IP address or network" },
	{ "1.2.3", "IP address or network" },
	{ "2001:db8::/200", "IP address or network" },
	{ "2001:db8::g", "IP address or network" },
	{ "fe80::1%eth0", "IP address or network" },
	{ "[192.0.2.1]", "IP address or network" },
	{ "::ffff:10.0.0.0/95", "IP address or network" },
	{ "foo@@bar", "address pattern" },
	{ "@", "address pattern" },
	{ "a@b@c", "address pattern" },
	{ "a@", "address pattern" },
	{ "a b@example.com", "address pattern" },
	{ "@exa mple.com", "address pattern" },
	{ "@example..com", "address pattern" },
	{ "*@example.com", "write @DOMAIN" },
	{ "*.", "IP, network, address or domain" },
	{ "*", "IP, network, address or domain" },
	{ "*.*.example.com", "IP, network, address or domain" },
	{ "x y", "IP, network, address or domain" },
	{ ".example.com", "IP, network, address or domain" },
	{ "example.com..", "IP, network, address or domain" },
	{ "ex\001ample.com", "IP, network, address or domain" },
	{ "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.com",
	    "IP, network, address or domain" },
	{ "", "1 to 320 bytes" },
};

START_TEST(test_bad_items)
{
	struct list	*l = list_new();
	struct buf	 err = BUF_INIT;
	const char	*in = bad_items[_i].in;

	ck_assert_int_eq(list_add(l, in, strlen(in), &err), -1);
	ck_assert_msg(strstr(buf_str(&err), bad_items[_i].want) != NULL,
	    "%s: got \"%s\"", in, buf_str(&err));
	ck_assert_uint_eq(list_count(l), 0);
	ck_assert(!list_match_str(l, in));
	buf_free(&err);
	list_free(l);
}
END_TEST

/* items are 1 to 320 bytes; lookups of any length still work */
START_TEST(test_item_length)
{
	struct list	*l = list_new();
	struct buf	 err = BUF_INIT, item = BUF_INIT, q = BUF_INIT;
	char		*unterminated;
	int		 i;

	/* 64 + 1 + 255 = 320 bytes: the longest address */
	for (i = 0; i < 64; i++)
		buf_putc(&item, 'l');
	buf_putc(&item, '@');
	for (i = 0; i < 3; i++)
		buf_puts(&item, "ddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd.");
	for (i = 0; i < 63; i++)
		buf_putc(&item, 'e');
	ck_assert_uint_eq(item.len, 320);
	ck_assert_int_eq(list_add(l, item.data, item.len, &err), 0);
	ck_assert(list_match_str(l, item.data));
	buf_putc(&item, 'x');
	ck_assert_int_eq(list_add(l, item.data, item.len, &err), -1);
	ck_assert_ptr_nonnull(strstr(buf_str(&err), "1 to 320 bytes"));
	/* the item is not read past len (found by fuzz_list: "19" unterminated) */
	ck_assert_int_eq(list_add(l, "@example.orgGARBAGE", 12, &err), 0);
	unterminated = malloc(2);
	memcpy(unterminated, "19", 2);
	ck_assert_int_eq(list_add(l, unterminated, 2, &err), -1);
	memcpy(unterminated, "a.", 2);
	ck_assert_int_eq(list_add(l, unterminated, 2, &err), 0);
	free(unterminated);
	ck_assert(list_match_str(l, "x@example.org"));
	/* a 2,000-byte address at a listed domain matches */
	for (i = 0; i < 2000; i++)
		buf_putc(&q, 'q');
	buf_puts(&q, "@Example.ORG");
	ck_assert(list_match_str(l, q.data));
	buf_free(&q);
	buf_free(&item);
	buf_free(&err);
	list_free(l);
}
END_TEST

/* duplicates count once; an empty list matches nothing */
START_TEST(test_count)
{
	struct list	*l = list_new();
	struct buf	 err = BUF_INIT;
	struct ipaddr	 ip;
	static const char *dup[] = { "10.0.0.0/8", "10.1.2.3/8", "A@B.C",
	    "a@b.c", "@b.c", "b.c", "b.c." };

	ck_assert_int_eq(ip_parse("10.0.0.1", 8, &ip), 0);
	ck_assert(!list_match_ip(l, &ip));
	ck_assert(!list_match_str(l, "a@b.c"));
	ck_assert(!list_match_str(l, NULL));
	for (size_t i = 0; i < sizeof(dup) / sizeof(dup[0]); i++)
		ck_assert_int_eq(list_add(l, dup[i], strlen(dup[i]), &err), 0);
	ck_assert_uint_eq(list_count(l), 3);
	ck_assert(list_match_ip(l, &ip));
	ck_assert(!list_match_str(l, "11.0.0.1"));
	ck_assert_int_eq(list_add(l, "0.0.0.0/0", 9, &err), 0);
	ck_assert(list_match_str(l, "11.0.0.1"));
	ck_assert(!list_match_str(l, "2001:db8::1"));
	memset(&ip, 0, sizeof(ip));
	ck_assert(!list_match_ip(l, &ip));
	ck_assert(!list_match_ip(l, NULL));
	buf_free(&err);
	list_free(l);
}
END_TEST

/* tmpfile_with -- a temporary file holding len bytes of text */
static void
tmpfile_with(char *path, const char *text, size_t len)
{
	int	fd = mkstemp(path);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, len), (ssize_t)len);
	close(fd);
}

START_TEST(test_file)
{
	char		 path[] = "/tmp/test_list.XXXXXX";
	const char	 text[] = "# comment\n10.0.0.0/8\n\n  abuse@*   # trailing\n"
	    "bad@@item\n2001:db8::1\r\n\t192.0.2.0/33\n@ok.test\r\n";
	struct list	*l = list_new();
	struct diag	 d = DIAG_INIT;
	struct ipaddr	 ip;
	char		 want[256];

	tmpfile_with(path, text, sizeof(text) - 1);
	ck_assert_int_eq(list_load_file(l, path, &d), -1);
	ck_assert_uint_eq(d.errors, 2);
	(void)snprintf(want, sizeof(want), "%s:5:1: error: not a valid address "
	    "pattern: \"bad@@item\"", path);
	ck_assert_msg(strstr(buf_str(&d.out), want) != NULL, "%s", buf_str(&d.out));
	(void)snprintf(want, sizeof(want), "%s:7:2: error: not a valid IP", path);
	ck_assert_msg(strstr(buf_str(&d.out), want) != NULL, "%s", buf_str(&d.out));
	ck_assert_uint_eq(list_count(l), 4);
	ck_assert(list_match_str(l, "abuse@x.test"));
	ck_assert(list_match_str(l, "x@ok.test"));
	ck_assert(list_match_str(l, "2001:db8::1"));
	ck_assert_int_eq(ip_parse("10.9.9.9", 8, &ip), 0);
	ck_assert(list_match_ip(l, &ip));
	unlink(path);
	diag_free(&d);
	list_free(l);
}
END_TEST

/* file errors: the line and column, and reading goes on after each */
static const struct {
	const char	*text;
	size_t		 len;		/* 0: strlen */
	int		 longline;	/* append a line of 4097 bytes first */
	unsigned	 errors;
	const char	*where;		/* after the path */
} file_cases[] = {
	{ "10.0.0.1\n", 0, 0, 0, "" },
	{ "", 0, 0, 0, "" },
	{ "10.0.0.1", 0, 0, 0, "" },
	{ "a.test\nb\0c.test\nbad@@x\n", 22, 0, 2, ":2:2: error: NUL byte" },
	{ "bad@@x\n", 0, 1, 2, ":1:4097: error: line longer than 4096 bytes" },
	{ "bad@@x\n", 0, 1, 2, ":2:1: error: not a valid address pattern" },
	{ "  x@y@z  # c\n", 0, 0, 1, ":1:3: error:" },
	{ "1.2.3.4/33\n5.6.7.8/33", 0, 0, 2, ":2:1: error:" },
};

START_TEST(test_file_errors)
{
	char		 path[] = "/tmp/test_list.XXXXXX";
	struct list	*l = list_new();
	struct diag	 d = DIAG_INIT;
	struct buf	 text = BUF_INIT;
	int		 i;

	if (file_cases[_i].longline) {
		for (i = 0; i < 4097; i++)
			buf_putc(&text, 'a');
		buf_putc(&text, '\n');
	}
	buf_append(&text, file_cases[_i].text, file_cases[_i].len ?
	    file_cases[_i].len : strlen(file_cases[_i].text));
	tmpfile_with(path, text.data, text.len);
	ck_assert_int_eq(list_load_file(l, path, &d),
	    file_cases[_i].errors ? -1 : 0);
	ck_assert_msg(d.errors == file_cases[_i].errors, "%s", buf_str(&d.out));
	ck_assert_msg(strstr(buf_str(&d.out), file_cases[_i].where) != NULL,
	    "%s", buf_str(&d.out));
	if (file_cases[_i].errors > 0)
		ck_assert_ptr_nonnull(strstr(buf_str(&d.out), path));
	unlink(path);
	buf_free(&text);
	diag_free(&d);
	list_free(l);
}
END_TEST

/* a line of exactly 4096 bytes is fine, also with CRLF */
START_TEST(test_file_max_line)
{
	char		 path[] = "/tmp/test_list.XXXXXX";
	struct list	*l = list_new();
	struct diag	 d = DIAG_INIT;
	struct buf	 text = BUF_INIT;
	int		 i;

	buf_puts(&text, "x@y.test");
	for (i = 8; i < 4096; i++)
		buf_putc(&text, ' ');
	buf_puts(&text, "\r\n");
	buf_puts(&text, "# ");
	for (i = 2; i < 4096; i++)
		buf_putc(&text, 'c');
	tmpfile_with(path, text.data, text.len);
	ck_assert_int_eq(list_load_file(l, path, &d), 0);
	ck_assert_msg(d.errors == 0, "%s", buf_str(&d.out));
	ck_assert(list_match_str(l, "x@y.test"));
	unlink(path);
	buf_free(&text);
	diag_free(&d);
	list_free(l);
}
END_TEST

/* a missing file and a directory are errors with the path */
START_TEST(test_file_unreadable)
{
	struct list	*l = list_new();
	struct diag	 d = DIAG_INIT;

	ck_assert_int_eq(list_load_file(l, "/nonexistent/list.txt", &d), -1);
	ck_assert_ptr_nonnull(strstr(buf_str(&d.out),
	    "/nonexistent/list.txt: error: cannot read list file"));
	ck_assert_int_eq(list_load_file(l, "/tmp", &d), -1);
	ck_assert_ptr_nonnull(strstr(buf_str(&d.out), "/tmp: error: not a regular file"));
	ck_assert_uint_eq(d.errors, 2);
	diag_free(&d);
	list_free(l);
}
END_TEST

/* at most 1,000,000 items in one file */
START_TEST(test_file_too_many)
{
	char		 path[] = "/tmp/test_list.XXXXXX";
	struct list	*l = list_new();
	struct diag	 d = DIAG_INIT;
	FILE		*f;
	int		 fd = mkstemp(path), i;
	char		 want[128];

	ck_assert_int_ge(fd, 0);
	f = fdopen(fd, "w");
	/* the bound counts lines with an item, duplicates too */
	for (i = 0; i <= 1000000; i++)
		fputs(i % 2 ? "x.test\n" : "# c\n10.0.0.0/8\n", f);
	fclose(f);
	ck_assert_int_eq(list_load_file(l, path, &d), -1);
	ck_assert_uint_eq(d.errors, 1);
	(void)snprintf(want, sizeof(want), "%s:1500002:1: error: more than", path);
	ck_assert_msg(strstr(buf_str(&d.out), want) != NULL, "%s", buf_str(&d.out));
	ck_assert_uint_eq(list_count(l), 2);
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

	tcase_set_timeout(tc, 120);

	tcase_add_loop_test(tc, test_match, 0, sizeof(match_cases) / sizeof(match_cases[0]));
	tcase_add_loop_test(tc, test_bad_items, 0, sizeof(bad_items) / sizeof(bad_items[0]));
	tcase_add_test(tc, test_item_length);
	tcase_add_test(tc, test_count);
	tcase_add_test(tc, test_file);
	tcase_add_loop_test(tc, test_file_errors, 0, sizeof(file_cases) / sizeof(file_cases[0]));
	tcase_add_test(tc, test_file_max_line);
	tcase_add_test(tc, test_file_unreadable);
	tcase_add_test(tc, test_file_too_many);
	tcase_add_test(tc, test_large);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
