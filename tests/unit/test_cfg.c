/*
 * test_cfg -- mxgate.conf (milter/cfg.c): the defaults, every value type,
 * quoting, comments, CRLF, every error class with its exact
 * FILE:LINE:COL and message, all errors of a file reported, the warnings
 * for parameters this build does not act on, oversized lines and files,
 * and the shipped milter/mxgate.conf (identical to cfg_write_defaults()
 * and loading to the defaults). Files are written to a temporary
 * directory; `srcdir` (default ".") locates the shipped file.
 */
#include "config.h"

#include <check.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "cfg.h"
#include "diag.h"

static char	dir[64];	/* the temporary directory */
static char	path[128];	/* dir/t.conf, the file under test */

/* how to print one struct cfg field; enums by their words */
enum kind { K_STR, K_OCTAL, K_ENUM, K_U64 };

static const char *const mode_w[] = { "enforce", "monitor", NULL };
static const char *const log_w[] = { "stderr", "syslog", NULL };
static const char *const onerr_w[] = { "tempfail", "accept", NULL };
static const char *const sterr_w[] = { "fallback", "tempfail", NULL };
static const char *const bool_w[] = { "no", "yes", NULL };

static const struct {
	const char	*name;
	enum kind	 kind;
	size_t		 off;
	const char *const *words;	/* K_ENUM: indexed by value */
} fields[] = {
#define F(n, k, w)	{ #n, k, offsetof(struct cfg, n), w }
	F(socket, K_STR, NULL),
	F(socket_mode, K_OCTAL, NULL),
	F(user, K_STR, NULL),
	F(group, K_STR, NULL),
	F(pid_file, K_STR, NULL),
	F(rules, K_STR, NULL),
	F(mode, K_ENUM, mode_w),
	F(log, K_ENUM, log_w),
	F(hostname, K_STR, NULL),
	F(authserv_id, K_STR, NULL),
	F(on_internal_error, K_ENUM, onerr_w),
	F(dns_forwarders, K_STR, NULL),
	F(dns_timeout, K_U64, NULL),
	F(stage_timeout, K_U64, NULL),
	F(store, K_STR, NULL),
	F(store_password_file, K_STR, NULL),
	F(store_max_keys, K_U64, NULL),
	F(store_error, K_ENUM, sterr_w),
	F(state_file, K_STR, NULL),
	F(state_interval, K_U64, NULL),
	F(add_auth_results, K_ENUM, bool_w),
	F(dkim_max_signatures, K_U64, NULL),
	F(max_connections, K_U64, NULL),
	F(control_socket, K_STR, NULL),
	F(metrics_listen, K_STR, NULL),
	F(ref_history, K_U64, NULL),
#undef F
};
#define NFIELDS	(sizeof(fields) / sizeof(fields[0]))

/* field -- one field of c, by parameter name, as text */
static const char *
field(const struct cfg *c, const char *name, char *out, size_t outlen)
{
	const char	*p = (const char *)c;
	size_t		 i;
	int		 j, n;

	for (i = 0; i < NFIELDS; i++) {
		if (strcmp(fields[i].name, name) != 0)
			continue;
		p += fields[i].off;
		switch (fields[i].kind) {
		case K_STR:
			(void)snprintf(out, outlen, "%s", *(char *const *)p);
			break;
		case K_OCTAL:
			(void)snprintf(out, outlen, "%04o", *(const unsigned *)p);
			break;
		case K_ENUM:
			n = *(const int *)p;
			for (j = 0; fields[i].words[j] != NULL && j < n; j++)
				;
			(void)snprintf(out, outlen, "%s", j == n &&
			    fields[i].words[j] != NULL ? fields[i].words[j] :
			    "?");
			break;
		case K_U64:
			(void)snprintf(out, outlen, "%llu",
			    (unsigned long long)*(const uint64_t *)p);
			break;
		}
		return out;
	}
	ck_abort_msg("no field %s", name);
	return NULL;
}

/* write_file -- len bytes of text into path */
static void
write_file(const char *p, const char *text, size_t len)
{
	FILE	*f = fopen(p, "wb");

	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(text, 1, len, f), len);
	ck_assert_int_eq(fclose(f), 0);
}

/* load_text -- write text (a C string) to path and load it */
static int
load_text(const char *text, struct cfg *c, struct diag *d, struct buf *w)
{
	write_file(path, text, strlen(text));
	return cfg_load(c, path, d, w);
}

/* expand -- want with "$F" replaced by path and "$D" by dir */
static void
expand(struct buf *out, const char *want)
{
	for (; *want != '\0'; want++)
		if (want[0] == '$' && want[1] == 'F') {
			buf_puts(out, path);
			want++;
		} else if (want[0] == '$' && want[1] == 'D') {
			buf_puts(out, dir);
			want++;
		} else
			buf_putc(out, *want);
}

static void
setup(void)
{
	(void)strlcpy(dir, "/tmp/test_cfg.XXXXXX", sizeof(dir));
	ck_assert_ptr_nonnull(mkdtemp(dir));
	(void)snprintf(path, sizeof(path), "%s/t.conf", dir);
}

static void
teardown(void)
{
	(void)unlink(path);
	(void)rmdir(dir);
}

