/*
 * test_ratelimit -- GCRA with a fake clock: bursts, steady rate, exact
 * retry_after, several windows, keys, overrides (a table_get double),
 * count on accept, pending recipients, concurrency, bounded keys.
 */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipaddr.h"
#include "ratelimit.h"
#include "table.h"

#define S	1000000000ULL

static uint64_t	now_ns = 1000 * S;
static uint64_t	fake_clock(void) { return now_ns; }

/* the table double: login "big" -> 5, "free" -> unlimited, "bad" -> junk */
static struct table	*fake_table = (struct table *)&now_ns;

int
table_get(struct table *t, const struct table_query *q, const char *f,
    char *out, size_t len)
{
	(void)t;
	(void)f;
	if (q->login == NULL)
		return 0;
	if (strcmp(q->login, "big") == 0)
		return strlcpy(out, "5", len) < len ? 1 : -1;
	if (strcmp(q->login, "free") == 0)
		return strlcpy(out, "unlimited", len) < len ? 1 : -1;
	if (strcmp(q->login, "bad") == 0)
		return strlcpy(out, "12x", len) < len ? 1 : -1;
	return 0;
}

const char *
table_name(const struct table *t)
{
	(void)t;
	return "fake";
}

/* limit -- one limit with one key and windows (n, secs, burst) */
static struct rl_limit *
limit(enum rl_count count, enum rl_part part, uint64_t n, uint64_t secs,
    uint64_t burst)
{
	struct rl_limit	*l = calloc(1, sizeof(*l));

	l->name = strdup("t");
	l->count = count;
	l->nkeys = 1;
	l->key[0].nparts = 1;
	l->key[0].part[0] = part;
	l->key[0].v4len = 24;
	l->key[0].v6len = 64;
	if (count == RL_COUNT_CONCURRENT) {
		l->max = n;
	} else {
		l->nwindows = 1;
		l->window[0].n = n;
		l->window[0].secs = secs;
		l->window[0].burst = burst ? burst : n;
		l->window[0].burst_set = burst != 0;
	}
	return l;
}

static struct rl_event
event(const char *ip, const char *user)
{
	static struct ipaddr	a;
	struct rl_event		ev;

	memset(&ev, 0, sizeof(ev));
	ck_assert_int_eq(ip_parse(ip, strlen(ip), &a), 0);
	ev.client_ip = &a;
	ev.sasl_user = user;
	return ev;
}

/* admit -- check, and commit when admitted; returns exceeded */
static int
admit(struct rl_store *s, const struct rl_limit *l, const struct rl_event *ev,
    struct rl_result *r)
{
	ck_assert_int_eq(rl_check(s, l, ev, r), 0);
	if (!r->exceeded)
		ck_assert_int_eq(rl_commit_connection(s, &l, 1, ev), 0);
	return r->exceeded;
}

static const struct {
	uint64_t	n, secs, burst;
	int		admitted;	/* at once */
	uint64_t	retry;		/* retry_after of the next one */
} burst_cases[] = {
	{ 2, 3600, 0, 2, 1800 },
	{ 30, 60, 10, 10, 2 },
	{ 1, 86400, 0, 1, 86400 },
	{ 60, 60, 1, 1, 1 },
	{ 3, 10, 0, 3, 4 },		/* 3.33 s rounded up */
};

START_TEST(test_burst_then_rate)
{
	struct rl_store	*s = rl_store_memory(1000);
	struct rl_limit	*l = limit(RL_COUNT_CONNECTIONS, RL_PART_CLIENT_IP,
			    burst_cases[_i].n, burst_cases[_i].secs, burst_cases[_i].burst);
	struct rl_event	 ev = event("192.0.2.1", NULL);
	struct rl_result r;
	int		 i;

	rl_set_clock(fake_clock);
	for (i = 0; i < burst_cases[_i].admitted; i++)
		ck_assert_msg(!admit(s, l, &ev, &r), "event %d refused", i);
	ck_assert(admit(s, l, &ev, &r));
	ck_assert_uint_eq(r.retry_after, burst_cases[_i].retry);
	ck_assert_uint_eq(r.max, burst_cases[_i].n);
	ck_assert_uint_eq(r.count, (uint64_t)burst_cases[_i].admitted);
	ck_assert_uint_eq(r.window, burst_cases[_i].secs);
	ck_assert_str_eq(r.key, "192.0.2.0/24");
	/* refused attempts never extend the block */
	ck_assert(admit(s, l, &ev, &r));
	ck_assert_uint_eq(r.retry_after, burst_cases[_i].retry);
	now_ns += burst_cases[_i].retry * S;
	ck_assert(!admit(s, l, &ev, &r));
	ck_assert(admit(s, l, &ev, &r));
	rl_limit_free(l);
	rl_store_free(s);
}
END_TEST

