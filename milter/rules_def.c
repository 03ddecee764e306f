/*
 * rules_def -- the `limit` and `rule` statements (spec sections 4.3, 4.4).
 *
 * A limit block becomes a struct rl_limit (ratelimit.h); a rule block a
 * struct rule with its condition (rules_expr.c) and actions. Everything
 * that can be checked at load is: required and conflicting lines, reply
 * codes against their enhanced codes, template variables against the
 * rule's stage, duplicate ids.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "num.h"
#include "rules_int.h"
#include "xalloc.h"

#define MAX_RATE	4294967295ULL
#define MAX_WINDOW	(366ULL * 86400)

/*
 * skip_line -- after an error: to the end of the block's current line,
 * over any { ... } on it (an inline set), but not past the block's '}'
 */
static void
skip_line(struct pctx *c)
{
	unsigned	depth = 0;
	enum tok	t;

	while ((t = ptok(c)->t) != T_EOF) {
		if (depth == 0 && (t == T_END || t == T_RBRACE))
			return;
		if (t == T_LBRACE)
			depth++;
		else if (t == T_RBRACE)
			depth--;
		pnext(c);
	}
}

/* key_part -- one part name (with /LEN for client_ip) into k */
static int
key_part(struct pctx *c, const struct token *t, const char *s, size_t len,
    struct rl_key *k)
{
	static const struct { const char *n; enum rl_part p; } parts[] = {
		{ "client_ip", RL_PART_CLIENT_IP }, { "sasl_user", RL_PART_SASL_USER },
		{ "sender", RL_PART_SENDER }, { "sender_domain", RL_PART_SENDER_DOMAIN },
		{ "rcpt_domain", RL_PART_RCPT_DOMAIN }, { "customer", RL_PART_CUSTOMER },
	};
	const char	*sl = memchr(s, '/', len);
	size_t		 nl = sl != NULL ? (size_t)(sl - s) : len, i;
	uint64_t	 v;

	for (i = 0; i < sizeof(parts) / sizeof(parts[0]); i++)
		if (strlen(parts[i].n) == nl && memcmp(parts[i].n, s, nl) == 0)
			break;
	if (i == sizeof(parts) / sizeof(parts[0]) || k->nparts >= RL_MAX_PARTS) {
		perr(c, t, "unknown key '%.*s' (client_ip, sasl_user, sender, "
		    "sender_domain, rcpt_domain, customer, or several joined with +)",
		    (int)nl, s);
		return -1;
	}
	k->part[k->nparts++] = parts[i].p;
	if (sl == NULL)
		return 0;
	if (parts[i].p != RL_PART_CLIENT_IP ||
	    num_parse(sl + 1, len - nl - 1, 0, 32, &v) == -1) {
		perr(c, t, "bad prefix length: client_ip/0-32 (and /0-128 for IPv6)");
		return -1;
	}
	k->v4len = (unsigned)v;
	return 0;
}

/* key_has_ip -- does key k use client_ip (alone or joined with +)? */
static int
key_has_ip(const struct rl_key *k)
{
	unsigned	i;

	for (i = 0; i < k->nparts; i++)
		if (k->part[i] == RL_PART_CLIENT_IP)
			return 1;
	return 0;
}

/* lim_key -- key K [K ...] */
static int
lim_key(struct pctx *c, struct rl_limit *l)
{
	struct token	*t;
	struct rl_key	*k = NULL;
	const char	*s, *plus;
	uint64_t	 v;

	while ((t = ptok(c))->t == T_WORD) {
		pnext(c);
		if (t->s[0] == '/') {
			if (k == NULL || !key_has_ip(k)) {
				perr(c, t, "a /V6LEN prefix follows a client_ip key");
				return -1;
			}
			if (num_parse(t->s + 1, t->len - 1, 0, 128, &v) == -1) {
				perr(c, t, "bad IPv6 prefix length (0-128)");
				return -1;
			}
			k->v6len = (unsigned)v;
			continue;
		}
		if (l->nkeys >= RL_MAX_KEYS) {
			perr(c, t, "more than %d keys", RL_MAX_KEYS);
			return -1;
		}
		k = &l->key[l->nkeys++];
		k->v4len = 32;
		k->v6len = 64;
		for (s = t->s; ; s = plus + 1) {
			plus = strchr(s, '+');
			if (key_part(c, t, s, plus ? (size_t)(plus - s) : strlen(s), k) == -1)
				return -1;
			if (plus == NULL)
				break;
		}
	}
	if (k == NULL) {
		perr(c, t, "expected a key (e.g. client_ip/24 /64, sasl_user)");
		return -1;
	}
	return 0;
}

