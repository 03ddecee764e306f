/*
 * cfg_value -- the value checkers of mxgate.conf: one per parameter type
 * (cfg_int.h), each bounded, each saying what is wrong and at which byte
 * of the value (cfg.c turns that into FILE:LINE:COL).
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "cfg_int.h"
#include "num.h"
#include "xalloc.h"

/* cfg_clip -- a value shortened for a message */
const char *
cfg_clip(char *out, size_t outlen, const char *s, size_t len)
{
	if (len > CLIP)
		(void)snprintf(out, outlen, "%.*s...", CLIP, s);
	else
		(void)snprintf(out, outlen, "%.*s", (int)len, s);
	return out;
}

/* fail -- set a checker's message and offset; returns -1 */
static int
fail(struct perr *e, size_t off, const char *fmt, ...)
{
	va_list	ap;

	e->off = off;
	va_start(ap, fmt);
	buf_vprintf(&e->msg, fmt, ap);
	va_end(ap);
	return -1;
}

/* cfg_is_hostname -- letters, digits, '-' in dot-separated labels of 1..63 */
int
cfg_is_hostname(const char *s, size_t len)
{
	size_t	i, label = 0;

	if (len == 0 || len > 253)
		return 0;
	for (i = 0; i < len; i++) {
		if (s[i] == '.') {
			if (label == 0 || s[i - 1] == '-')
				return 0;
			label = 0;
			continue;
		}
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' &&
		    s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
			return 0;
		if (s[i] == '-' && label == 0)
			return 0;
		if (++label > 63)
			return 0;
	}
	return label > 0 && s[len - 1] != '-';
}

/* is_ip -- an IP address literal of family af (0: either) */
static int
is_ip(const char *s, size_t len, int af)
{
	char		a[64];
	unsigned char	bin[16];

	if (len >= sizeof(a))
		return 0;
	memcpy(a, s, len);
	a[len] = '\0';
	if (af != AF_INET6 && inet_pton(AF_INET, a, bin) == 1)
		return 1;
	return af != AF_INET && inet_pton(AF_INET6, a, bin) == 1;
}

/* parse_port -- a TCP port 1..65535 */
static int
parse_port(const char *s, size_t len)
{
	uint64_t	v;

	return num_parse(s, len, 1, 65535, &v);
}

/* check_host -- HOST of inet:/inet6:: an address of af, [address], or a name */
static int
check_host(const char *h, size_t off, int af, struct perr *e)
{
	size_t		len = strlen(h);
	const char	*want = af == AF_INET ? "an IPv4" : "an IPv6";

	if (len >= 2 && h[0] == '[' && h[len - 1] == ']') {
		if (is_ip(h + 1, len - 2, af))
			return 0;
	} else if (is_ip(h, len, af) || (!is_ip(h, len, 0) &&
	    cfg_is_hostname(h, len)))
		return 0;
	return fail(e, off, "bad host '%s' in socket: expected %s address "
	    "or a host name", h, want);
}

/* check_socket -- unix:/PATH, local:/PATH, inet:PORT[@HOST], inet6:PORT[@HOST] */
static int
check_socket(const struct param *p, const char *v, struct pval *pv,
    struct perr *e)
{
	struct sockaddr_un	 sun;
	const char		*rest, *at;
	char			 t[80];
	int			 af;

	(void)p;
	(void)pv;
	if ((rest = strchr(v, ':')) != NULL)
		rest++;
	if (strncmp(v, "unix:", 5) == 0 || strncmp(v, "local:", 6) == 0) {
		if (rest[0] != '/')
			return fail(e, rest - v, "socket path must be absolute");
		if (strlen(rest) >= sizeof(sun.sun_path))
			return fail(e, rest - v, "socket path longer than %zu "
			    "bytes", sizeof(sun.sun_path) - 1);
		return 0;
	}
	if (strncmp(v, "inet:", 5) == 0)
		af = AF_INET;
	else if (strncmp(v, "inet6:", 6) == 0)
		af = AF_INET6;
	else
		return fail(e, 0, "bad socket '%s': expected unix:/PATH, "
		    "inet:PORT@HOST or inet6:PORT@HOST",
		    cfg_clip(t, sizeof(t), v, strlen(v)));
	if ((at = strchr(rest, '@')) == NULL)
		at = rest + strlen(rest);
	if (parse_port(rest, at - rest) == -1)
		return fail(e, rest - v, "bad port '%s' in socket: expected "
		    "1 to 65535", cfg_clip(t, sizeof(t), rest, at - rest));
	if (*at == '\0')
		return 0;
	return check_host(at + 1, at + 1 - v, af, e);
}

