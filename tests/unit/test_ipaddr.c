/*
 * test_ipaddr -- parsing, masking, matching and formatting addresses.
 */
#include "config.h"

#include <arpa/inet.h>
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "ipaddr.h"

static const struct {
	const char	*in;
	int		 rc;
	int		 family;
	const char	*want;		/* formatted */
} parse_cases[] = {
	{ "192.0.2.1", 0, AF_INET, "192.0.2.1" },
	{ "2001:db8::1", 0, AF_INET6, "2001:db8::1" },
	{ "2001:DB8:0:0:0:0:0:1", 0, AF_INET6, "2001:db8::1" },
	{ "::ffff:192.0.2.7", 0, AF_INET, "192.0.2.7" },
	{ "::1", 0, AF_INET6, "::1" },
	{ "192.0.2.256", -1, 0, "" },
	{ "192.0.2.1 ", -1, 0, "" },
	{ " 192.0.2.1", -1, 0, "" },
	{ "192.0.2", -1, 0, "" },
	{ "fe80::1%eth0", -1, 0, "" },
	{ "", -1, 0, "" },
	{ "example.com", -1, 0, "" },
	{ "1:2:3:4:5:6:7:8:9", -1, 0, "" },
	{ "01.2.3.4", -1, 0, "" },
	{ "1.2.3.4.5", -1, 0, "" },
	{ "0x7f.0.0.1", -1, 0, "" },
	{ "127.1", -1, 0, "" },
	{ "192.0.2.1/32", -1, 0, "" },
	{ "192.0.2.1\n", -1, 0, "" },
	{ "[::1]", -1, 0, "" },
	{ "2001:db8::1 ", -1, 0, "" },
	{ "2001:db8:::1", -1, 0, "" },
	{ "12345::1", -1, 0, "" },
	{ "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255x", -1, 0, "" },
	{ "0000:0000:0000:0000:0000:0000:0000:0000:0000", -1, 0, "" },
	{ "0.0.0.0", 0, AF_INET, "0.0.0.0" },
	{ "255.255.255.255", 0, AF_INET, "255.255.255.255" },
	{ "::", 0, AF_INET6, "::" },
	{ "::FFFF:10.0.0.1", 0, AF_INET, "10.0.0.1" },
	{ "::ffff:a00:1", 0, AF_INET, "10.0.0.1" },
	{ "::192.0.2.1", 0, AF_INET6, "::c000:201" },
	{ "::ffff:0:10.0.0.1", 0, AF_INET6, "::ffff:0:a00:1" },
	/* RFC 5952: no leading zeros, first longest zero run, never "::" for one group */
	{ "2001:0db8:0000:0000:0001:0000:0000:0001", 0, AF_INET6, "2001:db8::1:0:0:1" },
	{ "2001:db8:0:0:1:0:0:0", 0, AF_INET6, "2001:db8:0:0:1::" },
	{ "2001:db8:0:1:1:1:1:1", 0, AF_INET6, "2001:db8:0:1:1:1:1:1" },
	{ "0:0:1:0:0:0:0:1", 0, AF_INET6, "0:0:1::1" },
	{ "1:0:0:0:0:0:0:0", 0, AF_INET6, "1::" },
	{ "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 0, AF_INET6,
	    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff" },
	{ "FE80::ABCD:0:0:1", 0, AF_INET6, "fe80::abcd:0:0:1" },
};

START_TEST(test_parse)
{
	struct ipaddr	ip;
	char		got[IP_STRLEN];
	int		rc;

	rc = ip_parse(parse_cases[_i].in, strlen(parse_cases[_i].in), &ip);
	ck_assert_int_eq(rc, parse_cases[_i].rc);
	ck_assert_int_eq(ip.family, parse_cases[_i].family);
	ip_format(&ip, got, sizeof(got));
	ck_assert_str_eq(got, parse_cases[_i].want);
}
END_TEST

static const struct {
	const char	*in;
	int		 rc;
	const char	*net;
	unsigned	 len;
} cidr_cases[] = {
	{ "192.0.2.77/24", 0, "192.0.2.0", 24 },
	{ "192.0.2.77", 0, "192.0.2.77", 32 },
	{ "10.1.2.3/0", 0, "0.0.0.0", 0 },
	{ "192.0.2.1/33", -1, "", 0 },
	{ "192.0.2.1/", -1, "", 0 },
	{ "192.0.2.1/x", -1, "", 0 },
	{ "2001:db8:1:2::5/64", 0, "2001:db8:1:2::", 64 },
	{ "2001:db8::/129", -1, "", 0 },
	{ "::ffff:192.0.2.0/120", 0, "192.0.2.0", 24 },
	{ "::ffff:192.0.2.0/90", -1, "", 0 },
	{ "10.0.0.1/8/8", -1, "", 0 },
	{ "192.0.2.1/32", 0, "192.0.2.1", 32 },
	{ "192.0.2.1/-1", -1, "", 0 },
	{ "192.0.2.1/+8", -1, "", 0 },
	{ "192.0.2.1/ 8", -1, "", 0 },
	{ "192.0.2.1 /8", -1, "", 0 },
	{ "192.0.2.1/8 ", -1, "", 0 },
	{ "192.0.2.1/0x8", -1, "", 0 },
	{ "192.0.2.1/99999999999999999999999", -1, "", 0 },
	{ "/24", -1, "", 0 },
	{ "", -1, "", 0 },
	{ "fe80::/10%eth0", -1, "", 0 },
	{ "fe80::%eth0/10", -1, "", 0 },
	{ "2001:db8::ff/121", 0, "2001:db8::80", 121 },
	{ "2001:db8::/128", 0, "2001:db8::", 128 },
	{ "::/0", 0, "::", 0 },
	{ "ffff::/1", 0, "8000::", 1 },
	{ "::ffff:192.0.2.1/128", 0, "192.0.2.1", 32 },
	{ "::ffff:192.0.2.1/96", 0, "0.0.0.0", 0 },
	{ "::ffff:192.0.2.1/129", -1, "", 0 },
	{ "example.com/24", -1, "", 0 },
};

START_TEST(test_cidr)
{
	struct ipaddr	ip;
	unsigned	len = 999;
	char		got[IP_STRLEN];
	int		rc;

	rc = ip_parse_cidr(cidr_cases[_i].in, strlen(cidr_cases[_i].in), &ip, &len);
	ck_assert_int_eq(rc, cidr_cases[_i].rc);
	if (rc != 0)
		return;
	ip_format(&ip, got, sizeof(got));
	ck_assert_str_eq(got, cidr_cases[_i].net);
	ck_assert_uint_eq(len, cidr_cases[_i].len);
}
END_TEST

static const struct {
	const char	*ip, *net;
	int		 want;
} in_cases[] = {
	{ "192.0.2.200", "192.0.2.0/24", 1 },
	{ "192.0.3.1", "192.0.2.0/24", 0 },
	{ "192.0.2.2", "192.0.2.0/31", 0 },
	{ "192.0.2.1", "192.0.2.0/30", 1 },
	{ "2001:db8::1", "192.0.2.0/24", 0 },
	{ "2001:db8:0:1::1", "2001:db8::/48", 1 },
	{ "2001:db8:1::1", "2001:db8::/48", 0 },
	{ "::ffff:10.1.1.1", "10.0.0.0/8", 1 },
	{ "10.1.1.1", "::ffff:10.0.0.0/104", 1 },
	{ "10.1.1.1", "0.0.0.0/0", 1 },
	{ "2001:db8::1", "::/0", 1 },
	{ "192.0.2.1", "::/0", 0 },
	{ "192.0.2.1", "192.0.2.1", 1 },
	{ "192.0.2.2", "192.0.2.1", 0 },
	{ "2001:db8::8000:0:0:1", "2001:db8::/65", 0 },
	{ "2001:db8::7fff:0:0:1", "2001:db8::/65", 1 },
};

START_TEST(test_in_net)
{
	struct ipaddr	ip, net;
	unsigned	len;

	ck_assert_int_eq(ip_parse(in_cases[_i].ip, strlen(in_cases[_i].ip), &ip), 0);
	ck_assert_int_eq(ip_parse_cidr(in_cases[_i].net, strlen(in_cases[_i].net),
	    &net, &len), 0);
	ck_assert_int_eq(ip_in_net(&ip, &net, len), in_cases[_i].want);
}
END_TEST

START_TEST(test_sockaddr_and_mask)
{
	struct sockaddr_in6	sin6;
	struct sockaddr_in	sin;
	struct ipaddr		ip, other;
	char			got[IP_STRLEN];

	memset(&sin6, 0, sizeof(sin6));
	sin6.sin6_family = AF_INET6;
	ck_assert_int_eq(inet_pton(AF_INET6, "::ffff:203.0.113.9", &sin6.sin6_addr), 1);
	ck_assert_int_eq(ip_from_sockaddr((struct sockaddr *)&sin6, &ip), 0);
	ck_assert_int_eq(ip.family, AF_INET);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	ck_assert_int_eq(inet_pton(AF_INET, "203.0.113.9", &sin.sin_addr), 1);
	ck_assert_int_eq(ip_from_sockaddr((struct sockaddr *)&sin, &other), 0);
	ck_assert(ip_equal(&ip, &other));
	ip_mask(&ip, 20);
	ip_format(&ip, got, sizeof(got));
	ck_assert_str_eq(got, "203.0.112.0");
	ck_assert(!ip_equal(&ip, &other));
	ck_assert_uint_eq(ip_maxlen(&ip), 32);
	ck_assert_int_eq(ip_from_sockaddr(NULL, &ip), -1);
	ck_assert_uint_eq(ip_maxlen(&ip), 0);
}
END_TEST

/* ip_parse reads len bytes only, and refuses what does not fit */
START_TEST(test_len_bounds)
{
	struct ipaddr	ip;
	char		got[IP_STRLEN], small[8], longin[200];
	unsigned	plen;

	ck_assert_int_eq(ip_parse("192.0.2.1xyz", 9, &ip), 0);
	ck_assert_int_eq(ip_parse("192.0.2.1xyz", 10, &ip), -1);
	ck_assert_int_eq(ip_parse("192.0.2.1\0", 10, &ip), -1);
	ck_assert_int_eq(ip.family, 0);
	ck_assert_int_eq(ip_parse_cidr("10.0.0.0/8junk", 10, &ip, &plen), 0);
	ck_assert_uint_eq(plen, 8);
	memset(longin, '1', sizeof(longin));
	ck_assert_int_eq(ip_parse(longin, sizeof(longin), &ip), -1);
	ck_assert_int_eq(ip_parse_cidr(longin, sizeof(longin), &ip, &plen), -1);
	/* the longest valid text fits IP_STRLEN with a prefix */
	ck_assert_int_eq(ip_parse_cidr("ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe/127",
	    43, &ip, &plen), 0);
	ip_format(&ip, got, sizeof(got));
	ck_assert_str_eq(got, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe");
	/* too small an output buffer gives "", never a cut address */
	ip_format(&ip, small, sizeof(small));
	ck_assert_str_eq(small, "");
	ck_assert_int_eq(ip_parse("192.0.2.100", 11, &ip), 0);
	ip_format(&ip, small, sizeof(small));
	ck_assert_str_eq(small, "");
	memset(&ip, 0, sizeof(ip));
	ip_format(&ip, got, sizeof(got));
	ck_assert_str_eq(got, "");
	ck_assert(!ip_equal(&ip, &ip));
	ck_assert(!ip_in_net(&ip, &ip, 0));
}
END_TEST

static const struct {
	const char	*in;
	unsigned	 len;
	const char	*want;
} mask_cases[] = {
	{ "255.255.255.255", 0, "0.0.0.0" },
	{ "255.255.255.255", 1, "128.0.0.0" },
	{ "255.255.255.255", 7, "254.0.0.0" },
	{ "255.255.255.255", 31, "255.255.255.254" },
	{ "255.255.255.255", 32, "255.255.255.255" },
	{ "255.255.255.255", 200, "255.255.255.255" },
	{ "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 64, "ffff:ffff:ffff:ffff::" },
	{ "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 68, "ffff:ffff:ffff:ffff:f000::" },
	{ "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 127,
	    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe" },
	{ "2001:db8::1", 0, "::" },
};

START_TEST(test_mask)
{
	struct ipaddr	ip;
	char		got[IP_STRLEN];

	ck_assert_int_eq(ip_parse(mask_cases[_i].in, strlen(mask_cases[_i].in), &ip), 0);
	ip_mask(&ip, mask_cases[_i].len);
	ip_format(&ip, got, sizeof(got));
	ck_assert_str_eq(got, mask_cases[_i].want);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("ipaddr");
	TCase	*tc = tcase_create("all");
	SRunner	*sr;
	int	 failed;

	tcase_add_loop_test(tc, test_parse, 0, sizeof(parse_cases) / sizeof(parse_cases[0]));
	tcase_add_loop_test(tc, test_cidr, 0, sizeof(cidr_cases) / sizeof(cidr_cases[0]));
	tcase_add_loop_test(tc, test_in_net, 0, sizeof(in_cases) / sizeof(in_cases[0]));
	tcase_add_test(tc, test_sockaddr_and_mask);
	tcase_add_test(tc, test_len_bounds);
	tcase_add_loop_test(tc, test_mask, 0, sizeof(mask_cases) / sizeof(mask_cases[0]));
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