/* lim_rate -- rate N/DURATION [burst B] */
static int
lim_rate(struct pctx *c, struct rl_limit *l)
{
	struct token	*t = pnext(c);
	const char	*sl = t->t == T_WORD ? strchr(t->s, '/') : NULL;
	struct rl_window *w;

	if (l->nwindows >= RL_MAX_WINDOWS) {
		perr(c, t, "more than %d rate lines", RL_MAX_WINDOWS);
		return -1;
	}
	w = &l->window[l->nwindows];
	if (sl == NULL || num_parse(t->s, (size_t)(sl - t->s), 1, MAX_RATE, &w->n) == -1 ||
	    num_parse_duration(sl + 1, strlen(sl + 1), NUM_UNIT_REQUIRED, 1,
	    MAX_WINDOW, &w->secs) == -1) {
		perr(c, t, "expected N/DURATION, e.g. 30/1m (N 1-%llu, duration "
		    "1s-366d with s, m, h or d)", MAX_RATE);
		return -1;
	}
	w->burst = w->n;
	if (word_is(ptok(c), "burst")) {
		pnext(c);
		t = pnext(c);
		if (t->t != T_WORD || num_parse(t->s, t->len, 1, MAX_RATE, &w->burst) == -1) {
			perr(c, t, "expected the burst size (1-%llu)", MAX_RATE);
			return -1;
		}
		w->burst_set = 1;
	}
	l->nwindows++;
	return 0;
}

/* lim_override -- override TABLE.FIELD */
static int
lim_override(struct pctx *c, struct rl_limit *l)
{
	struct token	*t = pnext(c);
	const char	*dot = t->t == T_WORD ? strchr(t->s, '.') : NULL;
	struct named	*n;
	char		*tn;

	if (l->override != NULL) {
		perr(c, t, "override is already set in this limit");
		return -1;
	}
	if (dot == NULL || dot[1] == '\0') {
		perr(c, t, "expected TABLE.FIELD");
		return -1;
	}
	tn = xstrndup(t->s, (size_t)(dot - t->s));
	n = find_kind(c, tn, NK_TABLE);
	if (n == NULL)
		perr(c, t, "no table '%s' is defined before this line", tn);
	free(tn);
	if (n == NULL)
		return -1;
	l->override = n->p;
	l->override_field = xstrdup(dot + 1);
	return 0;
}

/* lim_line -- one line of a limit block */
static int
lim_line(struct pctx *c, struct rl_limit *l, const struct token *kw, int *have_count)
{
	static const char *counts[] = { "connections", "concurrent", "messages",
					"recipients", "bytes" };
	struct token	*t;
	size_t		 i;

	if (word_is(kw, "count")) {
		t = pnext(c);
		for (i = 0; i < 5 && !word_is(t, counts[i]); i++)
			;
		if (i == 5) {
			perr(c, t, "count must be connections, concurrent, messages, "
			    "recipients or bytes");
			return -1;
		}
		if (*have_count) {
			perr(c, kw, "count is already set in this limit");
			return -1;
		}
		l->count = (enum rl_count)i;
		*have_count = 1;
		return 0;
	}
	if (word_is(kw, "key"))
		return lim_key(c, l);
	if (word_is(kw, "rate"))
		return lim_rate(c, l);
	if (word_is(kw, "override"))
		return lim_override(c, l);
	if (word_is(kw, "max")) {
		if (l->max != 0) {
			perr(c, kw, "max is already set in this limit");
			return -1;
		}
		t = pnext(c);
		if (t->t != T_WORD || num_parse(t->s, t->len, 1, MAX_RATE, &l->max) == -1) {
			perr(c, t, "expected a number 1-%llu", MAX_RATE);
			return -1;
		}
		return 0;
	}
	perr(c, kw, "expected count, key, rate, max or override, not '%s'", kw->s);
	return -1;
}

