/*
 * test_logline -- reading mxgate's log lines back: decision lines as
 * verdict.c's log_decision() writes them (with log_escape's quoting and
 * \xHH), the three prefixes (RFC 3339, classic syslog with the year from
 * the file's time, standard error), lines that are not decisions, and
 * hostile ones: every cut of a real line, bad escapes, control bytes,
 * over-long lines, random bytes. Each line is parsed from a heap copy of
 * exactly its length, so ASan sees any read past its end.
 */
#include "config.h"

#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "logline.h"
#include "xalloc.h"

/* 2026-12-02T09:10:11Z */
#define T0	INT64_C(1796202611)

/* a line as log_decision writes it at rcpt, after an RFC 3339 prefix */
static const char full[] =
    "2026-12-02T09:10:11.123456+00:00 mx1 mxgate[4242]: 4dLk2x0yQbz1: "
    "ref=NGYTHTXHJPTG rule=listed stage=rcpt action=tempfail "
    "reply=\"451 4.7.1 192.0.2.7 is listed on Spamhaus ZEN (ref NGYTHTXHJPTG)\" "
    "client=mail.example.net[192.0.2.7] helo=mail.example.net "
    "from=<alice@example.net> rcpt=<bob@example.org> sasl=alice "
    "spf=pass dkim=none dmarc=none dnsbl=zen:SBL/XBL(+8),dnswl(-5) "
    "limit=user_hour:500/500/1h";

/* parse -- one line from an exact-size heap copy */
static enum logline_kind
parse(struct logline *l, const char *s, size_t len, struct logline_ctx *ctx)
{
	char			*copy = xmalloc(len ? len : 1);
	enum logline_kind	 k;

	memcpy(copy, s, len);
	k = logline_parse(l, copy, len, ctx);
	free(copy);
	return k;
}

/* ctx_at -- the classic-timestamp context of a file written at t */
static struct logline_ctx
ctx_at(int64_t t)
{
	struct logline_ctx ctx;

	logline_context(&ctx, (time_t)t);
	return ctx;
}

START_TEST(test_full_line)
{
	struct logline		l;
	struct logline_ctx	ctx = ctx_at(T0);

	logline_init(&l);
	ck_assert_int_eq(parse(&l, full, strlen(full), &ctx), LOGLINE_DECISION);
	ck_assert_int_eq(l.has_time, 1);
	ck_assert_int_eq(l.time, T0);
	ck_assert_uint_eq(l.usec, 123456);
	ck_assert_int_eq(l.pid, 4242);
	ck_assert_str_eq(l.qid, "4dLk2x0yQbz1");
	ck_assert_str_eq(l.ref, "NGYTHTXHJPTG");
	ck_assert_str_eq(l.rule, "listed");
	ck_assert_str_eq(l.stage, "rcpt");
	ck_assert_str_eq(l.action, "tempfail");
	ck_assert_str_eq(l.reply,
	    "451 4.7.1 192.0.2.7 is listed on Spamhaus ZEN (ref NGYTHTXHJPTG)");
	ck_assert_str_eq(l.client_name, "mail.example.net");
	ck_assert_str_eq(l.client_ip, "192.0.2.7");
	ck_assert_str_eq(l.helo, "mail.example.net");
	ck_assert_str_eq(l.from, "alice@example.net");
	ck_assert_str_eq(l.rcpt, "bob@example.org");
	ck_assert_str_eq(l.sasl, "alice");
	ck_assert_str_eq(l.spf, "pass");
	ck_assert_str_eq(l.dkim, "none");
	ck_assert_str_eq(l.dmarc, "none");
	ck_assert_str_eq(l.dnsbl, "zen:SBL/XBL(+8),dnswl(-5)");
	ck_assert_str_eq(l.limit, "user_hour:500/500/1h");
	ck_assert_ptr_null(l.text);
	logline_free(&l);
}
END_TEST

