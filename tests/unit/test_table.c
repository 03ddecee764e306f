/*
 * test_table -- table files: syntax errors, most specific key per field,
 * reload on change.
 */
#include "config.h"

#include <check.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "diag.h"
#include "ipaddr.h"
#include "log.h"
#include "table.h"

static char	path[64];

/* put -- write the test table file */
static void
put(const char *text)
{
	FILE	*f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

static void
setup(void)
{
	int	fd;

	(void)strlcpy(path, "/tmp/test_table.XXXXXX", sizeof(path));
	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	close(fd);
}

static void
teardown(void)
{
	unlink(path);
}

static const char content[] =
    "# customers\n"
    "alice rcpt_per_hour=900 customer=acme\n"
    "bob@example.com rcpt_per_hour=unlimited\n"
    "@example.com rcpt_per_hour=50 rcpt_per_day=400 customer=\"Example Inc\"\n"
    "192.0.2.0/24 rcpt_per_day=7\n"
    "192.0.2.128/25 rcpt_per_day=8\n"
    "2001:db8::/32 customer=v6net\n"
    "\t2001:DB8:1::/48   customer=\"v6 \\\"sub\\\" net\"  # a comment\r\n"
    "carol@example.com\n"
    "dave@example.org rcpt_per_hour=11 customer=dave-login\n"
    "@example.org rcpt_per_hour=12 rcpt_per_day=13 note=\n"
    "@sub.example.com customer=sub\n"
    "10.0.0.0/8 rcpt_per_min=1 rcpt_per_day=2\n"
    "10.1.0.0/16 rcpt_per_min=3\n"
    "10.1.2.3 rcpt_per_hour=4\n";

static const struct {
	const char	*login, *address, *ip, *field;
	int		 rc;
	const char	*want;
} get_cases[] = {
	{ "alice", "alice@example.com", NULL, "rcpt_per_hour", 1, "900" },
	{ "alice", "alice@example.com", NULL, "rcpt_per_day", 1, "400" },
	{ "ALICE", NULL, NULL, "customer", 1, "acme" },
	{ NULL, "bob@example.com", NULL, "rcpt_per_hour", 1, "unlimited" },
	{ NULL, "Bob@Example.COM", NULL, "rcpt_per_day", 1, "400" },
	{ NULL, "carol@example.com", NULL, "customer", 1, "Example Inc" },
	{ NULL, "example.com", NULL, "rcpt_per_hour", 1, "50" },
	{ "dave@example.com", NULL, NULL, "rcpt_per_hour", 1, "50" },
	{ NULL, "x@other.test", "192.0.2.200", "rcpt_per_day", 1, "8" },
	{ NULL, "x@other.test", "192.0.2.1", "rcpt_per_day", 1, "7" },
	{ NULL, "x@example.com", "192.0.2.1", "rcpt_per_day", 1, "400" },
	{ NULL, NULL, "2001:db8:5::1", "customer", 1, "v6net" },
	{ NULL, NULL, "198.51.100.1", "customer", 0, "" },
	{ "nobody", "x@nowhere.test", NULL, "rcpt_per_hour", 0, "" },
	/* login beats address beats @domain of the address beats @domain of the login */
	{ "alice", "bob@example.com", NULL, "rcpt_per_hour", 1, "900" },
	{ "dave@example.org", "bob@example.com", NULL, "rcpt_per_hour", 1, "11" },
	{ "dave@example.org", "bob@example.com", NULL, "customer", 1, "dave-login" },
	{ "zed@example.org", "x@example.com", NULL, "rcpt_per_hour", 1, "50" },
	{ "zed@example.org", "x@elsewhere.test", NULL, "rcpt_per_hour", 1, "12" },
	{ "zed@example.org", "x@example.com", NULL, "note", 1, "" },
	{ "zed@example.org", NULL, "10.1.2.3", "rcpt_per_day", 1, "13" },
	/* a key without the field passes it on to the next one */
	{ NULL, "carol@example.com", NULL, "rcpt_per_day", 1, "400" },
	{ NULL, "bob@example.com", "10.1.2.3", "rcpt_per_min", 1, "3" },
	/* longest CIDR first, per field */
	{ NULL, NULL, "10.1.2.3", "rcpt_per_hour", 1, "4" },
	{ NULL, NULL, "10.1.2.3", "rcpt_per_min", 1, "3" },
	{ NULL, NULL, "10.1.2.3", "rcpt_per_day", 1, "2" },
	{ NULL, NULL, "10.2.2.3", "rcpt_per_min", 1, "1" },
	{ NULL, NULL, "::ffff:10.1.9.9", "rcpt_per_min", 1, "3" },
	{ NULL, NULL, "2001:db8:1:ffff::1", "customer", 1, "v6 \"sub\" net" },
	/* @domain is not inherited by subdomains; a bare domain is its @domain */
	{ NULL, "x@sub.example.com", NULL, "customer", 1, "sub" },
	{ NULL, "x@deeper.sub.example.com", NULL, "customer", 0, "" },
	{ NULL, "sub.example.com", NULL, "customer", 1, "sub" },
	{ NULL, "@sub.example.com", NULL, "customer", 1, "sub" },
	{ NULL, "x@", NULL, "customer", 0, "" },
	{ NULL, "", NULL, "customer", 0, "" },
	{ "", "", NULL, "customer", 0, "" },
	/* field names are exact */
	{ "alice", NULL, NULL, "Customer", 0, "" },
};

START_TEST(test_get)
{
	struct diag	 d = DIAG_INIT;
	struct table	*t;
	struct table_query q;
	struct ipaddr	 ip;
	char		 got[64] = "";
	int		 rc;

	put(content);
	t = table_open("customers", path, &d);
	ck_assert_msg(t != NULL, "%s", buf_str(&d.out));
	ck_assert_uint_eq(table_count(t), 14);
	memset(&q, 0, sizeof(q));
	q.login = get_cases[_i].login;
	q.address = get_cases[_i].address;
	if (get_cases[_i].ip != NULL) {
		ck_assert_int_eq(ip_parse(get_cases[_i].ip, strlen(get_cases[_i].ip), &ip), 0);
		q.ip = &ip;
	}
	rc = table_get(t, &q, get_cases[_i].field, got, sizeof(got));
	ck_assert_int_eq(rc, get_cases[_i].rc);
	if (rc == 1)
		ck_assert_str_eq(got, get_cases[_i].want);
	if (rc == 1)
		ck_assert_int_eq(table_has(t, &q), 1);
	table_free(t);
	diag_free(&d);
}
END_TEST

START_TEST(test_too_long_value)
{
	struct diag	 d = DIAG_INIT;
	struct table	*t;
	struct table_query q = { "alice", NULL, NULL };
	char		 small[3];

	put(content);
	t = table_open("c", path, &d);
	ck_assert_ptr_nonnull(t);
	ck_assert_int_eq(table_get(t, &q, "rcpt_per_hour", small, sizeof(small)), -1);
	table_free(t);
	diag_free(&d);
}
END_TEST

static const struct {
	const char	*text;
	const char	*where;		/* ":LINE:COL: error: " fragment */
	const char	*what;
	unsigned	 errors;
} bad_cases[] = {
	{ "alice x\n", ":1:7: error:", "field=value", 1 },
	{ "alice x=\"open\n", ":1:14: error:", "unterminated", 1 },
	{ "alice x=\"a\\\"\n", ":1:13: error:", "unterminated", 1 },
	{ "ok a=1\n192.0.2.0/33 a=1\n", ":2:1: error:", "bad key", 1 },
	{ "2001:db8::/129 a=1\n", ":1:1: error:", "not a valid IP", 1 },
	{ "1.2.3 a=1\n", ":1:1: error:", "not a valid IP", 1 },
	{ "fe80::1%eth0 a=1\n", ":1:1: error:", "not a valid IP", 1 },
	{ "a a=1\nA a=2\n", ":2:1: error:", "duplicate key \"A\"", 1 },
	{ "x@Y.test a=1\n  X@y.TEST a=2\n", ":2:3: error:", "duplicate key", 1 },
	{ "192.0.2.0/24 a=1\n192.0.2.9/24 b=2\n", ":2:1: error:", "duplicate key", 1 },
	{ "10.0.0.1 a=1\n::ffff:10.0.0.1 b=2\n", ":2:1: error:", "duplicate key", 1 },
	{ "a n=1 m=2 n=3\n", ":1:11: error:", "field given twice", 1 },
	{ "a =1\n", ":1:3: error:", "field=value", 1 },
	{ "a n=\"x\"y\n", ":1:8: error:", "blank after", 1 },
	{ "a n=x\"y\"\n", ":1:6: error:", "inside a value", 1 },
	{ "a n=x\001y\n", ":1:6: error:", "control byte", 1 },
	{ "a n=\"x\001y\"\n", ":1:7: error:", "control byte", 1 },
	{ "@ n=1\n", ":1:1: error:", "no domain", 1 },
	{ "x@ n=1\n", ":1:1: error:", "no domain", 1 },
	{ "a=1 n=1\n", ":1:1: error:", "'='", 1 },
	{ "a\"b n=1\n", ":1:1: error:", "'\"'", 1 },
	{ "a n=1\nb\0 n=1\nc n=1\n", ":2:2: error:", "NUL byte", 1 },
	{ "x 1=2 =3\n", ":1:7: error:", "field=value", 1 },
	/* every error is reported, each with its own line */
	{ "a x\nb y\nc n=1\nd z\n", ":4:3: error:", "field=value", 3 },
	{ "a x\n\n# c\n192.0.2.1/40\n", ":4:1: error:", "bad key", 2 },
};

static const char nul_text[] = "a n=1\nb\0 n=1\nc n=1\n";

START_TEST(test_bad)
{
	struct diag	 d = DIAG_INIT;
	struct table	*t;
	const char	*text = bad_cases[_i].text;
	FILE		*f = fopen(path, "w");
	char		 want[128];

	/* cases may hold a NUL: write up to the last "\n" of the literal */
	ck_assert_ptr_nonnull(f);
	if (strstr(text, "b") == text + 6 && text[7] == '\0')
		fwrite(nul_text, 1, sizeof(nul_text) - 1, f);
	else
		fputs(text, f);
	fclose(f);
	t = table_open("c", path, &d);
	ck_assert_ptr_null(t);
	(void)snprintf(want, sizeof(want), "%s%s", path, bad_cases[_i].where);
	ck_assert_msg(strstr(buf_str(&d.out), want) != NULL &&
	    strstr(buf_str(&d.out), bad_cases[_i].what) != NULL, "%s",
	    buf_str(&d.out));
	ck_assert_msg(d.errors == bad_cases[_i].errors, "%s", buf_str(&d.out));
	diag_free(&d);
}
END_TEST

/* syntax that is fine: comments, blanks, CRLF, escapes, empty values */
static const struct {
	const char	*text;
	const char	*key, *field, *want;
} good_cases[] = {
	{ "a n=1 # c\n", "a", "n", "1" },
	{ "a n=1#c\n", "a", "n", "1#c" },
	{ "a n=\"1 # 2\"\n", "a", "n", "1 # 2" },
	{ "  # only a comment\n\n\t\na n=1\r\n", "a", "n", "1" },
	{ "a n=\"x\\\\y\\z\"\n", "a", "n", "x\\y\\z" },
	{ "a n=\"\"\n", "a", "n", "" },
	{ "a n=\"tab\there\"\n", "a", "n", "tab\there" },
	{ "a n=\"caf\xc3\xa9\"\n", "a", "n", "caf\xc3\xa9" },
	{ "a\tn=1\tm=2", "a", "m", "2" },
	{ "J\xc3\xb6rg n=1\n", "j\xc3\xb6rg", "n", "1" },
	{ "12345 n=7\n", "12345", "n", "7" },
};

START_TEST(test_good)
{
	struct diag	 d = DIAG_INIT;
	struct table	*t;
	struct table_query q = { good_cases[_i].key, NULL, NULL };
	char		 got[64];

	put(good_cases[_i].text);
	t = table_open("c", path, &d);
	ck_assert_msg(t != NULL, "%s", buf_str(&d.out));
	ck_assert_int_eq(table_get(t, &q, good_cases[_i].field, got, sizeof(got)), 1);
	ck_assert_str_eq(got, good_cases[_i].want);
	table_free(t);
	diag_free(&d);
}
END_TEST

START_TEST(test_long_line)
{
	struct diag	 d = DIAG_INIT;
	struct buf	 b = BUF_INIT;
	struct table	*t;
	struct table_query q = { "b", NULL, NULL };
	char		 want[128], got[8];
	int		 i;

	/* 4096 bytes is fine, 4097 is not; reading goes on after it */
	buf_puts(&b, "b f=");
	for (i = 4; i < 4096; i++)
		buf_putc(&b, 'x');
	buf_puts(&b, "\na f=");
	for (i = 4; i < 4097; i++)
		buf_putc(&b, 'x');
	buf_puts(&b, "\nc\n");
	put(buf_str(&b));
	ck_assert_ptr_null(table_open("c", path, &d));
	(void)snprintf(want, sizeof(want), "%s:2:4097: error: line longer than "
	    "4096 bytes", path);
	ck_assert_msg(strstr(buf_str(&d.out), want) != NULL, "%s", buf_str(&d.out));
	ck_assert_uint_eq(d.errors, 1);
	/* the 4096-byte line alone loads; its value does not fit a small out */
	buf_reset(&b);
	buf_puts(&b, "b f=");
	for (i = 4; i < 4096; i++)
		buf_putc(&b, 'x');
	put(buf_str(&b));
	diag_free(&d);
	t = table_open("c", path, &d);
	ck_assert_msg(t != NULL, "%s", buf_str(&d.out));
	ck_assert_int_eq(table_get(t, &q, "f", got, sizeof(got)), -1);
	ck_assert_str_eq(got, "");
	table_free(t);
	buf_free(&b);
	diag_free(&d);
}
END_TEST

/* a key of 320 bytes is fine, 321 is not */
START_TEST(test_long_key)
{
	struct diag	 d = DIAG_INIT;
	struct buf	 b = BUF_INIT, k = BUF_INIT;
	struct table	*t;
	struct table_query q = { NULL, NULL, NULL };
	char		 got[8];
	int		 i;

	for (i = 0; i < 316; i++)
		buf_putc(&k, 'k');
	buf_puts(&k, "@x.y");
	buf_printf(&b, "%s n=1\n", k.data);
	put(buf_str(&b));
	t = table_open("c", path, &d);
	ck_assert_msg(t != NULL, "%s", buf_str(&d.out));
	q.address = k.data;
	ck_assert_int_eq(table_get(t, &q, "n", got, sizeof(got)), 1);
	buf_putc(&k, 'z');
	q.address = k.data;
	ck_assert_int_eq(table_get(t, &q, "n", got, sizeof(got)), 0);
	table_free(t);
	buf_reset(&b);
	buf_printf(&b, "%s n=1\n", k.data);
	put(buf_str(&b));
	ck_assert_ptr_null(table_open("c", path, &d));
	ck_assert_ptr_nonnull(strstr(buf_str(&d.out), "longer than 320"));
	buf_free(&b);
	buf_free(&k);
	diag_free(&d);
}
END_TEST

/* a missing file and a directory are refused */
START_TEST(test_unreadable)
{
	struct diag	 d = DIAG_INIT;

	ck_assert_ptr_null(table_open("c", "/nonexistent/t.map", &d));
	ck_assert_ptr_nonnull(strstr(buf_str(&d.out),
	    "/nonexistent/t.map: error: cannot read table"));
	ck_assert_ptr_null(table_open("c", "/tmp", &d));
	ck_assert_ptr_nonnull(strstr(buf_str(&d.out), "/tmp: error: not a regular file"));
	ck_assert_uint_eq(d.errors, 2);
	diag_free(&d);
}
END_TEST

/* every prefix length plus string keys: the least specific is still found */
START_TEST(test_many_candidates)
{
	struct diag	 d = DIAG_INIT;
	struct buf	 b = BUF_INIT;
	struct table	*t;
	struct table_query q = { "u@l.test", "u@a.test", NULL };
	struct ipaddr	 ip;
	char		 got[16];
	int		 i;

	buf_puts(&b, "u@l.test a=1\nu@a.test b=1\n@a.test c=1\n@l.test d=1\n");
	for (i = 32; i > 0; i--)
		buf_printf(&b, "10.0.0.0/%d p%d=1\n", i, i);
	buf_puts(&b, "0.0.0.0/0 last=yes\n");
	put(buf_str(&b));
	t = table_open("c", path, &d);
	ck_assert_msg(t != NULL, "%s", buf_str(&d.out));
	ck_assert_int_eq(ip_parse("10.0.0.0", 8, &ip), 0);
	q.ip = &ip;
	ck_assert_int_eq(table_get(t, &q, "last", got, sizeof(got)), 1);
	ck_assert_str_eq(got, "yes");
	ck_assert_int_eq(table_get(t, &q, "p7", got, sizeof(got)), 1);
	ck_assert_int_eq(table_get(t, &q, "d", got, sizeof(got)), 1);
	ck_assert_int_eq(table_get(t, &q, "nope", got, sizeof(got)), 0);
	table_free(t);
	buf_free(&b);
	diag_free(&d);
}
END_TEST

static time_t	fake_now = 1000;

/* fake_clock -- the test's reload clock */
static time_t
fake_clock(void)
{
	return __atomic_load_n(&fake_now, __ATOMIC_SEQ_CST);
}

/* count -- occurrences of needle in s */
static int
count(const char *s, const char *needle)
{
	int	n = 0;

	for (; (s = strstr(s, needle)) != NULL; s++)
		n++;
	return n;
}

/* put_atomic -- replace the file by rename, as an admin should */
static void
put_atomic(const char *text)
{
	char	tmp[80];
	FILE	*f;

	(void)snprintf(tmp, sizeof(tmp), "%s.new", path);
	ck_assert_ptr_nonnull(f = fopen(tmp, "w"));
	fputs(text, f);
	fclose(f);
	ck_assert_int_eq(rename(tmp, path), 0);
}

/* bump -- give the file a new mtime, secs from now */
static void
bump(int secs)
{
	struct timespec	ts[2];

	clock_gettime(CLOCK_REALTIME, &ts[0]);
	ts[0].tv_sec += secs;
	ts[1] = ts[0];
	ck_assert_int_eq(utimensat(AT_FDCWD, path, ts, 0), 0);
}

/* value -- n for alice, or "" */
static const char *
value(struct table *t)
{
	static char		got[32];
	struct table_query	q = { "alice", NULL, NULL };

	if (table_get(t, &q, "n", got, sizeof(got)) != 1)
		got[0] = '\0';
	return got;
}

START_TEST(test_reload)
{
	struct diag	 d = DIAG_INIT;
	struct table	*t;
	struct buf	 logs = BUF_INIT;
	char		 want[128];

	table_set_clock(fake_clock);
	log_capture(&logs);
	put("alice n=1\n");
	t = table_open("c", path, &d);
	ck_assert_ptr_nonnull(t);
	ck_assert_str_eq(value(t), "1");
	/* changed, but within the same clock second: not looked at yet */
	put("alice n=2\nbob n=1\n");
	bump(10);
	ck_assert_str_eq(value(t), "1");
	fake_now++;
	ck_assert_str_eq(value(t), "2");
	ck_assert_uint_eq(table_count(t), 2);
	ck_assert_ptr_nonnull(strstr(buf_str(&logs), "table c: reloaded"));
	/* broken: the old content stays, the errors are logged with positions */
	put("alice n=\"3\nbob x\n");
	bump(20);
	fake_now++;
	ck_assert_str_eq(value(t), "2");
	ck_assert_ptr_nonnull(strstr(buf_str(&logs), "has 2 errors; the old content"));
	(void)snprintf(want, sizeof(want), "table c: %s:2:5: error:", path);
	ck_assert_msg(strstr(buf_str(&logs), want) != NULL, "%s", buf_str(&logs));
	/* not retried while the file stays the same */
	buf_reset(&logs);
	fake_now++;
	ck_assert_str_eq(value(t), "2");
	ck_assert_uint_eq(logs.len, 0);
	/* fixed: loaded */
	put("alice n=4\n");
	bump(30);
	fake_now++;
	ck_assert_str_eq(value(t), "4");
	ck_assert_uint_eq(table_count(t), 1);
	/* same mtime, other size: a new version too */
	put("alice n=55\n");
	bump(30);
	fake_now++;
	ck_assert_str_eq(value(t), "55");
	/* removed: logged once, the content stays */
	buf_reset(&logs);
	ck_assert_int_eq(unlink(path), 0);
	fake_now++;
	ck_assert_str_eq(value(t), "55");
	fake_now++;
	ck_assert_str_eq(value(t), "55");
	ck_assert_msg(count(buf_str(&logs), "No such file") == 1, "%s",
	    buf_str(&logs));
	put("alice n=6\n");
	fake_now++;
	ck_assert_str_eq(value(t), "6");
	table_free(t);
	log_capture(NULL);
	table_set_clock(NULL);
	buf_free(&logs);
	diag_free(&d);
}
END_TEST

struct reader {
	struct table	*t;
	int		 bad;
};

/* read_loop -- a lookup thread: every answer is a whole version */
static void *
read_loop(void *p)
{
	struct reader		*r = p;
	struct table_query	 q = { "alice", NULL, NULL };
	char			 got[32], other[32];
	int			 i;

	for (i = 0; i < 2000; i++) {
		q.login = "alice";
		if (table_get(r->t, &q, "n", got, sizeof(got)) != 1)
			r->bad++;
		q.login = "bob";
		if (table_get(r->t, &q, "n", other, sizeof(other)) != 1 ||
		    strlen(got) == 0 || strlen(other) == 0)
			r->bad++;
	}
	return NULL;
}

/* lookups from threads while the file is rewritten and reloaded */
START_TEST(test_threads)
{
	struct diag	 d = DIAG_INIT;
	struct table	*t;
	struct reader	 r[4];
	pthread_t	 th[4];
	char		 text[64];
	struct buf	 logs = BUF_INIT;
	int		 i;

	table_set_clock(fake_clock);
	log_capture(&logs);
	put("alice n=0\nbob n=0\n");
	t = table_open("c", path, &d);
	ck_assert_ptr_nonnull(t);
	for (i = 0; i < 4; i++) {
		r[i].t = t;
		r[i].bad = 0;
		ck_assert_int_eq(pthread_create(&th[i], NULL, read_loop, &r[i]), 0);
	}
	for (i = 1; i < 50; i++) {
		(void)snprintf(text, sizeof(text), "alice n=%d\nbob n=%d\n", i, i);
		put_atomic(text);
		bump(i);
		__atomic_add_fetch(&fake_now, 1, __ATOMIC_SEQ_CST);
		(void)value(t);
	}
	for (i = 0; i < 4; i++) {
		ck_assert_int_eq(pthread_join(th[i], NULL), 0);
		ck_assert_int_eq(r[i].bad, 0);
	}
	ck_assert_str_eq(value(t), "49");
	ck_assert_int_ge(count(buf_str(&logs), "table c: reloaded"), 1);
	ck_assert_int_eq(count(buf_str(&logs), "error"), 0);
	table_free(t);
	log_capture(NULL);
	table_set_clock(NULL);
	buf_free(&logs);
	diag_free(&d);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("table");
	TCase	*tc = tcase_create("all");
	SRunner	*sr;
	int	 failed;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, test_get, 0, sizeof(get_cases) / sizeof(get_cases[0]));
	tcase_add_test(tc, test_too_long_value);
	tcase_add_loop_test(tc, test_bad, 0, sizeof(bad_cases) / sizeof(bad_cases[0]));
	tcase_add_loop_test(tc, test_good, 0, sizeof(good_cases) / sizeof(good_cases[0]));
	tcase_add_test(tc, test_long_line);
	tcase_add_test(tc, test_long_key);
	tcase_add_test(tc, test_unreadable);
	tcase_add_test(tc, test_many_candidates);
	tcase_add_test(tc, test_reload);
	tcase_add_test(tc, test_threads);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
