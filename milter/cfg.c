/*
 * cfg -- mxgate.conf, the parameter table and its parser (see cfg.h).
 *
 * One static table, params[], describes every parameter: name, type,
 * default (spelled as in the file), range, where the value lives in
 * struct cfg (offsetof), a one-line doc, why it has no effect yet (or
 * NULL) and flags. Everything is driven by it: cfg_defaults() runs each
 * default through the same checker as a file value; cfg_load() looks
 * names up in it; cfg_write_defaults() prints it as the shipped
 * mxgate.conf. A new parameter is one table row plus one struct field.
 *
 * Syntax, per line (at most CFG_LINE_MAX bytes, file at most CFG_FILE_MAX):
 *   blank, or `# comment`, or `name = value`, whitespace around '='
 *   optional. An unquoted value is the rest of the line, trimmed; a '#'
 *   preceded by whitespace starts a comment. A value in double quotes may
 *   hold '#' and surrounding spaces, with \" and \\ escapes. A trailing CR
 *   is ignored; other control characters are errors. Names are
 *   case-sensitive and may be given once.
 *
 * Every problem is reported through the diag as FILE:LINE:COL (the column
 * of the name for name problems, of the value for value problems) and
 * parsing goes on with the next line, so `mxgate -n` lists all of them.
 * Values that are wrong leave the default in place. A parameter this
 * build accepts but does not act on (notyet != NULL) gets a warning line
 * "FILE:LINE:COL: warning: NAME is not yet implemented in this build and
 * has no effect" whenever the file sets it.
 *
 * The rules default is "default.rules", relative like any relative rules
 * path to the directory of the configuration file; without a file
 * (cfg_defaults) it is SYSCONFDIR/mxgate/default.rules. So the shipped
 * file does not depend on the configured prefix.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "buf.h"
#include "cfg.h"
#include "diag.h"
#include "log.h"
#include "num.h"
#include "xalloc.h"

#include "cfg_int.h"

/* the state of one cfg_load() */
struct loader {
	struct cfg	*cfg;
	const char	*path;
	struct diag	*diag;
	struct buf	*warnings;
	unsigned	 seen[32];	/* line a parameter was given on, 0 = not */
	unsigned	 vcol[32];	/* column of its value */
};

static const struct word mode_words[] = {
	{ "enforce", CFG_MODE_ENFORCE }, { "monitor", CFG_MODE_MONITOR },
	{ NULL, 0 }
};
static const struct word log_words[] = {
	{ "syslog", LOG_TO_SYSLOG }, { "stderr", LOG_TO_STDERR }, { NULL, 0 }
};
static const struct word on_error_words[] = {
	{ "tempfail", CFG_ON_ERROR_TEMPFAIL }, { "accept", CFG_ON_ERROR_ACCEPT },
	{ NULL, 0 }
};
static const struct word store_error_words[] = {
	{ "fallback", CFG_STORE_ERROR_FALLBACK },
	{ "tempfail", CFG_STORE_ERROR_TEMPFAIL }, { NULL, 0 }
};
static const struct word bool_words[] = {
	{ "yes", 1 }, { "no", 0 }, { NULL, 0 }
};

#define OFF(f)	offsetof(struct cfg, f)

