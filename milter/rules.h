/*
 * rules -- the rules file (spec section 4) as an immutable rule set.
 *
 * rules_load() lexes and parses a rules file (and its includes), builds
 * lists, tables, limits and compiled templates, and checks everything a
 * load can check: unknown facts and variables, facts used before their
 * stage, reply codes (tempfail: 421/450/451/452 with a matching 4.X.Y;
 * reject: 5XX with 5.X.Y), duplicate ids and names, include loops. Every
 * error goes to the diag as FILE:LINE:COL; on any error it returns NULL.
 *
 * A loaded set is immutable and reference counted: the daemon swaps in a
 * new set on reload and each connection keeps the set it started with.
 * rules_eval() is thread-safe.
 *
 * Evaluation runs the rules of one stage in file order. Each matching
 * non-terminal rule (log, header) and each matching monitor rule is
 * handed to env->matched() and evaluation goes on; the first matching
 * terminal non-monitor rule (accept, tempfail, reject) ends it and is
 * returned. Templates are not expanded here: the caller expands them with
 * its session's values.
 *
 * Tracing (mxgatectl explain): when env->trace is set, every rule of the
 * stage is handed to it in file order with its outcome, those after the
 * end of the evaluation as RULES_NOT_REACHED; rules_trace_unreached()
 * reports every rule of a stage that never ran. The match record of a
 * rule that did not decide names its first terminal action (or its
 * first action), for display.
 */
#ifndef MXGATE_RULES_H
#define MXGATE_RULES_H

#include <stddef.h>

#include "buf.h"
#include "diag.h"
#include "facts.h"
#include "ratelimit.h"

struct rules;
struct tmpl;
struct table;
struct dnsbl;

enum rules_action {
	RA_NONE,
	RA_ACCEPT,
	RA_TEMPFAIL,
	RA_REJECT,
	RA_LOG,
	RA_HEADER
};

struct rules_match {
	const char		*rule;		/* the rule id */
	const char		*file;
	unsigned		 line;
	enum stage		 stage;
	enum rules_action	 action;
	int			 monitor;	/* per-rule monitor flag */
	const char		*code;		/* "451" (tempfail, reject) */
	const char		*ecode;		/* "4.7.1" */
	const struct tmpl	*text;		/* reply text, log text or header value */
	const char		*header_name;	/* RA_HEADER */
	const struct rl_limit	*limit;		/* the limit whose `exceeded` made it match, or NULL */
	struct rl_result	 limit_result;
	const unsigned char	*used;		/* [F_COUNT]: 1 for each fact (FACT_BASE)
						   the rule's condition or templates use */
};

/* what became of one rule in an evaluation, for env->trace */
enum rules_outcome {
	RULES_NOT_MATCHED,	/* its condition was false */
	RULES_MATCHED,		/* true; non-terminal actions only: evaluation went on */
	RULES_MONITOR,		/* true; a monitor rule: only logged */
	RULES_DECIDED,		/* true; its terminal action ended the stage */
	RULES_FAILED,		/* its condition could not be evaluated (error, DNS list deferral, store) */
	RULES_NOT_REACHED	/* after the end of the evaluation, or its stage never ran */
};

struct rules_env {
	void	*arg;
	/*
	 * the value of a fact (a fact id: FACT_ID) now; return 0 (value->set
	 * may still be 0), -1 on an internal error, or RULES_DEFER when the
	 * stage must be deferred (a DNS list with on_error tempfail failed)
	 */
	int	(*fact)(void *, int, struct fact_value *);
	/*
	 * check a limit for the current event (rl_check with the session's
	 * identity); 0, -1, or RULES_STORE_ERROR when the store failed
	 */
	int	(*limit)(void *, const struct rl_limit *, struct rl_result *);
	/* a matching non-terminal or monitor rule */
	void	(*matched)(void *, const struct rules_match *);
	/* or NULL: every rule of the stage with its outcome (explain) */
	void	(*trace)(void *, const struct rules_match *,
		    enum rules_outcome);
};

/* what a rule set needs from the MTA, for milter negotiation */
struct rules_needs {
	unsigned	stages;		/* bit (1 << STAGE_x): rules run at that stage */
	unsigned char	fact[F_COUNT];	/* 1: used by a rule, template, the footer or a limit key */
	int		header;		/* needs the message header (from_domain) */
	int		conn_headers;	/* header actions at connect/helo: added to every message */
	int		body;		/* needs the body (size, bytes limits) */
};

#define RULES_DEFER	(-2)
#define RULES_STORE_ERROR (-3)	/* a limit could not be checked (store_error = tempfail) */

struct rules *rules_load(const char *, struct diag *);
void	 rules_ref(struct rules *);
void	 rules_unref(struct rules *);
void	 rules_summary(const struct rules *, struct buf *);
void	 rules_needs(const struct rules *, struct rules_needs *);
const char *rules_path(const struct rules *);
const char *const *rules_files(const struct rules *, size_t *);
const struct tmpl *rules_footer(const struct rules *);
size_t	 rules_nlimits(const struct rules *);
const struct rl_limit *const *rules_limits(const struct rules *);
size_t	 rules_ntables(const struct rules *);
struct table *const *rules_tables(const struct rules *);
size_t	 rules_ndnsbls(const struct rules *);
struct dnsbl *const *rules_dnsbls(const struct rules *);
int	 rules_eval(const struct rules *, enum stage, const struct rules_env *,
	    struct rules_match *);
void	 rules_trace_unreached(const struct rules *, enum stage,
	    const struct rules_env *);
const char *rules_outcome_name(enum rules_outcome);

#endif
