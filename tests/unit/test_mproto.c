/*
 * test_mproto -- the milter wire codec: framing in every split, each MTA
 * command decoded from bytes written out by hand, every refusal (length
 * 0, too big, truncated fields, missing NUL, bad family, trailing bytes,
 * too many macros or arguments), and each reply encoder's exact bytes.
 */
#include "config.h"

#include <check.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include <libmilter/mfapi.h>

#include "buf.h"
#include "mproto.h"

/* a raw MTA command: command byte and data, framed by the test */
struct dcase {
	const char	*name;
	int		 cmd;
	const char	*data;
	size_t		 len;
	int		 want;		/* 0 or -1 */
	const char	*wanterr;	/* a part of the message on -1 */
};

#define D(s)	s, sizeof(s) - 1

static const struct dcase dcases[] = {
	{ "optneg", SMFIC_OPTNEG, D("\0\0\0\6\0\0\1\377\0\37\377\377"), 0, NULL },
	{ "optneg extra ignored", SMFIC_OPTNEG, D("\0\0\0\6\0\0\0\0\0\0\0\0xy"), 0, NULL },
	{ "optneg short", SMFIC_OPTNEG, D("\0\0\0\6\0\0\0\0\0\0\0"), -1, "12 bytes" },
	{ "macro", SMFIC_MACRO, D("Cj\0mx.example\0{daemon_name}\0smtpd\0"), 0, NULL },
	{ "macro none", SMFIC_MACRO, D("M"), 0, NULL },
	{ "macro empty", SMFIC_MACRO, D(""), -1, "unknown command" },
	{ "macro bad cmd", SMFIC_MACRO, D("zj\0v\0"), -1, "unknown command" },
	{ "macro no value", SMFIC_MACRO, D("Cj\0"), -1, "without NUL" },
	{ "macro value no nul", SMFIC_MACRO, D("Cj\0v"), -1, "without NUL" },
	{ "macro name no nul", SMFIC_MACRO, D("Cj"), -1, "without NUL" },
	{ "macro empty name", SMFIC_MACRO, D("C\0v\0"), -1, "empty name" },
	{ "connect v4", SMFIC_CONNECT, D("mx.example\0004\0\031192.0.2.1\0"), 0, NULL },
	{ "connect v6", SMFIC_CONNECT, D("[2001:db8::1]\0006\1\0002001:db8::1\0"), 0, NULL },
	{ "connect unix", SMFIC_CONNECT, D("localhost\0L\0\0/tmp/s\0"), 0, NULL },
	{ "connect unknown", SMFIC_CONNECT, D("unknown\0U"), 0, NULL },
	{ "connect unknown trailing", SMFIC_CONNECT, D("unknown\0Ux"), -1, "after the last field" },
	{ "connect bad family", SMFIC_CONNECT, D("h\0X\0\031a\0"), -1, "bad family" },
	{ "connect no family", SMFIC_CONNECT, D("h\0"), -1, "truncated host or family" },
	{ "connect host no nul", SMFIC_CONNECT, D("host"), -1, "truncated host" },
	{ "connect no port", SMFIC_CONNECT, D("h\0004\0"), -1, "truncated port" },
	{ "connect addr no nul", SMFIC_CONNECT, D("h\0004\0\031192.0.2.1"), -1, "address without NUL" },
	{ "connect trailing", SMFIC_CONNECT, D("h\0004\0\031a\0z"), -1, "after the last field" },
	{ "helo", SMFIC_HELO, D("client.example\0"), 0, NULL },
	{ "helo no nul", SMFIC_HELO, D("client.example"), -1, "without NUL" },
	{ "helo empty packet", SMFIC_HELO, D(""), -1, "without NUL" },
	{ "helo trailing", SMFIC_HELO, D("a\0b\0"), -1, "after the last field" },
	{ "mail", SMFIC_MAIL, D("<a@x.example>\0SIZE=100\0BODY=8BITMIME\0"), 0, NULL },
	{ "rcpt", SMFIC_RCPT, D("<b@y.example>\0"), 0, NULL },
	{ "mail empty", SMFIC_MAIL, D(""), -1, "no address" },
	{ "rcpt no nul", SMFIC_RCPT, D("<b@y.example>"), -1, "without NUL" },
	{ "rcpt last no nul", SMFIC_RCPT, D("<b@y>\0NOTIFY=NEVER"), -1, "without NUL" },
	{ "header", SMFIC_HEADER, D("Subject\0 hi\0"), 0, NULL },
	{ "header empty value", SMFIC_HEADER, D("X\0\0"), 0, NULL },
	{ "header no value", SMFIC_HEADER, D("Subject\0"), -1, "without NUL" },
	{ "header value no nul", SMFIC_HEADER, D("Subject\0hi"), -1, "without NUL" },
	{ "header empty name", SMFIC_HEADER, D("\0hi\0"), -1, "empty name" },
	{ "header trailing", SMFIC_HEADER, D("a\0b\0c"), -1, "after the last field" },
	{ "body", SMFIC_BODY, D("line\r\n\0binary"), 0, NULL },
	{ "body empty", SMFIC_BODY, D(""), 0, NULL },
	{ "eob", SMFIC_BODYEOB, D(""), 0, NULL },
	{ "eob with chunk", SMFIC_BODYEOB, D("tail"), 0, NULL },
	{ "eoh", SMFIC_EOH, D(""), 0, NULL },
	{ "data", SMFIC_DATA, D(""), 0, NULL },
	{ "abort", SMFIC_ABORT, D(""), 0, NULL },
	{ "quit", SMFIC_QUIT, D(""), 0, NULL },
	{ "quit_nc", SMFIC_QUIT_NC, D(""), 0, NULL },
	{ "eoh with data", SMFIC_EOH, D("x"), -1, "after the last field" },
	{ "quit with data", SMFIC_QUIT, D("x"), -1, "after the last field" },
	{ "unknown", SMFIC_UNKNOWN, D("VRFY root\0"), 0, NULL },
	{ "unknown no nul", SMFIC_UNKNOWN, D("VRFY root"), -1, "without NUL" },
	{ "bad command", 'z', D(""), -1, "unknown command" },
	{ "nul command", 0, D("abc"), -1, "unknown command" },
};

