/*
 * test_authres -- Authentication-Results values: what mxgate writes
 * (RFC 8601 syntax, quoting, nothing unprintable), and which existing
 * headers claim its authserv-id.
 */
#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "authres.h"

START_TEST(test_write)
{
	struct authres	 a;
	char		*v;

	authres_begin(&a, "mx.example.org");
	authres_method(&a, "spf", "pass");
	authres_prop(&a, "smtp.mailfrom", "bounce@sender.example");
	authres_method(&a, "dkim", "pass");
	authres_prop(&a, "header.d", "sender.example");
	authres_prop(&a, "header.s", "sel");
	authres_prop(&a, "header.a", "rsa-sha256");
	authres_method(&a, "dkim", "fail");
	authres_prop(&a, "header.d", "other.example");
	authres_reason(&a, "body hash \"did not\" verify");
	authres_method(&a, "dmarc", "pass");
	authres_prop(&a, "header.from", "sender.example");
	authres_prop(&a, "policy.dmarc", "reject");
	authres_prop(&a, "policy.empty", "");
	v = authres_end(&a);
	ck_assert_str_eq(v, "mx.example.org;\n"
	    "\tspf=pass smtp.mailfrom=bounce@sender.example;\n"
	    "\tdkim=pass header.d=sender.example header.s=sel header.a=rsa-sha256;\n"
	    "\tdkim=fail header.d=other.example reason=\"body hash \\\"did not\\\" verify\";\n"
	    "\tdmarc=pass header.from=sender.example policy.dmarc=reject");
	free(v);
}
END_TEST

START_TEST(test_none_and_quoting)
{
	struct authres	 a;
	char		*v;

	authres_begin(&a, "mx.example.org");
	authres_prop(&a, "header.d", "ignored.example");	/* no method yet */
	v = authres_end(&a);
	ck_assert_str_eq(v, "mx.example.org; none");
	free(v);
	/* hostile values: no CR/LF/NUL/8-bit, quoted when not a token */
	authres_begin(&a, "mx.example.org");
	authres_method(&a, "spf", "fail");
	authres_prop(&a, "smtp.helo", "evil\r\nX-Injected: yes");
	authres_prop(&a, "smtp.mailfrom", "a;b@c.example");
	authres_prop(&a, "header.from", "caf\xc3\xa9.example");
	v = authres_end(&a);
	ck_assert_ptr_null(strchr(v + strlen("mx.example.org;\n\t"), '\r'));
	ck_assert_ptr_nonnull(strstr(v, "smtp.helo=\"evilX-Injected: yes\""));
	ck_assert_ptr_nonnull(strstr(v, "smtp.mailfrom=\"a;b@c.example\""));
	ck_assert_ptr_nonnull(strstr(v, "header.from=\"caf.example\""));
	ck_assert_ptr_null(strstr(v, "\nX-Injected"));
	free(v);
}
END_TEST

START_TEST(test_long_value)
{
	struct authres	 a;
	char		 big[1000], *v;

	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	authres_begin(&a, "mx");
	authres_method(&a, "dkim", "pass");
	authres_prop(&a, "header.d", big);
	v = authres_end(&a);
	/* quoted and cut at AUTHRES_VALUE_MAX bytes */
	ck_assert_uint_eq(strlen(v), strlen("mx;\n\tdkim=pass header.d=\"\"") +
	    AUTHRES_VALUE_MAX);
	free(v);
}
END_TEST

static const struct {
	const char	*value;
	int		 ours;
} claims[] = {
	{ "mx.example.org; spf=pass", 1 },
	{ "MX.Example.ORG; dkim=pass", 1 },
	{ "  (forged) mx.example.org 1; dmarc=pass", 1 },
	{ "\r\n\tmx.example.org;spf=pass", 1 },
	{ "\"mx.example.org\"; spf=pass", 1 },
	{ "(a (nested) comment) mx.example.org; none", 1 },
	{ "mx.example.org", 1 },
	{ "other.example.org; spf=pass", 0 },
	{ "mx.example.org.evil; spf=pass", 0 },
	{ "mx.example; spf=pass", 0 },
	{ "", 0 },
	{ "(unclosed mx.example.org; spf=pass", 0 },
	/* a trailing dot names the same host; junk after the id is still ours */
	{ "mx.example.org.; dkim=pass", 1 },
	{ "MX.EXAMPLE.ORG.; dkim=pass", 1 },
	{ "\"mx.example.org.\"; dkim=pass", 1 },
	{ "mx.example.org;;; =%% garbage (", 1 },
	{ "mx.example.org(unclosed; dkim=pass", 1 },
	{ "mx.example.org\x01\x02; dkim=pass", 1 },
	{ "mx.example.org/x; dkim=pass", 1 },
	{ "\"mx.example.org; dkim=pass", 1 },
	{ "mx.example.org..; spf=pass", 0 },
	{ "; spf=pass", 0 },
};

START_TEST(test_claims)
{
	const char	*v = claims[_i].value;

	ck_assert_msg(authres_claims(v, strlen(v), "mx.example.org") ==
	    claims[_i].ours, "%s", v);
}
END_TEST

/* the length bounds the read: a NUL or what follows it is never the id */
START_TEST(test_claims_bounds)
{
	static const char v[] = "mx.example.org\0evil";

	ck_assert_int_eq(authres_claims("mx.example.orgXYZ", 14, "mx.example.org"), 1);
	ck_assert_int_eq(authres_claims(v, sizeof(v) - 1, "mx.example.org"), 1);
	ck_assert_int_eq(authres_claims("mx.exa", 6, "mx.example.org"), 0);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("authres");
	TCase	*tc = tcase_create("all");
	SRunner	*sr;
	int	 failed;

	tcase_add_test(tc, test_write);
	tcase_add_test(tc, test_none_and_quoting);
	tcase_add_test(tc, test_long_value);
	tcase_add_loop_test(tc, test_claims, 0, sizeof(claims) / sizeof(claims[0]));
	tcase_add_test(tc, test_claims_bounds);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
