/*
 * spf -- check_host() of RFC 7208 (see spf.h). Records are parsed by
 * spf_parse.c; this file evaluates them, expands macros and asks DNS.
 */
#include "config.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "spf.h"
#include "spf_int.h"
#include "xalloc.h"

#define NAME_MAX_LEN	253
#define EXPAND_MAX	2048	/* a macro expansion longer than this: permerror */
#define SENDER_MAX	512
#define DEPTH_MAX	(SPF_MAX_DNS_TERMS + 1)

enum match { NOMATCH, MATCH, M_TEMPERROR, M_PERMERROR };

struct ctx {
	const struct spf_resolver	*r;
	const struct spf_request	*req;
	struct spf_outcome		*out;
	int				 errset;	/* the reason holds the first error */
	char				 sender[SENDER_MAX + SPF_DOMAIN_MAX + 1];
	char				 local[SENDER_MAX];
	char				 odomain[SPF_DOMAIN_MAX];
	char				 helo[SPF_DOMAIN_MAX];
	int				 ptr_done;	/* validated names looked up */
	char				 ptr[SPF_MAX_PTR][SPF_DOMAIN_MAX];
	size_t				 nptr;
	enum spf_dns_rc			 ptr_rc;
};

static enum spf_result check_host(struct ctx *, const char *, int);

/* spf_result_name -- RFC 7208's name of a result */
const char *
spf_result_name(enum spf_result r)
{
	static const char *const names[] = { "none", "neutral", "pass",
	    "fail", "softfail", "temperror", "permerror" };

	return (unsigned)r < sizeof(names) / sizeof(names[0]) ? names[r] :
	    "permerror";
}

/* why -- set the reason: errors keep the first one, matches the last */
static void __attribute__((format(printf, 3, 4)))
why(struct ctx *c, int error, const char *fmt, ...)
{
	va_list	ap;

	if (c->errset)
		return;
	va_start(ap, fmt);
	(void)vsnprintf(c->out->reason, sizeof(c->out->reason), fmt, ap);
	va_end(ap);
	c->errset = error;
}

/* printable -- copy at most n bytes of s into dst, unprintables as '?' */
static const char *
printable(char *dst, size_t dstsz, const char *s, size_t n)
{
	size_t	i;

	if (n >= dstsz)
		n = dstsz - 1;
	for (i = 0; i < n; i++)
		dst[i] = (s[i] > 0x20 && s[i] < 0x7f) ? s[i] : '?';
	dst[n] = '\0';
	return dst;
}

/*
 * ask -- one question; a name that cannot exist (bad labels) is not asked
 * and does not exist. A raw name (expanded from a record) has its bytes
 * other than letters, digits, '-', '_' and '.' written as \DDD for the
 * resolver; a name read from an answer (MX, PTR) is in that form already.
 */
static enum spf_dns_rc
ask_name(struct ctx *c, const char *name, int raw, uint16_t type,
    struct dns_answer *a)
{
	char		 esc[DNS_NAME_TEXT_MAX];
	size_t		 i, o = 0;
	unsigned char	 ch;

	memset(a, 0, sizeof(*a));
	if (!dns_name_valid(name))
		return SPF_DNS_NXDOMAIN;
	for (i = 0; raw && name[i] != '\0' && o + 5 < sizeof(esc); i++) {
		ch = (unsigned char)name[i];
		if (isalnum(ch) || ch == '-' || ch == '_' || ch == '.')
			esc[o++] = (char)ch;
		else
			o += (size_t)snprintf(esc + o, sizeof(esc) - o, "\\%03u",
			    ch);
	}
	esc[o] = '\0';
	c->out->queries++;
	return c->r->query(c->r->arg, raw ? esc : name, type, a);
}

/* ask -- ask about a raw name */
static enum spf_dns_rc
ask(struct ctx *c, const char *name, uint16_t type, struct dns_answer *a)
{
	return ask_name(c, name, 1, type, a);
}

