/*
 * test_spf -- the SPF evaluator against a table of DNS answers (a double
 * of the engine; the engine itself is in the RFC 7208 conformance run):
 * results, the HELO identity, limits counted across include, macros,
 * exp= never fetched, temporary errors, strict syntax.
 */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ipaddr.h"
#include "spf.h"
#include "spf_int.h"

struct zrec {
	const char	*name;
	uint16_t	 type;
	const char	*data;	/* TXT text, address, or name ("pref name" for MX) */
	size_t		 len;	/* TXT: bytes of data, 0 = strlen */
};

static const struct zrec *zone;
static char	asked[4096];		/* "name/type " of every question */

static enum spf_dns_rc
zquery(void *arg, const char *name, uint16_t type, struct dns_answer *a)
{
	const struct zrec	*z;
	int			 exists = 0;
	char			 q[300];

	(void)arg;
	(void)snprintf(q, sizeof(q), "%s/%u ", name, type);
	(void)strlcat(asked, q, sizeof(asked));
	if (strstr(name, "temp.") == name)
		return SPF_DNS_TEMP;
	a->rr = calloc(DNS_MSG_MAX_RR, sizeof(*a->rr));
	for (z = zone; z->name != NULL; z++) {
		struct dns_rr	*rr = &a->rr[a->nrr];

		if (strcasecmp(z->name, name) != 0)
			continue;
		exists = 1;
		if (z->type != type || a->nrr == DNS_MSG_MAX_RR)
			continue;
		rr->type = type;
		if (type == DNS_T_A || type == DNS_T_AAAA) {
			struct ipaddr ip;

			ck_assert_int_eq(ip_parse(z->data, strlen(z->data), &ip), 0);
			memcpy(rr->addr, ip.b, 16);
		} else if (type == DNS_T_MX) {
			rr->pref = (uint16_t)atoi(z->data);
			rr->text = strdup(strchr(z->data, ' ') + 1);
		} else {
			rr->textlen = z->len ? z->len : strlen(z->data);
			rr->text = malloc(rr->textlen + 1);
			memcpy(rr->text, z->data, rr->textlen);
			rr->text[rr->textlen] = '\0';
		}
		a->nrr++;
	}
	return exists ? SPF_DNS_OK : SPF_DNS_NXDOMAIN;
}

/* check -- the result for client ip, helo, sender against z */
static enum spf_result
check(const struct zrec *z, const char *ip, const char *helo,
    const char *sender, struct spf_outcome *out)
{
	struct spf_resolver	r = { zquery, NULL };
	struct spf_request	req;

	zone = z;
	asked[0] = '\0';
	memset(&req, 0, sizeof(req));
	ck_assert_int_eq(ip_parse(ip, strlen(ip), &req.ip), 0);
	req.helo = helo;
	req.sender = sender;
	spf_check(&r, &req, out);
	return out->result;
}

static const struct zrec basic[] = {
	{ "example.org", DNS_T_TXT, "v=spf1 ip4:192.0.2.0/24 ip6:2001:db8::/32 "
	    "a:mail.example.org mx -all", 0 },
	{ "example.org", DNS_T_MX, "10 mx.example.org", 0 },
	{ "example.org", DNS_T_TXT, "google-site-verification=xyz", 0 },
	{ "mail.example.org", DNS_T_A, "198.51.100.7", 0 },
	{ "mx.example.org", DNS_T_A, "203.0.113.9", 0 },
	{ "soft.example", DNS_T_TXT, "v=spf1 ~all", 0 },
	{ "neutral.example", DNS_T_TXT, "v=spf1 ?all", 0 },
	{ "norecord.example", DNS_T_A, "192.0.2.1", 0 },
	{ "helo.example", DNS_T_TXT, "v=spf1 a -all", 0 },
	{ "helo.example", DNS_T_A, "203.0.113.50", 0 },
	{ NULL, 0, NULL, 0 }
};

