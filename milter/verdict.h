/*
 * verdict -- the one place that turns a rule decision into what the MTA
 * gets: a reference, the expanded reply text (with "(ref REF)" and the
 * footer), the reply lines, the decision log line, and on_internal_error.
 *
 * verdict.c knows nothing of the milter protocol: it returns a verdict
 * kind that milter.c maps to a protocol reply in one switch. Thread-safe: refs come from an
 * atomic counter mixed with a per-process random seed.
 *
 * A source with `dry` set (mxgatectl explain) decides exactly the same,
 * but each decision line goes into src->dry (one line each, ending in a
 * newline) instead of the log, and nothing else a decision does (the
 * log line's other consumers) happens.
 */
#ifndef MXGATE_VERDICT_H
#define MXGATE_VERDICT_H

#include "buf.h"
#include "facts.h"
#include "reply.h"
#include "rules.h"

#define VERDICT_REF_LEN	12

enum verdict_kind {
	VERDICT_CONTINUE,	/* let the command through */
	VERDICT_TEMPFAIL,	/* 4xx with reply */
	VERDICT_REJECT,		/* 5xx with reply */
	VERDICT_DONE		/* nothing more to check on this connection: SMFIS_ACCEPT */
};

struct verdict {
	enum verdict_kind kind;
	struct reply	  reply;	/* valid unless kind == VERDICT_CONTINUE */
	char		  ref[VERDICT_REF_LEN + 1];
};

/* the session's side of a decision: values for templates and log fields */
struct verdict_src {
	void		*arg;
	tmpl_value_fn	 value;		/* template variable -> text (facts and V_* variables) */
	const char	*queue_id;	/* or NULL: NOQUEUE */
	const char	*client_name;
	const char	*client_ip;
	const char	*helo;		/* fields not known at the stage are NULL */
	const char	*mail_from;
	const char	*rcpt;
	const char	*sasl_user;
	const char	*spf;		/* results checked so far, or NULL */
	const char	*dkim;
	const char	*dmarc;
	const char	*dnsbl;		/* LIST:LABEL(+W),... of the lists answered so far */
	const struct tmpl *footer;
	int		 monitor_mode;	/* mode = monitor */
	struct buf	*dry;		/* or NULL; look-only (explain): decision
					   lines are appended here, not logged */
};

void	verdict_init(struct verdict *);
void	verdict_clear(struct verdict *);
void	verdict_new_ref(char *);
int	verdict_decide(struct verdict *, const struct rules_match *,
	    const struct verdict_src *);
void	verdict_note(const struct rules_match *, const struct verdict_src *,
	    struct buf *);
void	verdict_internal(struct verdict *, enum stage, int,
	    const struct verdict_src *);
int	verdict_dnsbl(struct verdict *, enum stage, const char *,
	    const struct verdict_src *);
int	verdict_store(struct verdict *, enum stage,
	    const struct verdict_src *);
int	verdict_timeout(struct verdict *, enum stage,
	    const struct verdict_src *);
int	verdict_overload(struct verdict *, const struct verdict_src *);
int	verdict_header_limit(struct verdict *, const struct verdict_src *);

#endif
