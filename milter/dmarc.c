/*
 * dmarc -- DMARC per RFC 9989 (see dmarc.h).
 *
 * Both tree walks ask the same names (_dmarc.D for D, then D's parents:
 * after the name itself, a name of more than 8 labels goes straight to
 * its last 7, then one label less each time down to the top label), so
 * every answer of one check is kept and asked once.
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <idn2.h>

#include "dmarc.h"
#include "xalloc.h"

#define CACHE_MAX	40

enum found { F_NONE, F_RECORD, F_TEMP };

struct cached {
	char			 name[DMARC_DOMAIN_MAX];
	enum found		 found;
	struct dmarc_record	 rec;
};

struct ctx {
	const struct spf_resolver	*r;
	struct dmarc_outcome		*out;
	struct cached			 c[CACHE_MAX];
	size_t				 n;
};

/* dmarc_result_name -- the RFC 8601 name of a result */
const char *
dmarc_result_name(enum dmarc_result r)
{
	static const char *const names[] = { "none", "pass", "fail",
	    "temperror", "permerror" };

	return (unsigned)r < sizeof(names) / sizeof(names[0]) ? names[r] :
	    "permerror";
}

/* dmarc_policy_name -- none, quarantine, reject ("none" when unset) */
const char *
dmarc_policy_name(enum dmarc_policy p)
{
	return p == DMARC_P_REJECT ? "reject" :
	    p == DMARC_P_QUARANTINE ? "quarantine" : "none";
}

/* trim -- skip spaces and tabs on both ends of [*s, *s + *n) */
static void
trim(const char **s, size_t *n)
{
	while (*n > 0 && (**s == ' ' || **s == '\t')) {
		(*s)++;
		(*n)--;
	}
	while (*n > 0 && ((*s)[*n - 1] == ' ' || (*s)[*n - 1] == '\t'))
		(*n)--;
}

/* word -- is [s, s + n) the word w (case-insensitive)? */
static int
word(const char *s, size_t n, const char *w)
{
	return strlen(w) == n && strncasecmp(s, w, n) == 0;
}

/* policy -- a dmarc-request value, or UNSET */
static enum dmarc_policy
policy(const char *v, size_t n)
{
	if (word(v, n, "none"))
		return DMARC_P_NONE;
	if (word(v, n, "quarantine"))
		return DMARC_P_QUARANTINE;
	if (word(v, n, "reject"))
		return DMARC_P_REJECT;
	return DMARC_P_UNSET;
}

/* uri_ok -- a syntactically valid URI: scheme ":" and printable rest */
static int
uri_ok(const char *v, size_t n)
{
	size_t	i;

	trim(&v, &n);
	if (n < 3 || !isalpha((unsigned char)v[0]))
		return 0;
	for (i = 1; i < n && v[i] != ':'; i++)
		if (!isalnum((unsigned char)v[i]) && strchr("+-.", v[i]) == NULL)
			return 0;
	if (i + 1 >= n)
		return 0;
	for (i++; i < n; i++)
		if ((unsigned char)v[i] <= ' ' || (unsigned char)v[i] >= 0x7f)
			return 0;
	return 1;
}

/* rua_ok -- does a dmarc-urilist hold at least one valid URI? */
static int
rua_ok(const char *v, size_t n)
{
	const char	*comma;

	for (;; n -= (size_t)(comma - v) + 1, v = comma + 1) {
		comma = memchr(v, ',', n);
		if (uri_ok(v, comma != NULL ? (size_t)(comma - v) : n))
			return 1;
		if (comma == NULL)
			return 0;
	}
}

/* sub_policy -- sp= or np=: a value, or the record's policy is bad */
static enum dmarc_policy
sub_policy(struct dmarc_record *rec, const char *v, size_t n)
{
	enum dmarc_policy p = policy(v, n);

	if (p == DMARC_P_UNSET)
		rec->bad_policy = 1;
	return p;
}

/*
 * tag -- one "tag=value" of a record (t, tn: trimmed here); -1 when the
 * record is not a DMARC record (the first tag is not "v=DMARC1")
 */