/* the defaults, as field() prints them */
static const struct {
	const char	*name;
	const char	*want;
} defaults[] = {
	{ "socket", "unix:/run/mxgate/mxgate.sock" },
	{ "socket_mode", "0660" },
	{ "user", "mxgate" },
	{ "group", "mxgate" },
	{ "pid_file", "/run/mxgate/mxgate.pid" },
	{ "rules", SYSCONFDIR "/mxgate/default.rules" },
	{ "mode", "enforce" },
	{ "log", "syslog" },
	{ "on_internal_error", "tempfail" },
	{ "dns_forwarders", "" },
	{ "dns_timeout", "5" },
	{ "stage_timeout", "20" },
	{ "store", "memory" },
	{ "store_password_file", "" },
	{ "store_max_keys", "1000000" },
	{ "store_error", "fallback" },
	{ "state_file", "" },
	{ "state_interval", "0" },
	{ "add_auth_results", "yes" },
	{ "dkim_max_signatures", "8" },
	{ "max_connections", "1000" },
};

START_TEST(test_defaults)
{
	struct cfg	 c;
	char		 got[512];
	size_t		 i;

	/* the word tables of field() */
	ck_assert_int_eq(CFG_MODE_MONITOR, 1);
	ck_assert_int_eq(LOG_TO_SYSLOG, 1);
	ck_assert_int_eq(CFG_ON_ERROR_ACCEPT, 1);
	ck_assert_int_eq(CFG_STORE_ERROR_TEMPFAIL, 1);
	cfg_defaults(&c);
	for (i = 0; i < sizeof(defaults) / sizeof(defaults[0]); i++)
		ck_assert_msg(strcmp(field(&c, defaults[i].name, got,
		    sizeof(got)), defaults[i].want) == 0, "%s: got '%s', want "
		    "'%s'", defaults[i].name, got, defaults[i].want);
	/* the system host name, and authserv_id follows it */
	ck_assert_uint_gt(strlen(c.hostname), 0);
	ck_assert_str_eq(c.authserv_id, c.hostname);
	ck_assert_ptr_null(c.path);
	cfg_free(&c);
}
END_TEST

START_TEST(test_load_null)
{
	struct cfg	 c, def;
	struct diag	 d = DIAG_INIT;
	char		 got[512], want[512];
	size_t		 i;

	ck_assert_int_eq(cfg_load(&c, NULL, &d, NULL), 0);
	ck_assert_uint_eq(d.errors, 0);
	cfg_defaults(&def);
	for (i = 0; i < NFIELDS; i++)
		ck_assert_str_eq(field(&c, fields[i].name, got, sizeof(got)),
		    field(&def, fields[i].name, want, sizeof(want)));
	cfg_free(&c);
	cfg_free(&def);
}
END_TEST

/*
 * Valid files: one parameter checked, and the warning wanted ("" for
 * none). "$F" stands for the file's path, "$D" for its directory.
 */