/* the values log_escape writes: quoted with spaces, \" \\ \xHH */
static const struct {
	const char	*in;		/* after "mxgate[1]: NOQUEUE: ref=R rule=r stage=helo action=tempfail " */
	const char	*name, *ip, *helo, *from, *reply, *sasl;
} values[] = {
	{ "client=unknown[\"\"]", "unknown", "", NULL, NULL, NULL, NULL },
	{ "client=\"my host\"[2001:db8::1]", "my host", "2001:db8::1", NULL, NULL,
	  NULL, NULL },
	{ "client=a[b[192.0.2.1]", "a[b", "192.0.2.1", NULL, NULL, NULL, NULL },
	{ "client=x[1.2.3.4] helo=caf\\xC3\\xA9", "x", "1.2.3.4", "caf\xc3\xa9",
	  NULL, NULL, NULL },
	{ "client=x[1.2.3.4] helo=\"two words\"", "x", "1.2.3.4", "two words",
	  NULL, NULL, NULL },
	{ "client=x[1.2.3.4] helo=back\\\\slash", "x", "1.2.3.4", "back\\slash",
	  NULL, NULL, NULL },
	{ "client=x[1.2.3.4] helo=\"say \\\"hi\\\"\"", "x", "1.2.3.4",
	  "say \"hi\"", NULL, NULL, NULL },
	{ "client=x[1.2.3.4] helo=\"\"", "x", "1.2.3.4", "", NULL, NULL, NULL },
	{ "client=x[1.2.3.4] helo=tab\\x09and\\x0Anl", "x", "1.2.3.4",
	  "tab\tand\nnl", NULL, NULL, NULL },
	{ "client=x[1.2.3.4] from=<\"\">", "x", "1.2.3.4", NULL, "", NULL, NULL },
	{ "client=x[1.2.3.4] from=<a>b@x.example>", "x", "1.2.3.4", NULL,
	  "a>b@x.example", NULL, NULL },
	{ "client=x[1.2.3.4] from=<\"\\\"a b\\\"@x.example\">", "x", "1.2.3.4",
	  NULL, "\"a b\"@x.example", NULL, NULL },
	{ "reply=\"451 4.7.1 100% \\\\ sure\" client=x[1.2.3.4]", "x",
	  "1.2.3.4", NULL, NULL, "451 4.7.1 100% \\ sure", NULL },
	{ "client=x[1.2.3.4] sasl=j\\xC3\\xA9r\\xC3\\xB4me", "x", "1.2.3.4",
	  NULL, NULL, NULL, "j\xc3\xa9r\xc3\xb4me" },
	{ "client=x[1.2.3.4] customer=acme sasl=u", "x", "1.2.3.4", NULL, NULL,
	  NULL, "u" },
};

/* eq -- a field equals its expected value (both NULL: absent) */
static void
eq(const char *what, const char *got, const char *want)
{
	if (want == NULL)
		ck_assert_msg(got == NULL, "%s: got \"%s\", want none", what, got);
	else
		ck_assert_msg(got != NULL && strcmp(got, want) == 0,
		    "%s: got \"%s\", want \"%s\"", what, got ? got : "(none)", want);
}

START_TEST(test_values)
{
	struct logline	l;
	char		line[512];
	int		n;

	n = snprintf(line, sizeof(line), "mxgate[1]: NOQUEUE: ref=R rule=r "
	    "stage=helo action=tempfail %s", values[_i].in);
	ck_assert(n > 0 && (size_t)n < sizeof(line));
	logline_init(&l);
	ck_assert_msg(parse(&l, line, (size_t)n, NULL) == LOGLINE_DECISION,
	    "%s: %s", values[_i].in, l.why ? l.why : "not a decision");
	ck_assert_int_eq(l.has_time, 0);
	ck_assert_str_eq(l.qid, "NOQUEUE");
	eq("client name", l.client_name, values[_i].name);
	eq("client ip", l.client_ip, values[_i].ip);
	eq("helo", l.helo, values[_i].helo);
	eq("from", l.from, values[_i].from);
	eq("reply", l.reply, values[_i].reply);
	eq("sasl", l.sasl, values[_i].sasl);
	logline_free(&l);
}
END_TEST

