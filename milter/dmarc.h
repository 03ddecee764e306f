/*
 * dmarc -- DMARC (RFC 9989) evaluated in the project: policy records
 * read strictly (RFC 7489 records too), the DNS tree walk for policy
 * discovery and for the organizational domain (at most 8 questions
 * each), relaxed and strict identifier alignment of SPF and DKIM, and
 * the policy that applies (p, sp, np; t, and pct below 100 read as
 * testing).
 *
 * The SPF identifier is the MAIL FROM domain, or the HELO name for a
 * null reverse-path (RFC 9989 section 4.4). A From domain in U-labels is
 * converted to A-labels (libidn2, UTS #46 non-transitional) before policy
 * discovery and alignment; one that is not valid UTF-8 or not a valid
 * IDN is permerror. A record without a valid p=, or with an invalid sp=
 * or np=, is read as RFC 9989 section 4.10.1 says: as p=none when its
 * rua= holds a valid URI, else no DMARC processing (result none).
 *
 * DNS goes through the same resolver interface as SPF (struct
 * spf_resolver): the engine in the daemon, a table in tests. A SERVFAIL
 * or a timeout while looking for the policy is temperror, never "no
 * policy". Pure functions otherwise: thread-safe.
 */
#ifndef MXGATE_DMARC_H
#define MXGATE_DMARC_H

#include <stddef.h>

#include "spf.h"

enum dmarc_result {
	DMARC_NONE,		/* no policy record (or nothing to check) */
	DMARC_PASS,
	DMARC_FAIL,
	DMARC_TEMPERROR,
	DMARC_PERMERROR		/* no usable From domain (none, several) */
};

enum dmarc_policy {
	DMARC_P_UNSET,
	DMARC_P_NONE,
	DMARC_P_QUARANTINE,
	DMARC_P_REJECT
};

enum dmarc_psd { DMARC_PSD_U, DMARC_PSD_Y, DMARC_PSD_N };

#define DMARC_MAX_QUERIES	8
#define DMARC_DOMAIN_MAX	256
#define DMARC_REASON_MAX	160

struct dmarc_record {
	enum dmarc_policy p, sp, np;	/* UNSET: not given (or invalid) */
	int		 bad_policy;	/* p missing or invalid, sp or np invalid */
	int		 rua_ok;	/* rua= holds a syntactically valid URI */
	int		 adkim_strict, aspf_strict;
	int		 testing;	/* t=y, or an RFC 7489 pct below 100 */
	enum dmarc_psd	 psd;
};

/* what the message showed: the From domain and the aligned identifiers */
struct dmarc_input {
	const char		*from_domain;	/* NULL: no usable From */
	const char		*from_problem;	/* why not, e.g. "several From fields" */
	enum spf_result		 spf;		/* of MAIL FROM, or of HELO for <> */
	const char		*spf_domain;	/* that identity's domain */
	const char *const	*dkim_pass;	/* d= of the passing signatures */
	size_t			 ndkim_pass;
};

struct dmarc_outcome {
	enum dmarc_result result;
	enum dmarc_policy policy;		/* the one that applies */
	int		  testing;
	int		  spf_aligned, dkim_aligned;
	char		  record_domain[DMARC_DOMAIN_MAX];  /* where the record is */
	char		  org_domain[DMARC_DOMAIN_MAX];
	char		  reason[DMARC_REASON_MAX];
	unsigned	  queries;
	char		  from_domain[DMARC_DOMAIN_MAX];  /* checked, in A-labels */
};

int		 dmarc_record_parse(const char *, size_t, struct dmarc_record *);
int		 dmarc_domain_ascii(const char *, char *, size_t);
void		 dmarc_check(const struct spf_resolver *,
		    const struct dmarc_input *, struct dmarc_outcome *);
const char	*dmarc_result_name(enum dmarc_result);
const char	*dmarc_policy_name(enum dmarc_policy);

#endif
