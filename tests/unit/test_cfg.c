/*
 * test_cfg -- mxgate.conf: defaults, every value type, every error class
 * with its position, warnings for parameters this build lacks, and the
 * shipped file.
 */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "cfg.h"
#include "diag.h"

static char	path[64];

/* load_text -- write the file and load it */
static int
load_text(const char *text, struct cfg *c, struct diag *d, struct buf *w)
{
	FILE	*f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
	return cfg_load(c, path, d, w);
}

static void
setup(void)
{
	int	fd;

	(void)strlcpy(path, "/tmp/test_cfg.XXXXXX", sizeof(path));
	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	close(fd);
}

static void
teardown(void)
{
	unlink(path);
}

START_TEST(test_defaults)
{
	struct cfg	c;

	cfg_defaults(&c);
	ck_assert_str_eq(c.socket, "unix:/run/mxgate/mxgate.sock");
	ck_assert_uint_eq(c.socket_mode, 0660);
	ck_assert_str_eq(c.user, "mxgate");
	ck_assert_int_eq(c.mode, CFG_MODE_ENFORCE);
	ck_assert_int_eq(c.on_internal_error, CFG_ON_ERROR_TEMPFAIL);
	ck_assert_uint_eq(c.dns_timeout, 5);
	ck_assert_uint_eq(c.store_max_keys, 1000000);
	ck_assert_ptr_nonnull(strstr(c.rules, "/mxgate/default.rules"));
	ck_assert_ptr_nonnull(c.hostname);
	ck_assert_uint_gt(strlen(c.hostname), 0);
	cfg_free(&c);
}
END_TEST

START_TEST(test_values)
{
	struct cfg	 c;
	struct diag	 d = DIAG_INIT;
	struct buf	 w = BUF_INIT;
	int		 rc;

	rc = load_text("# comment\n"
	    "socket = inet:8891@127.0.0.1   # trailing comment\n"
	    "socket_mode=0600\r\n"
	    "mode = monitor\n"
	    "log = stderr\n"
	    "rules = my.rules\n"
	    "hostname = \"mx1.example.net\"\n"
	    "on_internal_error = accept\n"
	    "store_max_keys = 5000\n"
	    "\n", &c, &d, &w);
	ck_assert_msg(rc == 0 && d.errors == 0, "%s", buf_str(&d.out));
	ck_assert_str_eq(c.socket, "inet:8891@127.0.0.1");
	ck_assert_uint_eq(c.socket_mode, 0600);
	ck_assert_int_eq(c.mode, CFG_MODE_MONITOR);
	ck_assert_int_eq(c.log, LOG_TO_STDERR);
	ck_assert_str_eq(c.hostname, "mx1.example.net");
	ck_assert_int_eq(c.on_internal_error, CFG_ON_ERROR_ACCEPT);
	ck_assert_uint_eq(c.store_max_keys, 5000);
	/* relative to the file's directory */
	ck_assert_str_eq(c.rules, "/tmp/my.rules");
	ck_assert_uint_eq(w.len, 0);
	cfg_free(&c);
	buf_free(&w);
	diag_free(&d);
}
END_TEST

static const struct {
	const char	*text;
	const char	*where;		/* ":LINE:COL: error: " */
	const char	*what;
} err_cases[] = {
	{ "nonsense = 1\n", ":1:1: error:", "unknown parameter" },
	{ "mode = fast\n", ":1:8: error:", "enforce or monitor" },
	{ "socket = foo\n", ":1:10: error:", "unix:/PATH" },
	{ "socket_mode = 0999\n", ":1:15: error:", "" },
	{ "dns_timeout = 5x\n", ":1:15: error:", "duration" },
	{ "dns_timeout = 2m\n", ":1:15: error:", "" },
	{ "store_max_keys = 10\n", ":1:18: error:", "" },
	{ "store = redis://127.0.0.1:6379\n", ":1:9: error:", "redis" },
	{ "mode = enforce\nmode = monitor\n", ":2:1: error:", "" },
	{ "just a line\n", ":1:", "" },
	{ "hostname = \"unterminated\n", ":1:", "" },
	{ "user = \n", ":1:", "" },
	{ "pid_file = relative/path\n", ":1:12: error:", "" },
	{ "hostname = bad_host!\n", ":1:12: error:", "" },
	{ "add_auth_results = maybe\n", ":1:20: error:", "yes or no" },
	{ "mode = enforce\x01\n", ":1:", "" },
};