static int
tag(struct dmarc_record *rec, const char *t, size_t tn, int *first,
    int *seen_t, int *pct)
{
	const char	*eq, *v;
	size_t		 vn, i;

	trim(&t, &tn);
	if (tn == 0 || (eq = memchr(t, '=', tn)) == NULL)
		return *first ? -1 : 0;
	v = eq + 1;
	vn = tn - (size_t)(v - t);
	tn = (size_t)(eq - t);
	trim(&t, &tn);
	trim(&v, &vn);
	if (*first) {
		/* "v=DMARC1", exactly, and first */
		if (!(tn == 1 && t[0] == 'v') || vn != 6 ||
		    memcmp(v, "DMARC1", 6) != 0)
			return -1;
		*first = 0;
	} else if (word(t, tn, "p"))
		rec->p = policy(v, vn);
	else if (word(t, tn, "sp"))
		rec->sp = sub_policy(rec, v, vn);
	else if (word(t, tn, "np"))
		rec->np = sub_policy(rec, v, vn);
	else if (word(t, tn, "rua"))
		rec->rua_ok = rua_ok(v, vn);
	else if (word(t, tn, "adkim"))
		rec->adkim_strict = word(v, vn, "s");
	else if (word(t, tn, "aspf"))
		rec->aspf_strict = word(v, vn, "s");
	else if (word(t, tn, "t")) {
		if (word(v, vn, "y") || word(v, vn, "n")) {
			rec->testing = word(v, vn, "y");
			*seen_t = 1;
		}
	} else if (word(t, tn, "psd")) {
		rec->psd = word(v, vn, "y") ? DMARC_PSD_Y :
		    word(v, vn, "n") ? DMARC_PSD_N : DMARC_PSD_U;
	} else if (word(t, tn, "pct") && vn > 0 && vn <= 3) {
		for (i = 0, *pct = 0; i < vn && isdigit((unsigned char)v[i]); i++)
			*pct = *pct * 10 + (v[i] - '0');
		if (i != vn || *pct > 100)
			*pct = 100;	/* invalid: ignored */
	}
	return 0;
}

/*
 * dmarc_record_parse -- read a TXT record; 0 when it is a DMARC policy
 * record ("v=DMARC1" first), -1 when not. Unknown tags are ignored; a
 * missing or invalid p=, or an invalid sp= or np=, sets bad_policy (RFC
 * 9989 4.10.1, applied by dmarc_check). A pct below 100 (RFC 7489) means
 * testing unless t= is given.
 */
int
dmarc_record_parse(const char *txt, size_t len, struct dmarc_record *rec)
{
	const char	*p = txt, *end = txt + len, *semi, *t;
	size_t		 tn, i;
	int		 first = 1, seen_t = 0, pct = 100;

	memset(rec, 0, sizeof(*rec));
	for (i = 0; i < len; i++)
		if (txt[i] == '\0')
			return -1;
	for (;; p = semi + 1) {
		semi = memchr(p, ';', (size_t)(end - p));
		if (semi == NULL)
			semi = end;
		t = p;
		tn = (size_t)(semi - p);
		if (tag(rec, t, tn, &first, &seen_t, &pct) == -1)
			return -1;
		if (semi == end)
			break;
	}
	if (first)
		return -1;
	if (rec->p == DMARC_P_UNSET)
		rec->bad_policy = 1;
	if (!seen_t && pct < 100)
		rec->testing = 1;
	return 0;
}

/* labels -- the number of labels of a name */
static size_t
labels(const char *d)
{
	size_t	n = 1;

	for (; *d != '\0'; d++)
		if (*d == '.')
			n++;
	return n;
}

/* suffix -- the last n labels of d */
static const char *
suffix(const char *d, size_t n)
{
	size_t	have = labels(d);

	while (have > n && (d = strchr(d, '.')) != NULL) {
		d++;
		have--;
	}
	return d;
}

/* lookup -- the DMARC record at _dmarc.name (asked once per check) */
static const struct cached *
lookup(struct ctx *c, const char *name)
{
	struct dns_answer	 a;
	struct cached		*e;
	struct dmarc_record	 rec;
	enum spf_dns_rc		 rc;
	char			 q[DMARC_DOMAIN_MAX + 8];
	size_t			 i, valid = 0;

	for (i = 0; i < c->n; i++)
		if (strcasecmp(c->c[i].name, name) == 0)
			return &c->c[i];
	e = &c->c[c->n < CACHE_MAX ? c->n++ : CACHE_MAX - 1];
	memset(e, 0, sizeof(*e));
	(void)strlcpy(e->name, name, sizeof(e->name));
	(void)snprintf(q, sizeof(q), "_dmarc.%s", name);
	memset(&a, 0, sizeof(a));
	c->out->queries++;
	rc = c->r->query(c->r->arg, q, DNS_T_TXT, &a);
	if (rc == SPF_DNS_TEMP) {
		e->found = F_TEMP;
		return e;
	}
	for (i = 0; rc == SPF_DNS_OK && i < a.nrr; i++)
		if (a.rr[i].type == DNS_T_TXT && !a.rr[i].text_cut &&
		    dmarc_record_parse(a.rr[i].text, a.rr[i].textlen, &rec) == 0) {
			if (valid++ == 0)
				e->rec = rec;
		}
	dns_answer_free(&a);
	/* several policy records at one name: none there */
	e->found = valid == 1 ? F_RECORD : F_NONE;
	return e;
}

