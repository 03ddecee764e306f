/*
 * rules_parse -- statements of a rules file (spec sections 4.2-4.4).
 *
 * One function per statement. Each consumes its tokens up to the end of
 * the statement; on an error it reports it (FILE:LINE:COL) and the caller
 * skips to the next statement, so every error of a file is found in one
 * run. Names of lists, tables and limits, and rule ids, are unique.
 */
#include "config.h"

#include <errno.h>
#include <glob.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "num.h"
#include "rules_int.h"
#include "xalloc.h"

/*
 * rules_grow -- room for element n of an array of n elements: the
 * capacity doubles (8, 16, 32 ...), so building is linear
 */
void *
rules_grow(void *v, size_t n, size_t size)
{
	if (n == 0 || (n >= 8 && (n & (n - 1)) == 0))
		return xreallocarray(v, n < 8 ? 8 : n * 2, size);
	return v;
}

/* ptok -- the current token */
struct token *
ptok(struct pctx *c)
{
	return &c->tk->v[c->i < c->tk->n ? c->i : c->tk->n - 1];
}

/* pnext -- consume and return the current token (never past EOF) */
struct token *
pnext(struct pctx *c)
{
	struct token	*t = ptok(c);

	if (t->t != T_EOF)
		c->i++;
	return t;
}

/* perr -- an error at a token */
void
perr(struct pctx *c, const struct token *t, const char *fmt, ...)
{
	struct buf	b = BUF_INIT;
	va_list		ap;

	va_start(ap, fmt);
	buf_vprintf(&b, fmt, ap);
	va_end(ap);
	diag_error(c->d, c->tk->file, t->line, t->col, "%s", buf_str(&b));
	buf_free(&b);
}

/* word_is -- is t the word w? */
int
word_is(const struct token *t, const char *w)
{
	return t->t == T_WORD && strcmp(t->s, w) == 0;
}

/* ident_ok -- [A-Za-z_][A-Za-z0-9_-]* */
static int
ident_ok(const char *s)
{
	if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || *s == '_'))
		return 0;
	for (s++; *s != '\0'; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		    (*s >= '0' && *s <= '9') || *s == '_' || *s == '-'))
			return 0;
	return 1;
}

/* find_named -- a definition of any kind by name (and its kind), or NULL */
struct named *
find_named(struct pctx *c, const char *name, enum nkind *kind)
{
	uintptr_t	 v = (uintptr_t)hash_get(c->names, name, strlen(name));
	size_t		 i = v / 4 - 1;

	if (v == 0)
		return NULL;
	*kind = (enum nkind)(v % 4);
	switch (*kind) {
	case NK_LIST:
		return &c->r->lists[i];
	case NK_TABLE:
		return &c->r->tables[i];
	case NK_LIMIT:
		return &c->r->limits[i];
	default:
		return &c->r->dnsbls[i];
	}
}

/* find_kind -- a definition of one kind by name, or NULL */
struct named *
find_kind(struct pctx *c, const char *name, enum nkind kind)
{
	struct named	*n;
	enum nkind	 k;

	return (n = find_named(c, name, &k)) != NULL && k == kind ? n : NULL;
}

/* expect_end -- the statement must end here */
int
expect_end(struct pctx *c)
{
	struct token	*t = ptok(c);

	if (t->t == T_END || t->t == T_EOF || t->t == T_RBRACE) {
		if (t->t == T_END)
			pnext(c);
		return 0;
	}
	perr(c, t, "unexpected '%s' at the end of the statement", tok_text(t));
	return -1;
}

/* skip_statement -- after an error: to the next statement (over blocks) */
static void
skip_statement(struct pctx *c)
{
	int		depth = 0;
	struct token	*t;

	for (;;) {
		t = ptok(c);
		if (t->t == T_EOF)
			return;
		if (t->t == T_LBRACE)
			depth++;
		else if (t->t == T_RBRACE && --depth <= 0) {
			pnext(c);
			if (depth == 0)
				return;
			depth = 0;
			continue;
		} else if (t->t == T_END && depth == 0) {
			pnext(c);
			return;
		}
		pnext(c);
	}
}