START_TEST(test_results)
{
	struct spf_outcome	o;

	ck_assert_int_eq(check(basic, "192.0.2.77", "h.example",
	    "alice@example.org", &o), SPF_PASS);
	ck_assert_str_eq(o.domain, "example.org");
	ck_assert_ptr_nonnull(strstr(o.reason, "ip4:192.0.2.0/24"));
	ck_assert_int_eq(check(basic, "2001:db8::5", "h.example",
	    "alice@example.org", &o), SPF_PASS);
	ck_assert_int_eq(check(basic, "198.51.100.7", "h.example",
	    "alice@EXAMPLE.org", &o), SPF_PASS);	/* a: */
	ck_assert_int_eq(check(basic, "203.0.113.9", "h.example",
	    "alice@example.org", &o), SPF_PASS);	/* mx */
	ck_assert_int_eq(check(basic, "203.0.113.10", "h.example",
	    "alice@example.org", &o), SPF_FAIL);
	ck_assert_ptr_nonnull(strstr(o.reason, "-all"));
	ck_assert_int_eq(o.lookups, 2);
	ck_assert_int_eq(check(basic, "203.0.113.10", "h.example",
	    "bob@soft.example", &o), SPF_SOFTFAIL);
	ck_assert_int_eq(check(basic, "203.0.113.10", "h.example",
	    "bob@neutral.example", &o), SPF_NEUTRAL);
	ck_assert_int_eq(check(basic, "203.0.113.10", "h.example",
	    "bob@norecord.example", &o), SPF_NONE);
	ck_assert_int_eq(check(basic, "203.0.113.10", "h.example",
	    "bob@nowhere.example", &o), SPF_NONE);
	/* an IPv4-mapped client is IPv4 */
	ck_assert_int_eq(check(basic, "::ffff:192.0.2.1", "h.example",
	    "alice@example.org", &o), SPF_PASS);
	/* not a domain: none, and nothing asked */
	ck_assert_int_eq(check(basic, "192.0.2.1", "h.example", "alice@[192.0.2.1]",
	    &o), SPF_NONE);
	ck_assert_str_eq(asked, "");
	ck_assert_int_eq(check(basic, "192.0.2.1", "h.example", "alice@localhost",
	    &o), SPF_NONE);
	ck_assert_str_eq(asked, "");
}
END_TEST

START_TEST(test_helo_identity)
{
	struct spf_outcome	o;

	/* <> checks postmaster@HELO */
	ck_assert_int_eq(check(basic, "203.0.113.50", "helo.example", "", &o),
	    SPF_PASS);
	ck_assert_int_eq(o.helo_identity, 1);
	ck_assert_str_eq(o.domain, "helo.example");
	ck_assert_int_eq(check(basic, "203.0.113.51", "helo.example", "", &o),
	    SPF_FAIL);
	/* a HELO that is not a domain: none */
	ck_assert_int_eq(check(basic, "203.0.113.51", "[203.0.113.51]", "", &o),
	    SPF_NONE);
	ck_assert_int_eq(check(basic, "203.0.113.51", "", "", &o), SPF_NONE);
	{
		/* a HELO or sender domain too long is not cut into a valid one */
		char	 longname[400];

		memset(longname, 'a', sizeof(longname));
		(void)strlcpy(longname + 300, ".helo.example", 100);
		longname[255] = '.';
		ck_assert_int_eq(check(basic, "203.0.113.50", longname, "", &o),
		    SPF_NONE);
		ck_assert_str_eq(asked, "");
		longname[0] = '@';
		ck_assert_int_eq(check(basic, "203.0.113.50", "x.example",
		    longname, &o), SPF_NONE);
		ck_assert_str_eq(asked, "");
	}
	/* a sender without a local part is postmaster@ */
	ck_assert_int_eq(check(basic, "203.0.113.50", "x.example",
	    "@helo.example", &o), SPF_PASS);
	ck_assert_int_eq(o.helo_identity, 0);
}
END_TEST

