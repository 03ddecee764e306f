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
#include "dnsbl.h"
#include "file.h"
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
	write_file("users.map", "alice n=5 customer=acme\n@example.com n=7\n"
	    "198.51.100.0/24 n=1\n");
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
	{ R("dkim is pass"), ":2:5:", "'dkim' is known only from stage eom" },
	{ R("dnsbl.score is x"), ":2:20:", "'dnsbl.score' is a number" },
	{ "rule r at helo {\n\tif spf is fail\n\taccept\n}\n", ":2:5:",
	    "'spf' is known only from stage mail" },
	{ R("dnsbl.zen.label is SBL"), ":2:5:", "'dnsbl.zen.label': no DNS list "
	    "'zen' is defined before this line" },
	{ "rule r at rcpt { log \"${dnsbl.zen}\" }\n", ":1:23:", "no DNS list 'zen'" },
	{ "dnsbl zen { zone z.example }\n" R("dnsbl.zen.txt"), ":3:5:",
	    "is a reply variable" },
	{ "dnsbl zen { zone z.example }\n" R("dnsbl.zen.nope"), ":3:5:",
	    "a DNS list has dnsbl.zen, dnsbl.zen.label" },
	{ "dnsbl zen { zone z.example }\nlist zen { 192.0.2.1 }\n", ":2:6:",
	    "already defined (as a dnsbl)" },
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
	{ "dnsbl zen { answer 127.0.0.2 }\n", ":1:7:", "zone is required" },
	{ "dnsbl zen {\n\tzone bad..zone\n}\n", ":2:7:", "bad zone 'bad..zone'" },
	{ "dnsbl zen {\n\tzone z.example\n\tzone y.example\n}\n", ":3:2:",
	    "zone is already set" },
	{ "dnsbl zen {\n\tzone z.example\n\tanswer 127.0.0.[2-1]\n}\n", ":3:9:",
	    "bad answer '127.0.0.[2-1]'" },
	{ "dnsbl zen {\n\tzone z.example\n\tanswer 127.255.255.0/24\n}\n", ":3:9:",
	    "can only match error codes" },
	{ "dnsbl zen {\n\tzone z.example\n\tanswer 127.0.0.2 weight 1001\n}\n",
	    ":3:26:", "weight from -1000 to 1000" },
	{ "dnsbl zen {\n\tzone z.example\n\ttimeout 90s\n}\n", ":3:10:",
	    "timeout from 1s to 60s" },
	{ "dnsbl zen {\n\tzone z.example\n\ton_error maybe\n}\n", ":3:11:",
	    "on_error is ignore or tempfail" },
	{ "dnsbl zen {\n\tzone z.example\n\tpublic_name bare\n}\n", ":3:14:",
	    "public name as a \"text\"" },
	{ "dnsbl zen {\n\tzone z.example\n\tlisted yes\n}\n", ":3:2:",
	    "expected zone, answer, public_name" },
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
	{ "rule r at rcpt {\n\ttempfail 452 4.8.1000 \"x\"\n}\n", ":2:15:",
	    "enhanced status code" },
	{ "rule r at rcpt {\n\taccept\n\ttempfail 451 4.7.1 \"x\"\n}\n", ":3:2:",
	    "at most one of accept" },
	{ "rule r at\n", ":1:10:", "unknown stage 'end of line'" },
	{ "limit l { count messages; key sasl_user /64; rate 1/1m }\n", ":1:41:",
	    "follows a client_ip key" },
	{ "limit l { count connections; count messages; key client_ip; rate 1/1m }\n",
	    ":1:30:", "count is already set" },
	{ "limit l { count connections; key client_ip/33; rate 1/1m }\n", ":1:34:",
	    "bad prefix length" },
	{ "table t \"users.map\"\nlimit l { count messages; key sasl_user; "
	    "rate 1/1m; rate 10/1h; override t.n }\n", ":2:7:",
	    "override needs a single rate line" },
	{ "limit l { count recipients; key sasl_user; rate 1/1m }\n"
	    "rule r at mail {\n\tif limit l exceeded\n\taccept\n}\n", ":3:11:",
	    "only from stage rcpt (it counts recipients); this rule runs at mail" },
	{ "limit l { count connections; key client_ip+sasl_user; rate 1/1m }\n",
	    ":1:7:", "the only key is client_ip" },
	{ "limit l { count messages; key rcpt_domain; rate 1/1m }\n", ":1:7:",
	    "key rcpt_domain needs count recipients" },
	{ "limit l { count connections; key client_ip; rate 1/1m }\n"
	    "rule r at rcpt {\n\tif limit l\n\taccept\n}\n", ":3:12:",
	    "expected 'exceeded'" },
	{ "list l { x }\nlimit l { count messages; key sasl_user; rate 1/1m }\n",
	    ":2:7:", "limit 'l' is already defined (as a list) at " },
	{ R("rcpt_count in { 1 }"), ":2:19:", "is a number" },
	{ R("tls in { 1 }"), ":2:12:", "yes/no" },
	{ R("ref is x"), ":2:5:", "reply variable" },
	{ R("tls is maybe"), ":2:12:", "'tls' is yes or no" },
	{ R("rcpt_count is many"), ":2:19:", "compare it with a number" },
	{ R("tls =~ \"y\""), ":2:9:", "=~ is for text" },
	{ R("helo =~ \"a+++++++++++++++++++\""), ":2:13:", "too complex" },
	{ R("helo =~ \"(a{1,100}){1,100}\""), ":2:13:", "too complex" },
	{ R("helo =~ \"((a|b)*c){2}d{3,}\\\\1\""), ":2:13:", "too complex" },
	{ R("rcpt is x and rcpt is y or"), ":2:31:", "not 'end of line'" },
	{ "rule r at rcpt {\n\tlog \"${retry_after}\"\n}\n", ":2:7:", "tests no limit" },
	{ "rule r at mail {\n\tif sasl_user\n\theader \"X-A\" \"${rcpt_count}\"\n}\n",
	    ":3:16:", "known only from stage rcpt" },
	{ "footer \"${limit.max}\"\n", ":1:9:", "footer is shown at every stage" },
	{ "footer \"a\"\nfooter \"b\"\n", ":2:1:", "footer is already set" },
	{ "list l file \"nolist.txt\"\n", ":1:13:", "list l: cannot read" },
	{ "include \"sub/*.rules\"\ninclude \"main.rules\"\n", ":2:1:", "include loop" },
};

