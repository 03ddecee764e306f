/*
 * spf_parse -- SPF records read strictly against RFC 7208's ABNF
 * (section 12): a record is parsed whole before any of it is evaluated,
 * so an error anywhere is a permerror, whatever comes first.
 */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "spf.h"
#include "spf_int.h"

#define MACRO_LETTERS_DOMAIN	"slodiphv"
#define MACRO_LETTERS_ANY	"slodiphvcrt"
#define MACRO_DELIMS		".-+,/_="

static const struct {
	const char	*name;
	enum spf_mech	 mech;
} mechs[] = {
	{ "all", MECH_ALL }, { "include", MECH_INCLUDE }, { "a", MECH_A },
	{ "mx", MECH_MX }, { "ptr", MECH_PTR }, { "ip4", MECH_IP4 },
	{ "ip6", MECH_IP6 }, { "exists", MECH_EXISTS }
};

/* fail -- write "what near 'term'" (printable only) and return -1 */
static int
fail(char *err, size_t errsz, const char *what, const char *t, size_t n)
{
	char	near[48];
	size_t	i;

	if (n >= sizeof(near))
		n = sizeof(near) - 1;
	for (i = 0; i < n; i++)
		near[i] = (t[i] > 0x20 && t[i] < 0x7f) ? t[i] : '?';
	near[n] = '\0';
	(void)snprintf(err, errsz, "%s near '%s'", what, near);
	return -1;
}

/*
 * macro_expand_len -- length of the macro-expand at s (which starts with
 * '%'), or 0 when it is not one: "%%", "%_", "%-" or
 * "%{" letter *DIGIT ["r"] *delimiter "}" (a DIGIT value of 0 is invalid)
 */
