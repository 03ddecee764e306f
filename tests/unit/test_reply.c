/*
 * test_reply -- templates (compile errors and their columns, expansion
 * with hostile values, the 1000-byte value cap) and reply lines (wrapping
 * at exactly 510/511 octets, '%' doubling at the line boundary, libmilter's
 * 980-byte stored limit, the 32-line cap with "...", the footer last,
 * reply_format for logs).
 */
#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "diag.h"
#include "reply.h"

#define STORED_MAX	980	/* libmilter MAXREPLYLEN */

enum { V_A, V_B, V_LONG, V_CTL, V_DOT, V_EMPTY, V_PCT };

static const struct {
	const char	*name;
	int		 id;
} vars[] = {
	{ "a", V_A }, { "b", V_B }, { "long", V_LONG }, { "ctl", V_CTL },
	{ "limit.max", V_DOT }, { "empty", V_EMPTY }, { "pct", V_PCT },
};

/* resolve -- the variables above; "silent" fails without a diag entry */
static int
resolve(void *arg, const char *n, size_t len, unsigned col, int *id)
{
	struct diag	*d = arg;
	size_t		 i;

	for (i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
		if (strlen(vars[i].name) == len &&
		    memcmp(vars[i].name, n, len) == 0) {
			*id = vars[i].id;
			return 0;
		}
	if (len == 6 && memcmp(n, "silent", 6) == 0)
		return -1;
	diag_error(d, "t", 1, col, "unknown variable");
	return -1;
}

/* value -- hostile values: CR/LF/NUL/TAB/UTF-8, 1 MB, 1 MB of controls */
static void
value(void *arg, int id, struct buf *out)
{
	int	i;

	(void)arg;
	switch (id) {
	case V_A:
		buf_puts(out, "A");
		break;
	case V_B:
		buf_append(out, "x\r\ny\0z%\t\xc3\xa9", 11);
		break;
	case V_LONG:
		for (i = 0; i < 1000000; i++)
			buf_putc(out, 'L');
		break;
	case V_CTL:
		for (i = 0; i < 1000000; i++)
			buf_putc(out, i % 2 ? '\r' : '\n');
		break;
	case V_DOT:
		buf_puts(out, "100");
		break;
	case V_PCT:
		buf_puts(out, "100%off %s%n");
		break;
	default:
		break;
	}
}

static const struct {
	const char	*text;
	size_t		 len;		/* 0: strlen(text) */
	const char	*want;		/* expansion, or NULL: compile fails */
	unsigned	 errors;
	const char	*want_diag;	/* start of the diag output, or NULL */
} tmpl_cases[] = {
	{ "plain", 0, "plain", 0, NULL },
	{ "", 0, "", 0, NULL },
	{ "${a}-${a}", 0, "A-A", 0, NULL },
	{ "cost $$5 ${a}", 0, "cost $5 A", 0, NULL },
	{ "$$${a}$$", 0, "$A$", 0, NULL },
	{ "max ${limit.max}/h", 0, "max 100/h", 0, NULL },
	{ "[${b}]", 0, "[xyz%??]", 0, NULL },
	{ "[${ctl}]", 0, "[]", 0, NULL },
	{ "[${empty}]", 0, "[]", 0, NULL },
	{ "100% ${pct}", 0, "100% 100%off %s%n", 0, NULL },
	{ "${nope}", 0, NULL, 1, "t:1:10: error: unknown variable\n" },
	{ "ab${silent}", 0, NULL, 0, NULL },
	{ "ab$x", 0, NULL, 1, "t:1:12: error: '$' must start" },
	{ "x$", 0, NULL, 1, "t:1:11: error: '$' must start" },
	{ "${", 0, NULL, 1, "t:1:10: error: unterminated ${\n" },
	{ "ok ${a", 0, NULL, 1, "t:1:13: error: unterminated ${\n" },
	{ "$x and ${", 0, NULL, 2, "t:1:10: error: '$' must start" },
	{ "${}", 0, NULL, 1, "t:1:10: error: bad variable name" },
	{ "${a b}", 0, NULL, 1, "t:1:10: error: bad variable name" },
	{ "${a}${nope}${b}$", 0, NULL, 2, "t:1:14: error: unknown variable\n" },
	{ "caf\xc3\xa9", 0, NULL, 2, "t:1:13: error: text must be printable" },
	{ "tab\there", 0, NULL, 1, "t:1:13: error: text must be printable" },
	{ "nul\0x", 5, NULL, 1, "t:1:13: error: text must be printable" },
	{ "cr\r\nlf", 0, NULL, 2, "t:1:12: error: text must be printable" },
};

START_TEST(test_tmpl)
{
	struct diag	 d = DIAG_INIT;
	struct tmpl	*t;
	struct buf	 got = BUF_INIT;
	size_t		 len = tmpl_cases[_i].len;

	if (len == 0)
		len = strlen(tmpl_cases[_i].text);
	t = tmpl_compile(tmpl_cases[_i].text, len, resolve, &d, &d, "t", 1, 10);
	ck_assert_uint_eq(d.errors, tmpl_cases[_i].errors);
	if (tmpl_cases[_i].want_diag != NULL)
		ck_assert_msg(strncmp(buf_str(&d.out), tmpl_cases[_i].want_diag,
		    strlen(tmpl_cases[_i].want_diag)) == 0, "diag: got %s, want %s",
		    buf_str(&d.out), tmpl_cases[_i].want_diag);
	if (tmpl_cases[_i].want == NULL) {
		ck_assert_ptr_null(t);
	} else {
		ck_assert_ptr_nonnull(t);
		tmpl_expand(t, value, NULL, &got);
		ck_assert_str_eq(buf_str(&got), tmpl_cases[_i].want);
	}
	tmpl_free(t);
	buf_free(&got);
	diag_free(&d);
}
END_TEST

static const struct {
	size_t		 len;
	unsigned	 errors;
} size_cases[] = {
	{ 4096, 0 },
	{ 4097, 1 },
	{ 1000000, 1 },
};

START_TEST(test_tmpl_size)
{
	struct diag	 d = DIAG_INIT;
	struct tmpl	*t;
	char		*text = malloc(size_cases[_i].len);

	ck_assert_ptr_nonnull(text);
	memset(text, 'x', size_cases[_i].len);
	t = tmpl_compile(text, size_cases[_i].len, resolve, &d, &d, "t", 1, 1);
	ck_assert_uint_eq(d.errors, size_cases[_i].errors);
	if (size_cases[_i].errors == 0)
		ck_assert_ptr_nonnull(t);
	else {
		ck_assert_ptr_null(t);
		ck_assert_ptr_nonnull(strstr(buf_str(&d.out), "longer than 4096"));
	}
	tmpl_free(t);
	free(text);
	diag_free(&d);
}
END_TEST

/* collect -- tmpl_foreach_var callback: append the id as a digit */
static void
collect(void *arg, int id)
{
	buf_putc(arg, '0' + id);
}

START_TEST(test_tmpl_uses_and_cap)
{
	struct diag	 d = DIAG_INIT;
	struct tmpl	*t = tmpl_compile("${long}${a}${b}${a}", 19, resolve, &d,
			    &d, "t", 1, 1);
	struct buf	 got = BUF_INIT, ids = BUF_INIT;

	ck_assert_ptr_nonnull(t);
	ck_assert(tmpl_uses(t, V_LONG));
	ck_assert(tmpl_uses(t, V_B));
	ck_assert(!tmpl_uses(t, V_CTL));
	ck_assert(!tmpl_uses(NULL, V_A));
	tmpl_foreach_var(t, collect, &ids);
	ck_assert_str_eq(buf_str(&ids), "2010");
	tmpl_expand(t, value, NULL, &got);
	/* a value is capped at 1000 bytes */
	ck_assert_uint_eq(got.len, 1000 + 1 + 6 + 1);
	ck_assert_str_eq(buf_str(&got) + 998, "LLAxyz%??A");
	tmpl_free(t);
	buf_free(&got);
	buf_free(&ids);
	diag_free(&d);
}
END_TEST

static const struct {
	const char	*in;
	size_t		 len;
	const char	*want;
} sanitize_cases[] = {
	{ "a\0b\x7f" "c\xe2\x82\xac", 8, "abc???" },
	{ "a\tb  c", 6, "ab  c" },		/* TAB removed, spaces kept */
	{ "\r\n250 ok\r\n", 10, "250 ok" },
	{ "100%", 4, "100%" },			/* '%' doubled only by reply_build */
	{ "", 0, "" },
};

START_TEST(test_sanitize)
{
	struct buf	got = BUF_INIT;

	reply_sanitize(&got, sanitize_cases[_i].in, sanitize_cases[_i].len);
	ck_assert_ptr_nonnull(got.data);
	ck_assert_str_eq(buf_str(&got), sanitize_cases[_i].want);
	buf_free(&got);
}
END_TEST

/*
 * check_line -- the line as the client sees it: printable ASCII, '%'
 * always doubled, at most 980 stored bytes. Returns the visible length
 * (prefix included) and appends the undoubled text to vis.
 */
static size_t
check_line(const struct reply *r, const char *line, struct buf *vis)
{
	size_t	n = strlen(r->code) + 1 + strlen(r->ecode) + 1;

	ck_assert_uint_le(strlen(line), STORED_MAX);
	for (; *line != '\0'; line++, n++) {
		ck_assert(*line >= ' ' && *line <= '~');
		if (*line == '%') {
			ck_assert_int_eq(line[1], '%');
			line++;
		}
		buf_putc(vis, *line);
	}
	return n;
}

/* strip -- s without spaces */
static char *
strip(const char *s)
{
	struct buf	b = BUF_INIT;

	for (; *s != '\0'; s++)
		if (*s != ' ')
			buf_putc(&b, *s);
	buf_puts(&b, "");
	return buf_release(&b);
}

struct seg {
	char	c;
	size_t	n;
};

static const struct {
	struct seg	 seg[3];	/* text: runs of one character */
	size_t		 words;		/* or this many bytes of "wwwwwwwww " */
	const char	*footer;
	unsigned	 lines;
	size_t		 first;		/* visible octets of line 0 */
	int		 dots;		/* the last text line ends in "..." */
	const char	*want_last;	/* stored last line, or NULL */
} wrap_cases[] = {
	/* "451-4.7.1 " + 500 = 510: fits; 501 needs a second line */
	{ { { 'w', 500 } }, 0, NULL, 1, 510, 0, NULL },
	{ { { 'w', 501 } }, 0, NULL, 2, 510, 0, "w" },
	/* a space exactly at the boundary, and one before it */
	{ { { 'w', 500 }, { ' ', 1 }, { 'v', 5 } }, 0, NULL, 2, 510, 0, "vvvvv" },
	{ { { 'w', 499 }, { ' ', 1 }, { 'v', 10 } }, 0, NULL, 2, 509, 0,
	    "vvvvvvvvvv" },
	{ { { 'w', 100 }, { ' ', 400 }, { 'v', 10 } }, 0, NULL, 2, 110, 0,
	    "vvvvvvvvvv" },
	/* '%' at the boundary: counted once, stored twice, never split */
	{ { { 'w', 499 }, { '%', 1 } }, 0, NULL, 1, 510, 0, NULL },
	{ { { 'w', 499 }, { '%', 1 }, { 'w', 1 } }, 0, NULL, 2, 510, 0, "w" },
	{ { { 'w', 500 }, { '%', 1 } }, 0, NULL, 2, 510, 0, "%%" },
	/* libmilter's 980 stored bytes: 490 '%' a line, not 500 */
	{ { { '%', 600 } }, 0, NULL, 2, 500, 0, NULL },
	/* 32 lines: exactly full, one byte more, far too much */
	{ { { 'w', 16000 } }, 0, NULL, 32, 510, 0, NULL },
	{ { { 'w', 16001 } }, 0, NULL, 32, 510, 1, NULL },
	{ { { '%', 100000 } }, 0, NULL, 32, 500, 1, NULL },
	{ { { 0 } }, 1200, NULL, 3, 509, 0, NULL },
	{ { { 0 } }, 100000, NULL, 32, 509, 1, NULL },
	/* the footer is always last */
	{ { { 'w', 10 } }, 0, "footer 100%", 2, 20, 0, "footer 100%%" },
	{ { { 0 } }, 100000, "footer text", 32, 509, 1, "footer text" },
	{ { { 'w', 16001 } }, 0, "(ref X)", 32, 510, 1, "(ref X)" },
	{ { { 0 } }, 0, "only the footer", 1, 25, 0, "only the footer" },
	{ { { 0 } }, 0, NULL, 1, 10, 0, "" },
	{ { { 'w', 10 } }, 0, "", 1, 20, 0, "wwwwwwwwww" },
	{ { { 'w', 10 } }, 0, "\r\n\t", 1, 20, 0, "wwwwwwwwww" },
};

/* wrap_text -- the text of a wrap case */
static void
wrap_text(unsigned c, struct buf *text)
{
	size_t	i, j;

	for (i = 0; i < wrap_cases[c].words; i++)
		buf_putc(text, i % 10 == 9 ? ' ' : 'w');
	for (j = 0; j < 3; j++)
		for (i = 0; i < wrap_cases[c].seg[j].n; i++)
			buf_putc(text, wrap_cases[c].seg[j].c);
	buf_puts(text, "");
}

START_TEST(test_wrap)
{
	struct reply	 r;
	struct buf	 text = BUF_INIT, vis = BUF_INIT;
	char		*got, *want;
	unsigned	 l, last, flines;
	size_t		 n;

	wrap_text(_i, &text);
	reply_build(&r, "451", "4.7.1", buf_str(&text), wrap_cases[_i].footer);
	ck_assert_uint_eq(r.nlines, wrap_cases[_i].lines);
	ck_assert_str_eq(r.code, "451");
	ck_assert_str_eq(r.ecode, "4.7.1");
	for (l = 0; l < r.nlines; l++) {
		n = check_line(&r, r.line[l], &vis);
		ck_assert_uint_le(n, REPLY_LINE_MAX);
		if (l == 0)
			ck_assert_uint_eq(n, wrap_cases[_i].first);
	}
	if (wrap_cases[_i].want_last != NULL)
		ck_assert_str_eq(r.line[r.nlines - 1], wrap_cases[_i].want_last);
	flines = wrap_cases[_i].footer != NULL && *wrap_cases[_i].footer > ' ';
	if (r.nlines > flines) {
		last = r.nlines - 1 - flines;
		n = strlen(r.line[last]);
		ck_assert_int_eq(n >= 3 &&
		    strcmp(r.line[last] + n - 3, "...") == 0,
		    wrap_cases[_i].dots);
	} else
		ck_assert(!wrap_cases[_i].dots);
	if (!wrap_cases[_i].dots && wrap_cases[_i].footer == NULL) {
		/* nothing lost: only the spaces at the breaks */
		got = strip(buf_str(&vis));
		want = strip(buf_str(&text));
		ck_assert_str_eq(got, want);
		free(got);
		free(want);
	}
	reply_free(&r);
	ck_assert_uint_eq(r.nlines, 0);
	buf_free(&text);
	buf_free(&vis);
}
END_TEST

static const struct {
	const char	*code, *ecode, *text, *footer;
	unsigned	 lines;
	const char	*want_line0;
	const char	*want_log;
} format_cases[] = {
	{ "421", "4.7.0", "bad\r\n250 ok\x01%s%n\xff", "foot%", 2,
	    "bad250 ok%%s%%n?", "421 4.7.0 bad250 ok%s%n? foot%" },
	{ "451", "4.7.1", "rate 100% used (ref AB12)", NULL, 1,
	    "rate 100%% used (ref AB12)", "451 4.7.1 rate 100% used (ref AB12)" },
	{ "451", "4.3.0", "", NULL, 1, "", "451 4.3.0 " },
	{ "451", "4.7.26", "  two  spaces  ", "\xc3\xa9t\xc3\xa9", 2,
	    "two  spaces", "451 4.7.26 two  spaces ??t??" },
};

START_TEST(test_format)
{
	struct reply	r;
	struct buf	got = BUF_INIT;

	reply_build(&r, format_cases[_i].code, format_cases[_i].ecode,
	    format_cases[_i].text, format_cases[_i].footer);
	ck_assert_uint_eq(r.nlines, format_cases[_i].lines);
	ck_assert_str_eq(r.line[0], format_cases[_i].want_line0);
	reply_format(&r, &got);
	ck_assert_str_eq(buf_str(&got), format_cases[_i].want_log);
	reply_free(&r);
	buf_free(&got);
}
END_TEST

START_TEST(test_format_wrapped)
{
	struct reply	 r;
	struct buf	 text = BUF_INIT, got = BUF_INIT, want = BUF_INIT;
	int		 i;

	for (i = 0; i < 499; i++)
		buf_putc(&text, 'w');
	buf_puts(&text, "%%");	/* two visible '%': the second one wraps */
	reply_build(&r, "451", "4.7.1", buf_str(&text), "end");
	ck_assert_uint_eq(r.nlines, 3);
	ck_assert_str_eq(r.line[1], "%%");
	reply_format(&r, &got);
	buf_puts(&want, "451 4.7.1 ");
	for (i = 0; i < 499; i++)
		buf_putc(&want, 'w');
	buf_puts(&want, "% % end");
	ck_assert_str_eq(buf_str(&got), buf_str(&want));
	reply_free(&r);
	buf_free(&text);
	buf_free(&got);
	buf_free(&want);
}
END_TEST

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

int
main(void)
{
	Suite	*s = suite_create("reply");
	TCase	*tc = tcase_create("all");
	SRunner	*sr;
	int	 failed;

	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_tmpl, 0, NELEM(tmpl_cases));
	tcase_add_loop_test(tc, test_tmpl_size, 0, NELEM(size_cases));
	tcase_add_test(tc, test_tmpl_uses_and_cap);
	tcase_add_loop_test(tc, test_sanitize, 0, NELEM(sanitize_cases));
	tcase_add_loop_test(tc, test_wrap, 0, NELEM(wrap_cases));
	tcase_add_loop_test(tc, test_format, 0, NELEM(format_cases));
	tcase_add_test(tc, test_format_wrapped);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