/* check_mode -- 1 to 4 octal digits, at most 0777 */
static int
check_mode(const struct param *p, const char *v, struct pval *pv,
    struct perr *e)
{
	size_t		i, len = strlen(v);
	uint64_t	n = 0;
	char		t[80];

	for (i = 0; i < len && len <= 4; i++) {
		if (v[i] < '0' || v[i] > '7')
			break;
		n = n * 8 + (uint64_t)(v[i] - '0');
	}
	if (len > 4 || i < len || n > p->max)
		return fail(e, 0, "bad mode '%s' for '%s': expected an octal "
		    "number from 0000 to 0777", cfg_clip(t, sizeof(t), v, len),
		    p->name);
	pv->n = n;
	return 0;
}

/* check_name -- a user or group name: [a-z_][a-z0-9_.-]*, at most 32 */
static int
check_name(const struct param *p, const char *v, struct pval *pv,
    struct perr *e)
{
	size_t	i, len = strlen(v);
	char	t[80];

	(void)pv;
	for (i = 0; i < len && len <= NAME_MAX_LEN; i++) {
		if ((v[i] >= 'a' && v[i] <= 'z') || v[i] == '_')
			continue;
		if (i > 0 && ((v[i] >= '0' && v[i] <= '9') || v[i] == '.' ||
		    v[i] == '-'))
			continue;
		break;
	}
	if (len > NAME_MAX_LEN || i < len)
		return fail(e, 0, "bad %s name '%s': expected a lower-case "
		    "letter or '_', then letters, digits, '_', '.' or '-' (at "
		    "most %d)", p->name, cfg_clip(t, sizeof(t), v, len),
		    NAME_MAX_LEN);
	return 0;
}

/* check_path -- absolute (PF_RELATIVE: or relative), naming a file */
static int
check_path(const struct param *p, const char *v, struct pval *pv,
    struct perr *e)
{
	size_t	len = strlen(v);

	(void)pv;
	if (v[0] != '/' && !(p->flags & PF_RELATIVE))
		return fail(e, 0, "'%s' must be an absolute path", p->name);
	if (v[len - 1] == '/')
		return fail(e, len - 1, "'%s' must name a file, not a "
		    "directory", p->name);
	if (p->flags & PF_SECRET) {
		struct stat	st;

		if (lstat(v, &st) == -1)
			return fail(e, 0, "%s: %s", v, strerror(errno));
		if (!S_ISREG(st.st_mode))
			return fail(e, 0, "%s: not a regular file", v);
		if (st.st_mode & 077)
			return fail(e, 0, "%s: mode %04o: a secret must be "
			    "readable by its owner only (chmod 600)", v,
			    (unsigned)(st.st_mode & 07777));
	}
	return 0;
}

/* check_word -- one of the parameter's words */
static int
check_word(const struct param *p, const char *v, struct pval *pv,
    struct perr *e)
{
	const struct word	*w;
	char			 t[80];

	for (w = p->words; w->word != NULL; w++)
		if (strcmp(v, w->word) == 0) {
			pv->n = (uint64_t)w->value;
			return 0;
		}
	fail(e, 0, "bad value '%s' for '%s': expected ",
	    cfg_clip(t, sizeof(t), v, strlen(v)), p->name);
	for (w = p->words; w->word != NULL; w++)
		buf_printf(&e->msg, "%s%s", w == p->words ? "" :
		    w[1].word == NULL ? " or " : ", ", w->word);
	return -1;
}

/* check_duration -- N with an optional suffix s, m, h or d, in range */
static int
check_duration(const struct param *p, const char *v, struct pval *pv,
    struct perr *e)
{
	char	t[80], lo[32], hi[32];

	if (num_parse_duration(v, strlen(v), NUM_UNIT_OPTIONAL, 0, UINT64_MAX,
	    &pv->n) == -1)
		return fail(e, 0, "bad duration '%s' for '%s': expected a "
		    "number with an optional suffix s, m, h or d",
		    cfg_clip(t, sizeof(t), v, strlen(v)), p->name);
	if (pv->n < p->min || pv->n > p->max) {
		num_format_duration(p->min, lo, sizeof(lo));
		num_format_duration(p->max, hi, sizeof(hi));
		return fail(e, 0, "%s = %s is out of range (%s to %s)",
		    p->name, cfg_clip(t, sizeof(t), v, strlen(v)), lo, hi);
	}
	return 0;
}