static const struct param params[] = {
	{ "socket", PT_SOCKET, "unix:/run/mxgate/mxgate.sock", 0, 0,
	  OFF(socket), NULL, 0,
	  "Where mxgate listens for the MTA: unix:/PATH (or local:/PATH), "
	  "inet:PORT@HOST or inet6:PORT@HOST. Postfix's smtpd_milters names "
	  "the same socket.", NULL },
	{ "socket_mode", PT_MODE, "0660", 0, 0777, OFF(socket_mode), NULL, 0,
	  "Permissions of a unix socket, in octal (0000 to 0777). The socket "
	  "belongs to user and group.", NULL },
	{ "user", PT_NAME, "mxgate", 0, 0, OFF(user), NULL, 0,
	  "User that mxgate runs as once its socket is open; never root.",
	  NULL },
	{ "group", PT_NAME, "mxgate", 0, 0, OFF(group), NULL, 0,
	  "Group that mxgate runs as once its socket is open.", NULL },
	{ "pid_file", PT_PATH, "/run/mxgate/mxgate.pid", 0, 0, OFF(pid_file),
	  NULL, 0, "File that holds the process id (an absolute path).", NULL },
	{ "rules", PT_PATH, "default.rules", 0, 0, OFF(rules), NULL,
	  PF_RELATIVE, "The rules file, see mxgate.rules(5). A relative path "
	  "is relative to the directory of this file, so the default is the "
	  "default.rules next to it.", NULL },
	{ "mode", PT_ENUM, "enforce", 0, 0, OFF(mode), mode_words, 0,
	  "enforce: apply the rules; monitor: log every decision as "
	  "would_<action> and let all mail through.", NULL },
	{ "log", PT_ENUM, "syslog", 0, 0, OFF(log), log_words, 0,
	  "Where log lines go: syslog (facility mail) or stderr.", NULL },
	{ "hostname", PT_HOSTNAME, "", 0, 0, OFF(hostname), NULL, PF_EMPTY_OK,
	  "Host name used in replies (${hostname}) and as the default "
	  "authserv_id. Empty: the system host name (gethostname).", NULL },
	{ "authserv_id", PT_HOSTNAME, "", 0, 0, OFF(authserv_id), NULL,
	  PF_EMPTY_OK, "authserv-id of the Authentication-Results header. "
	  "Empty: the value of hostname.", NULL },
	{ "on_internal_error", PT_ENUM, "tempfail", 0, 0,
	  OFF(on_internal_error), on_error_words, 0,
	  "When a check fails inside mxgate or libopendkim (a handle that "
	  "cannot be made, a fact that cannot be computed): tempfail "
	  "(451 4.3.0 with a reference) or accept the mail (logged). mxgate "
	  "out of memory aborts: the MTA's milter_default_action applies.",
	  NULL },
	{ "dns_forwarders", PT_FORWARDERS, "", 0, 0, OFF(dns_forwarders), NULL,
	  PF_EMPTY_OK, "DNS resolvers to ask, as comma-separated IP[@PORT]. "
	  "Empty: full recursion from the root (DNS lists such as Spamhaus "
	  "refuse queries that come through public resolvers).", NULL },
	{ "dns_timeout", PT_DURATION, "5s", 1, 60, OFF(dns_timeout), NULL, 0,
	  "Deadline for any one DNS answer (a DNS list may set its own); "
	  "at most stage_timeout.", NULL },
	{ "stage_timeout", PT_DURATION, "20s", 1, 600, OFF(stage_timeout),
	  NULL, 0, "One deadline for all the checks of an SMTP stage "
	  "(connect, HELO, MAIL, RCPT, DATA, end of message): DNS lists, "
	  "SPF, DKIM keys, DMARC, Redis. A stage that runs out of time gets "
	  "mxgate's own 451 4.4.3. Keep it well below the MTA's timeout for "
	  "a milter reply: Postfix's milter_command_timeout (30s by default) "
	  "and milter_content_timeout (300s, end of message); Sendmail's "
	  "T=R: (10s by default: raise it, e.g. T=S:10s;R:30s;E:5m).", NULL },
	{ "store", PT_STORE, "memory", 0, 0, OFF(store), NULL, 0,
	  "Where rate counters live: memory, or redis://HOST:PORT[/DB] "
	  "(shared by every mxgate that uses the same Redis database; "
	  "HOST may be [IPv6]).", NULL },
	{ "store_password_file", PT_PATH, "", 0, 0, OFF(store_password_file),
	  NULL, PF_EMPTY_OK | PF_SECRET,
	  "File holding the Redis password (or \"USER PASSWORD\" for a "
	  "Redis 6 ACL user) on its first line; it must be readable by its "
	  "owner only (mode 0600). Read once at start-up, as root. Empty: "
	  "no AUTH.", NULL },
	{ "store_max_keys", PT_COUNT, "1000000", 1000, 100000000,
	  OFF(store_max_keys), NULL, 0,
	  "Most keys the memory store keeps (with redis://, the local "
	  "counters used while Redis is down); idle keys whose state has "
	  "decayed are dropped first.", NULL },
	{ "store_error", PT_ENUM, "fallback", 0, 0, OFF(store_error),
	  store_error_words, 0, "When Redis is unreachable, fails or is "
	  "slower than 250 ms: fallback to local counters, or tempfail "
	  "(451 4.3.0) where a rule needs a rate limit.", NULL },
	{ "state_file", PT_PATH, "", 0, 0, OFF(state_file), NULL, PF_EMPTY_OK,
	  "Snapshot of the memory store, written at stop and read at start "
	  "(an absolute path in a directory the mxgate user may write). "
	  "Empty: counters start afresh.", NULL },
	{ "state_interval", PT_DURATION, "0", 0, 86400, OFF(state_interval),
	  NULL, 0, "Also write state_file this often (so a crash loses at "
	  "most this much); 0: only at stop.", NULL },
	{ "add_auth_results", PT_BOOL, "yes", 0, 0, OFF(add_auth_results),
	  bool_words, 0, "Add an Authentication-Results header (RFC 8601).",
	  NULL },
	{ "dkim_max_signatures", PT_COUNT, "8", 1, 64,
	  OFF(dkim_max_signatures), NULL, 0, "DKIM signatures evaluated per "
	  "message; more are ignored (and logged).", NULL },
	{ "max_connections", PT_COUNT, "1000", 1, 100000,
	  OFF(max_connections), NULL, 0, "MTA connections served at once "
	  "(one per SMTP session being checked). Beyond it the MTA's next "
	  "connection gets mxgate's own 421 4.3.2 with a reference, at "
	  "HELO/EHLO like any connect-stage refusal (in monitor mode it is "
	  "let through unchecked). mxgate raises its open-file limit to fit.",
	  NULL },
	{ "control_socket", PT_CTLSOCK, "unix:/run/mxgate/control.sock", 0, 0,
	  OFF(control_socket), NULL, PF_EMPTY_OK,
	  "Socket for mxgatectl(8): unix:/PATH, mode 0660, owned by user and "
	  "group; only root and members of group may use it. Empty: no "
	  "control socket.", NULL },
	{ "metrics_listen", PT_LISTEN, "", 0, 0, OFF(metrics_listen), NULL,
	  PF_EMPTY_OK, "IP:PORT (or [IPv6]:PORT) serving Prometheus metrics "
	  "on GET /metrics, without authentication: keep it on loopback or "
	  "a management network. Empty: no metrics.", NULL },
	{ "ref_history", PT_COUNT, "100000", 0, 10000000, OFF(ref_history),
	  NULL, 0, "Recent decisions kept in memory for mxgatectl ref (about "
	  "1 KB each); older ones are found in the log with mxgatectl ref "
	  "--log. 0: keep none.", NULL },
};

