/*
 * dnsbl -- DNS list definitions and answer classification (see dnsbl.h).
 *
 * A filter is either a range of 32-bit addresses (address, CIDR, A-B) or
 * four octet ranges (an octet pattern); both test an answer in O(1).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dnsbl.h"
#include "num.h"
#include "xalloc.h"

#define ZONE_MAX	253
#define V4(a, b, c, d)	((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | \
			 (uint32_t)(c) << 8 | (uint32_t)(d))

struct filter {
	int		 octets;	/* 0: lo..hi; 1: per-octet ranges */
	uint32_t	 lo, hi;
	uint8_t		 olo[4], ohi[4];
	char		*label;
	int		 weight;
};

struct dnsbl {
	char		*name, *zone, *public_name;
	unsigned	 timeout_ms;
	enum dnsbl_on_error on_error;
	struct filter	 f[DNSBL_ANSWERS_MAX];
	size_t		 nf;
	int64_t		 logged;	/* monotonic second of the last log line, + 1 */
};

/* dnsbl_new -- a list named name, with no zone yet */
struct dnsbl *
dnsbl_new(const char *name)
{
	struct dnsbl	*l = xcalloc(1, sizeof(*l));

	l->name = xstrdup(name);
	return l;
}

/* dnsbl_free -- free a list (NULL is fine) */
void
dnsbl_free(struct dnsbl *l)
{
	size_t	i;

	if (l == NULL)
		return;
	for (i = 0; i < l->nf; i++)
		free(l->f[i].label);
	free(l->name);
	free(l->zone);
	free(l->public_name);
	free(l);
}

/* dnsbl_set_zone -- a domain name, lower-cased, without a trailing dot; 0 or -1 */
int
dnsbl_set_zone(struct dnsbl *l, const char *zone, struct buf *err)
{
	size_t	len = strlen(zone), i, label = 0;
	char	c;

	if (len > 0 && zone[len - 1] == '.')
		len--;
	if (len == 0 || len > ZONE_MAX) {
		buf_printf(err, "a zone has 1 to %d characters", ZONE_MAX);
		return -1;
	}
	for (i = 0; i < len; i++) {
		c = zone[i];
		if (c == '.') {
			if (label == 0)
				break;
			label = 0;
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '_') || ++label > 63)
			break;
	}
	if (i < len || label == 0) {
		buf_printf(err, "bad zone '%s': labels of 1-63 letters, digits, "
		    "'-' or '_', separated by dots", zone);
		return -1;
	}
	free(l->zone);
	l->zone = xstrndup(zone, len);
	for (i = 0; i < len; i++)
		if (l->zone[i] >= 'A' && l->zone[i] <= 'Z')
			l->zone[i] = (char)(l->zone[i] + 32);
	return 0;
}

/* octet -- "N" or "[A-B]" at s (up to len); 0 or -1 */
static int
octet(const char *s, size_t len, uint8_t *lo, uint8_t *hi)
{
	const char	*dash;
	uint64_t	 a, b;

	if (len >= 2 && s[0] == '[' && s[len - 1] == ']') {
		dash = memchr(s, '-', len);
		if (dash == NULL ||
		    num_parse(s + 1, (size_t)(dash - s - 1), 0, 255, &a) == -1 ||
		    num_parse(dash + 1, (size_t)(s + len - 1 - dash - 1), 0, 255,
		    &b) == -1 || a > b)
			return -1;
	} else if (num_parse(s, len, 0, 255, &a) == 0)
		b = a;
	else
		return -1;
	*lo = (uint8_t)a;
	*hi = (uint8_t)b;
	return 0;
}

/* pattern -- four dot-separated octets or [A-B] ranges; 0 or -1 */
static int
pattern(const char *s, size_t len, struct filter *f)
{
	const char	*end = s + len, *dot;
	int		 i;

	for (i = 0; i < 4; i++) {
		dot = i < 3 ? memchr(s, '.', (size_t)(end - s)) : end;
		if (dot == NULL || octet(s, (size_t)(dot - s), &f->olo[i],
		    &f->ohi[i]) == -1)
			return -1;
		s = dot + 1;
	}
	f->octets = 1;
	return 0;
}

/* v4 -- an IPv4 address as a number; 0 or -1 */
static int
v4(const char *s, size_t len, uint32_t *out)
{
	struct ipaddr	a;

	if (ip_parse(s, len, &a) == -1 || a.family != AF_INET)
		return -1;
	*out = V4(a.b[0], a.b[1], a.b[2], a.b[3]);
	return 0;
}