#define NOTYET(n, col) "$F:" #n ":" #col ": warning: "
static const struct {
	const char	*text;
	const char	*name;
	const char	*want;
	const char	*warn;
} val_cases[] = {
	/* socket */
	{ "socket = unix:/var/spool/postfix/mxgate/s\n", "socket",
	  "unix:/var/spool/postfix/mxgate/s", "" },
	{ "socket = local:/run/m.sock\n", "socket", "local:/run/m.sock", "" },
	{ "socket = inet:8891@127.0.0.1\n", "socket", "inet:8891@127.0.0.1", "" },
	{ "socket = inet:8891\n", "socket", "inet:8891", "" },
	{ "socket = inet:65535@localhost\n", "socket", "inet:65535@localhost", "" },
	{ "socket = inet6:8891@::1\n", "socket", "inet6:8891@::1", "" },
	{ "socket = inet6:8891@[::1]\n", "socket", "inet6:8891@[::1]", "" },
	/* socket_mode */
	{ "socket_mode = 0600\n", "socket_mode", "0600", "" },
	{ "socket_mode = 666\n", "socket_mode", "0666", "" },
	{ "socket_mode = 0\n", "socket_mode", "0000", "" },
	{ "socket_mode = 0777\n", "socket_mode", "0777", "" },
	/* user, group */
	{ "user = _mxgate\n", "user", "_mxgate", "" },
	{ "group = mail-filter.1\n", "group", "mail-filter.1", "" },
	{ "user = abcdefghijklmnopqrstuvwxyz012345\n", "user",
	  "abcdefghijklmnopqrstuvwxyz012345", "" },
	/* paths */
	{ "pid_file = /var/run/m.pid\n", "pid_file", "/var/run/m.pid", "" },
	{ "rules = /etc/x/my.rules\n", "rules", "/etc/x/my.rules", "" },
	{ "rules = my.rules\n", "rules", "$D/my.rules", "" },
	{ "rules = sub/dir/my.rules\n", "rules", "$D/sub/dir/my.rules", "" },
	{ "mode = monitor\n", "rules", "$D/default.rules", "" },
	/* enums and booleans */
	{ "mode = monitor\n", "mode", "monitor", "" },
	{ "mode = enforce\n", "mode", "enforce", "" },
	{ "log = stderr\n", "log", "stderr", "" },
	{ "on_internal_error = accept\n", "on_internal_error", "accept", "" },
	/* host names */
	{ "hostname = mx1.example.net\n", "hostname", "mx1.example.net", "" },
	{ "hostname = mx1.example.net\n", "authserv_id", "mx1.example.net", "" },
	{ "hostname = localhost\n", "hostname", "localhost", "" },
	{ "hostname = a-b.c0\n", "hostname", "a-b.c0", "" },
	/* numbers and durations */
	{ "store_max_keys = 1000\n", "store_max_keys", "1000", "" },
	{ "store_max_keys = 100000000\n", "store_max_keys", "100000000", "" },
	{ "store = memory\n", "store", "memory", "" },
	/* syntax: blanks, comments, CRLF, quotes */
	{ "mode=monitor\n", "mode", "monitor", "" },
	{ "\t mode \t= \tmonitor\t \n", "mode", "monitor", "" },
	{ "mode = monitor # comment\n", "mode", "monitor", "" },
	{ "# mode = monitor\nmode = enforce\n", "mode", "enforce", "" },
	{ "\n\n  # x\n\t\nmode = monitor", "mode", "monitor", "" },
	{ "mode = monitor\r\n", "mode", "monitor", "" },
	{ "rules = a#b.rules\r\n", "rules", "$D/a#b.rules", "" },
	{ "rules = \"my # file.rules\"  # c\n", "rules",
	  "$D/my # file.rules", "" },
	{ "rules = \" a\\\"b\\\\c \"\n", "rules", "$D/ a\"b\\c ", "" },
	{ "hostname = \"mx.example.org\"\r\n", "hostname", "mx.example.org",
	  "" },
	{ "authserv_id = mx.example.org\n", "authserv_id", "mx.example.org",
	  "" },
	{ "dns_forwarders = 127.0.0.1, ::1@5353,192.0.2.1@53\n",
	  "dns_forwarders", "127.0.0.1, ::1@5353,192.0.2.1@53", "" },
	{ "# x\n  dns_timeout = 1m\nstage_timeout = 1m\n", "dns_timeout", "60",
	  "" },
	{ "stage_timeout = 2m\ndns_timeout = 30\n", "dns_timeout", "30", "" },
	{ "dns_timeout = 20s\n", "dns_timeout", "20", "" },
	{ "stage_timeout = 10m\n", "stage_timeout", "600", "" },
	{ "stage_timeout = 5s\n", "stage_timeout", "5", "" },
	{ "stage_timeout = 1s\ndns_timeout = 1s\n", "stage_timeout", "1", "" },
	{ "store_error = tempfail\n", "store_error", "tempfail", "" },
	{ "state_file = /var/lib/mxgate/state\n", "state_file",
	  "/var/lib/mxgate/state", "" },
	{ "state_interval = 5m\n", "state_interval", "300", "" },
	{ "store = redis://127.0.0.1:6379\n", "store",
	  "redis://127.0.0.1:6379", "" },
	{ "store = redis://[::1]:6379/2\n", "store", "redis://[::1]:6379/2",
	  "" },
	{ "store = redis://redis.example.net:6380/15\n", "store",
	  "redis://redis.example.net:6380/15", "" },
	{ "control_socket = unix:/tmp/ctl.sock\n", "control_socket",
	  "unix:/tmp/ctl.sock", "" },
	{ "control_socket =\n", "control_socket", "", "" },
	{ "metrics_listen = 127.0.0.1:9357\n", "metrics_listen",
	  "127.0.0.1:9357", "" },
	{ "metrics_listen = [::1]:9357\n", "metrics_listen", "[::1]:9357",
	  "" },
	{ "ref_history = 0\n", "ref_history", "0", "" },
	{ "add_auth_results = no\n", "add_auth_results", "no", "" },
	{ "add_auth_results = yes\n", "add_auth_results", "yes", "" },
	{ "dkim_max_signatures = 64\n", "dkim_max_signatures", "64", "" },
};

START_TEST(test_values)
{
	struct cfg	 c;
	struct diag	 d = DIAG_INIT;
	struct buf	 w = BUF_INIT, want = BUF_INIT, wantw = BUF_INIT;
	char		 got[512];

	expand(&want, val_cases[_i].want);
	expand(&wantw, val_cases[_i].warn);
	ck_assert_msg(load_text(val_cases[_i].text, &c, &d, &w) == 0 &&
	    d.errors == 0, "%s", buf_str(&d.out));
	ck_assert_str_eq(field(&c, val_cases[_i].name, got, sizeof(got)),
	    buf_str(&want));
	ck_assert_str_eq(buf_str(&w), buf_str(&wantw));
	ck_assert_str_eq(c.path, path);
	cfg_free(&c);
	buf_free(&w);
	buf_free(&want);
	buf_free(&wantw);
	diag_free(&d);
}
END_TEST

/* without a warnings buffer the warning is logged, and the load succeeds */
START_TEST(test_warn_logged)
{
	struct cfg	 c;
	struct diag	 d = DIAG_INIT;

	ck_assert_int_eq(load_text("dkim_max_signatures = 4\n", &c, &d, NULL),
	    0);
	ck_assert_uint_eq(c.dkim_max_signatures, 4);
	cfg_free(&c);
	diag_free(&d);
}
END_TEST

