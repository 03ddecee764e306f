/*
 * test_verdict -- references, reply text, "(ref ...)", footer, monitor
 * mode, internal errors and the decision log line.
 */
#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "facts.h"
#include "log.h"
#include "reply.h"
#include "verdict.h"

/* resolve -- template names through the fact table */
static int
resolve(void *arg, const char *name, size_t len, unsigned col, int *id)
{
	enum fact	f;

	(void)arg;
	(void)col;
	if (fact_lookup(name, len, &f) == -1)
		return -1;
	*id = (int)f;
	return 0;
}

static struct tmpl *
compile(const char *text)
{
	struct diag	 d = DIAG_INIT;
	struct tmpl	*t;

	t = tmpl_compile(text, strlen(text), resolve, NULL, &d, "t", 1, 1);
	ck_assert_msg(t != NULL, "template %s: %s", text, buf_str(&d.out));
	diag_free(&d);
	return t;
}

/* value -- the session side: a few facts with hostile content */
static void
value(void *arg, int id, struct buf *out)
{
	int	i;

	(void)arg;
	switch (id) {
	case F_MAIL_FROM:
		buf_puts(out, "100%off\r\nX-Evil: 1@example.com");
		break;
	case F_CLIENT_IP:
		buf_puts(out, "192.0.2.7");
		break;
	case V_HOSTNAME:
		buf_puts(out, "mx.example.net");
		break;
	case F_RCPT:		/* 1000 bytes of 9-letter words */
		for (i = 0; i < 100; i++)
			buf_puts(out, "abcdefghi ");
		break;
	}
}

static void
src_init(struct verdict_src *src, const struct tmpl *footer, int monitor)
{
	memset(src, 0, sizeof(*src));
	src->value = value;
	src->queue_id = "4F2B91C0A3";
	src->client_name = "mail.example.com";
	src->client_ip = "192.0.2.7";
	src->helo = "mail example";
	src->mail_from = "a@example.com";
	src->rcpt = "b@example.org";
	src->footer = footer;
	src->monitor_mode = monitor;
}

static void
match_init(struct rules_match *m, enum rules_action a, struct tmpl *text)
{
	memset(m, 0, sizeof(*m));
	m->rule = "r1";
	m->stage = STAGE_RCPT;
	m->action = a;
	m->code = "451";
	m->ecode = "4.7.1";
	m->text = text;
}

START_TEST(test_refs_unique)
{
	enum { N = 20000 };
	static char	refs[N][VERDICT_REF_LEN + 1];
	int		i, j;

	for (i = 0; i < N; i++) {
		verdict_new_ref(refs[i]);
		ck_assert_uint_eq(strlen(refs[i]), VERDICT_REF_LEN);
		ck_assert_uint_eq(strspn(refs[i], "0123456789ABCDEFGHJKMNPQRSTVWXYZ"),
		    VERDICT_REF_LEN);
	}
	qsort(refs, N, sizeof(refs[0]), (int (*)(const void *, const void *))strcmp);
	for (i = 1, j = 0; i < N; i++)
		j += strcmp(refs[i - 1], refs[i]) == 0;
	ck_assert_int_eq(j, 0);
}
END_TEST

START_TEST(test_tempfail_reply_and_log)
{
	struct buf		 logs = BUF_INIT, got = BUF_INIT, want = BUF_INIT;
	struct verdict		 v;
	struct verdict_src	 src;
	struct rules_match	 m;
	struct tmpl		*t = compile("Sender ${mail_from} from ${client_ip} deferred");
	unsigned		 i;

	src_init(&src, NULL, 0);
	match_init(&m, RA_TEMPFAIL, t);
	verdict_init(&v);
	log_capture(&logs);
	ck_assert_int_eq(verdict_decide(&v, &m, &src), 1);
	log_capture(NULL);
	ck_assert_int_eq(v.kind, VERDICT_TEMPFAIL);
	ck_assert_str_eq(v.reply.code, "451");
	ck_assert_str_eq(v.reply.ecode, "4.7.1");
	reply_format(&v.reply, &got);
	buf_printf(&want, "(ref %s)", v.ref);
	ck_assert_ptr_nonnull(strstr(buf_str(&got), buf_str(&want)));
	for (i = 0; i < v.reply.nlines; i++) {
		ck_assert_ptr_null(strchr(v.reply.line[i], '\r'));
		ck_assert_ptr_null(strchr(v.reply.line[i], '\n'));
	}
	/* '%' reaches libmilter doubled, the log shows it once */
	ck_assert_ptr_nonnull(strstr(v.reply.line[0], "100%%off"));
	buf_reset(&want);
	buf_printf(&want, "4F2B91C0A3: ref=%s rule=r1 stage=rcpt action=tempfail reply=\"451 4.7.1 Sender 100%%offX-Evil: 1@example.com",
	    v.ref);
	ck_assert_msg(strncmp(buf_str(&logs), buf_str(&want), want.len) == 0,
	    "got %s", buf_str(&logs));
	ck_assert_ptr_nonnull(strstr(buf_str(&logs),
	    " client=mail.example.com[192.0.2.7] helo=\"mail example\" from=<a@example.com> rcpt=<b@example.org>\n"));
	verdict_clear(&v);
	tmpl_free(t);
	buf_free(&logs);
	buf_free(&got);
	buf_free(&want);
}
END_TEST