/* parse_filter -- any of the four forms into f; 0 or -1 */
static int
parse_filter(const char *s, size_t len, struct filter *f)
{
	struct ipaddr	 net;
	unsigned	 plen;
	const char	*dash = memchr(s, '-', len);

	if (memchr(s, '[', len) != NULL)
		return pattern(s, len, f);
	if (dash != NULL)
		return v4(s, (size_t)(dash - s), &f->lo) == -1 ||
		    v4(dash + 1, (size_t)(s + len - dash - 1), &f->hi) == -1 ||
		    f->lo > f->hi ? -1 : 0;
	if (memchr(s, '/', len) != NULL) {
		if (ip_parse_cidr(s, len, &net, &plen) == -1 ||
		    net.family != AF_INET)
			return -1;
		f->lo = V4(net.b[0], net.b[1], net.b[2], net.b[3]);
		f->lo &= plen == 0 ? 0 : ~(uint32_t)0 << (32 - plen);
		f->hi = f->lo | (plen == 32 ? 0 : ~(uint32_t)0 >> plen);
		return 0;
	}
	if (v4(s, len, &f->lo) == -1)
		return -1;
	f->hi = f->lo;
	return 0;
}

/* in_range -- is octet x in [lo, hi]? */
static int
in_range(unsigned x, unsigned lo, unsigned hi)
{
	return x >= lo && x <= hi;
}

/* usable -- can the filter match an answer that is not an error code? */
static int
usable(const struct filter *f)
{
	uint64_t	n, bad;

	if (!f->octets)
		return (f->lo <= V4(127, 0, 0, 0) && f->hi >= V4(127, 0, 0, 0)) ||
		    (f->lo <= V4(127, 255, 254, 255) && f->hi >= V4(127, 0, 0, 2));
	if (!in_range(127, f->olo[0], f->ohi[0]))
		return 0;
	n = (uint64_t)(f->ohi[1] - f->olo[1] + 1) * (f->ohi[2] - f->olo[2] + 1) *
	    (f->ohi[3] - f->olo[3] + 1);
	bad = (uint64_t)(in_range(0, f->olo[1], f->ohi[1]) &&
	    in_range(0, f->olo[2], f->ohi[2]) && in_range(1, f->olo[3], f->ohi[3]));
	if (in_range(255, f->olo[1], f->ohi[1]) && in_range(255, f->olo[2], f->ohi[2]))
		bad += (uint64_t)(f->ohi[3] - f->olo[3] + 1);
	return n > bad;
}

/* label_ok -- [A-Za-z0-9_.-], 1..DNSBL_LABEL_MAX bytes */
static int
label_ok(const char *s)
{
	size_t	n = 0;

	for (; *s != '\0'; s++, n++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		    (*s >= '0' && *s <= '9') || *s == '_' || *s == '.' || *s == '-'))
			return 0;
	return n > 0 && n <= DNSBL_LABEL_MAX;
}

/* dnsbl_add_answer -- one `answer` line; 0 or -1 (err says why) */
int
dnsbl_add_answer(struct dnsbl *l, const char *s, size_t len, const char *label,
    int weight, struct buf *err)
{
	struct filter	f;

	memset(&f, 0, sizeof(f));
	if (l->nf >= DNSBL_ANSWERS_MAX) {
		buf_printf(err, "more than %d answer lines", DNSBL_ANSWERS_MAX);
		return -1;
	}
	if (parse_filter(s, len, &f) == -1) {
		buf_printf(err, "bad answer '%.*s': an IPv4 address, a CIDR, a "
		    "range A-B or an octet pattern such as 127.0.0.[2-11]",
		    (int)len, s);
		return -1;
	}
	if (!usable(&f)) {
		buf_printf(err, "answer %.*s can only match error codes "
		    "(127.0.0.1, 127.255.255.0/24, outside 127.0.0.0/8), which "
		    "are never listings", (int)len, s);
		return -1;
	}
	if (label != NULL && !label_ok(label)) {
		buf_printf(err, "bad label: 1-%d letters, digits, '_', '.' or '-'",
		    DNSBL_LABEL_MAX);
		return -1;
	}
	if (weight < -DNSBL_WEIGHT_MAX || weight > DNSBL_WEIGHT_MAX) {
		buf_printf(err, "a weight is from -%d to %d", DNSBL_WEIGHT_MAX,
		    DNSBL_WEIGHT_MAX);
		return -1;
	}
	f.label = label != NULL ? xstrdup(label) : NULL;
	f.weight = weight;
	l->f[l->nf++] = f;
	return 0;
}

/* setters and getters */
void
dnsbl_set_public_name(struct dnsbl *l, const char *s)
{
	free(l->public_name);
	l->public_name = xstrdup(s);
}

void
dnsbl_set_timeout(struct dnsbl *l, unsigned ms)
{
	l->timeout_ms = ms;
}