START_TEST(test_errors)
{
	struct cfg	 c;
	struct diag	 d = DIAG_INIT;
	struct buf	 w = BUF_INIT;
	char		 where[128];

	(void)load_text(err_cases[_i].text, &c, &d, &w);
	ck_assert_uint_ge(d.errors, 1);
	(void)snprintf(where, sizeof(where), "%s%s", path, err_cases[_i].where);
	ck_assert_msg(strstr(buf_str(&d.out), where) != NULL &&
	    strstr(buf_str(&d.out), err_cases[_i].what) != NULL,
	    "want %s %s, got %s", where, err_cases[_i].what, buf_str(&d.out));
	cfg_free(&c);
	buf_free(&w);
	diag_free(&d);
}
END_TEST

START_TEST(test_all_errors_and_warnings)
{
	struct cfg	 c;
	struct diag	 d = DIAG_INIT;
	struct buf	 w = BUF_INIT;

	(void)load_text("a = 1\nmode = x\nlog = y\ndns_forwarders = 127.0.0.1@5353\n"
	    "state_file = /var/lib/mxgate/state\n", &c, &d, &w);
	ck_assert_uint_eq(d.errors, 3);
	ck_assert_ptr_nonnull(strstr(buf_str(&w), "dns_forwarders"));
	ck_assert_ptr_nonnull(strstr(buf_str(&w), "state_file"));
	ck_assert_ptr_nonnull(strstr(buf_str(&w), "no effect yet"));
	ck_assert_int_eq(c.mode, CFG_MODE_ENFORCE);	/* bad value: default kept */
	cfg_free(&c);
	buf_free(&w);
	diag_free(&d);
}
END_TEST

START_TEST(test_oversized)
{
	struct cfg	 c;
	struct diag	 d = DIAG_INIT;
	struct buf	 w = BUF_INIT, t = BUF_INIT;
	int		 i;

	buf_puts(&t, "hostname = ");
	for (i = 0; i < 5000; i++)
		buf_putc(&t, 'a');
	buf_puts(&t, "\nmode = monitor\n");
	(void)load_text(buf_str(&t), &c, &d, &w);
	ck_assert_uint_ge(d.errors, 1);
	ck_assert_ptr_nonnull(strstr(buf_str(&d.out), ":1:"));
	cfg_free(&c);
	buf_free(&w);
	buf_free(&t);
	diag_free(&d);
}
END_TEST

START_TEST(test_shipped)
{
	const char	*src = getenv("srcdir");
	struct cfg	 c, def;
	struct diag	 d = DIAG_INIT;
	struct buf	 w = BUF_INIT, gen = BUF_INIT;
	char		 p[512];
	FILE		*f;
	char		 line[512];

	(void)snprintf(p, sizeof(p), "%s/milter/mxgate.conf", src ? src : "../..");
	ck_assert_int_eq(cfg_load(&c, p, &d, &w), 0);
	ck_assert_msg(d.errors == 0, "%s", buf_str(&d.out));
	cfg_defaults(&def);
	ck_assert_str_eq(c.socket, def.socket);
	ck_assert_str_eq(c.rules, def.rules);
	ck_assert_int_eq(c.mode, def.mode);
	/* every parameter of the table is in the shipped file */
	cfg_write_defaults(&gen);
	f = fopen(p, "r");
	ck_assert_ptr_nonnull(f);
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, "# ", 2) == 0 && strstr(line, " = ") != NULL &&
		    strchr(line + 2, ' ') == strstr(line, " = "))
			ck_assert_msg(strstr(buf_str(&gen), line) != NULL ||
			    strstr(line, "rules = ") != NULL, "%s", line);
	fclose(f);
	cfg_free(&def);
	cfg_free(&c);
	buf_free(&w);
	buf_free(&gen);
	diag_free(&d);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("cfg");
	TCase	*tc = tcase_create("all");
	SRunner	*sr;
	int	 failed;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_defaults);
	tcase_add_test(tc, test_values);
	tcase_add_loop_test(tc, test_errors, 0, sizeof(err_cases) / sizeof(err_cases[0]));
	tcase_add_test(tc, test_all_errors_and_warnings);
	tcase_add_test(tc, test_oversized);
	tcase_add_test(tc, test_shipped);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