/* void_lookup -- count one; 0, or -1 past the limit */
static int
void_lookup(struct ctx *c)
{
	if (++c->out->voids > SPF_MAX_VOID) {
		why(c, 1, "more than %d void DNS lookups", SPF_MAX_VOID);
		return -1;
	}
	return 0;
}

/* dns_term -- count a term that asks DNS; 0, or -1 past the limit */
static int
dns_term(struct ctx *c)
{
	if (++c->out->lookups > SPF_MAX_DNS_TERMS) {
		why(c, 1, "more than %d DNS lookups", SPF_MAX_DNS_TERMS);
		return -1;
	}
	return 0;
}

/* ip_text -- %{i}: dotted quad, or 32 dot-separated nibbles */
static void
ip_text(const struct ipaddr *ip, char *dst, size_t dstsz)
{
	static const char	 hex[] = "0123456789abcdef";
	size_t			 i, o = 0;

	if (ip->family == AF_INET) {
		(void)snprintf(dst, dstsz, "%u.%u.%u.%u", ip->b[0], ip->b[1],
		    ip->b[2], ip->b[3]);
		return;
	}
	for (i = 0; i < 16 && o + 4 < dstsz; i++) {
		dst[o++] = hex[ip->b[i] >> 4];
		dst[o++] = '.';
		dst[o++] = hex[ip->b[i] & 15];
		dst[o++] = '.';
	}
	dst[o > 0 ? o - 1 : 0] = '\0';
}

/* reverse_name -- the PTR question for the client */
static void
reverse_name(const struct ipaddr *ip, char *dst, size_t dstsz)
{
	static const char	 hex[] = "0123456789abcdef";
	size_t			 o = 0;
	int			 i;

	if (ip->family == AF_INET) {
		(void)snprintf(dst, dstsz, "%u.%u.%u.%u.in-addr.arpa",
		    ip->b[3], ip->b[2], ip->b[1], ip->b[0]);
		return;
	}
	for (i = 15; i >= 0 && o + 4 < dstsz; i--) {
		dst[o++] = hex[ip->b[i] & 15];
		dst[o++] = '.';
		dst[o++] = hex[ip->b[i] >> 4];
		dst[o++] = '.';
	}
	dst[o] = '\0';
	(void)strlcat(dst, "ip6.arpa", dstsz);
}

/* addr_match -- does an address record of a hold the client within c4/c6? */
static int
addr_match(struct ctx *c, const struct dns_answer *a, int c4, int c6)
{
	struct ipaddr	net;
	size_t		i;
	unsigned	len;

	for (i = 0; i < a->nrr; i++) {
		memset(&net, 0, sizeof(net));
		if (a->rr[i].type == DNS_T_A && c->req->ip.family == AF_INET) {
			net.family = AF_INET;
			memcpy(net.b, a->rr[i].addr, 4);
			len = c4 < 0 ? 32 : (unsigned)c4;
		} else if (a->rr[i].type == DNS_T_AAAA &&
		    c->req->ip.family == AF_INET6) {
			net.family = AF_INET6;
			memcpy(net.b, a->rr[i].addr, 16);
			len = c6 < 0 ? 128 : (unsigned)c6;
		} else
			continue;
		ip_mask(&net, len);
		if (ip_in_net(&c->req->ip, &net, len))
			return 1;
	}
	return 0;
}

/* addr_type -- the address record type that can hold the client */
static uint16_t
addr_type(const struct ctx *c)
{
	return c->req->ip.family == AF_INET ? DNS_T_A : DNS_T_AAAA;
}

/* subdomain_of -- is name target, or under it? (case-insensitive) */
static int
subdomain_of(const char *name, const char *target)
{
	size_t	n = strlen(name), t = strlen(target);

	if (t > 0 && target[t - 1] == '.')
		t--;
	if (n > 0 && name[n - 1] == '.')
		n--;
	if (n == t)
		return strncasecmp(name, target, n) == 0;
	return n > t && name[n - t - 1] == '.' &&
	    strncasecmp(name + n - t, target, t) == 0;
}