START_TEST(test_errors)
{
	struct diag	 d = DIAG_INIT;
	struct rules	*r = load(err_cases[_i].text, &d);
	char		 where[300];

	ck_assert_ptr_null(r);
	/* one error: no cascade after it */
	ck_assert_msg(d.errors == 1, "got %u errors: %s", d.errors, buf_str(&d.out));
	(void)snprintf(where, sizeof(where), "%s/main.rules%s", dir, err_cases[_i].where);
	ck_assert_msg(strstr(buf_str(&d.out), where) != NULL &&
	    strstr(buf_str(&d.out), err_cases[_i].what) != NULL,
	    "want %s ... %s, got: %s", where, err_cases[_i].what, buf_str(&d.out));
	diag_free(&d);
}
END_TEST

START_TEST(test_non_ascii)
{
	struct diag	 d = DIAG_INIT;
	struct rules	*r = load("rule r at rcpt {\n\ttempfail 451 4.7.1 "
			    "\"caf\xc3\xa9\"\n}\n", &d);
	char		 want[300];

	ck_assert_ptr_null(r);
	ck_assert_uint_eq(d.errors, 2);
	(void)snprintf(want, sizeof(want), "%s/main.rules:2:25: error: text must "
	    "be printable ASCII", dir);
	ck_assert_msg(strstr(buf_str(&d.out), want) != NULL, "%s", buf_str(&d.out));
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
	int		 defer;		/* dnsbl.* facts defer the stage */
	unsigned	 dnsbl_ids;	/* per-list fact ids seen, as bits of their index */
	unsigned	 nmatched;
	char		 matched[256];
};