static const struct zrec limits[] = {
	/* eleven DNS terms through includes: the 11th is a permerror */
	{ "chain.example", DNS_T_TXT, "v=spf1 include:i1.example -all", 0 },
	{ "i1.example", DNS_T_TXT, "v=spf1 a:x.example include:i2.example", 0 },
	{ "i2.example", DNS_T_TXT, "v=spf1 a:x.example a:x.example "
	    "a:x.example include:i3.example", 0 },
	{ "i3.example", DNS_T_TXT, "v=spf1 a:x.example a:x.example "
	    "a:x.example a:x.example ip4:192.0.2.1", 0 },
	{ "x.example", DNS_T_A, "198.51.100.1", 0 },
	/* ten are fine */
	{ "ten.example", DNS_T_TXT, "v=spf1 a:x.example a:x.example "
	    "a:x.example a:x.example a:x.example a:x.example a:x.example "
	    "a:x.example a:x.example a:x.example ip4:192.0.2.1 -all", 0 },
	/* three void lookups */
	{ "void.example", DNS_T_TXT, "v=spf1 a:n1.example a:n2.example "
	    "mx:n3.example ip4:192.0.2.1 -all", 0 },
	{ "twovoid.example", DNS_T_TXT, "v=spf1 a:n1.example a:n2.example "
	    "ip4:192.0.2.1 -all", 0 },
	/* a loop */
	{ "loop.example", DNS_T_TXT, "v=spf1 include:loop.example -all", 0 },
	/* eleven MX hosts */
	{ "mx11.example", DNS_T_TXT, "v=spf1 mx -all", 0 },
	{ "mx11.example", DNS_T_MX, "1 a.example", 0 },
	{ "mx11.example", DNS_T_MX, "2 b.example", 0 },
	{ "mx11.example", DNS_T_MX, "3 c.example", 0 },
	{ "mx11.example", DNS_T_MX, "4 d.example", 0 },
	{ "mx11.example", DNS_T_MX, "5 e.example", 0 },
	{ "mx11.example", DNS_T_MX, "6 f.example", 0 },
	{ "mx11.example", DNS_T_MX, "7 g.example", 0 },
	{ "mx11.example", DNS_T_MX, "8 h.example", 0 },
	{ "mx11.example", DNS_T_MX, "9 i.example", 0 },
	{ "mx11.example", DNS_T_MX, "10 j.example", 0 },
	{ "mx11.example", DNS_T_MX, "11 k.example", 0 },
	{ NULL, 0, NULL, 0 }
};

START_TEST(test_limits)
{
	struct spf_outcome	o;

	ck_assert_int_eq(check(limits, "192.0.2.1", "h.example",
	    "a@chain.example", &o), SPF_PERMERROR);
	ck_assert_int_eq(o.lookups, 11);
	ck_assert_ptr_nonnull(strstr(o.reason, "more than 10 DNS lookups"));
	ck_assert_int_eq(check(limits, "192.0.2.1", "h.example",
	    "a@ten.example", &o), SPF_PASS);
	ck_assert_int_eq(check(limits, "192.0.2.1", "h.example",
	    "a@void.example", &o), SPF_PERMERROR);
	ck_assert_ptr_nonnull(strstr(o.reason, "void"));
	ck_assert_int_eq(check(limits, "192.0.2.1", "h.example",
	    "a@twovoid.example", &o), SPF_PASS);
	ck_assert_int_eq(o.voids, 2);
	ck_assert_int_eq(check(limits, "192.0.2.1", "h.example",
	    "a@loop.example", &o), SPF_PERMERROR);
	ck_assert_int_eq(check(limits, "192.0.2.1", "h.example",
	    "a@mx11.example", &o), SPF_PERMERROR);
	ck_assert_ptr_nonnull(strstr(o.reason, "MX"));
}
END_TEST

