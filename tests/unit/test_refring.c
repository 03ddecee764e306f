/*
 * test_refring -- the ring of recent decisions: insertion and lookup,
 * overwrite and eviction (the index forgets what left the ring), no
 * ring at size 0, the bounds of a record (long values cut with "...",
 * facts left out), a decision recorded through verdict.c with the facts
 * its rule used, the text and JSON forms, and writers racing readers.
 */
#include "config.h"

#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "facts.h"
#include "log.h"
#include "refring.h"
#include "refshow.h"
#include "verdict.h"

/* mkref -- a reference of the number i (valid Crockford base32) */
static void
mkref(unsigned i, char *out)
{
	static const char b32[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
	int	k;

	for (k = REFSHOW_REF_LEN - 1; k >= 0; k--, i /= 32)
		out[k] = b32[i % 32];
	out[REFSHOW_REF_LEN] = '\0';
}

/* put -- a small decision with reference number i */
static void
put(unsigned i)
{
	struct refshow	s;
	char		ref[REFSHOW_REF_LEN + 1], rule[32];

	mkref(i, ref);
	(void)snprintf(rule, sizeof(rule), "rule%u", i);
	memset(&s, 0, sizeof(s));
	s.has_time = 1;
	s.time = 1700000000 + i;
	s.f[RS_REF] = ref;
	s.f[RS_RULE] = rule;
	s.f[RS_STAGE] = "rcpt";
	refring_put(&s);
}

/* has -- is reference number i kept (with its own rule)? */
static int
has(unsigned i)
{
	struct refshow	 s;
	char		 ref[REFSHOW_REF_LEN + 1], rule[32];
	void		*b;
	int		 ok;

	mkref(i, ref);
	if ((b = refring_get(ref, &s)) == NULL)
		return 0;
	(void)snprintf(rule, sizeof(rule), "rule%u", i);
	ok = strcmp(s.f[RS_RULE], rule) == 0 && strcmp(s.f[RS_REF], ref) == 0 &&
	    s.time == 1700000000 + (int64_t)i && s.f[RS_HELO] == NULL;
	free(b);
	return ok ? 1 : -1;
}

START_TEST(test_put_get)
{
	unsigned	i;

	refring_init(100);
	ck_assert_uint_eq(refring_size(), 100);
	for (i = 0; i < 50; i++)
		put(i);
	for (i = 0; i < 50; i++)
		ck_assert_int_eq(has(i), 1);
	ck_assert_int_eq(has(50), 0);
	refring_deinit();
}
END_TEST

START_TEST(test_overwrite)
{
	unsigned	i;

	/* 7 slots, 64 buckets: chains and wraps both exercised */
	refring_init(7);
	for (i = 0; i < 1000; i++) {
		put(i);
		ck_assert_int_eq(has(i), 1);
		if (i >= 7)
			ck_assert_int_eq(has(i - 7), 0);
	}
	for (i = 993; i < 1000; i++)
		ck_assert_int_eq(has(i), 1);
	for (i = 0; i < 993; i++)
		ck_assert_int_eq(has(i), 0);
	refring_deinit();
}
END_TEST

START_TEST(test_size_zero)
{
	refring_init(0);
	ck_assert_uint_eq(refring_size(), 0);
	put(1);
	ck_assert_int_eq(has(1), 0);
	refring_deinit();
	/* never set up: the default, from the first decision on */
	ck_assert_uint_eq(refring_size(), REFRING_DEFAULT);
	put(2);
	ck_assert_int_eq(has(2), 1);
	refring_deinit();
}
END_TEST

START_TEST(test_bounds)
{
	struct refshow	 s, g;
	char		 ref[REFSHOW_REF_LEN + 1], big[5000], names[80][16];
	char		*utf;
	void		*b;
	size_t		 i, total;

	refring_init(4);
	mkref(77, ref);
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	memset(&s, 0, sizeof(s));
	s.has_time = 1;
	s.f[RS_REF] = ref;
	s.f[RS_RULE] = "r";
	s.f[RS_REPLY] = big;
	s.f[RS_FROM] = big;
	/* a 2-byte character across the cut: never split */
	utf = strdup(big);
	for (i = 0; i + 1 < REFRING_VAL_MAX + 10; i += 2)
		memcpy(utf + i + 1, "\xc3\xa9", 2);
	s.f[RS_HELO] = utf;
	for (i = 0; i < REFSHOW_FACTS_MAX; i++) {
		(void)snprintf(names[i], sizeof(names[i]), "fact%zu", i);
		s.fact_name[i] = names[i];
		s.fact_value[i] = big;
	}
	s.nfacts = REFSHOW_FACTS_MAX;
	refring_put(&s);
	ck_assert_ptr_nonnull(b = refring_get(ref, &g));
	ck_assert_str_eq(g.f[RS_REF], ref);
	ck_assert_str_eq(g.f[RS_RULE], "r");
	ck_assert_uint_eq(strlen(g.f[RS_REPLY]), REFRING_LONG_MAX);
	ck_assert_str_eq(g.f[RS_REPLY] + REFRING_LONG_MAX - 3, "...");
	ck_assert_uint_eq(strlen(g.f[RS_FROM]), REFRING_VAL_MAX);
	ck_assert_str_eq(g.f[RS_FROM] + REFRING_VAL_MAX - 3, "...");
	ck_assert_uint_le(strlen(g.f[RS_HELO]), REFRING_VAL_MAX);
	ck_assert_str_eq(g.f[RS_HELO] + strlen(g.f[RS_HELO]) - 3, "...");
	ck_assert_int_eq((unsigned char)g.f[RS_HELO][strlen(g.f[RS_HELO]) - 4],
	    0xa9);
	/* some facts fit, the rest are announced as left out */
	ck_assert_uint_gt(g.nfacts, 1);
	ck_assert_uint_lt(g.nfacts, REFSHOW_FACTS_MAX);
	ck_assert_str_eq(g.fact_name[0], "fact0");
	ck_assert_str_eq(g.fact_name[g.nfacts - 1], "...");
	ck_assert_str_eq(g.fact_value[g.nfacts - 1], "(more facts left out)");
	total = 0;
	for (i = 0; i < RS_NFIELDS; i++)
		total += g.f[i] != NULL ? strlen(g.f[i]) + 1 : 0;
	for (i = 0; i < g.nfacts; i++)
		total += strlen(g.fact_name[i]) + strlen(g.fact_value[i]) + 2;
	ck_assert_uint_le(total, REFRING_REC_MAX);
	free(b);
	free(utf);
	refring_deinit();
}
END_TEST

START_TEST(test_parse_ref)
{
	static const struct {
		const char	*in;
		const char	*want;	/* NULL: refused */
	} c[] = {
		{ "0K4QZ7D2M8XA", "0K4QZ7D2M8XA" },
		{ "0k4qz7d2m8xa", "0K4QZ7D2M8XA" },
		{ "OK4QZ7D2M8XI", "0K4QZ7D2M8X1" },	/* O, I read as 0, 1 */
		{ "0K4QZ7D2M8XU", NULL },		/* no U */
		{ "0K4QZ7D2M8X", NULL },
		{ "0K4QZ7D2M8XAB", NULL },
		{ "0K4QZ7D2M8X-", NULL },
		{ "", NULL },
	};
	char	got[REFSHOW_REF_LEN + 1];
	size_t	i;

	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		if (c[i].want == NULL) {
			ck_assert_int_eq(refshow_parse_ref(c[i].in, got), -1);
			continue;
		}
		ck_assert_int_eq(refshow_parse_ref(c[i].in, got), 0);
		ck_assert_str_eq(got, c[i].want);
	}
}
END_TEST