/*
 * ptr_names -- the client's validated names (RFC 7208 5.5): the first
 * SPF_MAX_PTR PTR names whose addresses hold the client. Asked once.
 */
static void
ptr_names(struct ctx *c)
{
	struct dns_answer	 ptr, a;
	char			 rev[DNS_NAME_TEXT_MAX];
	size_t			 i, asked = 0;

	if (c->ptr_done)
		return;
	c->ptr_done = 1;
	reverse_name(&c->req->ip, rev, sizeof(rev));
	c->ptr_rc = ask(c, rev, DNS_T_PTR, &ptr);
	if (c->ptr_rc != SPF_DNS_OK) {
		dns_answer_free(&ptr);
		return;
	}
	for (i = 0; i < ptr.nrr && asked < SPF_MAX_PTR; i++) {
		if (ptr.rr[i].type != DNS_T_PTR || ptr.rr[i].text == NULL)
			continue;
		asked++;
		if (ask_name(c, ptr.rr[i].text, 0, addr_type(c), &a) ==
		    SPF_DNS_OK &&
		    addr_match(c, &a, -1, -1) &&
		    strlen(ptr.rr[i].text) < SPF_DOMAIN_MAX)
			(void)strlcpy(c->ptr[c->nptr++], ptr.rr[i].text,
			    SPF_DOMAIN_MAX);
		dns_answer_free(&a);
	}
	if (ptr.nrr == 0)
		c->ptr_rc = SPF_DNS_NXDOMAIN;	/* void */
	dns_answer_free(&ptr);
}

/* p_value -- %{p}: a validated name, under domain if one is */
static const char *
p_value(struct ctx *c, const char *domain)
{
	size_t	i;

	ptr_names(c);
	for (i = 0; i < c->nptr; i++)
		if (subdomain_of(c->ptr[i], domain))
			return c->ptr[i];
	return c->nptr > 0 ? c->ptr[0] : "unknown";
}

/* put -- append n bytes; -1 when out is full */
static int
put(char *out, size_t outsz, size_t *o, const char *s, size_t n)
{
	if (*o + n >= outsz)
		return -1;
	memcpy(out + *o, s, n);
	*o += n;
	out[*o] = '\0';
	return 0;
}

/*
 * transform -- split val on delims, reverse if asked, keep the rightmost
 * keep parts (0: all), join with '.', URL-escape if upper
 */
static int
transform(const char *val, const char *delims, unsigned keep, int rev,
    int upper, char *out, size_t outsz, size_t *o)
{
	size_t		 n = strlen(val), nparts = 1, i, k, first, *start, *len;
	char		 esc[4];
	int		 rc = 0;

	for (i = 0; i < n; i++)
		if (strchr(delims, val[i]) != NULL)
			nparts++;
	start = xcalloc(nparts, sizeof(*start));
	len = xcalloc(nparts, sizeof(*len));
	for (i = 0, k = 0; i <= n; i++)
		if (i == n || strchr(delims, val[i]) != NULL) {
			len[k] = i - start[k];
			if (++k < nparts)
				start[k] = i + 1;
		}
	first = (keep > 0 && keep < nparts) ? nparts - keep : 0;
	for (k = first; k < nparts && rc == 0; k++) {
		i = rev ? nparts - 1 - k : k;
		if (k > first)
			rc = put(out, outsz, o, ".", 1);
		if (!upper) {
			if (rc == 0)
				rc = put(out, outsz, o, val + start[i], len[i]);
			continue;
		}
		for (n = 0; n < len[i] && rc == 0; n++) {
			unsigned char ch = (unsigned char)val[start[i] + n];

			if (isalnum(ch) || strchr("-._~", ch) != NULL)
				rc = put(out, outsz, o, (const char *)&ch, 1);
			else {
				(void)snprintf(esc, sizeof(esc), "%%%02X", ch);
				rc = put(out, outsz, o, esc, 3);
			}
		}
	}
	free(start);
	free(len);
	return rc;
}

