/*
 * spf -- Sender Policy Framework (RFC 7208), evaluated in the project.
 *
 * spf_check() runs check_host() for a client address, HELO name and
 * envelope sender (the HELO identity, postmaster@HELO, for <>). Records
 * are parsed against RFC 7208's ABNF before anything of them is used (an
 * error anywhere in a record is a permerror), macros are expanded with
 * every bound of section 7, and the limits of section 4.6.4 hold across
 * include and redirect: at most 10 terms that cause DNS lookups, at most
 * 2 void lookups, at most 10 MX hosts per "mx" and 10 PTR names per
 * "ptr" or %{p}. Explanations (exp=) are checked for syntax but never
 * fetched. An IPv4-mapped IPv6 client is evaluated as IPv4 (struct
 * ipaddr never holds a mapped address).
 *
 * DNS goes through a resolver (struct spf_resolver): mxgate's engine in
 * the daemon (spf_dns.c), a table in unit tests and the fuzz target. The
 * evaluator itself holds no state between calls: thread-safe.
 */
#ifndef MXGATE_SPF_H
#define MXGATE_SPF_H

#include <stddef.h>
#include <stdint.h>

#include "dns_msg.h"
#include "ipaddr.h"

enum spf_result {
	SPF_NONE,
	SPF_NEUTRAL,
	SPF_PASS,
	SPF_FAIL,
	SPF_SOFTFAIL,
	SPF_TEMPERROR,
	SPF_PERMERROR
};

/* what a resolver says of one question */
enum spf_dns_rc {
	SPF_DNS_OK,		/* NOERROR; the answer may hold no records */
	SPF_DNS_NXDOMAIN,	/* the name does not exist */
	SPF_DNS_TEMP		/* SERVFAIL, timeout, deadline: try later */
};

/*
 * query(arg, name, type, ans): ask; on SPF_DNS_OK fill *ans (zeroed by
 * the caller, freed by it with dns_answer_free) with the records of type.
 */
struct spf_resolver {
	enum spf_dns_rc	(*query)(void *, const char *, uint16_t,
			    struct dns_answer *);
	void		 *arg;
};

#define SPF_MAX_DNS_TERMS	10
#define SPF_MAX_VOID		2
#define SPF_MAX_MX		10
#define SPF_MAX_PTR		10
#define SPF_REASON_MAX		200
#define SPF_DOMAIN_MAX		256

struct spf_request {
	struct ipaddr	 ip;		/* the client (never IPv4-mapped) */
	const char	*helo;		/* HELO/EHLO argument ("" if none) */
	const char	*sender;	/* MAIL FROM address, "" for <> */
};

struct spf_outcome {
	enum spf_result	 result;
	char		 domain[SPF_DOMAIN_MAX];  /* the identity's domain */
	char		 reason[SPF_REASON_MAX];  /* why, in a few words */
	unsigned	 lookups;	/* DNS terms counted */
	unsigned	 voids;		/* void lookups counted */
	unsigned	 queries;	/* questions asked, all told */
	int		 helo_identity;	/* 1: checked postmaster@HELO (<>) */
};

void		 spf_check(const struct spf_resolver *,
		    const struct spf_request *, struct spf_outcome *);
const char	*spf_result_name(enum spf_result);
int		 spf_record_syntax(const char *, size_t, char *, size_t);

#endif
