/*
 * test_milter -- one MTA connection's protocol state machine (milter.c)
 * driven as the engine drives it, with the real sessions behind it (no
 * DNS engine: checks that need one give temperror): what negotiation
 * asks for with the shipped default.rules and the round trips a message
 * then costs (at most 4); a connection reused after QUIT_NC keeps its
 * negotiated options and the rule set they were negotiated for, across a
 * reload; a connection beyond max_connections gets 421 4.3.2 at HELO;
 * the header bounds (552 5.3.4); protocol errors close the connection.
 */
#include "config.h"

#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libmilter/mfapi.h>

#include "buf.h"
#include "cfg.h"
#include "diag.h"
#include "log.h"
#include "milter.h"
#include "mproto.h"
#include "ratelimit.h"
#include "rules.h"

static struct cfg	 cfg;
static struct buf	 logbuf = BUF_INIT;

/* load -- a rule set from text (written to a temporary file) */
static struct rules *
load(const char *text)
{
	char		 path[] = "/tmp/test_milter.XXXXXX";
	struct diag	 d = DIAG_INIT;
	struct rules	*r;
	FILE		*f;
	int		 fd;

	fd = mkstemp(path);
	ck_assert_int_ne(fd, -1);
	f = fdopen(fd, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
	r = rules_load(path, &d);
	(void)unlink(path);
	ck_assert_msg(r != NULL && d.errors == 0, "%s", buf_str(&d.out));
	diag_free(&d);
	return r;
}

/* load_file -- a rule set from a file of the source tree */
static struct rules *
load_file(const char *rel)
{
	const char	*src = getenv("srcdir");
	struct diag	 d = DIAG_INIT;
	struct rules	*r;
	char		 p[512];

	(void)snprintf(p, sizeof(p), "%s/%s", src != NULL ? src : ".", rel);
	r = rules_load(p, &d);
	ck_assert_msg(r != NULL && d.errors == 0, "%s", buf_str(&d.out));
	diag_free(&d);
	return r;
}

/* the MTA side: commands framed into a buffer */
static void
cmd(struct buf *b, int c, const void *data, size_t n)
{
	mproto_put_packet(b, c, data, n);
}

/* strs -- NUL-terminated strings one after another into s (its length) */
static size_t
strs(char *s, size_t cap, const char *const *v)
{
	size_t	n = 0, l;

	for (; *v != NULL; v++) {
		l = strlen(*v) + 1;
		ck_assert_uint_le(n + l, cap);
		memcpy(s + n, *v, l);
		n += l;
	}
	return n;
}

static void
macro(struct buf *b, char stage, const char *const *nv)
{
	char	d[512];
	size_t	n;

	d[0] = stage;
	n = strs(d + 1, sizeof(d) - 1, nv);
	cmd(b, SMFIC_MACRO, d, n + 1);
}

static void
optneg(struct buf *b)
{
	unsigned char	d[12] = {
		0, 0, 0, 6,		/* version */
		0, 0, 0x01, 0xff,	/* actions: Postfix 3's */
		0, 0x1f, 0xff, 0xff	/* protocol: every bit Postfix offers */
	};

	cmd(b, SMFIC_OPTNEG, d, sizeof(d));
}

static void
connect4(struct buf *b, const char *host, const char *ip)
{
	char	d[256];
	size_t	n = strlen(host) + 1;

	memcpy(d, host, n);
	d[n++] = SMFIA_INET;
	d[n++] = 0x09;
	d[n++] = 0xc4;
	memcpy(d + n, ip, strlen(ip) + 1);
	n += strlen(ip) + 1;
	cmd(b, SMFIC_CONNECT, d, n);
}

static void
str1(struct buf *b, int c, const char *s)
{
	cmd(b, c, s, strlen(s) + 1);
}

static void
header(struct buf *b, const char *name, const char *value)
{
	char	d[512];
	const char *v[] = { name, value, NULL };

	cmd(b, SMFIC_HEADER, d, strs(d, sizeof(d), v));
}

/* one SMTP session's commands, as Postfix sends them */
static void
smtp_session(struct buf *b, const char *ip, const char *helo,
    const char *from, const char *rcpt)
{
	static const char *const cm[] = { "{daemon_name}", "smtp", NULL };
	static const char *const mm[] = { "i", "Q1", NULL };

	macro(b, SMFIC_CONNECT, cm);
	connect4(b, "client.example", ip);
	str1(b, SMFIC_HELO, helo);
	macro(b, SMFIC_MAIL, mm);
	str1(b, SMFIC_MAIL, from);
	str1(b, SMFIC_RCPT, rcpt);
	cmd(b, SMFIC_DATA, NULL, 0);
	header(b, "From", " a@sender.example");
	header(b, "Subject", " hello");
	cmd(b, SMFIC_EOH, NULL, 0);
	cmd(b, SMFIC_BODY, "hello\r\n", 7);
	cmd(b, SMFIC_BODYEOB, NULL, 0);
}

/* the replies of one mconn_input call */
struct replies {
	size_t	final;		/* c t r a y O: an answer the MTA waited for */
	size_t	mods;		/* h i m */
	int	last;		/* the last final reply's command */
	char	text[1024];	/* the last REPLYCODE / header value seen */
	uint32_t proto;		/* from an OPTNEG reply */
};

/* hdr_text -- a header change as "name:value" (after INS/CHG's index) */
static void
hdr_text(const struct mproto_packet *p, char *t, size_t cap)
{
	size_t	skip = p->cmd == SMFIR_ADDHEADER ? 0 : 4, n, i;

	ck_assert_uint_ge(p->len, skip + 2);
	n = p->len - skip - 1;		/* without the last NUL */
	ck_assert_uint_lt(n, cap);
	memcpy(t, p->data + skip, n);
	t[n] = '\0';
	for (i = 0; i < n; i++)
		if (t[i] == '\0')
			t[i] = ':';
}

static void
parse(const struct buf *out, struct replies *r)
{
	struct mproto_reader	 rd;
	struct mproto_packet	 p;
	struct buf		 err = BUF_INIT;
	const unsigned char	*d = (const unsigned char *)out->data;
	size_t			 n = out->len, used;

	memset(r, 0, sizeof(*r));
	mproto_reader_init(&rd);
	while (n > 0) {
		ck_assert_int_eq(mproto_feed(&rd, d, n, &used, &p, &err),
		    MPROTO_PACKET);
		d += used;
		n -= used;
		switch (p.cmd) {
		case SMFIR_ADDHEADER:
		case SMFIR_INSHEADER:
		case SMFIR_CHGHEADER:
			r->mods++;
			hdr_text(&p, r->text, sizeof(r->text));
			break;
		case SMFIR_REPLYCODE:
			(void)snprintf(r->text, sizeof(r->text), "%s",
			    (const char *)p.data);
			/* FALLTHROUGH */
		default:
			r->final++;
			r->last = p.cmd;
			if (p.cmd == SMFIC_OPTNEG && p.len >= 12)
				r->proto = (uint32_t)p.data[8] << 24 |
				    (uint32_t)p.data[9] << 16 |
				    (uint32_t)p.data[10] << 8 | p.data[11];
		}
	}
	mproto_reader_free(&rd);
	buf_free(&err);
}

/* the protocol bits of the connection being driven (from its OPTNEG reply) */
static uint32_t	neg;

/* off -- a command (or its macros) that negotiation switched off */
static int
off(int cmd)
{
	switch (cmd) {
	case SMFIC_CONNECT:	return (neg & SMFIP_NOCONNECT) != 0;
	case SMFIC_HELO:	return (neg & SMFIP_NOHELO) != 0;
	case SMFIC_MAIL:	return (neg & SMFIP_NOMAIL) != 0;
	case SMFIC_RCPT:	return (neg & SMFIP_NORCPT) != 0;
	case SMFIC_DATA:	return (neg & SMFIP_NODATA) != 0;
	case SMFIC_HEADER:	return (neg & SMFIP_NOHDRS) != 0;
	case SMFIC_EOH:		return (neg & SMFIP_NOEOH) != 0;
	case SMFIC_BODY:	return (neg & SMFIP_NOBODY) != 0;
	default:		return 0;
	}
}

/*
 * run -- feed the commands in `in` one at a time, as Postfix would: none
 * that negotiation switched off, and each waiting for its answer; count
 * the commands that got one (neg: set from an OPTNEG reply)
 */
static size_t
run(struct mconn *c, const struct buf *in, struct replies *last,
    enum mconn_rc *rc)
{
	struct mproto_reader	 rd;
	struct mproto_packet	 p;
	struct buf		 err = BUF_INIT, out = BUF_INIT;
	struct replies		 r;
	const unsigned char	*d = (const unsigned char *)in->data;
	size_t			 n = in->len, used, answered = 0;

	mproto_reader_init(&rd);
	*rc = MCONN_OPEN;
	while (n > 0 && *rc == MCONN_OPEN) {
		ck_assert_int_eq(mproto_feed(&rd, d, n, &used, &p, &err),
		    MPROTO_PACKET);
		if (off(p.cmd) || (p.cmd == SMFIC_MACRO && p.len > 0 &&
		    off(p.data[0]))) {
			d += used;
			n -= used;
			continue;
		}
		buf_reset(&out);
		*rc = mconn_input(c, d, used, &out);
		d += used;
		n -= used;
		parse(&out, &r);
		if (r.last == SMFIC_OPTNEG)
			neg = r.proto;
		ck_assert_uint_le(r.final, 1);
		if (r.final == 1) {
			answered++;
			if (last != NULL)
				*last = r;
		}
	}
	mproto_reader_free(&rd);
	buf_free(&err);
	buf_free(&out);
	return answered;
}

static void
setup(void)
{
	log_capture(&logbuf);
	cfg_defaults(&cfg);
	cfg.add_auth_results = 0;
	milter_set_store(rl_store_memory(1000));
	milter_set_dns(NULL);
}

/*
 * default.rules: OPTNEG, then HELO (where a connect refusal goes), RCPT
 * (its rules) and end of message: 4 answers a message, and none for
 * CONNECT, MAIL, DATA, header fields, end of headers or body
 */
START_TEST(test_default_rules_round_trips)
{
	struct rules	*r = load_file("rules/default.rules");
	struct mconn	*c;
	struct buf	 in = BUF_INIT;
	struct replies	 last;
	enum mconn_rc	 rc;
	uint32_t	 want_nr = SMFIP_NR_CONN | SMFIP_NR_MAIL |
			    SMFIP_NR_HDR | SMFIP_NR_EOH | SMFIP_NR_BODY;

	cfg.add_auth_results = 1;
	milter_init(&cfg, r);
	rules_unref(r);
	c = mconn_new(0);
	optneg(&in);
	ck_assert_uint_eq(run(c, &in, &last, &rc), 1);
	ck_assert_int_eq(last.last, SMFIC_OPTNEG);
	ck_assert_msg((last.proto & want_nr) == want_nr, "protocol %#x",
	    last.proto);
	ck_assert_msg((last.proto & (SMFIP_NR_HELO | SMFIP_NR_RCPT |
	    SMFIP_NOHELO | SMFIP_NORCPT | SMFIP_NOHDRS | SMFIP_NOBODY)) == 0,
	    "protocol %#x", last.proto);
	buf_reset(&in);
	smtp_session(&in, "198.51.100.7", "mail.example", "<a@sender.example>",
	    "<b@rcpt.example>");
	ck_assert_uint_eq(run(c, &in, &last, &rc), 3);	/* HELO, RCPT, EOM */
	ck_assert_int_eq(rc, MCONN_OPEN);
	buf_reset(&in);
	cmd(&in, SMFIC_QUIT, NULL, 0);
	ck_assert_uint_eq(run(c, &in, NULL, &rc), 0);
	ck_assert_int_eq(rc, MCONN_CLOSE);
	mconn_free(c);
	buf_free(&in);
	cfg.add_auth_results = 0;
}
END_TEST

static const char old_rules[] =
    "rule tag at eom { if size > 0\n header \"X-Rules\" \"old\" }\n";
static const char new_rules[] =
    "rule tag at eom { if size > 0\n header \"X-Rules\" \"new\" }\n"
    "rule h at helo { if helo is \"x\"\n tempfail 421 4.7.1 \"no\" }\n";

/*
 * QUIT_NC: the next client on the same milter connection is served with
 * the negotiated options (the same answers, no renegotiation) and the
 * rule set they were negotiated for, even after a reload
 */
START_TEST(test_quit_nc_keeps_negotiation)
{
	struct rules	*r = load(old_rules), *r2 = load(new_rules);
	struct mconn	*c;
	struct buf	 in = BUF_INIT;
	struct replies	 last;
	enum mconn_rc	 rc;
	size_t		 first;

	milter_init(&cfg, r);
	c = mconn_new(0);
	optneg(&in);
	ck_assert_uint_eq(run(c, &in, &last, &rc), 1);
	ck_assert_msg(last.proto & SMFIP_NOHELO, "protocol %#x", last.proto);
	buf_reset(&in);
	smtp_session(&in, "198.51.100.7", "x", "<a@s.example>", "<b@r.example>");
	first = run(c, &in, &last, &rc);
	ck_assert_int_eq(last.last, SMFIR_CONTINUE);	/* EOM */
	/* a reload: new connections would negotiate HELO and tag "new" */
	milter_set_rules(r2);
	buf_reset(&in);
	cmd(&in, SMFIC_QUIT_NC, NULL, 0);
	ck_assert_uint_eq(run(c, &in, NULL, &rc), 0);
	ck_assert_int_eq(rc, MCONN_OPEN);
	buf_reset(&in);
	smtp_session(&in, "198.51.100.8", "x", "<a@s.example>", "<b@r.example>");
	ck_assert_uint_eq(run(c, &in, &last, &rc), first);
	ck_assert_int_eq(last.last, SMFIR_CONTINUE);	/* no 421 at HELO */
	mconn_free(c);
	/* a new connection takes the new rules */
	c = mconn_new(0);
	buf_reset(&in);
	optneg(&in);
	connect4(&in, "client.example", "198.51.100.9");
	str1(&in, SMFIC_HELO, "x");
	(void)run(c, &in, &last, &rc);
	ck_assert_msg(strncmp(last.text, "421 4.7.1 no", 12) == 0, "%s",
	    last.text);
	mconn_free(c);
	milter_set_rules(r);
	rules_unref(r);
	rules_unref(r2);
	buf_free(&in);
}
END_TEST

/* the header actions of the session's own rule set (old, then new) */
START_TEST(test_quit_nc_rule_set)
{
	struct rules	*r = load(old_rules), *r2 = load(new_rules);
	struct mconn	*c;
	struct buf	 in = BUF_INIT, out = BUF_INIT;
	struct replies	 rep;

	milter_init(&cfg, r);
	c = mconn_new(0);
	optneg(&in);
	smtp_session(&in, "198.51.100.7", "a", "<a@s.example>", "<b@r.example>");
	cmd(&in, SMFIC_QUIT_NC, NULL, 0);
	(void)mconn_input(c, (unsigned char *)in.data, in.len, &out);
	milter_set_rules(r2);
	buf_reset(&in);
	buf_reset(&out);
	smtp_session(&in, "198.51.100.8", "a", "<a@s.example>", "<b@r.example>");
	ck_assert_int_eq(mconn_input(c, (unsigned char *)in.data, in.len, &out),
	    MCONN_OPEN);
	parse(&out, &rep);
	ck_assert_uint_eq(rep.mods, 1);
	ck_assert_msg(strstr(rep.text, "X-Rules:") != NULL &&
	    strstr(rep.text, "old") != NULL, "%s", rep.text);
	mconn_free(c);
	milter_set_rules(r);
	rules_unref(r);
	rules_unref(r2);
	buf_free(&in);
	buf_free(&out);
}
END_TEST

/* beyond max_connections: no answer at connect, 421 4.3.2 at HELO */
START_TEST(test_overflow)
{
	struct rules	*r = load(old_rules);
	struct mconn	*c;
	struct buf	 in = BUF_INIT;
	struct replies	 last;
	enum mconn_rc	 rc;

	milter_init(&cfg, r);
	rules_unref(r);
	c = mconn_new(1);
	optneg(&in);
	ck_assert_uint_eq(run(c, &in, &last, &rc), 1);
	ck_assert_msg((last.proto & (SMFIP_NR_CONN | SMFIP_NORCPT |
	    SMFIP_NOHDRS | SMFIP_NOBODY)) == (SMFIP_NR_CONN | SMFIP_NORCPT |
	    SMFIP_NOHDRS | SMFIP_NOBODY), "protocol %#x", last.proto);
	buf_reset(&in);
	connect4(&in, "client.example", "192.0.2.1");
	ck_assert_uint_eq(run(c, &in, NULL, &rc), 0);
	buf_reset(&in);
	str1(&in, SMFIC_HELO, "client.example");
	ck_assert_uint_eq(run(c, &in, &last, &rc), 1);
	ck_assert_msg(strncmp(last.text, "421 4.3.2 Too many connections", 30)
	    == 0, "%s", last.text);
	ck_assert_msg(strstr(last.text, "(ref ") != NULL, "%s", last.text);
	ck_assert_msg(strstr(buf_str(&logbuf), "rule=max-connections "
	    "stage=connect action=tempfail") != NULL, "%s", buf_str(&logbuf));
	mconn_free(c);
	buf_free(&in);
	buf_reset(&logbuf);
}
END_TEST

/* more header fields than the bound: 552 5.3.4 at end of message */
START_TEST(test_header_limit)
{
	struct rules	*r = load(old_rules);
	struct mconn	*c;
	struct buf	 in = BUF_INIT, out = BUF_INIT;
	struct replies	 rep;
	size_t		 i;

	milter_init(&cfg, r);
	rules_unref(r);
	c = mconn_new(0);
	optneg(&in);
	connect4(&in, "client.example", "192.0.2.1");
	str1(&in, SMFIC_MAIL, "<a@s.example>");
	str1(&in, SMFIC_RCPT, "<b@r.example>");
	for (i = 0; i <= MCONN_MAX_HEADERS; i++)
		header(&in, "X-Many", " yes");
	cmd(&in, SMFIC_EOH, NULL, 0);
	ck_assert_int_eq(mconn_input(c, (unsigned char *)in.data, in.len, &out),
	    MCONN_OPEN);
	buf_reset(&in);
	buf_reset(&out);
	cmd(&in, SMFIC_BODYEOB, NULL, 0);
	ck_assert_int_eq(mconn_input(c, (unsigned char *)in.data, in.len, &out),
	    MCONN_OPEN);
	parse(&out, &rep);
	ck_assert_uint_eq(rep.mods, 0);
	ck_assert_msg(strncmp(rep.text, "552 5.3.4 ", 10) == 0, "%s", rep.text);
	mconn_free(c);
	buf_free(&in);
	buf_free(&out);
	buf_reset(&logbuf);
}
END_TEST

/* commands out of place close the connection, with a log line */
START_TEST(test_protocol_errors)
{
	struct rules	*r = load(old_rules);
	struct mconn	*c;
	struct buf	 in = BUF_INIT, out = BUF_INIT;
	unsigned char	 huge[8] = { 0, 1, 0, 1, 'B', 0, 0, 0 };

	milter_init(&cfg, r);
	rules_unref(r);
	/* HELO before OPTNEG */
	c = mconn_new(0);
	str1(&in, SMFIC_HELO, "x");
	ck_assert_int_eq(mconn_input(c, (unsigned char *)in.data, in.len, &out),
	    MCONN_CLOSE);
	ck_assert_uint_eq(out.len, 0);
	mconn_free(c);
	/* CONNECT twice */
	c = mconn_new(0);
	buf_reset(&in);
	optneg(&in);
	connect4(&in, "a", "192.0.2.1");
	connect4(&in, "a", "192.0.2.1");
	ck_assert_int_eq(mconn_input(c, (unsigned char *)in.data, in.len, &out),
	    MCONN_CLOSE);
	mconn_free(c);
	/* a packet longer than the protocol allows */
	c = mconn_new(0);
	ck_assert_int_eq(mconn_input(c, huge, sizeof(huge), &out), MCONN_CLOSE);
	mconn_free(c);
	ck_assert_msg(strstr(buf_str(&logbuf), "protocol error") != NULL, "%s",
	    buf_str(&logbuf));
	buf_free(&in);
	buf_free(&out);
	buf_reset(&logbuf);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("milter");
	TCase	*t = tcase_create("milter");
	SRunner	*sr;
	int	 failed;

	setup();
	tcase_add_test(t, test_default_rules_round_trips);
	tcase_add_test(t, test_quit_nc_keeps_negotiation);
	tcase_add_test(t, test_quit_nc_rule_set);
	tcase_add_test(t, test_overflow);
	tcase_add_test(t, test_header_limit);
	tcase_add_test(t, test_protocol_errors);
	suite_add_tcase(s, t);
	sr = srunner_create(s);
	srunner_set_fork_status(sr, CK_NOFORK);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