/*
 * walk_next -- the next name of the tree walk after cur (whose label
 * count is n), or NULL at the end
 */
static const char *
walk_next(const char *start, const char *cur)
{
	size_t	n = labels(cur);

	if (n <= 1)
		return NULL;
	if (cur == start && n > 8)
		return suffix(start, 7);
	return suffix(cur, n - 1);
}

/*
 * discover -- policy discovery: the first record of the walk from d;
 * NULL (none), or the cache entry (found == F_TEMP: a DNS error)
 */
static const struct cached *
discover(struct ctx *c, const char *d)
{
	const struct cached	*e;
	const char		*cur;
	int			 asked = 0;

	for (cur = d; cur != NULL && asked < DMARC_MAX_QUERIES;
	    cur = walk_next(d, cur), asked++) {
		e = lookup(c, cur);
		if (e->found != F_NONE)
			return e;
	}
	return NULL;
}

/*
 * org_domain -- RFC 9989's organizational domain of d: the first name of
 * the walk with psd=n; one label below the first with psd=y; else the
 * shortest name with a record; else d. -1 on a DNS error.
 */
static int
org_domain(struct ctx *c, const char *d, char *org, size_t orgsz)
{
	const struct cached	*e;
	const char		*cur, *shortest = NULL;
	size_t			 n;
	int			 asked = 0;

	for (cur = d; cur != NULL && asked < DMARC_MAX_QUERIES;
	    cur = walk_next(d, cur), asked++) {
		e = lookup(c, cur);
		if (e->found == F_TEMP)
			return -1;
		if (e->found != F_RECORD)
			continue;
		if (e->rec.psd == DMARC_PSD_N) {
			(void)strlcpy(org, cur, orgsz);
			return 0;
		}
		if (e->rec.psd == DMARC_PSD_Y) {
			n = labels(cur);
			(void)strlcpy(org, cur == d ? d : suffix(d, n + 1), orgsz);
			return 0;
		}
		shortest = cur;
	}
	(void)strlcpy(org, shortest != NULL ? shortest : d, orgsz);
	return 0;
}

/* aligned -- is id aligned with the From domain (strict or relaxed)? */
static int
aligned(struct ctx *c, const char *id, const char *from, const char *from_org,
    int strict)
{
	char	org[DMARC_DOMAIN_MAX];
	size_t	il, ol;

	if (id == NULL || *id == '\0')
		return 0;
	if (strcasecmp(id, from) == 0)
		return 1;
	if (strict)
		return 0;
	/* org(id) is a suffix of id: it can equal from_org only under it */
	il = strlen(id);
	ol = strlen(from_org);
	if (il < ol || strcasecmp(id + il - ol, from_org) != 0 ||
	    (il > ol && id[il - ol - 1] != '.'))
		return 0;
	if (org_domain(c, id, org, sizeof(org)) == -1)
		return 0;
	return strcasecmp(org, from_org) == 0;
}

/* nonexistent -- does the From domain not exist (NXDOMAIN)? */
static int
nonexistent(struct ctx *c, const char *d)
{
	struct dns_answer	a;
	enum spf_dns_rc		rc;

	memset(&a, 0, sizeof(a));
	c->out->queries++;
	rc = c->r->query(c->r->arg, d, DNS_T_A, &a);
	dns_answer_free(&a);
	return rc == SPF_DNS_NXDOMAIN;
}

/* domain_ok -- a From domain worth asking about: a name of printable bytes */
static int
domain_ok(const char *d)
{
	size_t	len = strlen(d), i;

	if (!dns_name_valid(d) || d[0] == '[' || d[len - 1] == '.')
		return 0;
	for (i = 0; i < len; i++)
		if ((unsigned char)d[i] <= 0x20 || (unsigned char)d[i] >= 0x7f ||
		    d[i] == '\\')
			return 0;
	return 1;
}

/*
 * dmarc_domain_ascii -- a domain in A-labels into out: U-labels (UTF-8)
 * converted by libidn2 (UTS #46 non-transitional), ASCII copied, one
 * trailing dot (the root) left out. -1 when it is not valid UTF-8, not a
 * valid IDN, or does not fit.
 */
