/*
 * test_dmarc -- DMARC records, the RFC 9989 tree walk (policy discovery,
 * organizational domain, PSD records, the 8-question bound), alignment
 * and the policy that applies, against a table of DNS answers.
 */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dmarc.h"

struct ans {
	const char	*qname;		/* "_dmarc.x" (TXT) or a name (A) */
	const char	*txt;		/* NULL: an A record */
};

static const struct ans zone[] = {
	{ "_dmarc.example.com", "v=DMARC1; p=reject; sp=quarantine; np=reject; rua=mailto:d@example.com" },
	{ "example.com", NULL },
	{ "sub.example.com", NULL },
	{ "_dmarc.strict.example", "v=DMARC1;p=reject;adkim=s;aspf=s" },
	{ "_dmarc.two.example", "v=DMARC1; p=reject" },
	{ "_dmarc.two.example", "v=DMARC1; p=none" },
	{ "_dmarc.bad-p.example", "v=DMARC1; p=rejekt" },
	{ "_dmarc.bad-p-rua.example", "v=DMARC1; p=rejekt; rua=mailto:d@bad-p-rua.example" },
	{ "_dmarc.no-p.example", "v=DMARC1; adkim=s; rua=mailto:d@no-p.example" },
	{ "_dmarc.no-p-norua.example", "v=DMARC1; adkim=s" },
	{ "_dmarc.bad-rua.example", "v=DMARC1; rua=not a uri" },
	{ "_dmarc.bad-sp.example", "v=DMARC1; p=reject; sp=bogus; rua=mailto:d@bad-sp.example" },
	{ "_dmarc.bad-np.example", "v=DMARC1; p=reject; np=" },
	{ "_dmarc.xn--bcher-kva.example", "v=DMARC1; p=reject" },
	{ "_dmarc.pct.example", "v=DMARC1; p=reject; pct=20" },
	{ "_dmarc.psd", "v=DMARC1; p=quarantine; psd=y" },
	{ "_dmarc.own.org.psd", "v=DMARC1; p=none; psd=n" },
	{ NULL, NULL }
};

static char	asked[4096];

static enum spf_dns_rc
zq(void *arg, const char *name, uint16_t type, struct dns_answer *a)
{
	const struct ans	*z;
	int			 exists = 0;

	(void)arg;
	(void)strlcat(asked, name, sizeof(asked));
	(void)strlcat(asked, " ", sizeof(asked));
	if (strstr(name, "servfail") != NULL)
		return SPF_DNS_TEMP;
	a->rr = calloc(4, sizeof(*a->rr));
	for (z = zone; z->qname != NULL; z++) {
		if (strcasecmp(z->qname, name) != 0)
			continue;
		exists = 1;
		if ((z->txt != NULL) != (type == DNS_T_TXT))
			continue;
		a->rr[a->nrr].type = type;
		if (z->txt != NULL) {
			a->rr[a->nrr].text = strdup(z->txt);
			a->rr[a->nrr].textlen = strlen(z->txt);
		}
		a->nrr++;
	}
	return exists ? SPF_DNS_OK : SPF_DNS_NXDOMAIN;
}

/* run -- check From domain from with SPF (spf, spfdom) and DKIM d= list */
static enum dmarc_result
run(const char *from, enum spf_result spf, const char *spfdom,
    const char *dkim, struct dmarc_outcome *o)
{
	struct spf_resolver	 r = { zq, NULL };
	struct dmarc_input	 in;
	const char		*d[1] = { dkim };

	memset(&in, 0, sizeof(in));
	in.from_domain = from;
	in.spf = spf;
	in.spf_domain = spfdom;
	in.dkim_pass = d;
	in.ndkim_pass = dkim != NULL ? 1 : 0;
	asked[0] = '\0';
	dmarc_check(&r, &in, o);
	return o->result;
}

#define PARSE(s, r)	dmarc_record_parse((s), strlen(s), (r))

