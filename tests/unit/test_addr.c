/*
 * test_addr -- RFC 5322 address lists as From: values: the quote, comment
 * and group tricks of bad-inputs H-02..H-06, and what must be refused.
 */
#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "buf.h"

static const struct {
	const char	*in;
	int		 rc;
	size_t		 mailboxes, no_domain;
	const char	*domains;	/* kept domains, space-separated */
} cases[] = {
	{ "user@example.com", 0, 1, 0, "example.com" },
	{ "Joe <joe@Example.COM>", 0, 1, 0, "example.com" },
	{ "\"Someone <someone@junk.com>\"@mydomain.com", 0, 1, 0, "mydomain.com" },
	{ "\"\\\"AcmeCorp, Inc.\\\"\" <x@y.example>", 0, 1, 0, "y.example" },
	{ "\"'X, Y' via Z\" <z@googlegroups.com>", 0, 1, 0, "googlegroups.com" },
	{ "Foo (foo@bar.example) <baz@baz.example>", 0, 1, 0, "baz.example" },
	{ "<test@facebook.com >", 0, 1, 0, "facebook.com" },
	{ "\r\n <a@b.example>", 0, 1, 0, "b.example" },
	{ " a@x.example (comment (nested) \\) ) ", 0, 1, 0, "x.example" },
	{ "<@route.example,@r2.example:a@b.example>", 0, 1, 0, "b.example" },
	{ "a@x.example.", 0, 1, 0, "x.example" },
	{ "Jos\xc3\xa9 <jose@EX\xc3\xa4mple.example>", 0, 1, 0, "ex\xc3\xa4mple.example" },
	{ "<>", 0, 1, 1, "" },
	{ "a@[192.0.2.1]", 0, 1, 1, "" },
	{ "undisclosed-recipients:;", 0, 0, 0, "" },
	{ "a@x.example, b@y.example", 0, 2, 0, "x.example y.example" },
	{ "team: a@x.example, B <b@y.example>;", 0, 2, 0, "x.example y.example" },
	{ "a@x.example, , b@y.example,", 0, 2, 0, "x.example y.example" },
	{ "a@a.example, b@b.example, c@c.example, d@d.example, e@e.example, "
	  "f@f.example, g@g.example, h@h.example, i@i.example", 0, 9, 0,
	  "a.example b.example c.example d.example e.example f.example "
	  "g.example h.example" },
	/* refused: not an address-list */
	{ "user1@example.com, user2, user3@example.com", -1, 0, 0, NULL },
	{ "\"unclosed@x.example", -1, 0, 0, NULL },
	{ "a@x.example (unclosed", -1, 0, 0, NULL },
	{ "Just a name", -1, 0, 0, NULL },
	{ "", -1, 0, 0, NULL },
	{ "  (only a comment) ", -1, 0, 0, NULL },
	{ "a@bad..domain", -1, 0, 0, NULL },
	{ "a@x.example b@y.example", -1, 0, 0, NULL },
	{ "<a@x.example", -1, 0, 0, NULL },
	{ "<x.example>", -1, 0, 0, NULL },
	{ "a@", -1, 0, 0, NULL },
	{ "@x.example", -1, 0, 0, NULL },
	{ "g: a@x.example", -1, 0, 0, NULL },
	{ "g: h: a@x.example;;", -1, 0, 0, NULL },
	{ "a@[192.0.2.1", -1, 0, 0, NULL },
	{ "a@x.example\\", -1, 0, 0, NULL },
};

START_TEST(test_parse)
{
	struct addr_list a;
	struct buf	 err = BUF_INIT, got = BUF_INIT;
	const char	*in = cases[_i].in;
	size_t		 i;
	int		 rc = addr_list_parse(in, strlen(in), &a, &err);

	ck_assert_msg(rc == cases[_i].rc, "%s: rc %d (%s)", in, rc, buf_str(&err));
	if (rc == -1) {
		ck_assert_uint_gt(err.len, 0);
	} else {
		ck_assert_uint_eq(a.mailboxes, cases[_i].mailboxes);
		ck_assert_uint_eq(a.no_domain, cases[_i].no_domain);
		for (i = 0; i < a.ndomains; i++)
			buf_printf(&got, "%s%s", i ? " " : "", a.domain[i]);
		ck_assert_str_eq(buf_str(&got), cases[_i].domains);
	}
	buf_free(&err);
	buf_free(&got);
}
END_TEST

/* nesting and length bounds */
START_TEST(test_bounds)
{
	struct addr_list a;
	struct buf	 err = BUF_INIT;
	char		 s[300];
	size_t		 i;

	/* comments nested 40 deep: refused */
	for (i = 0; i < 40; i++)
		s[i] = '(';
	for (; i < 80; i++)
		s[i] = ')';
	memcpy(s + 80, "a@x.example", 12);
	ck_assert_int_eq(addr_list_parse(s, strlen(s), &a, &err), -1);
	ck_assert_ptr_nonnull(strstr(buf_str(&err), "nested"));
	/* 20 deep is fine */
	memset(s, 0, sizeof(s));
	for (i = 0; i < 20; i++)
		s[i] = '(', s[20 + i] = ')';
	memcpy(s + 40, "a@x.example", 12);
	ck_assert_int_eq(addr_list_parse(s, strlen(s), &a, &err), 0);
	/* a label over 63 octets is no domain */
	memset(s, 'a', sizeof(s));
	s[0] = 'u', s[1] = '@';
	memcpy(s + 70, ".example", 9);
	ck_assert_int_eq(addr_list_parse(s, strlen(s), &a, &err), -1);
	/* the length given is the end: nothing after it is read */
	ck_assert_int_eq(addr_list_parse("a@x.example, junk junk", 11, &a, &err), 0);
	ck_assert_str_eq(a.domain[0], "x.example");
	buf_free(&err);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("addr");
	TCase	*tc = tcase_create("all");
	SRunner	*sr;
	int	 failed;

	tcase_add_loop_test(tc, test_parse, 0, sizeof(cases) / sizeof(cases[0]));
	tcase_add_test(tc, test_bounds);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