/* prefixes: the time they give (TZ=UTC), or 0 for none; the kind */
static const struct {
	const char	*prefix;
	int64_t		 ref;		/* the file's mtime for classic */
	enum logline_kind kind;
	int		 has_time;
	int64_t		 time;
} prefixes[] = {
	{ "2026-12-02T09:10:11+00:00 mx1 ", 0, LOGLINE_DECISION, 1, T0 },
	{ "2026-12-02T09:10:11Z mx1 ", 0, LOGLINE_DECISION, 1, T0 },
	{ "2026-12-02T10:10:11.5+01:00 mx1 ", 0, LOGLINE_DECISION, 1, T0 },
	{ "2026-12-02T04:10:11-0500 mx1 ", 0, LOGLINE_DECISION, 1, T0 },
	{ "2026-12-02T09:10:11 mx1 ", 0, LOGLINE_DECISION, 1, T0 },
	{ "2026-12-02T09:10:11+00:00 ", 0, LOGLINE_DECISION, 1, T0 },
	{ "Dec  2 09:10:11 mx1 ", T0 + 86400 * 20, LOGLINE_DECISION, 1, T0 },
	{ "Dec 02 09:10:11 mx1 ", T0, LOGLINE_DECISION, 1, T0 },
	{ "Dec 2 09:10:11 mx1 ", T0, LOGLINE_DECISION, 1, T0 },
	/* written in January 2027: December lines are from 2026 */
	{ "Dec  2 09:10:11 mx1 ", INT64_C(1798949106), LOGLINE_DECISION, 1, T0 },
	{ "Jan  3 04:05:06 mx1 ", INT64_C(1798949106), LOGLINE_DECISION, 1,
	  INT64_C(1798949106) },
	{ "", 0, LOGLINE_DECISION, 0, 0 },
	/* mxgate's lines with a time that is none */
	{ "2026-02-30T09:10:11Z mx1 ", 0, LOGLINE_MALFORMED, 0, 0 },
	{ "2026-13-02T09:10:11Z mx1 ", 0, LOGLINE_MALFORMED, 0, 0 },
	{ "2026-12-02T25:10:11Z mx1 ", 0, LOGLINE_MALFORMED, 0, 0 },
	{ "2026-12-02T09:10:11+0 mx1 ", 0, LOGLINE_MALFORMED, 0, 0 },
	{ "Foo  2 09:10:11 mx1 ", 0, LOGLINE_MALFORMED, 0, 0 },
	{ "Dec 32 09:10:11 mx1 ", 0, LOGLINE_MALFORMED, 0, 0 },
	{ "Feb 30 09:10:11 mx1 ", T0, LOGLINE_MALFORMED, 0, 0 },
	{ "Dec  2 9:10:11 mx1 ", 0, LOGLINE_MALFORMED, 0, 0 },
	/* another program's line, or not the mxgate[PID] tag */
	{ "2026-12-02T09:10:11Z mx1 postfix/smtpd[3]: x ", 0, LOGLINE_OTHER, 0, 0 },
	{ "2026-12-02T09:10:11Z mx1 notmxgate", 0, LOGLINE_OTHER, 0, 0 },
};

START_TEST(test_prefixes)
{
	static const char msg[] = "mxgate[77]: NOQUEUE: ref=R rule=r "
	    "stage=connect action=tempfail client=x[192.0.2.1]";
	struct logline		l;
	struct logline_ctx	ctx = ctx_at(prefixes[_i].ref);
	char			line[256];
	int			n;

	n = snprintf(line, sizeof(line), "%s%s", prefixes[_i].prefix, msg);
	ck_assert(n > 0 && (size_t)n < sizeof(line));
	logline_init(&l);
	ck_assert_msg(parse(&l, line, (size_t)n, &ctx) == prefixes[_i].kind,
	    "%s: kind (%s)", line, l.why ? l.why : "-");
	if (prefixes[_i].kind == LOGLINE_DECISION) {
		ck_assert_int_eq(l.pid, 77);
		ck_assert_int_eq(l.has_time, prefixes[_i].has_time);
		if (l.has_time)
			ck_assert_int_eq(l.time, prefixes[_i].time);
	}
	logline_free(&l);
}
END_TEST

