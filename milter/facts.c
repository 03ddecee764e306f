/*
 * facts -- the table of facts and template variables (see facts.h).
 */
#include "config.h"

#include <string.h>
#include <strings.h>

#include "facts.h"

static const struct fact_info facts[F_COUNT] = {
	[F_CLIENT_IP]	  = { "client_ip",	STAGE_CONNECT,	FT_IP,	   0 },
	[F_CLIENT_NET]	  = { "client_net",	STAGE_CONNECT,	FT_STR,	   0 },
	[F_CLIENT_NAME]	  = { "client_name",	STAGE_CONNECT,	FT_DOMAIN, 0 },
	[F_DAEMON_NAME]	  = { "daemon_name",	STAGE_CONNECT,	FT_STR,	   0 },
	[F_DNSBL_SCORE]	  = { "dnsbl.score",	STAGE_CONNECT,	FT_NUM,	   0 },
	[F_DNSBL_NAMES]	  = { "dnsbl.names",	STAGE_CONNECT,	FT_STR,	   0 },
	[F_DNSBL_ERROR]	  = { "dnsbl.error",	STAGE_CONNECT,	FT_STR,	   0 },
	[F_DNSBL_LIST]	  = { "dnsbl.NAME",	STAGE_CONNECT,	FT_NUM,	   FACT_PER_LIST },
	[F_DNSBL_LABEL]	  = { "dnsbl.NAME.label", STAGE_CONNECT, FT_STR,   FACT_PER_LIST },
	[F_HELO]	  = { "helo",		STAGE_HELO,	FT_DOMAIN, 0 },
	[F_TLS]		  = { "tls",		STAGE_HELO,	FT_BOOL,   0 },
	[F_SASL_USER]	  = { "sasl_user",	STAGE_MAIL,	FT_STR,	   0 },
	[F_SASL_METHOD]	  = { "sasl_method",	STAGE_MAIL,	FT_STR,	   0 },
	[F_MAIL_FROM]	  = { "mail_from",	STAGE_MAIL,	FT_ADDR,   0 },
	[F_MAIL_DOMAIN]	  = { "mail_domain",	STAGE_MAIL,	FT_DOMAIN, 0 },
	[F_SPF]		  = { "spf",		STAGE_MAIL,	FT_STR,	   0 },
	[F_SPF_DOMAIN]	  = { "spf.domain",	STAGE_MAIL,	FT_DOMAIN, 0 },
	[F_SPF_REASON]	  = { "spf.reason",	STAGE_MAIL,	FT_STR,	   0 },
	[F_CUSTOMER]	  = { "customer",	STAGE_MAIL,	FT_STR,	   0 },
	[F_RCPT]	  = { "rcpt",		STAGE_RCPT,	FT_ADDR,   0 },
	[F_RCPT_DOMAIN]	  = { "rcpt_domain",	STAGE_RCPT,	FT_DOMAIN, 0 },
	[F_RCPT_COUNT]	  = { "rcpt_count",	STAGE_RCPT,	FT_NUM,	   0 },
	[F_FROM_DOMAIN]	  = { "from_domain",	STAGE_EOM,	FT_DOMAIN, 0 },
	[F_DKIM]	  = { "dkim",		STAGE_EOM,	FT_STR,	   0 },
	[F_DKIM_DOMAINS]  = { "dkim.domains",	STAGE_EOM,	FT_STR,	   0 },
	[F_DMARC]	  = { "dmarc",		STAGE_EOM,	FT_STR,	   0 },
	[F_DMARC_POLICY]  = { "dmarc.policy",	STAGE_EOM,	FT_STR,	   0 },
	[F_DMARC_TESTING] = { "dmarc.testing",	STAGE_EOM,	FT_BOOL,   0 },
	[F_SIZE]	  = { "size",		STAGE_EOM,	FT_NUM,	   0 },
	[V_REF]		  = { "ref",		STAGE_CONNECT,	FT_STR,	   FACT_TEMPLATE_ONLY },
	[V_RULE]	  = { "rule",		STAGE_CONNECT,	FT_STR,	   FACT_TEMPLATE_ONLY },
	[V_HOSTNAME]	  = { "hostname",	STAGE_CONNECT,	FT_STR,	   FACT_TEMPLATE_ONLY },
	[V_QUEUE_ID]	  = { "queue_id",	STAGE_CONNECT,	FT_STR,	   FACT_TEMPLATE_ONLY },
	[V_RETRY_AFTER]	  = { "retry_after",	STAGE_CONNECT,	FT_NUM,	   FACT_TEMPLATE_ONLY },
	[V_LIMIT_NAME]	  = { "limit.name",	STAGE_CONNECT,	FT_STR,	   FACT_TEMPLATE_ONLY },
	[V_LIMIT_COUNT]	  = { "limit.count",	STAGE_CONNECT,	FT_NUM,	   FACT_TEMPLATE_ONLY },
	[V_LIMIT_MAX]	  = { "limit.max",	STAGE_CONNECT,	FT_NUM,	   FACT_TEMPLATE_ONLY },
	[V_LIMIT_WINDOW]  = { "limit.window",	STAGE_CONNECT,	FT_STR,	   FACT_TEMPLATE_ONLY },
	[V_DNSBL_TXT]	  = { "dnsbl.txt",	STAGE_CONNECT,	FT_STR,	   FACT_TEMPLATE_ONLY },
	[V_DNSBL_LIST_TXT] = { "dnsbl.NAME.txt", STAGE_CONNECT,	FT_STR,	   FACT_TEMPLATE_ONLY | FACT_PER_LIST },
};

static const char *const stages[STAGE_COUNT] = {
	"connect", "helo", "mail", "rcpt", "data", "eom"
};

/* fact_info -- the table entry of a fact (or of a fact id's base) */
const struct fact_info *
fact_info(enum fact f)
{
	return (int)f >= 0 ? &facts[(int)f % (int)F_COUNT] : NULL;
}

/* fact_lookup -- find a fact or template variable by name; 0 or -1 */
int
fact_lookup(const char *name, size_t len, enum fact *out)
{
	unsigned	i;

	for (i = 0; i < F_COUNT; i++) {
		if (!(facts[i].flags & FACT_PER_LIST) &&
		    strlen(facts[i].name) == len &&
		    strncmp(facts[i].name, name, len) == 0) {
			*out = (enum fact)i;
			return 0;
		}
	}
	return -1;
}

/* stage_name -- "connect" ... "eom" */
const char *
stage_name(enum stage s)
{
	return (unsigned)s < STAGE_COUNT ? stages[s] : "?";
}

/* stage_lookup -- parse a stage name (case-insensitive); 0 or -1 */
int
stage_lookup(const char *name, size_t len, enum stage *out)
{
	unsigned	i;

	for (i = 0; i < STAGE_COUNT; i++) {
		if (strlen(stages[i]) == len && strncasecmp(stages[i], name, len) == 0) {
			*out = (enum stage)i;
			return 0;
		}
	}
	return -1;
}
