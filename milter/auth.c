/*
 * auth -- a session's message authentication (see auth.h).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "spf_dns.h"
#include "xalloc.h"

struct auth {
	struct dns		*dns;
	unsigned		 query_ms;
	int			 spf_done;
	struct spf_outcome	 spf;
};

/* auth_new -- for a session whose questions wait at most query_ms each */
struct auth *
auth_new(struct dns *dns, unsigned query_ms)
{
	struct auth	*a = xcalloc(1, sizeof(*a));

	a->dns = dns;
	a->query_ms = query_ms;
	return a;
}

/* auth_free -- NULL is fine */
void
auth_free(struct auth *a)
{
	free(a);
}

/* auth_reset -- a new transaction: forget the results */
void
auth_reset(struct auth *a)
{
	a->spf_done = 0;
	memset(&a->spf, 0, sizeof(a->spf));
}

/*
 * auth_spf -- the SPF outcome of the transaction: client ip, HELO helo,
 * MAIL FROM sender ("" for <>); checked on the first call. Without a DNS
 * engine the result is temperror.
 */
const struct spf_outcome *
auth_spf(struct auth *a, const struct ipaddr *ip, const char *helo,
    const char *sender)
{
	struct spf_engine	e;
	struct spf_resolver	r;
	struct spf_request	req;

	if (a->spf_done)
		return &a->spf;
	a->spf_done = 1;
	if (a->dns == NULL || ip->family == 0) {
		a->spf.result = ip->family == 0 ? SPF_NONE : SPF_TEMPERROR;
		(void)strlcpy(a->spf.reason, ip->family == 0 ?
		    "no client address" : "no DNS engine", sizeof(a->spf.reason));
		return &a->spf;
	}
	memset(&req, 0, sizeof(req));
	req.ip = *ip;
	req.helo = helo != NULL ? helo : "";
	req.sender = sender != NULL ? sender : "";
	spf_engine_init(&e, a->dns, a->query_ms, AUTH_SPF_TOTAL_MS, &r);
	spf_check(&r, &req, &a->spf);
	return &a->spf;
}

/* auth_spf_result -- the SPF result's name if it was checked, else NULL */
const char *
auth_spf_result(const struct auth *a)
{
	return a->spf_done ? spf_result_name(a->spf.result) : NULL;
}