/* every error class: the whole diag output wanted; "$F" is the path */
static const struct {
	const char	*text;
	const char	*want;
} err_cases[] = {
	/* names */
	{ "nonsense = 1\n",
	  "$F:1:1: error: unknown parameter 'nonsense'\n" },
	{ "  sokcet = unix:/x\n",
	  "$F:1:3: error: unknown parameter 'sokcet'; did you mean 'socket'?\n" },
	{ "Mode = monitor\n",
	  "$F:1:1: error: unknown parameter 'Mode'; did you mean 'mode'?\n" },
	{ "= monitor\n",
	  "$F:1:1: error: expected a parameter name before '='\n" },
	{ "mode monitor\n",
	  "$F:1:6: error: expected '=' after 'mode'\n" },
	{ "mode\n",
	  "$F:1:5: error: expected '=' after 'mode'\n" },
	{ "mode = enforce\nmode = monitor\n",
	  "$F:2:1: error: 'mode' given twice (first on line 1)\n" },
	/* empty values */
	{ "user = \n", "$F:1:8: error: empty value for 'user'\n" },
	{ "user =\n", "$F:1:7: error: empty value for 'user'\n" },
	{ "rules = # c\n", "$F:1:9: error: empty value for 'rules'\n" },
	{ "socket = \"\"\n", "$F:1:11: error: empty value for 'socket'\n" },
	/* socket */
	{ "socket = foo\n", "$F:1:10: error: bad socket 'foo': expected "
	  "unix:/PATH, inet:PORT@HOST or inet6:PORT@HOST\n" },
	{ "socket = unix:run/s\n",
	  "$F:1:15: error: socket path must be absolute\n" },
	{ "socket = unix:/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n",
	  "$F:1:15: error: socket path longer than 107 bytes\n" },
	{ "socket = inet:0@127.0.0.1\n", "$F:1:15: error: bad port '0' in "
	  "socket: expected 1 to 65535\n" },
	{ "socket = inet:65536\n", "$F:1:15: error: bad port '65536' in "
	  "socket: expected 1 to 65535\n" },
	{ "socket = inet:@127.0.0.1\n", "$F:1:15: error: bad port '' in "
	  "socket: expected 1 to 65535\n" },
	{ "socket = inet:25@::1\n", "$F:1:18: error: bad host '::1' in "
	  "socket: expected an IPv4 address or a host name\n" },
	{ "socket = inet6:25@127.0.0.1\n", "$F:1:19: error: bad host "
	  "'127.0.0.1' in socket: expected an IPv6 address or a host name\n" },
	{ "socket = inet:25@bad_host\n", "$F:1:18: error: bad host "
	  "'bad_host' in socket: expected an IPv4 address or a host name\n" },
	/* socket_mode */
	{ "socket_mode = 0999\n", "$F:1:15: error: bad mode '0999' for "
	  "'socket_mode': expected an octal number from 0000 to 0777\n" },
	{ "socket_mode = 1777\n", "$F:1:15: error: bad mode '1777' for "
	  "'socket_mode': expected an octal number from 0000 to 0777\n" },
	{ "socket_mode = 00660\n", "$F:1:15: error: bad mode '00660' for "
	  "'socket_mode': expected an octal number from 0000 to 0777\n" },
	{ "socket_mode = rw\n", "$F:1:15: error: bad mode 'rw' for "
	  "'socket_mode': expected an octal number from 0000 to 0777\n" },
	/* user, group */
	{ "user = Root\n", "$F:1:8: error: bad user name 'Root': expected a "
	  "lower-case letter or '_', then letters, digits, '_', '.' or '-' "
	  "(at most 32)\n" },
	{ "group = 1mail\n", "$F:1:9: error: bad group name '1mail': expected "
	  "a lower-case letter or '_', then letters, digits, '_', '.' or '-' "
	  "(at most 32)\n" },
	{ "user = abcdefghijklmnopqrstuvwxyz0123456\n", "$F:1:8: error: bad "
	  "user name 'abcdefghijklmnopqrstuvwxyz0123456': expected a "
	  "lower-case letter or '_', then letters, digits, '_', '.' or '-' "
	  "(at most 32)\n" },
	/* paths */
	{ "pid_file = relative/path\n",
	  "$F:1:12: error: 'pid_file' must be an absolute path\n" },
	{ "state_file = state\n",
	  "$F:1:14: error: 'state_file' must be an absolute path\n" },
	{ "rules = /etc/mxgate/\n", "$F:1:20: error: 'rules' must name a file, "
	  "not a directory\n" },
	/* enums, booleans */
	{ "mode = fast\n", "$F:1:8: error: bad value 'fast' for 'mode': "
	  "expected enforce or monitor\n" },
	{ "log = file\n", "$F:1:7: error: bad value 'file' for 'log': "
	  "expected syslog or stderr\n" },
	{ "on_internal_error = reject\n", "$F:1:21: error: bad value 'reject' "
	  "for 'on_internal_error': expected tempfail or accept\n" },
	{ "store_error = ignore\n", "$F:1:15: error: bad value 'ignore' for "
	  "'store_error': expected fallback or tempfail\n" },
	{ "add_auth_results = maybe\n", "$F:1:20: error: bad value 'maybe' "
	  "for 'add_auth_results': expected yes or no\n" },
	{ "mode = Monitor\n", "$F:1:8: error: bad value 'Monitor' for 'mode': "
	  "expected enforce or monitor\n" },
	/* durations */
	{ "dns_timeout = 5x\n", "$F:1:15: error: bad duration '5x' for "
	  "'dns_timeout': expected a number with an optional suffix s, m, h "
	  "or d\n" },
	{ "dns_timeout = s\n", "$F:1:15: error: bad duration 's' for "
	  "'dns_timeout': expected a number with an optional suffix s, m, h "
	  "or d\n" },
	{ "dns_timeout = 2m\n", "$F:1:15: error: dns_timeout = 2m is out of "
	  "range (1s to 1m)\n" },
	{ "dns_timeout = 0\n", "$F:1:15: error: dns_timeout = 0 is out of "
	  "range (1s to 1m)\n" },
	{ "stage_timeout = 0\n", "$F:1:17: error: stage_timeout = 0 is out of "
	  "range (1s to 10m)\n" },
	{ "stage_timeout = 11m\n", "$F:1:17: error: stage_timeout = 11m is out "
	  "of range (1s to 10m)\n" },
	/* no one DNS answer may wait longer than the whole stage (issue 12) */
	{ "dns_timeout = 30s\n", "$F:1:15: error: dns_timeout (30s) is longer "
	  "than stage_timeout (20s): one DNS answer may not take longer than "
	  "all the checks of a stage\n" },
	{ "# x\nstage_timeout =   3s\n", "$F:2:19: error: dns_timeout (5s) is "
	  "longer than stage_timeout (3s): one DNS answer may not take longer "
	  "than all the checks of a stage\n" },
	{ "stage_timeout = 6s\n dns_timeout = \"7s\"\n", "$F:2:17: error: "
	  "dns_timeout (7s) is longer than stage_timeout (6s): one DNS answer "
	  "may not take longer than all the checks of a stage\n" },
	{ "dns_timeout = 1m\nstage_timeout = 59s\n", "$F:1:15: error: "
	  "dns_timeout (60s) is longer than stage_timeout (59s): one DNS "
	  "answer may not take longer than all the checks of a stage\n" },
	/* counts */
	{ "store_max_keys = 10\n", "$F:1:18: error: store_max_keys = 10 is out "
	  "of range (1000 to 100000000)\n" },
	{ "store_max_keys = 99999999999999999999\n", "$F:1:18: error: "
	  "store_max_keys = 99999999999999999999 is out of range (1000 to "
	  "100000000)\n" },
	{ "store_max_keys = -1\n", "$F:1:18: error: bad number '-1' for "
	  "'store_max_keys': expected decimal digits\n" },
	{ "dkim_max_signatures = 1e3\n", "$F:1:23: error: bad number '1e3' for "
	  "'dkim_max_signatures': expected decimal digits\n" },
	{ "dkim_max_signatures = 0\n", "$F:1:23: error: dkim_max_signatures = "
	  "0 is out of range (1 to 64)\n" },
	/* host names */
	{ "hostname = bad_host!\n", "$F:1:12: error: bad host name "
	  "'bad_host!' for 'hostname': expected labels of letters, digits and "
	  "'-', separated by '.'\n" },
	{ "hostname = -mx.example\n", "$F:1:12: error: bad host name "
	  "'-mx.example' for 'hostname': expected labels of letters, digits "
	  "and '-', separated by '.'\n" },
	{ "authserv_id = a..b\n", "$F:1:15: error: bad host name 'a..b' for "
	  "'authserv_id': expected labels of letters, digits and '-', "
	  "separated by '.'\n" },
	/* control socket, metrics */
	{ "control_socket = inet:9000@127.0.0.1\n", "$F:1:18: error: bad "
	  "control_socket 'inet:9000@127.0.0.1': expected unix:/PATH (the "
	  "control socket is never on the network)\n" },
	{ "control_socket = unix:ctl.sock\n", "$F:1:23: error: socket path "
	  "must be absolute\n" },
	{ "metrics_listen = 127.0.0.1\n", "$F:1:18: error: bad metrics_listen "
	  "'127.0.0.1': expected IP:PORT or [IPv6]:PORT\n" },
	{ "metrics_listen = localhost:9357\n", "$F:1:18: error: bad IPv4 "
	  "address 'localhost' in metrics_listen\n" },
	{ "metrics_listen = 127.0.0.1:0\n", "$F:1:28: error: bad port '0' in "
	  "metrics_listen: expected 1 to 65535\n" },
	{ "metrics_listen = [::1:9357\n", "$F:1:18: error: bad metrics_listen "
	  "'[::1:9357': expected IP:PORT or [IPv6]:PORT\n" },
	{ "ref_history = 10000001\n", "$F:1:15: error: ref_history = "
	  "10000001 is out of range (0 to 10000000)\n" },
	/* forwarders */
	{ "dns_forwarders = 1.2.3\n", "$F:1:18: error: bad forwarder '1.2.3': "
	  "expected an IP address, optionally @PORT\n" },
	{ "dns_forwarders = 127.0.0.1, ::1@0\n", "$F:1:33: error: bad port '0' "
	  "in forwarder: expected 1 to 65535\n" },
	{ "dns_forwarders = 127.0.0.1,,::1\n",
	  "$F:1:28: error: empty entry in dns_forwarders\n" },
	{ "dns_forwarders = 1.1.1.1,2.2.2.2,3.3.3.3,4.4.4.4,5.5.5.5,6.6.6.6,"
	  "7.7.7.7,8.8.8.8,9.9.9.9,1.0.0.1,1.0.0.2,1.0.0.3,1.0.0.4,1.0.0.5,"
	  "1.0.0.6,1.0.0.7,1.0.0.8\n",
	  "$F:1:146: error: more than 16 dns_forwarders\n" },
	/* store */
	{ "store = redis://127.0.0.1:65536\n", "$F:1:9: error: bad store "
	  "'redis://127.0.0.1:65536': expected memory or "
	  "redis://HOST:PORT[/DB]\n" },
	{ "store = redis://[::1]:6379/x\n", "$F:1:9: error: bad store "
	  "'redis://[::1]:6379/x': expected memory or redis://HOST:PORT[/DB]\n" },
	{ "store_password_file = redis.pass\n", "$F:1:23: error: "
	  "'store_password_file' must be an absolute path\n" },
	{ "store_password_file = /nonexistent/redis.pass\n", "$F:1:23: error: "
	  "/nonexistent/redis.pass: No such file or directory\n" },
	{ "store_password_file = /\n", "$F:1:23: error: "
	  "'store_password_file' must name a file, not a directory\n" },
	{ "state_interval = 2d\n", "$F:1:18: error: state_interval = 2d is out "
	  "of range (0s to 1d)\n" },
	{ "store = redis://localhost\n", "$F:1:9: error: bad store "
	  "'redis://localhost': expected memory or redis://HOST:PORT[/DB]\n" },
	{ "store = disk\n", "$F:1:9: error: bad store 'disk': expected memory "
	  "or redis://HOST:PORT[/DB]\n" },
	/* quoting */
	{ "hostname = \"unterminated\n",
	  "$F:1:12: error: quoted value has no closing '\"'\n" },
	{ "rules = \"a\\nb\"\n", "$F:1:11: error: bad escape in quoted value: "
	  "only \\\" and \\\\ are allowed\n" },
	{ "rules = \"a\" b\n",
	  "$F:1:13: error: unexpected text after the quoted value\n" },
	/* control characters */
	{ "mode = enforce\x01\n", "$F:1:15: error: control character 0x01\n" },
	{ "mode = en\rforce\n", "$F:1:10: error: control character 0x0d\n" },
	{ "mode = enforce\x7f\n", "$F:1:15: error: control character 0x7f\n" },
	{ "mode = monitor\r\r\n", "$F:1:15: error: control character 0x0d\n" },
};