static int
fact_cb(void *arg, int id, struct fact_value *v)
{
	struct env_state *e = arg;
	enum fact	 f = FACT_BASE(id);

	if (e->fail)
		return -1;
	if (f == F_DNSBL_LIST || f == F_DNSBL_LABEL)
		e->dnsbl_ids |= 1u << FACT_INDEX(id);
	if (e->defer && f >= F_DNSBL_SCORE && f <= F_DNSBL_LABEL)
		return RULES_DEFER;
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
	struct rules_env	 env = { &e, fact_cb, limit_cb, matched_cb, NULL };
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

/* the rules and outcomes env->trace saw, "id:O " each (tracing) */
static char	trace_seen[512];
static int	trace_p1_used;

static void
trace_cb(void *arg, const struct rules_match *m, enum rules_outcome o)
{
	static const char code[] = { [RULES_NOT_MATCHED] = 'N',
	    [RULES_MATCHED] = 'M', [RULES_MONITOR] = 'W',
	    [RULES_DECIDED] = 'D', [RULES_FAILED] = 'F',
	    [RULES_NOT_REACHED] = 'R' };
	char	one[64];

	(void)arg;
	(void)snprintf(one, sizeof(one), "%s:%c ", m->rule, code[o]);
	(void)strlcat(trace_seen, one, sizeof(trace_seen));
	if (strcmp(m->rule, "p1") == 0)
		trace_p1_used = m->used[F_HELO] && m->used[F_RCPT] &&
		    !m->used[F_SASL_USER];
}

/* every rule of the stage reaches env->trace, in order, with its outcome */
START_TEST(test_trace)
{
	struct diag		 d = DIAG_INIT;
	struct rules		*r = load(eval_rules, &d);
	struct env_state	 e;
	struct rules_env	 env = { &e, fact_cb, limit_cb, matched_cb,
				    trace_cb };
	struct rules_match	 m;
	char			 buf[256];

	ck_assert_msg(r != NULL, "%s", buf_str(&d.out));
	memset(&e, 0, sizeof(e));
	trace_seen[0] = '\0';
	set_facts(&e, "helo=bad123;rcpt=x@y.test", buf, sizeof(buf));
	ck_assert_int_eq(rules_eval(r, STAGE_RCPT, &env, &m), 1);
	ck_assert_str_eq(trace_seen,
	    "n1:M m1:N q1:N p1:D c1:R u1:R i1:R ");
	ck_assert_int_eq(trace_p1_used, 1);
	memset(&e, 0, sizeof(e));
	trace_seen[0] = '\0';
	set_facts(&e, "rcpt=a@watched.test;rcpt_domain=watched.test", buf,
	    sizeof(buf));
	ck_assert_int_eq(rules_eval(r, STAGE_RCPT, &env, &m), 0);
	ck_assert_str_eq(trace_seen,
	    "n1:M m1:W q1:N p1:N c1:N u1:N i1:N ");
	trace_seen[0] = '\0';
	rules_trace_unreached(r, STAGE_CONNECT, &env);
	ck_assert_str_eq(trace_seen, "t1:R ");
	/* no trace: nothing is asked of it */
	env.trace = NULL;
	rules_trace_unreached(r, STAGE_RCPT, &env);
	ck_assert_int_eq(rules_eval(r, STAGE_RCPT, &env, &m), 0);
	rules_unref(r);
	diag_free(&d);
}
END_TEST

START_TEST(test_eval_error)
{
	struct diag		 d = DIAG_INIT;
	struct rules		*r = load(eval_rules, &d);
	struct env_state	 e;
	struct rules_env	 env = { &e, fact_cb, limit_cb, matched_cb, NULL };
	struct rules_match	 m;

	ck_assert_ptr_nonnull(r);
	memset(&e, 0, sizeof(e));
	e.fail = 1;
	ck_assert_int_eq(rules_eval(r, STAGE_CONNECT, &env, &m), -1);
	rules_unref(r);
	diag_free(&d);
}
END_TEST

static const char dnsbl_rules[] =
    "dnsbl zen {\n\tzone ZEN.Example.\n"
    "\tanswer 127.0.0.[2-3] label SBL weight 4\n"
    "\tanswer 127.0.0.4-127.0.0.7 label XBL\n"
    "\tpublic_name \"Spamhaus ZEN\"\n\ttimeout 3s\n\ton_error tempfail\n}\n"
    "dnsbl wl { zone wl.example; answer 127.0.10.0/24 weight -5 }\n"
    "rule listed at rcpt {\n\tif dnsbl.wl.label or dnsbl.zen >= 4\n"
    "\ttempfail 451 4.7.1 \"${dnsbl.names}: ${dnsbl.zen.txt} ${dnsbl.txt}\"\n}\n";

/* dnsbl blocks load into lists; per-list facts carry their list's index */
START_TEST(test_dnsbl_rules)
{
	struct diag		 d = DIAG_INIT;
	struct rules		*r = load(dnsbl_rules, &d);
	struct env_state	 e;
	struct rules_env	 env = { &e, fact_cb, limit_cb, matched_cb, NULL };
	struct rules_match	 m;
	struct dnsbl *const	*l;
	struct buf		 b = BUF_INIT;

	ck_assert_msg(r != NULL, "%s", buf_str(&d.out));
	ck_assert_uint_eq(rules_ndnsbls(r), 2);
	l = rules_dnsbls(r);
	ck_assert_str_eq(dnsbl_name(l[0]), "zen");
	ck_assert_str_eq(dnsbl_zone(l[0]), "zen.example");
	ck_assert_str_eq(dnsbl_public_name(l[0]), "Spamhaus ZEN");
	ck_assert_uint_eq(dnsbl_timeout(l[0]), 3000);
	ck_assert_int_eq(dnsbl_on_error(l[0]), DNSBL_ON_ERROR_TEMPFAIL);
	ck_assert_str_eq(dnsbl_public_name(l[1]), "wl.example");
	ck_assert_int_eq(dnsbl_on_error(l[1]), DNSBL_ON_ERROR_IGNORE);
	rules_summary(r, &b);
	ck_assert_str_eq(buf_str(&b), "1 rule (rcpt 1), 0 lists, 0 tables, 0 limits, 2 dnsbls");
	memset(&e, 0, sizeof(e));
	ck_assert_int_eq(rules_eval(r, STAGE_RCPT, &env, &m), 0);
	ck_assert_uint_eq(e.dnsbl_ids, 3);	/* wl (index 1) and zen (index 0) */
	e.defer = 1;
	ck_assert_int_eq(rules_eval(r, STAGE_RCPT, &env, &m), RULES_DEFER);
	buf_free(&b);
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
	    "8 rules (connect 1, rcpt 7), 1 list, 1 table, 2 limits, 0 dnsbls");
	buf_free(&b);
	rules_unref(r);
	r = load("limit b { count bytes; key sasl_user; rate 10000/1h }\n"
	    "rule s at eom {\n\tif size > 100 or from_domain is x.test\n\taccept\n}\n", &d);
	ck_assert_msg(r != NULL, "%s", buf_str(&d.out));
	rules_needs(r, &n);
	ck_assert(n.body);
	ck_assert(n.header);
	ck_assert(n.fact[F_SASL_USER]);	/* a limit's key */
	rules_unref(r);
	diag_free(&d);
}
END_TEST

