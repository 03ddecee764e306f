/*
 * test_ratelimit -- rate and concurrency limits with a fake clock: bursts
 * then the steady rate, exact retry_after, several windows, key values
 * (masking, IPv4-mapped, combinations, case, empty parts, long values),
 * overrides (a table_get double: table.c is not linked), count on accept,
 * pending recipients, bytes, concurrency across a reload, arithmetic
 * limits, bounded keys and eviction order, and threads.
 */
#include "config.h"

#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "compat.h"
#include "ipaddr.h"
#include "ratelimit.h"
#include "store.h"
#include "table.h"

#define S	1000000000ULL
#define LIMS(l)	((const struct rl_limit *const *)&(l))

static uint64_t	now_ns = 1000 * S;

/* fake_clock -- the test's clock */
static uint64_t
fake_clock(void)
{
	return now_ns;
}

/*
 * The table double: the value of a login (or, without one, of the
 * address); the last query is kept so tests can look at it.
 */
static const struct {
	const char	*who;
	const char	*value;		/* NULL: lookup fails (-1) */
} fake_rows[] = {
	{ "big", "5" },
	{ "free", "unlimited" },
	{ "FreeCase", "UNLIMITED" },
	{ "zero", "0" },
	{ "bad", "12x" },
	{ "neg", "-1" },
	{ "empty", "" },
	{ "huge", "99999999999999999999999" },
	{ "broken", NULL },
	{ "boss@example.com", "7" },
};
static struct table		*fake_table = (struct table *)&now_ns;
static struct table_query	 last_q;
static char			 last_field[32];
static int			 nlookups;

/* table_get -- the double of table.h's lookup */
int
table_get(struct table *t, const struct table_query *q, const char *f,
    char *out, size_t len)
{
	const char	*who = q->login != NULL ? q->login : q->address;
	size_t		 i;

	ck_assert_ptr_eq(t, fake_table);
	last_q = *q;
	(void)strlcpy(last_field, f, sizeof(last_field));
	nlookups++;
	for (i = 0; who != NULL && i < sizeof(fake_rows) / sizeof(fake_rows[0]); i++) {
		if (strcmp(fake_rows[i].who, who) != 0)
			continue;
		if (fake_rows[i].value == NULL)
			return -1;
		return strlcpy(out, fake_rows[i].value, len) < len ? 1 : -1;
	}
	return 0;
}

/* table_name -- the double's name */
const char *
table_name(const struct table *t)
{
	(void)t;
	return "fake";
}