/*
 * lim_keys_check -- keys that exist when the count is taken: connections
 * are counted at connect (client_ip only); rcpt_domain is one recipient's
 */
static int
lim_keys_check(struct pctx *c, const struct rl_limit *l, const struct token *at)
{
	unsigned	i, j;
	int		conn = l->count == RL_COUNT_CONNECTIONS ||
			    l->count == RL_COUNT_CONCURRENT;

	for (i = 0; i < l->nkeys; i++)
		for (j = 0; j < l->key[i].nparts; j++) {
			if (conn && l->key[i].part[j] != RL_PART_CLIENT_IP) {
				perr(c, at, "limit %s: connections are counted at "
				    "connect, where the only key is client_ip", l->name);
				return -1;
			}
			if (l->key[i].part[j] == RL_PART_RCPT_DOMAIN &&
			    l->count != RL_COUNT_RECIPIENTS) {
				perr(c, at, "limit %s: key rcpt_domain needs count "
				    "recipients", l->name);
				return -1;
			}
		}
	return 0;
}

/* lim_check -- the lines of a limit fit together */
static int
lim_check(struct pctx *c, const struct rl_limit *l, const struct token *at,
    int have_count)
{
	int	rc = 0;

	if (!have_count)
		perr(c, at, "limit %s: missing `count`", l->name), rc = -1;
	if (l->nkeys == 0)
		perr(c, at, "limit %s: missing `key`", l->name), rc = -1;
	if (have_count && l->count == RL_COUNT_CONCURRENT &&
	    (l->max == 0 || l->nwindows > 0))
		perr(c, at, "limit %s: count concurrent takes `max N` and no rate",
		    l->name), rc = -1;
	if (have_count && l->count != RL_COUNT_CONCURRENT &&
	    (l->nwindows == 0 || l->max != 0))
		perr(c, at, "limit %s: needs `rate N/DURATION` (max is for count "
		    "concurrent)", l->name), rc = -1;
	if (l->override != NULL && l->nwindows > 1)
		perr(c, at, "limit %s: override needs a single rate line", l->name),
		    rc = -1;
	if (have_count && lim_keys_check(c, l, at) == -1)
		rc = -1;
	return rc;
}

/*
 * rules_block_lines -- after a definition's '{': each line to fn (its
 * first token given), to the '}'; a bad line is reported and skipped,
 * and the others are still read. 0 or -1.
 */
int
rules_block_lines(struct pctx *c, const struct token *name, const char *kind,
    int (*fn)(struct pctx *, void *, struct token *), void *arg)
{
	struct token	*t;
	int		 rc = 0;

	for (;;) {
		while (ptok(c)->t == T_END)
			pnext(c);
		t = pnext(c);
		if (t->t == T_RBRACE || t->t == T_EOF)
			break;
		if (fn(c, arg, t) == -1 || expect_end(c) == -1) {
			rc = -1;
			skip_line(c);
		}
	}
	if (t->t == T_EOF)
		perr(c, name, "%s %s: missing '}'", kind, name->s), rc = -1;
	return rc;
}

struct lim_state {
	struct rl_limit	*l;
	int		 have_count;
};

/* lim_block_line -- rules_block_lines callback of a limit */
static int
lim_block_line(struct pctx *c, void *arg, struct token *kw)
{
	struct lim_state *ls = arg;

	return lim_line(c, ls->l, kw, &ls->have_count);
}

/* rules_st_limit -- limit NAME { ... } */
int
rules_st_limit(struct pctx *c)
{
	struct token	*name = rules_new_name(c, "limit"), *t;
	struct rl_limit	*l;
	struct lim_state ls;
	int		 rc;

	if (name == NULL)
		return -1;
	if ((t = pnext(c))->t != T_LBRACE) {
		perr(c, t, "expected '{'");
		return -1;
	}
	l = xcalloc(1, sizeof(*l));
	l->name = xstrdup(name->s);
	ls.l = l;
	ls.have_count = 0;
	rc = rules_block_lines(c, name, "limit", lim_block_line, &ls);
	if (rc == 0 && lim_check(c, l, name, ls.have_count) == -1)
		rc = -1;
	rules_add_named(c, NK_LIMIT, name, l);
	return rc == 0 ? expect_end(c) : -1;
}

