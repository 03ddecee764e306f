/*
 * auth -- a session's message authentication (see auth.h).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "addr.h"
#include "auth.h"
#include "authres.h"
#include "spf_dns.h"
#include "xalloc.h"

struct auth {
	struct dns		*dns;
	unsigned		 query_ms;
	struct deadline		*stage;		/* the session's, of the current stage */
	const char		*authserv_id;	/* the caller's; NULL: no A-R */
	int			 want_dkim;

	int			 spf_done;
	int			 spf_cut;	/* the stage's deadline cut it: check again in the next */
	struct spf_outcome	 spf;

	/* the RFC5322.From field(s) */
	unsigned		 nfrom;
	char			 from_domain[ADDR_DOMAIN_MAX + 1];
	char			 from_problem[DMARC_REASON_MAX];

	/* Authentication-Results fields received, and ours among them */
	unsigned		 nar;
	unsigned		*forged;
	size_t			 nforged, forged_cap;

	struct dkimv		*dk;
	const struct dkimv_outcome *dko;
	struct buf		 dkim_domains;

	int			 dmarc_done;
	struct dmarc_outcome	 dmarc;
};

static const struct dkimv_outcome no_dkim;	/* result none */

/*
 * auth_new -- for a session whose questions wait at most query_ms each;
 * authserv_id (kept by the caller) names our Authentication-Results;
 * dkim: feed headers and body to DKIM verification; stage (kept by the
 * caller) is the deadline of the stage being checked, NULL for none
 */
struct auth *
auth_new(struct dns *dns, unsigned query_ms, const char *authserv_id, int dkim,
    struct deadline *stage)
{
	struct auth	*a = xcalloc(1, sizeof(*a));

	a->stage = stage;
	a->dns = dns;
	a->query_ms = query_ms;
	a->authserv_id = authserv_id;
	a->want_dkim = dkim;
	return a;
}

/* auth_free -- NULL is fine */
void
auth_free(struct auth *a)
{
	if (a == NULL)
		return;
	auth_reset(a);
	buf_free(&a->dkim_domains);
	free(a);
}

/* auth_reset -- a new transaction: forget the results */
void
auth_reset(struct auth *a)
{
	a->spf_done = a->spf_cut = 0;
	memset(&a->spf, 0, sizeof(a->spf));
	a->nfrom = 0;
	a->from_domain[0] = a->from_problem[0] = '\0';
	a->nar = 0;
	free(a->forged);
	a->forged = NULL;
	a->nforged = a->forged_cap = 0;
	dkimv_free(a->dk);
	a->dk = NULL;
	a->dko = NULL;
	buf_reset(&a->dkim_domains);
	a->dmarc_done = 0;
	memset(&a->dmarc, 0, sizeof(a->dmarc));
}

/*
 * auth_spf -- the SPF outcome of the transaction: client ip, HELO helo,
 * MAIL FROM sender ("" for <>); checked on the first call, and again in
 * a later stage when the stage's deadline cut the check short. Without a
 * DNS engine the result is temperror.
 */
const struct spf_outcome *
auth_spf(struct auth *a, const struct auth_tx *tx)
{
	struct spf_engine	e;
	struct spf_resolver	r;
	struct spf_request	req;

	if (a->spf_done && !(a->spf_cut && !deadline_was_cut(a->stage)))
		return &a->spf;
	a->spf_done = 1;
	a->spf_cut = 0;
	memset(&a->spf, 0, sizeof(a->spf));
	if (a->dns == NULL || tx->ip == NULL || tx->ip->family == 0) {
		a->spf.result = a->dns == NULL ? SPF_TEMPERROR : SPF_NONE;
		(void)strlcpy(a->spf.reason, a->dns == NULL ?
		    "no DNS engine" : "no client address", sizeof(a->spf.reason));
		return &a->spf;
	}
	memset(&req, 0, sizeof(req));
	req.ip = *tx->ip;
	req.helo = tx->helo != NULL ? tx->helo : "";
	req.sender = tx->sender != NULL ? tx->sender : "";
	spf_engine_init(&e, a->dns, a->query_ms, a->stage, &r);
	spf_check(&r, &req, &a->spf);
	a->spf_cut = deadline_was_cut(a->stage);
	return &a->spf;
}