/* at_boundary -- did the last token end a statement or a block? */
static int
at_boundary(struct pctx *c)
{
	return c->i > 0 && (c->tk->v[c->i - 1].t == T_END ||
	    c->tk->v[c->i - 1].t == T_RBRACE);
}

/* skip_ends -- blank statements */
static void
skip_ends(struct pctx *c)
{
	while (ptok(c)->t == T_END)
		pnext(c);
}

/* rules_new_name -- a definition name; errors for bad or duplicate ones */
struct token *
rules_new_name(struct pctx *c, const char *kind)
{
	struct token	*t = pnext(c);
	static const char *kinds[] = { "list", "table", "limit", "dnsbl" };
	struct named	*o = NULL;
	enum nkind	 k;

	if (t->t != T_WORD || !ident_ok(t->s)) {
		perr(c, t, "expected a %s name", kind);
		return NULL;
	}
	/* one name, one kind: `in NAME` must not be ambiguous */
	if ((o = find_named(c, t->s, &k)) != NULL) {
		perr(c, t, "%s '%s' is already defined %s%s%sat %s:%u", kind, t->s,
		    strcmp(kinds[k], kind) != 0 ? "(as a " : "",
		    strcmp(kinds[k], kind) != 0 ? kinds[k] : "",
		    strcmp(kinds[k], kind) != 0 ? ") " : "", o->file, o->line);
		return NULL;
	}
	return t;
}

/* rules_add_named -- record a definition (its name is new) */
void
rules_add_named(struct pctx *c, enum nkind kind, const struct token *t, void *p)
{
	struct named	**v = kind == NK_LIST ? &c->r->lists :
			    kind == NK_TABLE ? &c->r->tables :
			    kind == NK_LIMIT ? &c->r->limits : &c->r->dnsbls;
	size_t		 *n = kind == NK_LIST ? &c->r->nlists :
			    kind == NK_TABLE ? &c->r->ntables :
			    kind == NK_LIMIT ? &c->r->nlimits : &c->r->ndnsbls;

	(void)hash_put(c->names, t->s, t->len,
	    (void *)(uintptr_t)((*n + 1) * 4 + kind));
	*v = rules_grow(*v, *n, sizeof(**v));
	(*v)[*n].name = xstrdup(t->s);
	(*v)[*n].file = c->tk->file;
	(*v)[*n].line = t->line;
	(*v)[*n].p = p;
	(*n)++;
}

/* path_of -- a path relative to the current file's directory */
static char *
path_of(struct pctx *c, const char *p)
{
	struct buf	b = BUF_INIT;

	if (p[0] == '/' || c->dir[0] == '\0')
		buf_puts(&b, p);
	else
		buf_printf(&b, "%s/%s", c->dir, p);
	return buf_release(&b);
}

/* tresolve -- template variable names: facts and variables at the rule's stage */
static int
tresolve(void *arg, const char *name, size_t len, unsigned col, int *id)
{
	struct pctx	*c = arg;
	struct token	 at = *c->at;
	enum fact	 f;

	at.col = col;
	if (fact_lookup(name, len, &f) == -1)
		return rules_dnsbl_fact(c, &at, name, len, 1, id);
	if (fact_usable(c, f, 1, &at) == -1)
		return -1;
	*id = (int)f;
	return 0;
}

/* use_var -- tmpl_foreach_var callback: record a used variable */
static void
use_var(void *arg, int id)
{
	use_fact(arg, FACT_BASE(id));
}