START_TEST(test_windows_and_keys)
{
	struct rl_store	*s = rl_store_memory(1000);
	struct rl_limit	*l = limit(RL_COUNT_CONNECTIONS, RL_PART_CLIENT_IP, 10, 60, 0);
	struct rl_event	 a = event("192.0.2.1", NULL), b, c, v6;
	struct rl_result r;
	int		 i;

	rl_set_clock(fake_clock);
	l->nwindows = 2;
	l->window[1].n = 3;
	l->window[1].secs = 3600;
	l->window[1].burst = 3;
	for (i = 0; i < 3; i++)
		ck_assert(!admit(s, l, &a, &r));
	ck_assert(admit(s, l, &a, &r));
	ck_assert_uint_eq(r.window, 3600);		/* the window that refused */
	ck_assert_uint_eq(r.retry_after, 1200);
	b = event("192.0.2.99", NULL);			/* same /24 */
	ck_assert(admit(s, l, &b, &r));
	c = event("192.0.3.1", NULL);			/* another /24 */
	ck_assert(!admit(s, l, &c, &r));
	v6 = event("2001:db8:0:1::1", NULL);
	ck_assert(!admit(s, l, &v6, &r));
	ck_assert_str_eq(r.key, "2001:db8:0:1::/64");	/* masked to /64 */
	rl_limit_free(l);
	rl_store_free(s);
}
END_TEST

START_TEST(test_empty_key_and_override)
{
	struct rl_store	*s = rl_store_memory(1000);
	struct rl_limit	*l = limit(RL_COUNT_MESSAGES, RL_PART_SASL_USER, 2, 3600, 0);
	struct rl_event	 ev = event("192.0.2.1", NULL);
	struct rl_result r;
	int		 i;

	rl_set_clock(fake_clock);
	l->override = fake_table;
	l->override_field = strdup("n");
	/* no login: the key does not apply */
	for (i = 0; i < 10; i++) {
		ck_assert_int_eq(rl_check(s, l, &ev, &r), 0);
		ck_assert(!r.exceeded);
		ck_assert_int_eq(rl_commit_message(s, (const struct rl_limit *const *)&l, 1, &ev), 0);
	}
	ck_assert_uint_eq(rl_store_keys(s), 0);
	ev.sasl_user = "big";		/* override 5 */
	for (i = 0; i < 5; i++) {
		ck_assert_int_eq(rl_check(s, l, &ev, &r), 0);
		ck_assert(!r.exceeded);
		rl_commit_message(s, (const struct rl_limit *const *)&l, 1, &ev);
	}
	ck_assert_int_eq(rl_check(s, l, &ev, &r), 0);
	ck_assert(r.exceeded);
	ck_assert_uint_eq(r.max, 5);
	ck_assert_uint_eq(r.retry_after, 720);
	ev.sasl_user = "free";		/* unlimited */
	for (i = 0; i < 50; i++) {
		ck_assert_int_eq(rl_check(s, l, &ev, &r), 0);
		ck_assert(!r.exceeded);
		rl_commit_message(s, (const struct rl_limit *const *)&l, 1, &ev);
	}
	ev.sasl_user = "bad";		/* bad value: the rule's 2 */
	for (i = 0; i < 2; i++)
		rl_commit_message(s, (const struct rl_limit *const *)&l, 1, &ev);
	ck_assert_int_eq(rl_check(s, l, &ev, &r), 0);
	ck_assert(r.exceeded);
	ck_assert_uint_eq(r.max, 2);
	rl_limit_free(l);
	rl_store_free(s);
}
END_TEST

