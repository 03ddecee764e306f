/*
 * rules_dnsbl -- the `dnsbl NAME { ... }` statement (spec section 4.3),
 * and the per-list facts dnsbl.NAME, dnsbl.NAME.label and the template
 * variable dnsbl.NAME.txt, which name a list defined before them.
 *
 *   dnsbl NAME {
 *       zone Z                               (required)
 *       answer A [label L] [weight W]        (repeatable; dnsbl.h)
 *       public_name "TEXT"
 *       timeout D                            (1s-60s; default dns_timeout)
 *       on_error ignore|tempfail
 *   }
 */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include "num.h"
#include "rules_int.h"

#define RULES_DNSBL_MAX		32	/* lists per rule set */
#define PUBLIC_NAME_MAX		100

struct seen {
	struct dnsbl	*l;
	int		 zone, public_name, timeout, on_error;
};

/* once -- a line that may appear once per block; 0 or -1 */
static int
once(struct pctx *c, const struct token *kw, int *flag)
{
	if (*flag) {
		perr(c, kw, "%s is already set in this dnsbl", kw->s);
		return -1;
	}
	*flag = 1;
	return 0;
}

/* d_answer -- answer A [label L] [weight W] */
static int
d_answer(struct pctx *c, struct dnsbl *l)
{
	struct token	*pat = pnext(c), *t, *lab = NULL;
	struct buf	 err = BUF_INIT;
	uint64_t	 v;
	int		 weight = 1, neg, rc;

	if (pat->t != T_WORD) {
		perr(c, pat, "expected an answer: an IP, a CIDR, a range "
		    "A-B or an octet pattern such as 127.0.0.[2-11]");
		return -1;
	}
	for (;;) {
		if (word_is(ptok(c), "label")) {
			pnext(c);
			lab = pnext(c);
			if (lab->t != T_WORD && lab->t != T_STR) {
				perr(c, lab, "expected a label after 'label'");
				return -1;
			}
		} else if (word_is(ptok(c), "weight")) {
			pnext(c);
			t = pnext(c);
			neg = t->t == T_WORD && t->s[0] == '-';
			if (t->t != T_WORD || num_parse(t->s + neg, t->len -
			    (size_t)neg, 0, DNSBL_WEIGHT_MAX, &v) == -1) {
				perr(c, t, "expected a weight from -%d to %d",
				    DNSBL_WEIGHT_MAX, DNSBL_WEIGHT_MAX);
				return -1;
			}
			weight = neg ? -(int)v : (int)v;
		} else
			break;
	}
	rc = dnsbl_add_answer(l, pat->s, pat->len, lab ? lab->s : NULL, weight,
	    &err);
	if (rc == -1)
		perr(c, pat, "%s", buf_str(&err));
	buf_free(&err);
	return rc;
}

/* d_line -- one line of a dnsbl block, after its keyword kw */
static int
d_line(struct pctx *c, void *arg, struct token *kw)
{
	struct seen	*s = arg;
	struct dnsbl	*l = s->l;
	struct token	*t;
	struct buf	 err = BUF_INIT;
	uint64_t	 secs;
	int		 rc = 0;

	if (word_is(kw, "answer"))
		return d_answer(c, l);
	if (word_is(kw, "zone")) {
		if (once(c, kw, &s->zone) == -1)
			return -1;
		if ((t = pnext(c))->t != T_WORD && t->t != T_STR) {
			perr(c, t, "expected the list's DNS zone");
			return -1;
		}
		if ((rc = dnsbl_set_zone(l, t->s, &err)) == -1)
			perr(c, t, "%s", buf_str(&err));
		buf_free(&err);
		return rc;
	}
	if (word_is(kw, "public_name")) {
		if (once(c, kw, &s->public_name) == -1)
			return -1;
		if ((t = pnext(c))->t != T_STR || t->len == 0 ||
		    t->len > PUBLIC_NAME_MAX) {
			perr(c, t, "expected the list's public name as a \"text\" "
			    "of 1-%d characters", PUBLIC_NAME_MAX);
			return -1;
		}
		dnsbl_set_public_name(l, t->s);
		return 0;
	}
	if (word_is(kw, "timeout")) {
		if (once(c, kw, &s->timeout) == -1)
			return -1;
		t = pnext(c);
		if (t->t != T_WORD || num_parse_duration(t->s, t->len,
		    NUM_UNIT_REQUIRED, 1, 60, &secs) == -1) {
			perr(c, t, "expected a timeout from 1s to 60s");
			return -1;
		}
		dnsbl_set_timeout(l, (unsigned)secs * 1000);
		return 0;
	}
	if (word_is(kw, "on_error")) {
		if (once(c, kw, &s->on_error) == -1)
			return -1;
		t = pnext(c);
		if (word_is(t, "ignore") || word_is(t, "tempfail")) {
			dnsbl_set_on_error(l, word_is(t, "ignore") ?
			    DNSBL_ON_ERROR_IGNORE : DNSBL_ON_ERROR_TEMPFAIL);
			return 0;
		}
		perr(c, t, "on_error is ignore or tempfail");
		return -1;
	}
	perr(c, kw, "expected zone, answer, public_name, timeout or on_error, "
	    "not '%s'", tok_text(kw));
	return -1;
}

