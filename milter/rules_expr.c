/*
 * rules_expr -- conditions (spec section 4.5): parsing with the usual
 * precedence (not > and > or), and static checks: unknown names, types
 * (numbers compare with numbers, yes/no facts with yes/no, IP facts with
 * IPs), facts and limits used before their stage. Evaluation is in
 * rules_eval.c.
 *
 * Bounds, so that a hostile file cannot exhaust the stack or memory of
 * the load or of evaluation: parentheses and `not` nest at most
 * RULES_NEST_MAX deep, a condition has at most RULES_TERMS_MAX terms, and
 * a regular expression whose compiled form would explode (nested or
 * stacked repeats) or that uses back-references is refused.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "num.h"
#include "rules_int.h"
#include "xalloc.h"

static struct expr *parse_or(struct pctx *, unsigned);

/* use_fact -- record that the rule set (and the rule being parsed) uses fact f */
void
use_fact(struct pctx *c, enum fact f)
{
	c->r->needs.fact[f] = 1;
	if (c->used != NULL)
		c->used[f] = 1;
}

/* fact_usable -- may fact f be used here (a condition, or a template)? 0 or -1 */
int
fact_usable(struct pctx *c, enum fact f, int tmpl, const struct token *t)
{
	const struct fact_info *fi = fact_info(f);
	int	lim = f == V_RETRY_AFTER || f == V_LIMIT_NAME || f == V_LIMIT_COUNT ||
		    f == V_LIMIT_MAX || f == V_LIMIT_WINDOW;

	if (!tmpl && (fi->flags & FACT_TEMPLATE_ONLY)) {
		perr(c, t, "'%s' is a reply variable, not something a condition "
		    "can test", fi->name);
		return -1;
	}
	if (c->footer && (lim || (!(fi->flags & FACT_TEMPLATE_ONLY) &&
	    fi->stage > STAGE_CONNECT))) {
		perr(c, t, "the footer is shown at every stage: it can use ref, "
		    "rule, hostname, queue_id and connect facts, not '%s'", fi->name);
		return -1;
	}
	if (!c->footer && !(fi->flags & FACT_TEMPLATE_ONLY) && fi->stage > c->stage) {
		perr(c, t, "'%s' is known only from stage %s; this rule runs at %s",
		    fi->name, stage_name(fi->stage), stage_name(c->stage));
		return -1;
	}
	if (tmpl && lim && !c->footer && !c->has_limit) {
		perr(c, t, "${%s} describes the limit that made the rule match, "
		    "but this rule's condition tests no limit", fi->name);
		return -1;
	}
	return 0;
}

/* fact_unknown -- report a name that is no fact */
void
fact_unknown(struct pctx *c, const struct token *t, const char *name,
    size_t len, int tmpl)
{
	if (tmpl)
		perr(c, t, "unknown variable ${%.*s}", (int)len, name);
	else
		perr(c, t, "unknown fact '%.*s'", (int)len, name);
}

/* node -- a new expression node */
static struct expr *
node(enum ex op, struct expr *a, struct expr *b)
{
	struct expr	*e = xcalloc(1, sizeof(*e));

	e->op = op;
	e->a = a;
	e->b = b;
	return e;
}

/* expr_free -- free a tree */
void
expr_free(struct expr *e)
{
	if (e == NULL)
		return;
	expr_free(e->a);
	expr_free(e->b);
	free(e->str);
	if (e->list_owned)
		list_free(e->list);
	if (e->re_ok)
		regfree(&e->re);
	free(e);
}

/*
 * limit_stage -- the first stage at which a limit means something, and
 * why: connections and concurrency from connect, messages and bytes
 * (declared SIZE) from mail, recipients from rcpt; keys other than
 * client_ip from mail, rcpt_domain from rcpt.
 */
static enum stage
limit_stage(const struct rl_limit *l, const char **why)
{
	static const char *parts[] = { "client_ip", "sasl_user", "sender",
				       "sender_domain", "rcpt_domain", "customer" };
	enum stage	s = STAGE_CONNECT, ps;
	unsigned	i, j;

	*why = "";
	if (l->count == RL_COUNT_MESSAGES || l->count == RL_COUNT_BYTES) {
		s = STAGE_MAIL;
		*why = l->count == RL_COUNT_MESSAGES ? "it counts messages" :
		    "it counts bytes";
	} else if (l->count == RL_COUNT_RECIPIENTS) {
		s = STAGE_RCPT;
		*why = "it counts recipients";
	}
	for (i = 0; i < l->nkeys; i++)
		for (j = 0; j < l->key[i].nparts; j++) {
			ps = l->key[i].part[j] == RL_PART_RCPT_DOMAIN ? STAGE_RCPT :
			    l->key[i].part[j] == RL_PART_CLIENT_IP ? STAGE_CONNECT :
			    STAGE_MAIL;
			if (ps > s) {
				s = ps;
				*why = parts[l->key[i].part[j]];
			}
		}
	return s;
}