START_TEST(test_pending_recipients)
{
	struct rl_store	*s = rl_store_memory(1000);
	struct rl_limit	*l = limit(RL_COUNT_RECIPIENTS, RL_PART_SASL_USER, 3, 3600, 0);
	struct rl_event	 ev = event("192.0.2.1", "u");
	const char	*pend[] = { "a.test", "b.test", "a.test" };
	struct rl_result r;

	rl_set_clock(fake_clock);
	ev.rcpt_domain = "c.test";
	ev.pending = pend;
	ev.npending = 2;		/* checking the third recipient */
	ck_assert_int_eq(rl_check(s, l, &ev, &r), 0);
	ck_assert(!r.exceeded);
	ev.npending = 3;		/* checking the fourth */
	ck_assert_int_eq(rl_check(s, l, &ev, &r), 0);
	ck_assert(r.exceeded);
	ev.rcpt_domain = NULL;
	ck_assert_int_eq(rl_commit_message(s, (const struct rl_limit *const *)&l, 1, &ev), 0);
	ev.npending = 0;
	ev.rcpt_domain = "x.test";
	ck_assert_int_eq(rl_check(s, l, &ev, &r), 0);
	ck_assert(r.exceeded);
	ck_assert_uint_eq(r.retry_after, 1200);
	/* a key with rcpt_domain counts each domain on its own */
	l->key[0].part[0] = RL_PART_RCPT_DOMAIN;
	ev.rcpt_domain = "a.test";
	ev.npending = 3;
	ck_assert_int_eq(rl_check(s, l, &ev, &r), 0);
	ck_assert(!r.exceeded);		/* a.test: 2 pending + 1 */
	ck_assert_int_eq(rl_commit_message(s, (const struct rl_limit *const *)&l, 1, &ev), 0);
	ev.npending = 0;
	ck_assert_int_eq(rl_check(s, l, &ev, &r), 0);
	ck_assert(!r.exceeded);		/* a.test: 2 used, one left */
	ev.pending = pend;
	ev.npending = 1;
	ck_assert_int_eq(rl_check(s, l, &ev, &r), 0);
	ck_assert(r.exceeded);
	ck_assert_str_eq(r.key, "a.test");
	rl_limit_free(l);
	rl_store_free(s);
}
END_TEST

START_TEST(test_concurrent)
{
	struct rl_store	*s = rl_store_memory(1000);
	struct rl_limit	*l = limit(RL_COUNT_CONCURRENT, RL_PART_CLIENT_IP, 2, 0, 0);
	struct rl_event	 ev = event("192.0.2.1", NULL);
	struct rl_held	*h1, *h2;
	struct rl_result r;

	h1 = rl_conn_open(s, (const struct rl_limit *const *)&l, 1, &ev);
	h2 = rl_conn_open(s, (const struct rl_limit *const *)&l, 1, &ev);
	ck_assert_ptr_nonnull(h1);
	ck_assert_int_eq(rl_check(s, l, &ev, &r), 0);
	ck_assert(r.exceeded);
	ck_assert_uint_eq(r.count, 2);
	ev.conn_held = 1;		/* one of the two asking */
	ck_assert_int_eq(rl_check(s, l, &ev, &r), 0);
	ck_assert(!r.exceeded);
	ev.conn_held = 0;
	rl_limit_free(l);		/* a reload: the handles still work */
	rl_conn_close(s, h1);
	l = limit(RL_COUNT_CONCURRENT, RL_PART_CLIENT_IP, 2, 0, 0);
	ck_assert_int_eq(rl_check(s, l, &ev, &r), 0);
	ck_assert(!r.exceeded);
	ck_assert_uint_eq(r.count, 1);
	rl_conn_close(s, h2);
	ck_assert_uint_eq(rl_store_keys(s), 0);
	rl_limit_free(l);
	rl_store_free(s);
}
END_TEST

START_TEST(test_bounded_keys)
{
	struct rl_store	*s = rl_store_memory(1000);
	struct rl_limit	*l = limit(RL_COUNT_CONNECTIONS, RL_PART_CLIENT_IP, 5, 60, 0);
	struct rl_event	 ev;
	struct rl_result r;
	char		 ip[64];
	int		 i;

	rl_set_clock(fake_clock);
	l->key[0].v6len = 128;
	for (i = 0; i < 10000; i++) {
		(void)snprintf(ip, sizeof(ip), "2001:db8::%x:%x", i / 65536, i % 65536);
		ev = event(ip, NULL);
		(void)admit(s, l, &ev, &r);
		if (i % 100 == 0)
			now_ns += S;
	}
	ck_assert_uint_le(rl_store_keys(s), 1000);
	ck_assert_uint_ge(rl_store_keys(s), 900);
	rl_limit_free(l);
	rl_store_free(s);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("ratelimit");
	TCase	*tc = tcase_create("all");
	SRunner	*sr;
	int	 failed;

	tcase_add_loop_test(tc, test_burst_then_rate, 0,
	    sizeof(burst_cases) / sizeof(burst_cases[0]));
	tcase_add_test(tc, test_windows_and_keys);
	tcase_add_test(tc, test_empty_key_and_override);
	tcase_add_test(tc, test_pending_recipients);
	tcase_add_test(tc, test_concurrent);
	tcase_add_test(tc, test_bounded_keys);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