START_TEST(test_needs_footer)
{
	struct diag		 d = DIAG_INIT;
	struct rules		*r;
	struct rules_needs	 n;
	struct buf		 b = BUF_INIT;

	r = load("footer \"ref ${ref} for ${client_ip} at ${hostname}\"\n"
	    "limit c { count concurrent; key client_ip; max 3 }\n"
	    "rule h at helo monitor {\n\tif tls and limit c exceeded\n"
	    "\ttempfail 421 4.7.0 \"${limit.name} ${limit.window}\"\n}\n"
	    "rule d at data { header \"X-Seen\" \"${queue_id}\" }\n", &d);
	ck_assert_msg(r != NULL, "%s", buf_str(&d.out));
	rules_needs(r, &n);
	ck_assert_uint_eq(n.stages, (1u << STAGE_HELO) | (1u << STAGE_DATA));
	ck_assert(n.fact[F_CLIENT_IP] && n.fact[V_REF] && n.fact[V_HOSTNAME]);
	ck_assert(n.fact[F_TLS] && n.fact[V_LIMIT_NAME] && n.fact[V_LIMIT_WINDOW]);
	ck_assert(n.fact[V_QUEUE_ID] && !n.fact[V_RETRY_AFTER] && !n.fact[F_HELO]);
	ck_assert(!n.body && !n.header && !n.fact[F_SASL_USER]);
	ck_assert_ptr_nonnull(rules_footer(r));
	ck_assert_uint_eq(rules_nlimits(r), 1);
	ck_assert_str_eq(rules_limits(r)[0]->name, "c");
	ck_assert_uint_eq(rules_limits(r)[0]->max, 3);
	ck_assert(strstr(rules_path(r), "main.rules") != NULL);
	rules_summary(r, &b);
	ck_assert_str_eq(buf_str(&b), "2 rules (helo 1, data 1), 0 lists, 0 tables, 1 limit, 0 dnsbls");
	buf_free(&b);
	rules_unref(r);
	diag_free(&d);
}
END_TEST

START_TEST(test_limit_fields)
{
	struct diag		 d = DIAG_INIT;
	struct rules		*r;
	const struct rl_limit	*l;

	r = load("table t \"users.map\"\n"
	    "limit x { count recipients\n\tkey client_ip/24 /48 sasl_user+rcpt_domain\n"
	    "\trate 30/1m burst 10; rate 500/1d }\n"
	    "limit y { count concurrent; key client_ip; max 4; override t.n }\n", &d);
	ck_assert_msg(r != NULL, "%s", buf_str(&d.out));
	ck_assert_uint_eq(rules_nlimits(r), 2);
	l = rules_limits(r)[0];
	ck_assert_int_eq(l->count, RL_COUNT_RECIPIENTS);
	ck_assert_uint_eq(l->nkeys, 2);
	ck_assert_uint_eq(l->key[0].nparts, 1);
	ck_assert_uint_eq(l->key[0].v4len, 24);
	ck_assert_uint_eq(l->key[0].v6len, 48);
	ck_assert_uint_eq(l->key[1].nparts, 2);
	ck_assert_int_eq(l->key[1].part[0], RL_PART_SASL_USER);
	ck_assert_int_eq(l->key[1].part[1], RL_PART_RCPT_DOMAIN);
	ck_assert_uint_eq(l->nwindows, 2);
	ck_assert_uint_eq(l->window[0].n, 30);
	ck_assert_uint_eq(l->window[0].secs, 60);
	ck_assert_uint_eq(l->window[0].burst, 10);
	ck_assert_int_eq(l->window[0].burst_set, 1);
	ck_assert_uint_eq(l->window[1].burst, 500);
	ck_assert_uint_eq(l->window[1].secs, 86400);
	ck_assert_ptr_null(l->override);
	l = rules_limits(r)[1];
	ck_assert_uint_eq(l->max, 4);
	ck_assert_ptr_eq(l->override, rules_tables(r)[0]);
	ck_assert_str_eq(l->override_field, "n");
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
	ck_assert_str_eq(buf_str(&b), "1 rule (connect 1), 1 list, 0 tables, 0 limits, 0 dnsbls");
	rules_unref(r);
	buf_free(&b);
	diag_free(&d);
}
END_TEST

/* ---- conditions, one rule at a time ---- */

struct cenv {
	struct env_state base;
	const char	*hot;		/* names of exceeded limits, "a,b" */
	int		 limfail;	/* the limit callback fails */
	char		 calls[64];	/* limits asked, in order */
};

static int
cfact_cb(void *arg, int id, struct fact_value *v)
{
	return fact_cb(&((struct cenv *)arg)->base, id, v);
}

static int
climit_cb(void *arg, const struct rl_limit *l, struct rl_result *r)
{
	struct cenv	*e = arg;
	char		 want[16];

	if (e->limfail)
		return -1;
	(void)strlcat(e->calls, l->name, sizeof(e->calls));
	memset(r, 0, sizeof(*r));
	(void)snprintf(want, sizeof(want), ",%s,", l->name);
	if (e->hot != NULL) {
		char	hot[64];

		(void)snprintf(hot, sizeof(hot), ",%s,", e->hot);
		r->exceeded = strstr(hot, want) != NULL;
	}
	r->retry_after = r->exceeded ? (uint64_t)l->name[0] : 0;
	return 0;
}

static const char cond_head[] =
    "list nets { 192.0.2.0/24, 2001:db8::/32 }\n"
    "table users \"users.map\"\n"
    "limit a { count connections; key client_ip; rate 10/1m }\n"
    "limit b { count connections; key client_ip/24 /48; rate 10/1m }\n";

