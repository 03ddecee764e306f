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
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