START_TEST(test_records)
{
	struct dmarc_record	r;
	static const char	nul[] = "v=DMARC1; p=reject\0; p=none";

	ck_assert_int_eq(PARSE("v=DMARC1; p=reject; sp=none; "
	    "adkim=s; aspf=r; t=y; psd=n", &r), 0);
	ck_assert_int_eq(r.p, DMARC_P_REJECT);
	ck_assert_int_eq(r.sp, DMARC_P_NONE);
	ck_assert_int_eq(r.np, DMARC_P_UNSET);
	ck_assert_int_eq(r.adkim_strict, 1);
	ck_assert_int_eq(r.aspf_strict, 0);
	ck_assert_int_eq(r.testing, 1);
	ck_assert_int_eq(r.psd, DMARC_PSD_N);
	/* spaces, upper case values, a trailing ';', unknown tags */
	ck_assert_int_eq(PARSE("v = DMARC1 ;P=Quarantine; x=1;", &r), 0);
	ck_assert_int_eq(r.p, DMARC_P_QUARANTINE);
	/* no p, or an invalid one: unset (read as none) */
	ck_assert_int_eq(PARSE("v=DMARC1; rua=mailto:a@b.example", &r), 0);
	ck_assert_int_eq(r.p, DMARC_P_UNSET);
	/* RFC 7489 pct: below 100 is testing, unless t= says otherwise */
	ck_assert_int_eq(PARSE("v=DMARC1; p=reject; pct=0", &r), 0);
	ck_assert_int_eq(r.testing, 1);
	ck_assert_int_eq(PARSE("v=DMARC1; p=reject; pct=100", &r), 0);
	ck_assert_int_eq(r.testing, 0);
	ck_assert_int_eq(PARSE("v=DMARC1; p=reject; pct=50; t=n", &r), 0);
	ck_assert_int_eq(r.testing, 0);
	ck_assert_int_eq(PARSE("v=DMARC1; p=reject; pct=abc", &r), 0);
	ck_assert_int_eq(r.testing, 0);
	/* not DMARC records */
	ck_assert_int_eq(PARSE("p=reject; v=DMARC1", &r), -1);
	ck_assert_int_eq(PARSE("v=dmarc1; p=reject", &r), -1);
	ck_assert_int_eq(PARSE("v=DMARC10; p=reject", &r), -1);
	ck_assert_int_eq(PARSE("v=spf1 -all", &r), -1);
	ck_assert_int_eq(PARSE("", &r), -1);
	ck_assert_int_eq(dmarc_record_parse(nul, sizeof(nul) - 1, &r), -1);
}
END_TEST

START_TEST(test_alignment)
{
	struct dmarc_outcome	o;

	ck_assert_int_eq(run("example.com", SPF_PASS, "example.com", NULL, &o),
	    DMARC_PASS);
	ck_assert_int_eq(o.spf_aligned, 1);
	ck_assert_int_eq(o.policy, DMARC_P_REJECT);
	ck_assert_str_eq(o.org_domain, "example.com");
	/* relaxed: same organizational domain */
	ck_assert_int_eq(run("example.com", SPF_PASS, "bounce.example.com", NULL,
	    &o), DMARC_PASS);
	ck_assert_int_eq(run("example.com", SPF_FAIL, "example.com",
	    "mail.EXAMPLE.com", &o), DMARC_PASS);
	ck_assert_int_eq(o.dkim_aligned, 1);
	ck_assert_int_eq(o.spf_aligned, 0);
	/* another domain, or SPF not pass: fail */
	ck_assert_int_eq(run("example.com", SPF_PASS, "example.net",
	    "example.org", &o), DMARC_FAIL);
	ck_assert_int_eq(run("example.com", SPF_SOFTFAIL, "example.com", NULL,
	    &o), DMARC_FAIL);
	ck_assert_int_eq(run("example.com", SPF_PASS, "notexample.com", NULL,
	    &o), DMARC_FAIL);
	/* strict */
	ck_assert_int_eq(run("strict.example", SPF_PASS, "a.strict.example",
	    "b.strict.example", &o), DMARC_FAIL);
	ck_assert_int_eq(run("strict.example", SPF_NONE, NULL,
	    "strict.example", &o), DMARC_PASS);
}
END_TEST

