/*
 * logline -- one log line of mxgate read back (see logline.h).
 *
 * The reader is the inverse of log_escape(): a value is either a quoted
 * string ("..." with \" \\ \xHH) or a run of bytes up to the next space
 * with the same escapes. Three fields have a frame around their value:
 * client=NAME[IP] (each part escaped on its own, so either may be
 * quoted: client=unknown[""]), from=<ADDR> and rcpt=<ADDR>. Every read
 * checks the end of the line first; decoded bytes go into a buffer of
 * twice the line limit, which the decoder checks too (a decoded value is
 * never longer than its text, plus one NUL per field).
 */
#include "config.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "logline.h"
#include "num.h"
#include "xalloc.h"

#define VALS_CAP	(2 * LOGLINE_MAX + 64)

enum ftype {
	F_PLAIN,	/* key=VALUE */
	F_CLIENT,	/* client=NAME[IP] */
	F_ANGLE		/* from=<ADDR>, rcpt=<ADDR> */
};

struct field {
	const char	*key;
	size_t		 off;	/* of the const char * in struct logline */
	enum ftype	 type;
};

#define FIELD(k, m, t)	{ k, offsetof(struct logline, m), t }
static const struct field fields[] = {
	FIELD("ref", ref, F_PLAIN), FIELD("rule", rule, F_PLAIN),
	FIELD("stage", stage, F_PLAIN), FIELD("action", action, F_PLAIN),
	FIELD("reply", reply, F_PLAIN), FIELD("text", text, F_PLAIN),
	FIELD("client", client_name, F_CLIENT), FIELD("helo", helo, F_PLAIN),
	FIELD("from", from, F_ANGLE), FIELD("rcpt", rcpt, F_ANGLE),
	FIELD("sasl", sasl, F_PLAIN), FIELD("spf", spf, F_PLAIN),
	FIELD("dkim", dkim, F_PLAIN), FIELD("dmarc", dmarc, F_PLAIN),
	FIELD("dnsbl", dnsbl, F_PLAIN), FIELD("limit", limit, F_PLAIN),
};

/* a line being read: the next byte and the end (nothing past it is read) */
struct cur {
	const char	*p;
	const char	*end;
};

static const char *const months[12] = {
	"Jan", "Feb", "Mar", "Apr", "May", "Jun",
	"Jul", "Aug", "Sep", "Oct", "Nov", "Dec"
};

static enum logline_kind bad(struct logline *, const char *);
static int	dec_value(struct logline *, size_t *, struct cur *,
		    enum ftype, const char **);

/* logline_init -- an empty line with room for any line's values */
void
logline_init(struct logline *l)
{
	memset(l, 0, sizeof(*l));
	l->vals = xmalloc(VALS_CAP);
	l->cap = VALS_CAP;
}

/* logline_free -- release the value buffer */
void
logline_free(struct logline *l)
{
	free(l->vals);
	memset(l, 0, sizeof(*l));
}

/* logline_context -- classic timestamps of a file written until `ref` */
void
logline_context(struct logline_ctx *ctx, time_t ref)
{
	struct tm	tm;

	memset(ctx, 0, sizeof(*ctx));
	if (localtime_r(&ref, &tm) == NULL) {
		ctx->ref_year = 1970;
		ctx->ref_mon = 1;
	} else {
		ctx->ref_year = tm.tm_year + 1900;
		ctx->ref_mon = tm.tm_mon + 1;
	}
	ctx->hour_key = -1;
}

/* bad -- a malformed line, and why */
static enum logline_kind
bad(struct logline *l, const char *why)
{
	l->why = why;
	return LOGLINE_MALFORMED;
}

/* --- dates ------------------------------------------------------------ */

