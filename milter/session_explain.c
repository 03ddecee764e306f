/*
 * session_explain -- the session's side of `mxgatectl explain`
 * (ctl_explain.c): the look-only mode (decision lines into a buffer,
 * every evaluated rule to a tracer, nothing counted: session.c checks
 * s->dry where it would count or log), the rules of a stage never
 * reached, and a fact's text on demand.
 */
#include "config.h"

#include <string.h>

#include "session.h"
#include "session_int.h"

/* session_trace_rule -- rules_env: a rule and its outcome, to the tracer */
void
session_trace_rule(void *arg, const struct rules_match *m,
    enum rules_outcome o)
{
	struct session	*s = arg;

	s->trace(s->trace_arg, s, m, o);
}

/*
 * session_look_only -- explain's mode: decision lines into log, every
 * evaluated rule to trace(arg, ...), nothing counted (see session.h)
 */
void
session_look_only(struct session *s, struct buf *log, session_trace_fn trace,
    void *arg)
{
	s->dry = log;
	s->trace = trace;
	s->trace_arg = arg;
}

/* session_pending -- is a connect-stage refusal waiting to be told? */
int
session_pending(const struct session *s)
{
	return s->deferred.kind != VERDICT_CONTINUE;
}

/* session_unreached -- the rules of stage st to the tracer as not reached */
void
session_unreached(struct session *s, enum stage st)
{
	struct rules_env	env;

	if (s->trace == NULL)
		return;
	memset(&env, 0, sizeof(env));
	env.arg = s;
	env.trace = session_trace_rule;
	rules_trace_unreached(s->rules, st, &env);
}

/* session_value -- a fact or template variable's text now (explain) */
void
session_value(struct session *s, int id, struct buf *out)
{
	session_value_get(s, id, out);
}