#define NPARAMS	(sizeof(params) / sizeof(params[0]))

_Static_assert(NPARAMS <= 32, "struct loader: seen[] too small");
_Static_assert(sizeof(enum cfg_mode) == sizeof(int) &&
    sizeof(enum log_target) == sizeof(int) &&
    sizeof(enum cfg_on_error) == sizeof(int) &&
    sizeof(enum cfg_store_error) == sizeof(int), "enums are stored as int");

static char	*relative_to(const char *, char *);

/* store_value -- put pv into the cfg field of p (takes pv->s) */
static void
store_value(struct cfg *cfg, const struct param *p, struct pval *pv)
{
	char		*field = (char *)cfg + p->off;
	char		*old;
	int		 i;
	unsigned	 u;

	switch (p->type) {
	case PT_MODE:
		u = (unsigned)pv->n;
		memcpy(field, &u, sizeof(u));
		break;
	case PT_ENUM:
	case PT_BOOL:
		i = (int)pv->n;
		memcpy(field, &i, sizeof(i));
		break;
	case PT_DURATION:
	case PT_COUNT:
		memcpy(field, &pv->n, sizeof(pv->n));
		break;
	default:
		memcpy(&old, field, sizeof(old));
		free(old);
		memcpy(field, &pv->s, sizeof(pv->s));
		pv->s = NULL;
		break;
	}
}

/* system_hostname -- gethostname(), or "localhost" when it is no host name */
static char *
system_hostname(void)
{
	char	h[256];

	if (gethostname(h, sizeof(h)) == -1 || memchr(h, '\0', sizeof(h)) ==
	    NULL || !cfg_is_hostname(h, strlen(h)))
		return xstrdup("localhost");
	return xstrdup(h);
}