/* p_limit -- limit NAME exceeded */
static struct expr *
p_limit(struct pctx *c)
{
	struct token	*t = pnext(c);
	struct named	*n = t->t == T_WORD ?
			    find_kind(c, t->s, NK_LIMIT) : NULL;
	struct expr	*e;
	const char	*why;
	enum stage	 ls;

	if (n == NULL) {
		perr(c, t, "no limit '%s' is defined before this rule", tok_text(t));
		return NULL;
	}
	if ((ls = limit_stage(n->p, &why)) > c->stage) {
		perr(c, t, "limit %s can be tested only from stage %s (%s%s); "
		    "this rule runs at %s", t->s, stage_name(ls),
		    strncmp(why, "it ", 3) == 0 ? "" : "its key uses ", why,
		    stage_name(c->stage));
		return NULL;
	}
	if (!word_is(ptok(c), "exceeded")) {
		perr(c, ptok(c), "expected 'exceeded' after limit %s", t->s);
		return NULL;
	}
	pnext(c);
	c->has_limit = 1;
	e = node(EX_LIMIT, NULL, NULL);
	e->limit = n->p;
	return e;
}

/* signed_num -- a decimal, possibly negative number word; 0 or -1 */
static int
signed_num(const struct token *t, int64_t *out)
{
	int		neg = t->t == T_WORD && t->s[0] == '-';
	uint64_t	v;

	if (t->t != T_WORD || num_parse(t->s + neg, t->len - (size_t)neg, 0,
	    INT64_MAX, &v) == -1)
		return -1;
	*out = neg ? -(int64_t)v : (int64_t)v;
	return 0;
}

/* bool_word -- yes/no, true/false, on/off, 1/0; 0 or -1 */
static int
bool_word(const struct token *t, int64_t *out)
{
	static const char *w[] = { "no", "yes", "false", "true", "off", "on",
				   "0", "1" };
	size_t	i;

	for (i = 0; i < sizeof(w) / sizeof(w[0]); i++)
		if ((t->t == T_WORD || t->t == T_STR) && strcasecmp(t->s, w[i]) == 0) {
			*out = (int64_t)(i % 2);
			return 0;
		}
	return -1;
}

/* p_is -- FACT is [not] VALUE */
static struct expr *
p_is(struct pctx *c, struct expr *e, const struct fact_info *fi)
{
	struct token	*t;

	e->op = EX_IS;
	if (word_is(ptok(c), "not")) {
		pnext(c);
		e->op = EX_ISNOT;
	}
	t = pnext(c);
	if (t->t != T_WORD && t->t != T_STR) {
		perr(c, t, "expected a word or \"string\" after 'is'");
		expr_free(e);
		return NULL;
	}
	e->str = xstrdup(t->s);
	if ((fi->type == FT_IP && ip_parse(t->s, t->len, &e->ip) == -1) ||
	    (fi->type == FT_NUM && signed_num(t, &e->num) == -1) ||
	    (fi->type == FT_BOOL && bool_word(t, &e->num) == -1)) {
		perr(c, t, "'%s' is %s", fi->name, fi->type == FT_IP ?
		    "an address: compare it with an IP" : fi->type == FT_NUM ?
		    "a number: compare it with a number" : "yes or no");
		expr_free(e);
		return NULL;
	}
	return e;
}

/* p_in -- FACT in LIST | in TABLE | in { ... } */
static struct expr *
p_in(struct pctx *c, struct expr *e, const struct fact_info *fi)
{
	struct token	*t = ptok(c);
	struct named	*n;

	if (fi->type == FT_NUM || fi->type == FT_BOOL) {
		perr(c, t, "'%s' is a %s: test it with %s", fi->name,
		    fi->type == FT_NUM ? "number" : "yes/no fact",
		    fi->type == FT_NUM ? "< <= > >= == !=" : "it alone or with not");
		expr_free(e);
		return NULL;
	}

	if (t->t == T_LBRACE) {
		e->op = EX_INLIST;
		e->list = list_new();
		e->list_owned = 1;
		if (rules_list_items(c, e->list) == -1) {
			expr_free(e);
			return NULL;
		}
		return e;
	}
	pnext(c);
	if (t->t == T_WORD && (n = find_kind(c, t->s, NK_LIST)) != NULL) {
		e->op = EX_INLIST;
		e->list = n->p;
	} else if (t->t == T_WORD &&
	    (n = find_kind(c, t->s, NK_TABLE)) != NULL) {
		e->op = EX_INTABLE;
		e->table = n->p;
	} else {
		perr(c, t, "no list or table '%s' is defined before this rule",
		    tok_text(t));
		expr_free(e);
		return NULL;
	}
	return e;
}

