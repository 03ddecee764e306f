/*
 * test_reply -- templates (compile errors, expansion, sanitising) and
 * reply lines (wrapping at 510 octets, '%' doubling, 32-line cap, footer).
 */
#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "diag.h"
#include "reply.h"

enum { V_A, V_B, V_LONG };

/* resolve -- three variables: a, b, long */
static int
resolve(void *arg, const char *n, size_t len, unsigned col, int *id)
{
	struct diag	*d = arg;

	if (len == 1 && n[0] == 'a')
		*id = V_A;
	else if (len == 1 && n[0] == 'b')
		*id = V_B;
	else if (len == 4 && memcmp(n, "long", 4) == 0)
		*id = V_LONG;
	else {
		diag_error(d, "t", 1, col, "unknown variable");
		return -1;
	}
	return 0;
}

static const char	*val_a = "A";

/* value -- hostile values */
static void
value(void *arg, int id, struct buf *out)
{
	int	i;

	(void)arg;
	if (id == V_A)
		buf_puts(out, val_a);
	else if (id == V_B)
		buf_append(out, "x\r\ny\0z%\t\xc3\xa9", 11);
	else
		for (i = 0; i < 1000000; i++)
			buf_putc(out, 'L');
}

static const struct {
	const char	*text;
	const char	*want;		/* expansion, or NULL: compile error */
	unsigned	 errors;
} tmpl_cases[] = {
	{ "plain", "plain", 0 },
	{ "${a}-${a}", "A-A", 0 },
	{ "cost $$5 ${a}", "cost $5 A", 0 },
	{ "[${b}]", "[xyz%??]", 0 },
	{ "${nope}", NULL, 1 },
	{ "$x and ${", NULL, 2 },
	{ "${}", NULL, 1 },
	{ "caf\xc3\xa9", NULL, 2 },
	{ "tab\there", NULL, 1 },
	{ "", "", 0 },
};

START_TEST(test_tmpl)
{
	struct diag	 d = DIAG_INIT;
	struct tmpl	*t;
	struct buf	 out = BUF_INIT;

	t = tmpl_compile(tmpl_cases[_i].text, strlen(tmpl_cases[_i].text),
	    resolve, &d, &d, "t", 1, 1);
	ck_assert_uint_eq(d.errors, tmpl_cases[_i].errors);
	if (tmpl_cases[_i].want == NULL) {
		ck_assert_ptr_null(t);
	} else {
		ck_assert_ptr_nonnull(t);
		tmpl_expand(t, value, NULL, &out);
		ck_assert_str_eq(buf_str(&out), tmpl_cases[_i].want);
	}
	tmpl_free(t);
	buf_free(&out);
	diag_free(&d);
}
END_TEST

START_TEST(test_tmpl_uses_and_cap)
{
	struct diag	 d = DIAG_INIT;
	struct tmpl	*t = tmpl_compile("${long}${a}", 11, resolve, &d, &d, "t", 1, 1);
	struct buf	 out = BUF_INIT;

	ck_assert_ptr_nonnull(t);
	ck_assert(tmpl_uses(t, V_LONG));
	ck_assert(!tmpl_uses(t, V_B));
	tmpl_expand(t, value, NULL, &out);
	ck_assert_uint_eq(out.len, 1001);	/* a value is capped at 1000 bytes */
	tmpl_free(t);
	buf_free(&out);
	diag_free(&d);
}
END_TEST

/* visible -- the line as the client sees it (undoubled '%') */
static size_t
visible(const char *code, const char *ecode, const char *line)
{
	size_t	n = strlen(code) + 1 + strlen(ecode) + 1;

	for (; *line != '\0'; line++, n++) {
		if (*line == '%') {
			ck_assert_int_eq(line[1], '%');
			line++;
		}
		ck_assert(*line >= ' ' && *line <= '~');
	}
	return n;
}

static const struct {
	size_t		 len;		/* text of this many 'w' words / bytes */
	int		 spaces;	/* words of 9 + space, or one long word */
	int		 pct;
	const char	*footer;
	unsigned	 lines;
} wrap_cases[] = {
	{ 500, 0, 0, NULL, 1 },		/* 10 + 500 = 510: fits */
	{ 501, 0, 0, NULL, 2 },
	{ 1200, 1, 0, NULL, 3 },
	{ 499, 0, 1, NULL, 1 },		/* % doubled but counted once */
	{ 501, 0, 1, NULL, 2 },
	{ 100000, 1, 0, NULL, 32 },
	{ 100000, 1, 0, "footer text", 32 },
	{ 10, 0, 0, "footer text", 2 },
};

START_TEST(test_wrap)
{
	struct reply	 r;
	struct buf	 text = BUF_INIT, log = BUF_INIT;
	size_t		 i;
	unsigned	 l;

	for (i = 0; i < wrap_cases[_i].len; i++)
		buf_putc(&text, wrap_cases[_i].spaces && i % 10 == 9 ? ' ' :
		    wrap_cases[_i].pct && i % 7 == 3 ? '%' : 'w');
	reply_build(&r, "451", "4.7.1", buf_str(&text), wrap_cases[_i].footer);
	ck_assert_uint_eq(r.nlines, wrap_cases[_i].lines);
	for (l = 0; l < r.nlines; l++)
		ck_assert_uint_le(visible("451", "4.7.1", r.line[l]), 510);
	if (wrap_cases[_i].footer != NULL)
		ck_assert_str_eq(r.line[r.nlines - 1], wrap_cases[_i].footer);
	if (wrap_cases[_i].len == 100000) {
		l = r.nlines - 1 - (wrap_cases[_i].footer != NULL);
		ck_assert_ptr_nonnull(strstr(r.line[l], "..."));
	}
	reply_format(&r, &log);
	ck_assert(strncmp(buf_str(&log), "451 4.7.1 w", 11) == 0);
	reply_free(&r);
	buf_free(&text);
	buf_free(&log);
}
END_TEST

START_TEST(test_hostile_text)
{
	struct reply	r;
	struct buf	log = BUF_INIT;

	reply_build(&r, "421", "4.7.0", "bad\r\n250 ok\x01%s%n\xff", "foot%");
	ck_assert_uint_eq(r.nlines, 2);
	ck_assert_str_eq(r.line[0], "bad250 ok%%s%%n?");
	ck_assert_str_eq(r.line[1], "foot%%");
	reply_format(&r, &log);
	ck_assert_str_eq(buf_str(&log), "421 4.7.0 bad250 ok%s%n? foot%");
	reply_free(&r);
	buf_free(&log);
}
END_TEST

START_TEST(test_sanitize)
{
	struct buf	out = BUF_INIT;

	reply_sanitize(&out, "a\0b\x7f" "c\xe2\x82\xac", 8);
	ck_assert_str_eq(buf_str(&out), "abc???");
	buf_free(&out);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("reply");
	TCase	*tc = tcase_create("all");
	SRunner	*sr;
	int	 failed;

	tcase_add_loop_test(tc, test_tmpl, 0, sizeof(tmpl_cases) / sizeof(tmpl_cases[0]));
	tcase_add_test(tc, test_tmpl_uses_and_cap);
	tcase_add_loop_test(tc, test_wrap, 0, sizeof(wrap_cases) / sizeof(wrap_cases[0]));
	tcase_add_test(tc, test_hostile_text);
	tcase_add_test(tc, test_sanitize);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