/* limit -- one limit with one one-part key and one window (n, secs, burst) */
static struct rl_limit *
limit(enum rl_count count, enum rl_part part, uint64_t n, uint64_t secs,
    uint64_t burst)
{
	struct rl_limit	*l = calloc(1, sizeof(*l));

	ck_assert_ptr_nonnull(l);
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

/* event -- an event from ip (NULL: none) and a login */
static struct rl_event
event(const char *ip, const char *user)
{
	static struct ipaddr	a;
	struct rl_event		ev;

	memset(&ev, 0, sizeof(ev));
	if (ip != NULL) {
		ck_assert_int_eq(ip_parse(ip, strlen(ip), &a), 0);
		ev.client_ip = &a;
	}
	ev.sasl_user = user;
	return ev;
}

/* admit -- check, and commit (connections and messages) when admitted; returns exceeded */
static int
admit(struct rl_store *s, const struct rl_limit *l, const struct rl_event *ev,
    struct rl_result *r)
{
	ck_assert_int_eq(rl_check(s, l, ev, r), 0);
	if (!r->exceeded) {
		ck_assert_int_eq(rl_commit_connection(s, LIMS(l), 1, ev), 0);
		ck_assert_int_eq(rl_commit_message(s, LIMS(l), 1, ev), 0);
	}
	return r->exceeded;
}

static const struct {
	uint64_t	n, secs, burst;
	int		admitted;	/* at once */
	uint64_t	retry;		/* retry_after of the next one */
	int		steady;		/* T = retry: one more every retry */
} burst_cases[] = {
	{ 2, 3600, 0, 2, 1800, 1 },	/* the spec's example */
	{ 30, 60, 10, 10, 2, 1 },
	{ 1, 86400, 0, 1, 86400, 1 },
	{ 60, 60, 1, 1, 1, 1 },
	{ 3, 10, 0, 3, 4, 0 },		/* 3.33 s rounded up */
	{ 100, 1, 0, 100, 1, 0 },	/* 10 ms rounded up */
	{ 4294967295ULL, 366 * 86400ULL, 3, 3, 1, 0 },	/* largest N and W */
	{ 1, 366 * 86400ULL, 0, 1, 366 * 86400ULL, 1 },
};

START_TEST(test_burst_then_rate)
{
	struct rl_store	*s = rl_store_memory(1000);
	struct rl_limit	*l = limit(RL_COUNT_CONNECTIONS, RL_PART_CLIENT_IP,
			    burst_cases[_i].n, burst_cases[_i].secs, burst_cases[_i].burst);
	struct rl_event	 ev = event("192.0.2.1", NULL);
	struct rl_result r;
	int		 i, got;

	rl_set_clock(fake_clock);
	for (i = 0; i < burst_cases[_i].admitted; i++) {
		got = admit(s, l, &ev, &r);
		ck_assert_msg(!got, "event %d refused", i);
		ck_assert_uint_eq(r.retry_after, 0);
	}
	ck_assert(admit(s, l, &ev, &r));
	ck_assert_uint_eq(r.retry_after, burst_cases[_i].retry);
	ck_assert_uint_eq(r.max, burst_cases[_i].n);
	ck_assert_uint_eq(r.count, (uint64_t)burst_cases[_i].admitted);
	ck_assert_uint_eq(r.window, burst_cases[_i].secs);
	ck_assert_str_eq(r.key, "192.0.2.0/24");
	/* refused attempts never extend the block */
	ck_assert(admit(s, l, &ev, &r));
	ck_assert_uint_eq(r.retry_after, burst_cases[_i].retry);
	/* then one more every T (when T is whole seconds), and no more */
	for (i = 0; i < 3 && burst_cases[_i].steady; i++) {
		now_ns += burst_cases[_i].retry * S;
		ck_assert_msg(!admit(s, l, &ev, &r), "steady event %d refused", i);
		ck_assert(admit(s, l, &ev, &r));
	}
	rl_limit_free(l);
	rl_store_free(s);
}
END_TEST

/* a second window (n2/secs2) on top of 10/1m */
static const struct {
	uint64_t	n2, secs2;
	int		admitted;
	uint64_t	want_window, want_retry, want_max;
} window_cases[] = {
	{ 3, 3600, 3, 3600, 1200, 3 },	/* the hour refuses */
	{ 100, 3600, 10, 60, 6, 10 },	/* the minute refuses */
	{ 10, 60, 10, 60, 6, 10 },	/* both at once: same wait */
	{ 20, 60, 10, 60, 6, 10 },
};

START_TEST(test_windows)
{
	struct rl_store	*s = rl_store_memory(1000);
	struct rl_limit	*l = limit(RL_COUNT_CONNECTIONS, RL_PART_CLIENT_IP, 10, 60, 0);
	struct rl_event	 ev = event("192.0.2.1", NULL);
	struct rl_result r;
	int		 i;

	rl_set_clock(fake_clock);
	l->nwindows = 2;
	l->window[1].n = window_cases[_i].n2;
	l->window[1].secs = window_cases[_i].secs2;
	l->window[1].burst = window_cases[_i].n2;
	for (i = 0; i < window_cases[_i].admitted; i++)
		ck_assert_msg(!admit(s, l, &ev, &r), "event %d refused", i);
	ck_assert(admit(s, l, &ev, &r));
	ck_assert_uint_eq(r.window, window_cases[_i].want_window);
	ck_assert_uint_eq(r.retry_after, window_cases[_i].want_retry);
	ck_assert_uint_eq(r.max, window_cases[_i].want_max);
	/* at retry_after every window admits it */
	now_ns += r.retry_after * S;
	ck_assert(!admit(s, l, &ev, &r));
	rl_limit_free(l);
	rl_store_free(s);
}
END_TEST

static const struct {
	const char	*ip;
	unsigned	 v4len, v6len;
	const char	*want;
} ip_cases[] = {
	{ "192.0.2.77", 24, 64, "192.0.2.0/24" },
	{ "192.0.2.77", 32, 64, "192.0.2.77/32" },
	{ "192.0.2.77", 16, 64, "192.0.0.0/16" },
	{ "::ffff:192.0.2.77", 24, 64, "192.0.2.0/24" },	/* IPv4-mapped */
	{ "2001:db8:0:1:2:3:4:5", 24, 64, "2001:db8:0:1::/64" },
	{ "2001:DB8:0:1:2:3:4:5", 24, 48, "2001:db8::/48" },
	{ "2001:db8::5", 24, 128, "2001:db8::5/128" },
	{ "2001:db8::5", 24, 200, "2001:db8::5/128" },	/* clamped */
};

START_TEST(test_ip_keys)
{
	struct rl_store	*s = rl_store_memory(1000);
	struct rl_limit	*l = limit(RL_COUNT_CONNECTIONS, RL_PART_CLIENT_IP, 1, 60, 0);
	struct rl_event	 ev = event(ip_cases[_i].ip, NULL);
	struct rl_result r;

	rl_set_clock(fake_clock);
	l->key[0].v4len = ip_cases[_i].v4len;
	l->key[0].v6len = ip_cases[_i].v6len;
	ck_assert(!admit(s, l, &ev, &r));
	ck_assert(admit(s, l, &ev, &r));
	ck_assert_str_eq(r.key, ip_cases[_i].want);
	rl_limit_free(l);
	rl_store_free(s);
}
END_TEST

START_TEST(test_same_network)
{
	struct rl_store	*s = rl_store_memory(1000);
	struct rl_limit	*l = limit(RL_COUNT_CONNECTIONS, RL_PART_CLIENT_IP, 1, 60, 0);
	struct rl_event	 a = event("192.0.2.1", NULL), b;
	struct rl_result r;

	rl_set_clock(fake_clock);
	ck_assert(!admit(s, l, &a, &r));
	b = event("::ffff:192.0.2.200", NULL);		/* same /24, mapped */
	ck_assert(admit(s, l, &b, &r));
	b = event("192.0.3.1", NULL);			/* another /24 */
	ck_assert(!admit(s, l, &b, &r));
	b = event("2001:db8:0:1::1", NULL);
	ck_assert(!admit(s, l, &b, &r));
	b = event("2001:db8:0:1:ffff::1", NULL);	/* same /64 */
	ck_assert(admit(s, l, &b, &r));
	rl_limit_free(l);
	rl_store_free(s);
}
END_TEST

/* keys from event fields: parts, the value, or NULL when the key must not apply */
static const struct {
	enum rl_part	 part[3];
	unsigned	 nparts;
	const char	*user, *sender, *sdom, *customer, *rdom;
	const char	*want;
} key_cases[] = {
	{ { RL_PART_SASL_USER }, 1, "Alice", NULL, NULL, NULL, NULL, "alice" },
	{ { RL_PART_SENDER }, 1, NULL, "Bob@Example.COM", NULL, NULL, NULL, "bob@example.com" },
	{ { RL_PART_SENDER }, 1, NULL, "", NULL, NULL, NULL, NULL },	/* <> */
	{ { RL_PART_SENDER_DOMAIN }, 1, NULL, NULL, "EXAMPLE.com", NULL, NULL, "example.com" },
	{ { RL_PART_CUSTOMER }, 1, NULL, NULL, NULL, "C42", NULL, "c42" },
	{ { RL_PART_CUSTOMER }, 1, "alice", NULL, NULL, NULL, NULL, NULL },
	{ { RL_PART_SASL_USER }, 1, NULL, "a@b", NULL, NULL, NULL, NULL },
	{ { RL_PART_SASL_USER }, 1, "", NULL, NULL, NULL, NULL, NULL },
	{ { RL_PART_RCPT_DOMAIN }, 1, NULL, NULL, NULL, NULL, "Dest.Test", "dest.test" },
	{ { RL_PART_RCPT_DOMAIN }, 1, "alice", NULL, NULL, NULL, NULL, NULL },
	{ { RL_PART_SASL_USER, RL_PART_CLIENT_IP }, 2, "Alice", NULL, NULL, NULL, NULL,
	    "alice+192.0.2.0/24" },
	{ { RL_PART_SENDER_DOMAIN, RL_PART_RCPT_DOMAIN }, 2, NULL, NULL, "a.test", NULL,
	    "B.test", "a.test+b.test" },
	{ { RL_PART_SASL_USER, RL_PART_SENDER }, 2, "alice", "", NULL, NULL, NULL, NULL },
	{ { RL_PART_CUSTOMER, RL_PART_SASL_USER, RL_PART_CLIENT_IP }, 3, NULL, NULL, NULL,
	    "c1", NULL, NULL },
};

START_TEST(test_keys)
{
	struct rl_store	*s = rl_store_memory(1000);
	struct rl_limit	*l = limit(RL_COUNT_MESSAGES, RL_PART_SASL_USER, 1, 60, 0);
	struct rl_event	 ev = event("192.0.2.1", key_cases[_i].user);
	struct rl_result r;
	unsigned	 i;

	rl_set_clock(fake_clock);
	l->key[0].nparts = key_cases[_i].nparts;
	for (i = 0; i < key_cases[_i].nparts; i++)
		l->key[0].part[i] = key_cases[_i].part[i];
	ev.sender = key_cases[_i].sender;
	ev.sender_domain = key_cases[_i].sdom;
	ev.customer = key_cases[_i].customer;
	ev.rcpt_domain = key_cases[_i].rdom;
	if (ev.rcpt_domain != NULL) {	/* counted per pending domain */
		ev.pending = &key_cases[_i].rdom;
		ev.npending = 1;
	}
	ck_assert(!admit(s, l, &ev, &r));
	if (key_cases[_i].want == NULL) {
		/* the key does not apply: never refused, nothing kept */
		ck_assert(!admit(s, l, &ev, &r));
		ck_assert(!admit(s, l, &ev, &r));
		ck_assert_uint_eq(r.max, 0);
		ck_assert_uint_eq(rl_store_keys(s), 0);
	} else {
		ck_assert(admit(s, l, &ev, &r));
		ck_assert_str_eq(r.key, key_cases[_i].want);
		ck_assert_uint_eq(rl_store_keys(s), 1);
	}
	rl_limit_free(l);
	rl_store_free(s);
}
END_TEST

START_TEST(test_no_client_ip)
{
	struct rl_store	*s = rl_store_memory(1000);
	struct rl_limit	*l = limit(RL_COUNT_CONNECTIONS, RL_PART_CLIENT_IP, 1, 60, 0);
	struct rl_event	 ev = event(NULL, NULL);
	struct rl_result r;

	rl_set_clock(fake_clock);
	ck_assert(!admit(s, l, &ev, &r));
	ck_assert(!admit(s, l, &ev, &r));
	ck_assert_uint_eq(rl_store_keys(s), 0);
	rl_limit_free(l);
	rl_store_free(s);
}
END_TEST

START_TEST(test_long_keys)
{
	struct rl_store	*s = rl_store_memory(1000);
	struct rl_limit	*l = limit(RL_COUNT_MESSAGES, RL_PART_SENDER, 1, 60, 0);
	struct rl_event	 ev = event("192.0.2.1", NULL);
	struct rl_result r;
	char		 a[1001], b[1001];

	rl_set_clock(fake_clock);
	memset(a, 'x', sizeof(a) - 1);
	a[sizeof(a) - 1] = '\0';
	memcpy(b, a, sizeof(b));
	b[900] = 'y';			/* differs after the kept prefix */
	ev.sender = a;
	ck_assert(!admit(s, l, &ev, &r));
	ck_assert(admit(s, l, &ev, &r));	/* still counted */
	ck_assert_uint_le(strlen(r.key), 300);
	ck_assert_ptr_nonnull(strchr(r.key, '#'));
	ev.sender = b;			/* another sender, another counter */
	ck_assert(!admit(s, l, &ev, &r));
	ck_assert_uint_eq(rl_store_keys(s), 2);
	rl_limit_free(l);
	rl_store_free(s);
}
END_TEST

/* overrides: login -> the N in force, how many pass at once, lookups */
static const struct {
	const char	*user, *sender;
	uint64_t	 want_max;	/* RL_UNLIMITED: never refused */
	int		 admitted;
	uint64_t	 want_retry;
} override_cases[] = {
	{ "nobody", NULL, 2, 2, 1800 },		/* no entry: the rule's 2/1h */
	{ NULL, NULL, 2, 2, 1800 },		/* no login, no sender */
	{ "big", NULL, 5, 5, 720 },
	{ NULL, "boss@example.com", 7, 7, 515 },	/* by address: 3600/7 s */
	{ "free", NULL, RL_UNLIMITED, 50, 0 },
	{ "FreeCase", NULL, RL_UNLIMITED, 50, 0 },
	{ "zero", NULL, 0, 0, 3600 },		/* 0: nothing, retry after W */
	{ "bad", NULL, 2, 2, 1800 },		/* bad values: the rule's N */
	{ "neg", NULL, 2, 2, 1800 },
	{ "empty", NULL, 2, 2, 1800 },
	{ "huge", NULL, 2, 2, 1800 },
	{ "broken", NULL, 2, 2, 1800 },
};

START_TEST(test_override)
{
	struct rl_store	*s = rl_store_memory(1000);
	struct rl_limit	*l = limit(RL_COUNT_MESSAGES, RL_PART_CLIENT_IP, 2, 3600, 0);
	struct rl_event	 ev = event("192.0.2.1", override_cases[_i].user);
	struct rl_result r;
	int		 i;

	rl_set_clock(fake_clock);
	l->override = fake_table;
	l->override_field = strdup("msgs");
	ev.sender = override_cases[_i].sender;
	for (i = 0; i < override_cases[_i].admitted; i++)
		ck_assert_msg(!admit(s, l, &ev, &r), "event %d refused", i);
	ck_assert_int_eq(rl_check(s, l, &ev, &r), 0);
	ck_assert_str_eq(last_field, "msgs");
	ck_assert_ptr_eq(last_q.login, override_cases[_i].user);
	ck_assert_ptr_eq(last_q.address, override_cases[_i].sender);
	ck_assert_ptr_eq(last_q.ip, ev.client_ip);
	if (override_cases[_i].want_max == RL_UNLIMITED) {
		ck_assert(!r.exceeded);
		ck_assert_uint_eq(rl_store_keys(s), 0);	/* not counted */
	} else {
		ck_assert(r.exceeded);
		ck_assert_uint_eq(r.max, override_cases[_i].want_max);
		ck_assert_uint_eq(r.retry_after, override_cases[_i].want_retry);
	}
	rl_limit_free(l);
	rl_store_free(s);
}
END_TEST

START_TEST(test_zero_rate)
{
	struct rl_store	*s = rl_store_memory(1000);
	struct rl_limit	*l = limit(RL_COUNT_MESSAGES, RL_PART_CLIENT_IP, 0, 600, 0);
	struct rl_event	 ev = event("192.0.2.1", NULL);
	struct rl_result r;

	rl_set_clock(fake_clock);
	ck_assert_int_eq(rl_check(s, l, &ev, &r), 0);
	ck_assert(r.exceeded);
	ck_assert_uint_eq(r.retry_after, 600);
	ck_assert_uint_eq(r.max, 0);
	ck_assert_uint_eq(r.count, 0);
	ck_assert_int_eq(rl_commit_message(s, LIMS(l), 1, &ev), 0);
	ck_assert_uint_eq(rl_store_keys(s), 0);	/* never stored */
	rl_limit_free(l);
	rl_store_free(s);
}
END_TEST

START_TEST(test_count_on_accept)
{
	struct rl_store	*s = rl_store_memory(1000);
	struct rl_limit	*l = limit(RL_COUNT_MESSAGES, RL_PART_SASL_USER, 3, 60, 0);
	struct rl_event	 ev = event("192.0.2.1", "u");
	struct rl_result r, first;
	int		 i;

	rl_set_clock(fake_clock);
	/* checks alone change nothing */
	ck_assert_int_eq(rl_check(s, l, &ev, &first), 0);
	for (i = 0; i < 100; i++) {
		ck_assert_int_eq(rl_check(s, l, &ev, &r), 0);
		ck_assert(!r.exceeded);
		ck_assert_uint_eq(r.count, first.count);
		ck_assert_uint_eq(r.count, 0);
		ck_assert_uint_eq(r.max, 3);
		ck_assert_str_eq(r.key, "u");
	}
	ck_assert_uint_eq(rl_store_keys(s), 0);
	/* a connection commit does not count messages, and the reverse */
	ck_assert_int_eq(rl_commit_connection(s, LIMS(l), 1, &ev), 0);
	ck_assert_uint_eq(rl_store_keys(s), 0);
	for (i = 0; i < 3; i++)
		ck_assert_int_eq(rl_commit_message(s, LIMS(l), 1, &ev), 0);
	ck_assert_int_eq(rl_check(s, l, &ev, &r), 0);
	ck_assert(r.exceeded);
	ck_assert_uint_eq(r.count, 3);
	ck_assert_uint_eq(r.retry_after, 20);
	/* a commit always adds, even past the limit */
	ck_assert_int_eq(rl_commit_message(s, LIMS(l), 1, &ev), 0);
	ck_assert_int_eq(rl_check(s, l, &ev, &r), 0);
	ck_assert_uint_eq(r.retry_after, 40);
	ck_assert_uint_eq(r.count, 4);
	l->count = RL_COUNT_CONNECTIONS;
	ck_assert_int_eq(rl_commit_message(s, LIMS(l), 1, &ev), 0);
	ck_assert_int_eq(rl_check(s, l, &ev, &r), 0);
	ck_assert_uint_eq(r.retry_after, 40);
	rl_limit_free(l);
	rl_store_free(s);
}
END_TEST

START_TEST(test_several_keys)
{
	struct rl_store	*s = rl_store_memory(1000);
	struct rl_limit	*l = limit(RL_COUNT_MESSAGES, RL_PART_SASL_USER, 2, 60, 0);
	struct rl_event	 ev = event("192.0.2.1", "u1");
	struct rl_result r;

	rl_set_clock(fake_clock);
	l->nkeys = 2;
	l->key[1].nparts = 1;
	l->key[1].part[0] = RL_PART_CLIENT_IP;
	l->key[1].v4len = 24;
	ck_assert(!admit(s, l, &ev, &r));
	ck_assert_uint_eq(rl_store_keys(s), 2);		/* both counted */
	ev.sasl_user = "u2";				/* same network */
	ck_assert(!admit(s, l, &ev, &r));
	ck_assert(admit(s, l, &ev, &r));		/* the network refuses */
	ck_assert_str_eq(r.key, "192.0.2.0/24");
	ev.sasl_user = NULL;				/* only the network applies */
	ck_assert(admit(s, l, &ev, &r));
	rl_limit_free(l);
	rl_store_free(s);
}
END_TEST

START_TEST(test_pending_recipients)
{
	struct rl_store	*s = rl_store_memory(1000);
	struct rl_limit	*l = limit(RL_COUNT_RECIPIENTS, RL_PART_SASL_USER, 3, 3600, 0);
	struct rl_event	 ev = event("192.0.2.1", "u");
	const char	*pend[] = { "a.test", "b.test", "A.Test" };
	struct rl_result r;

	rl_set_clock(fake_clock);
	ev.rcpt_domain = "c.test";
	ev.pending = pend;
	ev.npending = 2;		/* checking the third recipient */
	ck_assert_int_eq(rl_check(s, l, &ev, &r), 0);
	ck_assert(!r.exceeded);
	ck_assert_uint_eq(r.count, 2);	/* the pending ones */
	ev.npending = 3;		/* checking the fourth */
	ck_assert_int_eq(rl_check(s, l, &ev, &r), 0);
	ck_assert(r.exceeded);
	ck_assert_uint_eq(r.count, 3);
	ck_assert_uint_eq(r.retry_after, 1200);
	ev.rcpt_domain = NULL;		/* eom: the three recipients */
	ck_assert_int_eq(rl_commit_message(s, LIMS(l), 1, &ev), 0);
	ev.npending = 0;
	ev.rcpt_domain = "x.test";
	ck_assert_int_eq(rl_check(s, l, &ev, &r), 0);
	ck_assert(r.exceeded);
	ck_assert_uint_eq(r.count, 3);
	ck_assert_uint_eq(r.retry_after, 1200);
	rl_limit_free(l);
	rl_store_free(s);
}
END_TEST

START_TEST(test_pending_per_domain)
{
	struct rl_store	*s = rl_store_memory(1000);
	struct rl_limit	*l = limit(RL_COUNT_RECIPIENTS, RL_PART_RCPT_DOMAIN, 3, 3600, 0);
	struct rl_event	 ev = event("192.0.2.1", "u");
	const char	*pend[] = { "a.test", "b.test", "A.Test" };
	struct rl_result r;

	rl_set_clock(fake_clock);
	ev.pending = pend;
	ev.npending = 3;
	ev.rcpt_domain = "a.test";
	ck_assert_int_eq(rl_check(s, l, &ev, &r), 0);
	ck_assert(!r.exceeded);		/* a.test: 2 pending + 1 */
	ck_assert_uint_eq(r.count, 2);
	ev.rcpt_domain = NULL;
	ck_assert_int_eq(rl_commit_message(s, LIMS(l), 1, &ev), 0);
	ck_assert_uint_eq(rl_store_keys(s), 2);	/* a.test and b.test */
	ev.npending = 0;
	ev.rcpt_domain = "A.TEST";
	ck_assert_int_eq(rl_check(s, l, &ev, &r), 0);
	ck_assert(!r.exceeded);		/* a.test: 2 used, one left */
	ck_assert_uint_eq(r.count, 2);
	ev.npending = 1;		/* one a.test pending */
	ck_assert_int_eq(rl_check(s, l, &ev, &r), 0);
	ck_assert(r.exceeded);
	ck_assert_str_eq(r.key, "a.test");
	ev.rcpt_domain = "b.test";	/* b.test: 1 used, a.test pending is not its */
	ck_assert_int_eq(rl_check(s, l, &ev, &r), 0);
	ck_assert(!r.exceeded);
	rl_limit_free(l);
	rl_store_free(s);
}
END_TEST

START_TEST(test_bytes)
{
	struct rl_store	*s = rl_store_memory(1000);
	struct rl_limit	*l = limit(RL_COUNT_BYTES, RL_PART_SASL_USER, 1000, 3600, 0);
	struct rl_event	 ev = event("192.0.2.1", "u");
	struct rl_result r;

	rl_set_clock(fake_clock);
	ev.size = 600;
	ck_assert(!admit(s, l, &ev, &r));
	ck_assert(admit(s, l, &ev, &r));
	ck_assert_uint_eq(r.retry_after, 720);		/* 200 bytes at 3.6 s */
	ck_assert_uint_eq(r.count, 600);
	ev.size = 0;					/* unknown size: costs 1 */
	ck_assert(!admit(s, l, &ev, &r));
	ev.size = 1ULL << 62;				/* never fits, no overflow */
	ck_assert_int_eq(rl_check(s, l, &ev, &r), 0);
	ck_assert(r.exceeded);
	ck_assert_uint_gt(r.retry_after, 3600);
	ck_assert_int_eq(rl_commit_message(s, LIMS(l), 1, &ev), 0);
	ev.size = 1;
	ck_assert_int_eq(rl_check(s, l, &ev, &r), 0);
	ck_assert(r.exceeded);
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

	ck_assert_int_eq(rl_check(s, l, &ev, &r), 0);
	ck_assert(!r.exceeded);
	ck_assert_uint_eq(r.count, 0);
	h1 = rl_conn_open(s, LIMS(l), 1, &ev);
	h2 = rl_conn_open(s, LIMS(l), 1, &ev);
	ck_assert_ptr_nonnull(h1);
	ck_assert_ptr_nonnull(h2);
	ck_assert_int_eq(rl_check(s, l, &ev, &r), 0);
	ck_assert(r.exceeded);
	ck_assert_uint_eq(r.count, 2);
	ck_assert_uint_eq(r.max, 2);
	ck_assert_uint_eq(r.window, 0);
	ck_assert_uint_eq(r.retry_after, 0);
	ck_assert_str_eq(r.key, "192.0.2.0/24");
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
	rl_conn_close(s, NULL);
	rl_limit_free(l);
	rl_store_free(s);
}
END_TEST

START_TEST(test_concurrent_keys)
{
	struct rl_store	*s = rl_store_memory(1000);
	struct rl_limit	*l[2];
	struct rl_event	 ev = event("192.0.2.1", NULL);
	struct rl_held	*h, *h2;
	struct rl_result r;

	l[0] = limit(RL_COUNT_CONCURRENT, RL_PART_SASL_USER, 1, 0, 0);
	l[1] = limit(RL_COUNT_CONNECTIONS, RL_PART_CLIENT_IP, 1, 60, 0);
	/* no concurrent key applies: no handle */
	ck_assert_ptr_null(rl_conn_open(s, (const struct rl_limit *const *)l, 2, &ev));
	ev.sasl_user = "u";
	h = rl_conn_open(s, (const struct rl_limit *const *)l, 2, &ev);
	ck_assert_ptr_nonnull(h);
	ck_assert_uint_eq(rl_store_keys(s), 1);	/* not the connections limit */
	ck_assert_int_eq(rl_check(s, l[0], &ev, &r), 0);
	ck_assert(r.exceeded);
	ck_assert_str_eq(r.key, "u");
	/* override: unlimited */
	l[0]->override = fake_table;
	l[0]->override_field = strdup("conc");
	rl_conn_close(s, h);
	ev.sasl_user = "free";
	h = rl_conn_open(s, (const struct rl_limit *const *)l, 1, &ev);
	h2 = rl_conn_open(s, (const struct rl_limit *const *)l, 1, &ev);
	ck_assert_int_eq(rl_check(s, l[0], &ev, &r), 0);
	ck_assert(!r.exceeded);				/* 2 open, max 1 */
	rl_conn_close(s, h);
	rl_conn_close(s, h2);
	ck_assert_uint_eq(rl_store_keys(s), 0);
	rl_limit_free(l[0]);
	rl_limit_free(l[1]);
	rl_store_free(s);
}
END_TEST

static const size_t	bound_cases[] = { 1, 10, 1000 };

START_TEST(test_bounded_keys)
{
	size_t		 max = bound_cases[_i];
	struct rl_store	*s = rl_store_memory(max);
	struct rl_limit	*l = limit(RL_COUNT_CONNECTIONS, RL_PART_CLIENT_IP, 5, 60, 0);
	struct rl_event	 ev;
	struct rl_result r;
	char		 ip[64];
	size_t		 i;

	rl_set_clock(fake_clock);
	l->key[0].v6len = 128;
	for (i = 0; i < 10 * max; i++) {
		(void)snprintf(ip, sizeof(ip), "2001:db8::%zx:%zx", i / 65536, i % 65536);
		ev = event(ip, NULL);
		ck_assert(!admit(s, l, &ev, &r));
		ck_assert_uint_le(rl_store_keys(s), max);
		if (i % 100 == 0)
			now_ns += S;
	}
	ck_assert_uint_eq(rl_store_keys(s), max);
	rl_limit_free(l);
	rl_store_free(s);
}
END_TEST

START_TEST(test_eviction_order)
{
	struct rl_store	*s = rl_store_memory(100);
	struct rl_limit	*l = limit(RL_COUNT_CONNECTIONS, RL_PART_CLIENT_IP, 1, 3600, 0);
	struct rl_limit	*spray = limit(RL_COUNT_CONNECTIONS, RL_PART_CLIENT_IP, 1000, 1, 0);
	struct rl_event	 ev = event("192.0.2.1", NULL);
	struct rl_result r;
	char		 ip[64];
	int		 i;

	rl_set_clock(fake_clock);
	ck_assert(!admit(s, l, &ev, &r));		/* blocked for an hour */
	spray->key[0].v6len = 128;
	free(spray->name);
	spray->name = strdup("spray");
	for (i = 0; i < 1000; i++) {
		(void)snprintf(ip, sizeof(ip), "2001:db8::%x", i);
		ev = event(ip, NULL);
		ck_assert(!admit(s, spray, &ev, &r));
		now_ns += S / 100;			/* each decays in 1 ms */
	}
	ck_assert_uint_le(rl_store_keys(s), 100);
	ev = event("192.0.2.1", NULL);
	ck_assert(admit(s, l, &ev, &r));		/* the block survived */
	rl_limit_free(l);
	rl_limit_free(spray);
	rl_store_free(s);
}
END_TEST

struct worker {
	struct rl_store		*s;
	const struct rl_limit	*l;
};

/* worker -- commit 1000 messages of one key */
static void *
worker(void *arg)
{
	struct worker	*w = arg;
	struct rl_event	 ev = event("192.0.2.1", "shared");
	int		 i;

	for (i = 0; i < 1000; i++)
		(void)rl_commit_message(w->s, LIMS(w->l), 1, &ev);
	return NULL;
}

START_TEST(test_threads)
{
	struct rl_store	*s = rl_store_memory(1000);
	struct rl_limit	*l = limit(RL_COUNT_MESSAGES, RL_PART_SASL_USER, 1000000, 3600, 0);
	struct rl_event	 ev = event("192.0.2.1", "shared");
	struct worker	 w = { s, l };
	struct rl_result r;
	pthread_t	 t[4];
	int		 i;

	rl_set_clock(fake_clock);
	for (i = 0; i < 4; i++)
		ck_assert_int_eq(pthread_create(&t[i], NULL, worker, &w), 0);
	for (i = 0; i < 4; i++)
		ck_assert_int_eq(pthread_join(t[i], NULL), 0);
	ck_assert_int_eq(rl_check(s, l, &ev, &r), 0);
	ck_assert_uint_eq(r.count, 4000);		/* no lost update */
	rl_limit_free(l);
	rl_store_free(s);
}
END_TEST

/*
 * The store operations of mxgatectl limit (memory store): peek sees what
 * a check sees and changes nothing (no key created, no recency moved),
 * forget drops every window of a key and nothing else, scan walks the
 * cells of one limit (levels of live GCRA cells, open counts of
 * concurrency cells) within its bound.
 */
struct seen {
	char		key[64][64];
	uint64_t	value[64];
	int		n;
};

/* remember -- scan's callback for the tests */
static int
remember(void *arg, const char *key, size_t len, uint64_t value)
{
	struct seen	*w = arg;
	size_t		 i;

	ck_assert_int_lt(w->n, 64);
	ck_assert_uint_lt(len, 64);
	for (i = 0; i < len; i++)
		w->key[w->n][i] = key[i] == '\0' ? '|' : key[i];
	w->key[w->n][len] = '\0';
	w->value[w->n++] = value;
	return 0;
}

START_TEST(test_peek)
{
	struct rl_store	*s = rl_store_memory(1000);
	struct rl_limit	*l = limit(RL_COUNT_MESSAGES, RL_PART_SASL_USER, 3, 3600, 0);
	struct rl_event	 ev = event(NULL, "alice");
	struct rl_result r;
	struct rl_cell	 cell;
	struct buf	 key = BUF_INIT, err = BUF_INIT;
	int		 i;

	rl_set_clock(fake_clock);
	ck_assert_uint_eq(rl_window_cell(l, 0, &ev, "alice", &key, &cell), 3);
	ck_assert_mem_eq(cell.key, "t\0" "1h\0" "alice", 10);
	ck_assert_uint_eq(cell.keylen, 10);
	ck_assert_uint_eq(cell.inc, 1200 * S);
	ck_assert_uint_eq(cell.tau, 3600 * S);
	/* nothing yet: level 0, allowed now, and no key created */
	ck_assert_int_eq(s->ops->peek(s, &cell, 1, now_ns, &err), 0);
	ck_assert_uint_eq(cell.level, 0);
	ck_assert_uint_eq(cell.wait, 0);
	ck_assert_uint_eq(rl_store_keys(s), 0);
	for (i = 0; i < 3; i++)
		ck_assert(!admit(s, l, &ev, &r));
	ck_assert(admit(s, l, &ev, &r));
	ck_assert_int_eq(s->ops->peek(s, &cell, 1, now_ns, &err), 0);
	ck_assert_uint_eq(cell.level, 3600 * S);
	ck_assert_uint_eq(cell.wait, 1200 * S);
	ck_assert_uint_eq(rl_used(cell.level, 3, 3600), 3);
	/* peeking again changes nothing; half a slot later: 2.5 -> 3 used */
	now_ns += 600 * S;
	ck_assert_int_eq(s->ops->peek(s, &cell, 1, now_ns, &err), 0);
	ck_assert_uint_eq(cell.level, 3000 * S);
	ck_assert_uint_eq(cell.wait, 600 * S);
	ck_assert_uint_eq(rl_used(cell.level, 3, 3600), 3);
	ck_assert_int_eq(s->ops->peek(s, &cell, 1, now_ns, &err), 0);
	ck_assert_uint_eq(cell.level, 3000 * S);
	now_ns += 600 * S;
	ck_assert_int_eq(s->ops->peek(s, &cell, 1, now_ns, &err), 0);
	ck_assert_uint_eq(rl_used(cell.level, 3, 3600), 2);
	ck_assert_uint_eq(cell.wait, 0);
	ck_assert_uint_eq(rl_store_keys(s), 1);
	ck_assert_ptr_null(s->ops->local(s));
	buf_reset(&key);
	s->ops->name(s, &key);
	ck_assert_str_eq(buf_str(&key), "memory");
	buf_free(&key);
	buf_free(&err);
	rl_limit_free(l);
	rl_store_free(s);
}
END_TEST

START_TEST(test_forget)
{
	struct rl_store	*s = rl_store_memory(1000);
	struct rl_limit	*l = limit(RL_COUNT_MESSAGES, RL_PART_SASL_USER, 2, 60, 0);
	struct rl_event	 a = event(NULL, "alice"), b = event(NULL, "bob");
	struct rl_result r;
	struct rl_cell	 cell[3];
	struct buf	 key[3], err = BUF_INIT;
	size_t		 gone = 99;
	int		 i;

	rl_set_clock(fake_clock);
	l->nwindows = 3;
	l->window[1].n = 5;
	l->window[1].secs = 3600;
	l->window[1].burst = 5;
	l->window[2].n = 3;			/* a second window of 1h: "1h#2" */
	l->window[2].secs = 3600;
	l->window[2].burst = 3;
	for (i = 0; i < 2; i++) {
		ck_assert(!admit(s, l, &a, &r));
		ck_assert(!admit(s, l, &b, &r));
	}
	ck_assert(admit(s, l, &a, &r));
	ck_assert_uint_eq(rl_store_keys(s), 6);
	for (i = 0; i < 3; i++) {
		buf_init(&key[i]);
		(void)rl_window_cell(l, (unsigned)i, &a, "alice", &key[i], &cell[i]);
	}
	ck_assert_mem_eq(cell[2].key, "t\0" "1h#2\0" "alice", 12);
	ck_assert_int_eq(s->ops->forget(s, cell, 3, &gone, &err), 0);
	ck_assert_uint_eq(gone, 3);
	ck_assert_uint_eq(rl_store_keys(s), 3);	/* bob's are kept */
	ck_assert(!admit(s, l, &a, &r));	/* alice goes through again */
	ck_assert(admit(s, l, &b, &r));		/* bob is still blocked */
	ck_assert_int_eq(s->ops->forget(s, cell, 3, &gone, &err), 0);
	ck_assert_int_eq(s->ops->forget(s, cell, 3, &gone, &err), 0);
	ck_assert_uint_eq(gone, 0);		/* nothing left to forget */
	for (i = 0; i < 3; i++)
		buf_free(&key[i]);
	buf_free(&err);
	rl_limit_free(l);
	rl_store_free(s);
}
END_TEST

START_TEST(test_scan)
{
	struct rl_store	*s = rl_store_memory(1000);
	struct rl_limit	*l = limit(RL_COUNT_MESSAGES, RL_PART_SASL_USER, 2, 60, 0);
	struct rl_limit	*c = limit(RL_COUNT_CONCURRENT, RL_PART_SASL_USER, 5, 0, 0);
	struct rl_limit	*o = limit(RL_COUNT_MESSAGES, RL_PART_SASL_USER, 2, 60, 0);
	struct rl_event	 a = event(NULL, "alice"), b = event(NULL, "bob");
	struct rl_result r;
	struct rl_held	*h;
	struct seen	 w;
	struct buf	 err = BUF_INIT;
	int		 cut = 1, i;

	rl_set_clock(fake_clock);
	free(c->name);
	c->name = strdup("c");
	free(o->name);
	o->name = strdup("tt");			/* "t" is a prefix of its name */
	ck_assert(!admit(s, l, &a, &r));
	ck_assert(!admit(s, l, &a, &r));
	ck_assert(!admit(s, l, &b, &r));
	ck_assert(!admit(s, o, &b, &r));
	h = rl_conn_open(s, LIMS(c), 1, &a);
	memset(&w, 0, sizeof(w));
	ck_assert_int_eq(s->ops->scan(s, "t", 2, now_ns, 1000, remember, &w,
	    &cut, &err), 0);
	ck_assert_int_eq(cut, 0);
	ck_assert_int_eq(w.n, 2);
	for (i = 0; i < 2; i++) {
		if (strcmp(w.key[i], "t|1m|alice") == 0)
			ck_assert_uint_eq(w.value[i], 60 * S);
		else {
			ck_assert_str_eq(w.key[i], "t|1m|bob");
			ck_assert_uint_eq(w.value[i], 30 * S);
		}
	}
	/* concurrency cells: the open count */
	memset(&w, 0, sizeof(w));
	ck_assert_int_eq(s->ops->scan(s, "c", 2, now_ns, 1000, remember, &w,
	    &cut, &err), 0);
	ck_assert_int_eq(w.n, 1);
	ck_assert_str_eq(w.key[0], "c|c|alice");
	ck_assert_uint_eq(w.value[0], 1);
	/* the bound: one key looked at, of the five */
	memset(&w, 0, sizeof(w));
	ck_assert_int_eq(s->ops->scan(s, "", 0, now_ns, 1, remember, &w,
	    &cut, &err), 0);
	ck_assert_int_eq(cut, 1);
	ck_assert_int_le(w.n, 1);
	/* decayed cells are not shown */
	now_ns += 31 * S;
	memset(&w, 0, sizeof(w));
	ck_assert_int_eq(s->ops->scan(s, "t", 2, now_ns, 1000, remember, &w,
	    &cut, &err), 0);
	ck_assert_int_eq(w.n, 1);
	ck_assert_str_eq(w.key[0], "t|1m|alice");
	rl_conn_close(s, h);
	buf_free(&err);
	rl_limit_free(l);
	rl_limit_free(c);
	rl_limit_free(o);
	rl_store_free(s);
}
END_TEST

#define NCASES(a)	((int)(sizeof(a) / sizeof((a)[0])))

int
main(void)
{
	Suite	*s = suite_create("ratelimit");
	TCase	*tc = tcase_create("all");
	SRunner	*sr;
	int	 failed;

	tcase_add_loop_test(tc, test_burst_then_rate, 0, NCASES(burst_cases));
	tcase_add_loop_test(tc, test_windows, 0, NCASES(window_cases));
	tcase_add_loop_test(tc, test_ip_keys, 0, NCASES(ip_cases));
	tcase_add_test(tc, test_same_network);
	tcase_add_loop_test(tc, test_keys, 0, NCASES(key_cases));
	tcase_add_test(tc, test_no_client_ip);
	tcase_add_test(tc, test_long_keys);
	tcase_add_loop_test(tc, test_override, 0, NCASES(override_cases));
	tcase_add_test(tc, test_zero_rate);
	tcase_add_test(tc, test_count_on_accept);
	tcase_add_test(tc, test_several_keys);
	tcase_add_test(tc, test_pending_recipients);
	tcase_add_test(tc, test_pending_per_domain);
	tcase_add_test(tc, test_bytes);
	tcase_add_test(tc, test_concurrent);
	tcase_add_test(tc, test_concurrent_keys);
	tcase_add_loop_test(tc, test_bounded_keys, 0, NCASES(bound_cases));
	tcase_add_test(tc, test_eviction_order);
	tcase_add_test(tc, test_threads);
	tcase_add_test(tc, test_peek);
	tcase_add_test(tc, test_forget);
	tcase_add_test(tc, test_scan);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
