/*
 * test_stats -- the counters (milter/stats.c) and their Prometheus text
 * (milter/metrics.c): labels kept apart, the bounds of the tables (past
 * them: "other", totals kept), the latency buckets at their edges, the
 * escaping of label values, and the HTTP answers (200, 404, 405, 400).
 */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "engine.h"
#include "metrics.h"
#include "stats.h"

/* engine_connections -- a double of the engine's: 3 connections open */
unsigned
engine_connections(void)
{
	return 3;
}

/* a decision series as read back */
struct got {
	struct buf	text;		/* "rule/stage/action=n\n" ... */
	size_t		n;
	uint64_t	total;
};

static void
collect(void *arg, const char *rule, const char *stage, const char *action,
    uint64_t n)
{
	struct got	*g = arg;

	buf_printf(&g->text, "%s/%s/%s=%llu\n", rule, stage, action,
	    (unsigned long long)n);
	g->n++;
	g->total += n;
}

static void
collect_dns(void *arg, const char *list, const struct stats_dns *d)
{
	struct buf	*b = arg;

	buf_printf(b, "%s q=%llu h=%llu t=%llu e=%llu\n", list,
	    (unsigned long long)d->queries, (unsigned long long)d->cache_hits,
	    (unsigned long long)d->timeouts, (unsigned long long)d->errors);
}

static void
collect_auth(void *arg, const char *method, const char *result, uint64_t n)
{
	struct buf	*b = arg;

	buf_printf(b, "%s=%s:%llu\n", method, result, (unsigned long long)n);
}

START_TEST(test_decisions)
{
	struct got	g = { BUF_INIT, 0, 0 };

	stats_deinit();
	stats_decision("listed", "rcpt", "tempfail");
	stats_decision("listed", "rcpt", "tempfail");
	stats_decision("listed", "rcpt", "would_tempfail");
	stats_decision("listed", "mail", "tempfail");
	stats_decision("auth", "mail", "reject");
	stats_each_decision(collect, &g);
	ck_assert_str_eq(buf_str(&g.text),
	    "listed/rcpt/tempfail=2\nlisted/rcpt/would_tempfail=1\n"
	    "listed/mail/tempfail=1\nauth/mail/reject=1\n");
	buf_free(&g.text);
}
END_TEST

/* beyond STATS_MAX_DECISIONS: rule "other", then every label "other" */
START_TEST(test_bounds)
{
	struct got	g = { BUF_INIT, 0, 0 };
	char		rule[32], stage[32], want[64];
	unsigned	i;

	stats_deinit();
	for (i = 0; i < STATS_MAX_DECISIONS + 300; i++) {
		(void)snprintf(rule, sizeof(rule), "r%u", i);
		stats_decision(rule, "rcpt", "tempfail");
	}
	stats_each_decision(collect, &g);
	ck_assert_uint_eq(g.n, STATS_MAX_DECISIONS + 1);
	ck_assert_uint_eq(g.total, STATS_MAX_DECISIONS + 300);
	ck_assert_ptr_nonnull(strstr(buf_str(&g.text),
	    "\nother/rcpt/tempfail=300\n"));
	ck_assert_ptr_null(strstr(buf_str(&g.text), "r2100/"));
	/* a rule counted before the table filled keeps its own series */
	stats_decision("r7", "rcpt", "tempfail");
	/* other stages: a few more sets, then all of it under other */
	for (i = 0; i < 1000; i++) {
		(void)snprintf(rule, sizeof(rule), "x%u", i);
		(void)snprintf(stage, sizeof(stage), "s%u", i);
		stats_decision(rule, stage, "reject");
	}
	buf_reset(&g.text);
	g.n = g.total = 0;
	stats_each_decision(collect, &g);
	ck_assert_uint_le(g.n, STATS_MAX_DECISIONS + 200);
	ck_assert_uint_eq(g.total, STATS_MAX_DECISIONS + 300 + 1 + 1000);
	ck_assert_ptr_nonnull(strstr(buf_str(&g.text),
	    "\nr7/rcpt/tempfail=2\n"));
	ck_assert_ptr_nonnull(strstr(buf_str(&g.text),
	    "\nother/s0/reject=1\n"));
	(void)snprintf(want, sizeof(want), "\nother/other/other=");
	ck_assert_ptr_nonnull(strstr(buf_str(&g.text), want));
	buf_free(&g.text);
}
END_TEST

/* a label longer than the bound is counted as "other" */
START_TEST(test_long_label)
{
	struct got	g = { BUF_INIT, 0, 0 };
	char		rule[300];

	stats_deinit();
	memset(rule, 'a', sizeof(rule) - 1);
	rule[sizeof(rule) - 1] = '\0';
	stats_decision(rule, "eom", "reject");
	stats_each_decision(collect, &g);
	ck_assert_str_eq(buf_str(&g.text), "other/eom/reject=1\n");
	buf_free(&g.text);
}
END_TEST