#define OR_AND	"client_name is a or client_name is b and daemon_name is d"
static const struct {
	const char	*cond;
	const char	*facts;
	const char	*hot;		/* exceeded limits */
	int		 want;
	const char	*limit;		/* the limit that made it match */
	const char	*calls;		/* limits asked, in order */
} cond_cases[] = {
	{ OR_AND, "client_name=a", NULL, 1, NULL, "" },
	{ OR_AND, "client_name=b", NULL, 0, NULL, "" },
	{ OR_AND, "client_name=b;daemon_name=d", NULL, 1, NULL, "" },
	{ "not client_name is a and daemon_name is d", "client_name=x;daemon_name=d",
	    NULL, 1, NULL, "" },
	{ "not client_name is a and daemon_name is d", "client_name=a;daemon_name=d",
	    NULL, 0, NULL, "" },
	{ "not (client_name is a or daemon_name is d)", "daemon_name=d", NULL, 0,
	    NULL, "" },
	{ "((((client_name))))", "client_name=x", NULL, 1, NULL, "" },
	{ "client_name", "", NULL, 0, NULL, "" },
	{ "tls", "tls=0", NULL, 0, NULL, "" },
	{ "tls", "tls=1", NULL, 1, NULL, "" },
	{ "not tls", "", NULL, 1, NULL, "" },
	{ "tls is no", "", NULL, 1, NULL, "" },
	{ "tls is YES", "tls=1", NULL, 1, NULL, "" },
	{ "tls is not yes", "", NULL, 1, NULL, "" },
	{ "tls is not no", "tls=1", NULL, 1, NULL, "" },
	{ "rcpt_count is 0", "rcpt_count=0", NULL, 1, NULL, "" },
	{ "rcpt_count is not 2", "rcpt_count=02", NULL, 0, NULL, "" },
	{ "rcpt_count", "rcpt_count=0", NULL, 0, NULL, "" },
	{ "client_ip", "client_ip=192.0.2.1", NULL, 1, NULL, "" },
	{ "client_ip", "", NULL, 0, NULL, "" },
	{ "client_ip is 2001:db8::1", "client_ip=2001:DB8:0:0::1", NULL, 1, NULL, "" },
	{ "client_ip is not 192.0.2.1", "client_ip=192.0.2.2", NULL, 1, NULL, "" },
	{ "client_name is not a", "", NULL, 1, NULL, "" },
	{ "client_name is a", "", NULL, 0, NULL, "" },
	{ "client_name is \"Mail.Example\"", "client_name=mail.example", NULL, 1, NULL, "" },
	{ "client_ip in nets", "client_ip=192.0.2.7", NULL, 1, NULL, "" },
	{ "client_ip in nets", "client_ip=198.51.100.1", NULL, 0, NULL, "" },
	{ "client_ip in users", "client_ip=198.51.100.9", NULL, 1, NULL, "" },
	{ "client_ip in users", "client_ip=192.0.2.9", NULL, 0, NULL, "" },
	{ "rcpt in { a@x.test, @y.test }", "rcpt=b@Y.test", NULL, 1, NULL, "" },
	{ "rcpt in { a@x.test, @y.test }", "rcpt=b@x.test", NULL, 0, NULL, "" },
	{ "rcpt not in { a@x.test } and rcpt", "rcpt=b@x.test", NULL, 1, NULL, "" },
	{ "rcpt not in { a@x.test } and rcpt", "rcpt=A@x.test", NULL, 0, NULL, "" },
	{ "client_ip not in nets", "client_ip=192.0.2.7", NULL, 0, NULL, "" },
	{ "rcpt in users", "rcpt=bob@example.com", NULL, 1, NULL, "" },
	{ "sasl_user in users", "sasl_user=alice", NULL, 1, NULL, "" },
	{ "helo =~ \"^mail[0-9]*\\\\.example$\"", "helo=MAIL7.example", NULL, 1, NULL, "" },
	{ "helo =~ \"^mail[0-9]*\\\\.example$\"", "helo=mail7xexample", NULL, 0, NULL, "" },
	{ "client_name =~ \"^$\"", "", NULL, 1, NULL, "" },
	{ "helo =~ \"^[[:alpha:]]+(\\\\.[]a-z0-9-]+){1,10}$\"", "helo=mail.Example.com",
	    NULL, 1, NULL, "" },
	{ "helo =~ \"^[[:alpha:]]+(\\\\.[]a-z0-9-]+){1,10}$\"", "helo=mail.ex_ample",
	    NULL, 0, NULL, "" },
	{ "rcpt_count <= 2", "rcpt_count=2", NULL, 1, NULL, "" },
	{ "rcpt_count < 2", "rcpt_count=2", NULL, 0, NULL, "" },
	{ "rcpt_count > -1", "rcpt_count=0", NULL, 1, NULL, "" },
	{ "rcpt_count == 7", "rcpt_count=7", NULL, 1, NULL, "" },
	{ "rcpt_count > 1", "", NULL, 0, NULL, "" },
	{ "limit a exceeded or limit b exceeded", "", "b", 1, "b", "ab" },
	{ "limit a exceeded or limit b exceeded", "", "a,b", 1, "a", "a" },
	{ "limit a exceeded and limit b exceeded", "", "a,b", 1, "a", "ab" },
	{ "limit a exceeded and limit b exceeded", "", "b", 0, NULL, "a" },
	{ "not limit a exceeded", "", "", 1, NULL, "a" },
	{ "client_name is x and limit a exceeded or limit b exceeded", "", "a,b", 1,
	    "b", "b" },
	{ "client_name and (limit a exceeded or limit b exceeded)", "client_name=n",
	    "b", 1, "b", "ab" },
};