/* decode -- frame (cmd, data) and decode it through a reader */
static int
decode(int cmd, const void *data, size_t len, struct mproto_msg *m,
    struct buf *wire, struct buf *err)
{
	struct mproto_reader	r;
	struct mproto_packet	pkt;
	size_t			used;
	int			rc;

	buf_reset(wire);
	mproto_put_packet(wire, cmd, data, len);
	mproto_reader_init(&r);
	ck_assert_int_eq(mproto_feed(&r, wire->data, wire->len, &used, &pkt,
	    err), MPROTO_PACKET);
	ck_assert_uint_eq(used, wire->len);
	ck_assert_int_eq(pkt.cmd, cmd);
	ck_assert_uint_eq(pkt.len, len);
	rc = mproto_decode(&pkt, m, err);
	mproto_reader_free(&r);
	return rc;
}

START_TEST(test_decode_table)
{
	const struct dcase	*c = &dcases[_i];
	struct buf		 wire = BUF_INIT, err = BUF_INIT;
	struct mproto_msg	 m;
	int			 got;

	got = decode(c->cmd, c->data, c->len, &m, &wire, &err);
	ck_assert_msg(got == c->want, "%s: got %d want %d (%s)", c->name, got,
	    c->want, buf_str(&err));
	if (c->want == -1)
		ck_assert_msg(strstr(buf_str(&err), c->wanterr) != NULL,
		    "%s: got error \"%s\" want \"%s\"", c->name, buf_str(&err),
		    c->wanterr);
	else
		ck_assert_msg(err.len == 0, "%s: error set on success", c->name);
	buf_free(&wire);
	buf_free(&err);
}
END_TEST

