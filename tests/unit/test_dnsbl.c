/*
 * test_dnsbl -- DNS list definitions: zones, answer filters (good and
 * bad, and those that could only match error codes), query names for
 * IPv4 and IPv6, the classification of answers, the log gate.
 */
#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "dnsbl.h"
#include "ipaddr.h"

static const struct {
	const char	*zone;
	const char	*want;		/* NULL: refused */
} zone_cases[] = {
	{ "zen.spamhaus.org", "zen.spamhaus.org" },
	{ "ZEN.Spamhaus.ORG.", "zen.spamhaus.org" },
	{ "key_123.zen.dq.spamhaus.net", "key_123.zen.dq.spamhaus.net" },
	{ "", NULL },
	{ ".", NULL },
	{ "a..b", NULL },
	{ ".a.b", NULL },
	{ "a b.example", NULL },
	{ "bl.exa$mple", NULL },
	{ "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.example", NULL },
};

START_TEST(test_zone)
{
	struct dnsbl	*l = dnsbl_new("x");
	struct buf	 err = BUF_INIT;
	int		 rc = dnsbl_set_zone(l, zone_cases[_i].zone, &err);

	if (zone_cases[_i].want == NULL) {
		ck_assert_int_eq(rc, -1);
		ck_assert_uint_gt(err.len, 0);
	} else {
		ck_assert_int_eq(rc, 0);
		ck_assert_str_eq(dnsbl_zone(l), zone_cases[_i].want);
		/* without public_name, the zone is shown */
		ck_assert_str_eq(dnsbl_public_name(l), zone_cases[_i].want);
	}
	buf_free(&err);
	dnsbl_free(l);
}
END_TEST

START_TEST(test_zone_too_long)
{
	struct dnsbl	*l = dnsbl_new("x");
	struct buf	 err = BUF_INIT;
	char		 z[300];
	int		 i;

	for (i = 0; i < 299; i++)
		z[i] = i % 10 == 9 ? '.' : 'a';
	z[299] = '\0';
	ck_assert_int_eq(dnsbl_set_zone(l, z, &err), -1);
	buf_free(&err);
	dnsbl_free(l);
}
END_TEST

static const struct {
	const char	*pat;
	int		 ok;
} pat_cases[] = {
	{ "127.0.0.2", 1 }, { "127.0.0.0/24", 1 }, { "127.0.0.2-127.0.0.11", 1 },
	{ "127.0.0.[2-11]", 1 }, { "127.0.[0-255].[1-3]", 1 }, { "127.0.0.0/8", 1 },
	{ "127.0.0.[0-1]", 1 },		/* 127.0.0.0 is no error code */
	{ "127.0.0.256", 0 }, { "127.0.0.[5-2]", 0 }, { "127.0.0.0/33", 0 },
	{ "127.0.0", 0 }, { "garbage", 0 }, { "127.0.0.2-127.0.0.1", 0 },
	{ "127.0.0.[2-]", 0 }, { "::1", 0 }, { "127.0.0.[2-3", 0 },
	/* only error codes: refused */
	{ "127.0.0.1", 0 }, { "127.255.255.0/24", 0 }, { "127.255.255.254", 0 },
	{ "10.0.0.0/8", 0 }, { "128.0.0.[0-255]", 0 }, { "127.255.255.[0-255]", 0 },
	{ "127.0.0.1-127.0.0.1", 0 },
};

START_TEST(test_patterns)
{
	struct dnsbl	*l = dnsbl_new("x");
	struct buf	 err = BUF_INIT;
	const char	*p = pat_cases[_i].pat;
	int		 rc = dnsbl_add_answer(l, p, strlen(p), NULL, 1, &err);

	ck_assert_msg(rc == (pat_cases[_i].ok ? 0 : -1), "%s: rc %d (%s)", p, rc,
	    buf_str(&err));
	if (!pat_cases[_i].ok)
		ck_assert_uint_gt(err.len, 0);
	buf_free(&err);
	dnsbl_free(l);
}
END_TEST