START_TEST(test_cond)
{
	struct diag		 d = DIAG_INIT;
	struct buf		 text = BUF_INIT;
	struct rules		*r;
	struct cenv		 e;
	struct rules_env	 env = { &e, cfact_cb, climit_cb, matched_cb, NULL };
	struct rules_match	 m;
	char			 buf[256];
	int			 got;

	buf_printf(&text, "%srule t at rcpt {\n\tif %s\n\ttempfail 451 4.7.1 \"x\"\n}\n",
	    cond_head, cond_cases[_i].cond);
	r = load(buf_str(&text), &d);
	ck_assert_msg(r != NULL, "%s", buf_str(&d.out));
	memset(&e, 0, sizeof(e));
	set_facts(&e.base, cond_cases[_i].facts, buf, sizeof(buf));
	e.hot = cond_cases[_i].hot;
	memset(&m, 0, sizeof(m));
	got = rules_eval(r, STAGE_RCPT, &env, &m);
	ck_assert_int_eq(got, cond_cases[_i].want);
	ck_assert_str_eq(e.calls, cond_cases[_i].calls);
	if (cond_cases[_i].limit == NULL)
		ck_assert_ptr_null(got == 1 ? m.limit : NULL);
	else {
		ck_assert_ptr_nonnull(m.limit);
		ck_assert_str_eq(m.limit->name, cond_cases[_i].limit);
		ck_assert_uint_eq(m.limit_result.retry_after,
		    (uint64_t)cond_cases[_i].limit[0]);
	}
	e.limfail = 1;
	e.calls[0] = '\0';
	if (cond_cases[_i].calls[0] != '\0')
		ck_assert_int_eq(rules_eval(r, STAGE_RCPT, &env, &m), -1);
	rules_unref(r);
	buf_free(&text);
	diag_free(&d);
}
END_TEST

/* ---- the flow of one stage: monitor, non-terminal actions, order ---- */

static void
flow_matched(void *arg, const struct rules_match *m)
{
	struct env_state *e = arg;
	static const char *names[] = { "none", "accept", "tempfail", "reject",
				       "log", "header" };

	(void)strlcat(e->matched, m->rule, sizeof(e->matched));
	(void)strlcat(e->matched, ":", sizeof(e->matched));
	(void)strlcat(e->matched, names[m->action], sizeof(e->matched));
	if (m->action == RA_HEADER) {
		(void)strlcat(e->matched, "=", sizeof(e->matched));
		(void)strlcat(e->matched, m->header_name, sizeof(e->matched));
	}
	(void)strlcat(e->matched, m->monitor ? "(m) " : " ", sizeof(e->matched));
}

static const char flow_rules[] =
    "rule m1 at rcpt monitor { tempfail 451 4.7.1 \"m\" }\n"
    "rule h1 at rcpt {\n\tif rcpt is a@x.test\n\theader \"X-Tag\" \"t\"\n"
    "\ttempfail 451 4.7.1 \"h\"\n\tlog \"after\"\n}\n"
    "rule l1 at rcpt { if rcpt is b@x.test; log \"b\" }\n"
    "rule d1 at rcpt { if rcpt is b@x.test; reject 550 5.7.1 \"first\" }\n"
    "rule d2 at rcpt { if rcpt is b@x.test; reject 550 5.7.1 \"second\" }\n"
    "rule c1 at connect { accept }\n"
    "rule e1 at eom monitor { if size > 10; reject 554 5.7.1 \"big\" }\n";

static const struct {
	enum stage	 stage;
	const char	*facts;
	int		 rc;
	const char	*rule;
	const char	*code;
	const char	*matched;
} flow_cases[] = {
	{ STAGE_RCPT, "rcpt=a@x.test", 1, "h1", "451",
	    "m1:tempfail(m) h1:header=X-Tag h1:log " },
	{ STAGE_RCPT, "rcpt=b@x.test", 1, "d1", "550", "m1:tempfail(m) l1:log " },
	{ STAGE_RCPT, "rcpt=c@x.test", 0, NULL, NULL, "m1:tempfail(m) " },
	{ STAGE_CONNECT, "", 1, "c1", "", "" },
	{ STAGE_MAIL, "rcpt=a@x.test", 0, NULL, NULL, "" },
	{ STAGE_EOM, "size=11", 0, NULL, NULL, "e1:reject(m) " },
	{ STAGE_EOM, "size=10", 0, NULL, NULL, "" },
};

START_TEST(test_flow)
{
	struct diag		 d = DIAG_INIT;
	struct rules		*r = load(flow_rules, &d);
	struct env_state	 e;
	struct rules_env	 env = { &e, fact_cb, limit_cb, flow_matched, NULL };
	struct rules_match	 m;
	char			 buf[256];

	ck_assert_msg(r != NULL, "%s", buf_str(&d.out));
	memset(&e, 0, sizeof(e));
	set_facts(&e, flow_cases[_i].facts, buf, sizeof(buf));
	memset(&m, 0, sizeof(m));
	ck_assert_int_eq(rules_eval(r, flow_cases[_i].stage, &env, &m),
	    flow_cases[_i].rc);
	ck_assert_str_eq(e.matched, flow_cases[_i].matched);
	if (flow_cases[_i].rc == 1) {
		ck_assert_str_eq(m.rule, flow_cases[_i].rule);
		ck_assert_str_eq(m.code, flow_cases[_i].code);
		ck_assert_int_eq(m.monitor, 0);
		ck_assert_ptr_null(m.limit);
		ck_assert_uint_eq(m.stage, flow_cases[_i].stage);
		ck_assert(strstr(m.file, "main.rules") != NULL);
	}
	rules_unref(r);
	diag_free(&d);
}
END_TEST