/* code_check -- CODE and ECODE of tempfail (4xx) or reject (5xx) */
static int
code_check(struct pctx *c, const struct token *ct, const struct token *et,
    int tempfail)
{
	uint64_t	 code, cls, sub, det;
	const char	*s = et->s, *d1, *d2;

	if (ct->t != T_WORD || num_parse(ct->s, ct->len, 200, 599, &code) == -1 ||
	    (tempfail && code != 421 && code != 450 && code != 451 && code != 452) ||
	    (!tempfail && (code < 500 || code > 559))) {
		perr(c, ct, tempfail ? "tempfail code must be 421, 450, 451 or 452" :
		    "reject code must be 5XX (500-559)");
		return -1;
	}
	d1 = et->t == T_WORD ? strchr(s, '.') : NULL;
	d2 = d1 != NULL ? strchr(d1 + 1, '.') : NULL;
	if (d2 == NULL || num_parse(s, (size_t)(d1 - s), 2, 5, &cls) == -1 ||
	    num_parse(d1 + 1, (size_t)(d2 - d1 - 1), 0, 999, &sub) == -1 ||
	    num_parse(d2 + 1, strlen(d2 + 1), 0, 999, &det) == -1 ||
	    (cls != 2 && cls != 4 && cls != 5)) {
		perr(c, et, "expected an enhanced status code like %s.7.1",
		    tempfail ? "4" : "5");
		return -1;
	}
	if (cls != code / 100) {
		perr(c, et, "enhanced code %s does not agree with reply code %s "
		    "(use %llu.X.Y)", et->s, ct->s, (unsigned long long)(code / 100));
		return -1;
	}
	return 0;
}

/* header_name_ok -- RFC 5322 field name: printable ASCII except ':' */
static int
header_name_ok(const char *s)
{
	if (*s == '\0' || strlen(s) > 64)
		return 0;
	for (; *s != '\0'; s++)
		if (*s <= ' ' || *s > '~' || *s == ':')
			return 0;
	return 1;
}

/* rule_action -- one action line into a */
static int
rule_action(struct pctx *c, const struct token *kw, struct action *a)
{
	struct token	*t1, *t2;

	memset(a, 0, sizeof(*a));
	if (word_is(kw, "accept")) {
		a->a = RA_ACCEPT;
		return 0;
	}
	if (word_is(kw, "tempfail") || word_is(kw, "reject")) {
		a->a = word_is(kw, "tempfail") ? RA_TEMPFAIL : RA_REJECT;
		t1 = pnext(c);
		t2 = pnext(c);
		if (code_check(c, t1, t2, a->a == RA_TEMPFAIL) == -1)
			return -1;
		(void)strlcpy(a->code, t1->s, sizeof(a->code));
		(void)strlcpy(a->ecode, t2->s, sizeof(a->ecode));
		return (a->text = rules_template(c, pnext(c))) != NULL ? 0 : -1;
	}
	if (word_is(kw, "log")) {
		a->a = RA_LOG;
		return (a->text = rules_template(c, pnext(c))) != NULL ? 0 : -1;
	}
	if (word_is(kw, "header")) {
		a->a = RA_HEADER;
		t1 = pnext(c);
		if (t1->t != T_STR || !header_name_ok(t1->s)) {
			perr(c, t1, "expected a header field name as a \"string\"");
			return -1;
		}
		a->hname = xstrdup(t1->s);
		return (a->text = rules_template(c, pnext(c))) != NULL ? 0 : -1;
	}
	perr(c, kw, "expected an action (accept, tempfail, reject, log, header), "
	    "not '%s'", kw->s);
	return -1;
}

/* action_free -- free an action's strings */
static void
action_free(struct action *a)
{
	tmpl_free(a->text);
	free(a->hname);
}