START_TEST(test_ref_survives_long_text)
{
	struct buf		 tx = BUF_INIT;
	struct verdict		 v;
	struct verdict_src	 src;
	struct rules_match	 m;
	struct tmpl		*t;
	int			 i;

	for (i = 0; i < 40; i++)	/* 40 kB of text: more than 32 lines */
		buf_puts(&tx, "${rcpt}");
	t = compile(buf_str(&tx));
	src_init(&src, NULL, 0);
	match_init(&m, RA_TEMPFAIL, t);
	verdict_init(&v);
	log_capture(&tx);
	ck_assert_int_eq(verdict_decide(&v, &m, &src), 1);
	log_capture(NULL);
	ck_assert_ptr_nonnull(strstr(buf_str(&tx), v.ref));
	ck_assert_uint_le(v.reply.nlines, REPLY_MAX_LINES);
	ck_assert_uint_ge(v.reply.nlines, 8);
	ck_assert_ptr_nonnull(strstr(v.reply.line[v.reply.nlines - 1], v.ref));
	ck_assert_ptr_nonnull(strstr(v.reply.line[v.reply.nlines - 1], "... (ref "));
	verdict_clear(&v);
	tmpl_free(t);
	buf_free(&tx);
}
END_TEST

START_TEST(test_ref_not_repeated)
{
	struct buf		 logs = BUF_INIT, got = BUF_INIT;
	struct verdict		 v;
	struct verdict_src	 src;
	struct rules_match	 m;
	struct tmpl		*t = compile("see ${ref}");
	struct tmpl		*f = compile("Questions? https://example.net/?ref=${ref}");

	/* the text shows ${ref}: nothing appended */
	src_init(&src, NULL, 0);
	match_init(&m, RA_TEMPFAIL, t);
	verdict_init(&v);
	log_capture(&logs);
	verdict_decide(&v, &m, &src);
	reply_format(&v.reply, &got);
	ck_assert_ptr_null(strstr(buf_str(&got), "(ref "));
	ck_assert_ptr_nonnull(strstr(buf_str(&got), v.ref));
	verdict_clear(&v);
	buf_reset(&got);

	/* the footer shows ${ref}: it is the last line, nothing appended */
	src_init(&src, f, 0);
	match_init(&m, RA_TEMPFAIL, NULL);
	m.code = "421";
	m.ecode = "4.7.0";
	verdict_decide(&v, &m, &src);
	log_capture(NULL);
	ck_assert_uint_ge(v.reply.nlines, 1);
	ck_assert_ptr_nonnull(strstr(v.reply.line[v.reply.nlines - 1], v.ref));
	ck_assert_ptr_nonnull(strstr(v.reply.line[v.reply.nlines - 1], "Questions?"));
	reply_format(&v.reply, &got);
	ck_assert_ptr_null(strstr(buf_str(&got), "(ref "));
	verdict_clear(&v);
	tmpl_free(t);
	tmpl_free(f);
	buf_free(&logs);
	buf_free(&got);
}
END_TEST

START_TEST(test_monitor)
{
	struct buf		 logs = BUF_INIT, text = BUF_INIT;
	struct verdict		 v;
	struct verdict_src	 src;
	struct rules_match	 m;
	struct tmpl		*t = compile("no");

	/* global monitor mode: logged as would_, no effect */
	src_init(&src, NULL, 1);
	match_init(&m, RA_TEMPFAIL, t);
	verdict_init(&v);
	log_capture(&logs);
	ck_assert_int_eq(verdict_decide(&v, &m, &src), 0);
	ck_assert_int_eq(v.kind, VERDICT_CONTINUE);
	ck_assert_ptr_nonnull(strstr(buf_str(&logs), " action=would_tempfail reply=\"451 4.7.1 no (ref "));

	/* a monitor rule through verdict_note */
	buf_reset(&logs);
	src_init(&src, NULL, 0);
	m.monitor = 1;
	verdict_note(&m, &src, NULL);
	ck_assert_ptr_nonnull(strstr(buf_str(&logs), " action=would_tempfail "));

	/* a log action: its text knows ${rule} */
	buf_reset(&logs);
	tmpl_free(t);
	t = compile("saw ${client_ip} by ${rule}");
	match_init(&m, RA_LOG, t);
	verdict_note(&m, &src, &text);
	ck_assert_ptr_nonnull(strstr(buf_str(&logs),
	    " action=log text=\"saw 192.0.2.7 by r1\" "));
	ck_assert_str_eq(buf_str(&text), "saw 192.0.2.7 by r1");
	buf_free(&text);
	log_capture(NULL);
	tmpl_free(t);
	buf_free(&logs);
}
END_TEST