/* check_count -- decimal digits, in range */
static int
check_count(const struct param *p, const char *v, struct pval *pv,
    struct perr *e)
{
	size_t	len = strlen(v);
	char	t[80];

	cfg_clip(t, sizeof(t), v, len);
	if (strspn(v, "0123456789") != len)
		return fail(e, 0, "bad number '%s' for '%s': expected decimal "
		    "digits", t, p->name);
	if (num_parse(v, len, p->min, p->max, &pv->n) == -1)
		return fail(e, 0, "%s = %s is out of range (%llu to %llu)",
		    p->name, t, (unsigned long long)p->min,
		    (unsigned long long)p->max);
	return 0;
}

/* check_hostname -- a DNS host name */
static int
check_hostname(const struct param *p, const char *v, struct pval *pv,
    struct perr *e)
{
	char	t[80];

	(void)pv;
	if (cfg_is_hostname(v, strlen(v)))
		return 0;
	return fail(e, 0, "bad host name '%s' for '%s': expected labels of "
	    "letters, digits and '-', separated by '.'",
	    cfg_clip(t, sizeof(t), v, strlen(v)), p->name);
}

/* check_forwarder -- one IP[@PORT] entry (len bytes at v) */
static int
check_forwarder(const char *v, size_t len, size_t off, struct perr *e)
{
	const char	*at = memchr(v, '@', len);
	size_t		 alen = at != NULL ? (size_t)(at - v) : len;
	char		 t[80];

	if (!is_ip(v, alen, 0))
		return fail(e, off, "bad forwarder '%s': expected an IP "
		    "address, optionally @PORT", cfg_clip(t, sizeof(t), v, len));
	if (at != NULL && parse_port(at + 1, len - alen - 1) == -1)
		return fail(e, off + alen + 1, "bad port '%s' in forwarder: "
		    "expected 1 to 65535", cfg_clip(t, sizeof(t), at + 1,
		    len - alen - 1));
	return 0;
}

/* check_forwarders -- comma-separated IP[@PORT], at most MAX_FORWARDERS */
static int
check_forwarders(const struct param *p, const char *v, struct pval *pv,
    struct perr *e)
{
	const char	*s = v, *end;
	size_t		 len, n = 0;

	(void)p;
	(void)pv;
	for (;;) {
		s += strspn(s, " \t");
		end = s + strcspn(s, ",");
		len = end - s;
		while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t'))
			len--;
		if (len == 0)
			return fail(e, s - v, "empty entry in dns_forwarders");
		if (++n > MAX_FORWARDERS)
			return fail(e, s - v, "more than %d dns_forwarders",
			    MAX_FORWARDERS);
		if (len >= DNS_FORWARDER_LEN)
			return fail(e, s - v, "forwarder longer than %d bytes",
			    DNS_FORWARDER_LEN - 1);
		if (check_forwarder(s, len, s - v, e) == -1)
			return -1;
		if (*end == '\0')
			return 0;
		s = end + 1;
	}
}

/* check_ctlsock -- unix:/PATH: the control socket is never on the network */
static int
check_ctlsock(const struct param *p, const char *v, struct pval *pv,
    struct perr *e)
{
	char	t[80];

	if (strncmp(v, "unix:", 5) != 0 && strncmp(v, "local:", 6) != 0)
		return fail(e, 0, "bad %s '%s': expected unix:/PATH (the "
		    "control socket is never on the network)", p->name,
		    cfg_clip(t, sizeof(t), v, strlen(v)));
	return check_socket(p, v, pv, e);
}

/* check_listen -- IP:PORT or [IPv6]:PORT */
static int
check_listen(const struct param *p, const char *v, struct pval *pv,
    struct perr *e)
{
	const char	*colon, *ip = v;
	size_t		 iplen;
	char		 t[80];