/* cfg_defaults -- every parameter at its default (overwrites, frees nothing) */
void
cfg_defaults(struct cfg *cfg)
{
	struct pval	pv;
	struct perr	e = { BUF_INIT, 0 };
	size_t		i;

	memset(cfg, 0, sizeof(*cfg));
	for (i = 0; i < NPARAMS; i++) {
		if (cfg_check_value(&params[i], params[i].def, &pv, &e) == -1)
			log_panic("cfg: bad default for %s: %s", params[i].name,
			    buf_str(&e.msg));
		store_value(cfg, &params[i], &pv);
	}
	buf_free(&e.msg);
	cfg->rules = relative_to(CFG_DEFAULT_PATH, cfg->rules);
	free(cfg->hostname);
	cfg->hostname = system_hostname();
	free(cfg->authserv_id);
	cfg->authserv_id = xstrdup(cfg->hostname);
}

/* cfg_free -- release every string; the struct may be filled again */
void
cfg_free(struct cfg *cfg)
{
	char	*s;
	size_t	 i;

	for (i = 0; i < NPARAMS; i++) {
		if (params[i].type == PT_MODE || params[i].type == PT_ENUM ||
		    params[i].type == PT_BOOL || params[i].type == PT_DURATION ||
		    params[i].type == PT_COUNT)
			continue;
		memcpy(&s, (char *)cfg + params[i].off, sizeof(s));
		free(s);
		s = NULL;
		memcpy((char *)cfg + params[i].off, &s, sizeof(s));
	}
	free(cfg->path);
	cfg->path = NULL;
}

/* lookup -- the index of a parameter name, or -1 */
static int
lookup(const char *name, size_t len)
{
	size_t	i;

	for (i = 0; i < NPARAMS; i++)
		if (strlen(params[i].name) == len &&
		    memcmp(params[i].name, name, len) == 0)
			return (int)i;
	return -1;
}

/* distance -- Levenshtein distance, for names of at most 63 bytes */
static size_t
distance(const char *a, size_t alen, const char *b)
{
	size_t	row[64], i, j, diag, up, blen = strlen(b);

	for (j = 0; j <= blen; j++)
		row[j] = j;
	for (i = 1; i <= alen; i++) {
		diag = row[0];
		row[0] = i;
		for (j = 1; j <= blen; j++) {
			up = row[j];
			row[j] = diag + (a[i - 1] != b[j - 1]);
			if (up + 1 < row[j])
				row[j] = up + 1;
			if (row[j - 1] + 1 < row[j])
				row[j] = row[j - 1] + 1;
			diag = up;
		}
	}
	return row[blen];
}

/* suggest -- the known name closest to an unknown one, or NULL if none is close */
static const char *
suggest(const char *name, size_t len)
{
	const char	*best = NULL;
	size_t		 i, d, bestd = (size_t)-1, limit;

	if (len >= 64)
		return NULL;
	limit = len / 3 < 1 ? 1 : len / 3 > 3 ? 3 : len / 3;
	for (i = 0; i < NPARAMS; i++) {
		d = distance(name, len, params[i].name);
		if (d <= limit && d < bestd) {
			best = params[i].name;
			bestd = d;
		}
	}
	return best;
}

/* relative_to -- v taken relative to the directory of the file `path` */
static char *
relative_to(const char *path, char *v)
{
	struct buf	 b = BUF_INIT;
	const char	*slash = path != NULL ? strrchr(path, '/') : NULL;
	char		 cwd[4096];

	if (v[0] == '/')
		return v;
	if (slash == NULL || path[0] != '/') {
		/* a relative base: make it absolute, mxgate chdirs to / later */
		if (getcwd(cwd, sizeof(cwd)) != NULL)
			buf_printf(&b, "%s/", strcmp(cwd, "/") == 0 ? "" : cwd);
	}
	if (slash != NULL)
		buf_printf(&b, "%.*s", (int)(slash - path + 1), path);
	buf_puts(&b, v);
	free(v);
	return buf_release(&b);
}

/* blanks -- the index of the first byte at or after i that is no blank */
static size_t
blanks(const char *s, size_t i, size_t len)
{
	while (i < len && (s[i] == ' ' || s[i] == '\t'))
		i++;
	return i;
}

/*
 * warn -- "FILE:LINE:COL: warning: NAME is not yet implemented ..." for a
 * parameter this build accepts but does not act on: into the caller's
 * buffer, or logged when there is none.
 */
