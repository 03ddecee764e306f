/*
 * test_rules -- the rules language: every class of load-time error with
 * its position, evaluation (precedence, lists, tables, regexes, numbers,
 * limits, monitor, non-terminal actions), needs, includes, and the
 * shipped rules files.
 */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "diag.h"
#include "rules.h"

static char	dir[64];

/* write_file -- dir/name with text */
static void
write_file(const char *name, const char *text)
{
	char	p[256];
	FILE	*f;

	(void)snprintf(p, sizeof(p), "%s/%s", dir, name);
	f = fopen(p, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

/* load -- write main.rules and load it */
static struct rules *
load(const char *text, struct diag *d)
{
	char	p[256];

	write_file("main.rules", text);
	(void)snprintf(p, sizeof(p), "%s/main.rules", dir);
	return rules_load(p, d);
}

static void
setup(void)
{
	(void)strlcpy(dir, "/tmp/test_rules.XXXXXX", sizeof(dir));
	ck_assert_ptr_nonnull(mkdtemp(dir));
	write_file("users.map", "alice n=5 customer=acme\n@example.com n=7\n");
}

static void
teardown(void)
{
	char	cmd[128];

	(void)snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}

#define R(x)	"rule r at rcpt {\n\tif " x "\n\taccept\n}\n"

static const struct {
	const char	*text;
	const char	*where;		/* "main.rules:L:C: error: " */
	const char	*what;
} err_cases[] = {
	{ R("nosuch is x"), ":2:5:", "unknown fact 'nosuch'" },
	{ "rule r at mail {\n\tif rcpt is x\n\taccept\n}\n", ":2:5:",
	    "'rcpt' is known only from stage rcpt" },
	{ R("dkim is pass"), ":2:5:", "DKIM/DMARC" },
	{ R("dnsbl.score > 3"), ":2:5:", "DNS lists" },
	{ R("spf is fail"), ":2:5:", "SPF" },
	{ "rule r at rcpt {\n\ttempfail 451 5.7.1 \"x\"\n}\n", ":2:15:",
	    "does not agree with reply code 451" },
	{ "rule r at rcpt {\n\ttempfail 550 5.7.1 \"x\"\n}\n", ":2:11:",
	    "421, 450, 451 or 452" },
	{ "rule r at rcpt {\n\treject 451 4.7.1 \"x\"\n}\n", ":2:9:", "5XX" },
	{ "rule r at rcpt {\n\ttempfail 451 4.7 \"x\"\n}\n", ":2:15:",
	    "enhanced status code" },
	{ "rule r at rcpt { accept }\nrule r at mail { accept }\n", ":2:6:",
	    "already used at" },
	{ "rule r at lunch { accept }\n", ":1:11:", "unknown stage" },
	{ "rule r at rcpt {\n\ttempfail 451 4.7.1 \"${nope}\"\n}\n", ":2:22:",
	    "unknown variable ${nope}" },
	{ "rule r at rcpt {\n\ttempfail 451 4.7.1 \"${retry_after}\"\n}\n", ":2:22:",
	    "tests no limit" },
	{ "rule r at connect {\n\ttempfail 421 4.7.1 \"${helo}\"\n}\n", ":2:22:",
	    "'helo' is known only from stage helo" },
	{ "footer \"${rcpt}\"\n", ":1:9:", "footer" },
	{ "include \"main.rules\"\n", ":1:1:", "include loop" },
	{ "include \"missing.rules\"\n", ":1:9:", "no such file" },
	{ "list a { 1.2.3.4/33 }\n", ":1:10:", "not a valid IP" },
	{ "list a { x }\nlist a { y }\n", ":2:6:", "already defined" },
	{ "list a { x }\ntable a \"users.map\"\n", ":2:7:", "already defined" },
	{ "table t \"nope.map\"\n", ":1:9:", "cannot read" },
	{ R("rcpt in nolist"), ":2:13:", "no list or table 'nolist'" },
	{ R("limit nolimit exceeded"), ":2:11:", "no limit 'nolimit'" },
	{ R("rcpt =~ \"((\""), ":2:13:", "bad regular expression" },
	{ R("rcpt < 3"), ":2:10:", "not a number" },
	{ R("rcpt_count > x"), ":2:18:", "expected a number" },
	{ R("(rcpt is x"), ":2:15:", "expected ')'" },
	{ R("client_ip is foo"), ":2:18:", "is an address" },
	{ "limit l { count connections; key client_ip; rate 10/1x }\n", ":1:50:",
	    "N/DURATION" },
	{ "limit l { count sometimes; key client_ip; rate 1/1m }\n", ":1:17:",
	    "count must be" },
	{ "limit l { count connections; key nokey; rate 1/1m }\n", ":1:34:",
	    "unknown key" },
	{ "limit l { count concurrent; key client_ip; rate 1/1m }\n", ":1:7:",
	    "takes `max N`" },
	{ "limit l { count messages; key client_ip; max 3 }\n", ":1:7:",
	    "needs `rate" },
	{ "limit l { count messages; key client_ip; rate 1/1m; override t.n }\n",
	    ":1:62:", "no table 't'" },
	{ "limit l { count messages; key sasl_user; rate 1/1m }\n"
	    "rule r at connect {\n\tif limit l exceeded\n\taccept\n}\n", ":3:11:",
	    "only from stage mail (it counts messages)" },
	{ "dnsbl zen { zone zen.example }\n", ":1:1:", "not yet implemented" },
	{ "frobnicate\n", ":1:1:", "expected a statement" },
	{ "rule r at rcpt {\n\tlog \"unterminated\n}\n", ":2:6:", "unterminated string" },
	{ "rule r at rcpt {\n\tlog \"bad \\q escape\"\n}\n", ":2:11:", "unknown escape" },
	{ "rule r at rcpt {\n\theader \"Bad Name\" \"x\"\n}\n", ":2:9:", "header field name" },
	{ "rule r at rcpt {\n\tlog \"a\x01" "b\"\n}\n", ":2:8:", "control byte 0x01" },
	{ "rule r at rcpt {\n}\n", ":1:6:", "has no action" },
	{ "rule r at rcpt {\n\taccept\n", ":1:6:", "missing '}'" },
	{ "rule r at rcpt { accept }\n\x01\n", ":2:1:", "unexpected byte" },
	{ R("rcpt is x and or y"), ":2:19:", "expected a fact" },
	{ R("not not"), ":2:12:", "expected a fact" },
	{ "rule r at rcpt {\n\ttempfail 451 4.7.1 \"caf\xc3\xa9\"\n}\n", ":2:", "ASCII" },
};

START_TEST(test_errors)
{
	struct diag	 d = DIAG_INIT;
	struct rules	*r = load(err_cases[_i].text, &d);
	char		 where[300];

	ck_assert_ptr_null(r);
	ck_assert_uint_ge(d.errors, 1);
	(void)snprintf(where, sizeof(where), "%s/main.rules%s", dir, err_cases[_i].where);
	ck_assert_msg(strstr(buf_str(&d.out), where) != NULL &&
	    strstr(buf_str(&d.out), err_cases[_i].what) != NULL,
	    "want %s ... %s, got: %s", where, err_cases[_i].what, buf_str(&d.out));
	diag_free(&d);
}
END_TEST

START_TEST(test_all_errors_reported)
{
	struct diag	 d = DIAG_INIT;
	struct rules	*r = load("list a { 1.2.3.4/40 }\n"
			    "rule x at rcpt { tempfail 451 5.1.1 \"a\" }\n"
			    "rule y at mail {\n\tif dkim is pass\n\taccept\n}\n"
			    "bogus statement\n", &d);

	ck_assert_ptr_null(r);
	ck_assert_uint_eq(d.errors, 4);
	diag_free(&d);
}
END_TEST

/* ---- evaluation ---- */

struct env_state {
	const char	*v[F_COUNT];
	int		 exceeded;	/* limit "hot" is exceeded */
	int		 fail;		/* the fact callback fails */
	unsigned	 nmatched;
	char		 matched[256];
};

static int
fact_cb(void *arg, enum fact f, struct fact_value *v)
{
	struct env_state *e = arg;

	if (e->fail)
		return -1;
	memset(v, 0, sizeof(*v));
	v->s = e->v[f] != NULL ? e->v[f] : "";
	v->set = e->v[f] != NULL && *e->v[f] != '\0';
	v->n = e->v[f] != NULL ? strtoll(e->v[f], NULL, 10) : 0;
	if (f == F_CLIENT_IP && v->set)
		ck_assert_int_eq(ip_parse(v->s, strlen(v->s), &v->ip), 0);
	return 0;
}

static int
limit_cb(void *arg, const struct rl_limit *l, struct rl_result *r)
{
	struct env_state *e = arg;

	memset(r, 0, sizeof(*r));
	r->exceeded = strcmp(l->name, "hot") == 0 && e->exceeded;
	r->retry_after = r->exceeded ? 42 : 0;
	return 0;
}

static void
matched_cb(void *arg, const struct rules_match *m)
{
	struct env_state *e = arg;

	e->nmatched++;
	(void)strlcat(e->matched, m->rule, sizeof(e->matched));
	(void)strlcat(e->matched, m->monitor ? "(m) " : " ", sizeof(e->matched));
}

static const char eval_rules[] =
    "table users \"users.map\"\n"
    "list trusted { 192.0.2.0/24, 2001:db8::/32 }\n"
    "limit hot { count recipients; key sasl_user; rate 10/1h }\n"
    "limit cold { count recipients; key sasl_user; rate 10/1h }\n"
    "rule t1 at connect {\n\tif client_ip in trusted\n\taccept\n}\n"
    "rule n1 at rcpt {\n\tlog \"saw ${rcpt}\"\n}\n"
    "rule m1 at rcpt monitor {\n\tif rcpt_domain is watched.test\n"
    "\ttempfail 451 4.7.1 \"watch\"\n}\n"
    "rule q1 at rcpt {\n\tif sasl_user and (limit cold exceeded or limit hot exceeded)\n"
    "\ttempfail 451 4.7.0 \"slow down ${retry_after}\"\n}\n"
    "rule p1 at rcpt {\n\tif not rcpt in { postmaster@* } and helo =~ \"^bad[0-9]+$\"\n"
    "\ttempfail 451 4.7.1 \"bad helo\"\n}\n"
    "rule c1 at rcpt {\n\tif rcpt_count >= 3 and rcpt_count != 4\n"
    "\ttempfail 452 4.5.3 \"too many\"\n}\n"
    "rule u1 at rcpt {\n\tif sasl_user in users or mail_from in users\n"
    "\ttempfail 451 4.7.1 \"known\"\n}\n"
    "rule i1 at rcpt {\n\tif rcpt is \"Exact@Example.NET\" or rcpt is not x and rcpt_domain is z.test\n"
    "\treject 550 5.7.1 \"exact\"\n}\n";

static const struct {
	enum stage	 stage;
	const char	*facts;		/* "fact=value;..." */
	int		 exceeded;
	int		 rc;
	const char	*rule;		/* terminal match */
	const char	*matched;	/* non-terminal matches */
} eval_cases[] = {
	{ STAGE_CONNECT, "client_ip=192.0.2.9", 0, 1, "t1", "" },
	{ STAGE_CONNECT, "client_ip=2001:db8:1::1", 0, 1, "t1", "" },
	{ STAGE_CONNECT, "client_ip=198.51.100.1", 0, 0, NULL, "" },
	{ STAGE_RCPT, "rcpt=a@b.test", 0, 0, NULL, "n1 " },
	{ STAGE_RCPT, "rcpt=a@watched.test;rcpt_domain=watched.test", 0, 0, NULL, "n1 m1(m) " },
	{ STAGE_RCPT, "sasl_user=bob", 1, 1, "q1", "n1 " },
	{ STAGE_RCPT, "sasl_user=bob", 0, 0, NULL, "n1 " },
	{ STAGE_RCPT, "helo=bad123;rcpt=x@y.test", 0, 1, "p1", "n1 " },
	{ STAGE_RCPT, "helo=bad123;rcpt=postmaster@y.test", 0, 0, NULL, "n1 " },
	{ STAGE_RCPT, "helo=BAD9", 0, 1, "p1", "n1 " },
	{ STAGE_RCPT, "helo=bad12x", 0, 0, NULL, "n1 " },
	{ STAGE_RCPT, "rcpt_count=3", 0, 1, "c1", "n1 " },
	{ STAGE_RCPT, "rcpt_count=4", 0, 0, NULL, "n1 " },
	{ STAGE_RCPT, "rcpt_count=2", 0, 0, NULL, "n1 " },
	{ STAGE_RCPT, "sasl_user=ALICE", 0, 1, "u1", "n1 " },
	{ STAGE_RCPT, "mail_from=joe@example.com", 0, 1, "u1", "n1 " },
	{ STAGE_RCPT, "mail_from=joe@example.org", 0, 0, NULL, "n1 " },
	{ STAGE_RCPT, "rcpt=exact@example.net", 0, 1, "i1", "n1 " },
	{ STAGE_RCPT, "rcpt=y@z.test;rcpt_domain=z.test", 0, 1, "i1", "n1 " },
	{ STAGE_RCPT, "rcpt=x;rcpt_domain=z.test", 0, 0, NULL, "n1 " },
	{ STAGE_MAIL, "sasl_user=alice", 1, 0, NULL, "" },
};

/* set_facts -- parse "name=value;..." into the state */
static void
set_facts(struct env_state *e, const char *spec, char *buf, size_t len)
{
	char		*p, *eq, *semi;
	enum fact	 f;

	(void)strlcpy(buf, spec, len);
	for (p = buf; p != NULL && *p != '\0'; p = semi) {
		semi = strchr(p, ';');
		if (semi != NULL)
			*semi++ = '\0';
		eq = strchr(p, '=');
		ck_assert_ptr_nonnull(eq);
		*eq = '\0';
		ck_assert_int_eq(fact_lookup(p, strlen(p), &f), 0);
		e->v[f] = eq + 1;
	}
}

START_TEST(test_eval)
{
	struct diag		 d = DIAG_INIT;
	struct rules		*r = load(eval_rules, &d);
	struct env_state	 e;
	struct rules_env	 env = { &e, fact_cb, limit_cb, matched_cb };
	struct rules_match	 m;
	char			 buf[256];
	int			 rc;

	ck_assert_msg(r != NULL, "%s", buf_str(&d.out));
	memset(&e, 0, sizeof(e));
	set_facts(&e, eval_cases[_i].facts, buf, sizeof(buf));
	e.exceeded = eval_cases[_i].exceeded;
	memset(&m, 0, sizeof(m));
	rc = rules_eval(r, eval_cases[_i].stage, &env, &m);
	ck_assert_int_eq(rc, eval_cases[_i].rc);
	if (rc == 1)
		ck_assert_str_eq(m.rule, eval_cases[_i].rule);
	ck_assert_str_eq(e.matched, eval_cases[_i].matched);
	if (rc == 1 && strcmp(m.rule, "q1") == 0) {
		ck_assert_ptr_nonnull(m.limit);
		ck_assert_str_eq(m.limit->name, "hot");
		ck_assert_uint_eq(m.limit_result.retry_after, 42);
		ck_assert_str_eq(m.code, "451");
		ck_assert_str_eq(m.ecode, "4.7.0");
	}
	rules_unref(r);
	diag_free(&d);
}
END_TEST

START_TEST(test_eval_error)
{
	struct diag		 d = DIAG_INIT;
	struct rules		*r = load(eval_rules, &d);
	struct env_state	 e;
	struct rules_env	 env = { &e, fact_cb, limit_cb, matched_cb };
	struct rules_match	 m;

	ck_assert_ptr_nonnull(r);
	memset(&e, 0, sizeof(e));
	e.fail = 1;
	ck_assert_int_eq(rules_eval(r, STAGE_CONNECT, &env, &m), -1);
	rules_unref(r);
	diag_free(&d);
}
END_TEST

START_TEST(test_needs_and_summary)
{
	struct diag		 d = DIAG_INIT;
	struct rules		*r = load(eval_rules, &d);
	struct rules_needs	 n;
	struct buf		 b = BUF_INIT;

	ck_assert_ptr_nonnull(r);
	rules_needs(r, &n);
	ck_assert_uint_eq(n.stages, (1u << STAGE_CONNECT) | (1u << STAGE_RCPT));
	ck_assert(n.fact[F_HELO]);
	ck_assert(n.fact[F_RCPT]);
	ck_assert(n.fact[V_RETRY_AFTER]);
	ck_assert(!n.fact[F_SIZE]);
	ck_assert(!n.body);
	ck_assert(!n.header);
	ck_assert_uint_eq(rules_nlimits(r), 2);
	ck_assert_uint_eq(rules_ntables(r), 1);
	rules_summary(r, &b);
	ck_assert_str_eq(buf_str(&b),
	    "8 rules (connect 1, rcpt 7), 1 list, 1 table, 2 limits");
	buf_free(&b);
	rules_unref(r);
	r = load("limit b { count bytes; key sasl_user; rate 10000/1h }\n"
	    "rule s at eom {\n\tif size > 100 or from_domain is x.test\n\taccept\n}\n", &d);
	ck_assert_msg(r != NULL, "%s", buf_str(&d.out));
	rules_needs(r, &n);
	ck_assert(n.body);
	ck_assert(n.header);
	rules_unref(r);
	diag_free(&d);
}
END_TEST

START_TEST(test_include_glob)
{
	struct diag	 d = DIAG_INIT;
	struct rules	*r;
	struct buf	 b = BUF_INIT;
	char		 p[256];

	(void)snprintf(p, sizeof(p), "%s/conf.d", dir);
	ck_assert_int_eq(mkdir(p, 0700), 0);
	write_file("conf.d/10-a.rules", "list l { 192.0.2.1 }\n");
	write_file("conf.d/20-b.rules", "rule b at connect {\n\tif client_ip in l\n\taccept\n}\n");
	r = load("include \"conf.d/*.rules\"\ninclude \"none.d/*.rules\"\n", &d);
	ck_assert_msg(r != NULL, "%s", buf_str(&d.out));
	rules_summary(r, &b);
	ck_assert_str_eq(buf_str(&b), "1 rule (connect 1), 1 list, 0 tables, 0 limits");
	rules_unref(r);
	buf_free(&b);
	diag_free(&d);
}
END_TEST

/* shipped -- a shipped rules file loads cleanly */
static void
shipped(const char *rel)
{
	const char	*src = getenv("srcdir");
	struct diag	 d = DIAG_INIT;
	struct rules	*r;
	char		 p[512];

	(void)snprintf(p, sizeof(p), "%s/%s", src != NULL ? src : "../..", rel);
	r = rules_load(p, &d);
	ck_assert_msg(r != NULL, "%s: %s", p, buf_str(&d.out));
	rules_unref(r);
	diag_free(&d);
}

START_TEST(test_shipped)
{
	shipped("rules/default.rules");
	shipped("rules/examples/hosting.rules");
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("rules");
	TCase	*tc = tcase_create("all");
	SRunner	*sr;
	int	 failed;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, test_errors, 0, sizeof(err_cases) / sizeof(err_cases[0]));
	tcase_add_test(tc, test_all_errors_reported);
	tcase_add_loop_test(tc, test_eval, 0, sizeof(eval_cases) / sizeof(eval_cases[0]));
	tcase_add_test(tc, test_eval_error);
	tcase_add_test(tc, test_needs_and_summary);
	tcase_add_test(tc, test_include_glob);
	tcase_add_test(tc, test_shipped);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