/* value -- the session's side of the decision below */
static void
value(void *arg, int id, struct buf *out)
{
	(void)arg;
	switch (id) {
	case F_CLIENT_IP:
		buf_puts(out, "192.0.2.7");
		break;
	case F_DNSBL_SCORE:
		buf_puts(out, "4");
		break;
	case F_HELO:
		buf_puts(out, "bad\x01helo");
		break;
	}
}

START_TEST(test_decision)
{
	struct verdict		 v;
	struct verdict_src	 src;
	struct rules_match	 m;
	struct rl_limit		 lim;
	struct refshow		 s;
	struct buf		 logs = BUF_INIT, txt = BUF_INIT, js = BUF_INIT;
	unsigned char		 used[F_COUNT];
	void			*b;
	char			 ref[REFSHOW_REF_LEN + 1];

	refring_init(10);
	memset(&src, 0, sizeof(src));
	src.value = value;
	src.queue_id = NULL;
	src.client_name = "mail.example.com";
	src.client_ip = "192.0.2.7";
	src.helo = "bad\x01helo";
	src.mail_from = "a@example.com";
	src.rcpt = "b@example.org";
	src.sasl_user = "";
	src.spf = "pass";
	src.dnsbl = "bl:SBL/XBL(+4),wl:x(-2),broken:failed";
	memset(used, 0, sizeof(used));
	used[F_CLIENT_IP] = used[F_DNSBL_SCORE] = used[F_HELO] = 1;
	used[F_DNSBL_LIST] = used[F_DNSBL_LABEL] = 1;
	used[V_REF] = used[V_LIMIT_MAX] = used[V_RETRY_AFTER] = 1;
	memset(&lim, 0, sizeof(lim));
	lim.name = "per_ip";
	memset(&m, 0, sizeof(m));
	m.rule = "listed";
	m.stage = STAGE_RCPT;
	m.action = RA_TEMPFAIL;
	m.code = "451";
	m.ecode = "4.7.1";
	m.used = used;
	m.limit = &lim;
	m.limit_result.count = 11;
	m.limit_result.max = 10;
	m.limit_result.window = 3600;
	m.limit_result.retry_after = 300;
	verdict_init(&v);
	log_capture(&logs);
	ck_assert_int_eq(verdict_decide(&v, &m, &src), 1);
	log_capture(NULL);
	ck_assert_ptr_nonnull(b = refring_get(v.ref, &s));
	ck_assert_str_eq(s.f[RS_QID], "NOQUEUE");
	ck_assert_str_eq(s.f[RS_STAGE], "rcpt");
	ck_assert_str_eq(s.f[RS_RULE], "listed");
	ck_assert_str_eq(s.f[RS_ACTION], "tempfail");
	ck_assert_ptr_nonnull(strstr(s.f[RS_REPLY], v.ref));
	ck_assert_str_eq(s.f[RS_CLIENT_NAME], "mail.example.com");
	ck_assert_str_eq(s.f[RS_FROM], "a@example.com");
	ck_assert_str_eq(s.f[RS_RCPT], "b@example.org");
	ck_assert_ptr_null(s.f[RS_SASL]);
	ck_assert_str_eq(s.f[RS_SPF], "pass");
	ck_assert_str_eq(s.f[RS_LIMIT], "per_ip:11/10/1h");
	ck_assert_uint_eq(s.nfacts, 9);
	ck_assert_str_eq(s.fact_name[0], "client_ip");
	ck_assert_str_eq(s.fact_value[0], "192.0.2.7");
	ck_assert_str_eq(s.fact_name[1], "dnsbl.score");
	ck_assert_str_eq(s.fact_value[1], "4");
	ck_assert_str_eq(s.fact_name[2], "helo");
	ck_assert_str_eq(s.fact_name[3], "retry_after");
	ck_assert_str_eq(s.fact_value[3], "300");
	ck_assert_str_eq(s.fact_name[4], "limit.max");
	ck_assert_str_eq(s.fact_value[4], "10");
	ck_assert_str_eq(s.fact_name[5], "dnsbl.bl");
	ck_assert_str_eq(s.fact_value[5], "4");
	ck_assert_str_eq(s.fact_name[6], "dnsbl.bl.label");
	ck_assert_str_eq(s.fact_value[6], "SBL,XBL");
	ck_assert_str_eq(s.fact_name[7], "dnsbl.wl");
	ck_assert_str_eq(s.fact_value[7], "-2");
	ck_assert_str_eq(s.fact_name[8], "dnsbl.wl.label");
	ck_assert_str_eq(s.fact_value[8], "x");
	/* the text form escapes, the JSON form is one object */
	refshow_text(&s, &txt);
	ck_assert_ptr_nonnull(strstr(buf_str(&txt), "\nrule: listed\n"));
	ck_assert_ptr_nonnull(strstr(buf_str(&txt), "\nhelo: bad\\x01helo\n"));
	ck_assert_ptr_nonnull(strstr(buf_str(&txt), "\nfrom: a@example.com\n"));
	ck_assert_ptr_nonnull(strstr(buf_str(&txt),
	    "\nfacts:\n    client_ip: 192.0.2.7\n    dnsbl.score: 4\n"));
	refshow_json(&s, &js);
	ck_assert_ptr_nonnull(strstr(buf_str(&js), "\"helo\": \"bad\\u0001helo\""));
	ck_assert_ptr_nonnull(strstr(buf_str(&js),
	    "\"facts\": {\"client_ip\": \"192.0.2.7\", \"dnsbl.score\": \"4\""));
	ck_assert_ptr_nonnull(strstr(buf_str(&js), "\"sasl\": null"));
	free(b);
	/* a decision that only logs is kept as well; an unknown ref is not */
	m.action = RA_LOG;
	m.used = NULL;
	m.limit = NULL;
	log_capture(&logs);
	verdict_note(&m, &src, NULL);
	verdict_internal(&v, STAGE_MAIL, 0, &src);
	log_capture(NULL);
	ck_assert_ptr_nonnull(b = refring_get(v.ref, &s));
	ck_assert_str_eq(s.f[RS_RULE], "internal-error");
	ck_assert_uint_eq(s.nfacts, 0);
	free(b);
	mkref(5, ref);
	ck_assert_ptr_null(refring_get(ref, &s));
	verdict_clear(&v);
	buf_free(&logs);
	buf_free(&txt);
	buf_free(&js);
	refring_deinit();
}
END_TEST

