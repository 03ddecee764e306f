/*
 * reply -- sanitising values and building SMTP reply lines (see reply.h).
 *
 * reply_build() works on the text as the client sees it: it wraps the
 * text into lines of at most REPLY_LINE_MAX octets including the
 * "451-4.7.1 " prefix, then doubles every '%' for libmilter (which reads
 * reply text as a format). Doubling after wrapping means a "%%" pair can
 * never be split. A line is also kept within libmilter's own limit on the
 * stored (doubled) text, MAXREPLYLEN = 980 bytes in smfi.c, which a line
 * of 500 visible '%' would otherwise exceed: smfi_setmlreply() would
 * refuse the whole reply and the client would get Postfix's generic text.
 *
 * reply_sanitize() removes control bytes (CR, LF, NUL, TAB, DEL ...) and
 * turns bytes above '~' into '?'; it does not collapse runs of spaces, so
 * "a\tb" becomes "ab" and "a  b" stays as it is.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "reply.h"
#include "xalloc.h"

#define STORED_MAX	980	/* libmilter MAXREPLYLEN: bytes of a stored line */

struct lines {
	unsigned	 n;
	char		*l[REPLY_MAX_LINES];
};

/* reply_sanitize -- append s without control bytes, non-ASCII as '?' */
void
reply_sanitize(struct buf *out, const char *s, size_t len)
{
	size_t		i;
	unsigned char	c;

	for (i = 0; i < len; i++) {
		c = (unsigned char)s[i];
		if (c < ' ' || c == 0x7f)
			continue;
		buf_putc(out, c > '~' ? '?' : c);
	}
	if (out->data == NULL)
		buf_puts(out, "");
}

/* push -- add one visible line; 0, or -1 when there is no room */
static int
push(struct lines *ls, unsigned max, const char *s, size_t len)
{
	if (ls->n >= max)
		return -1;
	ls->l[ls->n++] = xstrndup(s, len);
	return 0;
}

/*
 * fit -- how many bytes of s (len) fit in a line of at most width visible
 * octets and smax stored bytes ('%' is stored twice).
 */
static size_t
fit(const char *s, size_t len, size_t width, size_t smax)
{
	size_t	i, stored = 0;

	for (i = 0; i < len && i < width; i++) {
		stored += s[i] == '%' ? 2 : 1;
		if (stored > smax)
			break;
	}
	return i;
}

/*
 * wrap -- split text into lines of at most width visible octets (and
 * STORED_MAX stored bytes), at spaces where possible; spaces at the ends
 * of the text and of every line are dropped. Returns 0, or -1
 * when more than max lines were needed (the first max are kept).
 */
static int
wrap(struct lines *ls, unsigned max, const char *text, size_t width)
{
	size_t	len = strlen(text), start = 0, end, cut;

	while (len > 0 && text[len - 1] == ' ')
		len--;
	while (start < len && text[start] == ' ')
		start++;
	while (start < len) {
		end = start + fit(text + start, len - start, width, STORED_MAX);
		if (end >= len)
			return push(ls, max, text + start, len - start);
		cut = end;
		while (cut > start && text[cut] != ' ')
			cut--;
		while (cut > start && text[cut - 1] == ' ')
			cut--;			/* no trailing spaces */
		if (cut == start)
			cut = end;		/* one long word: split it */
		if (push(ls, max, text + start, cut - start) == -1)
			return -1;
		start = cut;
		while (start < len && text[start] == ' ')
			start++;
	}
	return 0;
}

/* ellipsis -- make the last line end with "..." within both limits */
static void
ellipsis(struct lines *ls, size_t width)
{
	char	*l = ls->l[ls->n - 1], *n;
	size_t	 len;

	len = fit(l, strlen(l), width - 3, STORED_MAX - 3);
	n = xmalloc(len + 4);
	memcpy(n, l, len);
	memcpy(n + len, "...", 4);
	free(l);
	ls->l[ls->n - 1] = n;
}

/* double_pct -- a copy of s with every '%' doubled */
static char *
double_pct(const char *s)
{
	struct buf	b = BUF_INIT;

	for (; *s != '\0'; s++) {
		if (*s == '%')
			buf_putc(&b, '%');
		buf_putc(&b, *s);
	}
	buf_puts(&b, "");
	return buf_release(&b);
}

/* clean -- the text without control or non-ASCII bytes (a copy) */
static char *
clean(const char *s)
{
	struct buf	b = BUF_INIT;

	reply_sanitize(&b, s, s != NULL ? strlen(s) : 0);
	return buf_release(&b);
}

/*
 * reply_build -- code, enhanced code, text and optional footer into at
 * most REPLY_MAX_LINES lines; the footer is always the last line(s).
 */
void
reply_build(struct reply *r, const char *code, const char *ecode,
    const char *text, const char *footer)
{
	struct lines	 t = { 0, { NULL } }, f = { 0, { NULL } };
	char		*ct = clean(text), *cf = clean(footer);
	size_t		 width;
	unsigned	 i, room;

	memset(r, 0, sizeof(*r));
	(void)strlcpy(r->code, code, sizeof(r->code));
	(void)strlcpy(r->ecode, ecode, sizeof(r->ecode));
	width = REPLY_LINE_MAX - strlen(r->code) - 1 - strlen(r->ecode) - 1;
	if (*cf != '\0' && wrap(&f, REPLY_MAX_LINES / 2, cf, width) == -1)
		ellipsis(&f, width);
	room = REPLY_MAX_LINES - f.n;
	if (wrap(&t, room, ct, width) == -1)
		ellipsis(&t, width);
	if (t.n == 0 && f.n == 0)
		(void)push(&t, 1, "", 0);
	for (i = 0; i < t.n; i++)
		r->line[r->nlines++] = double_pct(t.l[i]);
	for (i = 0; i < f.n; i++)
		r->line[r->nlines++] = double_pct(f.l[i]);
	for (i = 0; i < t.n; i++)
		free(t.l[i]);
	for (i = 0; i < f.n; i++)
		free(f.l[i]);
	free(ct);
	free(cf);
}

/* reply_format -- "451 4.7.1 line1 line2 ..." with '%' single, for logs */
void
reply_format(const struct reply *r, struct buf *out)
{
	unsigned	 i;
	const char	*p;

	buf_printf(out, "%s %s", r->code, r->ecode);
	for (i = 0; i < r->nlines; i++) {
		buf_putc(out, ' ');
		for (p = r->line[i]; *p != '\0'; p++) {
			buf_putc(out, *p);
			if (*p == '%' && p[1] == '%')
				p++;
		}
	}
}

/* reply_free -- free the lines */
void
reply_free(struct reply *r)
{
	unsigned	i;

	for (i = 0; i < r->nlines; i++)
		free(r->line[i]);
	r->nlines = 0;
}
