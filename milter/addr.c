/*
 * addr -- RFC 5322 address lists (see addr.h).
 *
 * A recursive-descent reader over the raw bytes, with the grammar of RFC
 * 5322 section 3.4 and the obsolete forms that real mail uses (words
 * between dots in a local part, empty list elements). Atoms take the
 * atext characters, '.', and bytes >= 0x80 (RFC 6532 UTF-8).
 */
#include "config.h"

#include <string.h>

#include "addr.h"

struct rd {
	const char	*s;
	size_t		 len, i;
	struct buf	*err;
	struct addr_list *out;
};

/* fail -- record the first reason; -1 */
static int
fail(struct rd *p, const char *why)
{
	if (p->err->len == 0)
		buf_printf(p->err, "%s at offset %zu", why, p->i);
	return -1;
}

/* peek -- the current byte, or -1 at the end */
static int
peek(const struct rd *p)
{
	return p->i < p->len ? (unsigned char)p->s[p->i] : -1;
}

/* atext -- may c be part of an atom (dots included)? */
static int
atext(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c >= 0x80 ||
	    (c > ' ' && c < 0x7f && strchr("!#$%&'*+-/=?^_`{|}~.", c) != NULL);
}

/* comment -- "( ... )" with nesting and quoted pairs; at '(' */
static int
comment(struct rd *p)
{
	unsigned	depth = 0;
	int		c;

	for (;;) {
		if ((c = peek(p)) == -1)
			return fail(p, "unclosed comment");
		p->i++;
		if (c == '\\') {
			if (peek(p) == -1)
				return fail(p, "unclosed comment");
			p->i++;
		} else if (c == '(') {
			if (++depth > ADDR_MAX_NEST)
				return fail(p, "comments nested too deep");
		} else if (c == ')' && --depth == 0)
			return 0;
	}
}

/* cfws -- skip folding white space and comments */
static int
cfws(struct rd *p)
{
	int	c;

	while ((c = peek(p)) != -1) {
		if (c == ' ' || c == '\t' || c == '\r' || c == '\n')
			p->i++;
		else if (c == '(') {
			if (comment(p) == -1)
				return -1;
		} else
			break;
	}
	return 0;
}

/* word -- an atom or a quoted string after CFWS: 1, 0 (none here) or -1 */
static int
word(struct rd *p, struct buf *text)
{
	int	c;

	if (cfws(p) == -1)
		return -1;
	if (peek(p) == '"') {
		p->i++;
		for (;;) {
			if ((c = peek(p)) == -1)
				return fail(p, "unclosed quoted string");
			p->i++;
			if (c == '"')
				return 1;
			if (c == '\\') {
				if ((c = peek(p)) == -1)
					return fail(p, "unclosed quoted string");
				p->i++;
			}
			if (text != NULL)
				buf_putc(text, c);
		}
	}
	if (!atext(peek(p)))
		return 0;
	while (atext(peek(p))) {
		if (text != NULL)
			buf_putc(text, p->s[p->i]);
		p->i++;
	}
	return 1;
}

/* domain_ok -- a dot-atom that can be a host name: labels of letters, digits, '-', '_' or UTF-8 */
static int
domain_ok(const char *d, size_t len)
{
	size_t	i, label = 0;

	if (len == 0 || len > ADDR_DOMAIN_MAX)
		return 0;
	for (i = 0; i < len; i++) {
		if (d[i] == '.') {
			if (label == 0)
				return 0;
			label = 0;
		} else if (++label > 63 || !((d[i] >= 'a' && d[i] <= 'z') ||
		    (d[i] >= 'A' && d[i] <= 'Z') || (d[i] >= '0' && d[i] <= '9') ||
		    d[i] == '-' || d[i] == '_' || (unsigned char)d[i] >= 0x80))
			return 0;
	}
	return label > 0 || len > 1;	/* a trailing dot is allowed */
}

/* add -- count a mailbox with its domain (NULL: none usable) */
static void
add(struct rd *p, const char *d, size_t len)
{
	struct addr_list *o = p->out;
	size_t		  i;

	o->mailboxes++;
	if (d == NULL) {
		o->no_domain++;
		return;
	}
	if (len > 1 && d[len - 1] == '.')
		len--;
	if (o->ndomains >= ADDR_MAX_DOMAINS)
		return;
	for (i = 0; i < len; i++)
		o->domain[o->ndomains][i] = d[i] >= 'A' && d[i] <= 'Z' ?
		    (char)(d[i] + 32) : d[i];
	o->domain[o->ndomains][len] = '\0';
	o->ndomains++;
}

