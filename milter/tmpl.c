/*
 * tmpl -- reply, log and header templates (see reply.h).
 *
 * A compiled template is a list of parts: literal text or a variable id.
 * Compilation checks everything (syntax, literal bytes, every name through
 * the caller's resolver) and reports all errors; expansion cannot fail.
 * A name is letters, digits, '_', '-' and '.' ("limit.max"); whether it
 * exists is the resolver's business. Error columns are col + the offset in
 * the (already unescaped) text, so they are approximate after escapes.
 * Text longer than TMPL_MAX bytes is refused, not cut.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "reply.h"
#include "xalloc.h"

#define TMPL_MAX	4096	/* bytes of template text */
#define VALUE_MAX	1000	/* bytes of one expanded value */

struct part {
	int	 var;		/* -1: literal */
	char	*text;		/* literal text */
};

struct tmpl {
	size_t		 n;
	struct part	*p;
};

/* add -- append a part */
static void
add(struct tmpl *t, int var, const char *s, size_t len)
{
	t->p = xreallocarray(t->p, t->n + 1, sizeof(*t->p));
	t->p[t->n].var = var;
	t->p[t->n].text = var < 0 ? xstrndup(s, len) : NULL;
	t->n++;
}

/* name_ok -- identifier characters and dots */
static int
name_ok(const char *s, size_t len)
{
	size_t	i;

	if (len == 0)
		return 0;
	for (i = 0; i < len; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '_' || s[i] == '-' ||
		    s[i] == '.'))
			return 0;
	return 1;
}

/*
 * tmpl_compile -- compile text (len bytes) found at file:line:col. Every
 * error goes to the diag; NULL when there was one.
 */
struct tmpl *
tmpl_compile(const char *s, size_t len, tmpl_resolve_fn resolve, void *arg,
    struct diag *d, const char *file, unsigned line, unsigned col)
{
	struct tmpl	*t = xcalloc(1, sizeof(*t));
	struct buf	 lit = BUF_INIT;
	unsigned	 before = d->errors;
	size_t		 i, j;
	int		 id, failed = 0;

	if (len > TMPL_MAX)
		diag_error(d, file, line, col, "text longer than %d bytes", TMPL_MAX);
	for (i = 0; i < len && len <= TMPL_MAX; i++) {
		if (s[i] != '$') {
			if ((unsigned char)s[i] < ' ' || (unsigned char)s[i] > '~')
				diag_error(d, file, line, col + (unsigned)i,
				    "text must be printable ASCII (byte 0x%02x)",
				    (unsigned char)s[i]);
			buf_putc(&lit, s[i]);
			continue;
		}
		if (i + 1 < len && s[i + 1] == '$') {
			buf_putc(&lit, '$');
			i++;
			continue;
		}
		if (i + 1 >= len || s[i + 1] != '{') {
			diag_error(d, file, line, col + (unsigned)i,
			    "'$' must start ${NAME} (write $$ for a dollar sign)");
			continue;
		}
		for (j = i + 2; j < len && s[j] != '}'; j++)
			;
		if (j >= len || !name_ok(s + i + 2, j - i - 2)) {
			diag_error(d, file, line, col + (unsigned)i,
			    j >= len ? "unterminated ${" : "bad variable name in ${...}");
			i = j < len ? j : len;
			continue;
		}
		if (resolve(arg, s + i + 2, j - i - 2, col + (unsigned)i, &id) == 0) {
			if (lit.len > 0)
				add(t, -1, lit.data, lit.len);
			buf_reset(&lit);
			add(t, id, NULL, 0);
		} else
			failed = 1;	/* the resolver reported it */
		i = j;
	}
	if (lit.len > 0)
		add(t, -1, lit.data, lit.len);
	buf_free(&lit);
	if (d->errors > before || failed) {
		tmpl_free(t);
		return NULL;
	}
	return t;
}

/* tmpl_free -- free a template (NULL is fine) */
void
tmpl_free(struct tmpl *t)
{
	size_t	i;

	if (t == NULL)
		return;
	for (i = 0; i < t->n; i++)
		free(t->p[i].text);
	free(t->p);
	free(t);
}

/* tmpl_uses -- does the template show variable id? */
int
tmpl_uses(const struct tmpl *t, int id)
{
	size_t	i;

	for (i = 0; t != NULL && i < t->n; i++)
		if (t->p[i].var == id)
			return 1;
	return 0;
}

/* tmpl_foreach_var -- call fn for every variable the template shows */
void
tmpl_foreach_var(const struct tmpl *t, void (*fn)(void *, int), void *arg)
{
	size_t	i;

	for (i = 0; t != NULL && i < t->n; i++)
		if (t->p[i].var >= 0)
			fn(arg, t->p[i].var);
}

/* tmpl_expand -- append the text, every value sanitised */
void
tmpl_expand(const struct tmpl *t, tmpl_value_fn value, void *arg,
    struct buf *out)
{
	struct buf	v = BUF_INIT;
	size_t		i;

	for (i = 0; i < t->n; i++) {
		if (t->p[i].var < 0) {
			buf_puts(out, t->p[i].text);
			continue;
		}
		buf_reset(&v);
		value(arg, t->p[i].var, &v);
		reply_sanitize(out, v.data != NULL ? v.data : "",
		    v.len > VALUE_MAX ? VALUE_MAX : v.len);
	}
	buf_free(&v);
}
