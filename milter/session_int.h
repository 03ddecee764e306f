/*
 * session_int -- the session's state, shared by session.c (the events
 * and decisions) and session_facts.c (what rules see of it). Nothing
 * else includes this.
 */
#ifndef MXGATE_SESSION_INT_H
#define MXGATE_SESSION_INT_H

#include "auth.h"
#include "deadline.h"
#include "dnsbl_lookup.h"
#include "ipaddr.h"
#include "session.h"

#define SESSION_MAX_RCPTS	10000	/* more are refused by Postfix long before */
#define SESSION_MAX_HEADERS	64	/* header actions per message */

struct session {
	struct rules		*rules;
	struct session_plan	 plan;		/* what was negotiated for these rules */
	const struct cfg	*cfg;
	struct rl_store		*store;
	struct rl_held		*held;		/* concurrency slots of this connection */
	struct dns		*dns;		/* NULL: no DNS lists are asked */
	struct dnsbl_lookup	*dnsbl;		/* the lists' answers for the client */
	int			 dnsbl_deferred; /* monitor mode: would_tempfail logged */
	struct auth		*auth;		/* SPF, DKIM, DMARC of the transaction */
	struct deadline		 stage;		/* of the stage being checked: every wait's cap */
	int			 leadspc;	/* header values keep their leading space */

	/* connection */
	struct ipaddr		 ip;
	char			 ipstr[IP_STRLEN];
	char			*client_name;
	char			*daemon_name;
	char			*helo;
	int			 tls;
	int			 conn_accepted;	/* accept at connect/helo */
	int			 conn_refused;	/* a connect-stage refusal is pending or sent */
	/* header actions of connect/helo rules: added to every message */
	struct session_header	 chdr[SESSION_MAX_HEADERS];
	enum stage		 chdr_stage[SESSION_MAX_HEADERS];
	size_t			 nchdr;
	struct verdict		 deferred;	/* the connect-stage refusal to deliver */
	enum stage		 reached;	/* the latest stage seen */

	/* message */
	char			*queue_id;
	char			*sasl_user;
	char			*sasl_method;
	char			*mail_from;	/* NULL before MAIL, "" for <> */
	char			*mail_domain;
	char			*customer;
	int			 customer_done;
	char			*rcpt;		/* the recipient being checked */
	char			*rcpt_domain;
	char			**pending;	/* domains of accepted recipients */
	size_t			 npending;
	uint64_t		 declared_size;
	uint64_t		 size;
	char			*authres;	/* our Authentication-Results value */
	int			 msg_accepted;	/* accept at mail..eom */
	int			 msg_internal;	/* on_internal_error applied */
	struct session_header	 hdr[SESSION_MAX_HEADERS];	/* conn's, then the message's */
	size_t			 nhdr;

	/* the decision being built, for ${client_net} */
	const struct rules_match *cur;
	char			 numbuf[32];
	char			 netbuf[IP_STRLEN + 8];
	struct buf		 fbuf;		/* a text fact's value (dnsbl.*) */
	struct buf		 dnsbl_log;	/* dnsbl= of the log line */

	/* look-only (explain): decision lines go here; nothing is counted */
	struct buf		*dry;
	session_trace_fn	 trace;
	void			*trace_arg;
};

int		 session_fact_get(void *, int, struct fact_value *);
void		 session_value_get(void *, int, struct buf *);
void		 session_trace_rule(void *, const struct rules_match *,
		    enum rules_outcome);
const char	*session_customer(struct session *);
void		 session_tx(struct session *, struct auth_tx *);
void		 session_src(struct session *, struct verdict_src *, enum stage);

#endif