/* expand -- expand a checked macro-string; 0, or -1 when too long */
static int
expand(struct ctx *c, const char *s, size_t n, const char *domain,
    char *out, size_t outsz)
{
	char		 ipt[80], delims[8];
	const char	*val;
	size_t		 i = 0, o = 0, nd;
	unsigned	 keep;
	int		 rev, upper;

	out[0] = '\0';
	while (i < n) {
		if (s[i] != '%') {
			if (put(out, outsz, &o, s + i++, 1) == -1)
				return -1;
			continue;
		}
		if (s[i + 1] == '%' || s[i + 1] == '_' || s[i + 1] == '-') {
			val = s[i + 1] == '%' ? "%" : s[i + 1] == '_' ? " " : "%20";
			if (put(out, outsz, &o, val, strlen(val)) == -1)
				return -1;
			i += 2;
			continue;
		}
		/* "%{" letter *DIGIT ["r"] *delimiter "}", checked by the parser */
		upper = isupper((unsigned char)s[i + 2]);
		switch (tolower((unsigned char)s[i + 2])) {
		case 's': val = c->sender; break;
		case 'l': val = c->local; break;
		case 'o': val = c->odomain; break;
		case 'd': val = domain; break;
		case 'i': ip_text(&c->req->ip, ipt, sizeof(ipt)); val = ipt; break;
		case 'p': val = p_value(c, domain); break;
		case 'v': val = c->req->ip.family == AF_INET ? "in-addr" : "ip6";
			break;
		case 'h': val = c->helo; break;
		default: val = ""; break;	/* c r t: exp only, never here */
		}
		i += 3;
		for (keep = 0; isdigit((unsigned char)s[i]); i++)
			if (keep < 1000)
				keep = keep * 10 + (unsigned)(s[i] - '0');
		rev = 0;
		if (s[i] == 'r' || s[i] == 'R') {
			rev = 1;
			i++;
		}
		delims[0] = '\0';
		for (nd = 0; s[i] != '}'; i++)
			if (nd + 1 < sizeof(delims) && strchr(delims, s[i]) == NULL) {
				delims[nd++] = s[i];
				delims[nd] = '\0';
			}
		i++;
		if (nd == 0)
			(void)strlcpy(delims, ".", sizeof(delims));
		delims[nd == 0 ? 1 : nd] = '\0';
		if (transform(val, delims, keep, rev, upper, out, outsz, &o) == -1)
			return -1;
	}
	return 0;
}

/*
 * target -- the name a term asks about: its domain-spec expanded (the
 * leftmost labels dropped while longer than 253 octets, a final dot
 * dropped), or the current domain. 0, or -1 (permerror).
 */
static int
target(struct ctx *c, const char *spec, size_t n, const char *domain,
    char *out, size_t outsz)
{
	char	*p, *dot;
	size_t	 len;

	if (spec == NULL) {
		(void)strlcpy(out, domain, outsz);
		return 0;
	}
	if (expand(c, spec, n, domain, out, outsz) == -1) {
		why(c, 1, "macro expansion too long");
		return -1;
	}
	len = strlen(out);
	if (len > 0 && out[len - 1] == '.')
		out[--len] = '\0';
	for (p = out; len > NAME_MAX_LEN && (dot = strchr(p, '.')) != NULL;) {
		len -= (size_t)(dot + 1 - p);
		p = dot + 1;
	}
	if (p != out)
		memmove(out, p, len + 1);
	return 0;
}

/*
 * mech_addr -- "a" and, for each MX host (a name from an answer, whose
 * void lookups do not count), the address test of "mx"
 */