/* ---- bounds: oversized input is refused, not truncated ---- */

enum { B_STRING, B_WORD, B_PARENS, B_TERMS, B_NOTS, B_FILE, B_INCLUDES };

static const struct {
	int		 kind;
	const char	*what;
} bound_cases[] = {
	{ B_STRING, "string longer than 4096" },
	{ B_WORD, "word longer than 4096" },
	{ B_PARENS, "nested deeper than 64" },
	{ B_TERMS, "longer than 256 terms" },
	{ B_NOTS, "nested deeper than 64" },
	{ B_FILE, "larger than 4194304 bytes" },
	{ B_INCLUDES, "includes nested deeper than 16" },
};

/* bound_text -- a rules file that breaks one bound */
static void
bound_text(int kind, struct buf *b)
{
	int	i;
	char	name[32], text[64];

	switch (kind) {
	case B_STRING:
	case B_WORD:
		buf_puts(b, kind == B_STRING ? "footer \"" : "footer ");
		for (i = 0; i < 4097; i++)
			buf_putc(b, 'x');
		buf_puts(b, kind == B_STRING ? "\"\n" : "\n");
		break;
	case B_PARENS:
	case B_TERMS:
	case B_NOTS:
		buf_puts(b, "rule r at rcpt {\n\tif ");
		for (i = 0; i < (kind == B_TERMS ? 300 : 70); i++)
			buf_puts(b, kind == B_PARENS ? "(" : kind == B_NOTS ?
			    "not " : "rcpt and ");
		buf_puts(b, "rcpt\n\taccept\n}\n");
		break;
	case B_FILE:
		for (i = 0; i < 4 * 1024 * 1024 / 32 + 1; i++)
			buf_puts(b, "# ..............................\n");
		break;
	default:
		for (i = 0; i < 20; i++) {
			(void)snprintf(name, sizeof(name), "inc%d.rules", i);
			(void)snprintf(text, sizeof(text), "include \"inc%d.rules\"\n", i + 1);
			write_file(name, text);
		}
		buf_puts(b, "include \"inc0.rules\"\n");
	}
}

START_TEST(test_bounds)
{
	struct diag	 d = DIAG_INIT;
	struct buf	 text = BUF_INIT;
	struct rules	*r;

	bound_text(bound_cases[_i].kind, &text);
	r = load(buf_str(&text), &d);
	ck_assert_ptr_null(r);
	ck_assert_msg(strstr(buf_str(&d.out), bound_cases[_i].what) != NULL,
	    "want %s, got: %.300s", bound_cases[_i].what, buf_str(&d.out));
	buf_free(&text);
	diag_free(&d);
}
END_TEST

/* errors in included files, and every error of several files, are reported */
START_TEST(test_include_errors)
{
	struct diag	 d = DIAG_INIT;
	struct rules	*r;
	char		 want[300];

	(void)snprintf(want, sizeof(want), "%s/sub", dir);
	ck_assert_int_eq(mkdir(want, 0700), 0);
	write_file("sub/a.rules", "list x { 1.2.3.4/99 }\ninclude \"b.rules\"\n");
	write_file("sub/b.rules", "include \"a.rules\"\nbogus\n");
	r = load("include \"sub/a.rules\"\nrule r at rcpt { if rcpt in x; accept }\n"
	    "also bogus\n", &d);
	ck_assert_ptr_null(r);
	ck_assert_uint_eq(d.errors, 4);
	(void)snprintf(want, sizeof(want), "%s/sub/a.rules:1:10: error:", dir);
	ck_assert_msg(strstr(buf_str(&d.out), want) != NULL, "%s", buf_str(&d.out));
	(void)snprintf(want, sizeof(want), "%s/sub/b.rules:1:1: error: include loop", dir);
	ck_assert_msg(strstr(buf_str(&d.out), want) != NULL, "%s", buf_str(&d.out));
	(void)snprintf(want, sizeof(want), "%s/sub/b.rules:2:1: error: expected a statement",
	    dir);
	ck_assert_msg(strstr(buf_str(&d.out), want) != NULL, "%s", buf_str(&d.out));
	(void)snprintf(want, sizeof(want), "%s/main.rules:3:1: error:", dir);
	ck_assert_msg(strstr(buf_str(&d.out), want) != NULL, "%s", buf_str(&d.out));
	diag_free(&d);
}
END_TEST