#define RE_COST_MAX	10000

/* re_bound -- the repeat count of {M}, {M,} or {M,N} at *pp; 0: not one */
static double
re_bound(const char **pp)
{
	const char	*p = *pp + 1;
	double		 m = 0, n = -1;

	if (*p < '0' || *p > '9')
		return 0;
	for (; *p >= '0' && *p <= '9' && m < 1e6; p++)
		m = m * 10 + (*p - '0');
	if (*p == ',') {
		p++;
		n = *p == '}' ? m + 1 : 0;
		for (; *p >= '0' && *p <= '9' && n < 1e6; p++)
			n = n * 10 + (*p - '0');
	}
	if (*p != '}')
		return 0;
	*pp = p;
	return n > m ? n : m > 1 ? m : 1;
}

/* re_class -- the ']' that closes the bracket expression at p, or its NUL */
static const char *
re_class(const char *p)
{
	const char	*e;

	p += p[1] == '^' ? 2 : 1;
	if (*p == ']')
		p++;
	for (; *p != '\0' && *p != ']'; p++)
		if (*p == '[' && (p[1] == ':' || p[1] == '.' || p[1] == '=') &&
		    (e = strchr(p + 2, p[1])) != NULL && e[1] == ']')
			p = e + 1;
	return p;
}

/*
 * re_cost -- about how many nodes regcomp builds. glibc copies a repeated
 * atom or group once per repeat, so nested and stacked repeats multiply:
 * a few dozen bytes of pattern could exhaust memory. Back-references
 * (exponential matching) cost too much by definition.
 */
static double
re_cost(const char *p)
{
	double		 sum[RULES_NEST_MAX + 2], last = 0, k;
	unsigned	 depth = 0;

	for (sum[0] = 0; *p != '\0' && last <= RE_COST_MAX; p++) {
		if (*p == '*' || *p == '?' || *p == '+') {
			last *= 2;
			continue;
		}
		if (*p == '{' && (k = re_bound(&p)) > 0) {
			last *= k;
			continue;
		}
		sum[depth] += last;		/* the previous atom is complete */
		last = 1;
		if (*p == '(') {
			if (depth > RULES_NEST_MAX)
				return RE_COST_MAX + 1;
			sum[++depth] = 0;
			last = 0;
		} else if (*p == ')' && depth > 0)
			last = sum[depth--] + 1;
		else if (*p == '|')
			last = 0;
		else if (*p == '[')
			p = re_class(p);
		else if (*p == '\\' && p[1] >= '1' && p[1] <= '9')
			return RE_COST_MAX + 1;
		else if (*p == '\\' && p[1] != '\0')
			p++;
		if (*p == '\0')
			break;
	}
	while (depth > 0) {
		sum[depth - 1] += sum[depth];
		depth--;
	}
	return sum[0] + last;
}

/* p_cmp -- FACT OP NUMBER, FACT =~ "REGEX" */
static struct expr *
p_cmp(struct pctx *c, struct expr *e, const struct fact_info *fi)
{
	static const char *ops[] = { "<", "<=", ">", ">=", "==", "!=" };
	struct token	*op = pnext(c), *t = pnext(c);
	int		 i;
	char		 msg[160];

	if (strcmp(op->s, "=~") == 0) {
		e->op = EX_RE;
		if (fi->type == FT_NUM || fi->type == FT_BOOL) {
			perr(c, op, "'%s' is a %s: =~ is for text", fi->name,
			    fi->type == FT_NUM ? "number" : "yes/no fact");
			goto bad;
		}
		if (t->t != T_STR) {
			perr(c, t, "expected a \"regular expression\" after =~");
			goto bad;
		}
		if (re_cost(t->s) > RE_COST_MAX) {
			perr(c, t, "regular expression too complex (nested or "
			    "stacked repeats, or back-references)");
			goto bad;
		}
		if ((i = regcomp(&e->re, t->s, REG_EXTENDED | REG_ICASE | REG_NOSUB)) != 0) {
			regerror(i, &e->re, msg, sizeof(msg));
			perr(c, t, "bad regular expression: %s", msg);
			goto bad;
		}
		e->re_ok = 1;
		return e;
	}
	for (i = 0; i < 6 && strcmp(op->s, ops[i]) != 0; i++)
		;
	e->op = EX_CMP;
	e->cmp = (enum cmp)i;
	if (fi->type != FT_NUM) {
		perr(c, op, "'%s' is not a number: use is, in or =~", fi->name);
		goto bad;
	}
	if (signed_num(t, &e->num) == -1) {
		perr(c, t, "expected a number");
		goto bad;
	}
	return e;
bad:
	expr_free(e);
	return NULL;
}

