/*
 * auth -- a session's message authentication: the SPF result of the
 * current transaction (and, later, DKIM and DMARC), worked out when a
 * rule, a reply or the Authentication-Results header first needs it, at
 * most once per transaction, on the one DNS engine.
 *
 * One session (one thread at a time) owns an auth.
 */
#ifndef MXGATE_AUTH_H
#define MXGATE_AUTH_H

#include "dns.h"
#include "ipaddr.h"
#include "spf.h"

#define AUTH_SPF_TOTAL_MS	20000	/* one SPF check, well inside Postfix's 30 s */

struct auth;

struct auth	*auth_new(struct dns *, unsigned);
void		 auth_free(struct auth *);
void		 auth_reset(struct auth *);
const struct spf_outcome *auth_spf(struct auth *, const struct ipaddr *,
		    const char *, const char *);
const char	*auth_spf_result(const struct auth *);

#endif