/* the fields of each command, read back from the packet */
START_TEST(test_decode_fields)
{
	struct buf		wire = BUF_INIT, err = BUF_INIT;
	struct mproto_msg	m;

	ck_assert_int_eq(decode(SMFIC_OPTNEG,
	    D("\0\0\0\6\0\0\1\377\0\37\377\377"), &m, &wire, &err), 0);
	ck_assert_uint_eq(m.u.optneg.version, 6);
	ck_assert_uint_eq(m.u.optneg.actions, SMFI_CURR_ACTS);
	ck_assert_uint_eq(m.u.optneg.protocol, 0x1fffff);

	ck_assert_int_eq(decode(SMFIC_MACRO,
	    D("Cj\0mx.example\0{daemon_name}\0smtpd\0"), &m, &wire, &err), 0);
	ck_assert_int_eq(m.u.macros.for_cmd, SMFIC_CONNECT);
	ck_assert_uint_eq(m.u.macros.n, 2);
	ck_assert_str_eq(m.u.macros.name[1], "{daemon_name}");
	ck_assert_str_eq(mproto_macro_get(&m.u.macros, "j"), "mx.example");
	ck_assert_str_eq(mproto_macro_get(&m.u.macros, "daemon_name"), "smtpd");
	ck_assert_str_eq(mproto_macro_get(&m.u.macros, "{daemon_name}"), "smtpd");
	ck_assert_ptr_null(mproto_macro_get(&m.u.macros, "daemon"));
	ck_assert_ptr_null(mproto_macro_get(&m.u.macros, "i"));
	/* odd names are found by themselves (a fuzzer find: "{dae}on_name}") */
	ck_assert_int_eq(decode(SMFIC_MACRO, D("C{a}b}\0v\0{\0w\0}\0x\0"), &m,
	    &wire, &err), 0);
	ck_assert_str_eq(mproto_macro_get(&m.u.macros, "{a}b}"), "v");
	ck_assert_str_eq(mproto_macro_get(&m.u.macros, "{"), "w");
	ck_assert_str_eq(mproto_macro_get(&m.u.macros, "}"), "x");
	ck_assert_ptr_null(mproto_macro_get(&m.u.macros, "a"));

	ck_assert_int_eq(decode(SMFIC_CONNECT,
	    D("[2001:db8::1]\0006\1\0002001:db8::1\0"), &m, &wire, &err), 0);
	ck_assert_str_eq(m.u.conn.host, "[2001:db8::1]");
	ck_assert_int_eq(m.u.conn.family, SMFIA_INET6);
	ck_assert_uint_eq(m.u.conn.port, 256);
	ck_assert_str_eq(m.u.conn.addr, "2001:db8::1");
	ck_assert_int_eq(decode(SMFIC_CONNECT, D("unknown\0U"), &m, &wire,
	    &err), 0);
	ck_assert_int_eq(m.u.conn.family, SMFIA_UNKNOWN);
	ck_assert_uint_eq(m.u.conn.port, 0);
	ck_assert_str_eq(m.u.conn.addr, "");

	ck_assert_int_eq(decode(SMFIC_MAIL,
	    D("<a@x.example>\0SIZE=100\0BODY=8BITMIME\0"), &m, &wire, &err), 0);
	ck_assert_uint_eq(m.u.args.argc, 3);
	ck_assert_str_eq(m.u.args.argv[0], "<a@x.example>");
	ck_assert_str_eq(m.u.args.argv[2], "BODY=8BITMIME");

	ck_assert_int_eq(decode(SMFIC_HEADER, D("Subject\0 hi\0"), &m, &wire,
	    &err), 0);
	ck_assert_str_eq(m.u.header.name, "Subject");
	ck_assert_str_eq(m.u.header.value, " hi");

	ck_assert_int_eq(decode(SMFIC_BODY, D("line\r\n\0binary"), &m, &wire,
	    &err), 0);
	ck_assert_uint_eq(m.u.body.len, 13);
	ck_assert_mem_eq(m.u.body.data, "line\r\n\0binary", 13);

	ck_assert_int_eq(decode(SMFIC_HELO, D("client.example\0"), &m, &wire,
	    &err), 0);
	ck_assert_str_eq(m.u.helo, "client.example");
	ck_assert_int_eq(decode(SMFIC_UNKNOWN, D("VRFY root\0"), &m, &wire,
	    &err), 0);
	ck_assert_str_eq(m.u.unknown, "VRFY root");
	buf_free(&wire);
	buf_free(&err);
}
END_TEST