/* fractions of a second: 1 to 9 digits, as microseconds */
START_TEST(test_fraction)
{
	static const struct {
		const char	*frac;
		int		 ok;
		uint32_t	 usec;
	} c[] = {
		{ ".5", 1, 500000 }, { ".123456", 1, 123456 },
		{ ".123456789", 1, 123456 }, { ".000001", 1, 1 },
		{ ".", 0, 0 }, { ".1234567890", 0, 0 },
	};
	struct logline	l;
	char		line[256];
	size_t		i;
	int		n;

	logline_init(&l);
	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		n = snprintf(line, sizeof(line), "2026-12-02T09:10:11%sZ mx1 "
		    "mxgate[1]: Q: ref=R rule=r stage=connect action=tempfail "
		    "client=x[192.0.2.1]", c[i].frac);
		ck_assert(n > 0 && (size_t)n < sizeof(line));
		ck_assert_int_eq(parse(&l, line, (size_t)n, NULL),
		    c[i].ok ? LOGLINE_DECISION : LOGLINE_MALFORMED);
		if (c[i].ok) {
			ck_assert_uint_eq(l.usec, c[i].usec);
			ck_assert_int_eq(l.time, T0);
		}
	}
	logline_free(&l);
}
END_TEST

/* classic timestamps are local time: a POSIX TZ rule needs no tzdata */
START_TEST(test_local_zone)
{
	static const char winter[] = "Dec  2 10:10:11 mx1 mxgate[1]: NOQUEUE: "
	    "ref=R rule=r stage=connect action=tempfail client=x[192.0.2.1]";
	static const char summer[] = "Jul  1 12:00:00 mx1 mxgate[1]: NOQUEUE: "
	    "ref=R rule=r stage=connect action=tempfail client=x[192.0.2.1]";
	struct logline		l;
	struct logline_ctx	ctx;
	int64_t			t;

	setenv("TZ", "CET-1CEST,M3.5.0,M10.5.0/3", 1);
	tzset();
	logline_context(&ctx, (time_t)T0);
	logline_init(&l);
	ck_assert_int_eq(parse(&l, winter, strlen(winter), &ctx), LOGLINE_DECISION);
	ck_assert_int_eq(l.time, T0);
	/* the hour cache must not carry one hour's offset into another */
	ck_assert_int_eq(parse(&l, summer, strlen(summer), &ctx), LOGLINE_DECISION);
	ck_assert_int_eq(l.time, INT64_C(1782900000));	/* 2026-07-01T10:00:00Z */
	ck_assert_int_eq(logline_time("2026-12-02", 10, &t), 0);
	ck_assert_int_eq(t, INT64_C(1796169600) - 3600);
	logline_free(&l);
	setenv("TZ", "UTC", 1);
	tzset();
}
END_TEST

/* lines that are no decisions */
static const char *const others[] = {
	"",
	"Dec  2 09:10:11 mx1 postfix/smtpd[123]: connect from unknown[192.0.2.1]",
	"Dec  2 09:10:11 mx1 mxgate[1]: mxgate 0.1.0 started: 4 rules",
	"Dec  2 09:10:11 mx1 mxgate[1]: warning: dnsbl zen: timeout",
	"Dec  2 09:10:11 mx1 mxgate[1]: reload: ok",
	"Dec  2 09:10:11 mx1 mxgate[1]: NOQUEUE: something else",
	"Dec  2 09:10:11 mx1 mxgate[1]: a b: ref=X rule=y",
	"-- Boot 1234 --",
	"just some text",
	"mxgate[x]: NOQUEUE: ref=R rule=r",
	"mxgate[1] NOQUEUE: ref=R rule=r",
};

START_TEST(test_others)
{
	struct logline	l;

	logline_init(&l);
	ck_assert_msg(parse(&l, others[_i], strlen(others[_i]), NULL) ==
	    LOGLINE_OTHER, "%s", others[_i]);
	logline_free(&l);
}
END_TEST