static void
warn(struct loader *L, unsigned line, unsigned col, const struct param *p)
{
	if (L->warnings == NULL) {
		log_warn("%s:%u:%u: %s is not yet implemented in this build "
		    "and has no effect", L->path, line, col, p->name);
		return;
	}
	buf_printf(L->warnings, "%s:%u:%u: warning: %s is not yet implemented "
	    "in this build and has no effect\n", L->path, line, col, p->name);
}

/* apply -- check one value and store it; warn for parameters not in use */
static void
apply(struct loader *L, const struct param *p, const char *v, unsigned line,
    unsigned ncol, unsigned vcol)
{
	struct pval	pv;
	struct perr	e = { BUF_INIT, 0 };

	if (cfg_check_value(p, v, &pv, &e) == -1) {
		diag_error(L->diag, L->path, line, vcol + (unsigned)e.off, "%s",
		    buf_str(&e.msg));
		buf_free(&e.msg);
		return;
	}
	if (p->notyet != NULL)
		warn(L, line, ncol, p);
	if ((p->flags & PF_RELATIVE) && pv.s != NULL)
		pv.s = relative_to(L->path, pv.s);
	store_value(L->cfg, p, &pv);
}

/*
 * unquote -- the quoted value starting at s[0] == '"' into out; *end is
 * just past the closing quote. Only \" and \\ are escapes.
 */
static int
unquote(struct loader *L, const char *s, size_t len, unsigned line,
    unsigned col, size_t *end, struct buf *out)
{
	size_t	i;

	for (i = 1; i < len; i++) {
		if (s[i] == '"') {
			*end = i + 1;
			return 0;
		}
		if (s[i] == '\\') {
			if (i + 1 >= len || (s[i + 1] != '"' && s[i + 1] != '\\')) {
				diag_error(L->diag, L->path, line, col + i,
				    "bad escape in quoted value: only \\\" and "
				    "\\\\ are allowed");
				return -1;
			}
			i++;
		}
		buf_putc(out, s[i]);
	}
	diag_error(L->diag, L->path, line, col, "quoted value has no closing "
	    "'\"'");
	return -1;
}

/*
 * value -- the value that starts at line[i] into out (quoted or not,
 * comment and surrounding blanks removed); -1 when an error was reported.
 */
static int
value(struct loader *L, const char *line, size_t len, size_t i,
    unsigned lineno, struct buf *out)
{
	size_t	end, j;

	if (i < len && line[i] == '"') {
		if (unquote(L, line + i, len - i, lineno, i + 1, &end, out) == -1)
			return -1;
		j = blanks(line, i + end, len);
		if (j < len && line[j] != '#') {
			diag_error(L->diag, L->path, lineno, j + 1, "unexpected "
			    "text after the quoted value");
			return -1;
		}
		return 0;
	}
	for (end = i; end < len; end++)
		if (line[end] == '#' && (line[end - 1] == ' ' ||
		    line[end - 1] == '\t'))
			break;
	while (end > i && (line[end - 1] == ' ' || line[end - 1] == '\t'))
		end--;
	buf_append(out, line + i, end - i);
	return 0;
}

/* line_ok -- refuse over-long lines and control characters */
static int
line_ok(struct loader *L, const char *line, size_t len, unsigned lineno)
{
	size_t	i;

	if (len > CFG_LINE_MAX) {
		diag_error(L->diag, L->path, lineno, CFG_LINE_MAX + 1,
		    "line longer than %d bytes", CFG_LINE_MAX);
		return 0;
	}
	for (i = 0; i < len; i++)
		if (((unsigned char)line[i] < 0x20 && line[i] != '\t') ||
		    line[i] == 0x7f) {
			diag_error(L->diag, L->path, lineno, i + 1,
			    "control character 0x%02x", (unsigned char)line[i]);
			return 0;
		}
	return 1;
}

/* unknown -- report an unknown name, with the closest known one */
static void
unknown(struct loader *L, const char *name, size_t len, unsigned lineno,
    unsigned col)
{
	const char	*near = suggest(name, len);
	char		 t[80];

	cfg_clip(t, sizeof(t), name, len);
	if (near != NULL)
		diag_error(L->diag, L->path, lineno, col, "unknown parameter "
		    "'%s'; did you mean '%s'?", t, near);
	else
		diag_error(L->diag, L->path, lineno, col, "unknown parameter "
		    "'%s'", t);
}

