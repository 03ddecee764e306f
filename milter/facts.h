/*
 * facts -- the names, stages and types of everything a rule can test and
 * a reply template can show (spec sections 4.5 and 5).
 *
 * The table is static and read-only: thread-safe. A fact's stage is the
 * first stage at which it is known; a rule or template that uses a fact
 * before its stage is a load-time error.
 *
 * Facts flagged FACT_PER_LIST exist once per DNS list of the rule set
 * (dnsbl.NAME, dnsbl.NAME.label, dnsbl.NAME.txt): they are not found by
 * name here, and a fact id (rules, templates) carries the list's index:
 * FACT_ID(f, i), taken apart by FACT_BASE() and FACT_INDEX().
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
	F_DNSBL_LIST, F_DNSBL_LABEL,	/* per list */
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
	V_DNSBL_TXT, V_DNSBL_LIST_TXT,	/* all listings; per list */
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
#define FACT_PER_LIST		0x04	/* one per DNS list: dnsbl.NAME... */

#define FACT_ID(f, i)		((int)(f) + (int)F_COUNT * (int)(i))
#define FACT_BASE(id)		((enum fact)((id) % (int)F_COUNT))
#define FACT_INDEX(id)		((size_t)((id) / (int)F_COUNT))

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