static enum match
mech_addr(struct ctx *c, const char *name, int c4, int c6, int mx_host)
{
	struct dns_answer	a;
	enum spf_dns_rc		rc;
	int			hit;

	rc = ask_name(c, name, !mx_host, addr_type(c), &a);
	if (rc == SPF_DNS_TEMP) {
		why(c, 1, "DNS error looking up %s", name);
		return M_TEMPERROR;
	}
	if (rc == SPF_DNS_NXDOMAIN || a.nrr == 0) {
		dns_answer_free(&a);
		if (!mx_host && void_lookup(c) == -1)
			return M_PERMERROR;
		return NOMATCH;
	}
	hit = addr_match(c, &a, c4, c6);
	dns_answer_free(&a);
	return hit ? MATCH : NOMATCH;
}

/* mech_mx -- RFC 7208 5.4 */
static enum match
mech_mx(struct ctx *c, const char *name, int c4, int c6)
{
	struct dns_answer	mx;
	enum spf_dns_rc		rc;
	enum match		m = NOMATCH;
	size_t			i;

	rc = ask(c, name, DNS_T_MX, &mx);
	if (rc == SPF_DNS_TEMP) {
		why(c, 1, "DNS error looking up MX of %s", name);
		return M_TEMPERROR;
	}
	if (rc == SPF_DNS_NXDOMAIN || mx.nrr == 0) {
		dns_answer_free(&mx);
		return void_lookup(c) == -1 ? M_PERMERROR : NOMATCH;
	}
	if (mx.nrr > SPF_MAX_MX) {
		why(c, 1, "%s has more than %d MX records", name, SPF_MAX_MX);
		dns_answer_free(&mx);
		return M_PERMERROR;
	}
	for (i = 0; i < mx.nrr && m == NOMATCH; i++)
		if (mx.rr[i].text != NULL && strcmp(mx.rr[i].text, ".") != 0)
			m = mech_addr(c, mx.rr[i].text, c4, c6, 1);
	dns_answer_free(&mx);
	return m;
}

/* mech_exists -- RFC 7208 5.7: any A record */
static enum match
mech_exists(struct ctx *c, const char *name)
{
	struct dns_answer	a;
	enum spf_dns_rc		rc;
	int			hit;

	rc = ask(c, name, DNS_T_A, &a);
	if (rc == SPF_DNS_TEMP) {
		why(c, 1, "DNS error looking up %s", name);
		return M_TEMPERROR;
	}
	hit = rc == SPF_DNS_OK && a.nrr > 0;
	dns_answer_free(&a);
	if (!hit && void_lookup(c) == -1)
		return M_PERMERROR;
	return hit ? MATCH : NOMATCH;
}

/* mech_ptr -- RFC 7208 5.5: a validated name at or under the target */
static enum match
mech_ptr(struct ctx *c, const char *name)
{
	size_t	i;
	int	first = !c->ptr_done;

	ptr_names(c);
	if (first && c->ptr_rc == SPF_DNS_NXDOMAIN && void_lookup(c) == -1)
		return M_PERMERROR;
	for (i = 0; i < c->nptr; i++)
		if (subdomain_of(c->ptr[i], name))
			return MATCH;
	return NOMATCH;
}

/* mech_include -- RFC 7208 5.2 */
static enum match
mech_include(struct ctx *c, const char *name, int depth)
{
	switch (check_host(c, name, depth + 1)) {
	case SPF_PASS:
		return MATCH;
	case SPF_FAIL:
	case SPF_SOFTFAIL:
	case SPF_NEUTRAL:
		return NOMATCH;
	case SPF_TEMPERROR:
		return M_TEMPERROR;
	case SPF_NONE:
		why(c, 1, "include:%s has no SPF record", name);
		return M_PERMERROR;
	default:
		return M_PERMERROR;
	}
}