/* shipped -- a shipped rules file loads cleanly */
static void
shipped(const char *rel)
{
	const char	*src = getenv("srcdir"), *here = __FILE__;
	struct diag	 d = DIAG_INIT;
	struct rules	*r;
	char		 p[512];
	size_t		 n = strlen(here);

	/* make check sets srcdir; run by hand, the source file's own path */
	if (src != NULL)
		(void)snprintf(p, sizeof(p), "%s/%s", src, rel);
	else if (n > 23 && strcmp(here + n - 23, "tests/unit/test_rules.c") == 0)
		(void)snprintf(p, sizeof(p), "%.*s%s", (int)(n - 23), here, rel);
	else
		(void)snprintf(p, sizeof(p), "../../%s", rel);
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

/* ---- a file that changes while it is read is an error, never a partial load ---- */

static const char *hook_target;	/* the file the hook changes */
static int	 hook_kind;		/* 0 grow, 1 shrink, 2 replace, 3 replace once */
static int	 hook_done;		/* kind 3: the replacement was made */

/* rename_over -- a new file with text, renamed over p */
static void
rename_over(const char *p, const char *text)
{
	char	q[256];
	FILE	*f;

	(void)snprintf(q, sizeof(q), "%s/replacement", dir);
	f = fopen(q, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
	ck_assert_int_eq(rename(q, p), 0);
}

/* change_hook -- between fstat and read: change the target file */
static void
change_hook(const char *path)
{
	char	p[256];
	FILE	*f;

	if (hook_target == NULL || strstr(path, hook_target) == NULL)
		return;
	(void)snprintf(p, sizeof(p), "%s/%s", dir, hook_target);
	if (hook_kind == 0) {
		f = fopen(p, "a");
		ck_assert_ptr_nonnull(f);
		fputs("# grown while read\n", f);
		fclose(f);
	} else if (hook_kind == 1)
		ck_assert_int_eq(truncate(p, 3), 0);
	else if (hook_kind == 3) {
		if (hook_done++ == 0)
			rename_over(p, "c@example.com\n");
	} else
		rename_over(p, "# same size?\n");
}

static const struct {
	const char	*target;	/* the file that changes */
	int		 kind;
} change_cases[] = {
	{ "main.rules", 0 }, { "main.rules", 1 }, { "main.rules", 2 },
	{ "inc.rules", 0 }, { "inc.rules", 1 }, { "inc.rules", 2 },
	{ "l.txt", 0 }, { "l.txt", 1 }, { "l.txt", 2 },
	{ "t.map", 0 }, { "t.map", 1 }, { "t.map", 2 },
};

START_TEST(test_changed_while_read)
{
	struct diag	 d = DIAG_INIT;
	struct rules	*r;
	char		 want[300];

	write_file("inc.rules", R("rcpt in l"));
	write_file("l.txt", "a@example.com\nb@example.com\n");
	write_file("t.map", "alice n=5\nbob n=6\n");
	hook_target = change_cases[_i].target;
	hook_kind = change_cases[_i].kind;
	file_set_hook(change_hook);
	r = load("list l file \"l.txt\"\ntable t \"t.map\"\ninclude \"inc.rules\"\n"
	    "rule s at rcpt {\n\tif rcpt in t\n\taccept\n}\n", &d);
	file_set_hook(NULL);
	/* got: a partial or changed load; want: refused, naming the file */
	ck_assert_ptr_null(r);
	(void)snprintf(want, sizeof(want), "%s/%s: error: changed while being "
	    "read", dir, change_cases[_i].target);
	ck_assert_msg(strstr(buf_str(&d.out), want) != NULL, "want %s, got: %s",
	    want, buf_str(&d.out));
	diag_free(&d);
}
END_TEST

/*
 * a new version renamed into place once, while the old one is read (an
 * admin's `mv new old` during a reload), is read again: the new one loads
 */
START_TEST(test_renamed_while_read)
{
	struct diag	 d = DIAG_INIT;
	struct rules	*r;

	write_file("l.txt", "a@example.com\nb@example.com\n");
	hook_target = "l.txt";
	hook_kind = 3;
	hook_done = 0;
	file_set_hook(change_hook);
	r = load("list l file \"l.txt\"\n" R("rcpt in l"), &d);
	file_set_hook(NULL);
	ck_assert_msg(r != NULL && d.errors == 0, "%s", buf_str(&d.out));
	ck_assert_int_eq(hook_done, 2);		/* read twice: old, then new */
	rules_unref(r);
	diag_free(&d);
}
END_TEST

/* a file whose size says 0 but that reads more (procfs) is refused too */
START_TEST(test_size_lies)
{
	struct diag	 d = DIAG_INIT;
	struct rules	*r;

	r = load("include \"/proc/sys/kernel/ostype\"\n" R("rcpt"), &d);
	ck_assert_ptr_null(r);
	ck_assert_msg(strstr(buf_str(&d.out), "/proc/sys/kernel/ostype: error: "
	    "changed while being read") != NULL, "got: %s", buf_str(&d.out));
	diag_free(&d);
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
	tcase_add_test(tc, test_non_ascii);
	tcase_add_loop_test(tc, test_eval, 0, sizeof(eval_cases) / sizeof(eval_cases[0]));
	tcase_add_test(tc, test_eval_error);
	tcase_add_test(tc, test_trace);
	tcase_add_test(tc, test_dnsbl_rules);
	tcase_add_test(tc, test_needs_and_summary);
	tcase_add_test(tc, test_include_glob);
	tcase_add_test(tc, test_needs_footer);
	tcase_add_test(tc, test_limit_fields);
	tcase_add_test(tc, test_shipped);
	tcase_add_loop_test(tc, test_cond, 0, sizeof(cond_cases) / sizeof(cond_cases[0]));
	tcase_add_loop_test(tc, test_flow, 0, sizeof(flow_cases) / sizeof(flow_cases[0]));
	tcase_add_loop_test(tc, test_bounds, 0, sizeof(bound_cases) / sizeof(bound_cases[0]));
	tcase_add_test(tc, test_include_errors);
	tcase_add_loop_test(tc, test_changed_while_read, 0,
	    sizeof(change_cases) / sizeof(change_cases[0]));
	tcase_add_test(tc, test_renamed_while_read);
	tcase_add_test(tc, test_size_lies);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