	(void)pv;
	if (v[0] == '[') {
		if ((colon = strchr(v, ']')) == NULL || colon[1] != ':')
			return fail(e, 0, "bad %s '%s': expected IP:PORT or "
			    "[IPv6]:PORT", p->name,
			    cfg_clip(t, sizeof(t), v, strlen(v)));
		ip = v + 1;
		iplen = colon - ip;
		colon++;
		if (!is_ip(ip, iplen, AF_INET6))
			return fail(e, 1, "bad IPv6 address '%s' in %s",
			    cfg_clip(t, sizeof(t), ip, iplen), p->name);
	} else {
		if ((colon = strrchr(v, ':')) == NULL ||
		    memchr(v, ':', colon - v) != NULL)
			return fail(e, 0, "bad %s '%s': expected IP:PORT or "
			    "[IPv6]:PORT", p->name,
			    cfg_clip(t, sizeof(t), v, strlen(v)));
		iplen = colon - v;
		if (!is_ip(ip, iplen, AF_INET))
			return fail(e, 0, "bad IPv4 address '%s' in %s",
			    cfg_clip(t, sizeof(t), ip, iplen), p->name);
	}
	if (parse_port(colon + 1, strlen(colon + 1)) == -1)
		return fail(e, colon + 1 - v, "bad port '%s' in %s: expected "
		    "1 to 65535", cfg_clip(t, sizeof(t), colon + 1,
		    strlen(colon + 1)), p->name);
	return 0;
}

/* check_redis -- HOST:PORT[/DB] after redis:// (HOST may be [IPv6]) */
static int
check_redis(const char *s)
{
	const char	*colon, *slash;
	uint64_t	 db;

	if (s[0] == '[') {
		if ((colon = strchr(s, ']')) == NULL ||
		    !is_ip(s + 1, colon - s - 1, AF_INET6) || *++colon != ':')
			return -1;
	} else if ((colon = strchr(s, ':')) == NULL ||
	    !cfg_is_hostname(s, colon - s))
		return -1;
	if ((slash = strchr(colon, '/')) == NULL)
		slash = colon + strlen(colon);
	if (parse_port(colon + 1, slash - colon - 1) == -1)
		return -1;
	if (*slash == '/' && num_parse(slash + 1, strlen(slash + 1), 0, 65535,
	    &db) == -1)
		return -1;
	return 0;
}

/* check_store -- memory, or redis://HOST:PORT[/DB] */
static int
check_store(const struct param *p, const char *v, struct pval *pv,
    struct perr *e)
{
	char	t[80];

	(void)p;
	(void)pv;
	if (strcmp(v, "memory") == 0 ||
	    (strncmp(v, "redis://", 8) == 0 && check_redis(v + 8) == 0))
		return 0;
	return fail(e, 0, "bad store '%s': expected memory or "
	    "redis://HOST:PORT[/DB]", cfg_clip(t, sizeof(t), v, strlen(v)));
}

/*
 * cfg_check_value -- validate v (a C string without control characters)
 * for p; on success pv holds the value (pv->s malloc'd for string types).
 */
int
cfg_check_value(const struct param *p, const char *v, struct pval *pv,
    struct perr *e)
{
	int	rc = 0;

	pv->s = NULL;
	pv->n = 0;
	if (*v == '\0' && !(p->flags & PF_EMPTY_OK))
		return fail(e, 0, "empty value for '%s'", p->name);
	if (*v != '\0') {
		switch (p->type) {
		case PT_SOCKET:		rc = check_socket(p, v, pv, e); break;
		case PT_MODE:		rc = check_mode(p, v, pv, e); break;
		case PT_NAME:		rc = check_name(p, v, pv, e); break;
		case PT_PATH:		rc = check_path(p, v, pv, e); break;
		case PT_ENUM:
		case PT_BOOL:		rc = check_word(p, v, pv, e); break;
		case PT_DURATION:	rc = check_duration(p, v, pv, e); break;
		case PT_COUNT:		rc = check_count(p, v, pv, e); break;
		case PT_HOSTNAME:	rc = check_hostname(p, v, pv, e); break;
		case PT_FORWARDERS:	rc = check_forwarders(p, v, pv, e); break;
		case PT_STORE:		rc = check_store(p, v, pv, e); break;
		case PT_CTLSOCK:	rc = check_ctlsock(p, v, pv, e); break;
		case PT_LISTEN:		rc = check_listen(p, v, pv, e); break;
		}
	}
	if (rc == 0 && p->type != PT_MODE && p->type != PT_ENUM &&
	    p->type != PT_BOOL && p->type != PT_DURATION && p->type != PT_COUNT)
		pv->s = xstrdup(v);
	return rc;
}