/* writer -- many decisions from one thread */
static void *
writer(void *arg)
{
	unsigned	base = *(unsigned *)arg, i;

	for (i = 0; i < 20000; i++)
		put(base + i);
	return NULL;
}

/* reader -- lookups racing the writers: a hit is always whole */
static void *
reader(void *arg)
{
	unsigned	i;
	int		*bad = arg;

	for (i = 0; i < 40000; i++)
		if (has(i % 60000) == -1)
			(*bad)++;
	return NULL;
}

START_TEST(test_threads)
{
	pthread_t	t[4];
	unsigned	base[3] = { 0, 20000, 40000 };
	int		i, bad = 0;

	refring_init(1000);
	for (i = 0; i < 3; i++)
		ck_assert_int_eq(pthread_create(&t[i], NULL, writer, &base[i]), 0);
	ck_assert_int_eq(pthread_create(&t[3], NULL, reader, &bad), 0);
	for (i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	ck_assert_int_eq(bad, 0);
	/* the last 1000 of 60000 are kept, exactly */
	for (i = 0, bad = 0; i < 60000; i++)
		bad += has((unsigned)i) == 1;
	ck_assert_int_eq(bad, 1000);
	refring_deinit();
}
END_TEST

static Suite *
suite(void)
{
	Suite	*s = suite_create("refring");
	TCase	*tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_put_get);
	tcase_add_test(tc, test_overwrite);
	tcase_add_test(tc, test_size_zero);
	tcase_add_test(tc, test_bounds);
	tcase_add_test(tc, test_parse_ref);
	tcase_add_test(tc, test_decision);
	tcase_add_test(tc, test_threads);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr = srunner_create(suite());
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
