/*
 * spf_dns -- the SPF evaluator's resolver on mxgate's DNS engine: every
 * question waits at most query_ms, and never past the stage's deadline
 * (deadline.h: one deadline for all the checks of an SMTP stage, which
 * keeps them together well inside the MTA's command timeout). A
 * SERVFAIL, a timeout or a passed deadline is a temporary error; a
 * question that the stage's deadline cut short marks the stage as cut.
 */
#ifndef MXGATE_SPF_DNS_H
#define MXGATE_SPF_DNS_H

#include <time.h>

#include "dns.h"
#include "spf.h"

struct spf_engine {
	struct dns	*dns;
	struct deadline	*stage;		/* the stage's (NULL: none) */
	unsigned	 query_ms;	/* of one question */
};

void	spf_engine_init(struct spf_engine *, struct dns *, unsigned,
	    struct deadline *, struct spf_resolver *);

#endif