static const struct zrec macros[] = {
	{ "m.example", DNS_T_TXT, "v=spf1 exists:%{ir}.%{v}.%{l1r-}.q.%{d} "
	    "-all exp=why.%{d}", 0 },
	{ "1.2.0.192.in-addr.smith.q.m.example", DNS_T_A, "127.0.0.2", 0 },
	{ "u.example", DNS_T_TXT, "v=spf1 exists:%{L}.u.example -all", 0 },
	{ "s6.example", DNS_T_TXT, "v=spf1 exists:%{i}._.%{d2} -all", 0 },
	{ "t.example", DNS_T_TXT, "v=spf1 a:temp.example -all", 0 },
	{ "ti.example", DNS_T_TXT, "v=spf1 include:temp.example -all", 0 },
	{ "nul.example", DNS_T_TXT, "v=spf1 ip4:192.0.2.1\0 -all", 21 },
	{ "two.example", DNS_T_TXT, "v=spf1 -all", 0 },
	{ "two.example", DNS_T_TXT, "V=SPF1 +all", 0 },
	{ "bad.example", DNS_T_TXT, "v=spf1 ip4:192.0.2.1 moo -all", 0 },
	{ "spf10.example", DNS_T_TXT, "v=spf10 +all", 0 },
	{ NULL, 0, NULL, 0 }
};

START_TEST(test_macros_and_errors)
{
	struct spf_outcome	o;

	/* %{ir} %{v} %{l1r-}: "smith-joe" split on '-', reversed, rightmost 1 */
	ck_assert_int_eq(check(macros, "192.0.2.1", "h.example",
	    "smith-joe@m.example", &o), SPF_PASS);
	ck_assert_ptr_nonnull(strstr(asked, "1.2.0.192.in-addr.smith.q.m.example/1 "));
	/* exp= is never fetched, not even on fail */
	ck_assert_int_eq(check(macros, "192.0.2.9", "h.example",
	    "smith-joe@m.example", &o), SPF_FAIL);
	ck_assert_ptr_null(strstr(asked, "why."));
	/* upper-case letters are URL-escaped */
	ck_assert_int_eq(check(macros, "192.0.2.9", "h.example",
	    "a&b=c@u.example", &o), SPF_FAIL);
	/* ... and '%' goes to the resolver as \037 */
	ck_assert_ptr_nonnull(strstr(asked, "a\\03726b\\0373Dc.u.example/1 "));
	/* IPv6 %{i}: 32 nibbles */
	ck_assert_int_eq(check(macros, "2001:db8::1", "h.example", "a@s6.example",
	    &o), SPF_FAIL);
	ck_assert_ptr_nonnull(strstr(asked, "2.0.0.1.0.d.b.8.0.0.0.0.0.0.0.0."
	    "0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.1._.s6.example/1 "));
	/* temporary DNS errors */
	ck_assert_int_eq(check(macros, "192.0.2.9", "h.example", "a@t.example",
	    &o), SPF_TEMPERROR);
	ck_assert_int_eq(check(macros, "192.0.2.9", "h.example", "a@ti.example",
	    &o), SPF_TEMPERROR);
	ck_assert_int_eq(check(macros, "192.0.2.9", "h.example",
	    "a@temp.example", &o), SPF_TEMPERROR);
	/* a NUL in the record, two records, an unknown term, v=spf10 */
	ck_assert_int_eq(check(macros, "192.0.2.1", "h.example", "a@nul.example",
	    &o), SPF_PERMERROR);
	ck_assert_int_eq(check(macros, "192.0.2.1", "h.example", "a@two.example",
	    &o), SPF_PERMERROR);
	ck_assert_int_eq(check(macros, "192.0.2.1", "h.example", "a@bad.example",
	    &o), SPF_PERMERROR);
	ck_assert_ptr_nonnull(strstr(o.reason, "near 'moo'"));
	ck_assert_int_eq(check(macros, "192.0.2.1", "h.example",
	    "a@spf10.example", &o), SPF_NONE);
}
END_TEST