/* the caps on macros per packet and MAIL/RCPT arguments */
START_TEST(test_decode_caps)
{
	struct buf		wire = BUF_INIT, err = BUF_INIT, d = BUF_INIT;
	struct mproto_msg	m;
	int			i;

	buf_putc(&d, SMFIC_MAIL);
	for (i = 0; i < MPROTO_MAX_MACROS; i++)
		buf_append(&d, "n\0v", 4);
	ck_assert_int_eq(decode(SMFIC_MACRO, d.data, d.len, &m, &wire, &err), 0);
	ck_assert_uint_eq(m.u.macros.n, MPROTO_MAX_MACROS);
	buf_append(&d, "n\0v", 4);
	ck_assert_int_eq(decode(SMFIC_MACRO, d.data, d.len, &m, &wire, &err), -1);
	ck_assert_ptr_nonnull(strstr(buf_str(&err), "more than 64 macros"));

	buf_reset(&d);
	buf_reset(&err);
	for (i = 0; i < MPROTO_MAX_ARGS; i++)
		buf_append(&d, "a", 2);
	ck_assert_int_eq(decode(SMFIC_RCPT, d.data, d.len, &m, &wire, &err), 0);
	ck_assert_uint_eq(m.u.args.argc, MPROTO_MAX_ARGS);
	buf_append(&d, "a", 2);
	ck_assert_int_eq(decode(SMFIC_RCPT, d.data, d.len, &m, &wire, &err), -1);
	ck_assert_ptr_nonnull(strstr(buf_str(&err), "more than 64 arguments"));
	buf_free(&wire);
	buf_free(&err);
	buf_free(&d);
}
END_TEST

/* a stream of packets; each is checked as it comes out */
static const struct { int cmd; const char *data; size_t len; } stream[] = {
	{ SMFIC_OPTNEG, D("\0\0\0\6\0\0\1\377\0\37\377\377") },
	{ SMFIC_MACRO, D("Cj\0mx\0") },
	{ SMFIC_CONNECT, D("h\0004\0\031192.0.2.1\0") },
	{ SMFIC_EOH, D("") },
	{ SMFIC_BODY, D("hello\r\n") },
	{ SMFIC_QUIT, D("") },
};
#define NSTREAM	(sizeof(stream) / sizeof(stream[0]))

/* feed_all -- feed wire in chunks of `step` bytes; count the packets */
static size_t
feed_all(const struct buf *wire, size_t step)
{
	struct mproto_reader	r;
	struct mproto_packet	pkt;
	struct buf		err = BUF_INIT;
	size_t			off = 0, end, used, got = 0;
	enum mproto_rc		rc;

	mproto_reader_init(&r);
	while (off < wire->len) {
		end = off + step < wire->len ? off + step : wire->len;
		while (off < end) {
			rc = mproto_feed(&r, wire->data + off, end - off, &used,
			    &pkt, &err);
			ck_assert_int_ne(rc, MPROTO_ERROR);
			ck_assert_uint_le(used, end - off);
			off += used;
			if (rc == MPROTO_MORE) {
				ck_assert_uint_eq(off, end);
				continue;
			}
			ck_assert_uint_lt(got, NSTREAM);
			ck_assert_int_eq(pkt.cmd, stream[got].cmd);
			ck_assert_uint_eq(pkt.len, stream[got].len);
			ck_assert_mem_eq(pkt.data, stream[got].data, pkt.len);
			got++;
		}
	}
	/* a reader at a packet boundary holds no data */
	ck_assert_uint_eq(r.hdrlen, 0);
	mproto_reader_free(&r);
	buf_free(&err);
	return got;
}

START_TEST(test_split_feeds)
{
	struct buf	wire = BUF_INIT;
	size_t		i, step;

	for (i = 0; i < NSTREAM; i++)
		mproto_put_packet(&wire, stream[i].cmd, stream[i].data,
		    stream[i].len);
	for (step = 1; step <= wire.len; step++)
		ck_assert_msg(feed_all(&wire, step) == NSTREAM,
		    "step %zu: packets lost", step);
	buf_free(&wire);
}
END_TEST

