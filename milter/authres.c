/*
 * authres -- Authentication-Results header values (see authres.h).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "authres.h"

/* tspecial -- RFC 2045 tspecials */
static int
tspecial(int c)
{
	return c != '\0' && strchr("()<>@,;:\\\"/[]?=", c) != NULL;
}

/* token_ok -- a non-empty RFC 2045 token */
static int
token_ok(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s != '\0'; s++)
		if (*s <= ' ' || *s >= 0x7f || tspecial(*s))
			return 0;
	return 1;
}

/* addr_ok -- [local-part "@"] domain-name, written bare (RFC 8601 pvalue) */
static int
addr_ok(const char *s)
{
	const char	*at = strrchr(s, '@');
	const char	*p;

	if (at == NULL || at == s || at[1] == '\0')
		return 0;
	for (p = s; *p != '\0'; p++)
		if (*p <= ' ' || *p >= 0x7f || strchr("()<>,;:\\\"[]", *p) != NULL)
			return 0;
	return strchr(s, '@') == at;
}

/* quoted -- a quoted string: printable ASCII only, '"' and '\' escaped */
static void
quoted(struct buf *b, const char *s)
{
	size_t	n = 0;

	buf_putc(b, '"');
	for (; *s != '\0' && n < AUTHRES_VALUE_MAX; s++, n++) {
		if ((unsigned char)*s < ' ' || (unsigned char)*s >= 0x7f)
			continue;
		if (*s == '"' || *s == '\\')
			buf_putc(b, '\\');
		buf_putc(b, *s);
	}
	buf_putc(b, '"');
}

/* value -- a token or an address as is (when short enough), else quoted */
static void
value(struct buf *b, const char *s)
{
	if (strlen(s) <= AUTHRES_VALUE_MAX && (token_ok(s) || addr_ok(s)))
		buf_puts(b, s);
	else
		quoted(b, s);
}

/* authres_begin -- a header value for authserv-id id */
void
authres_begin(struct authres *a, const char *id)
{
	memset(a, 0, sizeof(*a));
	value(&a->b, id);
}

/* authres_method -- a new resinfo "method=result" on its own folded line */
void
authres_method(struct authres *a, const char *method, const char *result)
{
	buf_puts(&a->b, ";\n\t");
	value(&a->b, method);
	buf_putc(&a->b, '=');
	value(&a->b, result);
	a->n++;
}

/* authres_prop -- " ptype.property=value" for the current resinfo ("header.d") */
void
authres_prop(struct authres *a, const char *name, const char *val)
{
	if (a->n == 0 || val == NULL || *val == '\0')
		return;
	buf_putc(&a->b, ' ');
	buf_puts(&a->b, name);
	buf_putc(&a->b, '=');
	value(&a->b, val);
}

/* authres_reason -- " reason=\"...\"" for the current resinfo */
void
authres_reason(struct authres *a, const char *why)
{
	if (a->n == 0 || why == NULL || *why == '\0')
		return;
	buf_puts(&a->b, " reason=");
	quoted(&a->b, why);
}

/* authres_end -- the value (malloc'd, the caller frees); "; none" without methods */
char *
authres_end(struct authres *a)
{
	if (a->n == 0)
		buf_puts(&a->b, "; none");
	return buf_release(&a->b);
}

/* skip_cfws -- past folding white space and (nested) comments; NULL when a comment is open */
static const char *
skip_cfws(const char *p, const char *end)
{
	unsigned	depth;

	for (;;) {
		while (p < end && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
			p++;
		if (p == end || *p != '(')
			return p;
		for (depth = 0; p < end; p++) {
			if (*p == '\\' && p + 1 < end)
				p++;
			else if (*p == '(')
				depth++;
			else if (*p == ')' && --depth == 0)
				break;
		}
		if (p == end)
			return NULL;
		p++;
	}
}

/* read_token -- an RFC 2045 token from p into got; past its end */
static const char *
read_token(const char *p, const char *end, struct buf *got)
{
	for (; p < end && *p > ' ' && *p < 0x7f && !tspecial(*p); p++)
		buf_putc(got, *p);
	return p;
}

/* same_host -- a and b name the same host: case and one trailing dot aside */
static int
same_host(const char *a, const char *b)
{
	size_t	al = strlen(a), bl = strlen(b);

	if (al > 1 && a[al - 1] == '.')
		al--;
	if (bl > 1 && b[bl - 1] == '.')
		bl--;
	return al > 0 && al == bl && strncasecmp(a, b, al) == 0;
}

/*
 * authres_claims -- does the header value (len bytes) claim authserv-id
 * id? 1 or 0. Only the id is read: what follows it may be anything. A
 * quoted string left open is read as a token after the quote.
 */
int
authres_claims(const char *v, size_t len, const char *id)
{
	const char	*end = v + len, *p = skip_cfws(v, end), *q;
	struct buf	 got = BUF_INIT;
	int		 rc;

	if (p == NULL || p == end)
		return 0;
	if (*p == '"') {
		for (q = p + 1; q < end && *q != '"'; q++) {
			if (*q == '\\' && q + 1 < end)
				q++;
			buf_putc(&got, *q);
		}
		if (q == end) {
			buf_reset(&got);
			(void)read_token(p + 1, end, &got);
		}
	} else
		(void)read_token(p, end, &got);
	rc = got.len > 0 && same_host(buf_str(&got), id);
	buf_free(&got);
	return rc;
}