START_TEST(test_limits)
{
	struct dnsbl	*l = dnsbl_new("x");
	struct buf	 err = BUF_INIT;
	char		 lab[80];
	int		 i;

	ck_assert_int_eq(dnsbl_add_answer(l, "127.0.0.2", 9, "bad label", 1, &err), -1);
	memset(lab, 'a', sizeof(lab) - 1);
	lab[sizeof(lab) - 1] = '\0';
	ck_assert_int_eq(dnsbl_add_answer(l, "127.0.0.2", 9, lab, 1, &err), -1);
	ck_assert_int_eq(dnsbl_add_answer(l, "127.0.0.2", 9, "x", 1001, &err), -1);
	ck_assert_int_eq(dnsbl_add_answer(l, "127.0.0.2", 9, "x", -1001, &err), -1);
	for (i = 0; i < DNSBL_ANSWERS_MAX; i++)
		ck_assert_int_eq(dnsbl_add_answer(l, "127.0.0.2", 9, "SBL.x-y_z",
		    -1000, &err), 0);
	ck_assert_int_eq(dnsbl_add_answer(l, "127.0.0.2", 9, NULL, 1, &err), -1);
	ck_assert_ptr_nonnull(strstr(buf_str(&err), "more than"));
	buf_free(&err);
	dnsbl_free(l);
}
END_TEST

static const struct {
	const char	*ip;
	const char	*want;
} qname_cases[] = {
	{ "192.0.2.7", "7.2.0.192.bl.example" },
	{ "::ffff:203.0.113.10", "10.113.0.203.bl.example" },
	{ "2001:db8::1", "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.bl.example" },
	{ "2001:db8:abcd:12::fe", "e.f.0.0.0.0.0.0.0.0.0.0.0.0.0.0.2.1.0.0.d.c.b.a.8.b.d.0.1.0.0.2.bl.example" },
};

START_TEST(test_qname)
{
	struct dnsbl	*l = dnsbl_new("x");
	struct buf	 err = BUF_INIT;
	struct ipaddr	 ip;
	char		 out[DNSBL_QNAME_MAX];

	ck_assert_int_eq(dnsbl_set_zone(l, "bl.example", &err), 0);
	ck_assert_int_eq(ip_parse(qname_cases[_i].ip, strlen(qname_cases[_i].ip), &ip), 0);
	ck_assert_int_eq(dnsbl_qname(l, &ip, out, sizeof(out)), 0);
	ck_assert_str_eq(out, qname_cases[_i].want);
	/* too small a buffer, and no address */
	ck_assert_int_eq(dnsbl_qname(l, &ip, out, strlen(qname_cases[_i].want)), -1);
	memset(&ip, 0, sizeof(ip));
	ck_assert_int_eq(dnsbl_qname(l, &ip, out, sizeof(out)), -1);
	buf_free(&err);
	dnsbl_free(l);
}
END_TEST

/* evaluate answers a.b.c.d given as text against a list */
static void
eval(struct dnsbl *l, const char *const *ans, struct dnsbl_result *r)
{
	uint8_t		a[8][4];
	struct ipaddr	ip;
	size_t		n;

	for (n = 0; ans[n] != NULL; n++) {
		ck_assert_int_eq(ip_parse(ans[n], strlen(ans[n]), &ip), 0);
		memcpy(a[n], ip.b, 4);
	}
	dnsbl_evaluate(l, (const uint8_t (*)[4])a, n, r);
}

START_TEST(test_evaluate_plain)
{
	struct dnsbl		*l = dnsbl_new("x");
	struct dnsbl_result	 r;
	static const char *const hit[] = { "127.0.0.2", NULL },
	    *low[] = { "127.0.0.1", NULL }, *pub[] = { "127.255.255.254", NULL },
	    *out8[] = { "10.0.0.1", NULL }, *edge[] = { "127.0.0.255", NULL },
	    *none[] = { NULL };

	eval(l, hit, &r);
	ck_assert_int_eq(r.status, DNSBL_LISTED);
	ck_assert_int_eq(r.weight, 1);
	ck_assert_str_eq(r.labels, "");
	eval(l, low, &r);
	ck_assert_int_eq(r.status, DNSBL_ERROR_ANSWER);
	ck_assert_str_eq(r.error_answer, "127.0.0.1");
	eval(l, pub, &r);
	ck_assert_int_eq(r.status, DNSBL_ERROR_ANSWER);
	ck_assert_str_eq(r.error_answer, "127.255.255.254");
	eval(l, out8, &r);
	ck_assert_int_eq(r.status, DNSBL_ERROR_ANSWER);
	eval(l, edge, &r);
	ck_assert_int_eq(r.status, DNSBL_NOT_LISTED);
	eval(l, none, &r);
	ck_assert_int_eq(r.status, DNSBL_NOT_LISTED);
	dnsbl_free(l);
}
END_TEST