/* mxgate's decision lines that cannot be read */
static const char *const broken[] = {
	"mxgate[1]: Q: ref=R rule=r stage=s action=a client=x[1.2.3.4] helo=\"open",
	"mxgate[1]: Q: ref=R rule=r stage=s action=a client=x[1.2.3.4] helo=\\xZZ",
	"mxgate[1]: Q: ref=R rule=r stage=s action=a client=x[1.2.3.4] helo=a\\x0",
	"mxgate[1]: Q: ref=R rule=r stage=s action=a client=x[1.2.3.4] helo=a\\x00b",
	"mxgate[1]: Q: ref=R rule=r stage=s action=a client=x[1.2.3.4] helo=a\\q",
	"mxgate[1]: Q: ref=R rule=r stage=s action=a client=x[1.2.3.4] helo=a\\",
	"mxgate[1]: Q: ref=R rule=r stage=s action=a client=x[1.2.3.4] helo=a\"b",
	"mxgate[1]: Q: ref=R rule=r stage=s action=a client=x[1.2.3.4] helo=\"a\"b",
	"mxgate[1]: Q: ref=R rule=r rule=r2 stage=s action=a client=x[1.2.3.4]",
	"mxgate[1]: Q: ref=R stage=s action=a client=x[1.2.3.4]",
	"mxgate[1]: Q: ref=R rule=r stage=s action=a",
	"mxgate[1]: Q: ref=R rule=r stage=s action=a client=x[1.2.3.4",
	"mxgate[1]: Q: ref=R rule=r stage=s action=a client=x1.2.3.4]",
	"mxgate[1]: Q: ref=R rule=r stage=s action=a client=x[1.2.3.4]z",
	"mxgate[1]: Q: ref=R rule=r stage=s action=a client=\"x\"1.2.3.4",
	"mxgate[1]: Q: ref=R rule=r stage=s action=a client=x[1.2.3.4] from=a@b",
	"mxgate[1]: Q: ref=R rule=r stage=s action=a client=x[1.2.3.4] from=<a@b",
	"mxgate[1]: Q: ref=R rule=r stage=s action=a client=x[1.2.3.4]  helo=h",
	"mxgate[1]: Q: ref=R rule=r stage=s action=a client=x[1.2.3.4] ",
	"mxgate[1]: Q: ref=R rule=r stage=s action=a client=x[1.2.3.4] =v",
	"mxgate[1]: Q: ref=R rule=r stage=s action=a client=x[1.2.3.4] Helo=v",
	"mxgate[1]: Q: ref=R rule=r stage=s action=a client=x[1.2.3.4] helo",
	"mxgate[1]: Q: ref=R rule=r stage=s action=a client=x[1.2.3.4] helo=a\tb",
	"Dec  2 09:10:11 mx1 mxgate[1]: Q: ref=R rule=r\x7f stage=s action=a "
	    "client=x[1.2.3.4]",
};

START_TEST(test_broken)
{
	struct logline	l;

	logline_init(&l);
	ck_assert_msg(parse(&l, broken[_i], strlen(broken[_i]), NULL) ==
	    LOGLINE_MALFORMED, "%s", broken[_i]);
	ck_assert_ptr_nonnull(l.why);
	logline_free(&l);
}
END_TEST

/* a NUL inside, a line over the limit, and every cut of a real line */
START_TEST(test_hostile)
{
	struct logline	 l;
	struct logline_ctx ctx = ctx_at(T0);
	char		*big;
	size_t		 i, len = strlen(full);
	enum logline_kind k;

	logline_init(&l);
	big = xmalloc(len + 1);
	memcpy(big, full, len + 1);
	big[len - 10] = '\0';
	ck_assert_int_eq(parse(&l, big, len, &ctx), LOGLINE_MALFORMED);
	free(big);
	/* the longest line read, and one byte more */
	big = xmalloc(LOGLINE_MAX + 1);
	memcpy(big, full, len);
	memset(big + len, 'x', LOGLINE_MAX + 1 - len);
	memcpy(big + len, " text=", 6);
	ck_assert_int_eq(parse(&l, big, LOGLINE_MAX, &ctx), LOGLINE_DECISION);
	ck_assert_uint_eq(strlen(l.text), LOGLINE_MAX - len - 6);
	ck_assert_int_eq(parse(&l, big, LOGLINE_MAX + 1, &ctx), LOGLINE_MALFORMED);
	ck_assert_str_eq(l.why, "line too long");
	/* a value of escapes: decoded into the value buffer, which holds it */
	for (i = len + 6; i + 4 <= LOGLINE_MAX; i += 4)
		memcpy(big + i, "\\x41", 4);
	ck_assert_int_eq(parse(&l, big, i, &ctx), LOGLINE_DECISION);
	free(big);
	/* every cut: a decision (at a field's end), malformed, or other */
	for (i = 0; i <= len; i++) {
		k = parse(&l, full, i, &ctx);
		ck_assert(k == LOGLINE_DECISION || k == LOGLINE_MALFORMED ||
		    k == LOGLINE_OTHER);
		if (k == LOGLINE_DECISION)
			ck_assert_ptr_nonnull(l.client_ip);
	}
	logline_free(&l);
}
END_TEST