/* parse_line -- one line: blank, comment, or `name = value` */
static void
parse_line(struct loader *L, const char *line, size_t len, unsigned lineno)
{
	struct buf	 v = BUF_INIT;
	size_t		 i, n, vc;
	int		 k;

	if (len > 0 && line[len - 1] == '\r')
		len--;
	if (!line_ok(L, line, len, lineno))
		return;
	i = blanks(line, 0, len);
	if (i >= len || line[i] == '#')
		return;
	n = i;
	while (n < len && line[n] != ' ' && line[n] != '\t' && line[n] != '=')
		n++;
	if (n == i) {
		diag_error(L->diag, L->path, lineno, i + 1, "expected a "
		    "parameter name before '='");
		return;
	}
	if ((k = lookup(line + i, n - i)) == -1) {
		unknown(L, line + i, n - i, lineno, i + 1);
		return;
	}
	if (L->seen[k] != 0) {
		diag_error(L->diag, L->path, lineno, i + 1, "'%s' given twice "
		    "(first on line %u)", params[k].name, L->seen[k]);
		return;
	}
	L->seen[k] = lineno;
	n = blanks(line, n, len);
	vc = blanks(line, n + 1, len);
	L->vcol[k] = (unsigned)vc + 1 + (vc < len && line[vc] == '"');
	if (n >= len || line[n] != '=') {
		diag_error(L->diag, L->path, lineno, n + 1, "expected '=' after "
		    "'%s'", params[k].name);
		return;
	}
	n = blanks(line, n + 1, len);
	if (value(L, line, len, n, lineno, &v) == 0)
		apply(L, &params[k], buf_str(&v), lineno, i + 1,
		    n + 1 + (n < len && line[n] == '"'));
	buf_free(&v);
}

/* read_all -- the whole file into out, at most CFG_FILE_MAX bytes */
static int
read_all(const char *path, struct buf *out, struct diag *d)
{
	char		chunk[8192];
	struct stat	st;
	ssize_t		n;
	int		fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		diag_error(d, path, 0, 0, "cannot open: %s", strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
		diag_error(d, path, 0, 0, "cannot read: %s", strerror(EISDIR));
		(void)close(fd);
		return -1;
	}
	while ((n = read(fd, chunk, sizeof(chunk))) != 0) {
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			diag_error(d, path, 0, 0, "cannot read: %s",
			    strerror(errno));
			break;
		}
		if (out->len + (size_t)n > CFG_FILE_MAX) {
			diag_error(d, path, 0, 0, "file larger than %d bytes",
			    CFG_FILE_MAX);
			n = -1;
			break;
		}
		buf_append(out, chunk, (size_t)n);
	}
	(void)close(fd);
	return n == 0 ? 0 : -1;
}

/*
 * timeouts -- no one DNS answer may wait longer than a whole stage:
 * dns_timeout above stage_timeout is an error, at whichever of the two
 * the file gave (dns_timeout's when both)
 */
static void
timeouts(const struct cfg *cfg, const struct loader *L)
{
	int	d = lookup("dns_timeout", 11), s = lookup("stage_timeout", 13);
	int	at = L->seen[d] != 0 ? d : s;

	if (cfg->dns_timeout <= cfg->stage_timeout)
		return;
	diag_error(L->diag, L->path, L->seen[at], L->vcol[at], "dns_timeout "
	    "(%llus) is longer than stage_timeout (%llus): one DNS answer may "
	    "not take longer than all the checks of a stage",
	    (unsigned long long)cfg->dns_timeout,
	    (unsigned long long)cfg->stage_timeout);
}

/*
 * finish -- what depends on the file or on other parameters: the default
 * rules file next to this one, hostname, authserv_id, and the timeouts
 */
static void
finish(struct cfg *cfg, const struct loader *L)
{
	int	a = lookup("authserv_id", 11), r = lookup("rules", 5);

	timeouts(cfg, L);
	if (L->seen[r] == 0) {
		free(cfg->rules);
		cfg->rules = relative_to(L->path, xstrdup(params[r].def));
	}

	if (cfg->hostname[0] == '\0') {
		free(cfg->hostname);
		cfg->hostname = system_hostname();
	}
	if (L->seen[a] == 0 || cfg->authserv_id[0] == '\0') {
		free(cfg->authserv_id);
		cfg->authserv_id = xstrdup(cfg->hostname);
	}
}