/* rules_st_dnsbl -- dnsbl NAME { ... } */
int
rules_st_dnsbl(struct pctx *c)
{
	struct token	*name = rules_new_name(c, "dnsbl"), *t;
	struct dnsbl	*l;
	struct seen	 s;
	int		 rc = 0;

	if (name == NULL)
		return -1;
	if ((t = pnext(c))->t != T_LBRACE) {
		perr(c, t, "expected '{'");
		return -1;
	}
	if (c->r->ndnsbls >= RULES_DNSBL_MAX)
		perr(c, name, "more than %d DNS lists", RULES_DNSBL_MAX), rc = -1;
	memset(&s, 0, sizeof(s));
	s.l = l = dnsbl_new(name->s);
	if (rules_block_lines(c, name, "dnsbl", d_line, &s) == -1)
		rc = -1;
	else if (!s.zone)
		perr(c, name, "dnsbl %s: zone is required", name->s), rc = -1;
	rules_add_named(c, NK_DNSBL, name, l);
	return rc == 0 ? expect_end(c) : -1;
}

/*
 * rules_dnsbl_fact -- a per-list name: dnsbl.NAME, dnsbl.NAME.label, or
 * (templates) dnsbl.NAME.txt, for a list defined before; *id is its fact
 * id. Anything else is reported as an unknown fact or variable. 0 or -1.
 */
int
rules_dnsbl_fact(struct pctx *c, const struct token *t, const char *name,
    size_t len, int tmpl, int *id)
{
	const char	*dot;
	char		 list[128];
	size_t		 nl, sl;
	struct named	*n;
	enum fact	 f;

	if (len <= 6 || strncmp(name, "dnsbl.", 6) != 0) {
		fact_unknown(c, t, name, len, tmpl);
		return -1;
	}
	dot = memchr(name + 6, '.', len - 6);
	nl = dot != NULL ? (size_t)(dot - name - 6) : len - 6;
	sl = dot != NULL ? len - 6 - nl - 1 : 0;
	if (nl == 0 || nl >= sizeof(list)) {
		fact_unknown(c, t, name, len, tmpl);
		return -1;
	}
	memcpy(list, name + 6, nl);
	list[nl] = '\0';
	if ((n = find_kind(c, list, NK_DNSBL)) == NULL) {
		perr(c, t, "'%.*s': no DNS list '%s' is defined before this line "
		    "(dnsbl %s { zone ... })", (int)len, name, list, list);
		return -1;
	}
	if (sl == 0)
		f = F_DNSBL_LIST;
	else if (sl == 5 && memcmp(dot + 1, "label", 5) == 0)
		f = F_DNSBL_LABEL;
	else if (sl == 3 && memcmp(dot + 1, "txt", 3) == 0)
		f = V_DNSBL_LIST_TXT;
	else {
		perr(c, t, "'%.*s': a DNS list has dnsbl.%s, dnsbl.%s.label and "
		    "(in texts) dnsbl.%s.txt", (int)len, name, list, list, list);
		return -1;
	}
	if (fact_usable(c, f, tmpl, t) == -1)
		return -1;
	*id = FACT_ID(f, n - c->r->dnsbls);
	return 0;
}