/* from_field -- one From: field; the domain only when it is the one author */
static void
from_field(struct auth *a, const char *value)
{
	struct addr_list l;
	struct buf	 err = BUF_INIT;

	a->from_domain[0] = '\0';
	if (++a->nfrom > 1) {
		(void)strlcpy(a->from_problem, "several From header fields",
		    sizeof(a->from_problem));
		return;
	}
	if (addr_list_parse(value, strlen(value), &l, &err) == -1)
		(void)snprintf(a->from_problem, sizeof(a->from_problem),
		    "unreadable From header field (%.100s)", buf_str(&err));
	else if (l.mailboxes == 0)
		(void)strlcpy(a->from_problem, "no address in the From header field",
		    sizeof(a->from_problem));
	else if (l.mailboxes > 1)
		(void)strlcpy(a->from_problem,
		    "several addresses in the From header field",
		    sizeof(a->from_problem));
	else if (l.ndomains != 1)
		(void)strlcpy(a->from_problem, "no domain in the From address",
		    sizeof(a->from_problem));
	else if (dmarc_domain_ascii(l.domain[0], a->from_domain,
	    sizeof(a->from_domain)) == -1) {
		a->from_domain[0] = '\0';
		(void)strlcpy(a->from_problem, "the From domain is not a valid "
		    "domain name (IDNA)", sizeof(a->from_problem));
	}
	buf_free(&err);
}

/* auth_header -- one header field, in the order received */
void
auth_header(struct auth *a, const struct auth_tx *tx, const char *name,
    const char *value)
{
	if (name == NULL || value == NULL)
		return;
	if (strcasecmp(name, "From") == 0)
		from_field(a, value);
	else if (strcasecmp(name, "Authentication-Results") == 0) {
		a->nar++;
		if (a->authserv_id != NULL &&
		    authres_claims(value, strlen(value), a->authserv_id)) {
			if (a->nforged == a->forged_cap) {
				a->forged_cap = a->forged_cap ? 2 * a->forged_cap : 4;
				a->forged = xreallocarray(a->forged, a->forged_cap,
				    sizeof(*a->forged));
			}
			a->forged[a->nforged++] = a->nar;
		}
	}
	if (!a->want_dkim)
		return;
	if (a->dk == NULL) {
		a->dk = dkimv_new(tx->queue_id);
		dkimv_stage(a->dk, a->stage);
	}
	dkimv_header(a->dk, name, value, !tx->leadspc);
}

/* auth_eoh -- end of headers: DKIM reads the signatures and asks for keys */
void
auth_eoh(struct auth *a)
{
	if (a->dk != NULL)
		dkimv_eoh(a->dk);
}

/* auth_body -- a body chunk (DKIM's, while its result is not settled) */
void
auth_body(struct auth *a, const unsigned char *p, size_t len)
{
	if (a->dk != NULL && a->dko == NULL)
		(void)dkimv_body(a->dk, p, len);
}

/* auth_from_domain -- the author domain (A-labels): one From field, one mailbox */
const char *
auth_from_domain(const struct auth *a)
{
	return a->nfrom == 1 && a->from_domain[0] != '\0' ? a->from_domain : NULL;
}

/* auth_dkim -- the DKIM outcome of the message (at end of message) */
const struct dkimv_outcome *
auth_dkim(struct auth *a, const struct auth_tx *tx)
{
	size_t	i;

	if (a->dko != NULL)
		return a->dko;
	a->dko = a->dk != NULL ? dkimv_eom(a->dk, tx->queue_id) : &no_dkim;
	buf_reset(&a->dkim_domains);
	for (i = 0; i < a->dko->nsigs; i++) {
		if (a->dko->sig[i].result != DKIMV_PASS ||
		    a->dko->sig[i].domain[0] == '\0')
			continue;
		if (a->dkim_domains.len > 0)
			buf_putc(&a->dkim_domains, ' ');
		buf_puts(&a->dkim_domains, a->dko->sig[i].domain);
	}
	return a->dko;
}

/* auth_dkim_domains -- the passing d= domains, space-separated, or NULL */
const char *
auth_dkim_domains(struct auth *a, const struct auth_tx *tx)
{
	(void)auth_dkim(a, tx);
	return a->dkim_domains.len > 0 ? buf_str(&a->dkim_domains) : NULL;
}

