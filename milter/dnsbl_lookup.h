/*
 * dnsbl_lookup -- the DNS lists of a rule set asked about one client, in
 * parallel, through the DNS engine (dns.h).
 *
 * dnsbl_lookup_start() sends the A query of every list at once (at
 * connect); each list's deadline runs from then (its own `timeout`, else
 * dns_timeout). dnsbl_lookup_get() waits for one list's answer, at most
 * until its deadline, only when a rule first needs it, and classifies it
 * (dnsbl.h); the result is kept. An error answer, SERVFAIL, a malformed
 * answer or no answer by the deadline makes the list unanswered
 * (DNSBL_ERROR_ANSWER or DNSBL_FAILED): logged at most once a minute per
 * list, never a listing; only DNSBL_FAILED makes on_error = tempfail
 * defer (an error answer is an answer). dnsbl_lookup_txt() asks for a listed list's TXT
 * record, for a reply that shows it, with the list's timeout from then.
 * No wait runs past the deadline of the stage that waits (the session's
 * stage deadline, deadline.h, handed to dnsbl_lookup_start and kept by
 * the session): a list the stage's deadline cuts short is unanswered
 * like one that timed out (its on_error applies), and a TXT record that
 * does not come in the stage's time is left out of the reply.
 * The dnsbl.* facts are computed here from the results (dnsbl_lookup_value,
 * _txt_all), and so are the dnsbl= log field and the names of the failed
 * lists with on_error = tempfail (dnsbl_lookup_defers, _failed_names).
 *
 * A lookup belongs to one session: one thread at a time. It holds
 * references to nothing: the rule set that owns the lists must outlive
 * it (the session holds it).
 */
#ifndef MXGATE_DNSBL_LOOKUP_H
#define MXGATE_DNSBL_LOOKUP_H

#include <stddef.h>

#include "buf.h"
#include "dns.h"
#include "dnsbl.h"
#include "ipaddr.h"

#define DNSBL_TXT_SHOWN	300	/* bytes of a TXT record shown in a reply */

enum dnsbl_value { DNSBL_V_SCORE, DNSBL_V_NAMES, DNSBL_V_ERROR, DNSBL_V_LIST,
	DNSBL_V_LABEL };

struct dnsbl_lookup;

struct dnsbl_lookup *dnsbl_lookup_start(struct dns *, struct dnsbl *const *,
	    size_t, const struct ipaddr *, unsigned, const struct deadline *);
const struct dnsbl_result *dnsbl_lookup_get(struct dnsbl_lookup *, size_t);
int	 dnsbl_lookup_done(const struct dnsbl_lookup *, size_t);
void	 dnsbl_lookup_txt(struct dnsbl_lookup *, size_t, struct buf *);
void	 dnsbl_lookup_free(struct dnsbl_lookup *);
int	 dnsbl_lookup_defers(struct dnsbl_lookup *, size_t, size_t);
void	 dnsbl_lookup_failed_names(const struct dnsbl_lookup *, struct buf *);
int	 dnsbl_lookup_value(struct dnsbl_lookup *, enum dnsbl_value, size_t,
	    struct buf *, int64_t *);
void	 dnsbl_lookup_txt_all(struct dnsbl_lookup *, struct buf *);
void	 dnsbl_lookup_log(const struct dnsbl_lookup *, struct buf *);

#endif