int
dmarc_domain_ascii(const char *d, char *out, size_t outlen)
{
	const unsigned char	*p;
	char			*a = NULL;
	size_t			 n;

	for (p = (const unsigned char *)d; *p != '\0' && *p < 0x80; p++)
		;
	if (*p != '\0') {
		if (idn2_to_ascii_8z(d, &a, IDN2_NONTRANSITIONAL) != IDN2_OK ||
		    a == NULL) {
			idn2_free(a);
			return -1;
		}
		d = a;
	}
	n = strlcpy(out, d, outlen);
	idn2_free(a);
	if (n >= outlen)
		return -1;
	/* "example.com." is example.com: one trailing dot goes */
	if (n > 1 && out[n - 1] == '.' && out[n - 2] != '.')
		out[n - 1] = '\0';
	return 0;
}

/* policy_of -- the policy the record e found for from applies (RFC 9989) */
static enum dmarc_policy
policy_of(struct ctx *c, const struct cached *e, const char *from)
{
	enum dmarc_policy	pol = e->rec.p;

	/* 4.10.1: no valid p, or a bad sp or np (with a valid rua): p=none */
	if (e->rec.bad_policy)
		return DMARC_P_NONE;
	/* p at the From domain; np, sp or p for a subdomain */
	if (strcasecmp(e->name, from) != 0) {
		if (e->rec.np != DMARC_P_UNSET && nonexistent(c, from))
			pol = e->rec.np;
		else if (e->rec.sp != DMARC_P_UNSET)
			pol = e->rec.sp;
	}
	return pol == DMARC_P_UNSET ? DMARC_P_NONE : pol;
}

/*
 * from_ascii -- the From domain to check, in A-labels, into
 * out->from_domain; -1 (permerror, with the reason) when there is none
 */
static int
from_ascii(const struct dmarc_input *in, struct dmarc_outcome *out)
{
	if (in->from_domain != NULL && dmarc_domain_ascii(in->from_domain,
	    out->from_domain, sizeof(out->from_domain)) == 0 &&
	    domain_ok(out->from_domain))
		return 0;
	out->result = DMARC_PERMERROR;
	(void)strlcpy(out->reason, in->from_domain == NULL &&
	    in->from_problem != NULL ? in->from_problem :
	    "no usable From domain", sizeof(out->reason));
	out->from_domain[0] = '\0';
	return -1;
}

/* dmarc_check -- the DMARC result of a message (see dmarc.h) */
void
dmarc_check(const struct spf_resolver *r, const struct dmarc_input *in,
    struct dmarc_outcome *out)
{
	struct ctx		*c;
	const struct cached	*e;
	const char		*from = out->from_domain;
	size_t			 i;

	memset(out, 0, sizeof(*out));
	if (from_ascii(in, out) == -1)
		return;
	c = xcalloc(1, sizeof(*c));
	c->r = r;
	c->out = out;
	e = discover(c, from);
	if (e == NULL) {
		out->result = DMARC_NONE;
		(void)snprintf(out->reason, sizeof(out->reason),
		    "%.100s publishes no DMARC policy", from);
		goto done;
	}
	if (e->found == F_TEMP) {
		out->result = DMARC_TEMPERROR;
		(void)snprintf(out->reason, sizeof(out->reason),
		    "DNS error looking up _dmarc.%.100s", e->name);
		goto done;
	}
	(void)strlcpy(out->record_domain, e->name, sizeof(out->record_domain));
	if (e->rec.bad_policy && !e->rec.rua_ok) {
		/* RFC 9989 4.10.1: no DMARC processing for this message */
		out->result = DMARC_NONE;
		(void)snprintf(out->reason, sizeof(out->reason), "DMARC "
		    "record of %.60s: no valid p= (or a bad sp= or np=), "
		    "no valid rua=", e->name);
		goto done;
	}
	out->testing = e->rec.testing;
	if (org_domain(c, from, out->org_domain, sizeof(out->org_domain)) ==
	    -1) {
		out->result = DMARC_TEMPERROR;
		(void)snprintf(out->reason, sizeof(out->reason),
		    "DNS error finding the organizational domain of %.80s", from);
		goto done;
	}
	out->policy = policy_of(c, e, from);
	out->spf_aligned = in->spf == SPF_PASS && aligned(c, in->spf_domain,
	    from, out->org_domain, e->rec.aspf_strict);
	for (i = 0; i < in->ndkim_pass && !out->dkim_aligned; i++)
		out->dkim_aligned = aligned(c, in->dkim_pass[i], from,
		    out->org_domain, e->rec.adkim_strict);
	out->result = out->spf_aligned || out->dkim_aligned ? DMARC_PASS :
	    DMARC_FAIL;
	(void)snprintf(out->reason, sizeof(out->reason), "%s",
	    out->result == DMARC_PASS ? (out->dkim_aligned ?
	    "aligned DKIM signature" : "aligned SPF pass") :
	    "no aligned SPF pass or DKIM signature");
done:
	free(c);
}