START_TEST(test_errors)
{
	struct cfg	 c;
	struct diag	 d = DIAG_INIT;
	struct buf	 w = BUF_INIT, want = BUF_INIT;

	expand(&want, err_cases[_i].want);
	ck_assert_int_eq(load_text(err_cases[_i].text, &c, &d, &w), -1);
	ck_assert_uint_eq(d.errors, 1);
	ck_assert_str_eq(buf_str(&d.out), buf_str(&want));
	cfg_free(&c);
	buf_free(&w);
	buf_free(&want);
	diag_free(&d);
}
END_TEST

/* a NUL byte inside a line */
START_TEST(test_nul)
{
	struct cfg	 c;
	struct diag	 d = DIAG_INIT;
	struct buf	 want = BUF_INIT;
	static const char text[] = "mode = monitor\nlog = std\0err\nuser = x\n";

	write_file(path, text, sizeof(text) - 1);
	ck_assert_int_eq(cfg_load(&c, path, &d, NULL), -1);
	expand(&want, "$F:2:10: error: control character 0x00\n");
	ck_assert_str_eq(buf_str(&d.out), buf_str(&want));
	ck_assert_int_eq(c.mode, CFG_MODE_MONITOR);
	ck_assert_str_eq(c.user, "x");
	cfg_free(&c);
	buf_free(&want);
	diag_free(&d);
}
END_TEST