void
dnsbl_set_on_error(struct dnsbl *l, enum dnsbl_on_error e)
{
	l->on_error = e;
}

const char *
dnsbl_name(const struct dnsbl *l)
{
	return l->name;
}

const char *
dnsbl_zone(const struct dnsbl *l)
{
	return l->zone != NULL ? l->zone : "";
}

/* dnsbl_public_name -- public_name, or the zone */
const char *
dnsbl_public_name(const struct dnsbl *l)
{
	return l->public_name != NULL ? l->public_name : dnsbl_zone(l);
}

unsigned
dnsbl_timeout(const struct dnsbl *l)
{
	return l->timeout_ms;
}

enum dnsbl_on_error
dnsbl_on_error(const struct dnsbl *l)
{
	return l->on_error;
}

/* dnsbl_qname -- reversed octets or nibbles, then the zone; 0 or -1 */
int
dnsbl_qname(const struct dnsbl *l, const struct ipaddr *ip, char *out,
    size_t outlen)
{
	static const char hex[] = "0123456789abcdef";
	struct buf	b = BUF_INIT;
	int		i, rc = 0;

	if (ip->family == AF_INET)
		buf_printf(&b, "%u.%u.%u.%u.", ip->b[3], ip->b[2], ip->b[1],
		    ip->b[0]);
	else if (ip->family == AF_INET6) {
		for (i = 15; i >= 0; i--)
			buf_printf(&b, "%c.%c.", hex[ip->b[i] & 15], hex[ip->b[i] >> 4]);
	} else
		rc = -1;
	buf_puts(&b, dnsbl_zone(l));
	if (rc == 0 && b.len < outlen)
		memcpy(out, buf_str(&b), b.len + 1);
	else
		rc = -1;
	buf_free(&b);
	return rc;
}

/* is_error -- 127.255.255.0/24, 127.0.0.1 or outside 127.0.0.0/8 */
static int
is_error(const uint8_t *a)
{
	return a[0] != 127 || (a[1] == 255 && a[2] == 255) ||
	    (a[1] == 0 && a[2] == 0 && a[3] == 1);
}

/* matches -- does filter f match answer a? */
static int
matches(const struct filter *f, const uint8_t *a)
{
	uint32_t	x = V4(a[0], a[1], a[2], a[3]);
	int		i;

	if (!f->octets)
		return x >= f->lo && x <= f->hi;
	for (i = 0; i < 4; i++)
		if (!in_range(a[i], f->olo[i], f->ohi[i]))
			return 0;
	return 1;
}

/* dnsbl_evaluate -- what n A answers mean for this list */
void
dnsbl_evaluate(const struct dnsbl *l, const uint8_t (*a)[4], size_t n,
    struct dnsbl_result *r)
{
	uint8_t	hit[DNSBL_ANSWERS_MAX] = { 0 };
	size_t	i, j;
	int	any = 0;

	memset(r, 0, sizeof(*r));
	for (i = 0; i < n; i++) {
		if (is_error(a[i])) {
			r->status = DNSBL_ERROR_ANSWER;
			(void)snprintf(r->error_answer, sizeof(r->error_answer),
			    "%u.%u.%u.%u", a[i][0], a[i][1], a[i][2], a[i][3]);
			return;
		}
	}
	for (i = 0; i < n; i++) {
		if (l->nf == 0) {
			/* the classic convention: 127.0.0.2-254 is a listing */
			if (a[i][1] == 0 && a[i][2] == 0 && a[i][3] >= 2 &&
			    a[i][3] <= 254)
				any = 1;
			continue;
		}
		for (j = 0; j < l->nf && !matches(&l->f[j], a[i]); j++)
			;
		if (j < l->nf)
			hit[j] = 1;
	}
	if (l->nf == 0 && any)
		r->weight = 1;
	for (j = 0; j < l->nf; j++) {
		if (!hit[j])
			continue;
		any = 1;
		r->weight += l->f[j].weight;
		if (l->f[j].label != NULL) {
			if (r->labels[0] != '\0')
				(void)strlcat(r->labels, ",", sizeof(r->labels));
			(void)strlcat(r->labels, l->f[j].label, sizeof(r->labels));
		}
	}
	r->status = any ? DNSBL_LISTED : DNSBL_NOT_LISTED;
}

/* dnsbl_log_due -- 1 at most once a minute per list (now: monotonic seconds) */
int
dnsbl_log_due(struct dnsbl *l, int64_t now)
{
	int64_t	last = __atomic_load_n(&l->logged, __ATOMIC_RELAXED);

	if (last != 0 && now < last - 1 + 60)
		return 0;
	return __atomic_compare_exchange_n(&l->logged, &last, now + 1, 0,
	    __ATOMIC_RELAXED, __ATOMIC_RELAXED);
}