START_TEST(test_policy)
{
	struct dmarc_outcome	o;

	/* a subdomain that exists: sp; one that does not: np */
	ck_assert_int_eq(run("sub.example.com", SPF_NONE, NULL, NULL, &o),
	    DMARC_FAIL);
	ck_assert_int_eq(o.policy, DMARC_P_QUARANTINE);
	ck_assert_str_eq(o.record_domain, "example.com");
	ck_assert_int_eq(run("ghost.example.com", SPF_NONE, NULL, NULL, &o),
	    DMARC_FAIL);
	ck_assert_int_eq(o.policy, DMARC_P_REJECT);
	/* no record anywhere: none; several at one name: none */
	ck_assert_int_eq(run("nothing.example", SPF_PASS, "nothing.example",
	    NULL, &o), DMARC_NONE);
	ck_assert_int_eq(run("two.example", SPF_NONE, NULL, NULL, &o),
	    DMARC_NONE);
	/* pct=20 is testing */
	ck_assert_int_eq(run("pct.example", SPF_NONE, NULL, NULL, &o),
	    DMARC_FAIL);
	ck_assert_int_eq(o.policy, DMARC_P_REJECT);
	ck_assert_int_eq(o.testing, 1);
	/* SERVFAIL for _dmarc: temperror, never "no policy" */
	ck_assert_int_eq(run("servfail.example", SPF_PASS, "servfail.example",
	    NULL, &o), DMARC_TEMPERROR);
	/* no usable From */
	ck_assert_int_eq(run(NULL, SPF_PASS, "x.example", NULL, &o),
	    DMARC_PERMERROR);
	ck_assert_int_eq(run("bad..example", SPF_PASS, "x.example", NULL, &o),
	    DMARC_PERMERROR);
	ck_assert_str_eq(asked, "");
}
END_TEST

START_TEST(test_tree_walk)
{
	struct dmarc_outcome	o;

	/* ten labels: the name, then its last 7 labels, ... down to 1 */
	ck_assert_int_eq(run("a.b.c.d.e.f.g.h.i.test", SPF_NONE, NULL, NULL,
	    &o), DMARC_NONE);
	ck_assert_str_eq(asked, "_dmarc.a.b.c.d.e.f.g.h.i.test "
	    "_dmarc.d.e.f.g.h.i.test _dmarc.e.f.g.h.i.test _dmarc.f.g.h.i.test "
	    "_dmarc.g.h.i.test _dmarc.h.i.test _dmarc.i.test _dmarc.test ");
	ck_assert_uint_le(o.queries, DMARC_MAX_QUERIES);
	/* a PSD record (psd=y): its policy; the organizational domain is one
	   label below it */
	ck_assert_int_eq(run("a.b.org.psd", SPF_NONE, NULL, "x.org.psd", &o),
	    DMARC_PASS);
	ck_assert_str_eq(o.record_domain, "psd");
	ck_assert_str_eq(o.org_domain, "org.psd");
	ck_assert_int_eq(o.policy, DMARC_P_QUARANTINE);
	/* each name asked once per check, though both walks pass it */
	ck_assert_ptr_nonnull(strstr(asked, "_dmarc.psd "));
	ck_assert_ptr_null(strstr(strstr(asked, "_dmarc.psd ") + 1,
	    "_dmarc.psd "));
	ck_assert_int_eq(run("a.b.org.psd", SPF_NONE, NULL, "other.psd", &o),
	    DMARC_FAIL);
	/* psd=n marks its own organizational domain */
	ck_assert_int_eq(run("x.own.org.psd", SPF_NONE, NULL, "own.org.psd",
	    &o), DMARC_PASS);
	ck_assert_str_eq(o.org_domain, "own.org.psd");
	ck_assert_int_eq(run("x.own.org.psd", SPF_NONE, NULL, "y.org.psd",
	    &o), DMARC_FAIL);
}
END_TEST