/* every error of a file is reported, in order; valid lines still apply */
START_TEST(test_all_errors)
{
	struct cfg	 c;
	struct diag	 d = DIAG_INIT;
	struct buf	 w = BUF_INIT, want = BUF_INIT, wantw = BUF_INIT;

	ck_assert_int_eq(load_text("a = 1\n"
	    "mode = x\n"
	    "user = postfixfilter\n"
	    "log = y\n"
	    "\n"
	    "dns_forwarders = 127.0.0.1@5353\n"
	    "  socket_mode = 9\n"
	    "state_file = /var/lib/mxgate/state\n"
	    "user = other\n"
	    "store = redis://r:1\n"
	    "dns_timeout = 90s\n", &c, &d, &w), -1);
	expand(&want,
	    "$F:1:1: error: unknown parameter 'a'\n"
	    "$F:2:8: error: bad value 'x' for 'mode': expected enforce or "
	    "monitor\n"
	    "$F:4:7: error: bad value 'y' for 'log': expected syslog or stderr\n"
	    "$F:7:17: error: bad mode '9' for 'socket_mode': expected an octal "
	    "number from 0000 to 0777\n"
	    "$F:9:1: error: 'user' given twice (first on line 3)\n"
	    "$F:11:15: error: dns_timeout = 90s is out of range (1s to 1m)\n");
	expand(&wantw, "");
	ck_assert_str_eq(buf_str(&d.out), buf_str(&want));
	ck_assert_uint_eq(d.errors, 6);
	ck_assert_str_eq(buf_str(&w), buf_str(&wantw));
	/* bad values keep the default; good ones are set */
	ck_assert_int_eq(c.mode, CFG_MODE_ENFORCE);
	ck_assert_uint_eq(c.socket_mode, 0660);
	ck_assert_str_eq(c.store, "redis://r:1");
	ck_assert_uint_eq(c.dns_timeout, 5);
	ck_assert_str_eq(c.user, "postfixfilter");
	ck_assert_str_eq(c.dns_forwarders, "127.0.0.1@5353");
	cfg_free(&c);
	buf_free(&w);
	buf_free(&want);
	buf_free(&wantw);
	diag_free(&d);
}
END_TEST

/* lines up to CFG_LINE_MAX bytes are read, longer ones refused */
static const struct {
	size_t		 len;		/* bytes of the first line */
	const char	*end;		/* its line end */
	const char	*want;
} long_cases[] = {
	{ CFG_LINE_MAX, "\n", "" },
	{ CFG_LINE_MAX, "\r\n", "" },	/* the CR does not count */
	{ CFG_LINE_MAX + 1, "\n", "$F:1:4097: error: line longer than 4096 "
	  "bytes\n" },
	{ CFG_LINE_MAX * 4, "\n", "$F:1:4097: error: line longer than 4096 "
	  "bytes\n" },
	{ CFG_LINE_MAX + 1, "", "$F:1:4097: error: line longer than 4096 "
	  "bytes\n" },	/* no final newline */
};