START_TEST(test_limit_vars)
{
	struct buf		 logs = BUF_INIT, got = BUF_INIT;
	struct verdict		 v;
	struct verdict_src	 src;
	struct rules_match	 m;
	struct rl_limit		 l;
	struct tmpl		*t = compile("${limit.name} ${limit.count}/${limit.max} per ${limit.window}, retry in ${retry_after}s");

	memset(&l, 0, sizeof(l));
	l.name = "user_hour";
	src_init(&src, NULL, 0);
	match_init(&m, RA_TEMPFAIL, t);
	m.limit = &l;
	m.limit_result.exceeded = 1;
	m.limit_result.count = 500;
	m.limit_result.max = 500;
	m.limit_result.window = 3600;
	m.limit_result.retry_after = 7;
	verdict_init(&v);
	log_capture(&logs);
	verdict_decide(&v, &m, &src);
	log_capture(NULL);
	reply_format(&v.reply, &got);
	ck_assert_ptr_nonnull(strstr(buf_str(&got), "user_hour 500/500 per 1h, retry in 7s"));
	ck_assert_ptr_nonnull(strstr(buf_str(&logs), " limit=user_hour:500/500/1h\n"));
	verdict_clear(&v);
	tmpl_free(t);
	buf_free(&logs);
	buf_free(&got);
}
END_TEST

/* a dry source (explain): the same decision, its lines in src.dry, nothing logged */
START_TEST(test_dry)
{
	struct buf		 logs = BUF_INIT, dry = BUF_INIT, want = BUF_INIT;
	struct verdict		 v;
	struct verdict_src	 src;
	struct rules_match	 m;
	struct tmpl		*t = compile("deferred");

	src_init(&src, NULL, 0);
	src.dry = &dry;
	match_init(&m, RA_TEMPFAIL, t);
	verdict_init(&v);
	log_capture(&logs);
	ck_assert_int_eq(verdict_decide(&v, &m, &src), 1);
	ck_assert_int_eq(v.kind, VERDICT_TEMPFAIL);
	m.action = RA_LOG;
	verdict_note(&m, &src, NULL);
	verdict_internal(&v, STAGE_MAIL, 0, &src);
	log_capture(NULL);
	ck_assert_uint_eq(logs.len, 0);
	buf_printf(&want, "4F2B91C0A3: ref=");
	ck_assert_int_eq(strncmp(buf_str(&dry), buf_str(&want), want.len), 0);
	ck_assert_ptr_nonnull(strstr(buf_str(&dry),
	    " rule=r1 stage=rcpt action=tempfail reply=\"451 4.7.1 deferred (ref "));
	ck_assert_ptr_nonnull(strstr(buf_str(&dry), " action=log text=deferred "));
	ck_assert_ptr_nonnull(strstr(buf_str(&dry), "rule=internal-error "));
	ck_assert_uint_eq(dry.data[dry.len - 1], '\n');
	verdict_clear(&v);
	tmpl_free(t);
	buf_free(&logs);
	buf_free(&dry);
	buf_free(&want);
}
END_TEST

START_TEST(test_internal_error)
{
	struct buf		 logs = BUF_INIT, got = BUF_INIT;
	struct verdict		 v;
	struct verdict_src	 src;

	src_init(&src, NULL, 0);
	verdict_init(&v);
	log_capture(&logs);
	verdict_internal(&v, STAGE_MAIL, 0, &src);
	ck_assert_int_eq(v.kind, VERDICT_TEMPFAIL);
	ck_assert_str_eq(v.reply.code, "451");
	ck_assert_str_eq(v.reply.ecode, "4.3.0");
	reply_format(&v.reply, &got);
	ck_assert_ptr_nonnull(strstr(buf_str(&got), v.ref));
	ck_assert_ptr_nonnull(strstr(buf_str(&logs), "rule=internal-error stage=mail action=tempfail"));
	verdict_internal(&v, STAGE_MAIL, 1, &src);
	ck_assert_int_eq(v.kind, VERDICT_CONTINUE);
	log_capture(NULL);
	verdict_clear(&v);
	buf_free(&logs);
	buf_free(&got);
}
END_TEST

static Suite *
verdict_suite(void)
{
	Suite	*s = suite_create("verdict");
	TCase	*tc = tcase_create("all");

	tcase_add_test(tc, test_refs_unique);
	tcase_add_test(tc, test_tempfail_reply_and_log);
	tcase_add_test(tc, test_ref_not_repeated);
	tcase_add_test(tc, test_ref_survives_long_text);
	tcase_add_test(tc, test_monitor);
	tcase_add_test(tc, test_limit_vars);
	tcase_add_test(tc, test_internal_error);
	tcase_add_test(tc, test_dry);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr = srunner_create(verdict_suite());
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