START_TEST(test_dns_auth_store)
{
	struct buf	b = BUF_INIT;

	stats_deinit();
	stats_dns_query("bl", 0);
	stats_dns_query("bl", 1);
	stats_dns_query("wl", 0);
	stats_dns("bl", STATS_DNS_TIMEOUT);
	stats_dns("wl", STATS_DNS_ERROR);
	stats_dns("wl", STATS_DNS_ERROR);
	stats_each_dns(collect_dns, &b);
	ck_assert_str_eq(buf_str(&b),
	    "bl q=2 h=1 t=1 e=0\nwl q=1 h=0 t=0 e=2\n");
	buf_reset(&b);
	stats_auth("pass", NULL, NULL);
	stats_auth("pass", "fail", "none");
	stats_auth(NULL, NULL, NULL);
	stats_each_auth(collect_auth, &b);
	ck_assert_str_eq(buf_str(&b),
	    "spf=pass:2\ndkim=fail:1\ndmarc=none:1\n");
	ck_assert_uint_eq(stats_store_fallbacks(), 0);
	stats_store_fallback();
	stats_store_fallback();
	ck_assert_uint_eq(stats_store_fallbacks(), 2);
	buf_free(&b);
}
END_TEST

/* observations at and just past the bucket edges (le: less or equal) */
START_TEST(test_histogram)
{
	struct stats_hist	h;
	unsigned		i;

	stats_deinit();
	stats_observe(STAGE_RCPT, 0);
	stats_observe(STAGE_RCPT, 1000000);		/* 0.001: first */
	stats_observe(STAGE_RCPT, 1000001);		/* second */
	stats_observe(STAGE_RCPT, 250000000);		/* 0.25 */
	stats_observe(STAGE_RCPT, 20000000000ULL);	/* 20: last finite */
	stats_observe(STAGE_RCPT, 25000000000ULL);	/* +Inf only */
	stats_observe(STAGE_COUNT, 1);		/* no such stage */
	stats_latency_get(STAGE_RCPT, &h);
	ck_assert_uint_eq(h.bucket[0], 2);
	ck_assert_uint_eq(h.bucket[1], 3);
	ck_assert_uint_eq(h.bucket[4], 3);
	ck_assert_uint_eq(h.bucket[5], 4);
	ck_assert_uint_eq(h.bucket[10], 4);
	ck_assert_uint_eq(h.bucket[11], 5);
	ck_assert_uint_eq(h.bucket[STATS_BUCKETS], 6);
	ck_assert_uint_eq(h.count, 6);
	ck_assert(h.sum > 45.2519 && h.sum < 45.2521);
	for (i = 1; i <= STATS_BUCKETS; i++)
		ck_assert_uint_ge(h.bucket[i], h.bucket[i - 1]);
	stats_latency_get(STAGE_CONNECT, &h);
	ck_assert_uint_eq(h.count, 0);
	ck_assert_str_eq(stats_stage_name(STAGE_EOM), "eom");
	for (i = 0; i < STATS_BUCKETS; i++)
		ck_assert_double_eq(atof(stats_bucket_name[i]),
		    stats_bucket_le[i]);
}
END_TEST

/* the exposition text: families, escaped label values, the histogram */
START_TEST(test_render)
{
	struct buf	b = BUF_INIT;
	const char	*s;

	stats_deinit();
	stats_init();
	stats_decision("a\"b\\c\nd", "rcpt", "tempfail");
	stats_dns_query("bl", 1);
	stats_observe(STAGE_MAIL, 3000000);
	metrics_render(&b);
	s = buf_str(&b);
	ck_assert_ptr_nonnull(strstr(s, "\nmxgate_decisions_total{rule="
	    "\"a\\\"b\\\\c\\nd\",stage=\"rcpt\",action=\"tempfail\"} 1\n"));
	ck_assert_ptr_nonnull(strstr(s,
	    "# TYPE mxgate_decisions_total counter\n"));
	ck_assert_ptr_nonnull(strstr(s, "\nmxgate_build_info{version=\""
	    PACKAGE_VERSION "\"} 1\n"));
	ck_assert_ptr_nonnull(strstr(s, "\nmxgate_connections 3\n"));
	ck_assert_ptr_nonnull(strstr(s,
	    "\nmxgate_dns_cache_hits_total{list=\"bl\"} 1\n"));
	ck_assert_ptr_nonnull(strstr(s,
	    "\nmxgate_dns_timeouts_total{list=\"bl\"} 0\n"));
	ck_assert_ptr_nonnull(strstr(s,
	    "# TYPE mxgate_auth_results_total counter\n"));
	ck_assert_ptr_nonnull(strstr(s, "\nmxgate_store_fallbacks_total 0\n"));
	ck_assert_ptr_nonnull(strstr(s,
	    "# TYPE mxgate_stage_duration_seconds histogram\n"));
	ck_assert_ptr_nonnull(strstr(s, "\nmxgate_stage_duration_seconds_bucket"
	    "{stage=\"mail\",le=\"0.001\"} 0\n"));
	ck_assert_ptr_nonnull(strstr(s, "\nmxgate_stage_duration_seconds_bucket"
	    "{stage=\"mail\",le=\"0.005\"} 1\n"));
	ck_assert_ptr_nonnull(strstr(s, "\nmxgate_stage_duration_seconds_bucket"
	    "{stage=\"mail\",le=\"+Inf\"} 1\n"));
	ck_assert_ptr_nonnull(strstr(s,
	    "\nmxgate_stage_duration_seconds_sum{stage=\"mail\"} "
	    "0.003000000\n"));
	ck_assert_ptr_nonnull(strstr(s,
	    "\nmxgate_stage_duration_seconds_count{stage=\"eom\"} 0\n"));
	ck_assert(b.len > 0 && s[b.len - 1] == '\n');
	buf_free(&b);
}
END_TEST