/* rules_template -- compile a string token as a template at the current stage */
struct tmpl *
rules_template(struct pctx *c, const struct token *t)
{
	struct tmpl	*tp;

	if (t->t != T_STR) {
		perr(c, t, "expected a \"text\"");
		return NULL;
	}
	c->at = t;
	tp = tmpl_compile(t->s, t->len, tresolve, c, c->d, c->tk->file,
	    t->line, t->col + 1);
	if (tp != NULL)
		tmpl_foreach_var(tp, use_var, c);
	return tp;
}

/* st_footer -- footer "TEXT" */
static int
st_footer(struct pctx *c, const struct token *kw)
{
	struct tmpl	*tp;

	if (c->r->footer != NULL) {
		perr(c, kw, "footer is already set");
		return -1;
	}
	c->footer = 1;
	c->stage = STAGE_CONNECT;
	c->has_limit = 0;
	tp = rules_template(c, pnext(c));
	c->footer = 0;
	if (tp == NULL)
		return -1;
	c->r->footer = tp;
	return expect_end(c);
}

/* rules_list_items -- { ITEM, ... } into l (newlines allowed inside) */
int
rules_list_items(struct pctx *c, struct list *l)
{
	struct token	*t;
	struct buf	 err = BUF_INIT;
	int		 rc = 0;

	if ((t = pnext(c))->t != T_LBRACE) {
		perr(c, t, "expected '{'");
		return -1;
	}
	for (;;) {
		while (ptok(c)->t == T_END || ptok(c)->t == T_COMMA)
			pnext(c);
		t = pnext(c);
		if (t->t == T_RBRACE)
			break;
		if (t->t != T_WORD && t->t != T_STR) {
			perr(c, t, t->t == T_EOF ? "missing '}'" : "expected a list item");
			buf_free(&err);
			return -1;
		}
		buf_reset(&err);
		if (list_add(l, t->s, t->len, &err) == -1) {
			perr(c, t, "%s", buf_str(&err));
			rc = -1;
		}
	}
	buf_free(&err);
	return rc;
}

/* st_list -- list NAME { ... } | list NAME file "PATH" */
static int
st_list(struct pctx *c)
{
	struct token	*name = rules_new_name(c, "list"), *t;
	struct list	*l = list_new();
	char		*path;
	int		 rc;

	if (name == NULL) {
		list_free(l);
		return -1;
	}
	if (word_is(ptok(c), "file")) {
		pnext(c);
		if ((t = pnext(c))->t != T_STR) {
			perr(c, t, "expected the list file as a \"path\"");
			list_free(l);
			return -1;
		}
		path = path_of(c, t->s);
		if (access(path, R_OK) == -1) {
			perr(c, t, "list %s: cannot read %s: %s", name->s, path,
			    strerror(errno));
			rc = -1;
		} else
			rc = list_load_file(l, path, c->d);
		free(path);
	} else
		rc = rules_list_items(c, l);
	rules_add_named(c, NK_LIST, name, l);
	return rc == 0 ? expect_end(c) : -1;
}

/* st_table -- table NAME "PATH" */
static int
st_table(struct pctx *c)
{
	struct token	*name = rules_new_name(c, "table"), *t;
	struct table	*tb;
	char		*path;

	if (name == NULL)
		return -1;
	if ((t = pnext(c))->t != T_STR) {
		perr(c, t, "expected the table file as a \"path\"");
		return -1;
	}
	path = path_of(c, t->s);
	if (access(path, R_OK) == -1) {
		perr(c, t, "table %s: cannot read %s: %s", name->s, path,
		    strerror(errno));
		free(path);
		return -1;
	}
	tb = table_open(name->s, path, c->d);
	free(path);
	if (tb == NULL)
		return -1;
	rules_add_named(c, NK_TABLE, name, tb);
	return expect_end(c);
}

