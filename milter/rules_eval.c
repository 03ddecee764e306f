/*
 * rules_eval -- running the rules of one stage (see rules.h).
 *
 * Nothing here changes the rule set: evaluation is thread-safe. Facts and
 * limits are asked for through the caller's env, only when a condition
 * reaches them (and, or short-circuit).
 *
 * A condition is three-valued in effect: 1 true, 0 false, or negative: -1
 * an internal error from a fact or limit callback, RULES_DEFER a fact
 * that defers the stage; either ends the evaluation. A true
 * result also names its witness: the limit whose `exceeded` made it true
 * (through and/or, never through not), for ${retry_after} and ${limit.*}.
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "rules_int.h"

/* text_of -- the text form of a value (the caller should set v->s; be safe) */
static const char *
text_of(const struct fact_info *fi, const struct fact_value *v, char *b,
    size_t len)
{
	if (v->s != NULL)
		return v->s;
	b[0] = '\0';
	if (v->set && fi->type == FT_IP)
		ip_format(&v->ip, b, len);
	else if (v->set && (fi->type == FT_NUM || fi->type == FT_BOOL))
		(void)snprintf(b, len, "%" PRId64, v->n);
	return b;
}

/* cmp_num -- a op b */
static int
cmp_num(enum cmp op, int64_t a, int64_t b)
{
	switch (op) {
	case CMP_LT: return a < b;
	case CMP_LE: return a <= b;
	case CMP_GT: return a > b;
	case CMP_GE: return a >= b;
	case CMP_EQ: return a == b;
	default:     return a != b;
	}
}

/* leaf -- a comparison of one fact; 1, 0 or -1 */
static int
leaf(const struct expr *e, const struct rules_env *env)
{
	struct fact_value	 v;
	struct table_query	 q;
	const struct fact_info	*fi = fact_info(e->fact);
	char			 tb[64];
	int			 rc;

	memset(&v, 0, sizeof(v));
	if ((rc = env->fact(env->arg, FACT_ID(e->fact, e->arg), &v)) < 0)
		return rc;
	if (e->op != EX_BARE && e->op != EX_CMP)
		v.s = text_of(fi, &v, tb, sizeof(tb));
	switch (e->op) {
	case EX_BARE:
		if (fi->type == FT_NUM || fi->type == FT_BOOL)
			return v.set && v.n != 0;
		return v.set && (fi->type == FT_IP || (v.s != NULL && v.s[0] != '\0'));
	case EX_IS:
	case EX_ISNOT:
		/* a yes/no fact is known when unset: it is no */
		if (fi->type == FT_BOOL)
			return ((v.set && v.n != 0) == (e->num != 0)) == (e->op == EX_IS);
		if (!v.set)
			return e->op == EX_ISNOT;
		if (fi->type == FT_NUM)
			return (v.n == e->num) == (e->op == EX_IS);
		if (fi->type == FT_IP)
			return ip_equal(&v.ip, &e->ip) == (e->op == EX_IS);
		return (strcasecmp(v.s, e->str) == 0) == (e->op == EX_IS);
	case EX_INLIST:
		if (!v.set)
			return 0;
		return fi->type == FT_IP ? list_match_ip(e->list, &v.ip) :
		    list_match_str(e->list, v.s);
	case EX_INTABLE:
		if (!v.set)
			return 0;
		memset(&q, 0, sizeof(q));
		if (fi->type == FT_IP)
			q.ip = &v.ip;
		else if (e->fact == F_SASL_USER)
			q.login = v.s;
		else
			q.address = v.s;
		return table_has(e->table, &q);
	case EX_RE:
		return regexec(&e->re, v.set ? v.s : "", 0, NULL, 0) == 0;
	case EX_CMP:
		return v.set && cmp_num(e->cmp, v.n, e->num);
	default:
		return 0;
	}
}

/*
 * expr_eval -- 1 true, 0 false, negative: an error or RULES_DEFER. When
 * true because of a limit (through and/or, never through not), *wl and
 * *wr name the first such limit; otherwise *wl is left alone.
 */
int
expr_eval(const struct expr *e, const struct rules_env *env,
    const struct rl_limit **wl, struct rl_result *wr)
{
	const struct rl_limit	*la = NULL, *lb = NULL;
	struct rl_result	 ra, rb;
	int			 a, b;

	switch (e->op) {
	case EX_OR:
	case EX_AND:
		a = expr_eval(e->a, env, &la, &ra);
		if (a < 0 || (e->op == EX_OR && a == 1) ||
		    (e->op == EX_AND && a == 0)) {
			if (a == 1 && la != NULL)
				*wl = la, *wr = ra;
			return a;
		}
		b = expr_eval(e->b, env, &lb, &rb);
		if (b == 1 && la != NULL && e->op == EX_AND)
			*wl = la, *wr = ra;
		else if (b == 1 && lb != NULL)
			*wl = lb, *wr = rb;
		return b;
	case EX_NOT:
		a = expr_eval(e->a, env, &la, &ra);
		return a < 0 ? a : !a;
	case EX_LIMIT:
		memset(&ra, 0, sizeof(ra));
		if ((a = env->limit(env->arg, e->limit, &ra)) < 0)
			return a;
		if (!ra.exceeded)
			return 0;
		*wl = e->limit;
		*wr = ra;
		return 1;
	default:
		return leaf(e, env);
	}
}