/* rule_head -- rule ID at STAGE [monitor] {; 0, 1 for a duplicate id, -1 */
static int
rule_head(struct pctx *c, struct rule *r, struct token **idt)
{
	struct token	*t = pnext(c);
	uintptr_t	 i;
	int		 dup = 0;

	*idt = t;
	if (t->t != T_WORD || t->s[0] == '/' || strchr(t->s, '+') || strchr(t->s, '@')) {
		perr(c, t, "expected a rule id");
		return -1;
	}
	/* a duplicate is reported, and the rule is still checked */
	if ((i = (uintptr_t)hash_get(c->ids, t->s, t->len)) != 0) {
		perr(c, t, "rule id '%s' is already used at %s:%u", t->s,
		    c->r->rule[i - 1].file, c->r->rule[i - 1].line);
		dup = 1;
	}
	r->id = xstrdup(t->s);
	r->file = c->tk->file;
	r->line = t->line;
	if (!word_is(t = pnext(c), "at")) {
		perr(c, t, "expected 'at STAGE'");
		return -1;
	}
	t = pnext(c);
	if (t->t != T_WORD || stage_lookup(t->s, t->len, &r->stage) == -1) {
		perr(c, t, "unknown stage '%s' (connect, helo, mail, rcpt, data, eom)",
		    tok_text(t));
		return -1;
	}
	if (word_is(ptok(c), "monitor")) {
		pnext(c);
		r->monitor = 1;
	}
	if ((t = pnext(c))->t != T_LBRACE) {
		perr(c, t, "expected '{'");
		return -1;
	}
	return dup;
}

/* rule_body -- [if EXPR] and actions, up to '}' */
static int
rule_body(struct pctx *c, struct rule *r, const struct token *idt)
{
	struct token	*t;
	int		 rc = 0, terminal = 0;

	c->stage = r->stage;
	c->has_limit = 0;
	while (ptok(c)->t == T_END)
		pnext(c);
	if (word_is(ptok(c), "if")) {
		pnext(c);
		if ((r->cond = expr_parse(c)) == NULL || expect_end(c) == -1) {
			rc = -1;
			skip_line(c);
		}
	}
	for (;;) {
		while (ptok(c)->t == T_END)
			pnext(c);
		t = pnext(c);
		if (t->t == T_RBRACE || t->t == T_EOF)
			break;
		r->act = rules_grow(r->act, r->nact, sizeof(*r->act));
		if (rule_action(c, t, &r->act[r->nact]) == -1 || expect_end(c) == -1) {
			action_free(&r->act[r->nact]);
			rc = -1;
			skip_line(c);
			continue;
		}
		if (r->act[r->nact].a <= RA_REJECT && terminal++ > 0) {
			perr(c, t, "a rule has at most one of accept, tempfail, reject");
			rc = -1;
		}
		r->nact++;
	}
	if (t->t == T_EOF)
		perr(c, idt, "rule %s: missing '}'", r->id), rc = -1;
	else if (rc == 0 && r->nact == 0)
		perr(c, idt, "rule %s has no action", r->id), rc = -1;
	return rc;
}

/* rules_rule_free -- free one rule */
void
rules_rule_free(struct rule *r)
{
	size_t	i;

	free(r->id);
	expr_free(r->cond);
	for (i = 0; i < r->nact; i++)
		action_free(&r->act[i]);
	free(r->act);
}

/* rules_st_rule -- rule ID at STAGE [monitor] { ... } */
int
rules_st_rule(struct pctx *c)
{
	struct rule	 r;
	struct token	*idt;
	size_t		 i;
	int		 rc, dup;

	memset(&r, 0, sizeof(r));
	if ((dup = rule_head(c, &r, &idt)) == -1) {
		rules_rule_free(&r);
		return -1;
	}
	/* kept even when its body is broken, so a duplicate id is still found */
	c->used = r.used;
	rc = rule_body(c, &r, idt) == 0 && dup == 0 ? 0 : -1;
	c->used = NULL;
	c->r->needs.stages |= 1u << r.stage;
	for (i = 0; i < r.nact && r.stage <= STAGE_HELO && !r.monitor; i++)
		if (r.act[i].a == RA_HEADER)
			c->r->needs.conn_headers = 1;
	c->r->rule = rules_grow(c->r->rule, c->r->nrules, sizeof(r));
	c->r->rule[c->r->nrules++] = r;
	if (!dup)
		(void)hash_put(c->ids, r.id, strlen(r.id),
		    (void *)(uintptr_t)c->r->nrules);
	return rc == 0 ? expect_end(c) : -1;
}