/* random bytes and random mutations of a real line: never a crash */
START_TEST(test_random)
{
	struct logline	l;
	struct logline_ctx ctx = ctx_at(T0);
	char		line[600];
	uint32_t	x = 2463534242u;
	size_t		i, j, n, len = strlen(full);
	static const char alpha[] = "\\\"x[]<> =:A0(),";

	logline_init(&l);
	for (i = 0; i < 20000; i++) {
		memcpy(line, full, len);
		n = len;
		for (j = 0; j < 1 + i % 6; j++) {
			x ^= x << 13;
			x ^= x >> 17;
			x ^= x << 5;
			line[x % len] = i % 2 ? (char)(x >> 8) :
			    alpha[(x >> 8) % (sizeof(alpha) - 1)];
			if (i % 3 == 0)
				n = 40 + x % (len - 40);
		}
		(void)parse(&l, line, n, &ctx);
	}
	logline_free(&l);
}
END_TEST

START_TEST(test_time_arg)
{
	static const struct {
		const char	*in;
		int		 rc;
		int64_t		 t;
	} c[] = {
		{ "2026-12-02", 0, INT64_C(1796169600) },
		{ "2026-12-02T09:10:11Z", 0, T0 },
		{ "2026-12-02T09:10:11", 0, T0 },
		{ "2026-12-02 09:10:11", 0, T0 },
		{ "2026-12-02T09:10", 0, T0 - 11 },
		{ "2026-12-02T10:10:11+01:00", 0, T0 },
		{ "2024-02-29", 0, INT64_C(1709208000) - 12 * 3600 },
		{ "2025-02-29", -1, 0 },
		{ "2026-12-02T", -1, 0 },
		{ "2026-12-2", -1, 0 },
		{ "26-12-02", -1, 0 },
		{ "2026-12-02T09:10:11+01", -1, 0 },
		{ "2026-12-02x", -1, 0 },
		{ "7d", -1, 0 },
		{ "", -1, 0 },
	};
	size_t	i;
	int64_t	t;

	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		t = -1;
		ck_assert_msg(logline_time(c[i].in, strlen(c[i].in), &t) == c[i].rc,
		    "%s: rc", c[i].in);
		if (c[i].rc == 0)
			ck_assert_msg(t == c[i].t, "%s: got %lld want %lld", c[i].in,
			    (long long)t, (long long)c[i].t);
	}
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("logline");
	TCase	*tc = tcase_create("all");
	SRunner	*sr;
	int	 failed;

	/* classic timestamps and dates without a zone are local time */
	setenv("TZ", "UTC", 1);
	tzset();
	tcase_add_test(tc, test_full_line);
	tcase_add_loop_test(tc, test_values, 0, sizeof(values) / sizeof(values[0]));
	tcase_add_loop_test(tc, test_prefixes, 0,
	    sizeof(prefixes) / sizeof(prefixes[0]));
	tcase_add_test(tc, test_fraction);
	tcase_add_test(tc, test_local_zone);
	tcase_add_loop_test(tc, test_others, 0, sizeof(others) / sizeof(others[0]));
	tcase_add_loop_test(tc, test_broken, 0, sizeof(broken) / sizeof(broken[0]));
	tcase_add_test(tc, test_hostile);
	tcase_add_test(tc, test_random);
	tcase_add_test(tc, test_time_arg);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_set_fork_status(sr, CK_NOFORK);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
