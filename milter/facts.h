/*
 * facts -- the names, stages and types of everything a rule can test and
 * a reply template can show (spec sections 4.5 and 5).
 *
 * The table is static and read-only: thread-safe. A fact's stage is the
 * first stage at which it is known; a rule or template that uses a fact
 * before its stage is a load-time error. Facts flagged FACT_NOT_YET belong
 * to checks this build does not have yet (DNS lists, SPF, DKIM, DMARC):
 * using them is a load-time error that says so.
 */
#ifndef MXGATE_FACTS_H
#define MXGATE_FACTS_H

#include <stddef.h>
#include <stdint.h>

#include "ipaddr.h"

enum stage {
	STAGE_CONNECT,
	STAGE_HELO,
	STAGE_MAIL,
	STAGE_RCPT,
	STAGE_DATA,
	STAGE_EOM,
	STAGE_COUNT
};

enum fact {
	/* connect */
	F_CLIENT_IP, F_CLIENT_NET, F_CLIENT_NAME, F_DAEMON_NAME,
	F_DNSBL_SCORE, F_DNSBL_NAMES, F_DNSBL_ERROR,
	/* helo */
	F_HELO, F_TLS,
	/* mail */
	F_SASL_USER, F_SASL_METHOD, F_MAIL_FROM, F_MAIL_DOMAIN,
	F_SPF, F_SPF_DOMAIN, F_SPF_REASON, F_CUSTOMER,
	/* rcpt */
	F_RCPT, F_RCPT_DOMAIN, F_RCPT_COUNT,
	/* eom */
	F_FROM_DOMAIN, F_DKIM, F_DKIM_DOMAINS, F_DMARC, F_DMARC_POLICY,
	F_DMARC_TESTING, F_SIZE,
	/* template variables only (spec section 5) */
	V_REF, V_RULE, V_HOSTNAME, V_QUEUE_ID, V_RETRY_AFTER,
	V_LIMIT_NAME, V_LIMIT_COUNT, V_LIMIT_MAX, V_LIMIT_WINDOW,
	F_COUNT
};

enum fact_type {
	FT_STR,		/* a word or text */
	FT_NUM,		/* a signed integer */
	FT_BOOL,	/* true/false (tls) */
	FT_IP,		/* an address (client_ip) */
	FT_ADDR,	/* an e-mail address: local@domain (may be empty: <>) */
	FT_DOMAIN	/* a domain or host name */
};

#define FACT_TEMPLATE_ONLY	0x01	/* a template variable, not a rule condition */
#define FACT_NOT_YET		0x02	/* needs a check this build lacks */

struct fact_info {
	const char	*name;
	enum stage	 stage;
	enum fact_type	 type;
	unsigned	 flags;
};

/* the value of one fact for one session, filled in by the session */
struct fact_value {
	int		 set;		/* 0: unknown or empty */
	const char	*s;		/* text form (always set when set != 0) */
	int64_t		 n;		/* FT_NUM, FT_BOOL */
	struct ipaddr	 ip;		/* FT_IP */
};

const struct fact_info *fact_info(enum fact);
int	 fact_lookup(const char *, size_t, enum fact *);
const char *stage_name(enum stage);
int	 stage_lookup(const char *, size_t, enum stage *);

#endif