/* evaluate -- one directive */
static enum match
evaluate(struct ctx *c, const struct spf_term *t, const char *domain,
    int depth)
{
	char		name[EXPAND_MAX];
	struct ipaddr	net;
	unsigned	len;

	switch (t->mech) {
	case MECH_ALL:
		return MATCH;
	case MECH_IP4:
	case MECH_IP6:
		net = t->net;
		len = t->mech == MECH_IP4 ? (t->cidr4 < 0 ? 32 : (unsigned)t->cidr4) :
		    (t->cidr6 < 0 ? 128 : (unsigned)t->cidr6);
		ip_mask(&net, len);
		return ip_in_net(&c->req->ip, &net, len) ? MATCH : NOMATCH;
	default:
		break;
	}
	if (dns_term(c) == -1)
		return M_PERMERROR;
	if (target(c, t->spec, t->speclen, domain, name, sizeof(name)) == -1)
		return M_PERMERROR;
	switch (t->mech) {
	case MECH_A:
		return mech_addr(c, name, t->cidr4, t->cidr6, 0);
	case MECH_MX:
		return mech_mx(c, name, t->cidr4, t->cidr6);
	case MECH_PTR:
		return mech_ptr(c, name);
	case MECH_EXISTS:
		return mech_exists(c, name);
	case MECH_INCLUDE:
		return mech_include(c, name, depth);
	default:
		return M_PERMERROR;
	}
}

/* fetch -- the one SPF record of domain; SPF_PASS when found (in rec) */
static enum spf_result
fetch(struct ctx *c, const char *domain, struct spf_record *rec)
{
	struct dns_answer	 a;
	enum spf_dns_rc		 rc;
	const struct dns_rr	*found = NULL;
	char			 err[SPF_REASON_MAX - 64], dom[64];
	size_t			 i, n = 0;

	rc = ask(c, domain, DNS_T_TXT, &a);
	if (rc == SPF_DNS_TEMP) {
		why(c, 1, "DNS error looking up TXT of %s", domain);
		return SPF_TEMPERROR;
	}
	for (i = 0; rc == SPF_DNS_OK && i < a.nrr; i++) {
		const struct dns_rr *rr = &a.rr[i];

		if (rr->type == DNS_T_TXT && rr->textlen >= 6 &&
		    strncasecmp(rr->text, "v=spf1", 6) == 0 &&
		    (rr->textlen == 6 || rr->text[6] == ' ')) {
			found = rr;
			n++;
		}
	}
	if (n == 0) {
		dns_answer_free(&a);
		return SPF_NONE;
	}
	if (n > 1) {
		why(c, 1, "%s has %zu SPF records", domain, n);
		dns_answer_free(&a);
		return SPF_PERMERROR;
	}
	if (found->text_cut) {
		why(c, 1, "the SPF record of %s is too long", domain);
		dns_answer_free(&a);
		return SPF_PERMERROR;
	}
	if (spf_parse(rec, found->text, found->textlen, err, sizeof(err)) == -1) {
		why(c, 1, "SPF record of %s: %s",
		    printable(dom, sizeof(dom), domain, strlen(domain)), err);
		dns_answer_free(&a);
		return SPF_PERMERROR;
	}
	dns_answer_free(&a);
	return SPF_PASS;
}

/* qualified -- the result a matching directive gives */
static enum spf_result
qualified(char q)
{
	switch (q) {
	case '-': return SPF_FAIL;
	case '~': return SPF_SOFTFAIL;
	case '?': return SPF_NEUTRAL;
	default: return SPF_PASS;
	}
}