/* lengths 0 and above the cap are refused, the reader stays dead */
START_TEST(test_frame_limits)
{
	static const struct { const char *name; unsigned char hdr[4]; int want; } lc[] = {
		{ "zero", { 0, 0, 0, 0 }, MPROTO_ERROR },
		{ "max", { 0, 1, 0, 0 }, MPROTO_MORE },
		{ "max+1", { 0, 1, 0, 1 }, MPROTO_ERROR },
		{ "huge", { 0xff, 0xff, 0xff, 0xff }, MPROTO_ERROR },
		{ "2^31", { 0x80, 0, 0, 0 }, MPROTO_ERROR },
	};
	struct mproto_reader	r;
	struct mproto_packet	pkt;
	struct buf		err = BUF_INIT, big = BUF_INIT;
	size_t			i, used;
	enum mproto_rc		got;

	for (i = 0; i < sizeof(lc) / sizeof(lc[0]); i++) {
		mproto_reader_init(&r);
		buf_reset(&err);
		got = mproto_feed(&r, lc[i].hdr, 4, &used, &pkt, &err);
		ck_assert_msg(got == lc[i].want, "%s: got %d want %d", lc[i].name,
		    got, lc[i].want);
		if (got == MPROTO_ERROR) {
			ck_assert_ptr_nonnull(strstr(buf_str(&err), "outside 1..65536"));
			ck_assert_int_eq(mproto_feed(&r, "x", 1, &used, &pkt, &err),
			    MPROTO_ERROR);
		}
		/* nothing is allocated for the announced length */
		ck_assert_uint_eq(r.pkt.cap, 0);
		mproto_reader_free(&r);
	}
	/* the largest packet passes whole, in place and split */
	for (i = 0; i < MPROTO_MAX_DATA; i++)
		buf_putc(&big, 'x');
	{
		struct buf	wire = BUF_INIT;

		mproto_put_packet(&wire, SMFIC_BODY, big.data, big.len);
		ck_assert_uint_eq(wire.len, MPROTO_MAX_PACKET);
		mproto_reader_init(&r);
		ck_assert_int_eq(mproto_feed(&r, wire.data, wire.len, &used, &pkt,
		    &err), MPROTO_PACKET);
		ck_assert_ptr_eq(pkt.data, (unsigned char *)wire.data + 5);
		ck_assert_int_eq(mproto_feed(&r, wire.data, 1000, &used, &pkt,
		    &err), MPROTO_MORE);
		ck_assert_int_eq(mproto_feed(&r, wire.data + 1000, wire.len - 1000,
		    &used, &pkt, &err), MPROTO_PACKET);
		ck_assert_uint_eq(pkt.len, MPROTO_MAX_DATA);
		ck_assert_uint_le(r.pkt.cap, 2 * MPROTO_MAX_LEN + 1);
		mproto_reader_free(&r);
		buf_free(&wire);
	}
	buf_free(&big);
	buf_free(&err);
}
END_TEST

/* expect -- out holds exactly the framed packet (cmd, data) */
static void
expect(const struct buf *out, int cmd, const char *data, size_t len)
{
	struct buf	want = BUF_INIT;

	mproto_put_packet(&want, cmd, data, len);
	ck_assert_uint_eq(out->len, want.len);
	ck_assert_mem_eq(out->data, want.data, want.len);
	buf_free(&want);
}

START_TEST(test_put_replies)
{
	static const int simple[] = { SMFIR_CONTINUE, SMFIR_TEMPFAIL,
	    SMFIR_REJECT, SMFIR_ACCEPT, SMFIR_DISCARD, SMFIR_PROGRESS };
	struct buf	out = BUF_INIT, err = BUF_INIT;
	size_t		i;

	for (i = 0; i < sizeof(simple) / sizeof(simple[0]); i++) {
		buf_reset(&out);
		ck_assert_int_eq(mproto_put_reply(&out, simple[i], &err), 0);
		ck_assert_uint_eq(out.len, 5);
		ck_assert_mem_eq(out.data, "\0\0\0\1", 4);
		ck_assert_int_eq(out.data[4], simple[i]);
	}
	buf_reset(&out);
	ck_assert_int_eq(mproto_put_reply(&out, MPROTO_NOREPLY, &err), 0);
	ck_assert_uint_eq(out.len, 0);
	ck_assert_int_eq(mproto_put_reply(&out, SMFIR_REPLYCODE, &err), -1);
	ck_assert_int_eq(mproto_put_reply(&out, SMFIR_ADDHEADER, &err), -1);
	ck_assert_uint_eq(out.len, 0);
	buf_free(&out);
	buf_free(&err);
}
END_TEST

