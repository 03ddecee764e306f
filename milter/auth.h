/*
 * auth -- a session's message authentication: SPF of the transaction,
 * the RFC5322.From domain, DKIM and DMARC of the message, and the
 * Authentication-Results header (RFC 8601). Each result is worked out
 * when a rule, a reply or the header first needs it, at most once per
 * message, on the one DNS engine.
 *
 * The MTA's input comes in through auth_header (every field, in order),
 * auth_eoh and auth_body; DKIM is fed only when the auth was made with
 * DKIM on. Header fields named Authentication-Results that claim our
 * authserv-id are forgeries: auth_forged() lists their indices (1-based,
 * ascending, as received); delete them from the last one back, so that
 * no deletion shifts the index of one still to come.
 *
 * Upstream Received-SPF, Authentication-Results and ARC fields are never
 * read as results. The From domain is kept in A-labels (a U-label domain
 * is converted, dmarc_domain_ascii). For DMARC, the SPF identifier is the
 * MAIL FROM domain, or the HELO name for a null reverse-path.
 *
 * Every question waits at most query_ms (dns_timeout) and never past
 * the deadline of the SMTP stage that asks (the session's, kept by the
 * session and restarted at each stage; see deadline.h): SPF at MAIL or
 * RCPT, DKIM keys (asked at end of headers, waited for at end of
 * message), DMARC and the header at end of message. A check the stage's
 * deadline cut short marks it as cut, and the session answers the
 * stage itself.
 *
 * A check that fails inside (libopendkim cannot make a handle, runs out
 * of memory) gives no result: auth_internal() says so, DKIM reads
 * temperror and DMARC temperror, and the caller applies
 * on_internal_error to the message.
 *
 * One session (one thread at a time) owns an auth.
 */
#ifndef MXGATE_AUTH_H
#define MXGATE_AUTH_H

#include "deadline.h"
#include "dkimv.h"
#include "dmarc.h"
#include "dns.h"
#include "ipaddr.h"
#include "spf.h"


/* what the transaction said, for the checks that need it */
struct auth_tx {
	const struct ipaddr *ip;
	const char	*helo;		/* NULL: none */
	const char	*sender;	/* MAIL FROM, "" for <> */
	const char	*queue_id;
	int		 leadspc;	/* header values keep their leading space */
};

struct auth;

struct auth	*auth_new(struct dns *, unsigned, const char *, int,
		    struct deadline *);
void		 auth_free(struct auth *);
void		 auth_reset(struct auth *);
const struct spf_outcome *auth_spf(struct auth *, const struct auth_tx *);
void		 auth_header(struct auth *, const struct auth_tx *,
		    const char *, const char *);
void		 auth_eoh(struct auth *);
void		 auth_body(struct auth *, const unsigned char *, size_t);
const char	*auth_from_domain(const struct auth *);
const struct dkimv_outcome *auth_dkim(struct auth *, const struct auth_tx *);
const char	*auth_dkim_domains(struct auth *, const struct auth_tx *);
const struct dmarc_outcome *auth_dmarc(struct auth *, const struct auth_tx *);
char		*auth_results(struct auth *, const struct auth_tx *);
int		 auth_internal(struct auth *, const struct auth_tx *);
size_t		 auth_forged(const struct auth *, const unsigned **);
const char	*auth_spf_result(const struct auth *);
const char	*auth_dkim_result(const struct auth *);
const char	*auth_dmarc_result(const struct auth *);

#endif
