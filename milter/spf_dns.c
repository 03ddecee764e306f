/*
 * spf_dns -- SPF questions through the DNS engine (see spf_dns.h).
 */
#include "config.h"

#include <string.h>

#include "spf_dns.h"

/* query -- struct spf_resolver's query on the engine */
static enum spf_dns_rc
query(void *arg, const char *name, uint16_t type, struct dns_answer *ans)
{
	struct spf_engine	*e = arg;
	struct dns_query	*q;
	struct timespec		 dl;
	enum spf_dns_rc		 rc;
	int			 rcode;

	if (deadline_passed(e->stage)) {
		/* a question the stage has no time left for: unanswered */
		deadline_cut(e->stage);
		return SPF_DNS_TEMP;
	}
	dns_deadline(&dl, e->query_ms);
	q = dns_submit(e->dns, name, type);
	if (dns_wait_stage(q, &dl, e->stage) != DNS_DONE) {
		dns_release(q);
		return SPF_DNS_TEMP;
	}
	rcode = dns_answer(q)->rcode;
	if (rcode == 3)
		rc = SPF_DNS_NXDOMAIN;
	else if (rcode != 0)
		rc = SPF_DNS_TEMP;
	else {
		dns_take(q, ans);
		rc = SPF_DNS_OK;
	}
	dns_release(q);
	return rc;
}

/*
 * spf_engine_init -- e asks dns, each question for at most query_ms and
 * none past the stage's deadline (kept by the caller; NULL: none); r is
 * the resolver to hand to spf_check() or dmarc_check()
 */
void
spf_engine_init(struct spf_engine *e, struct dns *dns, unsigned query_ms,
    struct deadline *stage, struct spf_resolver *r)
{
	memset(e, 0, sizeof(*e));
	e->dns = dns;
	e->query_ms = query_ms;
	e->stage = stage;
	r->query = query;
	r->arg = e;
}