/* reply code encoder: one case per line of the table */
static const struct {
	const char	*name, *code, *xcode, *l1, *l2;
	int		 want;
	const char	*wire;		/* the data, NUL included by the test */
} rcases[] = {
	{ "one line", "550", "5.7.1", "no", NULL, 0, "550 5.7.1 no" },
	{ "two lines", "451", "4.7.1", "a", "b", 0, "451-4.7.1 a\r\n451 4.7.1 b" },
	{ "percent as given (reply.c doubles it)", "550", "5.7.1",
	    "100%% spam", NULL, 0, "550 5.7.1 100%% spam" },
	{ "xcode 3 digits", "421", "4.3.200", "x", NULL, 0, "421 4.3.200 x" },
	{ "2xx", "250", "2.0.0", "ok", NULL, -1, NULL },
	{ "short code", "45", "4.0.0", "x", NULL, -1, NULL },
	{ "class mismatch", "550", "4.7.1", "x", NULL, -1, NULL },
	{ "xcode no dots", "550", "5", "x", NULL, -1, NULL },
	{ "xcode empty part", "550", "5..1", "x", NULL, -1, NULL },
	{ "xcode long part", "550", "5.7.1234", "x", NULL, -1, NULL },
	{ "xcode trailing dot", "550", "5.7.", "x", NULL, -1, NULL },
	{ "xcode letter", "550", "5.a.1", "x", NULL, -1, NULL },
	{ "CRLF in text", "550", "5.7.1", "a\r\n550 b", NULL, -1, NULL },
	{ "8bit text", "550", "5.7.1", "\xc3\xa9", NULL, -1, NULL },
};

START_TEST(test_put_replycode)
{
	const char	*lines[2];
	struct buf	 out = BUF_INIT, err = BUF_INIT;
	size_t		 n;
	int		 got;

	lines[0] = rcases[_i].l1;
	lines[1] = rcases[_i].l2;
	n = lines[1] != NULL ? 2 : 1;
	got = mproto_put_replycode(&out, rcases[_i].code, rcases[_i].xcode,
	    lines, n, &err);
	ck_assert_msg(got == rcases[_i].want, "%s: got %d want %d (%s)",
	    rcases[_i].name, got, rcases[_i].want, buf_str(&err));
	if (got == 0)
		expect(&out, SMFIR_REPLYCODE, rcases[_i].wire,
		    strlen(rcases[_i].wire) + 1);
	else
		ck_assert_uint_eq(out.len, 0);
	buf_free(&out);
	buf_free(&err);
}
END_TEST

START_TEST(test_put_replycode_limits)
{
	const char	*lines[MPROTO_MAX_REPLY_LINES + 1];
	struct buf	 out = BUF_INIT, err = BUF_INIT, big = BUF_INIT;
	size_t		 i;

	for (i = 0; i <= MPROTO_MAX_REPLY_LINES; i++)
		lines[i] = "x";
	ck_assert_int_eq(mproto_put_replycode(&out, "550", "5.7.1", lines, 0,
	    &err), -1);
	ck_assert_int_eq(mproto_put_replycode(&out, "550", "5.7.1", lines,
	    MPROTO_MAX_REPLY_LINES + 1, &err), -1);
	ck_assert_int_eq(mproto_put_replycode(&out, "550", NULL, lines, 1,
	    &err), -1);
	ck_assert_uint_eq(out.len, 0);
	ck_assert_int_eq(mproto_put_replycode(&out, "550", "5.7.1", lines,
	    MPROTO_MAX_REPLY_LINES, &err), 0);
	for (i = 0; i < MPROTO_MAX_DATA; i++)
		buf_putc(&big, 'x');
	lines[0] = big.data;
	buf_reset(&out);
	ck_assert_int_eq(mproto_put_replycode(&out, "550", "5.7.1", lines, 1,
	    &err), -1);
	ck_assert_uint_eq(out.len, 0);
	buf_free(&big);
	buf_free(&out);
	buf_free(&err);
}
END_TEST

START_TEST(test_put_headers)
{
	struct buf	out = BUF_INIT, err = BUF_INIT;

	ck_assert_int_eq(mproto_put_addheader(&out, "X-A", "v", &err), 0);
	expect(&out, SMFIR_ADDHEADER, D("X-A\0v\0"));
	buf_reset(&out);
	ck_assert_int_eq(mproto_put_insheader(&out, 0, "Authentication-Results",
	    "mx; spf=pass", &err), 0);
	expect(&out, SMFIR_INSHEADER,
	    D("\0\0\0\0Authentication-Results\0mx; spf=pass\0"));
	buf_reset(&out);
	ck_assert_int_eq(mproto_put_chgheader(&out, 0x01020304, "X-B", "", &err), 0);
	expect(&out, SMFIR_CHGHEADER, D("\1\2\3\4X-B\0\0"));
	buf_reset(&out);
	ck_assert_int_eq(mproto_put_addheader(&out, "X-F", "a\n\tb", &err), 0);
	expect(&out, SMFIR_ADDHEADER, D("X-F\0a\n\tb\0"));
	buf_reset(&out);
	/* refusals leave out unchanged */
	ck_assert_int_eq(mproto_put_addheader(&out, "", "v", &err), -1);
	ck_assert_int_eq(mproto_put_addheader(&out, "X:A", "v", &err), -1);
	ck_assert_int_eq(mproto_put_addheader(&out, "X A", "v", &err), -1);
	ck_assert_int_eq(mproto_put_insheader(&out, 1, "X", "a\r\nb", &err), -1);
	ck_assert_int_eq(mproto_put_chgheader(&out, 1, "X", "a\nb", &err), -1);
	ck_assert_int_eq(mproto_put_addheader(&out, "X", "a\n", &err), -1);
	ck_assert_uint_eq(out.len, 0);
	buf_free(&out);
	buf_free(&err);
}
END_TEST