/* p_fact -- FACT [comparison] */
static struct expr *
p_fact(struct pctx *c, struct token *t)
{
	struct expr	*e;
	enum fact	 f;
	const struct fact_info *fi;
	int		 id;

	if (t->t != T_WORD || word_is(t, "and") || word_is(t, "or") ||
	    word_is(t, "is") || word_is(t, "in")) {
		perr(c, t, "expected a fact, 'not', 'limit' or '(' here, not '%s'",
		    tok_text(t));
		return NULL;
	}
	if (fact_lookup(t->s, t->len, &f) == 0) {
		if (fact_usable(c, f, 0, t) == -1)
			return NULL;
		id = (int)f;
	} else if (rules_dnsbl_fact(c, t, t->s, t->len, 0, &id) == -1)
		return NULL;
	f = FACT_BASE(id);
	use_fact(c, f);
	fi = fact_info(f);
	e = node(EX_BARE, NULL, NULL);
	e->fact = f;
	e->arg = (unsigned)FACT_INDEX(id);
	if (word_is(ptok(c), "is")) {
		pnext(c);
		return p_is(c, e, fi);
	}
	if (word_is(ptok(c), "in")) {
		pnext(c);
		return p_in(c, e, fi);
	}
	/* FACT not in X: the same as not FACT in X */
	if (word_is(ptok(c), "not") && word_is(&c->tk->v[c->i + 1], "in")) {
		pnext(c);
		pnext(c);
		return (e = p_in(c, e, fi)) != NULL ? node(EX_NOT, e, NULL) : NULL;
	}
	if (ptok(c)->t == T_OP)
		return p_cmp(c, e, fi);
	return e;
}

/* p_primary -- ( EXPR ) | not P | limit NAME exceeded | FACT ... */
static struct expr *
p_primary(struct pctx *c, unsigned depth)
{
	struct token	*t = pnext(c);
	struct expr	*e;

	if (depth > RULES_NEST_MAX) {
		perr(c, t, "condition nested deeper than %d", RULES_NEST_MAX);
		return NULL;
	}
	/* bounds the tree, hence the recursion of evaluation and freeing */
	if (++c->terms > RULES_TERMS_MAX) {
		perr(c, t, "condition longer than %d terms", RULES_TERMS_MAX);
		return NULL;
	}
	if (word_is(t, "not"))
		return (e = p_primary(c, depth + 1)) != NULL ? node(EX_NOT, e, NULL) : NULL;
	if (word_is(t, "limit"))
		return p_limit(c);
	if (t->t == T_LPAREN) {
		if ((e = parse_or(c, depth + 1)) == NULL)
			return NULL;
		if ((t = pnext(c))->t != T_RPAREN) {
			perr(c, t, "expected ')'");
			expr_free(e);
			return NULL;
		}
		return e;
	}
	return p_fact(c, t);
}

/* parse_and -- P and P and ... */
static struct expr *
parse_and(struct pctx *c, unsigned depth)
{
	struct expr	*e = p_primary(c, depth), *b;

	while (e != NULL && word_is(ptok(c), "and")) {
		pnext(c);
		if ((b = p_primary(c, depth)) == NULL) {
			expr_free(e);
			return NULL;
		}
		e = node(EX_AND, e, b);
	}
	return e;
}

/* parse_or -- A or A or ... */
static struct expr *
parse_or(struct pctx *c, unsigned depth)
{
	struct expr	*e = parse_and(c, depth), *b;

	while (e != NULL && word_is(ptok(c), "or")) {
		pnext(c);
		if ((b = parse_and(c, depth)) == NULL) {
			expr_free(e);
			return NULL;
		}
		e = node(EX_OR, e, b);
	}
	return e;
}

/* expr_parse -- a whole condition */
struct expr *
expr_parse(struct pctx *c)
{
	c->terms = 0;
	return parse_or(c, 0);
}