/* check_host -- RFC 7208 section 4 for one domain */
static enum spf_result
check_host(struct ctx *c, const char *domain, int depth)
{
	struct spf_record	*rec;
	enum spf_result		 res;
	char			 name[EXPAND_MAX], term[64];
	size_t			 i;

	if (depth > DEPTH_MAX) {
		why(c, 1, "includes nested too deep");
		return SPF_PERMERROR;
	}
	rec = xmalloc(sizeof(*rec));
	if ((res = fetch(c, domain, rec)) != SPF_PASS) {
		if (res == SPF_NONE && depth == 0)
			why(c, 0, "%s publishes no SPF record", domain);
		free(rec);
		return res;
	}
	for (i = 0; i < rec->n; i++) {
		const struct spf_term *t = &rec->t[i];

		switch (evaluate(c, t, domain, depth)) {
		case MATCH:
			res = qualified(t->qual);
			why(c, 0, "%s matched %s", domain, printable(term,
			    sizeof(term), t->text, t->textlen));
			free(rec);
			return res;
		case M_TEMPERROR:
			free(rec);
			return SPF_TEMPERROR;
		case M_PERMERROR:
			free(rec);
			return SPF_PERMERROR;
		case NOMATCH:
			break;
		}
	}
	if (rec->redirect != NULL && !rec->has_all) {
		if (dns_term(c) == -1 || target(c, rec->redirect, rec->redirlen,
		    domain, name, sizeof(name)) == -1) {
			free(rec);
			return SPF_PERMERROR;
		}
		free(rec);
		res = check_host(c, name, depth + 1);
		if (res == SPF_NONE) {
			why(c, 1, "redirect=%s has no SPF record", name);
			return SPF_PERMERROR;
		}
		return res;
	}
	free(rec);
	why(c, 0, "no term of %s's SPF record matched", domain);
	return SPF_NEUTRAL;
}

/*
 * identity_ok -- a domain check_host() can start from (RFC 7208 4.3):
 * a valid name of two labels or more, not a domain literal
 */
static int
identity_ok(const char *d)
{
	return d[0] != '[' && dns_name_valid(d) && strchr(d, '.') != NULL &&
	    strchr(d, '.') != d + strlen(d) - 1;
}

/* too_long -- a sender (or its domain) longer than any real one */
static int
too_long(const char *sender)
{
	const char	*at = strrchr(sender, '@');

	return strlen(sender) >= SENDER_MAX ||
	    strlen(at != NULL ? at + 1 : sender) >= SPF_DOMAIN_MAX;
}

/* spf_check -- the SPF result of a request (see spf.h) */
void
spf_check(const struct spf_resolver *r, const struct spf_request *req,
    struct spf_outcome *out)
{
	struct ctx	*c;
	const char	*at;
	size_t		 len;

	memset(out, 0, sizeof(*out));
	c = xcalloc(1, sizeof(*c));
	c->r = r;
	c->req = req;
	c->out = out;
	/* a name too long to be one is never cut into another one */
	if (req->helo != NULL && strlen(req->helo) < sizeof(c->helo))
		(void)strlcpy(c->helo, req->helo, sizeof(c->helo));
	if (req->sender == NULL || req->sender[0] == '\0') {
		out->helo_identity = 1;
		(void)strlcpy(c->local, "postmaster", sizeof(c->local));
		(void)strlcpy(c->odomain, c->helo, sizeof(c->odomain));
	} else if (too_long(req->sender)) {
		out->result = SPF_NONE;
		(void)strlcpy(out->reason, "sender address too long",
		    sizeof(out->reason));
		free(c);
		return;
	} else if ((at = strrchr(req->sender, '@')) == NULL) {
		(void)strlcpy(c->local, "postmaster", sizeof(c->local));
		(void)strlcpy(c->odomain, req->sender, sizeof(c->odomain));
	} else {
		len = (size_t)(at - req->sender);
		if (len == 0)
			(void)strlcpy(c->local, "postmaster", sizeof(c->local));
		else {
			memcpy(c->local, req->sender, len);
			c->local[len] = '\0';
		}
		(void)strlcpy(c->odomain, at + 1, sizeof(c->odomain));
	}
	len = strlen(c->odomain);
	if (len > 0 && c->odomain[len - 1] == '.')
		c->odomain[len - 1] = '\0';
	(void)snprintf(c->sender, sizeof(c->sender), "%s@%s", c->local,
	    c->odomain);
	(void)strlcpy(out->domain, c->odomain, sizeof(out->domain));
	if (!identity_ok(c->odomain)) {
		out->result = SPF_NONE;
		(void)strlcpy(out->reason, "no valid domain to check",
		    sizeof(out->reason));
	} else
		out->result = check_host(c, c->odomain, 0);
	free(c);
}