START_TEST(test_long_lines)
{
	struct cfg	 c;
	struct diag	 d = DIAG_INIT;
	struct buf	 t = BUF_INIT, want = BUF_INIT;
	size_t		 i;

	ck_assert_int_eq(CFG_LINE_MAX, 4096);
	buf_puts(&t, "# ");
	for (i = 2; i < long_cases[_i].len; i++)
		buf_putc(&t, 'a');
	buf_puts(&t, long_cases[_i].end);
	if (long_cases[_i].end[0] == '\0')
		ck_assert_int_eq(load_text(buf_str(&t), &c, &d, NULL), -1);
	else {
		buf_puts(&t, "mode = monitor\n");
		(void)load_text(buf_str(&t), &c, &d, NULL);
		/* parsing goes on after a long line */
		ck_assert_int_eq(c.mode, CFG_MODE_MONITOR);
	}
	expand(&want, long_cases[_i].want);
	ck_assert_str_eq(buf_str(&d.out), buf_str(&want));
	cfg_free(&c);
	buf_free(&t);
	buf_free(&want);
	diag_free(&d);
}
END_TEST

/* files up to CFG_FILE_MAX bytes are read, larger ones refused whole */
static const struct {
	size_t		 len;
	int		 want_rc;
	const char	*want;
} big_cases[] = {
	{ CFG_FILE_MAX, 0, "" },
	{ CFG_FILE_MAX + 1, -1, "$F: error: file larger than 1048576 bytes\n" },
	{ CFG_FILE_MAX * 3, -1, "$F: error: file larger than 1048576 bytes\n" },
};

START_TEST(test_big_file)
{
	struct cfg	 c;
	struct diag	 d = DIAG_INIT;
	struct buf	 t = BUF_INIT, want = BUF_INIT;
	static const char line[] = "# a comment line of 32 bytes...\n";

	ck_assert_int_eq(CFG_FILE_MAX, 1048576);
	buf_puts(&t, "mode = monitor\n");
	while (t.len + sizeof(line) - 1 <= big_cases[_i].len)
		buf_puts(&t, line);
	while (t.len < big_cases[_i].len)
		buf_putc(&t, '\n');
	ck_assert_uint_eq(t.len, big_cases[_i].len);
	write_file(path, buf_str(&t), t.len);
	ck_assert_int_eq(cfg_load(&c, path, &d, NULL), big_cases[_i].want_rc);
	expand(&want, big_cases[_i].want);
	ck_assert_str_eq(buf_str(&d.out), buf_str(&want));
	/* a refused file sets nothing */
	ck_assert_int_eq(c.mode, big_cases[_i].want_rc == 0 ?
	    CFG_MODE_MONITOR : CFG_MODE_ENFORCE);
	cfg_free(&c);
	buf_free(&t);
	buf_free(&want);
	diag_free(&d);
}
END_TEST

/* files that cannot be read: no line or column */
START_TEST(test_unreadable)
{
	struct cfg	 c;
	struct diag	 d = DIAG_INIT;
	struct buf	 want = BUF_INIT;

	ck_assert_int_eq(cfg_load(&c, path, &d, NULL), -1);	/* missing */
	expand(&want, "$F: error: cannot open: No such file or directory\n");
	ck_assert_str_eq(buf_str(&d.out), buf_str(&want));
	cfg_free(&c);
	diag_free(&d);
	buf_reset(&want);
	ck_assert_int_eq(cfg_load(&c, dir, &d, NULL), -1);	/* a directory */
	buf_printf(&want, "%s: error: cannot read: Is a directory\n", dir);
	ck_assert_str_eq(buf_str(&d.out), buf_str(&want));
	/* the defaults are set anyway */
	ck_assert_str_eq(c.socket, "unix:/run/mxgate/mxgate.sock");
	cfg_free(&c);
	buf_free(&want);
	diag_free(&d);
}
END_TEST

/* the shipped file is cfg_write_defaults() and loads to the defaults */
START_TEST(test_shipped)
{
	const char	*src = getenv("srcdir");
	struct cfg	 c, def;
	struct diag	 d = DIAG_INIT;
	struct buf	 w = BUF_INIT, gen = BUF_INIT, file = BUF_INIT;
	char		 p[512], got[512], want[512], chunk[4096];
	size_t		 i, n;
	FILE		*f;

	(void)snprintf(p, sizeof(p), "%s/milter/mxgate.conf",
	    src != NULL ? src : ".");
	f = fopen(p, "rb");
	ck_assert_msg(f != NULL, "cannot open %s", p);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf_append(&file, chunk, n);
	fclose(f);
	cfg_write_defaults(&gen);
	ck_assert_msg(strcmp(buf_str(&gen), buf_str(&file)) == 0,
	    "%s differs from cfg_write_defaults(); want:\n%s", p,
	    buf_str(&gen));

	ck_assert_int_eq(cfg_load(&c, p, &d, &w), 0);
	ck_assert_msg(d.errors == 0, "%s", buf_str(&d.out));
	ck_assert_str_eq(buf_str(&w), "");
	cfg_defaults(&def);
	for (i = 0; i < NFIELDS; i++) {
		if (strcmp(fields[i].name, "rules") == 0)
			continue;
		ck_assert_str_eq(field(&c, fields[i].name, got, sizeof(got)),
		    field(&def, fields[i].name, want, sizeof(want)));
	}
	/* the rules default is default.rules next to the file, absolute */
	n = strlen(c.rules);
	ck_assert_msg(c.rules[0] == '/' && n > 21 && strcmp(c.rules + n - 21,
	    "/milter/default.rules") == 0, "rules = %s", c.rules);
	/* every parameter is documented and listed, commented */
	for (i = 0; i < NFIELDS; i++) {
		(void)snprintf(want, sizeof(want), "\n# %s =", fields[i].name);
		ck_assert_msg(strstr(buf_str(&file), want) != NULL, "%s", want);
	}
	cfg_free(&def);
	cfg_free(&c);
	buf_free(&w);
	buf_free(&gen);
	buf_free(&file);
	diag_free(&d);
}
END_TEST