START_TEST(test_syntax)
{
	static const char *const good[] = {
		"v=spf1", "v=spf1 ", "v=spf1  -all ", "v=spf1 a/0 mx//0 a/24//64",
		"v=spf1 ip4:0.0.0.0/0 ip6:::/0 ip6:::ffff:1.2.3.4",
		"v=spf1 a:foo:bar/baz.example.com", "v=spf1 exists:%{ir}.%{v}._spf.%{d2}",
		"v=spf1 moo.cow-far_out=man:dog/cat", "v=spf1 x=%{c}%{r}%{t}",
		"v=spf1 redirect=_spf.example.com", "v=spf1 exp=%{d}", "v=spf1 a:%{d}",
		"v=spf1 include:ex-ample.123-4", "V=SPF1 ALL", "v=spf1 a:x.example/32//128",
		NULL
	};
	static const char *const bad[] = {
		"v=spf1 moo", "v=spf1 all.", "v=spf1 all:x", "v=spf1 all/8",
		"v=spf1 ptr/0", "v=spf1 a/33", "v=spf1 a//129", "v=spf1 a/032",
		"v=spf1 ip4:1.2.3", "v=spf1 ip4:1.2.3.4:25", "v=spf1 ip4:01.2.3.4",
		"v=spf1 ip4:1.2.3.4/", "v=spf1 ip4:1.2.3.4//32", "v=spf1 ip4",
		"v=spf1 ip6:::1.1.1.1/", "v=spf1 ip6::CAFE::BABE", "v=spf1 include",
		"v=spf1 include:", "v=spf1 exists:", "v=spf1 a:", "v=spf1 a:foo",
		"v=spf1 a:foo.", "v=spf1 a:1.2.3.4", "v=spf1 a:x.-bad",
		"v=spf1 exists:x.example/24", "v=spf1 redirect=", "v=spf1 exp=",
		"v=spf1 redirect=a.example redirect=b.example",
		"v=spf1 exp=a.example exp=b.example", "v=spf1 redirect:x.example",
		"v=spf1 =all", "v=spf1 1up=foo", "v=spf1 foo=%abc", "v=spf1 a:%{x}.e.com",
		"v=spf1 exp=%{r}.example.com", "v=spf1 a:%{d0}.example.com",
		"v=spf1 a:%{d}%.example.com", "v=spf1 exp=%{d}.", "v=spf1 \x80" "a", "v=spf1\t-all",
		"v=spf1 a:\x01.example.com",
		NULL
	};
	static struct spf_record r;
	char	err[200];
	size_t	i;

	for (i = 0; good[i] != NULL; i++)
		ck_assert_msg(spf_parse(&r, good[i], strlen(good[i]), err,
		    sizeof(err)) == 0, "%s: %s", good[i], err);
	for (i = 0; bad[i] != NULL; i++)
		ck_assert_msg(spf_parse(&r, bad[i], strlen(bad[i]), err,
		    sizeof(err)) == -1, "accepted: %s", bad[i]);
	ck_assert_int_eq(spf_parse(&r, "v=spf1 a:foo:bar/baz.example.com/24//64",
	    39, err, sizeof(err)), 0);
	ck_assert_int_eq(r.t[0].cidr4, 24);
	ck_assert_int_eq(r.t[0].cidr6, 64);
	ck_assert_int_eq((int)r.t[0].speclen, 23);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("spf");
	TCase	*tc = tcase_create("spf");
	SRunner	*sr;
	int	 failed;

	tcase_add_test(tc, test_results);
	tcase_add_test(tc, test_helo_identity);
	tcase_add_test(tc, test_limits);
	tcase_add_test(tc, test_macros_and_errors);
	tcase_add_test(tc, test_syntax);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