/*
 * cfg_load -- defaults, then the file at path (NULL: defaults only).
 * Errors go to d, warnings for parameters that have no effect yet to
 * warnings (NULL: logged). 0, or -1 when the file had any error (the
 * parameters that were valid are set anyway).
 */
int
cfg_load(struct cfg *cfg, const char *path, struct diag *d,
    struct buf *warnings)
{
	struct loader	 L;
	struct buf	 text = BUF_INIT;
	const char	*p, *nl, *end;
	unsigned	 errors = d->errors, lineno = 0;

	cfg_defaults(cfg);
	if (path == NULL)
		return 0;
	cfg->path = xstrdup(path);
	memset(&L, 0, sizeof(L));
	L.cfg = cfg;
	L.path = cfg->path;
	L.diag = d;
	L.warnings = warnings;
	if (read_all(path, &text, d) == 0) {
		p = buf_str(&text);
		end = p + text.len;
		for (; p < end; p = nl + 1) {
			if ((nl = memchr(p, '\n', end - p)) == NULL)
				nl = end;
			parse_line(&L, p, nl - p, ++lineno);
		}
	}
	buf_free(&text);
	finish(cfg, &L);
	return d->errors == errors ? 0 : -1;
}

/* comment -- text as '#' lines wrapped at 72 columns */
static void
comment(struct buf *out, const char *text)
{
	const char	*p = text, *brk;
	size_t		 col;

	while (*p != '\0') {
		brk = NULL;
		for (col = 0; p[col] != '\0' && (col < 70 || brk == NULL); col++)
			if (p[col] == ' ')
				brk = p + col;
		if (p[col] == '\0' || brk == NULL)
			brk = p + col;
		buf_printf(out, "# %.*s\n", (int)(brk - p), p);
		p = *brk == ' ' ? brk + 1 : brk;
	}
}

/* range -- the allowed values of a parameter as a sentence, or "" */
static void
range(struct buf *out, const struct param *p)
{
	const struct word	*w;
	char			 lo[32], hi[32];

	if (p->type == PT_ENUM || p->type == PT_BOOL) {
		buf_puts(out, "One of:");
		for (w = p->words; w->word != NULL; w++)
			buf_printf(out, " %s%s", w->word, w[1].word ? "," : ".");
	} else if (p->type == PT_DURATION) {
		num_format_duration(p->min, lo, sizeof(lo));
		num_format_duration(p->max, hi, sizeof(hi));
		buf_printf(out, "From %s to %s (suffix s, m, h or d; none: "
		    "seconds).", lo, hi);
	} else if (p->type == PT_COUNT)
		buf_printf(out, "From %llu to %llu.",
		    (unsigned long long)p->min, (unsigned long long)p->max);
}

/* cfg_write_defaults -- the shipped mxgate.conf: every parameter, commented */
void
cfg_write_defaults(struct buf *out)
{
	struct buf	 text = BUF_INIT;
	size_t		 i;

	buf_puts(out, "# mxgate.conf -- configuration of mxgate(8), see "
	    "mxgate.conf(5).\n#\n");
	comment(out, "Lines are `name = value`; '#' starts a comment. Every "
	    "parameter is listed below with its default value, commented out: "
	    "to change one, remove the '#' and edit the value. Check the file "
	    "with `mxgate -n`.");
	for (i = 0; i < NPARAMS; i++) {
		buf_reset(&text);
		buf_puts(&text, params[i].doc);
		if (params[i].type == PT_ENUM || params[i].type == PT_BOOL ||
		    params[i].type == PT_DURATION || params[i].type == PT_COUNT)
			buf_putc(&text, ' ');
		range(&text, &params[i]);
		if (params[i].notyet != NULL)
			buf_printf(&text, " Not yet implemented in this build (%s): "
			    "setting it gives a warning.",
			    params[i].notyet);
		buf_putc(out, '\n');
		comment(out, buf_str(&text));
		buf_printf(out, "# %s =%s%s\n", params[i].name,
		    params[i].def[0] != '\0' ? " " : "", params[i].def);
	}
	buf_free(&text);
}
