/*
 * spf_dns -- the SPF evaluator's resolver on mxgate's DNS engine: every
 * question waits at most query_ms, and never past the check's deadline
 * (which keeps a whole SPF check well inside the MTA's command timeout).
 * A SERVFAIL, a timeout or a passed deadline is a temporary error.
 */
#ifndef MXGATE_SPF_DNS_H
#define MXGATE_SPF_DNS_H

#include <time.h>

#include "dns.h"
#include "spf.h"

struct spf_engine {
	struct dns	*dns;
	struct timespec	 deadline;	/* of the whole check (CLOCK_MONOTONIC) */
	unsigned	 query_ms;	/* of one question */
};

void	spf_engine_init(struct spf_engine *, struct dns *, unsigned, unsigned,
	    struct spf_resolver *);

#endif