/* domain -- after '@': a dot-atom or a domain literal; counts the mailbox */
static int
domain(struct rd *p)
{
	struct buf	d = BUF_INIT;
	int		rc, c;

	if (cfws(p) == -1)
		return -1;
	if (peek(p) == '[') {
		while ((c = peek(p)) != -1 && c != ']')
			p->i++;
		if (c == -1)
			return fail(p, "unclosed domain literal");
		p->i++;
		add(p, NULL, 0);	/* an address literal has no author domain */
		return cfws(p);
	}
	while (atext(peek(p))) {
		buf_putc(&d, p->s[p->i]);
		p->i++;
	}
	rc = domain_ok(buf_str(&d), d.len) ? 0 : fail(p, "bad domain");
	if (rc == 0)
		add(p, buf_str(&d), d.len);
	buf_free(&d);
	return rc == 0 ? cfws(p) : -1;
}

/* addr_spec -- local-part "@" domain, at its first byte (inside < >) */
static int
addr_spec(struct rd *p)
{
	int	n = 0, rc;

	while ((rc = word(p, NULL)) == 1)
		n++;
	if (rc == -1)
		return -1;
	if (n == 0 || peek(p) != '@')
		return fail(p, "expected local@domain");
	p->i++;
	return domain(p);
}

/* angle -- "<" [addr-spec] ">", at '<'; "<>" counts a mailbox without a domain */
static int
angle(struct rd *p)
{
	p->i++;
	if (cfws(p) == -1)
		return -1;
	if (peek(p) == '>') {
		p->i++;
		add(p, NULL, 0);
		return 0;
	}
	/* obs-route: "@a,@b:" before the address */
	if (peek(p) == '@') {
		while (peek(p) != -1 && peek(p) != ':' && peek(p) != '>')
			p->i++;
		if (peek(p) != ':')
			return fail(p, "bad route in <...>");
		p->i++;
	}
	if (addr_spec(p) == -1)
		return -1;
	if (peek(p) != '>')
		return fail(p, "expected '>'");
	p->i++;
	return 0;
}

/* mailbox -- name-addr or addr-spec; in_group: a group is not allowed here */
static int
mailbox(struct rd *p, int in_group)
{
	int	n = 0, rc, c;

	while ((rc = word(p, NULL)) == 1)
		n++;
	if (rc == -1)
		return -1;
	c = peek(p);
	if (c == '<')
		return angle(p);
	if (c == '@' && n >= 1) {
		p->i++;
		return domain(p);
	}
	if (c == ':' && n >= 1 && !in_group)
		return 1;	/* a group: the caller reads it */
	return fail(p, n > 0 ? "a name without an address" : "expected an address");
}

/* group -- after "name:": [mailbox-list] ";" */
static int
group(struct rd *p)
{
	int	c;

	p->i++;
	for (;;) {
		if (cfws(p) == -1)
			return -1;
		if ((c = peek(p)) == ';') {
			p->i++;
			return cfws(p);
		}
		if (c == ',') {
			p->i++;
			continue;
		}
		if (mailbox(p, 1) == -1)
			return -1;
		if (cfws(p) == -1)
			return -1;
		c = peek(p);
		if (c != ',' && c != ';')
			return fail(p, "expected ',' or ';' in a group");
	}
}

/*
 * addr_list_parse -- the mailboxes of an address-list (a From: value);
 * 0, or -1 when it is not one (err says why and where).
 */
int
addr_list_parse(const char *s, size_t len, struct addr_list *out,
    struct buf *err)
{
	struct rd	p = { s, len, 0, err, out };
	int		rc, elems = 0;

	memset(out, 0, sizeof(*out));
	for (;;) {
		if (cfws(&p) == -1)
			return -1;
		if (peek(&p) == -1)
			break;
		if (peek(&p) == ',') {		/* obs-addr-list: empty elements */
			p.i++;
			continue;
		}
		if ((rc = mailbox(&p, 0)) == -1)
			return -1;
		if (rc == 1 && group(&p) == -1)
			return -1;
		elems++;
		if (cfws(&p) == -1)
			return -1;
		if (peek(&p) != -1 && peek(&p) != ',')
			return fail(&p, "expected ',' between addresses");
	}
	if (elems == 0)
		return fail(&p, "no address");
	return 0;
}