static size_t
macro_expand_len(const char *s, size_t n, int ctx)
{
	const char	*letters;
	size_t		 i, digits = 0;
	unsigned	 v = 0;

	if (n < 2)
		return 0;
	if (s[1] == '%' || s[1] == '_' || s[1] == '-')
		return 2;
	if (s[1] != '{' || n < 4)
		return 0;
	letters = ctx == MACRO_DOMAIN ? MACRO_LETTERS_DOMAIN : MACRO_LETTERS_ANY;
	if (s[2] == '\0' || strchr(letters, tolower((unsigned char)s[2])) == NULL)
		return 0;
	for (i = 3; i < n && isdigit((unsigned char)s[i]); i++) {
		digits++;
		if (v < 1000)
			v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (digits > 0 && v == 0)
		return 0;
	if (i < n && (s[i] == 'r' || s[i] == 'R'))
		i++;
	while (i < n && s[i] != '\0' && strchr(MACRO_DELIMS, s[i]) != NULL)
		i++;
	if (i >= n || s[i] != '}')
		return 0;
	return i + 1;
}

/*
 * macro_scan -- is s a macro-string? *lit gets the offset just after the
 * last macro-expand (0 if none), *endmacro whether s ends with one
 */
static int
macro_scan(const char *s, size_t n, int ctx, size_t *lit, int *endmacro)
{
	size_t	i = 0, m;

	*lit = 0;
	*endmacro = 0;
	while (i < n) {
		if (s[i] == '%') {
			if ((m = macro_expand_len(s + i, n - i, ctx)) == 0)
				return 0;
			i += m;
			*lit = i;
			*endmacro = (i == n);
		} else if (s[i] >= 0x21 && s[i] <= 0x7e)
			i++;
		else
			return 0;
	}
	return 1;
}

/* spf_macro_ok -- is s (n bytes) a macro-string in context ctx? */
int
spf_macro_ok(const char *s, size_t n, int ctx)
{
	size_t	lit;
	int	endmacro;

	return macro_scan(s, n, ctx, &lit, &endmacro);
}

/*
 * toplabel_ok -- ( *alphanum ALPHA *alphanum ) /
 * ( 1*alphanum "-" *( alphanum / "-" ) alphanum )
 */
static int
toplabel_ok(const char *s, size_t n)
{
	size_t	i;
	int	alpha = 0, hyphen = 0;

	if (n == 0 || !isalnum((unsigned char)s[0]) ||
	    !isalnum((unsigned char)s[n - 1]))
		return 0;
	for (i = 0; i < n; i++) {
		if (isalpha((unsigned char)s[i]))
			alpha = 1;
		else if (s[i] == '-')
			hyphen = 1;
		else if (!isdigit((unsigned char)s[i]))
			return 0;
	}
	return alpha || hyphen;
}

/*
 * spf_domain_spec_ok -- domain-spec = macro-string domain-end;
 * domain-end = ( "." toplabel [ "." ] ) / macro-expand
 */
int
spf_domain_spec_ok(const char *s, size_t n)
{
	size_t	lit, end, dot;
	int	endmacro;

	if (n == 0 || !macro_scan(s, n, MACRO_DOMAIN, &lit, &endmacro))
		return 0;
	if (endmacro)
		return 1;
	end = n;
	if (s[end - 1] == '.')
		end--;
	for (dot = end; dot > lit && s[dot - 1] != '.'; dot--)
		;
	if (dot <= lit)		/* no literal "." before the toplabel */
		return 0;
	return toplabel_ok(s + dot, end - dot);
}

/* cidr -- "0" / %x31-39 *DIGIT, at most max; -1 when malformed */
static int
cidr(const char *s, size_t n, int max)
{
	size_t	i;
	int	v = 0;

	if (n == 0 || n > 3 || (s[0] == '0' && n > 1))
		return -1;
	for (i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v <= max ? v : -1;
}

/* ip4_ok -- a dotted quad of qnums (no leading zeros, 0-255) */
static int
ip4_ok(const char *s, size_t n, struct ipaddr *ip)
{
	size_t	i = 0, start;
	int	part, v;

	memset(ip, 0, sizeof(*ip));
	ip->family = AF_INET;
	for (part = 0; part < 4; part++) {
		if (part > 0) {
			if (i >= n || s[i] != '.')
				return 0;
			i++;
		}
		start = i;
		while (i < n && isdigit((unsigned char)s[i]) && i - start < 4)
			i++;
		if ((v = cidr(s + start, i - start, 255)) < 0)
			return 0;
		ip->b[part] = (uint8_t)v;
	}
	return i == n;
}

/* ip6_ok -- an IPv6 address as RFC 4291 writes it */
static int
ip6_ok(const char *s, size_t n, struct ipaddr *ip)
{
	char	tmp[INET6_ADDRSTRLEN + 1];
	size_t	i;

	if (n == 0 || n >= sizeof(tmp))
		return 0;
	for (i = 0; i < n; i++)
		if (!isxdigit((unsigned char)s[i]) && s[i] != ':' && s[i] != '.')
			return 0;
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	memset(ip, 0, sizeof(*ip));
	ip->family = AF_INET6;
	return inet_pton(AF_INET6, tmp, ip->b) == 1;
}

/*
 * dual_cidr -- [ "/" ip4-cidr ] [ "//" ip6-cidr ] at s (which starts with
 * '/'); 0 or -1
 */
static int
dual_cidr(const char *s, size_t n, int *c4, int *c6)
{
	const char	*dd;

	*c4 = *c6 = -1;
	if (n >= 2 && s[0] == '/' && s[1] == '/')
		return (*c6 = cidr(s + 2, n - 2, 128)) < 0 ? -1 : 0;
	dd = memchr(s + 1, '/', n - 1);
	if (dd == NULL)
		return (*c4 = cidr(s + 1, n - 1, 32)) < 0 ? -1 : 0;
	if ((*c4 = cidr(s + 1, (size_t)(dd - s) - 1, 32)) < 0)
		return -1;
	n -= (size_t)(dd - s);
	s = dd;
	if (n < 2 || s[1] != '/')
		return -1;
	return (*c6 = cidr(s + 2, n - 2, 128)) < 0 ? -1 : 0;
}

/*
 * cidr_start -- where a dual-cidr-length ends the argument of "a" or
 * "mx" ("/N", "//N" or "/N//M" at its very end), or n: a domain-spec may
 * hold '/' itself ("a:foo:bar/baz.example.com")
 */
static size_t
cidr_start(const char *s, size_t n)
{
	size_t	i = n, d;

	while (i > 0 && isdigit((unsigned char)s[i - 1]))
		i--;
	if (i == n || i == 0 || s[i - 1] != '/')
		return n;
	i--;
	if (i == 0 || s[i - 1] != '/')
		return i;
	i--;			/* "//N": an IPv4 length may come first */
	for (d = i; d > 0 && isdigit((unsigned char)s[d - 1]); d--)
		;
	return (d < i && d > 0 && s[d - 1] == '/') ? d - 1 : i;
}

/* directive -- [qualifier] mechanism; 0 or -1 with err */
static int
directive(struct spf_term *t, const char *s, size_t n, char *err,
    size_t errsz)
{
	const char	*p = s, *arg, *slash;
	size_t		 i, len, nl, arglen;

	t->qual = '+';
	if (n > 0 && strchr("+-~?", *p) != NULL) {
		t->qual = *p++;
		n--;
	}
	for (nl = 0; nl < n && p[nl] != ':' && p[nl] != '/'; nl++)
		;
	for (i = 0; i < sizeof(mechs) / sizeof(mechs[0]); i++)
		if (strlen(mechs[i].name) == nl &&
		    strncasecmp(mechs[i].name, p, nl) == 0)
			break;
	if (i == sizeof(mechs) / sizeof(mechs[0]))
		return fail(err, errsz, "unknown mechanism", s, n + (p - s));
	t->mech = mechs[i].mech;
	t->cidr4 = t->cidr6 = -1;
	arg = p + nl;
	arglen = n - nl;
	switch (t->mech) {
	case MECH_ALL:
		if (arglen != 0)
			return fail(err, errsz, "\"all\" takes nothing", s, n);
		return 0;
	case MECH_INCLUDE:
	case MECH_EXISTS:
		if (arglen == 0 || *arg != ':')
			return fail(err, errsz, "domain required", s, n);
		t->spec = arg + 1;
		t->speclen = arglen - 1;
		break;
	case MECH_A:
	case MECH_MX:
	case MECH_PTR:
		slash = NULL;
		if (t->mech != MECH_PTR && (len = cidr_start(arg, arglen)) <
		    arglen)
			slash = arg + len;
		len = slash != NULL ? (size_t)(slash - arg) : arglen;
		if (len > 0) {
			if (*arg != ':')
				return fail(err, errsz, "bad mechanism", s, n);
			t->spec = arg + 1;
			t->speclen = len - 1;
		}
		if (slash != NULL && dual_cidr(slash, arglen - len, &t->cidr4,
		    &t->cidr6) == -1)
			return fail(err, errsz, "bad CIDR length", s, n);
		break;
	case MECH_IP4:
	case MECH_IP6:
		if (arglen == 0 || *arg != ':')
			return fail(err, errsz, "address required", s, n);
		arg++;
		arglen--;
		slash = memchr(arg, '/', arglen);
		len = slash != NULL ? (size_t)(slash - arg) : arglen;
		if (t->mech == MECH_IP4 ? !ip4_ok(arg, len, &t->net) :
		    !ip6_ok(arg, len, &t->net))
			return fail(err, errsz, "bad address", s, n);
		if (slash != NULL) {
			if (t->mech == MECH_IP4)
				t->cidr4 = cidr(slash + 1, arglen - len - 1, 32);
			else
				t->cidr6 = cidr(slash + 1, arglen - len - 1, 128);
			if (t->cidr4 < 0 && t->cidr6 < 0)
				return fail(err, errsz, "bad CIDR length", s, n);
		}
		return 0;
	}
	if (t->spec != NULL && !spf_domain_spec_ok(t->spec, t->speclen))
		return fail(err, errsz, "bad domain-spec", s, n);
	return 0;
}

/*
 * modifier -- name "=" value at s, when s starts with one: 1 (handled),
 * 0 (not a modifier), -1 (error)
 */
static int
modifier(struct spf_record *r, const char *s, size_t n, int *seen_exp,
    char *err, size_t errsz)
{
	const char	*v;
	size_t		 nl, vl;

	if (n == 0 || !isalpha((unsigned char)s[0]))
		return 0;
	for (nl = 1; nl < n && (isalnum((unsigned char)s[nl]) ||
	    s[nl] == '-' || s[nl] == '_' || s[nl] == '.'); nl++)
		;
	if (nl == n || s[nl] != '=')
		return 0;
	v = s + nl + 1;
	vl = n - nl - 1;
	if (nl == 8 && strncasecmp(s, "redirect", 8) == 0) {
		if (r->redirect != NULL)
			return fail(err, errsz, "second redirect=", s, n);
		if (!spf_domain_spec_ok(v, vl))
			return fail(err, errsz, "bad domain-spec", s, n);
		r->redirect = v;
		r->redirlen = vl;
		return 1;
	}
	if (nl == 3 && strncasecmp(s, "exp", 3) == 0) {
		/* checked, never fetched */
		if (*seen_exp)
			return fail(err, errsz, "second exp=", s, n);
		*seen_exp = 1;
		if (!spf_domain_spec_ok(v, vl))
			return fail(err, errsz, "bad domain-spec", s, n);
		return 1;
	}
	if (!spf_macro_ok(v, vl, MACRO_ANY))
		return fail(err, errsz, "bad macro-string", s, n);
	return 1;
}

/*
 * spf_parse -- parse text (len bytes, which start "v=spf1") into r;
 * 0, or -1 with a reason in err
 */
int
spf_parse(struct spf_record *r, const char *text, size_t len, char *err,
    size_t errsz)
{
	const char	*p, *end, *tok;
	size_t		 i;
	int		 seen_exp = 0, rc;

	r->n = 0;
	r->redirect = NULL;
	r->has_all = 0;
	if (len > DNS_TXT_MAX)
		return fail(err, errsz, "record too long", text, 6);
	for (i = 0; i < len; i++)
		if ((unsigned char)text[i] < 0x20 || (unsigned char)text[i] > 0x7e)
			return fail(err, errsz, "not printable ASCII", text + i,
			    len - i);
	memcpy(r->text, text, len);
	r->text[len] = '\0';
	r->len = len;
	p = r->text + 6;	/* after "v=spf1", which the caller matched */
	end = r->text + len;
	while (p < end) {
		while (p < end && *p == ' ')
			p++;
		if (p == end)
			break;
		tok = p;
		while (p < end && *p != ' ')
			p++;
		if ((rc = modifier(r, tok, (size_t)(p - tok), &seen_exp, err,
		    errsz)) == -1)
			return -1;
		if (rc == 1)
			continue;
		if (r->n == SPF_MAX_TERMS)
			return fail(err, errsz, "too many terms", tok, 8);
		memset(&r->t[r->n], 0, sizeof(r->t[0]));
		if (directive(&r->t[r->n], tok, (size_t)(p - tok), err,
		    errsz) == -1)
			return -1;
		r->t[r->n].text = tok;
		r->t[r->n].textlen = (size_t)(p - tok);
		if (r->t[r->n].mech == MECH_ALL)
			r->has_all = 1;
		r->n++;
	}
	return 0;
}