/* requests and the status they get */
static const struct {
	const char	*req;
	int		 want;
	const char	*has;		/* in the response */
} http_cases[] = {
	{ "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", 200,
	    "Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n" },
	{ "GET /metrics?name[]=x HTTP/1.0\n\n", 200, "\r\n\r\n# HELP " },
	{ "HEAD /metrics HTTP/1.1\r\n\r\n", 200, "Connection: close\r\n\r\n" },
	{ "GET / HTTP/1.1\r\n\r\n", 404, "404 Not Found\n" },
	{ "GET /metricsx HTTP/1.1\r\n\r\n", 404, "HTTP/1.1 404 " },
	{ "GET /other HTTP/1.1\r\n\r\n", 404, "Connection: close\r\n" },
	{ "POST /metrics HTTP/1.1\r\nContent-Length: 0\r\n\r\n", 405,
	    "Allow: GET, HEAD\r\n" },
	{ "DELETE /other HTTP/1.1\r\n\r\n", 405, "HTTP/1.1 405 " },
	{ "get /metrics HTTP/1.1\r\n\r\n", 400, "HTTP/1.1 400 " },
	{ "GET /metrics HTTP/2.0\r\n\r\n", 400, "400 Bad Request" },
	{ "GET /metrics\r\n\r\n", 400, "400 Bad Request" },
	{ "GET metrics HTTP/1.1\r\n\r\n", 400, "400 Bad Request" },
	{ "GET  /metrics HTTP/1.1\r\n\r\n", 400, "400 Bad Request" },
	{ "GET /metrics HTTP/1.1\r\n", 400, "400 Bad Request" },
	{ "\r\n\r\n", 400, "400 Bad Request" },
};

START_TEST(test_http)
{
	struct buf	out = BUF_INIT;
	const char	*req = http_cases[_i].req;

	ck_assert_int_eq(metrics_http(req, strlen(req), &out),
	    http_cases[_i].want);
	ck_assert_msg(strstr(buf_str(&out), http_cases[_i].has) != NULL,
	    "%s: got %s", req, buf_str(&out));
	if (strncmp(req, "HEAD", 4) == 0)
		ck_assert_ptr_null(strstr(buf_str(&out), "# HELP"));
	buf_free(&out);
}
END_TEST

/* a head that does not fit: 400, never a partial parse */
START_TEST(test_http_oversized)
{
	struct buf	out = BUF_INIT;
	char		*req = malloc(8192);

	ck_assert_ptr_nonnull(req);
	memcpy(req, "GET /", 5);
	memset(req + 5, 'a', 8192 - 5);
	ck_assert_int_eq(metrics_http(req, 8192, &out), 400);
	free(req);
	buf_free(&out);
}
END_TEST

#define NELEM(a)	((int)(sizeof(a) / sizeof((a)[0])))

int
main(void)
{
	Suite	*s = suite_create("stats");
	TCase	*tc = tcase_create("all");
	SRunner	*sr;
	int	 failed;

	tcase_add_test(tc, test_decisions);
	tcase_add_test(tc, test_bounds);
	tcase_add_test(tc, test_long_label);
	tcase_add_test(tc, test_dns_auth_store);
	tcase_add_test(tc, test_histogram);
	tcase_add_test(tc, test_render);
	tcase_add_loop_test(tc, test_http, 0, NELEM(http_cases));
	tcase_add_test(tc, test_http_oversized);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