/* fill -- the match record of rule r, action a */
static void
fill(struct rules_match *m, const struct rule *r, const struct action *a,
    const struct rl_limit *l, const struct rl_result *res)
{
	memset(m, 0, sizeof(*m));
	m->rule = r->id;
	m->file = r->file;
	m->line = r->line;
	m->stage = r->stage;
	m->action = a->a;
	m->monitor = r->monitor;
	m->code = a->code;
	m->ecode = a->ecode;
	m->text = a->text;
	m->header_name = a->hname;
	m->limit = l;
	m->used = r->used;
	if (l != NULL)
		m->limit_result = *res;
}

/*
 * act -- the actions of matching rule r: non-terminal ones (and all of a
 * monitor rule) go to env->matched in order; returns the terminal action
 * of a non-monitor rule, or NULL.
 */
static const struct action *
act(const struct rule *r, const struct rules_env *env,
    const struct rl_limit *l, const struct rl_result *res)
{
	const struct action	*term = NULL;
	struct rules_match	 m;
	size_t			 j;

	for (j = 0; j < r->nact; j++) {
		if (r->act[j].a != RA_LOG && r->act[j].a != RA_HEADER &&
		    !r->monitor) {
			term = &r->act[j];
			continue;
		}
		fill(&m, r, &r->act[j], l, res);
		env->matched(env->arg, &m);
	}
	return term;
}

/* display_action -- the terminal action of r, else its first (tracing) */
static const struct action *
display_action(const struct rule *r)
{
	static const struct action none = { RA_NONE, "", "", NULL, NULL };
	size_t	j;

	if (r->nact == 0)
		return &none;
	for (j = 0; j < r->nact; j++)
		if (r->act[j].a != RA_LOG && r->act[j].a != RA_HEADER)
			return &r->act[j];
	return &r->act[0];
}

/* trace -- hand rule r and its outcome to env->trace, when set */
static void
trace(const struct rule *r, const struct rules_env *env, enum rules_outcome o,
    const struct rl_limit *l, const struct rl_result *res)
{
	struct rules_match	m;

	if (env->trace == NULL)
		return;
	fill(&m, r, display_action(r), l, res);
	env->trace(env->arg, &m, o);
}

/* trace_rest -- every rule of stage st after rule i as not reached */
static void
trace_rest(const struct rules *rs, enum stage st, const struct rules_env *env,
    size_t i)
{
	if (env->trace == NULL)
		return;
	for (i++; i < rs->nrules; i++)
		if (rs->rule[i].stage == st)
			trace(&rs->rule[i], env, RULES_NOT_REACHED, NULL, NULL);
}

/*
 * rules_trace_unreached -- every rule of stage st to env->trace as not
 * reached (a stage the transaction never got to)
 */
void
rules_trace_unreached(const struct rules *rs, enum stage st,
    const struct rules_env *env)
{
	size_t	i;

	for (i = 0; env->trace != NULL && i < rs->nrules; i++)
		if (rs->rule[i].stage == st)
			trace(&rs->rule[i], env, RULES_NOT_REACHED, NULL, NULL);
}

/* rules_outcome_name -- the word explain shows for an outcome */
const char *
rules_outcome_name(enum rules_outcome o)
{
	switch (o) {
	case RULES_NOT_MATCHED:
		return "not matched";
	case RULES_MATCHED:
		return "matched";
	case RULES_MONITOR:
		return "monitor";
	case RULES_DECIDED:
		return "matched (decides)";
	case RULES_FAILED:
		return "failed";
	default:
		return "not reached";
	}
}

/*
 * rules_eval -- the rules of stage st in file order: non-terminal and
 * monitor matches go to env->matched; the first terminal match of a
 * non-monitor rule fills *out and returns 1. 0: none; -1: internal error;
 * RULES_DEFER: a fact deferred the stage.
 */
int
rules_eval(const struct rules *rs, enum stage st, const struct rules_env *env,
    struct rules_match *out)
{
	const struct rule	*r;
	const struct action	*term;
	const struct rl_limit	*l;
	struct rl_result	 res;
	size_t			 i;
	int			 rc;

	for (i = 0; i < rs->nrules; i++) {
		r = &rs->rule[i];
		if (r->stage != st)
			continue;
		l = NULL;
		memset(&res, 0, sizeof(res));
		rc = r->cond != NULL ? expr_eval(r->cond, env, &l, &res) : 1;
		if (rc < 0) {
			trace(r, env, RULES_FAILED, NULL, NULL);
			trace_rest(rs, st, env, i);
			return rc;
		}
		if (rc == 0) {
			trace(r, env, RULES_NOT_MATCHED, NULL, NULL);
			continue;
		}
		if ((term = act(r, env, l, &res)) != NULL) {
			fill(out, r, term, l, &res);
			if (env->trace != NULL)
				env->trace(env->arg, out, RULES_DECIDED);
			trace_rest(rs, st, env, i);
			return 1;
		}
		trace(r, env, r->monitor ? RULES_MONITOR : RULES_MATCHED, l,
		    &res);
	}
	return 0;
}
