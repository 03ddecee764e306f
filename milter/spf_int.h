/*
 * spf_int -- what spf.c and spf_parse.c share: a parsed SPF record.
 */
#ifndef MXGATE_SPF_INT_H
#define MXGATE_SPF_INT_H

#include <stddef.h>

#include "dns_msg.h"
#include "ipaddr.h"

#define SPF_MAX_TERMS	512	/* a record with more terms is a permerror */

enum spf_mech {
	MECH_ALL,
	MECH_INCLUDE,
	MECH_A,
	MECH_MX,
	MECH_PTR,
	MECH_IP4,
	MECH_IP6,
	MECH_EXISTS
};

/* macro contexts: which letters are allowed */
#define MACRO_DOMAIN	0	/* a domain-spec: s l o d i p h v */
#define MACRO_ANY	1	/* an unknown modifier's macro-string */

struct spf_term {
	enum spf_mech	 mech;
	char		 qual;		/* '+', '-', '~', '?' */
	const char	*spec;		/* domain-spec, or NULL (in the record) */
	size_t		 speclen;
	struct ipaddr	 net;		/* ip4, ip6 */
	int		 cidr4, cidr6;	/* -1: none given */
	const char	*text;		/* the whole term, for reasons */
	size_t		 textlen;
};

struct spf_record {
	char		 text[DNS_TXT_MAX + 1];
	size_t		 len;
	struct spf_term	 t[SPF_MAX_TERMS];
	size_t		 n;
	const char	*redirect;	/* domain-spec of redirect=, or NULL */
	size_t		 redirlen;
	int		 has_all;
};

int	spf_parse(struct spf_record *, const char *, size_t, char *, size_t);
int	spf_macro_ok(const char *, size_t, int);
int	spf_domain_spec_ok(const char *, size_t);

#endif