START_TEST(test_evaluate_filters)
{
	struct dnsbl		*l = dnsbl_new("zen");
	struct dnsbl_result	 r;
	struct buf		 err = BUF_INIT;
	static const char *const two[] = { "127.0.0.4", "127.0.0.2", NULL },
	    *same[] = { "127.0.0.2", "127.0.0.3", NULL },
	    *white[] = { "127.0.10.1", NULL },
	    *mixed[] = { "127.0.0.2", "127.255.255.255", NULL },
	    *nomatch[] = { "127.0.0.200", NULL };

	ck_assert_int_eq(dnsbl_add_answer(l, "127.0.0.[2-3]", 13, "SBL", 4, &err), 0);
	ck_assert_int_eq(dnsbl_add_answer(l, "127.0.0.4-127.0.0.7", 19, "XBL", 3, &err), 0);
	ck_assert_int_eq(dnsbl_add_answer(l, "127.0.10.0/24", 13, NULL, -5, &err), 0);
	eval(l, two, &r);
	ck_assert_int_eq(r.status, DNSBL_LISTED);
	ck_assert_int_eq(r.weight, 7);
	ck_assert_str_eq(r.labels, "SBL,XBL");	/* filter order, not answer order */
	eval(l, same, &r);
	ck_assert_int_eq(r.weight, 4);		/* one filter counts once */
	ck_assert_str_eq(r.labels, "SBL");
	eval(l, white, &r);
	ck_assert_int_eq(r.status, DNSBL_LISTED);
	ck_assert_int_eq(r.weight, -5);
	ck_assert_str_eq(r.labels, "");
	eval(l, mixed, &r);
	ck_assert_int_eq(r.status, DNSBL_ERROR_ANSWER);
	ck_assert_int_eq(r.weight, 0);
	eval(l, nomatch, &r);
	ck_assert_int_eq(r.status, DNSBL_NOT_LISTED);
	buf_free(&err);
	dnsbl_free(l);
}
END_TEST

START_TEST(test_settings_and_log_gate)
{
	struct dnsbl	*l = dnsbl_new("zen");

	ck_assert_str_eq(dnsbl_name(l), "zen");
	ck_assert_uint_eq(dnsbl_timeout(l), 0);
	ck_assert_int_eq(dnsbl_on_error(l), DNSBL_ON_ERROR_IGNORE);
	dnsbl_set_public_name(l, "Spamhaus ZEN");
	dnsbl_set_timeout(l, 2000);
	dnsbl_set_on_error(l, DNSBL_ON_ERROR_TEMPFAIL);
	ck_assert_str_eq(dnsbl_public_name(l), "Spamhaus ZEN");
	ck_assert_uint_eq(dnsbl_timeout(l), 2000);
	ck_assert_int_eq(dnsbl_on_error(l), DNSBL_ON_ERROR_TEMPFAIL);
	ck_assert_int_eq(dnsbl_log_due(l, 0), 1);
	ck_assert_int_eq(dnsbl_log_due(l, 30), 0);
	ck_assert_int_eq(dnsbl_log_due(l, 59), 0);
	ck_assert_int_eq(dnsbl_log_due(l, 60), 1);
	ck_assert_int_eq(dnsbl_log_due(l, 61), 0);
	dnsbl_free(l);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("dnsbl");
	TCase	*tc = tcase_create("all");
	SRunner	*sr;
	int	 failed;

	tcase_add_loop_test(tc, test_zone, 0, sizeof(zone_cases) / sizeof(zone_cases[0]));
	tcase_add_test(tc, test_zone_too_long);
	tcase_add_loop_test(tc, test_patterns, 0, sizeof(pat_cases) / sizeof(pat_cases[0]));
	tcase_add_test(tc, test_limits);
	tcase_add_loop_test(tc, test_qname, 0, sizeof(qname_cases) / sizeof(qname_cases[0]));
	tcase_add_test(tc, test_evaluate_plain);
	tcase_add_test(tc, test_evaluate_filters);
	tcase_add_test(tc, test_settings_and_log_gate);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