/* leap -- is y a leap year? */
static int
leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* mdays -- the days of month m (1..12) of year y */
static int
mdays(int64_t y, int m)
{
	static const int d[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	return m == 2 && leap(y) ? 29 : d[m - 1];
}

/* days_since_epoch -- days from 1970-01-01 to y-m-d (proleptic Gregorian) */
static int64_t
days_since_epoch(int64_t y, int m, int d)
{
	int64_t	era, yoe, doy;

	/* count years from March, so that the leap day ends a year */
	if (m <= 2)
		y--;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	return era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468;
}

/* local_epoch -- a local date and time in seconds since the epoch; -1 when invalid */
static int
local_epoch(struct logline_ctx *ctx, int y, int mo, int d, int h, int mi,
    int s, int64_t *out)
{
	struct tm	tm;
	time_t		t;
	int		key = ((y * 13 + mo) * 32 + d) * 24 + h;

	if (d > mdays(y, mo))
		return -1;
	if (ctx != NULL && ctx->hour_key == key) {
		*out = ctx->hour_start + mi * 60 + s;
		return 0;
	}
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_isdst = -1;
	if ((t = mktime(&tm)) == (time_t)-1 && tm.tm_year != 69)
		return -1;
	if (ctx != NULL) {
		ctx->hour_key = key;
		ctx->hour_start = (int64_t)t;
	}
	*out = (int64_t)t + mi * 60 + s;
	return 0;
}

/* num_at -- exactly n digits at c as a number in [min, max]; advances */
static int
num_at(struct cur *c, size_t n, uint64_t min, uint64_t max, int *out)
{
	uint64_t	v;

	if ((size_t)(c->end - c->p) < n || num_parse(c->p, n, min, max, &v) == -1)
		return -1;
	c->p += n;
	*out = (int)v;
	return 0;
}

/* lit -- the byte ch at c; advances */
static int
lit(struct cur *c, char ch)
{
	if (c->p >= c->end || *c->p != ch)
		return -1;
	c->p++;
	return 0;
}

/* frac -- ".DIGITS" (1 to 9 of them) as microseconds; nothing is fine too */
static int
frac(struct cur *c, uint32_t *usec)
{
	const char	*d;
	uint64_t	 v;
	size_t		 n;

	*usec = 0;
	if (c->p >= c->end || *c->p != '.')
		return 0;
	for (d = ++c->p; c->p < c->end && *c->p >= '0' && *c->p <= '9'; c->p++)
		;
	n = (size_t)(c->p - d);
	if (n > 9 || num_parse(d, n, 0, 999999999, &v) == -1)
		return -1;
	for (; n < 6; n++)
		v *= 10;
	for (; n > 6; n--)
		v /= 10;
	*usec = (uint32_t)v;
	return 0;
}

/* zone -- "Z", "+HH:MM" or "+HHMM" (or '-') as seconds east; 1 when absent */
static int
zone(struct cur *c, int64_t *off)
{
	int	sign, hh, mm;

	if (c->p >= c->end || (*c->p != 'Z' && *c->p != 'z' &&
	    *c->p != '+' && *c->p != '-'))
		return 1;
	if (*c->p == 'Z' || *c->p == 'z') {
		c->p++;
		*off = 0;
		return 0;
	}
	sign = *c->p++ == '-' ? -1 : 1;
	if (num_at(c, 2, 0, 23, &hh) == -1)
		return -1;
	if (c->p < c->end && *c->p == ':')
		c->p++;
	if (num_at(c, 2, 0, 59, &mm) == -1)
		return -1;
	*off = sign * (int64_t)(hh * 3600 + mm * 60);
	return 0;
}

/*
 * iso -- YYYY-MM-DD[(T|t| )HH:MM[:SS[.frac]][zone]] into *t; a time
 * without a zone is local. need_secs: the log line form (T, seconds).
 */
static int
iso(struct cur *c, int need_secs, int64_t *t, uint32_t *usec)
{
	int	y, mo, d, h = 0, mi = 0, s = 0, rc;
	int64_t	off = 0;

	*usec = 0;
	if (num_at(c, 4, 1970, 9999, &y) == -1 || lit(c, '-') == -1 ||
	    num_at(c, 2, 1, 12, &mo) == -1 || lit(c, '-') == -1 ||
	    num_at(c, 2, 1, 31, &d) == -1 || d > mdays(y, mo))
		return -1;
	if (c->p < c->end && (*c->p == 'T' || *c->p == 't' ||
	    (*c->p == ' ' && !need_secs))) {
		c->p++;
		if (num_at(c, 2, 0, 23, &h) == -1 || lit(c, ':') == -1 ||
		    num_at(c, 2, 0, 59, &mi) == -1)
			return -1;
		if (lit(c, ':') == 0) {
			/* 60: a leap second, counted as the next second's start */
			if (num_at(c, 2, 0, 60, &s) == -1 || frac(c, usec) == -1)
				return -1;
		} else if (need_secs)
			return -1;
	} else if (need_secs)
		return -1;
	if ((rc = zone(c, &off)) == -1)
		return -1;
	if (rc == 1)
		return local_epoch(NULL, y, mo, d, h, mi, s, t);
	*t = days_since_epoch(y, mo, d) * 86400 + h * 3600 + mi * 60 + s - off;
	return 0;
}

/* logline_time -- an RFC 3339 date or date-time (local without a zone); 0 or -1 */
int
logline_time(const char *s, size_t len, int64_t *t)
{
	struct cur	c = { s, s + len };
	uint32_t	usec;

	if (iso(&c, 0, t, &usec) == -1 || c.p != c.end)
		return -1;
	return 0;
}

/* classic -- "Mon DD HH:MM:SS" (day space- or zero-padded), local time */
static int
classic(struct cur *c, struct logline_ctx *ctx, int64_t *t)
{
	int	mo, d, h, mi, s, y;

	if (c->end - c->p < 3)
		return -1;
	for (mo = 0; mo < 12; mo++)
		if (memcmp(c->p, months[mo], 3) == 0)
			break;
	if (mo == 12)
		return -1;
	c->p += 3;
	if (lit(c, ' ') == -1)
		return -1;
	(void)lit(c, ' ');
	if (num_at(c, 2, 1, 31, &d) == -1 && num_at(c, 1, 1, 9, &d) == -1)
		return -1;
	if (lit(c, ' ') == -1 || num_at(c, 2, 0, 23, &h) == -1 ||
	    lit(c, ':') == -1 || num_at(c, 2, 0, 59, &mi) == -1 ||
	    lit(c, ':') == -1 || num_at(c, 2, 0, 60, &s) == -1)
		return -1;
	/* a month after the file's last write is from the year before */
	y = mo + 1 > ctx->ref_mon ? ctx->ref_year - 1 : ctx->ref_year;
	return local_epoch(ctx, y, mo + 1, d, h, mi, s, t);
}

/* --- the syslog prefix ------------------------------------------------ */

/* tag -- "mxgate[PID]: " at c; advances; -1 when it is not there */
static int
tag(struct cur *c, long *pid)
{
	const char	*d;
	uint64_t	 v;

	if (c->end - c->p < 7 || memcmp(c->p, "mxgate[", 7) != 0)
		return -1;
	c->p += 7;
	for (d = c->p; c->p < c->end && *c->p >= '0' && *c->p <= '9'; c->p++)
		;
	if (num_parse(d, (size_t)(c->p - d), 0, 0x7fffffff, &v) == -1)
		return -1;
	if (lit(c, ']') == -1 || lit(c, ':') == -1 || lit(c, ' ') == -1)
		return -1;
	*pid = (long)v;
	return 0;
}

/* host_tag -- " [HOST ]mxgate[PID]: " after a timestamp */
static int
host_tag(struct cur *c, long *pid)
{
	const char	*sp;

	if (lit(c, ' ') == -1)
		return -1;
	if (tag(c, pid) == 0)
		return 0;
	sp = memchr(c->p, ' ', (size_t)(c->end - c->p));
	if (sp == NULL)
		return -1;
	c->p = sp + 1;
	return tag(c, pid);
}

/* mentions -- does a word of the line start with mxgate's tag, "mxgate[PID]: "? */
static int
mentions(const char *p, const char *end)
{
	const char	*q;
	struct cur	 c;
	long		 pid;

	for (q = p; (q = memchr(q, 'm', (size_t)(end - q))) != NULL; q++) {
		if (q != p && q[-1] != ' ')
			continue;
		c.p = q;
		c.end = end;
		if (tag(&c, &pid) == 0)
			return 1;
	}
	return 0;
}

/*
 * prefix -- the time and tag; c is left at the message. 0, or 1 for
 * another program's line, or -1 for mxgate's line with a bad time.
 */
static int
prefix(struct logline *l, struct cur *c, struct logline_ctx *ctx)
{
	struct cur	start = *c;

	if (tag(c, &l->pid) == 0)
		return 0;
	*c = start;
	if (iso(c, 1, &l->time, &l->usec) == 0 || (*c = start,
	    classic(c, ctx, &l->time)) == 0) {
		l->has_time = 1;
		if (host_tag(c, &l->pid) == 0)
			return 0;
		return 1;
	}
	return mentions(start.p, start.end) ? -1 : 1;
}

/* --- values ----------------------------------------------------------- */

/* hexval -- the value of a hex digit, or -1 */
static int
hexval(int ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* put -- one decoded byte into the value buffer */
static int
put(struct logline *l, size_t *n, int ch)
{
	if (*n + 1 >= l->cap)
		return -1;
	l->vals[(*n)++] = (char)ch;
	return 0;
}

/* unescape -- the escape at c (c->p at the backslash): its byte; advances */
static int
unescape(struct cur *c)
{
	int	hi, lo;

	if (c->end - c->p < 2)
		return -1;
	if (c->p[1] == '\\' || c->p[1] == '"') {
		c->p += 2;
		return (unsigned char)c->p[-1];
	}
	if (c->p[1] != 'x' || c->end - c->p < 4 ||
	    (hi = hexval((unsigned char)c->p[2])) == -1 ||
	    (lo = hexval((unsigned char)c->p[3])) == -1 || hi * 16 + lo == 0)
		return -1;
	c->p += 4;
	return hi * 16 + lo;
}

/* dec_span -- decode the unquoted text [c->p, stop) (no '"' in it); advances */
static int
dec_span(struct logline *l, size_t *n, struct cur *c, const char *stop)
{
	struct cur	s = { c->p, stop };
	int		ch;

	while (s.p < s.end) {
		if (*s.p == '"')
			return -1;
		if (*s.p == '\\') {
			if ((ch = unescape(&s)) == -1)
				return -1;
		} else
			ch = (unsigned char)*s.p++;
		if (put(l, n, ch) == -1)
			return -1;
	}
	c->p = stop;
	return 0;
}

/* dec_quoted -- decode "..." at c (c->p at the quote); advances past it */
static int
dec_quoted(struct logline *l, size_t *n, struct cur *c)
{
	int	ch;

	if (lit(c, '"') == -1)
		return -1;
	while (c->p < c->end && *c->p != '"') {
		if (*c->p == '\\') {
			if ((ch = unescape(c)) == -1)
				return -1;
		} else
			ch = (unsigned char)*c->p++;
		if (put(l, n, ch) == -1)
			return -1;
	}
	return lit(c, '"');
}

/* token_end -- the end of the space-free token at c */
static const char *
token_end(const struct cur *c)
{
	const char	*sp = memchr(c->p, ' ', (size_t)(c->end - c->p));

	return sp != NULL ? sp : c->end;
}

/*
 * dec_part -- one escaped value ending at `close` (a byte, or 0 for the
 * end of the token): quoted, or unquoted up to the last `close` of the
 * token. Stores a NUL-terminated copy in *out; advances past the value.
 */
static int
dec_part(struct logline *l, size_t *n, struct cur *c, char close,
    const char **out)
{
	const char	*end = token_end(c), *stop = end;
	size_t		 start = *n;

	if (c->p < c->end && *c->p == '"') {
		if (dec_quoted(l, n, c) == -1)
			return -1;
	} else {
		if (close != 0) {
			for (stop = end; stop > c->p && stop[-1] != close; stop--)
				;
			if (stop == c->p)
				return -1;
			stop--;
		}
		/* log_escape writes an empty value as "" */
		if (stop == c->p || dec_span(l, n, c, stop) == -1)
			return -1;
	}
	if (put(l, n, '\0') == -1)
		return -1;
	*out = l->vals + start;
	return 0;
}

/* dec_value -- a field's value at c, framed per its type; advances */
static int
dec_value(struct logline *l, size_t *n, struct cur *c, enum ftype type,
    const char **out)
{
	if (type == F_CLIENT) {
		/* NAME[IP]: the name ends at the last '[' of the token */
		if (c->p < c->end && *c->p == '"') {
			if (dec_part(l, n, c, 0, out) == -1)
				return -1;
		} else if (dec_part(l, n, c, '[', out) == -1)
			return -1;
		if (lit(c, '[') == -1 || dec_part(l, n, c, ']', &l->client_ip) == -1)
			return -1;
		return lit(c, ']');
	}
	if (type == F_ANGLE) {
		if (lit(c, '<') == -1 || dec_part(l, n, c, '>', out) == -1)
			return -1;
		return lit(c, '>');
	}
	return dec_part(l, n, c, 0, out);
}

/* --- fields ----------------------------------------------------------- */

/* find_field -- the field named [k, k + len), or NULL */
static const struct field *
find_field(const char *k, size_t len)
{
	size_t	i;

	for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		if (strlen(fields[i].key) == len && memcmp(fields[i].key, k, len) == 0)
			return &fields[i];
	return NULL;
}

/* one_field -- KEY=VALUE at c; unknown keys are read and ignored */
static int
one_field(struct logline *l, size_t *n, struct cur *c)
{
	const char	 *k = c->p, *ignored;
	const struct field *f;
	const char	**slot;

	while (c->p < c->end && ((*c->p >= 'a' && *c->p <= 'z') ||
	    (*c->p >= '0' && *c->p <= '9') || *c->p == '_'))
		c->p++;
	if (c->p == k || lit(c, '=') == -1)
		return -1;
	if ((f = find_field(k, (size_t)(c->p - k - 1))) == NULL)
		return dec_part(l, n, c, 0, &ignored);
	slot = (const char **)(void *)((char *)l + f->off);
	if (*slot != NULL)
		return -1;	/* a field twice */
	return dec_value(l, n, c, f->type, slot);
}

/* qid -- "QID: " at c, a decision's start ("ref=" or "rule=" follows)? */
static int
qid(struct logline *l, size_t *n, struct cur *c)
{
	const char	*q = c->p, *colon;
	size_t		 len;

	colon = memchr(q, ':', (size_t)(c->end - q) < 65 ?
	    (size_t)(c->end - q) : 65);
	if (colon == NULL || colon == q || c->end - colon < 2 || colon[1] != ' ')
		return -1;
	if (memchr(q, ' ', (size_t)(colon - q)) != NULL)
		return -1;
	len = (size_t)(c->end - colon - 2);
	if ((len < 4 || memcmp(colon + 2, "ref=", 4) != 0) &&
	    (len < 5 || memcmp(colon + 2, "rule=", 5) != 0))
		return -1;
	c->p = q;
	if (dec_span(l, n, c, colon) == -1 || put(l, n, '\0') == -1)
		return -1;
	l->qid = l->vals;
	c->p = colon + 2;
	return 0;
}

/* reset -- forget the previous line's values */
static void
reset(struct logline *l)
{
	char	*vals = l->vals;
	size_t	 cap = l->cap;

	memset(l, 0, sizeof(*l));
	l->vals = vals;
	l->cap = cap;
}

/* logline_parse -- read one line (without its newline); see logline.h */
enum logline_kind
logline_parse(struct logline *l, const char *line, size_t len,
    struct logline_ctx *ctx)
{
	struct cur	c = { line, line + len };
	struct logline_ctx now;
	size_t		n = 0;
	const char	*p;
	int		rc;

	reset(l);
	if (ctx == NULL) {
		logline_context(&now, time(NULL));
		ctx = &now;
	}
	if (len > LOGLINE_MAX)
		return bad(l, "line too long");
	if ((rc = prefix(l, &c, ctx)) != 0)
		return rc == 1 ? LOGLINE_OTHER : bad(l, "bad timestamp");
	for (p = c.p; p < c.end; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return bad(l, "control byte in the line");
	if (qid(l, &n, &c) == -1)
		return LOGLINE_OTHER;
	while (c.p < c.end) {
		if (one_field(l, &n, &c) == -1)
			return bad(l, "bad field");
		if (c.p < c.end && (lit(&c, ' ') == -1 || c.p == c.end))
			return bad(l, "bad field separator");
	}
	if (l->rule == NULL || l->stage == NULL || l->action == NULL ||
	    l->client_name == NULL)
		return bad(l, "missing field");
	return LOGLINE_DECISION;
}