/* st_include -- include "GLOB" */
static int
st_include(struct pctx *c, const struct token *kw)
{
	struct token	*t = pnext(c);
	glob_t		 g;
	char		*pat;
	size_t		 i;
	int		 rc = 0, grc;

	if (t->t != T_STR) {
		perr(c, t, "expected the file to include as a \"path\"");
		return -1;
	}
	pat = path_of(c, t->s);
	grc = glob(pat, 0, NULL, &g);
	if (grc == GLOB_NOMATCH && strpbrk(t->s, "*?[") == NULL)
		perr(c, t, "include: %s: no such file", pat);
	else if (grc != 0 && grc != GLOB_NOMATCH)
		perr(c, t, "include: %s: cannot read", pat);
	for (i = 0; grc == 0 && i < g.gl_pathc; i++)
		if (parse_file(c, g.gl_pathv[i], kw) == -1)
			rc = -1;
	if (grc == 0)
		globfree(&g);
	free(pat);
	if (grc != 0 && !(grc == GLOB_NOMATCH && strpbrk(t->s, "*?[") != NULL))
		return -1;
	return rc == 0 ? expect_end(c) : -1;
}

/* statement -- one top-level statement */
static int
statement(struct pctx *c)
{
	struct token	*kw = pnext(c);

	if (word_is(kw, "footer"))
		return st_footer(c, kw);
	if (word_is(kw, "list"))
		return st_list(c);
	if (word_is(kw, "table"))
		return st_table(c);
	if (word_is(kw, "limit"))
		return rules_st_limit(c);
	if (word_is(kw, "rule"))
		return rules_st_rule(c);
	if (word_is(kw, "include"))
		return st_include(c, kw);
	if (word_is(kw, "dnsbl"))
		return rules_st_dnsbl(c);
	perr(c, kw, "expected a statement (footer, list, table, dnsbl, limit, "
	    "rule, include), not '%s'", tok_text(kw));
	return -1;
}

/* keep_file -- remember a file name for the life of the rule set */
static const char *
keep_file(struct rules *r, const char *path)
{
	r->files = rules_grow(r->files, r->nfiles, sizeof(*r->files));
	r->files[r->nfiles] = xstrdup(path);
	return r->files[r->nfiles++];
}

/*
 * parse_file -- lex and parse one file (from an include when `from` is
 * set); include loops and depth are checked here.
 */
int
parse_file(struct pctx *c, const char *path, const struct token *from)
{
	struct toks	 tk, *saved_tk = c->tk;
	size_t		 saved_i = c->i;
	const char	*saved_dir = c->dir, *file;
	char		 real[PATH_MAX], *dir, *slash;
	unsigned	 k, before = c->d->errors;

	if (realpath(path, real) == NULL) {
		if (from != NULL)
			perr(c, from, "include: %s: %s", path, strerror(errno));
		else
			diag_error(c->d, path, 0, 0, "cannot read: %s", strerror(errno));
		return -1;
	}
	for (k = 0; k < c->depth; k++)
		if (strcmp(c->chain[k], real) == 0) {
			perr(c, from, "include loop: %s includes itself", path);
			return -1;
		}
	if (c->depth >= RULES_INCLUDE_DEPTH) {
		perr(c, from, "includes nested deeper than %d", RULES_INCLUDE_DEPTH);
		return -1;
	}
	file = keep_file(c->r, path);
	if (lex_file(file, &tk, c->d) == -1)
		return -1;
	c->chain[c->depth++] = real;
	dir = xstrdup(file);
	slash = strrchr(dir, '/');
	if (slash != NULL)
		*slash = '\0';
	else
		dir[0] = '\0';
	c->tk = &tk;
	c->i = 0;
	c->dir = dir;
	for (skip_ends(c); ptok(c)->t != T_EOF; skip_ends(c))
		if (statement(c) == -1 && !at_boundary(c))
			skip_statement(c);
	c->depth--;
	c->tk = saved_tk;
	c->i = saved_i;
	c->dir = saved_dir;
	free(dir);
	toks_free(&tk);
	return c->d->errors > before ? -1 : 0;
}