/* an empty hostname is the system host name; authserv_id follows */
START_TEST(test_empty_hostname)
{
	struct cfg	 c, def;
	struct diag	 d = DIAG_INIT;
	struct buf	 w = BUF_INIT;

	cfg_defaults(&def);
	ck_assert_int_eq(load_text("hostname = \"\"\nauthserv_id =\n", &c, &d,
	    &w), 0);
	ck_assert_str_eq(c.hostname, def.hostname);
	ck_assert_str_eq(c.authserv_id, def.hostname);
	cfg_free(&c);
	ck_assert_int_eq(load_text("hostname = mx.example\nauthserv_id = "
	    "ar.example\n", &c, &d, &w), 0);
	ck_assert_str_eq(c.hostname, "mx.example");
	ck_assert_str_eq(c.authserv_id, "ar.example");
	cfg_free(&c);
	cfg_free(&def);
	buf_free(&w);
	diag_free(&d);
}
END_TEST

/*
 * mxgate.conf(5) documents every parameter of the table with its default,
 * as "\fBNAME\fR = \fIDEFAULT\fR" or "\fBNAME\fR = (empty)"
 */
START_TEST(test_man_page)
{
	const char	*src = getenv("srcdir"), *l, *eq, *nl;
	struct buf	 gen = BUF_INIT, man = BUF_INIT, want = BUF_INIT;
	char		 p[512], chunk[4096];
	size_t		 n, count = 0;
	FILE		*f;

	(void)snprintf(p, sizeof(p), "%s/man/mxgate.conf.5",
	    src != NULL ? src : ".");
	f = fopen(p, "rb");
	ck_assert_msg(f != NULL, "cannot open %s", p);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf_append(&man, chunk, n);
	fclose(f);
	cfg_write_defaults(&gen);
	/* the parameter lines of the generated file: "# NAME =[ DEFAULT]" */
	for (l = buf_str(&gen); (nl = strchr(l, '\n')) != NULL; l = nl + 1) {
		if (strncmp(l, "# ", 2) != 0 || (eq = strstr(l, " =")) == NULL ||
		    eq > nl || memchr(l + 2, ' ', eq - l - 2) != NULL)
			continue;
		buf_reset(&want);
		buf_printf(&want, "\n\\fB%.*s\\fR = ", (int)(eq - l - 2), l + 2);
		if (eq + 2 >= nl)
			buf_puts(&want, "(empty)");
		else {
			buf_puts(&want, "\\fI");
			for (eq += 3; eq < nl; eq++)
				if (*eq == '-')
					buf_puts(&want, "\\-");
				else
					buf_putc(&want, *eq);
			buf_puts(&want, "\\fR");
		}
		buf_putc(&want, '\n');
		ck_assert_msg(strstr(buf_str(&man), buf_str(&want)) != NULL,
		    "%s lacks %s", p, buf_str(&want));
		count++;
	}
	ck_assert_uint_eq(count, NFIELDS);
	buf_free(&gen);
	buf_free(&man);
	buf_free(&want);
}
END_TEST

/* cfg_free releases everything and the struct can be loaded again */
START_TEST(test_reload)
{
	struct cfg	 c;
	struct diag	 d = DIAG_INIT;

	ck_assert_int_eq(load_text("hostname = a.example\n", &c, &d, NULL), 0);
	cfg_free(&c);
	ck_assert_ptr_null(c.hostname);
	ck_assert_ptr_null(c.path);
	ck_assert_int_eq(load_text("hostname = b.example\n", &c, &d, NULL), 0);
	ck_assert_str_eq(c.hostname, "b.example");
	cfg_free(&c);
	diag_free(&d);
}
END_TEST

#define NELEM(a)	((int)(sizeof(a) / sizeof((a)[0])))

int
main(void)
{
	Suite	*s = suite_create("cfg");
	TCase	*tc = tcase_create("all");
	SRunner	*sr;
	int	 failed;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_defaults);
	tcase_add_test(tc, test_load_null);
	tcase_add_loop_test(tc, test_values, 0, NELEM(val_cases));
	tcase_add_test(tc, test_warn_logged);
	tcase_add_loop_test(tc, test_errors, 0, NELEM(err_cases));
	tcase_add_test(tc, test_nul);
	tcase_add_test(tc, test_all_errors);
	tcase_add_loop_test(tc, test_long_lines, 0, NELEM(long_cases));
	tcase_add_loop_test(tc, test_big_file, 0, NELEM(big_cases));
	tcase_add_test(tc, test_unreadable);
	tcase_add_test(tc, test_shipped);
	tcase_add_test(tc, test_man_page);
	tcase_add_test(tc, test_empty_hostname);
	tcase_add_test(tc, test_reload);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