/*
 * RFC 9989 4.10.1: a record without a valid p=, or with an invalid sp= or
 * np=, is read as p=none when its rua= has a valid URI, else no DMARC
 * processing (none); never permerror, never its other policies
 */
START_TEST(test_invalid_policy)
{
	struct dmarc_outcome	o;

	ck_assert_int_eq(run("bad-p.example", SPF_NONE, NULL, NULL, &o),
	    DMARC_NONE);
	ck_assert_ptr_nonnull(strstr(o.reason, "no valid p="));
	ck_assert_int_eq(run("bad-p-rua.example", SPF_NONE, NULL, NULL, &o),
	    DMARC_FAIL);
	ck_assert_int_eq(o.policy, DMARC_P_NONE);
	ck_assert_int_eq(run("no-p.example", SPF_NONE, NULL, "no-p.example",
	    &o), DMARC_PASS);
	ck_assert_int_eq(o.policy, DMARC_P_NONE);
	ck_assert_int_eq(run("no-p.example", SPF_NONE, NULL,
	    "sub.no-p.example", &o), DMARC_FAIL);	/* adkim=s still holds */
	ck_assert_int_eq(run("no-p-norua.example", SPF_NONE, NULL, NULL, &o),
	    DMARC_NONE);
	ck_assert_int_eq(run("bad-rua.example", SPF_NONE, NULL, NULL, &o),
	    DMARC_NONE);
	/* an invalid sp: the whole record is p=none, the domain's own too */
	ck_assert_int_eq(run("bad-sp.example", SPF_NONE, NULL, NULL, &o),
	    DMARC_FAIL);
	ck_assert_int_eq(o.policy, DMARC_P_NONE);
	ck_assert_int_eq(run("x.bad-sp.example", SPF_NONE, NULL, NULL, &o),
	    DMARC_FAIL);
	ck_assert_int_eq(o.policy, DMARC_P_NONE);
	ck_assert_int_eq(run("bad-np.example", SPF_NONE, NULL, NULL, &o),
	    DMARC_NONE);
}
END_TEST

/* a From domain in U-labels is asked for, and aligned, in A-labels */
START_TEST(test_idn)
{
	struct dmarc_outcome	o;

	ck_assert_int_eq(run("b\xc3\xbc" "cher.example", SPF_NONE, NULL,
	    "xn--bcher-kva.example", &o), DMARC_PASS);
	ck_assert_str_eq(o.record_domain, "xn--bcher-kva.example");
	ck_assert_str_eq(o.from_domain, "xn--bcher-kva.example");
	ck_assert_int_eq(o.policy, DMARC_P_REJECT);
	ck_assert_int_eq(run("B\xc3\x9c" "CHER.example", SPF_PASS,
	    "mail.xn--bcher-kva.example", NULL, &o), DMARC_PASS);
	ck_assert_int_eq(run("b\xc3\xbc" "cher.example", SPF_NONE, NULL, NULL,
	    &o), DMARC_FAIL);
	/* the root's dot names the same domain: never a way around p= */
	ck_assert_int_eq(run("example.com.", SPF_NONE, NULL, NULL, &o),
	    DMARC_FAIL);
	ck_assert_int_eq(o.policy, DMARC_P_REJECT);
	ck_assert_str_eq(o.from_domain, "example.com");
	ck_assert_int_eq(run("example.com..", SPF_NONE, NULL, NULL, &o),
	    DMARC_PERMERROR);
	/* not UTF-8, or not a valid IDN: no usable From domain */
	ck_assert_int_eq(run("b\xfc" "cher.example", SPF_NONE, NULL, NULL, &o),
	    DMARC_PERMERROR);
	ck_assert_str_eq(asked, "");
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("dmarc");
	TCase	*tc = tcase_create("dmarc");
	SRunner	*sr;
	int	 failed;

	tcase_add_test(tc, test_records);
	tcase_add_test(tc, test_alignment);
	tcase_add_test(tc, test_policy);
	tcase_add_test(tc, test_tree_walk);
	tcase_add_test(tc, test_invalid_policy);
	tcase_add_test(tc, test_idn);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