START_TEST(test_put_optneg)
{
	struct mproto_optneg	o = { 6, SMFIF_ADDHDRS | SMFIF_SETSYMLIST,
	    SMFIP_NR_HDR | SMFIP_NOUNKNOWN };
	const char		*sym[MPROTO_M_NSTAGES] = { NULL };
	struct buf		 out = BUF_INIT, err = BUF_INIT;
	struct mproto_reader	 r;
	struct mproto_packet	 pkt;
	struct mproto_msg	 m;
	size_t			 used;

	ck_assert_int_eq(mproto_put_optneg(&out, &o, NULL, &err), 0);
	expect(&out, SMFIC_OPTNEG, D("\0\0\0\6\0\0\1\1\0\0\1\200"));
	/* the filter's reply reads back as an OPTNEG */
	mproto_reader_init(&r);
	ck_assert_int_eq(mproto_feed(&r, out.data, out.len, &used, &pkt, &err),
	    MPROTO_PACKET);
	ck_assert_int_eq(mproto_decode(&pkt, &m, &err), 0);
	ck_assert_uint_eq(m.u.optneg.protocol, SMFIP_NR_HDR | SMFIP_NOUNKNOWN);
	mproto_reader_free(&r);

	buf_reset(&out);
	sym[MPROTO_M_CONNECT] = "{client_addr} j";
	sym[MPROTO_M_EOM] = "i";
	ck_assert_int_eq(mproto_put_optneg(&out, &o, sym, &err), 0);
	expect(&out, SMFIC_OPTNEG, D("\0\0\0\6\0\0\1\1\0\0\1\200"
	    "\0\0\0\0{client_addr} j\0" "\0\0\0\5i\0"));
	/* lists need SMFIF_SETSYMLIST, and are not empty */
	buf_reset(&out);
	o.actions = SMFIF_ADDHDRS;
	ck_assert_int_eq(mproto_put_optneg(&out, &o, sym, &err), -1);
	o.actions |= SMFIF_SETSYMLIST;
	sym[MPROTO_M_EOM] = "";
	ck_assert_int_eq(mproto_put_optneg(&out, &o, sym, &err), -1);
	ck_assert_uint_eq(out.len, 0);
	buf_free(&out);
	buf_free(&err);
}
END_TEST

/* framing more than a packet holds is a caller bug: it panics */
START_TEST(test_put_packet_too_big)
{
	struct buf	out = BUF_INIT;
	static char	big[MPROTO_MAX_DATA + 1];

	mproto_put_packet(&out, SMFIC_BODY, big, sizeof(big));
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("mproto");
	TCase	*tc = tcase_create("all");
	SRunner	*sr;
	int	 failed;

	tcase_add_loop_test(tc, test_decode_table, 0,
	    sizeof(dcases) / sizeof(dcases[0]));
	tcase_add_test(tc, test_decode_fields);
	tcase_add_test(tc, test_decode_caps);
	tcase_add_test(tc, test_split_feeds);
	tcase_add_test(tc, test_frame_limits);
	tcase_add_test(tc, test_put_replies);
	tcase_add_loop_test(tc, test_put_replycode, 0,
	    sizeof(rcases) / sizeof(rcases[0]));
	tcase_add_test(tc, test_put_replycode_limits);
	tcase_add_test(tc, test_put_headers);
	tcase_add_test(tc, test_put_optneg);
	tcase_add_test_raise_signal(tc, test_put_packet_too_big, SIGABRT);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