/* auth_dmarc -- the DMARC outcome of the message (at end of message) */
const struct dmarc_outcome *
auth_dmarc(struct auth *a, const struct auth_tx *tx)
{
	const struct dkimv_outcome *d;
	const struct spf_outcome *s;
	const char		*pass[DKIMV_MAX_SIGS], *at;
	struct dmarc_input	 in;
	struct spf_engine	 e;
	struct spf_resolver	 r;
	size_t			 i;

	if (a->dmarc_done)
		return &a->dmarc;
	a->dmarc_done = 1;
	memset(&in, 0, sizeof(in));
	in.from_domain = auth_from_domain(a);
	in.from_problem = a->nfrom == 0 ? "no From header field" :
	    a->from_problem;
	d = auth_dkim(a, tx);
	if (d->internal) {
		/* a result from a check that failed inside is no result */
		a->dmarc.result = DMARC_TEMPERROR;
		(void)strlcpy(a->dmarc.reason, "DKIM could not be checked "
		    "(internal error)", sizeof(a->dmarc.reason));
		return &a->dmarc;
	}
	for (i = 0; i < d->nsigs; i++)
		if (d->sig[i].result == DKIMV_PASS && d->sig[i].domain[0] != '\0')
			pass[in.ndkim_pass++] = d->sig[i].domain;
	in.dkim_pass = pass;
	in.spf = SPF_NONE;
	/* the SPF identifier: MAIL FROM's domain, HELO's for <> (RFC 9989 4.4) */
	if (tx->sender != NULL && (*tx->sender == '\0' ||
	    ((at = strrchr(tx->sender, '@')) != NULL && at[1] != '\0'))) {
		s = auth_spf(a, tx);
		in.spf = s->result;
		in.spf_domain = s->domain;
	}
	if (a->dns == NULL && in.from_domain != NULL) {
		a->dmarc.result = DMARC_TEMPERROR;
		(void)strlcpy(a->dmarc.reason, "no DNS engine",
		    sizeof(a->dmarc.reason));
		return &a->dmarc;
	}
	spf_engine_init(&e, a->dns, a->query_ms, a->stage, &r);
	dmarc_check(&r, &in, &a->dmarc);
	return &a->dmarc;
}

/*
 * auth_results -- our Authentication-Results value (malloc'd): spf of
 * MAIL FROM (or HELO for <>), one dkim per signature checked, dmarc
 */
char *
auth_results(struct auth *a, const struct auth_tx *tx)
{
	const struct spf_outcome *s = auth_spf(a, tx);
	const struct dkimv_outcome *d = auth_dkim(a, tx);
	const struct dmarc_outcome *m = auth_dmarc(a, tx);
	struct authres	 ar;
	size_t		 i;

	authres_begin(&ar, a->authserv_id != NULL ? a->authserv_id : "localhost");
	authres_method(&ar, "spf", spf_result_name(s->result));
	if (s->result != SPF_PASS)
		authres_reason(&ar, s->reason);
	if (tx->sender != NULL && *tx->sender != '\0' && !s->helo_identity)
		authres_prop(&ar, "smtp.mailfrom", tx->sender);
	else
		authres_prop(&ar, "smtp.helo", tx->helo);
	if (d->internal) {
		authres_method(&ar, "dkim", "temperror");
		authres_reason(&ar, "internal error");
	} else if (d->nsigs == 0)
		authres_method(&ar, "dkim", "none");
	for (i = 0; i < d->nsigs; i++) {
		authres_method(&ar, "dkim", dkimv_result_name(d->sig[i].result));
		if (d->sig[i].result != DKIMV_PASS)
			authres_reason(&ar, d->sig[i].reason);
		authres_prop(&ar, "header.d", d->sig[i].domain);
		authres_prop(&ar, "header.s", d->sig[i].selector);
		authres_prop(&ar, "header.a", d->sig[i].alg);
		authres_prop(&ar, "header.b", d->sig[i].b);
	}
	authres_method(&ar, "dmarc", dmarc_result_name(m->result));
	if (m->result != DMARC_PASS)
		authres_reason(&ar, m->reason);
	authres_prop(&ar, "header.from", auth_from_domain(a));
	if (m->result == DMARC_PASS || m->result == DMARC_FAIL)
		authres_prop(&ar, "policy.dmarc", dmarc_policy_name(m->policy));
	return authres_end(&ar);
}

/*
 * auth_internal -- did a check of the message fail inside mxgate or a
 * library (on_internal_error applies)? Checks DKIM if not done yet.
 */
int
auth_internal(struct auth *a, const struct auth_tx *tx)
{
	return auth_dkim(a, tx)->internal;
}

/* auth_forged -- indices of the forged A-R fields, in the order received */
size_t
auth_forged(const struct auth *a, const unsigned **out)
{
	*out = a->forged;
	return a->nforged;
}

/* auth_spf_result -- the SPF result's name if it was checked, else NULL */
const char *
auth_spf_result(const struct auth *a)
{
	return a->spf_done ? spf_result_name(a->spf.result) : NULL;
}

/* auth_dkim_result -- the DKIM result's name if it was checked, else NULL */
const char *
auth_dkim_result(const struct auth *a)
{
	return a->dko != NULL ? dkimv_result_name(a->dko->result) : NULL;
}

/* auth_dmarc_result -- the DMARC result's name if it was checked, else NULL */
const char *
auth_dmarc_result(const struct auth *a)
{
	return a->dmarc_done ? dmarc_result_name(a->dmarc.result) : NULL;
}
